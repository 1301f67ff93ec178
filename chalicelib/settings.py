"""The one place that reads configuration.

Read lazily from the environment (set by `.chalice/config.json` per stage in Lambda, by the local stack, or by tests), never
at import time: Chalice imports the app before the stage's environment exists in `chalice local` and in tests.
This module knows nothing of what is built from the settings: ``aws.reset_settings_and_clients`` forgets both.
"""
import os
from functools import lru_cache
from typing import NamedTuple


class Settings(NamedTuple):
    stage: str
    region: str
    table_prefix: str
    data_bucket: str
    mail_sender: str
    site_url: str
    aws_endpoint_url: str | None  # only for the local emulation
    outbox_dir: str | None  # local only: every email also written there as .eml
    # Deployed stages: the secret CloudFront adds to every API request (X-Origin-Verify); unset locally.
    origin_secret: str | None = None
    # The RNE on data.gouv.fr (services/reference_syncs.py): the API's base URL (https://www.data.gouv.fr deployed;
    # the local stack and the tests point it at local/fake_datagouv.py; unset: no sync), the dataset, and the current
    # ids of its two resources, by kind (a resource not found by its id is looked for by its title). All are set in
    # `.chalice/config.json`; the resource ids there are invented placeholders until the real ones are copied from the
    # dataset's page (the title fallback finds the resources meanwhile).
    datagouv_url: str | None = None
    datagouv_dataset: str | None = None
    datagouv_resources: tuple = ()  # ((kind, resource id), ...)
    # ProConnect (services/proconnect.py): the provider's discovery URL and our client id (`.chalice/config.json`
    # per stage; unset: no ProConnect sign-in), and the client secret: deployed, the name of the Secrets Manager
    # secret that holds it (read at the first sign-in); locally, the secret itself (the local provider's).
    proconnect_discovery_url: str | None = None
    proconnect_client_id: str | None = None
    proconnect_secret_name: str | None = None
    proconnect_client_secret: str | None = None
    # Webhooks (domain/webhooks.py): the first retry's nominal wait in seconds (60 deployed; the local stack and the
    # tests retry within a second), and whether plain HTTP to 127.0.0.1/localhost is a receiver (local stack only).
    webhook_retry_base_seconds: float = 60.0
    webhook_local_receivers: bool = False

    def table_name(self, base: str) -> str:
        return f"{self.table_prefix}{base}"


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"Missing setting {name}: see .chalice/config.json")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        stage=os.environ.get("STAGE", "dev"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-3",
        table_prefix=_require("TABLE_PREFIX"),
        data_bucket=_require("DATA_BUCKET"),
        mail_sender=_require("MAIL_SENDER"),
        site_url=_require("SITE_URL").rstrip("/"),
        aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        outbox_dir=os.environ.get("OUTBOX_DIR") or None,
        origin_secret=os.environ.get("ORIGIN_SECRET") or None,
        datagouv_url=(os.environ.get("DATAGOUV_URL") or "").rstrip("/") or None,
        datagouv_dataset=os.environ.get("DATAGOUV_DATASET") or None,
        datagouv_resources=(("rne_maires", os.environ.get("DATAGOUV_RESOURCE_RNE_MAIRES") or ""),
                            ("rne_cm", os.environ.get("DATAGOUV_RESOURCE_RNE_CM") or "")),
        proconnect_discovery_url=os.environ.get("PROCONNECT_DISCOVERY_URL") or None,
        proconnect_client_id=os.environ.get("PROCONNECT_CLIENT_ID") or None,
        proconnect_secret_name=os.environ.get("PROCONNECT_SECRET_NAME") or None,
        proconnect_client_secret=os.environ.get("PROCONNECT_CLIENT_SECRET") or None,
        webhook_retry_base_seconds=float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS") or 60),
        webhook_local_receivers=os.environ.get("WEBHOOK_LOCAL_RECEIVERS") == "1",
    )
