"""The deployment's helper commands, on the emulation: first operator, site publication; the dependency guard."""
import json

import pytest

from infra import deps


@pytest.fixture
def prod_settings(monkeypatch):
    """This process pointed at the prod stage's settings (as the bootstrap command does), restored afterwards."""
    import os

    from infra.stage_env import stage_environment

    for name in set(stage_environment("prod")) | {"AWS_ENDPOINT_URL", "OUTBOX_DIR"}:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    from chalicelib.aws import reset_settings_and_clients

    yield
    reset_settings_and_clients()


def test_the_first_operator_is_created_on_the_stage_and_gets_the_password_link(prod_settings):
    from moto import mock_aws

    from chalicelib import aws
    from chalicelib.settings import get_settings
    from chalicelib.store.tables import Account, Token, create_missing_tables
    from infra.bootstrap_operator import main
    from infra.stage_env import use_stage

    with mock_aws():
        use_stage("prod")
        settings = get_settings()
        create_missing_tables()  # what the stack created
        aws.client("ses").verify_domain_identity(Domain=settings.mail_sender.rpartition("@")[2])
        assert main(["--stage", "prod", "--email", "Premiere.Operatrice@Fabricant.example.fr",
                     "--first-name", "Claire", "--last-name", "Dupont"]) == 0
        account = Account.get("premiere.operatrice@fabricant.example.fr")
        assert account.role == "manufacturer" and account.password_hash is None
        assert Account.Meta.table_name == "carteselus-prod-accounts"
        links = [t for t in Token.scan() if t.email == account.email]  # a test may scan; the portal never does
        assert len(links) == 1 and links[0].kind == "password" and links[0].account_id == account.account_id
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        sent = ses_backends[DEFAULT_ACCOUNT_ID][settings.region].sent_messages
        assert len(sent) == 1 and sent[0].source == settings.mail_sender
        # Twice is refused, not duplicated.
        assert main(["--stage", "prod", "--email", "premiere.operatrice@fabricant.example.fr",
                     "--first-name", "Claire", "--last-name", "Dupont"]) == 1


def test_a_local_stage_cannot_be_targeted():
    from infra.bootstrap_operator import main

    with pytest.raises(SystemExit):
        main(["--stage", "local", "--email", "a@b.fr", "--first-name", "A", "--last-name", "B"])


def test_the_site_is_published_with_its_config_and_types_and_old_files_removed(tmp_path):
    import boto3
    from moto import mock_aws

    from infra.publish_site import publish

    site = tmp_path / "site"
    for relative, content in (("index.html", "<!doctype html>"), ("page-introuvable.html", "<h1>Page introuvable</h1>"),
                              ("js/api.js", "export {}"),
                              ("css/site.css", "body{}"), ("vendor/dsfr/dsfr.min.css", "x"),
                              ("vendor/dsfr/fonts/Marianne-Regular.woff2", "x"), ("vendor/.installed", ""),
                              ("vendor/axe-core/axe.min.js", "x"), ("vendor/chartjs/chart.umd.min.js", "x")):
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(content)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-3")
        s3.create_bucket(Bucket="site", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        s3.put_object(Bucket="site", Key="ancienne-page.html", Body=b"old")
        result = publish(s3, "site", site, log=lambda _: None)
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"]}
        assert keys == {"index.html", "page-introuvable.html", "js/api.js", "css/site.css", "vendor/dsfr/dsfr.min.css",
                        "vendor/dsfr/fonts/Marianne-Regular.woff2", "vendor/chartjs/chart.umd.min.js", "config.json"}
        assert result["removed"] == ["ancienne-page.html"]
        config = s3.get_object(Bucket="site", Key="config.json")
        assert json.loads(config["Body"].read()) == {"api_url": "/api"}
        assert s3.head_object(Bucket="site", Key="js/api.js")["ContentType"].startswith("text/javascript")
        assert s3.head_object(Bucket="site", Key="index.html")["ContentType"].startswith("text/html")
        # The metadata that CloudFront's viewer-response function turns into the 404 status (only on that page).
        assert s3.head_object(Bucket="site", Key="page-introuvable.html")["Metadata"] == {"site-status": "404"}
        assert s3.head_object(Bucket="site", Key="index.html")["Metadata"] == {}
        assert s3.head_object(Bucket="site", Key="vendor/dsfr/fonts/Marianne-Regular.woff2")["ContentType"] == \
            "font/woff2"


def test_a_binary_package_compiled_on_this_machine_is_refused(tmp_path):
    for name, tag in (("pillow-13.0.0", "cp311-cp311-linux_x86_64"), ("cffi-2.1.1", "cp312-cp312-manylinux2014_x86_64"),
                      ("zxcvbn-4.5.0", "py3-none-any")):
        (tmp_path / f"{name}.dist-info").mkdir()
        (tmp_path / f"{name}.dist-info" / "WHEEL").write_text(f"Wheel-Version: 1.0\nTag: {tag}\n")
    assert deps.locally_built(tmp_path) == ["pillow-13.0.0.dist-info"]
