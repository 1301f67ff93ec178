"""Personal data kept no longer than needed: the photos behind a closed order are deleted ``RETENTION`` after it closed.

When an order is handed over (« Remise à l'élu »), cancelled or rejected, the move that closes it also sets its
``purge_after`` (``schedule_actions``). A scheduled function (``events/schedule.py``, every hour) then deletes, for each
order past that moment (a query on the sparse ``by-purge`` index, never a scan):

- the numbered cards drawn for the card maker (``orders/...``);
- the official's photo, its original and its card preview, when they are still the ones the order was made with and no
  other order holds the official (a new order with the same photo keeps them: they are its photo now);
- the order's own references to them, so that no view hands out a link to a deleted file.

The official is then shown without a photo, with the reason. The order keeps the names, card numbers, history and
addresses: the préfecture and the card maker still need those (cards to return, monthly reports).

Deleting from S3 and writing DynamoDB cannot be one transaction, so the purge goes in steps that a retry completes:
(1) one transaction clears the officials' photo fields and the order's file references, and writes the keys left to
delete into the order (``purge_keys``); (2) S3 deletes those keys; (3) the order leaves the index. A run that fails
after (1) leaves the order in the index with its ``purge_keys``: the next run goes straight to (2). The data bucket has
no versioning (``infra/template.py``): a deleted object has no older version left behind.

Immediate deletion, when the commune removes an official, is ``officials.delete_official``'s.
"""
import logging
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from .. import clock
from ..store import files
from ..store.batch import Wanted, get_many
from ..store.tables import CardOrder, Official, is_condition_failure, transaction

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

# Long enough for a card lost or faulty at hand-over to be reported and drawn again from the same photo; short enough
# that a town hall's photos do not outlive their use. Documented in docs/orders.md and docs/security.md.
RETENTION = timedelta(days=30)
DUE = "due"
ORDERS_PER_RUN = 500  # a run handles at most this many orders; the next run (an hour later) takes the rest
DELETED_REASON = ("La photo a été supprimée {days} jours après la clôture de la demande de carte, comme prévu pour "
                  "les données personnelles. Envoyez une nouvelle photo pour une prochaine carte.")


def schedule_actions(closed_at: datetime) -> list:
    """The update actions that put a closing order in the purge's queue."""
    return [CardOrder.purge_queue.set(DUE), CardOrder.purge_after.set(closed_at + RETENTION)]


def run() -> dict:
    """Purges every closed order whose retention is over. Returns counts (for the logs and the tests)."""
    done = failed = 0
    now = clock.now()
    for order in CardOrder.by_purge.query(DUE, CardOrder.purge_after <= now, limit=ORDERS_PER_RUN):
        try:
            purge_order(order)
            done += 1
        except _Raced:
            failed += 1  # an official changed under us: read again at the next run
    log.info("photo purge", extra={"event": "photo_purge", "orders": done, "postponed": failed})
    return {"orders": done, "postponed": failed}


class _Raced(Exception):
    pass


def purge_order(order: CardOrder) -> None:
    if order.purge_keys is None:
        _forget_files(order)
    keys = list(order.purge_keys or [])
    files.delete_objects(keys)
    try:
        order.update(actions=[CardOrder.purge_queue.remove(), CardOrder.purge_after.remove(),
                              CardOrder.purge_keys.remove(), CardOrder.photos_deleted_at.set(clock.now())],
                     condition=CardOrder.purge_queue.exists())
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        return  # a concurrent run (a retried invocation) finished it first

    audit.info("photos purged", extra={"event": "photos_purged", "order": f"{order.siren}-{order.order_id}",
                                       "files": len(keys), "at": clock.iso(clock.now())})


def _forget_files(order: CardOrder) -> None:
    """Step (1): one transaction that removes every reference to the files and records them in ``purge_keys``."""
    officials = get_many([Wanted(Official, order.siren, card.official_id) for card in order.cards])
    keys: list[str] = []
    official_updates = []
    for card, official in zip(order.cards, officials):
        current = {official.photo_key, official.original_key, official.preview_key} if official else set()
        keys.append(card.card_key)
        if official is not None and card.photo_key and official.photo_key == card.photo_key \
                and not official.active_order_id:
            keys += [official.photo_key, official.original_key, official.preview_key]
            official_updates.append((official, card.photo_key))
        else:
            # The official is gone (their files went with them), has a newer photo, or a new order holds this one.
            keys += [key for key in (card.photo_key, card.preview_key) if key not in current]
        card.photo_key = card.preview_key = card.card_key = None
    keys = sorted({key for key in keys if key})
    reason = DELETED_REASON.format(days=RETENTION.days)
    try:
        with transaction() as writes:
            writes.update(order, actions=[CardOrder.cards.set(list(order.cards)), CardOrder.purge_keys.set(keys)],
                          condition=CardOrder.purge_queue.exists() & CardOrder.purge_keys.does_not_exist())
            for official, photo_key in official_updates:
                writes.update(official, actions=[
                    Official.photo_status.set("missing"), Official.photo_reason.set(reason),
                    Official.photo_key.remove(), Official.original_key.remove(), Official.preview_key.remove(),
                    Official.preview_status.set("missing"), Official.crop.remove(), Official.photo_checks.remove(),
                    Official.proposed_crop.remove(),
                ], condition=(Official.photo_key == photo_key) & Official.active_order_id.does_not_exist())
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise _Raced() from None
    order.purge_keys = keys
