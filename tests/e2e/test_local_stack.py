"""`make run`'s stack, driven over HTTP only, with nothing but var/local-stack.json and the outbox."""
import socket
from pathlib import Path
from urllib.parse import urlsplit

import requests

from local.demo import link_token as read_link_token
from tests.e2e.conftest import start_stack


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
    from tests.helpers import otp

    for role, operator in stack.state["operators"].items():
        # Operators have a second factor: no session with the password alone, one with the code of their secret.
        alone = requests.post(f"{api}/sessions", json={"email": operator["email"],
                                                       "password": operator["password"]}, timeout=30)
        assert alone.status_code == 401 and alone.json()["code"] == "otp_required", role
        response = requests.post(f"{api}/sessions", json={"email": operator["email"], "password": operator["password"],
                                                          "otp": otp(operator["totp_secret"])}, timeout=30)
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


def test_an_unknown_api_path_or_method_answers_in_french_in_the_apis_error_shape(stack):
    api, site = stack.state["api_url"], stack.state["site_url"]
    for method, url, headers in (("GET", f"{api}/nulle-part", {}),
                                 ("GET", f"{api}/officials/abc/nulle-part", {"Authorization": "Bearer abc.def"}),
                                 ("PATCH", f"{api}/health", {}),
                                 ("DELETE", f"{site}/api/me/nulle-part", {})):
        answer = requests.request(method, url, headers=headers, timeout=30)
        assert answer.status_code == 404, (method, url)
        assert answer.headers["Content-Type"].startswith("application/json")
        body = answer.json()
        assert body["code"] == "route_not_found"
        assert "n'existe pas" in body["message"] and "Missing" not in answer.text


def test_an_unknown_site_page_is_the_sites_own_french_page_and_no_folder_is_listed(stack):
    site = stack.state["site_url"]
    for path in ("/nulle-part.html", "/dossier/page", "/vendor/", "/js/", "/css/"):
        page = requests.get(site + path, timeout=30)
        assert page.status_code == 404, path
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<h1>Page introuvable</h1>" in page.text and 'class="fr-header"' in page.text  # the site's frame
        assert "Directory listing" not in page.text and "Error response" not in page.text
        assert 'href="/css/site.css"' in page.text  # its links work from any address
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    refused = requests.post(site + "/index.html", timeout=30)
    assert refused.status_code == 405 and "Méthode non acceptée" in refused.text
