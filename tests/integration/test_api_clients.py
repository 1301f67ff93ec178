"""API clients and OAuth 2.0 client credentials, on moto: create, token, scopes, isolation, revocation, audit."""
import base64
import json
from datetime import timedelta
from urllib.parse import quote_plus, urlencode

import pytest

from chalicelib import clock
from tests.helpers import auth, other_commune_agent, post_json

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def token_request(client, client_id, secret, body: dict | str | None = None, headers=None):
    body = {"grant_type": "client_credentials"} if body is None else body
    raw = body if isinstance(body, str) else urlencode(body)
    headers = {**FORM, "Authorization": basic(client_id, secret), **(headers or {})}
    return client.http.post("/oauth/token", headers=headers, body=raw.encode())


def new_client(client, agent, scopes=("officials:read", "orders:read"), name="Logiciel Exemple"):
    response = post_json(client, "/api-clients", {"name": name, "scopes": list(scopes)}, agent)
    assert response.status_code == 201, response.json_body
    return response.json_body


def bearer(client, created, scope=None) -> str:
    body = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = token_request(client, created["client_id"], created["client_secret"], body)
    assert response.status_code == 200, response.json_body
    return response.json_body["access_token"]


def test_a_commune_creates_a_client_whose_secret_is_shown_once_and_stored_as_a_hash(client, commune):
    agent, _ = commune
    created = new_client(client, agent)
    assert len(created["client_id"]) == 32 and len(created["client_secret"]) >= 43
    assert created["scopes"] == ["officials:read", "orders:read"] and created["revoked"] is False
    listed = client.http.get("/api-clients", headers=auth(agent)).json_body["items"]
    assert [c["client_id"] for c in listed] == [created["client_id"]]
    assert "client_secret" not in json.dumps(listed) and created["client_secret"] not in json.dumps(listed)
    from chalicelib.store.tables import ApiClient

    stored = ApiClient.get(created["client_id"])
    assert created["client_secret"] not in json.dumps(stored.attribute_values, default=str)
    assert stored.owner == "commune#210100533" and stored.created_by == "agent@mairie-bourg.fr"


def test_the_token_reads_the_communes_officials_and_orders_within_its_scopes(client, commune):
    agent, official_ids = commune
    order = post_json(client, "/orders", {"official_ids": official_ids[:1]}, agent).json_body
    created = new_client(client, agent)
    response = token_request(client, created["client_id"], created["client_secret"])
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "officials:read orders:read"
    assert response.headers["Cache-Control"] == "no-store"
    token = body["access_token"]
    officials = client.http.get("/officials", headers=auth(token))
    assert officials.status_code == 200
    assert {o["id"] for o in officials.json_body["items"]} == set(official_ids)
    assert client.http.get(f"/orders/{order['id']}", headers=auth(token)).json_body["id"] == order["id"]
    # writing needs officials:write / orders:write, which this client lacks
    refused = post_json(client, "/orders", {"official_ids": official_ids[1:]}, token)
    assert refused.status_code == 403 and refused.json_body["code"] == "insufficient_scope"
    assert "orders:write" in refused.json_body["message"]
    # account routes admit no program, whatever its scopes
    for path in ("/me", "/agents", "/api-clients", "/me/sessions"):
        response = client.http.get(path, headers=auth(token))
        assert response.status_code == 403 and response.json_body["code"] == "insufficient_scope", path


def test_a_token_asked_with_fewer_scopes_has_only_those(client, commune):
    agent, _ = commune
    created = new_client(client, agent)
    token = bearer(client, created, scope="officials:read")
    assert client.http.get("/officials", headers=auth(token)).status_code == 200
    assert client.http.get("/orders", headers=auth(token)).json_body["code"] == "insufficient_scope"
    wider = token_request(client, created["client_id"], created["client_secret"],
                          {"grant_type": "client_credentials", "scope": "officials:read officials:write"})
    assert wider.status_code == 400
    assert wider.json_body["error"] == "invalid_scope" and wider.json_body["code"] == "invalid_scope"


def test_another_communes_records_are_not_found(client, aws, commune):
    agent, official_ids = commune
    order = post_json(client, "/orders", {"official_ids": official_ids[:1]}, agent).json_body
    lyon = other_commune_agent(client, aws, "216901231", "agent@mairie-lyon.fr", "traboules et bouchons du vieux quartier")
    token = bearer(client, new_client(client, lyon))
    assert client.http.get("/officials", headers=auth(token)).json_body["items"] == []
    assert client.http.get(f"/officials/{official_ids[0]}", headers=auth(token)).status_code == 404
    assert client.http.get(f"/orders/{order['id']}", headers=auth(token)).status_code == 404


def test_a_writing_client_is_named_in_the_orders_history(client, commune):
    agent, official_ids = commune
    token = bearer(client, new_client(client, agent, scopes=("orders:read", "orders:write"), name="Mairie+ Élus"))
    created = post_json(client, "/orders", {"official_ids": official_ids}, token)
    assert created.status_code == 201, created.json_body
    assert created.json_body["history"][0]["by_program"] == "API : Mairie+ Élus"


@pytest.mark.parametrize("case", ["wrong secret", "unknown client", "no header", "bearer header", "bad base64",
                                  "huge id"])
def test_a_client_that_fails_to_authenticate_gets_invalid_client(client, commune, case):
    agent, _ = commune
    created = new_client(client, agent)
    client_id, secret = created["client_id"], created["client_secret"]
    headers = {}
    if case == "wrong secret":
        secret = secret[:-2] + "xx"
    elif case == "unknown client":
        client_id = "0123456789abcdef0123456789abcdef"
    elif case == "no header":
        headers = {"Authorization": ""}
    elif case == "huge id":  # counted as one malformed id: no 500 from a key over DynamoDB's 2 KB
        client_id = "é" * 3000
    elif case == "bearer header":
        headers = {"Authorization": "Bearer " + secret}
    else:
        headers = {"Authorization": "Basic !!!"}
    response = token_request(client, client_id, secret, headers=headers)
    assert response.status_code == 401
    assert response.json_body["error"] == "invalid_client" and response.json_body["code"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_token_request_errors_follow_rfc_6749(client, commune):
    agent, _ = commune
    created = new_client(client, agent)
    cid, secret = created["client_id"], created["client_secret"]
    cases = [({"grant_type": "password"}, "unsupported_grant_type"), ({}, "invalid_request"),
             ("grant_type=client_credentials&grant_type=client_credentials", "invalid_request")]
    for body, error in cases:
        response = token_request(client, cid, secret, body)
        assert response.status_code == 400, (body, response.json_body)
        assert response.json_body["error"] == error and response.json_body["message"], body
    # unknown parameters are ignored (RFC 6749 §3.2)
    assert token_request(client, cid, secret, {"grant_type": "client_credentials", "audience": "x"}).status_code == 200
    # JSON is not what the endpoint takes
    as_json = client.http.post("/oauth/token", headers={"Content-Type": "application/json",
                                                        "Authorization": basic(cid, secret)},
                               body=json.dumps({"grant_type": "client_credentials"}))
    assert as_json.status_code == 415


def test_repeated_failures_lock_the_client_from_that_source_only(client, commune):
    agent, _ = commune
    created = new_client(client, agent)
    for _ in range(10):
        assert token_request(client, created["client_id"], "faux").status_code == 401
    locked = token_request(client, created["client_id"], created["client_secret"])
    assert locked.status_code == 429 and locked.json_body["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) > 0


def test_revoking_kills_its_tokens_and_its_secret_at_once(client, aws, commune):
    agent, _ = commune
    created = new_client(client, agent)
    token = bearer(client, created)
    lyon = other_commune_agent(client, aws, "216901231", "agent@mairie-lyon.fr", "traboules et bouchons du vieux quartier")
    assert client.http.delete(f"/api-clients/{created['client_id']}", headers=auth(lyon)).status_code == 404
    assert client.http.get("/officials", headers=auth(token)).status_code == 200
    assert client.http.delete(f"/api-clients/{created['client_id']}", headers=auth(agent)).status_code == 204
    after = client.http.get("/officials", headers=auth(token))
    assert after.status_code == 401 and after.json_body["code"] == "unauthenticated"
    again = token_request(client, created["client_id"], created["client_secret"])
    assert again.status_code == 401 and again.json_body["error"] == "invalid_client"
    listed = client.http.get("/api-clients", headers=auth(agent)).json_body["items"]
    assert listed[0]["revoked"] is True and listed[0]["revoked_at"]
    assert client.http.delete(f"/api-clients/{created['client_id']}", headers=auth(agent)).status_code == 204


def test_a_token_expires_after_an_hour(client, commune, monkeypatch):
    agent, _ = commune
    token = bearer(client, new_client(client, agent))
    later = clock.now() + timedelta(seconds=3601)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.http.get("/officials", headers=auth(token)).status_code == 401


def test_every_call_of_a_client_is_in_the_audit_log(client, commune, caplog):
    agent, official_ids = commune
    created = new_client(client, agent, name="Logiciel Exemple")
    token = bearer(client, created)
    with caplog.at_level("INFO", logger="portal.audit"):
        client.http.get(f"/officials/{official_ids[0]}", headers=auth(token))
        client.http.post("/orders", headers={**auth(token), "Content-Type": "application/json"},
                         body=json.dumps({"official_ids": official_ids}))
    calls = [r for r in caplog.records if getattr(r, "event", None) == "api_client_call"]
    assert [(r.method, r.path, r.status) for r in calls] == [("GET", f"/officials/{official_ids[0]}", 200),
                                                             ("POST", "/orders", 403)]
    assert all(r.client_name == "Logiciel Exemple" and r.client_id == created["client_id"]
               and r.owner == "commune#210100533" for r in calls)
    assert created["client_secret"] not in caplog.text and token not in caplog.text


def test_at_most_twenty_active_clients_per_commune(client, commune):
    agent, _ = commune
    first = new_client(client, agent, name="Logiciel 0")
    for n in range(1, 20):
        new_client(client, agent, name=f"Logiciel {n}")
    refused = post_json(client, "/api-clients", {"name": "De trop", "scopes": ["orders:read"]}, agent)
    assert refused.status_code == 409 and refused.json_body["code"] == "too_many_clients"
    assert client.http.delete(f"/api-clients/{first['client_id']}", headers=auth(agent)).status_code == 204
    new_client(client, agent, name="Remplaçant")


def test_the_card_maker_creates_read_only_clients_for_a_prefecture_and_the_ministry(client, commune, operator):
    agent, official_ids = commune
    order = post_json(client, "/orders", {"official_ids": official_ids[:1]}, agent).json_body
    write = post_json(client, "/admin/api-clients", {"name": "Outil", "scopes": ["orders:write"],
                                                     "department_code": "01"}, operator)
    assert write.status_code == 400
    unknown = post_json(client, "/admin/api-clients", {"name": "Outil", "scopes": ["orders:read"],
                                                       "department_code": "95"}, operator)
    assert unknown.status_code == 422 and unknown.json_body["code"] == "unknown_department"
    ain = post_json(client, "/admin/api-clients", {"name": "Suivi de l'Ain", "scopes": ["orders:read"],
                                                   "department_code": "01"}, operator)
    assert ain.status_code == 201, ain.json_body
    rhone = post_json(client, "/admin/api-clients", {"name": "Suivi du Rhône", "scopes": ["orders:read"],
                                                     "department_code": "69"}, operator).json_body
    ministry = post_json(client, "/admin/api-clients", {"name": "Ministère", "scopes": ["orders:read"],
                                                        "national": True}, operator)
    assert ministry.status_code == 201, ministry.json_body
    listed = client.http.get("/admin/api-clients?department_code=01", headers=auth(operator)).json_body["items"]
    assert [c["name"] for c in listed] == ["Suivi de l'Ain"]  # (« Élus de l'Ain » is created below)
    national = client.http.get("/admin/api-clients", headers=auth(operator)).json_body["items"]
    assert [c["name"] for c in national] == ["Ministère"]
    for created, sees in ((ain.json_body, True), (rhone, False), (ministry.json_body, True)):
        token = bearer(client, created)
        got = client.http.get(f"/admin/orders/{order['id']}", headers=auth(token))
        assert got.status_code == (200 if sees else 404), (created["name"], got.json_body)
        moved = post_json(client, f"/admin/orders/{order['id']}/transitions", {"to": "en_production"}, token)
        assert moved.status_code == 403 and moved.json_body["code"] == "insufficient_scope"
    ain_token = bearer(client, ain.json_body)
    assert client.http.get("/prefecture/declarations", headers=auth(ain_token)).json_body["code"] == \
        "insufficient_scope"
    readers = post_json(client, "/admin/api-clients", {"name": "Élus de l'Ain", "scopes": ["officials:read"],
                                                       "department_code": "01"}, operator).json_body
    assert client.http.get("/prefecture/declarations", headers=auth(bearer(client, readers))).status_code == 200
    ministry_token = bearer(client, ministry.json_body)
    assert client.http.get("/admin/dashboard", headers=auth(ministry_token)).status_code == 200
    # the communes still without an order: a préfecture's tool reads its own département, the ministry's names one
    lists = [client.http.get("/admin/communes-without-order" + query, headers=auth(token))
             for token, query in ((ain_token, "?department=69"), (ministry_token, "?department=01"))]
    assert [answer.status_code for answer in lists] == [200, 200] and lists[0].json_body == lists[1].json_body
    unnamed = client.http.get("/admin/communes-without-order", headers=auth(ministry_token))
    assert unnamed.status_code == 400 and unnamed.json_body["code"] == "invalid_request"
    assert client.http.get("/officials", headers=auth(ministry_token)).status_code == 403  # a commune's route
    assert client.http.delete(f"/admin/api-clients/{ain.json_body['client_id']}",
                              headers=auth(operator)).status_code == 204
    # the card maker cannot revoke a commune's client
    communal = new_client(client, agent)
    assert client.http.delete(f"/admin/api-clients/{communal['client_id']}", headers=auth(operator)).status_code == 404
