"""The webhooks' functions (services/webhooks.py): the fan-out of each event the API and the other functions queued,
and each attempt of each delivery. SQS delivers at least once: the fan-out writes a delivery once per webhook and
event, an attempt is recorded once; a function that fails leaves its messages to come back, then in the dead-letter
queue. A receiver that fails is not a function failure: its attempt is recorded and the next one queued."""
import json
import logging

from chalice import Blueprint

from .. import clock
from ..domain import webhooks as rules
from ..services import webhooks
from ..store.queues import WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_EVENTS_QUEUE
from .messages import fields_of

log = logging.getLogger(__name__)

# At most this many delivery functions at once: each waits on a receiver (up to 5 s), and a burst of moves (a whole
# département's cards delivered) must not take the account's concurrency from the API.
DELIVERIES_MAX_CONCURRENCY = 10

hooks = Blueprint(__name__)


def events_of(body: str) -> list[dict | None]:
    """A message holds one event, or the events of one change (``{"events": [...]}``: an order's move and its cards'
    in one send, ``wiring._webhook_events``); None stands for what is not an event."""
    batch = fields_of(body)
    if batch is not None and isinstance(batch.get("events"), list):
        return [fields_of(json.dumps(item), "id", "type", "occurred_at") if isinstance(item, dict) else None
                for item in batch["events"]]
    return [fields_of(body, "id", "type", "occurred_at")]


@hooks.on_sqs_message(queue=WEBHOOK_EVENTS_QUEUE, batch_size=10)
def fan_out_webhook_events(event):
    for message in (message for record in event for message in events_of(record.body)):
        if message is None or message["type"] not in rules.EVENTS or not isinstance(message.get("commune"), dict) \
                or not isinstance(message.get("data"), dict):
            log.error("webhook event without an id, a known type, a time, a commune or data: dropped")
            continue
        created = webhooks.fan_out(message, clock.now())
        log.info("webhook event fanned out", extra={"event_id": message["id"], "event_type": message["type"],
                                                    "deliveries": created})


@hooks.on_sqs_message(queue=WEBHOOK_DELIVERIES_QUEUE, batch_size=10, maximum_concurrency=DELIVERIES_MAX_CONCURRENCY)
def deliver_webhooks(event):
    for record in event:
        message = fields_of(record.body, "client_id", "webhook_id", "delivery_id")
        if message is None or not isinstance(message.get("attempt"), int) or isinstance(message["attempt"], bool) \
                or not 1 <= message["attempt"] <= rules.MAX_ATTEMPTS:
            log.error("webhook attempt without its keys or its number: dropped")
            continue
        outcome = webhooks.deliver(message, clock.now())
        log.info("webhook attempt", extra={"webhook_id": message["webhook_id"],
                                           "delivery_id": message["delivery_id"], "attempt": message["attempt"],
                                           "outcome": outcome})
