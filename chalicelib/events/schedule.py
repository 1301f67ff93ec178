"""Scheduled work: every hour, the cancellation of the drafts never sent for a week, which releases their officials
(``services/orders.py: expire_drafts``), then the purge of the photos of closed orders (``services/retention.py``);
every day, the sync of the RNE files with data.gouv.fr (``services/reference_syncs.py``).

A sync, daily or requested by an operator (``POST /admin/reference-syncs``), runs in its own function, reached through
its queue: the download of a whole-country file does not fit in the API's 29 seconds, and the queue retries a worker
that died. Locally, ``local/`` runs the scheduled handlers on a timer (``chalice local`` has no schedules) and relays
the queue to the worker.
"""
import logging

from chalice import Blueprint, Rate

from ..domain.changes import Refused
from ..services import declarations, orders, reference_syncs, retention
from ..store.queues import SYNCS_QUEUE
from ..wiring import collaborators
from .messages import fields_of

log = logging.getLogger(__name__)

schedule = Blueprint(__name__)


@schedule.schedule(Rate(1, unit=Rate.HOURS), description="Cancels the drafts never sent for 7 days (their officials "
                   "released) and deletes the photos of orders closed 30 days ago")
def purge_personal_data(event):
    c = collaborators()
    # Both keep no order longer than its use: a draft holds officials, a closed order holds photos.
    drafts = orders.expire_drafts(c)
    return {**retention.run(c), "drafts_cancelled": drafts["orders"]}


@schedule.schedule(Rate(1, unit=Rate.DAYS), description="Requests the daily sync of the RNE files with data.gouv.fr "
                   "and flags the declared officials still absent from the directory after 90 days")
def sync_reference_files(event):
    declarations.link_all(collaborators())  # also after each directory import (events/uploads.py)
    try:
        return reference_syncs.request_sync(reference_syncs.SCHEDULE)
    except Refused:
        log.info("reference sync already running: the daily one is skipped")
        return None


@schedule.on_sqs_message(queue=SYNCS_QUEUE, batch_size=1)
def run_reference_sync(event):
    """The sync worker: downloads what changed on data.gouv.fr and hands it to the import."""
    for record in event:
        message = fields_of(record.body, "sync_id")
        if message is None:
            log.error("sync message without a sync id: dropped")
            continue
        reference_syncs.run_sync(message["sync_id"])
