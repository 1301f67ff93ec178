"""Secrets and audit: every log line of a full journey, formatted as production formats it.

The journey: activation code issued, registration, password from the emailed link, a failed then a good login, an
official from the directory, a photo, an order submitted and moved by the card maker and the préfecture up to the
hand-over, a commune trying the back office, the card maker opening the order (photo links). Nothing secret may be in
the logs (passwords, session and link tokens, the activation code, photo bytes); each line is one JSON object; each
order move is in the audit trail (logger ``portal.audit``) with who, when and what.
"""
import base64
import logging
import re

import pytest

from tests.helpers import auth, link_token, outbox_messages, post_file, post_json, deliver_photo_events
from tests.security.conftest import JsonLines, record_figures
from tests.unit import photo_corpus as corpus

OYONNAX = "210102836"
PASSWORD = "les horlogers du Bugey chantent faux"
WRONG_PASSWORD = "pas le bon mot de passe du tout"
MARKER = b"PHOTO-SECRET-MARKER-7f3a9c"


def photo_with_marker() -> bytes:
    jpeg = corpus.portrait_jpeg((700, 900))
    comment = b"\xff\xfe" + (len(MARKER) + 2).to_bytes(2, "big") + MARKER
    return jpeg[:2] + comment + jpeg[2:]


@pytest.fixture(scope="module")
def journey(world):
    handler = JsonLines()
    root = logging.getLogger()
    root.addHandler(handler)
    client, secrets = world.client, {"password": PASSWORD, "wrong password": WRONG_PASSWORD}
    email = "agent@mairie-oyonnax.securite.example.fr"
    try:
        issued = client.http.post(f"/admin/communes/{OYONNAX}/activation-code",
                                  headers=auth(world.tokens["manufacturer"]))
        assert issued.status_code == 201, issued.json_body
        code = issued.json_body["activation_code"]
        secrets |= {"activation code": code, "activation code (typed)": code.replace("-", "").lower()}
        assert post_json(client, "/registrations", {"siren": OYONNAX, "activation_code": code.lower(),
                                                    "last_name": "Vuillet", "first_name": "Inès",
                                                    "email": email}).status_code == 201
        secrets["password link"] = link = link_token(outbox_messages(world.outbox, email)[-1])
        assert post_json(client, "/password", {"token": link, "password": PASSWORD}).status_code == 204
        assert post_json(client, "/sessions", {"email": email, "password": WRONG_PASSWORD}).status_code == 401
        session = post_json(client, "/sessions", {"email": email, "password": PASSWORD}).json_body["token"]
        secrets["session token"] = session
        entry = client.http.get("/directory", headers=auth(session)).json_body["items"][0]
        official = post_json(client, "/officials", {"directory_id": entry["id"], "function": "maire"},
                             session).json_body["id"]
        upload = post_json(client, f"/officials/{official}/photo-uploads",
                           {"crop": {"x": 0, "y": 0, "width": 700, "height": 900}}, session).json_body
        photo = photo_with_marker()
        post_file(upload, photo, "photo.jpg")
        deliver_photo_events(client)
        secrets["photo bytes"] = MARKER.decode()
        secrets["photo base64"] = base64.b64encode(photo[100:160]).decode()
        secrets["upload signature"] = upload["fields"].get("x-amz-signature", "")
        order = post_json(client, "/orders", {"official_ids": [official]}, session).json_body["id"]
        moves = [("brouillon", session)]
        assert post_json(client, f"/orders/{order}/submit", {"preview_acknowledged": True},
                         session).status_code == 200
        moves.append(("en_preparation", session))
        for to, role in (("en_production", "manufacturer"), ("en_livraison", "manufacturer"),
                         ("livree", "prefecture_01"), ("remise", "prefecture_01")):
            moved = post_json(client, f"/admin/orders/{order}/transitions", {"to": to}, world.tokens[role])
            assert moved.status_code == 200, moved.json_body
            moves.append((to, role))
        assert client.http.get("/admin/orders", headers=auth(session)).status_code == 403
        viewed = client.http.get(f"/admin/orders/{order}", headers=auth(world.tokens["manufacturer"])).json_body
        assert viewed["cards"][0]["photo_url"]
        # a program of the commune (OAuth client credentials): its secret, its token, a read, a refusal, a failed try
        created = post_json(client, "/api-clients", {"name": "Logiciel du Bugey", "scopes": ["officials:read"]},
                            session).json_body
        secrets["client secret"] = created["client_secret"]
        basic = base64.b64encode(f"{created['client_id']}:{created['client_secret']}".encode()).decode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        program = client.http.post("/oauth/token", headers={**form, "Authorization": f"Basic {basic}"},
                                   body=b"grant_type=client_credentials").json_body["access_token"]
        secrets["client token"] = program
        assert client.http.get(f"/officials/{official}", headers=auth(program)).status_code == 200
        assert client.http.get("/agents", headers=auth(program)).status_code == 403
        wrong = base64.b64encode(f"{created['client_id']}:pas-le-secret".encode()).decode()
        assert client.http.post("/oauth/token", headers={**form, "Authorization": f"Basic {wrong}"},
                                body=b"grant_type=client_credentials").status_code == 401
        # its webhook (the photo checked above): the signing secret and the signatures sent never reach the logs,
        # the receiver failing the first POST (the attempt and its retry logged)
        from tests.integration.test_webhooks import deliver_until_quiet, fan_out
        from tests.webhook_receiver import Receiver

        with Receiver(answers=(500,)) as receiver:
            hook = post_json(client, f"/api-clients/{created['client_id']}/webhooks",
                             {"url": receiver.url, "events": ["photo.checked"]}, session).json_body
            secrets["webhook secret"] = hook["secret"]
            fan_out(client)
            deliver_until_quiet(client)
            assert len(receiver.delivered()) == 1 and len(receiver.received) == 2
            for n, post in enumerate(receiver.received):
                secrets[f"webhook signature {n + 1}"] = post.headers["x-carteselus-signature"].split("v1=")[1]
        for role, token in world.tokens.items():
            secrets[f"session token of {role}"] = token
        assert client.http.delete("/sessions/current", headers=auth(session)).status_code == 204
    finally:
        root.removeHandler(handler)
    return {"lines": handler.lines, "records": handler.records, "secrets": secrets, "order": order,
            "moves": moves, "email": email, "client_id": created["client_id"], "official": official}


def test_every_log_line_is_one_json_object(journey):
    import json

    for line in journey["lines"]:
        assert "\n" not in line
        entry = json.loads(line)
        assert {"level", "logger", "message"} <= set(entry)


def test_no_secret_reaches_the_logs(journey):
    found = [f"{name} in: {line[:160]}" for name, secret in journey["secrets"].items() if secret
             for line in journey["lines"] if secret in line]
    record_figures("logs", {"lines": len(journey["lines"]), "secrets_checked": sorted(journey["secrets"]),
                            "secrets_found": found,
                            "loggers": sorted({r.name for r in journey["records"]})})
    assert len(journey["lines"]) > 20
    assert not found, "\n".join(found)


def test_no_password_hash_or_signed_url_reaches_the_logs(journey):
    joined = "\n".join(journey["lines"])
    assert "$argon2" not in joined
    assert not re.search(r"X-Amz-Signature=|x-amz-signature", joined, re.IGNORECASE)


def audit_records(journey):
    return [r for r in journey["records"] if r.name == "portal.audit"]


def test_every_order_move_is_in_the_audit_trail(journey):
    moves = [(getattr(r, "to", None), getattr(r, "role", None)) for r in audit_records(journey)
             if getattr(r, "order", None) == journey["order"] and getattr(r, "event", None) == "order_moved"]
    expected = [(to, "commune" if token not in ("manufacturer", "prefecture_01") else token.split("_")[0])
                for to, token in journey["moves"]]
    assert moves == expected


def test_audit_records_say_who_and_when(journey):
    """ASVS 16.2.1: who (the person, not only the role), when (UTC), what. Today only the role is logged."""
    records = [r for r in audit_records(journey) if getattr(r, "order", None) == journey["order"]]
    missing = [f"{getattr(r, 'to', '?')}: " + ", ".join(name for name in ("by", "at") if not getattr(r, name, None))
               for r in records if not (getattr(r, "by", None) and getattr(r, "at", None))]
    assert not missing, f"audit records without who/when: {missing}"


def test_logins_and_failed_logins_are_audited(journey):
    """ASVS 16.3.1: every authentication decision is logged (without the password)."""
    events = {getattr(r, "event", None) or r.getMessage() for r in audit_records(journey)}
    assert {"login", "login_failed"} <= events, f"audit events seen: {sorted(events)}"


def test_failed_authorisations_are_audited(journey):
    """ASVS 16.3.2: the commune agent's attempt on the back office (403) is in the audit trail."""
    events = {getattr(r, "event", None) or r.getMessage() for r in audit_records(journey)}
    assert "forbidden" in events, f"audit events seen: {sorted(events)}"


def test_back_office_photo_access_is_audited(journey):
    """Issue 6: every photo access by the back office (the card maker's photo_url) is in the audit trail."""
    events = {getattr(r, "event", None) or r.getMessage() for r in audit_records(journey)}
    assert "photo_access" in events, f"audit events seen: {sorted(events)}"


def test_every_call_of_a_program_is_audited_with_its_client(journey):
    """Each call made with a client's token is one audit record naming the client, its owner, what and the outcome;
    token requests (issued, refused) are audited too."""
    calls = [(r.method, r.path, r.status) for r in audit_records(journey)
             if getattr(r, "event", None) == "api_client_call"]
    assert calls == [("GET", f"/officials/{journey['official']}", 200), ("GET", "/agents", 403)]
    for record in (r for r in audit_records(journey) if getattr(r, "event", None) == "api_client_call"):
        assert record.client_name == "Logiciel du Bugey" and record.client_id == journey["client_id"]
        assert record.owner == "commune#210102836" and record.at
    events = [getattr(r, "event", None) for r in audit_records(journey)]
    assert {"api_client_created", "api_token_issued", "api_token_refused"} <= set(events)
