"""The webhooks and their deliveries (``tables.Webhook``, ``tables.WebhookDelivery``): the fan-out's queries, a
delivery written once per (webhook, event), each attempt recorded on the condition that no other copy of the same
attempt was recorded first, and the delivery log read newest first."""
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError

from .batch import Wanted, get_many
from .repositories import decode_cursor, encode_cursor
from .tables import ApiClient, Webhook, WebhookAttempt, WebhookDelivery, is_condition_failure

DELIVERIES_KEPT = timedelta(days=30)
PAGE_SIZE = 50
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def subscriptions(owners: list[str]) -> list[Webhook]:
    """The webhooks of these owners still enabled (one query per owner on ``by-owner``: three at most)."""
    return [hook for owner in owners for hook in Webhook.by_owner.query(owner) if hook.disabled_at is None]


def clients(client_ids: set[str]) -> dict[str, ApiClient]:
    ids = sorted(client_ids)
    found = {}
    for start in range(0, len(ids), 100):
        for client in get_many([Wanted(ApiClient, i) for i in ids[start:start + 100]], consistent=False):
            if client is not None:
                found[client.client_id] = client
    return found


def create_delivery(hook: Webhook, event: dict, delivery_id: str, body: str, now: datetime) -> bool:
    """The delivery of ``event`` to ``hook``, pending; False when it exists already (the event came twice)."""
    try:
        WebhookDelivery(hook.webhook_id, delivery_id, client_id=hook.client_id, event_id=event["id"],
                        event_type=event["type"], body=body, status=PENDING, attempts=0, created_at=now,
                        purge_at=now + DELIVERIES_KEPT).save(condition=WebhookDelivery.delivery_id.does_not_exist())
    except PutError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def delivery_and_hook(client_id: str, webhook_id: str, delivery_id: str):
    """The delivery, its webhook and the webhook's client, in one read."""
    return get_many([Wanted(WebhookDelivery, webhook_id, delivery_id), Wanted(Webhook, client_id, webhook_id),
                     Wanted(ApiClient, client_id)])


def record_attempt(delivery: WebhookDelivery, attempt: int, now: datetime, status: str, http_status: int | None,
                   error: str | None, next_attempt_at: datetime | None) -> bool:
    """Attempt number ``attempt`` recorded, on the condition that the delivery had ``attempt - 1`` and was still
    pending; False when another copy of the same message recorded it first (SQS delivers at least once)."""
    actions = [WebhookDelivery.attempts.set(attempt), WebhookDelivery.status.set(status),
               WebhookDelivery.last_attempt_at.set(now),
               WebhookDelivery.last_http_status.set(http_status) if http_status is not None
               else WebhookDelivery.last_http_status.remove(),
               WebhookDelivery.last_error.set(error) if error else WebhookDelivery.last_error.remove(),
               WebhookDelivery.next_attempt_at.set(next_attempt_at) if next_attempt_at
               else WebhookDelivery.next_attempt_at.remove()]
    if status == DELIVERED:
        actions.append(WebhookDelivery.delivered_at.set(now))
    attempt_record = WebhookAttempt(at=now, http_status=http_status, error=error)
    actions.append(WebhookDelivery.history.set((WebhookDelivery.history | []).append([attempt_record])))
    try:
        delivery.update(actions=actions, condition=(WebhookDelivery.attempts == attempt - 1)
                        & (WebhookDelivery.status == PENDING))
    except UpdateError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def deliveries_page(webhook_id: str, cursor: str | None) -> tuple[list[WebhookDelivery], str | None]:
    """A webhook's delivery log, newest first, ``PAGE_SIZE`` a page."""
    query = WebhookDelivery.query(webhook_id, scan_index_forward=False, limit=PAGE_SIZE,
                                  last_evaluated_key=decode_cursor(cursor, ("webhook_id", "delivery_id"),
                                                                   webhook_id=webhook_id))
    items = list(query)
    return items, encode_cursor(query.last_evaluated_key)
