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
from tests.helpers import DEMO_SIREN, post_json, queued, transition, upload_photo
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

    from chalicelib.events.webhooks import events_of

    events = [body for body in fan_out(client)
              if any(event["type"] == webhooks.ORDER_STATUS_CHANGED for event in events_of(body))]
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
        # waits of ~1 s then ~3 s (±20 %): 8 s of quiet, so that a loaded machine cannot end the wait early
        assert deliver_until_quiet(client, quiet_seconds=8) == 3
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


# --- the routes ---------------------------------------------------------------------------------------------------

def hooks_path(client_id: str, *rest: str) -> str:
    return "/".join([f"/api-clients/{client_id}/webhooks", *rest])


def test_a_communes_agent_registers_lists_and_deletes_a_webhook_whose_secret_is_shown_once(client, commune, operator,
                                                                                           receiver):
    from tests.helpers import auth
    from tests.integration.test_api_clients import new_client

    agent, officials = commune
    created = new_client(client, agent)
    answer = post_json(client, hooks_path(created["client_id"]), {"url": receiver.url,
                                                                  "events": ["order.status_changed"]}, agent)
    assert answer.status_code == 201, answer.json_body
    hook = answer.json_body
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["order.status_changed"]
    assert hook["created_by"] == "agent@mairie-bourg.fr" and hook["disabled"] is False
    listed = client.http.get(hooks_path(created["client_id"]), headers=auth(agent)).json_body["items"]
    assert [h["id"] for h in listed] == [hook["id"]] and hook["secret"] not in json.dumps(listed)

    # the move is delivered; the log reads it, newest first
    order = submitted(client, agent, officials)
    fan_out(client)
    deliver_until_quiet(client)
    log = client.http.get(hooks_path(created["client_id"], hook["id"], "deliveries"), headers=auth(agent))
    assert log.status_code == 200, log.json_body
    (entry,) = log.json_body["items"]
    assert (entry["status"], entry["attempts"], entry["last_http_status"]) == ("delivered", 2, 200)
    assert [a["http_status"] for a in entry["history"]] == [500, 200] and entry["status_label"] == "Remis"

    # deleted: marked in the list, nothing more sent, deleting again changes nothing
    assert client.http.delete(hooks_path(created["client_id"], hook["id"]), headers=auth(agent)).status_code == 204
    assert client.http.delete(hooks_path(created["client_id"], hook["id"]), headers=auth(agent)).status_code == 204
    listed = client.http.get(hooks_path(created["client_id"]), headers=auth(agent)).json_body["items"]
    assert listed[0]["disabled"] is True and listed[0]["disabled_at"]
    assert transition(client, operator, order["id"], "en_production").status_code == 200
    fan_out(client)
    assert len(client.http.get(hooks_path(created["client_id"], hook["id"], "deliveries"),
                               headers=auth(agent)).json_body["items"]) == 1


@pytest.mark.parametrize("body,code", [
    ({"url": "https://10.0.0.7/hook", "events": ["order.status_changed"]}, "invalid_url"),
    ({"url": "http://editeur.example.fr/hook", "events": ["order.status_changed"]}, "invalid_url"),
    ({"url": "https://editeur.example.fr/hook", "events": ["photo.checked"]}, "invalid_events"),  # scope orders only
    ({"url": "https://editeur.example.fr/hook", "events": []}, "invalid_request"),
    ({"url": "https://editeur.example.fr/hook", "events": ["order.created"]}, "invalid_request"),
    ({"url": "https://editeur.example.fr/hook"}, "invalid_request"),
])
def test_a_webhook_that_cannot_be_is_refused_with_a_clear_error_and_nothing_written(client, commune, body, code):
    from tests.integration.test_api_clients import new_client

    agent, _ = commune
    created = new_client(client, agent, scopes=("orders:read",))
    answer = post_json(client, hooks_path(created["client_id"]), body, agent)
    assert answer.status_code == 400 and answer.json_body["code"] == code, answer.json_body
    assert answer.json_body["message"]
    assert list(Webhook.query(created["client_id"])) == []


def test_only_the_owners_people_and_the_program_itself_see_a_clients_webhooks(client, aws, commune, operator):
    from tests.helpers import auth, other_commune_agent
    from tests.integration.test_api_clients import bearer, new_client

    agent, _ = commune
    mine, other_program = new_client(client, agent), new_client(client, agent, name="Autre logiciel")
    program = bearer(client, mine)
    hook = post_json(client, hooks_path(mine["client_id"]), {"url": "https://editeur.example.fr/hook",
                                                             "events": ["card.status_changed"]}, program)
    assert hook.status_code == 201, hook.json_body
    assert hook.json_body["created_by"] == "API : Logiciel Exemple"
    assert client.http.get(hooks_path(mine["client_id"]), headers=auth(program)).status_code == 200
    neighbour = other_commune_agent(client, aws, "210102836", "agent@mairie-voisine.fr",
                                    "la mairie voisine et son clocher")
    for token, who in ((neighbour, "another commune's agent"), (operator, "the card maker, for a commune's client"),
                       (bearer(client, other_program), "another program of the same commune")):
        for method, path in (("GET", hooks_path(mine["client_id"])),
                             ("GET", hooks_path(mine["client_id"], hook.json_body["id"], "deliveries")),
                             ("DELETE", hooks_path(mine["client_id"], hook.json_body["id"]))):
            answer = client.http.request(method, path, headers=auth(token))
            assert answer.status_code == 404 and answer.json_body["code"] == "not_found", (who, method, path)
        answer = post_json(client, hooks_path(mine["client_id"]), {"url": "https://x.example.fr/h",
                                                                   "events": ["order.status_changed"]}, token)
        assert answer.status_code == 404, who
    # the webhook is untouched
    assert Webhook.get(mine["client_id"], hook.json_body["id"]).disabled_at is None
    # a program without orders:read may not manage webhooks
    reader = bearer(client, mine, scope="officials:read")
    assert client.http.get(hooks_path(mine["client_id"]), headers=auth(reader)).json_body["code"] == \
        "insufficient_scope"


def test_a_revoked_client_gets_no_new_webhook_but_its_log_still_reads(client, commune):
    from tests.helpers import auth
    from tests.integration.test_api_clients import new_client

    agent, _ = commune
    created = new_client(client, agent)
    assert post_json(client, hooks_path(created["client_id"]), {"url": "https://editeur.example.fr/h",
                                                                "events": ["order.status_changed"]},
                     agent).status_code == 201
    assert client.http.delete(f"/api-clients/{created['client_id']}", headers=auth(agent)).status_code == 204
    refused = post_json(client, hooks_path(created["client_id"]), {"url": "https://editeur.example.fr/h2",
                                                                   "events": ["order.status_changed"]}, agent)
    assert refused.status_code == 409 and refused.json_body["code"] == "client_revoked"
    assert len(client.http.get(hooks_path(created["client_id"]), headers=auth(agent)).json_body["items"]) == 1


def test_the_delivery_log_pages_newest_first(client, commune, monkeypatch):
    from chalicelib.store import webhooks as store
    from tests.helpers import auth
    from tests.integration.test_api_clients import new_client

    monkeypatch.setattr(store, "PAGE_SIZE", 2)
    agent, officials = commune
    created = new_client(client, agent)
    hook = post_json(client, hooks_path(created["client_id"]), {"url": "https://editeur.example.fr/h",
                                                                "events": ["order.status_changed"]}, agent).json_body
    queued(WEBHOOK_EVENTS_QUEUE)
    order = submitted(client, agent, officials)
    post_json(client, f"/orders/{order['id']}/cancel", {}, agent)
    order = submitted(client, agent, officials)
    fan_out(client)
    path = hooks_path(created["client_id"], hook["id"], "deliveries")
    first = client.http.get(path, headers=auth(agent)).json_body
    assert len(first["items"]) == 2 and first["next"]
    second = client.http.get(f"{path}?cursor={first['next']}", headers=auth(agent)).json_body
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    forged = client.http.get(f"{path}?cursor=eyJ3ZWJob29rX2lkIjp7IlMiOiJ4In19", headers=auth(agent))
    assert forged.status_code == 400 and forged.json_body["code"] == "invalid_cursor"
