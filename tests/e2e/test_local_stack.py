"""`make run`'s stack, driven over HTTP only, with nothing but var/local-stack.json and the outbox."""
import email
import email.policy
import re
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.e2e.conftest import start_stack


def read_link_token(outbox: Path, to: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == to:
                text = message.get_body(preferencelist=("plain",)).get_content()
                return re.search(r"[?&]token=([A-Za-z0-9_.\-]+)", text).group(1)
        time.sleep(0.1)
    raise AssertionError(f"no email for {to}")


def test_register_set_password_log_in_me_log_out_over_http(stack):
    state = stack.state
    api = state["api_url"]
    demo = state["demo"]
    agent = "secretariat@mairie-bourg-en-bresse.fr"
    registered = requests.post(f"{api}/registrations", json={
        "siren": demo["siren"], "activation_code": demo["activation_code"], "last_name": "Dupont",
        "first_name": "Claire", "email": agent}, timeout=30)
    assert registered.status_code == 201, registered.text
    token = read_link_token(Path(state["outbox_dir"]), agent)
    password = "la rivière Reyssouze en automne"
    assert requests.post(f"{api}/password", json={"token": token, "password": password}, timeout=30).status_code \
        == 204
    assert requests.post(f"{api}/password", json={"token": token, "password": password}, timeout=30).status_code \
        == 400
    session = requests.post(f"{api}/sessions", json={"email": agent, "password": password}, timeout=30).json()
    headers = {"Authorization": f"Bearer {session['token']}"}
    me = requests.get(f"{api}/me", headers=headers, timeout=30).json()
    assert me["commune"]["name"] == demo["commune_name"] == "Bourg-en-Bresse"
    assert me["commune"]["department_code"] == "01"
    assert me["commune"]["delivery_address"]["address"] == "45 avenue Alsace-Lorraine"
    assert requests.delete(f"{api}/sessions/current", headers=headers, timeout=30).status_code == 204
    assert requests.get(f"{api}/me", headers=headers, timeout=30).status_code == 401


def test_the_operators_of_the_state_file_can_log_in(stack):
    api = stack.state["api_url"]
    for role, operator in stack.state["operators"].items():
        response = requests.post(f"{api}/sessions", json={"email": operator["email"],
                                                          "password": operator["password"]}, timeout=30)
        assert response.status_code == 201, role
        assert response.json()["role"] == role


def test_the_site_is_served_with_its_security_headers_and_reaches_the_api_on_its_origin(stack):
    site = stack.state["site_url"]
    page = requests.get(f"{site}/", timeout=30)
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert requests.get(f"{site}/config.json", timeout=30).json() == {"api_url": "/api"}
    health = requests.get(f"{site}/api/health", timeout=30)
    assert health.json() == {"status": "ok"}


def test_sigterm_stops_the_whole_stack_and_frees_its_ports(tmp_path):
    running = start_stack(tmp_path)
    ports = [urlsplit(running.state[k]).port for k in ("api_url", "site_url", "aws_url")]
    assert running.stop() == 0
    assert not (tmp_path / "local-stack.json").exists()
    for port in ports:
        with socket.socket() as probe:
            # SO_REUSEADDR ignores closed connections in TIME_WAIT: only a socket still listening makes bind fail.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
