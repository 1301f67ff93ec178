"""Webhooks on the running local stack, over HTTP only: a commune's agent creates an API client and a webhook to a
receiver this test runs on 127.0.0.1, which fails its first POST; an order moves five times; the receiver gets each
move's ``order.status_changed`` once (by event id), every POST signed with the webhook's secret, the first one again
after its failure; the delivery log shows the failed attempt and the one that delivered."""
import json
import time
from collections import Counter

from chalicelib.domain import webhooks
from tests.e2e.test_local_stack_officials import Api, wait_for
from tests.webhook_receiver import Receiver

MOVES = ["en_preparation", "en_production", "en_livraison", "livree", "remise"]


def test_a_receiver_gets_each_move_once_signed_even_after_failing_the_first_post(stack):
    state = stack.state
    base = state["api_url"]
    agent = Api(base)  # Oyonnax's agent: the demo's registered commune, two officials with ready photos
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    created = agent("POST", "/api-clients", 201, json={"name": "Logiciel de gestion du conseil",
                                                       "scopes": ["officials:read", "orders:read"]})
    client_id = created["client_id"]

    with Receiver(answers=(500,)) as receiver:
        hook = agent("POST", f"/api-clients/{client_id}/webhooks", 201,
                     json={"url": receiver.url, "events": [webhooks.ORDER_STATUS_CHANGED]})
        secret = hook["secret"]
        assert secret.startswith("whsec_") and hook["events"] == [webhooks.ORDER_STATUS_CHANGED]
        listed = agent("GET", f"/api-clients/{client_id}/webhooks", 200)["items"]
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]

        officials = wait_for(lambda: [o for o in agent("GET", "/officials", 200)["items"]
                                      if o["photo"]["status"] == "ready"] or None)
        order = agent("POST", "/orders", 201, json={"official_ids": [o["id"] for o in officials]})
        agent("POST", f"/orders/{order['id']}/submit", 200, json={"preview_acknowledged": True})
        manufacturer = Api(base)
        manufacturer.log_in_as(state["operators"]["manufacturer"])
        prefecture = Api(base)
        prefecture.log_in_as(state["operators"]["prefecture"])
        for actor, to in ((manufacturer, "en_production"), (manufacturer, "en_livraison"), (prefecture, "livree"),
                          (prefecture, "remise")):
            actor("POST", f"/admin/orders/{order['id']}/transitions", 200, json={"to": to})

        delivered = receiver.wait_for(len(MOVES), timeout=60)
        time.sleep(2)  # a late duplicate would show now
        delivered = receiver.delivered()
        received = list(receiver.received)

    # once per move, by event id, and each move's order: the statuses in sequence
    per_event = Counter(r.headers["x-carteselus-event-id"] for r in delivered)
    assert len(per_event) == len(MOVES) and set(per_event.values()) == {1}, per_event
    events = sorted((json.loads(r.body) for r in delivered), key=lambda e: e["occurred_at"])
    assert [e["data"]["new_status"] for e in sorted(events, key=lambda e: MOVES.index(e["data"]["new_status"]))] \
        == MOVES
    assert {e["data"]["order_id"] for e in events} == {order["id"]} and {e["type"] for e in events} == {
        webhooks.ORDER_STATUS_CHANGED}
    # each POST signed with the webhook's secret (checked now: within the five minutes' tolerance)
    for post in received:
        assert webhooks.verify_signature(secret, post.headers["x-carteselus-signature"], post.body, int(time.time()))
        assert post.headers["x-carteselus-event-id"] == json.loads(post.body)["id"]
    # the first POST failed, and the same event came again and was delivered
    first = received[0]
    assert first.answered == 500
    assert [r.answered for r in received if r.headers["x-carteselus-event-id"] ==
            first.headers["x-carteselus-event-id"]] == [500, 200]
    assert len(received) == len(MOVES) + 1

    # the delivery log, newest first: the failed attempt then the successful one, for the first move
    log = agent("GET", f"/api-clients/{client_id}/webhooks/{hook['id']}/deliveries", 200)["items"]
    assert len(log) == len(MOVES) and all(d["status"] == "delivered" for d in log)
    retried = next(d for d in log if d["event_id"] == first.headers["x-carteselus-event-id"])
    assert retried["attempts"] == 2 and retried["last_http_status"] == 200
    assert [a["http_status"] for a in retried["history"]] == [500, 200]
    assert [d["id"] for d in log] == sorted((d["id"] for d in log), reverse=True)
