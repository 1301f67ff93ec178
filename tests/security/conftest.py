"""The security tests share one emulated AWS account and one populated portal (``world.py``), built once per run of
this package: the isolation matrix alone sends hundreds of requests, and rebuilding two communes with photos and
orders for each would take minutes.

Tests that change state use their own entities (other communes, other emails) or restore what they touched (the
rate-limit counters), so that the order of the tests does not matter.
"""
import json
import logging
import os
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR, STAGE, stage_environment


@pytest.fixture(scope="package")
def security_aws(tmp_path_factory):
    from moto import mock_aws

    outbox = tmp_path_factory.mktemp("security-outbox")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in stage_environment().items():
            patch.setenv(name, value)
        patch.setenv("SITE_URL", "https://site.test")
        patch.setenv("OUTBOX_DIR", str(outbox))
        from local.emulation import prepare_dynamodb

        prepare_dynamodb()
        with mock_aws():
            from chalicelib.aws import reset_settings_and_clients
            from chalicelib.settings import get_settings
            from local.resources import create_resources

            reset_settings_and_clients()
            create_resources(get_settings())
            yield get_settings()
            reset_settings_and_clients()


@pytest.fixture(scope="package")
def security_client(security_aws):
    from chalice.test import Client

    import app as app_module

    with Client(app_module.app, stage_name=STAGE, project_dir=str(PROJECT_DIR)) as test_client:
        yield test_client


@pytest.fixture(scope="package")
def world(security_client, security_aws):
    from tests.security.world import build_world

    return build_world(security_client, security_aws)


@pytest.fixture
def clean_counters(world):
    """Rate-limit tests lock subjects on purpose: unlock everything afterwards."""
    yield
    from chalicelib.store.tables import Counter

    with Counter.batch_write() as batch:
        for counter in Counter.scan():
            if not counter.key.startswith("card-number#"):
                batch.delete(counter)


class JsonLines(logging.Handler):
    """Every log record, formatted exactly as production formats it (one JSON object per line)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        from chalicelib.logs import JsonFormatter

        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs():
    handler = JsonLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def record_figures(name: str, figures: dict) -> None:
    """`python -m tests.security.run` collects what each test measured into docs/security.md."""
    folder = os.environ.get("SECURITY_FIGURES_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False, default=str))
