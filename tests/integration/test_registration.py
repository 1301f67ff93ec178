"""Registering a commune with its SIREN and activation code, then setting the password from the emailed link."""
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib import clock
from tests.helpers import (AGENT_PASSWORD, DEMO_SIREN, issue_code, link_token, log_in,
                           outbox_messages, post_json, register)


def test_registration_sends_a_french_email_with_a_link_to_the_configured_site(client, aws, operator):
    code = issue_code(client, operator)
    response = register(client, code)
    assert response.status_code == 201
    assert response.json_body == {"siren": DEMO_SIREN, "commune_name": "Bourg-en-Bresse",
                                  "email": "agent@mairie-bourg.fr"}
    [message] = outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")
    assert "mot de passe" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Bourg-en-Bresse" in text and "Bourg-en-Bresse" in html
    assert "https://site.test/mot-de-passe.html?token=" in text
    assert len(link_token(message)) >= 43  # 256 bits in URL-safe base64


def test_the_code_is_typed_as_printed_whatever_the_case_and_dashes(client, operator):
    code = issue_code(client, operator)
    assert register(client, code.lower().replace("-", " ")).status_code == 201


@pytest.mark.parametrize("siren", ["21010053", "210100534", "ABCDEFGHI", ""])
def test_malformed_or_luhn_invalid_siren_is_refused(client, operator, siren):
    response = register(client, "XXXX-XXXX-XXXX", siren=siren)
    assert response.status_code == 400
    assert response.json_body["code"] in ("invalid_siren", "invalid_request")


def test_invalid_email_is_refused(client, operator):
    code = issue_code(client, operator)
    response = register(client, code, email_address="pas-une-adresse")
    assert response.status_code == 400
    assert response.json_body["code"] == "invalid_email"
    assert register(client, code).status_code == 201  # the code was not spent by the refused attempt


def test_unknown_siren_and_wrong_code_answer_the_same(client, operator):
    issue_code(client, operator)
    wrong_code = register(client, "AAAA-BBBB-CCCC")
    unknown_siren = register(client, "AAAA-BBBB-CCCC", siren="217500016")  # Paris: no code issued
    not_in_reference = register(client, "AAAA-BBBB-CCCC", siren="732829320")  # valid SIREN, not a commune
    for response in (wrong_code, unknown_siren, not_in_reference):
        assert response.status_code == 403
        assert response.json_body == wrong_code.json_body
    assert wrong_code.json_body["code"] == "invalid_activation_code"


def test_five_wrong_codes_lock_the_siren_for_an_hour(client, operator, monkeypatch):
    code = issue_code(client, operator)
    for _ in range(5):
        assert register(client, "AAAA-BBBB-CCCC").status_code == 403
    locked = register(client, code)  # even the right code is refused while locked
    assert locked.status_code == 429
    assert locked.json_body["code"] == "too_many_attempts"
    assert 3500 <= int(locked.headers["Retry-After"]) <= 3600
    assert register(client, code, siren="217500016").status_code == 403  # other SIRENs are not locked
    later = clock.now() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert register(client, code).status_code == 201


def test_a_registered_commune_cannot_register_again(client, operator):
    code = issue_code(client, operator)
    assert register(client, code).status_code == 201
    again = register(client, code, email_address="autre@mairie-bourg.fr")
    assert again.status_code == 409
    assert again.json_body["code"] == "already_registered"


def test_a_new_code_replaces_the_old_one(client, operator):
    old = issue_code(client, operator)
    new = issue_code(client, operator)
    assert register(client, old).status_code == 403
    assert register(client, new).status_code == 201


def test_an_expired_code_is_refused(client, operator, monkeypatch):
    code = issue_code(client, operator)
    later = clock.now() + timedelta(days=121)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert register(client, code).status_code == 403


def test_password_link_sets_the_password_once(client, aws, operator):
    register(client, issue_code(client, operator))
    token = link_token(outbox_messages(Path(aws.outbox_dir))[-1])
    assert post_json(client, "/password", {"token": token, "password": AGENT_PASSWORD}).status_code == 204
    reuse = post_json(client, "/password", {"token": token, "password": AGENT_PASSWORD + " encore"})
    assert reuse.status_code == 400
    assert reuse.json_body["code"] == "invalid_token"
    assert log_in(client, "agent@mairie-bourg.fr", AGENT_PASSWORD)


def test_password_link_expires_after_24_hours(client, aws, operator, monkeypatch):
    register(client, issue_code(client, operator))
    token = link_token(outbox_messages(Path(aws.outbox_dir))[-1])
    later = clock.now() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    response = post_json(client, "/password", {"token": token, "password": AGENT_PASSWORD})
    assert response.status_code == 400
    assert response.json_body["code"] == "invalid_token"


def test_forged_password_token_is_refused(client, operator):
    response = post_json(client, "/password", {"token": "A" * 43, "password": AGENT_PASSWORD})
    assert response.status_code == 400
    assert response.json_body["code"] == "invalid_token"


@pytest.mark.parametrize("password, reason_fragment", [
    ("court", "au moins 12 caractères"),
    ("motdepasse123", "trop facile à deviner"),
    ("azertyuiop123456", "trop facile à deviner"),
    ("Bourg-en-Bresse 2026 !", "votre commune"),
    ("ma commune 210100533", "SIREN"),
    ("x" * 257, "256 caractères"),
])
def test_weak_passwords_are_refused_with_the_reason_and_the_link_stays_valid(client, aws, operator, password,
                                                                             reason_fragment):
    register(client, issue_code(client, operator))
    token = link_token(outbox_messages(Path(aws.outbox_dir))[-1])
    response = post_json(client, "/password", {"token": token, "password": password})
    assert response.status_code == 400
    assert response.json_body["code"] == "weak_password"
    assert reason_fragment in response.json_body["message"]
    assert post_json(client, "/password", {"token": token, "password": AGENT_PASSWORD}).status_code == 204


def test_any_unicode_password_is_accepted_and_hashed_with_argon2id(client, aws, operator):
    register(client, issue_code(client, operator))
    token = link_token(outbox_messages(Path(aws.outbox_dir))[-1])
    password = "Œufs brouillés 🍳 à l'aïoli, été ʕ•ᴥ•ʔ"
    assert post_json(client, "/password", {"token": token, "password": password}).status_code == 204
    from chalicelib.store.tables import Account

    stored = Account.get("agent@mairie-bourg.fr").password_hash
    assert stored.startswith("$argon2id$")
    parameters = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(parameters["m"]) >= 19 * 1024 and int(parameters["t"]) >= 2
    assert log_in(client, "agent@mairie-bourg.fr", password)
