"""Webhooks on the emulation: an order's move is queued for the fan-out, which writes one delivery per webhook
concerned (once, whatever SQS redelivers), and the delivery function POSTs it, signed, to a real receiver on
127.0.0.1, retrying after a failure. Revoked clients, disabled webhooks, other communes and other event types get
nothing. (The clients' and the webhooks' records are written directly here; their routes have their own tests.)"""
import json
import time
import uuid

import pytest

from chalicelib import aws as aws_clients, clock
from chalicelib.domain import api_clients, webhooks
from chalicelib.store.queues import WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_EVENTS_QUEUE
from chalicelib.store.tables import ApiClient, Webhook, WebhookDelivery
from tests.helpers import DEMO_SIREN, post_json, transition, upload_photo
from tests.webhook_receiver import Receiver


def api_client(owner: str, name: str = "Logiciel Mairie+", revoked: bool = False,
               scopes=api_clients.READ_SCOPES) -> ApiClient:
    now = clock.now()
    client = ApiClient(uuid.uuid4().hex, owner=owner, name=name, scopes=set(scopes),
                       secret_hash="0" * 64, created_at=now, created_by="agent@mairie-bourg.fr",
                       revoked_at=now if revoked else None, siren=DEMO_SIREN if owner.startswith("commune#") else None)
    client.save()
    return client


def webhook(client: ApiClient, url: str, events=(webhooks.ORDER_STATUS_CHANGED,), disabled: bool = False) -> Webhook:
    hook = Webhook(client.client_id, f"{time.time_ns() // 1_000_000:013d}{uuid.uuid4().hex[:8]}", owner=client.owner,
                   url=url, events=set(events), secret=webhooks.new_secret(), created_at=clock.now(),
                   created_by="agent@mairie-bourg.fr", disabled_at=clock.now() if disabled else None)
    hook.save()
    return hook


def queued(queue: str) -> list[str]:
    """Takes every message waiting on the queue (their bodies)."""
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def run(client, handler: str, queue: str, bodies: list[str]) -> None:
    for body in bodies:
        client.lambda_.invoke(handler, client.events.generate_sqs_event([body], queue_name=queue))


def fan_out(client, bodies: list[str] | None = None) -> list[str]:
    bodies = queued(WEBHOOK_EVENTS_QUEUE) if bodies is None else bodies
    run(client, "fan_out_webhook_events", WEBHOOK_EVENTS_QUEUE, bodies)
    return bodies


def deliver_until_quiet(client, quiet_seconds: float = 2.5, timeout: float = 30) -> int:
    """Runs the delivery function on each attempt as SQS hands it over (the delayed retries included), until the
    queue stays empty ``quiet_seconds``. Returns how many attempts ran."""
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=WEBHOOK_DELIVERIES_QUEUE)["QueueUrl"]
    ran, quiet_since, deadline = 0, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - quiet_since < quiet_seconds and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            run(client, "deliver_webhooks", WEBHOOK_DELIVERIES_QUEUE, [message["Body"]])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            ran += 1
        if messages:
            quiet_since = time.monotonic()
    return ran


def deliveries(hook: Webhook) -> list[WebhookDelivery]:
    return list(WebhookDelivery.query(hook.webhook_id, scan_index_forward=False))


def submitted(client, agent, official_ids) -> dict:
    order = post_json(client, "/orders", {"official_ids": official_ids}, agent).json_body
    response = post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent)
    assert response.status_code == 200, response.json_body
    return response.json_body


@pytest.fixture
def receiver():
    with Receiver(answers=(500,)) as running:
        yield running


def test_a_move_reaches_the_receiver_once_signed_even_after_a_failed_first_post(client, commune, operator, receiver):
    agent, officials = commune
    owner = api_clients.commune_owner(DEMO_SIREN)
    hook = webhook(api_client(owner), receiver.url)
    order = submitted(client, agent, officials)

    events = [body for body in fan_out(client) if json.loads(body)["type"] == webhooks.ORDER_STATUS_CHANGED]
    assert len(events) == 1  # beside the photos checked when the commune's officials got theirs
    (delivery,) = deliveries(hook)
    assert (delivery.status, delivery.attempts, delivery.event_type) == ("pending", 0, webhooks.ORDER_STATUS_CHANGED)
    # SQS delivers at least once: the same event fanned out again writes no second delivery
    fan_out(client, events)
    assert len(deliveries(hook)) == 1

    assert deliver_until_quiet(client) >= 2
    (first, second) = receiver.received
    assert (first.answered, second.answered) == (500, 200)
    for post in (first, second):
        assert webhooks.verify_signature(hook.secret, post.headers["x-carteselus-signature"], post.body,
                                         int(time.time()))
        assert post.headers["content-type"].startswith("application/json")
    assert first.body == second.body and first.headers["x-carteselus-event-id"] == second.headers[
        "x-carteselus-event-id"]
    event = json.loads(second.body)
    assert event["id"] == second.headers["x-carteselus-event-id"] and event["type"] == webhooks.ORDER_STATUS_CHANGED
    assert event["commune"]["siren"] == DEMO_SIREN and event["department_code"] == "01"
    assert event["data"] == {**event["data"], "order_id": order["id"], "old_status": "brouillon",
                             "new_status": "en_preparation"}
    # signed with another secret, the same POST is refused by the receiver's check
    assert not webhooks.verify_signature("whsec_other", second.headers["x-carteselus-signature"], second.body,
                                         int(time.time()))
    (delivery,) = deliveries(hook)
    assert (delivery.status, delivery.attempts, delivery.last_http_status) == ("delivered", 2, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert [(a.http_status, a.error) for a in delivery.history] == [(500, "Réponse HTTP 500"), (200, None)]

    # a second attempt message arriving again (SQS redelivers) POSTs nothing more
    message = {"client_id": hook.client_id, "webhook_id": hook.webhook_id, "delivery_id": delivery.delivery_id,
               "attempt": 2}
    run(client, "deliver_webhooks", WEBHOOK_DELIVERIES_QUEUE, [json.dumps(message)])
    assert len(receiver.received) == 2

    # each move of the card maker is one more event, delivered once
    assert transition(client, operator, order["id"], "en_production").status_code == 200
    fan_out(client)
    deliver_until_quiet(client)
    moves = [json.loads(r.body)["data"]["new_status"] for r in receiver.delivered()]
    assert moves == ["en_preparation", "en_production"]


def test_only_the_webhooks_concerned_get_the_event(client, commune, operator, receiver):
    agent, officials = commune
    queued(WEBHOOK_EVENTS_QUEUE)  # the photos checked while the fixture made the officials ready: before any webhook
    commune_client = api_client(api_clients.commune_owner(DEMO_SIREN))
    wanted = [webhook(commune_client, receiver.url),
              webhook(api_client(api_clients.department_owner("01"), "Outil préfecture"), receiver.url),
              webhook(api_client(api_clients.NATIONAL, "Outil ministère"), receiver.url)]
    unwanted = [webhook(api_client(api_clients.commune_owner("200000172")), receiver.url),  # another commune
                webhook(api_client(api_clients.department_owner("74")), receiver.url),  # another département
                webhook(api_client(api_clients.commune_owner(DEMO_SIREN), revoked=True), receiver.url),
                webhook(commune_client, receiver.url, disabled=True),
                webhook(commune_client, receiver.url, events=(webhooks.PHOTO_CHECKED,)),
                # a client that may read the officials only hears nothing of the orders
                webhook(api_client(api_clients.commune_owner(DEMO_SIREN), scopes=(api_clients.OFFICIALS_READ,)),
                        receiver.url)]
    submitted(client, agent, officials)
    fan_out(client)
    assert [len(deliveries(hook)) for hook in wanted] == [1, 1, 1]
    assert [len(deliveries(hook)) for hook in unwanted] == [0] * 6


def test_a_receiver_failing_every_time_ends_failed_and_the_log_keeps_why(client, commune, monkeypatch):
    from chalicelib.domain import webhooks as rules

    monkeypatch.setattr(rules, "MAX_ATTEMPTS", 3)
    agent, officials = commune
    with Receiver(answers=(), then=503) as failing:
        hook = webhook(api_client(api_clients.commune_owner(DEMO_SIREN)), failing.url)
        submitted(client, agent, officials)
        fan_out(client)
        assert deliver_until_quiet(client, quiet_seconds=5) == 3  # waits of ~1 s then ~3 s
    assert [r.answered for r in failing.received] == [503, 503, 503]
    (delivery,) = deliveries(hook)
    assert (delivery.status, delivery.attempts, delivery.last_http_status) == ("failed", 3, 503)
    assert delivery.last_error == "Réponse HTTP 503" and delivery.next_attempt_at is None


def test_a_client_revoked_before_the_attempt_is_sent_nothing(client, commune, receiver):
    agent, officials = commune
    api = api_client(api_clients.commune_owner(DEMO_SIREN))
    hook = webhook(api, receiver.url)
    submitted(client, agent, officials)
    fan_out(client)
    api.update(actions=[ApiClient.revoked_at.set(clock.now())])
    deliver_until_quiet(client, quiet_seconds=1)
    assert receiver.received == []
    (delivery,) = deliveries(hook)
    assert delivery.status == "failed" and "révoqué" in delivery.last_error


def test_a_long_wait_goes_through_the_queue_in_hops_of_at_most_fifteen_minutes(client, commune):
    from datetime import timedelta

    from chalicelib.services import webhooks as service

    later = clock.now() + timedelta(hours=3)
    message = service.attempt_message("c" * 32, "w", "d", 5, later)
    assert service.deliver(message, clock.now()) == "waiting"
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=WEBHOOK_DELIVERIES_QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"


def test_a_photo_checked_is_told_with_its_verdict(client, commune, receiver):
    from tests.unit import photo_corpus as corpus

    agent, (official_id, _) = commune
    hook = webhook(api_client(api_clients.commune_owner(DEMO_SIREN)), receiver.url, events=(webhooks.PHOTO_CHECKED,))
    queued(WEBHOOK_EVENTS_QUEUE)
    upload_photo(client, agent, official_id, corpus.portrait_jpeg((700, 900)), corpus.full_crop((700, 900)))
    upload_photo(client, agent, official_id, b"not a jpeg at all", corpus.full_crop((700, 900)))
    fan_out(client)
    assert len(deliveries(hook)) == 2
    deliver_until_quiet(client)
    verdicts = sorted((json.loads(r.body)["data"]["result"], json.loads(r.body)["data"]["official_id"])
                      for r in receiver.delivered())
    assert verdicts == [("accepted", official_id), ("rejected", official_id)]
    rejected = next(json.loads(r.body) for r in receiver.delivered() if b'"rejected"' in r.body)
    assert rejected["data"]["reason"] and rejected["commune"]["insee_code"] == "01053"
