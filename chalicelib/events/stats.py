"""The stats function: adds each order event the API handed it (``services/dashboards.count``) to the dashboards'
counters, off the request's path. SQS delivers at least once: the store counts an event id once (``store/stats.py``);
a failed message comes back, then waits in the dead-letter queue."""
import logging
import re

from chalice import Blueprint

from .. import clock
from ..services import dashboards
from ..store.queues import STATS_QUEUE
from .messages import fields_of

log = logging.getLogger(__name__)

SIREN = re.compile(r"[0-9]{9}")
COUNTER_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")  # an attribute name of the counters' items (domain/stats.py)

stats = Blueprint(__name__)


@stats.on_sqs_message(queue=STATS_QUEUE, batch_size=10)
def count_order_events(event):
    for record in event:
        message = fields_of(record.body, "event_id", "department_code", "week")
        if message is None or not isinstance(message.get("counts"), dict) or not all(
                COUNTER_NAME.fullmatch(name) and isinstance(n, int) and not isinstance(n, bool)
                for name, n in message["counts"].items()):
            log.error("order event without an id, a département, a week or counts: dropped")
            continue
        if not SIREN.fullmatch(str(message.get("siren", "000000000"))):
            message.pop("siren")  # counted without its commune's marker rather than a malformed key written
            log.error("order event with a malformed SIREN: its commune's first order not marked")
        if not dashboards.record(message, clock.now()):
            log.info("order event already counted", extra={"event_id": message["event_id"]})
