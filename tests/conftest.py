"""Fixtures shared by all tests: the AWS emulation (moto), the app and an HTTP test client.

Fake credentials and a region are set before any boto3 client exists, and AWS_ENDPOINT_URL is removed: otherwise
boto3 would talk to a real endpoint and mock_aws would be bypassed.
"""
import os

for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="eu-west-3",
    AWS_REGION="eu-west-3",
)

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from local.demo import REFERENCE_DATA  # noqa: E402,F401 (the reference files of data/, for the tests)

PROJECT_DIR = Path(__file__).resolve().parent.parent
STAGE = "local"


def stage_environment() -> dict:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    return {**config["environment_variables"], **config["stages"][STAGE]["environment_variables"]}


@pytest.fixture
def aws(tmp_path, monkeypatch):
    """A fresh emulated AWS account with the portal's tables, bucket and verified sender."""
    from moto import mock_aws

    for name, value in stage_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SITE_URL", "https://site.test")
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
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


@pytest.fixture
def app(aws):
    import app as app_module

    return app_module.app


@pytest.fixture
def client(app):
    from chalice.test import Client

    with Client(app, stage_name=STAGE, project_dir=str(PROJECT_DIR)) as test_client:
        yield test_client
