"""The second factor of back-office accounts and « Mes sessions », through the API (on moto)."""
import json
import time

import pytest

from chalicelib.domain.second_factor import code_at
from tests.helpers import (AGENT_PASSWORD, OPERATOR_TOTP_SECRET, auth, create_operator, log_in, otp, post_json,
                           registered_agent)

PREFECTURE = ("guichet@ain.gouv.fr", "le guichet des élus de l'Ain")


def sessions_of(email: str) -> int:
    from chalicelib.store.tables import Account, Token

    account = Account.get(email)
    return sum(1 for t in Token.by_account.query(account.account_id) if t.kind == "session")


def new_prefecture_agent(enrolled: bool) -> None:
    if enrolled:
        create_operator(*PREFECTURE[:1], "Paula", "Préfète", "prefecture", "01", password=PREFECTURE[1])
    else:
        from chalicelib.services.accounts import create_operator as create_without_second_factor

        create_without_second_factor(PREFECTURE[0], "Paula", "Préfète", "prefecture", "01", password=PREFECTURE[1])


def test_an_account_with_a_second_factor_gets_no_session_without_its_code(client, operator):
    new_prefecture_agent(enrolled=True)
    email, password = PREFECTURE
    missing = post_json(client, "/sessions", {"email": email, "password": password})
    assert missing.status_code == 401 and missing.json_body["code"] == "otp_required"
    assert "code à 6 chiffres" in missing.json_body["message"]
    wrong = post_json(client, "/sessions", {"email": email, "password": password, "otp": "123456"})
    assert wrong.status_code == 401 and wrong.json_body["code"] == "invalid_otp"
    # A wrong password with a right code is still a wrong password: nothing says the code was right.
    bad_password = post_json(client, "/sessions", {"email": email, "password": "pas le bon", "otp": otp()})
    assert bad_password.status_code == 401 and bad_password.json_body["code"] == "invalid_credentials"
    assert sessions_of(email) == 0
    token = log_in(client, email, password, OPERATOR_TOTP_SECRET)
    assert client.http.get("/admin/orders", headers=auth(token)).status_code == 200
    # The code of the step before is still taken (the phone's clock a little behind), not one of a minute ago.
    before = post_json(client, "/sessions", {"email": email, "password": password,
                                             "otp": code_at(OPERATOR_TOTP_SECRET, time.time() - 30)})
    assert before.status_code == 201
    stale = post_json(client, "/sessions", {"email": email, "password": password,
                                            "otp": code_at(OPERATOR_TOTP_SECRET, time.time() - 95)})
    assert stale.status_code == 401 and stale.json_body["code"] == "invalid_otp"


def test_five_wrong_codes_refuse_the_next_for_a_while(client, operator):
    new_prefecture_agent(enrolled=True)
    email, password = PREFECTURE
    for _ in range(5):
        assert post_json(client, "/sessions", {"email": email, "password": password, "otp": "000000"}) \
            .json_body["code"] == "invalid_otp"
    limited = post_json(client, "/sessions", {"email": email, "password": password, "otp": otp()})
    assert limited.status_code == 429 and limited.json_body["code"] == "too_many_attempts"
    assert int(limited.headers["Retry-After"]) > 0


def test_a_prefecture_account_cannot_reach_the_back_office_before_enrolling(client, operator):
    new_prefecture_agent(enrolled=False)
    email, password = PREFECTURE
    session = post_json(client, "/sessions", {"email": email, "password": password})
    assert session.status_code == 201 and session.json_body["second_factor_enrolment_required"] is True
    token = session.json_body["token"]
    for method, path in (("GET", "/me"), ("GET", "/admin/orders"), ("GET", "/admin/cards"), ("GET", "/me/sessions"),
                         ("DELETE", "/sessions")):
        refused = client.http.request(method, path, headers=auth(token))
        assert refused.status_code == 403, path
        assert refused.json_body["code"] == "second_factor_required"
        assert "double authentification" in refused.json_body["message"]

    status = client.http.get("/me/second-factor", headers=auth(token)).json_body
    assert status == {"enabled": False, "required": True, "enabled_at": None, "recovery_codes_left": 0}
    enrolment = post_json(client, "/me/second-factor", {}, token).json_body
    assert enrolment["qr_code"].startswith("data:image/svg+xml;base64,")
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/") and enrolment["secret"] in enrolment["otpauth_uri"]
    assert (enrolment["digits"], enrolment["period_seconds"], enrolment["algorithm"]) == (6, 30, "SHA1")
    not_yet = post_json(client, "/sessions", {"email": email, "password": password})
    assert not_yet.status_code == 201  # not in use until confirmed: still an enrolment session
    wrong = post_json(client, "/me/second-factor/confirm", {"otp": "000000"}, token)
    assert wrong.status_code == 400 and wrong.json_body["code"] == "invalid_otp"
    enabled = post_json(client, "/me/second-factor/confirm", {"otp": otp(enrolment["secret"])}, token)
    assert enabled.status_code == 200
    codes = enabled.json_body["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    # This session now serves the back office; the codes are shown once and stored hashed.
    assert client.http.get("/admin/orders", headers=auth(token)).status_code == 200
    from chalicelib.store.tables import Account

    stored = Account.get(email).recovery_codes
    assert len(stored) == 10 and not set(codes) & stored
    again = post_json(client, "/me/second-factor/confirm", {"otp": otp(enrolment["secret"])}, token)
    assert again.status_code == 409 and again.json_body["code"] == "second_factor_already_enabled"
    assert post_json(client, "/me/second-factor", {}, token).status_code == 409
    # From now on the password alone opens nothing.
    assert post_json(client, "/sessions", {"email": email, "password": password}).json_body["code"] == "otp_required"

    # A recovery code replaces the app's code once.
    recovered = post_json(client, "/sessions", {"email": email, "password": password, "otp": codes[0].lower()})
    assert recovered.status_code == 201
    spent = post_json(client, "/sessions", {"email": email, "password": password, "otp": codes[0]})
    assert spent.status_code == 401 and spent.json_body["code"] == "invalid_otp"
    assert client.http.get("/me/second-factor", headers=auth(token)).json_body["recovery_codes_left"] == 9


def test_a_commune_agent_is_not_made_to_enrol_but_may(client, aws, operator):
    token = registered_agent(client, aws, operator)
    assert client.http.get("/me", headers=auth(token)).status_code == 200
    status = client.http.get("/me/second-factor", headers=auth(token)).json_body
    assert status["enabled"] is False and status["required"] is False
    secret = post_json(client, "/me/second-factor", {}, token).json_body["secret"]
    assert post_json(client, "/me/second-factor/confirm", {"otp": otp(secret)}, token).status_code == 200
    assert post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr", "password": AGENT_PASSWORD}) \
        .json_body["code"] == "otp_required"
    assert log_in(client, "agent@mairie-bourg.fr", AGENT_PASSWORD, secret)


def login_from(client, email, password, device, secret=None):
    body = {"email": email, "password": password}
    if secret:
        body["otp"] = otp(secret)
    headers = {"Content-Type": "application/json", "User-Agent": device}
    response = client.http.post("/sessions", headers=headers, body=json.dumps(body))
    assert response.status_code == 201, response.json_body
    return response.json_body["token"]


FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " \
         "Version/18.1 Mobile/15E148 Safari/604.1"


def test_my_sessions_lists_them_and_one_ended_stops_working_at_once(client, aws, operator):
    registered_agent(client, aws, operator)
    email = "agent@mairie-bourg.fr"
    office = login_from(client, email, AGENT_PASSWORD, FIREFOX)
    phone = login_from(client, email, AGENT_PASSWORD, SAFARI)
    items = client.http.get("/me/sessions", headers=auth(office)).json_body["items"]
    assert items[0]["current"] is True and items[0]["device"] == "Firefox sous Windows"
    devices = {item["device"] for item in items}
    assert {"Firefox sous Windows", "Safari sous iPhone"} <= devices
    assert all(item["source_ip"] and item["method"] == "password" for item in items)
    phone_id = next(item["id"] for item in items if item["device"] == "Safari sous iPhone")
    assert client.http.get("/me", headers=auth(phone)).status_code == 200
    assert client.http.delete(f"/me/sessions/{phone_id}", headers=auth(office)).status_code == 204
    ended = client.http.get("/me", headers=auth(phone))
    assert ended.status_code == 401 and ended.json_body["code"] == "unauthenticated"
    assert client.http.delete(f"/me/sessions/{phone_id}", headers=auth(office)).status_code == 404
    assert phone_id not in {i["id"] for i in client.http.get("/me/sessions", headers=auth(office)).json_body["items"]}
    # Another account's session cannot be ended from here, nor seen.
    other = log_in(client, "operateur@fabricant.example.fr", "usine à cartes tricolores 2026", OPERATOR_TOTP_SECRET)
    office_id = items[0]["id"]
    refused = client.http.delete(f"/me/sessions/{office_id}", headers=auth(other))
    assert refused.status_code == 404 and refused.json_body["code"] == "session_not_found"
    assert office_id not in {i["id"] for i in client.http.get("/me/sessions", headers=auth(other)).json_body["items"]}
    assert client.http.get("/me", headers=auth(office)).status_code == 200
    # « Fermer toutes mes sessions » empties the list.
    assert client.http.delete("/sessions", headers=auth(office)).status_code == 204
    fresh = login_from(client, email, AGENT_PASSWORD, FIREFOX)
    assert len(client.http.get("/me/sessions", headers=auth(fresh)).json_body["items"]) == 1


def test_the_card_maker_ends_an_operator_s_sessions(client, operator):
    new_prefecture_agent(enrolled=True)
    email, password = PREFECTURE
    desk = log_in(client, email, password, OPERATOR_TOTP_SECRET)
    refused = post_json(client, "/admin/session-revocations", {"email": "operateur@fabricant.example.fr"}, desk)
    assert refused.status_code == 403 and refused.json_body["code"] == "forbidden"
    assert post_json(client, "/admin/session-revocations", {"email": email.upper()}, operator).status_code == 204
    assert client.http.get("/me", headers=auth(desk)).status_code == 401
    assert log_in(client, email, password, OPERATOR_TOTP_SECRET)  # a new sign-in works
    for unknown in ("personne@ain.gouv.fr", "agent@mairie-bourg.fr"):
        response = post_json(client, "/admin/session-revocations", {"email": unknown}, operator)
        assert response.status_code == 404 and response.json_body["code"] == "unknown_operator"


@pytest.mark.parametrize("session_id", ["x", "0" * 64, "z" * 64])
def test_ending_a_session_that_is_not_one_s_own_is_404(client, operator, session_id):
    response = client.http.delete(f"/me/sessions/{session_id}", headers=auth(operator))
    assert response.status_code == 404 and response.json_body["code"] == "session_not_found"


def test_a_session_ended_while_confirming_turns_nothing_on(client, aws, operator):
    """The second factor and the session's upgrade are one write: a session ended meanwhile (logged out on another
    tab) leaves the account as it was, and the person is told to sign in again."""
    from chalicelib.errors import PortalError
    from chalicelib.services import second_factor, sessions
    from chalicelib.store.tables import Account, Token

    token = registered_agent(client, aws, operator)
    secret = post_json(client, "/me/second-factor", {}, token).json_body["secret"]
    principal = sessions.authenticate(token)
    Token(principal.token_hash).delete()
    with pytest.raises(PortalError) as refused:
        second_factor.confirm_enrolment(principal, otp(secret))
    assert refused.value.status == 401
    account = Account.get(principal.email)
    assert account.second_factor_at is None and account.recovery_codes is None
