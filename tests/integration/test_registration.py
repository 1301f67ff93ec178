"""Registering a commune with its SIREN and activation code, then setting the password from the emailed link."""
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib import clock
from tests.helpers import (AGENT_PASSWORD, DEMO_SIREN, deliver_account_mails, issue_code, link_token, log_in,
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


@pytest.fixture
def from_source(monkeypatch):
    from chalice.local import LambdaEventConverter

    def use(address: str):
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


def test_codes_are_80_bits_in_four_groups_to_copy_from_a_letter(client, operator):
    from chalicelib.domain.secrets_codes import CODE_ALPHABET, CODE_BITS

    code = issue_code(client, operator)
    groups = code.split("-")
    assert CODE_BITS == 80 and len(CODE_ALPHABET) == 32
    assert [len(g) for g in groups] == [4, 4, 4, 4] and set("".join(groups)) <= set(CODE_ALPHABET)


def test_fifty_wrong_codes_from_other_addresses_leave_the_communes_agent_able_to_register_within_a_minute(
        client, aws, operator, monkeypatch, from_source):
    code = issue_code(client, operator)
    start = clock.now()
    answers = []
    for n in range(50):
        from_source(f"203.0.113.{n // 10 + 1}")  # five addresses, ten each (each may fail 20 an hour)
        answers.append(register(client, f"AAAA-BBBB-CCCC-{n:04d}", email_address="devin@exemple.fr"))
    assert {a.status_code for a in answers} <= {403, 429} and answers[0].status_code == 403
    from_source("198.51.100.20")  # the town hall
    slowed = register(client, code)
    assert slowed.status_code == 429 and slowed.json_body["code"] == "too_many_attempts"
    assert int(slowed.headers["Retry-After"]) <= 60
    later = start + timedelta(seconds=61)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert register(client, code).status_code == 201


def test_ten_wrong_codes_in_a_minute_slow_that_siren_only_and_never_for_more_than_a_minute(client, operator,
                                                                                           from_source):
    code = issue_code(client, operator)
    from_source("203.0.113.7")
    assert [register(client, f"AAAA-BBBB-CCCC-{n:04d}").status_code for n in range(10)] == [403] * 10
    slowed = register(client, code)
    assert slowed.status_code == 429 and 0 < int(slowed.headers["Retry-After"]) <= 60
    assert register(client, code, siren="217500016").status_code == 403  # other SIRENs are not slowed


def test_many_wrong_codes_for_a_commune_tell_its_prefecture_by_email(client, aws, operator, monkeypatch,
                                                                     from_source):
    from chalicelib.services.accounts import create_operator

    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password="le guichet des élus")
    issue_code(client, operator)
    start = clock.now()
    for n in range(20):
        moment = start + timedelta(minutes=n // 10)
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        from_source(f"203.0.113.{n // 10 + 1}")
        assert register(client, f"AAAA-BBBB-CCCC-{n:04d}").status_code == 403
    assert deliver_account_mails(client) == 1
    [alert] = outbox_messages(Path(aws.outbox_dir), "guichet@ain.gouv.fr")
    text = alert.get_body(preferencelist=("plain",)).get_content()
    assert "Bourg-en-Bresse" in text and "210100533" in text and "Au moins 20 codes" in text
    assert "n'a donc pas d'agent" in text


def test_a_wrong_code_with_a_pending_agents_email_answers_like_any_wrong_code_and_sends_nothing(client, aws,
                                                                                                  operator):
    code = issue_code(client, operator)
    assert register(client, code).status_code == 201  # the agent has not set a password yet
    sent = len(outbox_messages(Path(aws.outbox_dir)))
    wrong = register(client, "AAAA-BBBB-CCCC-DDDD")
    unknown = register(client, "AAAA-BBBB-CCCC-DDDD", siren="217500016")
    assert wrong.status_code == 403 and wrong.json_body == unknown.json_body
    assert len(outbox_messages(Path(aws.outbox_dir))) == sent
    # the very registration sent again (its first email lost) still resends the link
    assert register(client, code).status_code == 201
    assert len(outbox_messages(Path(aws.outbox_dir))) == sent + 1


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


@pytest.mark.parametrize("last_name", ["Dupont\nCliquez sur https://exemple.fr", "   ", "Dupont\u202e",
                                       "Du\u200bpont"])
def test_a_name_with_a_line_break_an_invisible_character_or_only_spaces_is_refused(client, operator, last_name):
    code = issue_code(client, operator)
    response = post_json(client, "/registrations", {"siren": DEMO_SIREN, "activation_code": code,
                                                    "last_name": last_name, "first_name": "Jeanne",
                                                    "email": "agent@mairie-bourg.fr"})
    assert response.status_code == 400, response.json_body
    assert response.json_body["code"] in ("invalid_name", "invalid_request")
    assert "last_name" in response.json_body["details"]
    assert register(client, code).status_code == 201  # nothing was spent or stored
