"""Work that the API hands to the image function through its queue (re-crop, re-render a preview)."""
import json

from .. import aws


def send(queue: str, message: dict) -> None:
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(queue), MessageBody=json.dumps(message))

# Queue names are constants (Chalice reads its decorator arguments at import time); each stage has its own account.
IMPORTS_QUEUE = "carteselus-reference-imports"
PHOTOS_QUEUE = "carteselus-photos"
SYNCS_QUEUE = "carteselus-reference-syncs"  # a sync of the RNE with data.gouv.fr to run (services/reference_syncs.py)
