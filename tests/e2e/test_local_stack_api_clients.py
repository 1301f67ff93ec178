"""« Accès pour les logiciels » on the running local stack, over HTTP only: a commune's agent creates an API client, its
program gets tokens (OAuth 2.0 client credentials: form body, HTTP Basic), reads and writes within its scopes, sees
nothing of another commune, and stops working the moment the client is revoked."""
from pathlib import Path

import requests

from tests.e2e.test_local_stack import read_link_token
from tests.e2e.test_local_stack_officials import Api, wait_for
from tests.unit import photo_corpus as corpus


def token_response(base: str, client_id: str, secret: str, **form) -> requests.Response:
    # requests encodes the body as a form and the credentials as HTTP Basic, as an OAuth library does
    return requests.post(base + "/oauth/token", data={"grant_type": "client_credentials", **form},
                         auth=(client_id, secret), timeout=60)


def bourg_with_an_order(state) -> tuple[str, str]:
    """Bourg-en-Bresse registered (the demo's code), one official with a ready photo, one order: their ids."""
    demo = state["demo"]
    agent = Api(state["api_url"])
    email = "logiciels@mairie-bourg-en-bresse.fr"
    agent("POST", "/registrations", 201, json={"siren": demo["siren"], "activation_code": demo["activation_code"],
                                               "last_name": "Bernard", "first_name": "Lucie", "email": email})
    agent("POST", "/password", 204, json={"token": read_link_token(Path(state["outbox_dir"]), email),
                                          "password": "le monastère royal de Brou"})
    agent.log_in(email, "le monastère royal de Brou")
    entry = next(e for e in agent("GET", "/directory", 200)["items"] if e["last_name"] == "MARCHAND")
    official = agent("POST", "/officials", 201, json={"directory_id": entry["id"], "function": "maire"})
    upload = agent("POST", f"/officials/{official['id']}/photo-uploads", 201, json={"crop": corpus.full_crop((700, 900))})
    requests.post(upload["url"], data=upload["fields"],
                  files={"file": ("photo.jpg", corpus.portrait_jpeg((700, 900)), "image/jpeg")}, timeout=60)
    wait_for(lambda: agent("GET", f"/officials/{official['id']}", 200)["photo"]["status"] == "ready")
    order = agent("POST", "/orders", 201, json={"official_ids": [official["id"]]})
    return official["id"], order["id"]


def test_a_communes_program_reads_and_orders_within_its_scopes_until_revoked(stack):
    state = stack.state
    base = state["api_url"]
    bourg_official, bourg_order = bourg_with_an_order(state)

    agent = Api(base)  # Oyonnax's agent (the demo's registered commune, two officials with photos)
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    created = agent("POST", "/api-clients", 201, json={"name": "Logiciel d'état civil",
                                                       "scopes": ["officials:read", "orders:read", "orders:write"]})
    client_id, secret = created["client_id"], created["client_secret"]
    assert [c["client_id"] for c in agent("GET", "/api-clients", 200)["items"]] == [client_id]

    answer = token_response(base, client_id, secret)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    program = Api(base)
    program.session.headers["Authorization"] = f"Bearer {body['access_token']}"

    # its own commune's officials and orders
    officials = wait_for(lambda: [o for o in program("GET", "/officials", 200)["items"]
                                  if o["photo"]["status"] == "ready"] or None)
    assert {o["last_name"] for o in officials} and bourg_official not in {o["id"] for o in officials}
    order = program("POST", "/orders", 201, json={"official_ids": [officials[0]["id"]]})
    assert order["history"][0]["by_program"] == "API : Logiciel d'état civil"
    assert [o["id"] for o in program("GET", "/orders", 200)["items"]] == [order["id"]]
    assert program("GET", f"/orders/{order['id']}", 200)["siren"] == state["demo_agent"]["siren"]

    # another commune's: as if they did not exist
    program("GET", f"/officials/{bourg_official}", 404)
    program("GET", f"/orders/{bourg_order}", 404)

    # without the scope, or on a person's route: 403
    refused = program("POST", f"/officials/{officials[0]['id']}/photo-uploads", 403,
                      json={"crop": corpus.full_crop((700, 900))})
    assert refused["code"] == "insufficient_scope" and "officials:write" in refused["message"]
    assert program("GET", "/agents", 403)["code"] == "insufficient_scope"

    # an OAuth 2.0 library's client-credentials flow works as it is (docs/api-clients.md names authlib's)
    from authlib.integrations.requests_client import OAuth2Session

    with OAuth2Session(client_id, secret, scope="officials:read") as library:
        fetched = library.fetch_token(base + "/oauth/token", grant_type="client_credentials")
        assert fetched["scope"] == "officials:read"
        assert library.get(base + "/officials", timeout=60).status_code == 200
        assert library.get(base + "/orders", timeout=60).status_code == 403  # asked for officials:read only

    # revoked: the token it holds and its secret stop at once
    agent("DELETE", f"/api-clients/{client_id}", 204)
    assert program("GET", "/officials", 401)["code"] == "unauthenticated"
    again = token_response(base, client_id, secret)
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert again.headers["WWW-Authenticate"].startswith("Basic")
    assert agent("GET", "/api-clients", 200)["items"][0]["revoked"] is True
