"""Webhooks' rules (domain/webhooks.py): the signature a receiver checks, the receivers' URLs, the retry schedule, the
events' shape and ids; and the order services handing each move to the webhooks once it is recorded (in memory)."""
import json
import random
from datetime import datetime, timezone

import pytest

from chalicelib.domain import orders as lifecycle, webhooks
from chalicelib.services import orders as service
from tests.unit.fakes import collaborators
from tests.unit.test_services_in_memory import AGENT, AIN, MAKER, SIREN, portal  # noqa: F401 - the fixture

SECRET = "whsec_test-secret"
BODY = b'{"id":"abc","type":"order.status_changed"}'
NOW = 1_800_000_000


# --- signature ----------------------------------------------------------------------------------------------------

def test_the_signature_is_the_hmac_sha256_of_the_timestamp_and_the_body():
    import hashlib
    import hmac

    header = webhooks.signature_header(SECRET, NOW, BODY)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert webhooks.verify_signature(SECRET, header, BODY, NOW)
    assert webhooks.verify_signature(SECRET, header, BODY, NOW + 299)  # within the five minutes


@pytest.mark.parametrize("case", ["wrong secret", "body changed", "too old", "from the future", "no header",
                                  "no v1", "no timestamp", "timestamp changed"])
def test_a_signature_that_does_not_hold_is_refused(case):
    header = webhooks.signature_header(SECRET, NOW, BODY)
    secret, body, now = SECRET, BODY, NOW
    if case == "wrong secret":
        secret = "whsec_another"
    elif case == "body changed":
        body = BODY.replace(b"abc", b"abd")
    elif case == "too old":
        now = NOW + webhooks.TOLERANCE_SECONDS + 1
    elif case == "from the future":
        now = NOW - webhooks.TOLERANCE_SECONDS - 1
    elif case == "no header":
        header = None
    elif case == "no v1":
        header = f"t={NOW}"
    elif case == "no timestamp":
        header = header.split(",", 1)[1]
    elif case == "timestamp changed":  # a captured request replayed with a fresh timestamp
        header = header.replace(f"t={NOW}", f"t={NOW + 600}")
        now = NOW + 600
    assert not webhooks.verify_signature(secret, header, body, now)


def test_a_second_v1_is_accepted_while_a_secret_is_replaced():
    new = webhooks.signature_header(SECRET, NOW, BODY)
    old = webhooks.signature_header("whsec_old", NOW, BODY).split(",")[1]
    assert webhooks.verify_signature(SECRET, f"{new},{old}", BODY, NOW)
    assert webhooks.verify_signature("whsec_old", f"{new},{old}", BODY, NOW)


def test_each_secret_is_new_and_long():
    secrets = {webhooks.new_secret() for _ in range(20)}
    assert len(secrets) == 20 and all(s.startswith("whsec_") and len(s) > 40 for s in secrets)


# --- receivers' URLs ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://editeur.example.fr/hooks/cartes", "https://hooks.example.com:8443/a?b=c",
                                 "https://93.184.216.34/hook"])
def test_https_urls_to_the_internet_are_accepted(url):
    assert webhooks.url_refusal(url, local_receivers=False) is None


@pytest.mark.parametrize("url", ["http://editeur.example.fr/hook", "ftp://editeur.example.fr/hook", "editeur.fr",
                                 "https://user:pw@editeur.example.fr/hook", "https://editeur.example.fr/h#frag",
                                 "https://localhost/hook", "https://127.0.0.1/hook", "https://10.0.0.5/hook",
                                 "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://intranet/h",
                                 "https://service.internal/h", "http://127.0.0.1:8080/hook", "", "https://a b.fr/",
                                 "https://editeur.example.fr/h\x00ok", "https://editeur.example.fr:99999/h",
                                 "https://" + "a" * 2000 + ".fr/"])
def test_other_urls_are_refused_with_a_french_reason(url):
    reason = webhooks.url_refusal(url, local_receivers=False)
    assert reason and reason.startswith("L'adresse du webhook")


def test_plain_http_to_this_machine_only_where_the_local_stack_allows_it():
    for url in ("http://127.0.0.1:8080/hook", "http://localhost:9000/"):
        assert webhooks.url_refusal(url, local_receivers=True) is None
        assert webhooks.url_refusal(url, local_receivers=False) is not None
    # the local setting opens this machine only, and only plain HTTP to it
    assert webhooks.url_refusal("http://10.0.0.5/hook", local_receivers=True) is not None
    assert webhooks.url_refusal("http://editeur.example.fr/hook", local_receivers=True) is not None


def test_the_local_setting_is_read_at_each_call(monkeypatch):
    """Nothing read at import time: the setting, changed after the import, counts at once."""
    from chalicelib.aws import reset_settings_and_clients
    from chalicelib.settings import get_settings

    for name, value in (("TABLE_PREFIX", "t-"), ("DATA_BUCKET", "b"), ("MAIL_SENDER", "a@b.fr"),
                        ("SITE_URL", "https://s.test")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WEBHOOK_LOCAL_RECEIVERS", raising=False)
    reset_settings_and_clients()
    assert get_settings().webhook_local_receivers is False
    monkeypatch.setenv("WEBHOOK_LOCAL_RECEIVERS", "1")
    reset_settings_and_clients()
    assert get_settings().webhook_local_receivers is True
    reset_settings_and_clients()


# --- retries ------------------------------------------------------------------------------------------------------

def test_the_waits_grow_threefold_within_twenty_percent():
    rng = random.Random(7)
    for attempt in range(1, webhooks.MAX_ATTEMPTS):
        nominal = 60 * 3 ** (attempt - 1)
        waits = [webhooks.retry_delay(attempt, 60, rng) for _ in range(200)]
        assert all(0.8 * nominal <= w <= 1.2 * nominal for w in waits)
        assert len({round(w, 3) for w in waits}) > 150  # jittered: receivers that failed together spread out


def test_eight_attempts_span_about_a_day_deployed_and_seconds_locally():
    nominal_total = sum(60 * 3 ** (n - 1) for n in range(1, webhooks.MAX_ATTEMPTS))
    assert 16 * 3600 <= nominal_total <= 24 * 3600
    assert webhooks.retry_delay(1, 1.0, random.Random(1)) <= 1.2  # the local stack's first retry


def test_a_wait_longer_than_sqs_allows_is_several_hops():
    # never shorter than the wait: a rest of 0.4 s waits 1 s rather than coming straight back
    assert webhooks.queue_delay(0.4) == 1 and webhooks.queue_delay(12.6) == 13 and webhooks.queue_delay(0) == 0
    assert webhooks.queue_delay(3 * 3600) == 900 == webhooks.MAX_QUEUE_DELAY_SECONDS


@pytest.mark.parametrize("status,ok", [(200, True), (204, True), (299, True), (301, False), (400, False),
                                       (500, False), (None, False)])
def test_only_a_2xx_answer_delivers(status, ok):
    assert webhooks.succeeded(status) is ok


# --- events -------------------------------------------------------------------------------------------------------

def test_each_move_of_an_order_is_one_event_with_its_old_and_new_status(portal):  # noqa: F811
    c, store, _, _ = portal
    events = []
    c = c._replace(webhook_events=events.extend)
    order = service.create_order(c, AGENT, ["p1", "p2"])
    assert events == []  # a draft is nobody's business yet
    service.submit(c, AGENT, order.public_id, True)
    service.move(c, MAKER, order.public_id, lifecycle.EN_PRODUCTION, None)
    moves = [e for e in events if e["type"] == webhooks.ORDER_STATUS_CHANGED]
    assert [(e["data"]["old_status"], e["data"]["new_status"]) for e in moves] == [
        (lifecycle.BROUILLON, lifecycle.EN_PREPARATION), (lifecycle.EN_PREPARATION, lifecycle.EN_PRODUCTION)]
    first = moves[0]
    assert first["commune"] == {"siren": SIREN, "insee_code": "01053", "name": "Bourg-en-Bresse"}
    assert first["department_code"] == "01" and first["data"]["order_id"] == order.public_id
    assert first["data"]["new_status_label"] == lifecycle.LABELS[lifecycle.EN_PREPARATION]
    assert len({e["id"] for e in events}) == len(events)
    # the cards numbered at production enter the registry, each one event
    cards = [e for e in events if e["type"] == webhooks.CARD_STATUS_CHANGED]
    assert sorted(e["data"]["card_number"] for e in cards) == ["2026-0000001", "2026-0000002"]
    assert {(e["data"]["old_status"], e["data"]["new_status"]) for e in cards} == {(None, "en_fabrication")}
    # the same order as stored gives the same event: a redelivered message names the same move
    stored = store.tables["orders"][(SIREN, order.order_id)]
    assert webhooks.order_status_changed(stored)["id"] == moves[-1]["id"]


def test_a_failed_hand_off_never_fails_the_move(portal):  # noqa: F811
    c, store, _, _ = portal

    def down(events):
        raise RuntimeError("SQS unavailable")

    c = c._replace(webhook_events=down)
    order = service.create_order(c, AGENT, ["p1"])
    submitted = service.submit(c, AGENT, order.public_id, True)
    assert submitted.status == lifecycle.EN_PREPARATION
    assert store.tables["orders"][(SIREN, order.order_id)].status == lifecycle.EN_PREPARATION


def test_an_event_body_is_compact_json_and_its_delivery_id_sorts_by_time():
    at = datetime(2026, 12, 7, 10, 30, tzinfo=timezone.utc)

    class Official:
        siren, official_id, insee_code, commune_label, department_code = SIREN, "p1", "01053", "Bourg", None
        function, held_card_number = "maire", "2026-0000001"

    event = webhooks.official_mandate_ended(Official, "01", at)
    assert event["occurred_at"] == "2026-12-07T10:30:00Z" and event["type"] == webhooks.OFFICIAL_MANDATE_ENDED
    body = webhooks.body_of(event)
    assert json.loads(body) == event and b" " not in body.replace(b"Bourg", b"")
    later = webhooks.official_mandate_ended(Official, "01", at.replace(minute=31))
    assert webhooks.delivery_id(event) < webhooks.delivery_id(later)
    assert webhooks.delivery_id(event) == webhooks.delivery_id(dict(event))  # the same event, the same delivery
    assert event["id"] != later["id"]


def test_every_event_type_has_a_french_label():
    assert set(webhooks.EVENT_LABELS) == set(webhooks.EVENTS) and len(webhooks.EVENTS) == 4


# --- where a POST goes: the name resolved once, checked, and the connection pinned to it ------------------------------

@pytest.mark.parametrize("addresses", [["127.0.0.1"], ["10.0.0.7"], ["169.254.169.254"], ["93.184.215.14", "192.168.1.2"],
                                       ["::1"], ["fe80::1%eth0"], ["fd00::5"], []])
def test_a_name_resolving_off_the_internet_is_refused(addresses):
    assert webhooks.addresses_refusal(addresses)


def test_a_name_resolving_to_public_addresses_is_accepted():
    assert webhooks.addresses_refusal(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]) is None


def test_a_receiver_whose_name_points_at_a_private_address_gets_no_connection(monkeypatch):
    from chalicelib.services import webhooks as service

    monkeypatch.setattr(service, "resolve", lambda host, port: ["127.0.0.1"])
    assert "pas sur internet" in service.pinned_target("https://hooks.editeur.example.fr/cartes")


def test_the_connection_goes_to_the_checked_address_and_tls_checks_the_name(monkeypatch):
    from chalicelib.services import webhooks as service

    asked = []
    monkeypatch.setattr(service, "resolve", lambda host, port: asked.append((host, port)) or ["93.184.215.14"])
    pool, path = service.pinned_target("https://hooks.editeur.example.fr:8443/cartes/elus?source=portail")
    assert asked == [("hooks.editeur.example.fr", 8443)]
    assert (pool.host, pool.port, path) == ("93.184.215.14", 8443, "/cartes/elus?source=portail")
    connection = pool._new_conn()  # what the pool will open: to the address, TLS naming the receiver
    assert (connection.host, connection.server_hostname, connection.assert_hostname) == (
        "93.184.215.14", "hooks.editeur.example.fr", "hooks.editeur.example.fr")
    assert pool.host_header == "hooks.editeur.example.fr:8443"


def test_a_message_holds_one_event_or_the_events_of_one_change():
    from chalicelib.events.webhooks import events_of

    event = {"id": "e1", "type": webhooks.ORDER_STATUS_CHANGED, "occurred_at": "2026-03-20T10:00:00Z"}
    assert events_of(json.dumps(event)) == [event]
    card = {**event, "id": "e2", "type": webhooks.CARD_STATUS_CHANGED}
    assert events_of(json.dumps({"events": [event, card]})) == [event, card]
    # what is not an event is None (dropped with a log line), the others still fanned out
    assert events_of(json.dumps({"events": [event, "x", {"id": 3}]})) == [event, None, None]
    assert events_of("not json") == [None]
