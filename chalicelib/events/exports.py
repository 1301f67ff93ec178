"""The national lists' files, written in the background (services/exports.py): the API records the request and queues
it, this worker writes the file. SQS delivers at least once: a file already finished is not written again; a worker
that fails leaves the message to come back (three times, then the dead-letter queue), and the last one's failure is
recorded for the person following the file."""
import logging

from chalice import Blueprint

from ..api.exports import national_table  # the lists' columns and reads, as their routes have them
from ..services import exports
from ..store.queues import EXPORTS_QUEUE
from .messages import fields_of

log = logging.getLogger(__name__)

# At most this many files written at once: each reads a national list page after page, and a morning of requests must
# not take DynamoDB's read capacity or the account's concurrency from the API (2 is SQS's lowest maximum).
EXPORTS_MAX_CONCURRENCY = 2

list_files = Blueprint(__name__)


@list_files.on_sqs_message(queue=EXPORTS_QUEUE, batch_size=1, maximum_concurrency=EXPORTS_MAX_CONCURRENCY)
def write_list_exports(event):
    for record in event:
        message = fields_of(record.body, "export_id")
        if message is None:
            log.error("list export message without an export id: dropped")
            continue
        outcome = exports.run_export(message["export_id"], national_table)
        log.info("list export", extra={"export_id": message["export_id"], "outcome": outcome})
