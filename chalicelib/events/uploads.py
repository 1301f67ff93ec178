"""S3 events, delivered through SQS queues (retries and a dead-letter queue come with them).

S3 -> SQS -> Lambda rather than S3 -> Lambda: `chalice package` can build the SQS wiring, a failed import or photo is
retried and, if it keeps failing, parked in the dead-letter queue instead of lost. Locally the relay in ``local/`` reads
the same queues and calls these same handlers.
"""
import json
import logging
from urllib.parse import unquote_plus

from chalice import Blueprint

from ..services import declarations, photos, reference_imports
from ..store.queues import IMPORTS_QUEUE, PHOTOS_QUEUE
from ..wiring import collaborators

log = logging.getLogger(__name__)

events = Blueprint(__name__)

# How many functions each queue may run at once (the SQS event source's maximum concurrency: messages past it wait in
# the queue, they are neither throttled nor sent to the dead-letter queue). Sized in docs/performance.md (capacity):
# the post-election wave's busiest minutes need about 3 image functions at once; 10 leaves room and keeps a burst of
# uploads from taking the account's concurrency (1,000 by default) or DynamoDB's capacity from the API. Imports are a
# few files a day, each its own long function: 2 (the councillors' and the mayors' files together).
PHOTOS_MAX_CONCURRENCY = 10
IMPORTS_MAX_CONCURRENCY = 2


def s3_object_keys(sqs_body: str) -> list[tuple[str, str]]:
    """(bucket, key) of each object-created record in an S3 notification; S3's test event and other events yield none."""
    try:
        notification = json.loads(sqs_body)
    except ValueError:
        log.error("SQS message is not JSON: dropped")
        return []
    if not isinstance(notification, dict) or notification.get("Event") == "s3:TestEvent":
        return []
    keys = []
    for record in notification.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        # S3 URL-encodes keys in events (a space arrives as "+").
        keys.append((s3.get("bucket", {}).get("name", ""), unquote_plus(s3.get("object", {}).get("key", ""))))
    return keys


@events.on_sqs_message(queue=IMPORTS_QUEUE, batch_size=1, maximum_concurrency=IMPORTS_MAX_CONCURRENCY)
def import_reference_file(event):
    for record in event:
        for _bucket, key in s3_object_keys(record.body):
            reference_imports.run_import(key)
            if reference_imports.is_directory_file(key):
                declarations.link_all(collaborators())  # the directory may now list officials declared before it


@events.on_sqs_message(queue=PHOTOS_QUEUE, batch_size=1, maximum_concurrency=PHOTOS_MAX_CONCURRENCY)
def process_photo_event(event):
    """The image function: photos arriving in S3, and re-crop / re-render requests from the API."""
    c = collaborators()
    for record in event:
        message = _json(record.body)
        if isinstance(message, dict) and message.get("action") == "recrop":
            photos.recrop(c, message["siren"], message["official_id"], message["attempt_id"], message["crop"])
        elif isinstance(message, dict) and message.get("action") == "render_preview":
            photos.rerender_preview(c, message["siren"], message["official_id"])
        elif isinstance(message, dict) and message.get("action") == "render_cards":
            photos.render_order_cards(c, message["siren"], message["order_id"])
        else:
            for _bucket, key in s3_object_keys(record.body):
                if declarations.is_proof(key):  # a procès-verbal d'élection, sent like a photo
                    declarations.process_proof(c, key)
                else:
                    photos.process_upload(c, key)


def _json(body: str):
    try:
        return json.loads(body)
    except ValueError:
        return None
