"""A Python client generated from the served /openapi.json by openapi-python-client, as a software publisher would,
logs in and lists the officials of a commune over HTTP: the API served by ``chalice local`` (as the local stack
serves it, local/api_server.py) on a free port, on the emulated AWS of the test."""
import importlib
import subprocess
import sys
import threading

import pytest
import requests

from tests.conftest import PROJECT_DIR, STAGE
from tests.conftest import REFERENCE_DATA
from tests.helpers import AGENT_PASSWORD, load_directory, register_official, registered_agent

AGENT_EMAIL = "agent@mairie-bourg.fr"  # the address tests.helpers.registered_agent registers

CONFIG = "post_hooks: []\npackage_name_override: portail_client\n"  # no formatter run: it is only imported


@pytest.fixture
def officials(client, aws, operator):
    """The demo commune registered with two officials (no photo: a list is all the test reads)."""
    load_directory(client, operator, REFERENCE_DATA)
    agent = registered_agent(client, aws, operator)
    return [register_official(client, agent, name, function).json_body["id"]
            for name, function in (("MARCHAND", "maire"), ("GIRAUD", "adjoint"))]


@pytest.fixture
def api_url(app, officials):
    """The app behind chalice local's HTTP server on a free port, in this process (so on moto's emulation)."""
    from chalice.cli.factory import CLIFactory

    from local.api_server import create_api_server

    server = create_api_server(CLIFactory(str(PROJECT_DIR)), "127.0.0.1", 0, STAGE)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def generated(api_url, tmp_path):
    """The client package, generated from the document as served, imported from a temporary folder."""
    document = requests.get(f"{api_url}/openapi.json", timeout=30)
    assert document.status_code == 200
    (tmp_path / "openapi.json").write_text(document.text, encoding="utf-8")
    (tmp_path / "config.yaml").write_text(CONFIG)
    run = subprocess.run(
        [str(PROJECT_DIR / ".venv" / "bin" / "openapi-python-client"), "generate", "--path", "openapi.json",
         "--meta", "none", "--output-path", "portail_client", "--config", "config.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout, run.stdout  # every operation and schema was understood
    sys.path.insert(0, str(tmp_path))
    try:
        yield lambda name: importlib.import_module(f"portail_client{name}")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "portail_client" or n.startswith("portail_client.")]:
            del sys.modules[name]


def test_a_generated_client_logs_in_and_lists_the_communes_officials(api_url, generated, officials):
    package, models = generated(""), generated(".models")
    log_in, list_officials = generated(".api.public.log_in"), generated(".api.commune.list_officials")

    anonymous = package.Client(base_url=api_url, raise_on_unexpected_status=True)
    session = log_in.sync(client=anonymous, body=models.LogInBody(email=AGENT_EMAIL, password=AGENT_PASSWORD))
    assert session.role == "commune"
    client = package.AuthenticatedClient(base_url=api_url, token=session.token, raise_on_unexpected_status=True)
    page = list_officials.sync(client=client)
    assert page.items and all(isinstance(o, models.Official) for o in page.items)  # the document's named model

    # the officials the API answers as JSON, in the same order, read through the generated models
    plain = requests.get(f"{api_url}/officials", headers={"Authorization": f"Bearer {session.token}"},
                         timeout=30).json()
    assert [(o.id, o.last_name, o.first_name, o.function.value) for o in page.items] == [
        (o["id"], o["last_name"], o["first_name"], o["function"]) for o in plain["items"]]
    assert sorted(o.id for o in page.items) == sorted(officials)

    refused = list_officials.sync_detailed(client=package.AuthenticatedClient(base_url=api_url, token="x"))
    assert refused.status_code == 401 and refused.parsed.code == "unauthenticated"
