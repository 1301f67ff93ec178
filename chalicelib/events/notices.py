"""The notices function: after a directory import, tells each registered commune it touched what changed for it
(``services/directory_news.py``), one commune a message.

At most ``MAX_CONCURRENCY`` run at once (the SQS event source's maximum concurrency, which holds messages in the
queue rather than throttling the function into the dead-letter queue): with SES's sending rate this is what keeps the
national file from sending a storm of emails. A failed message comes back; telling a commune twice sends one email.
"""
import logging

from chalice import Blueprint

from ..services import directory_news
from ..store.queues import NOTICES_QUEUE
from .messages import fields_of

log = logging.getLogger(__name__)

notices = Blueprint(__name__)

MAX_CONCURRENCY = 2  # SQS's minimum; each function sends a commune's few emails, a few a second


@notices.on_sqs_message(queue=NOTICES_QUEUE, batch_size=10, maximum_concurrency=MAX_CONCURRENCY)
def tell_communes(event):
    for record in event:
        message = fields_of(record.body, "siren", "import_id", "source")
        if message is None:
            log.error("notice message without a commune or an import: dropped")
            continue
        directory_news.tell(message["siren"], message["import_id"], message["source"])
