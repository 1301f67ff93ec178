"""Logging in and out, who may call what, and the commune's agents."""
import json
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib import clock
from tests.helpers import (AGENT_PASSWORD, auth, deliver_account_mails, link_token, log_in, other_commune_agent, otp,
                           outbox_messages, post_json, registered_agent)


@pytest.fixture
def agent(client, aws, operator):
    return registered_agent(client, aws, operator)


def test_me_shows_the_commune_its_departement_and_the_prefecture_address(client, agent):
    response = client.http.get("/me", headers=auth(agent))
    assert response.status_code == 200
    me = response.json_body
    assert me["role"] == "commune" and me["email"] == "agent@mairie-bourg.fr"
    assert me["commune"]["name"] == "Bourg-en-Bresse"
    assert me["commune"]["department_code"] == "01"
    assert me["commune"]["delivery_address"] == {"name": "Préfecture de l'Ain", "address": "45 avenue Alsace-Lorraine",
                                                 "postal_code": "01000", "city": "Bourg-en-Bresse"}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_logout_revokes_the_token(client, agent):
    assert client.http.delete("/sessions/current", headers=auth(agent)).status_code == 204
    after = client.http.get("/me", headers=auth(agent))
    assert after.status_code == 401
    assert after.json_body["code"] == "unauthenticated"


def test_closing_every_session_ends_them_on_every_device_and_a_new_login_works(client, agent, caplog):
    other_device = log_in(client, "agent@mairie-bourg.fr", AGENT_PASSWORD)
    assert client.http.get("/me", headers=auth(other_device)).status_code == 200
    with caplog.at_level("INFO", logger="portal.audit"):
        assert client.http.delete("/sessions", headers=auth(agent)).status_code == 204
    for token in (agent, other_device):
        after = client.http.get("/me", headers=auth(token))
        assert after.status_code == 401 and after.json_body["code"] == "unauthenticated"
    assert any(getattr(r, "event", None) == "logout_everywhere" and r.by == "agent@mairie-bourg.fr"
               for r in caplog.records)
    assert client.http.delete("/sessions", headers=auth(agent)).status_code == 401  # already closed
    fresh = log_in(client, "agent@mairie-bourg.fr", AGENT_PASSWORD)  # at once: the mark is older by microseconds
    assert client.http.get("/me", headers=auth(fresh)).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer forged-token", "Basic YWRtaW46YWRtaW4=",
                                    "Bearer " + "A" * 43, "Bearer " + "x" * 5000])
def test_missing_or_forged_tokens_get_401(client, agent, header):
    headers = {"Authorization": header} if header else {}
    response = client.http.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.json_body["code"] == "unauthenticated"


def test_unknown_email_and_wrong_password_get_identical_answers(client, agent):
    unknown = post_json(client, "/sessions", {"email": "personne@mairie-bourg.fr", "password": AGENT_PASSWORD})
    wrong = post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr", "password": "pas le bon mot de passe"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json_body == wrong.json_body == {"code": "invalid_credentials",
                                                    "message": "Adresse e-mail ou mot de passe incorrect."}


@pytest.fixture
def from_source(monkeypatch):
    """The caller's address, as API Gateway reports it (chalice's local event converter)."""
    from chalice.local import LambdaEventConverter

    def use(address: str):
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)

    return use


@pytest.fixture
def a_minute_later(monkeypatch):
    """Failed logins in the quarter-minute of a password's setting are forgotten with it (domain/limits.since): the
    tests that count failures start a minute after the agent set theirs. Returns the moment."""
    later = clock.now() + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    return later


def wrong_login(client, email="agent@mairie-bourg.fr"):
    return post_json(client, "/sessions", {"email": email, "password": "mauvais mot de passe"})


def test_ten_failed_logins_from_one_address_lock_that_address_out_of_the_account_for_fifteen_minutes(
        client, agent, monkeypatch, from_source, a_minute_later):
    from_source("203.0.113.10")
    answers = [wrong_login(client) for _ in range(10)]
    assert [a.status_code for a in answers] == [401] * 10
    # The last attempts before the lock say so, in the 401's message and details.
    assert [a.json_body.get("details", {}).get("attempts_left") for a in answers] == [None] * 6 + [3, 2, 1, 0]
    assert "encore 3 essais avant un blocage de 15 minutes" in answers[6].json_body["message"]
    assert "Mot de passe oublié" in answers[6].json_body["message"]
    locked = post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr", "password": AGENT_PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) <= 900
    # An unknown email is limited and warned exactly the same way: no way to tell which accounts exist.
    unknown = [wrong_login(client, "inconnu@mairie-bourg.fr") for _ in range(10)]
    assert [a.json_body for a in unknown] == [a.json_body for a in answers]
    assert wrong_login(client, "inconnu@mairie-bourg.fr").status_code == 429
    # From the holder's own address, the account is open.
    from_source("198.51.100.20")
    assert log_in(client, "agent@mairie-bourg.fr", AGENT_PASSWORD)
    from_source("203.0.113.10")
    later = a_minute_later + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert log_in(client, "agent@mairie-bourg.fr", AGENT_PASSWORD)


def test_twenty_wrong_passwords_from_other_addresses_leave_the_real_user_able_to_sign_in_and_tell_them(
        client, aws, agent, from_source, a_minute_later):
    for n in range(20):
        from_source(f"203.0.113.{n // 5 + 1}")  # four addresses, five tries each
        assert wrong_login(client).status_code == 401
    from_source("198.51.100.20")  # the agent, from their town hall
    response = post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr", "password": AGENT_PASSWORD})
    assert response.status_code == 201, response.json_body
    assert deliver_account_mails(client) == 1  # the alert, queued once when the tenth failure came
    [alert] = [m for m in outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")
               if "Tentatives de connexion" in m["Subject"]]
    text = alert.get_body(preferencelist=("plain",)).get_content()
    assert "Au moins 10 tentatives" in text and "n'est pas bloqué" in text
    assert "https://site.test/mot-de-passe-oublie.html" in text


def test_failed_logins_on_an_unknown_address_queue_the_same_alert_and_nothing_is_sent(client, aws, agent, from_source):
    before = len(outbox_messages(Path(aws.outbox_dir)))
    for n in range(10):
        from_source(f"203.0.113.{n + 1}")
        assert wrong_login(client, "inconnu@mairie-bourg.fr").status_code == 401
    assert deliver_account_mails(client) == 1
    assert len(outbox_messages(Path(aws.outbox_dir))) == before


def test_a_password_reset_lifts_a_login_lock(client, aws, agent, from_source, a_minute_later, monkeypatch):
    from_source("198.51.100.20")
    for _ in range(10):
        assert wrong_login(client).status_code == 401
    assert post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr",
                                           "password": AGENT_PASSWORD}).status_code == 429
    assert post_json(client, "/password-resets", {"email": "agent@mairie-bourg.fr"}).status_code == 202
    deliver_account_mails(client)
    token = link_token(outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")[-1])
    new_password = "les cloches de Brou sonnent midi"
    reset_at = a_minute_later + timedelta(minutes=2)  # the email read, the link opened: still within the lock
    monkeypatch.setattr(clock, "now", lambda: reset_at)
    assert post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr",
                                           "password": AGENT_PASSWORD}).status_code == 429
    assert post_json(client, "/password", {"token": token, "password": new_password}).status_code == 204
    assert log_in(client, "agent@mairie-bourg.fr", new_password)  # from the very address that was locked


def test_session_ends_after_30_idle_minutes_but_activity_keeps_it(client, agent, monkeypatch):
    start = clock.now()
    for minutes in (20, 40, 60):  # used every 20 minutes: still valid after an hour
        moment = start + timedelta(minutes=minutes)
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        assert client.http.get("/me", headers=auth(agent)).status_code == 200
    idle = start + timedelta(minutes=60 + 31)
    monkeypatch.setattr(clock, "now", lambda: idle)
    assert client.http.get("/me", headers=auth(agent)).status_code == 401


def test_session_ends_after_12_hours_whatever_the_activity(client, agent, monkeypatch):
    start = clock.now()
    for minutes in range(20, 12 * 60, 20):
        moment = start + timedelta(minutes=minutes)
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        assert client.http.get("/me", headers=auth(agent)).status_code == 200
    end = start + timedelta(hours=12)
    monkeypatch.setattr(clock, "now", lambda: end)
    assert client.http.get("/me", headers=auth(agent)).status_code == 401


def test_a_password_reset_revokes_every_session(client, aws, agent):
    other_session = log_in(client, "agent@mairie-bourg.fr", AGENT_PASSWORD)
    response = post_json(client, "/password-resets", {"email": "agent@mairie-bourg.fr"})
    assert response.status_code == 202
    assert deliver_account_mails(client) == 1
    token = link_token(outbox_messages(Path(aws.outbox_dir), "agent@mairie-bourg.fr")[-1])
    new_password = "les cloches de Brou sonnent midi"
    assert post_json(client, "/password", {"token": token, "password": new_password}).status_code == 204
    for session in (agent, other_session):
        assert client.http.get("/me", headers=auth(session)).status_code == 401
    assert log_in(client, "agent@mairie-bourg.fr", new_password)


def test_password_reset_does_the_same_work_and_answers_the_same_for_unknown_emails(client, aws, agent):
    from tests.dynamodb_calls import count_dynamodb_calls

    before = len(outbox_messages(Path(aws.outbox_dir)))
    work = {}
    for email in ("inconnu@mairie-bourg.fr", "agent@mairie-bourg.fr"):
        with count_dynamodb_calls() as dynamodb, count_dynamodb_calls("sqs") as sqs, \
                count_dynamodb_calls("ses") as ses:
            response = post_json(client, "/password-resets", {"email": email})
        work[email] = (response.status_code, response.json_body, dynamodb, [c for c in sqs if c != "GetQueueUrl"],
                       ses)
    assert work["inconnu@mairie-bourg.fr"] == work["agent@mairie-bourg.fr"]
    assert work["agent@mairie-bourg.fr"][0] == 202 and work["agent@mairie-bourg.fr"][3] == ["SendMessage"]
    assert work["agent@mairie-bourg.fr"][4] == []  # no email leaves from the request itself...
    assert len(outbox_messages(Path(aws.outbox_dir))) == before
    assert deliver_account_mails(client) == 2  # ...but from the mails function, and only to the account
    assert len(outbox_messages(Path(aws.outbox_dir))) == before + 1
    assert outbox_messages(Path(aws.outbox_dir), "inconnu@mairie-bourg.fr") == []


def test_password_reset_flooding_is_limited(client, agent):
    statuses = [post_json(client, "/password-resets", {"email": "agent@mairie-bourg.fr"}).status_code
                for _ in range(6)]
    assert statuses == [202] * 5 + [429]


def test_a_commune_agent_cannot_use_the_back_office(client, agent):
    for method, path, body in [("POST", "/admin/reference-imports", {"kind": "communes"}),
                               ("GET", "/admin/reference-imports/x", None),
                               ("POST", "/admin/communes/210100533/activation-code", None),
                               ("POST", "/admin/operators", {"email": "a@b.fr", "first_name": "A", "last_name": "B",
                                                             "role": "manufacturer"})]:
        response = client.http.request(method, path, headers=auth(agent),
                                       body=json.dumps(body) if body else b"")
        assert response.status_code == 403, path
        assert response.json_body["code"] == "forbidden"


def test_the_manufacturer_cannot_use_commune_routes(client, operator):
    response = client.http.get("/agents", headers=auth(operator))
    assert response.status_code == 403


def test_operators_create_prefecture_agents_who_set_their_password_from_the_email(client, aws, operator):
    response = post_json(client, "/admin/operators", {"email": "agent@pref-ain.fr", "first_name": "Paul",
                                                      "last_name": "Préfet", "role": "prefecture",
                                                      "department_code": "01"}, operator)
    assert response.status_code == 201
    assert response.json_body["department_code"] == "01"
    token = link_token(outbox_messages(Path(aws.outbox_dir), "agent@pref-ain.fr")[-1])
    assert post_json(client, "/password", {"token": token, "password": "le guichet ferme à midi pile"}).status_code \
        == 204
    session = log_in(client, "agent@pref-ain.fr", "le guichet ferme à midi pile")
    # A new préfecture agent's session serves the enrolment of their second factor only, until a code confirms it.
    refused = client.http.get("/me", headers=auth(session))
    assert refused.status_code == 403 and refused.json_body["code"] == "second_factor_required"
    secret = post_json(client, "/me/second-factor", {}, session).json_body["secret"]
    assert post_json(client, "/me/second-factor/confirm", {"otp": otp(secret)}, session).status_code == 200
    me = client.http.get("/me", headers=auth(session)).json_body
    assert me["role"] == "prefecture" and me["department_code"] == "01" and "commune" not in me
    again = post_json(client, "/admin/operators", {"email": "agent@pref-ain.fr", "first_name": "Paul",
                                                   "last_name": "Préfet", "role": "manufacturer"}, operator)
    assert again.status_code == 409
    unknown = post_json(client, "/admin/operators", {"email": "x@pref.fr", "first_name": "X", "last_name": "Y",
                                                     "role": "prefecture", "department_code": "2A"}, operator)
    assert unknown.status_code == 422 and unknown.json_body["code"] == "unknown_department"


def test_agents_invite_list_and_remove_but_never_the_last(client, aws, agent):
    invited = post_json(client, "/agents", {"email": "second@mairie-bourg.fr", "last_name": "Durand",
                                            "first_name": "Lou"}, agent)
    assert invited.status_code == 201
    assert outbox_messages(Path(aws.outbox_dir), "second@mairie-bourg.fr")
    listing = client.http.get("/agents", headers=auth(agent)).json_body["items"]
    assert sorted(a["email"] for a in listing) == ["agent@mairie-bourg.fr", "second@mairie-bourg.fr"]
    me_id = next(a["id"] for a in listing if a["email"] == "agent@mairie-bourg.fr")
    assert client.http.delete(f"/agents/{invited.json_body['id']}", headers=auth(agent)).status_code == 204
    last = client.http.delete(f"/agents/{me_id}", headers=auth(agent))
    assert last.status_code == 409 and last.json_body["code"] == "last_agent"
    assert client.http.delete("/agents/unknown", headers=auth(agent)).status_code == 404


def test_a_removed_agent_is_logged_out(client, aws, agent):
    post_json(client, "/agents", {"email": "second@mairie-bourg.fr", "last_name": "Durand", "first_name": "Lou"},
              agent)
    token = link_token(outbox_messages(Path(aws.outbox_dir), "second@mairie-bourg.fr")[-1])
    post_json(client, "/password", {"token": token, "password": "un jardin de roses sous la pluie"})
    second = log_in(client, "second@mairie-bourg.fr", "un jardin de roses sous la pluie")
    second_id = next(a["id"] for a in client.http.get("/agents", headers=auth(agent)).json_body["items"]
                     if a["email"] == "second@mairie-bourg.fr")
    assert client.http.delete(f"/agents/{second_id}", headers=auth(agent)).status_code == 204
    assert client.http.get("/me", headers=auth(second)).status_code == 401


def test_agents_of_another_commune_are_invisible(client, aws, operator, agent):
    lyon = other_commune_agent(client, aws, "216901231", "agent@mairie-lyon.fr", "traboules et bouchons du vieux quartier")
    lyon_items = client.http.get("/agents", headers=auth(lyon)).json_body["items"]
    assert [a["email"] for a in lyon_items] == ["agent@mairie-lyon.fr"]
    bourg_id = client.http.get("/agents", headers=auth(agent)).json_body["items"][0]["id"]
    assert client.http.delete(f"/agents/{bourg_id}", headers=auth(lyon)).status_code == 404


def test_inviting_an_address_with_an_account_elsewhere_answers_like_any_invitation_and_tells_its_holder(
        client, aws, agent):
    from chalicelib.services.accounts import create_operator
    from tests.dynamodb_calls import count_dynamodb_calls

    create_operator("olga@fabricant.example.fr", "Olga", "Opératrice", "manufacturer", None,
                    password="presse à cartes tricolore 2026")
    answers = {}
    for email in ("olga@fabricant.example.fr", "nouvelle@mairie-bourg.fr"):
        with count_dynamodb_calls("ses") as ses:
            response = post_json(client, "/agents", {"email": email, "last_name": "Durand", "first_name": "Alix"},
                                 agent)
        answers[email] = response
        assert response.status_code == 201, response.json_body
        assert ses == ["SendRawEmail"]  # one email either way
    operator_answer, new_answer = (answers[e].json_body for e in answers)
    assert set(operator_answer) == set(new_answer)
    assert {k: v for k, v in operator_answer.items() if k not in ("id", "email", "created_at")} == \
        {k: v for k, v in new_answer.items() if k not in ("id", "email", "created_at")}
    # The operator's account is untouched; they are told, and get no link.
    [notice] = outbox_messages(Path(aws.outbox_dir), "olga@fabricant.example.fr")
    text = notice.get_body(preferencelist=("plain",)).get_content()
    assert "Bourg-en-Bresse" in text and "déjà un compte" in text and "token=" not in text
    from chalicelib.store.tables import Account

    assert Account.get("olga@fabricant.example.fr").role == "manufacturer"
    assert log_in(client, "olga@fabricant.example.fr", "presse à cartes tricolore 2026")
