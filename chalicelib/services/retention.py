"""Personal data kept no longer than needed: the photos behind a closed order are deleted ``RETENTION`` after it closed.

When an order is handed over (« Remise à l'élu »), cancelled or rejected, the move that closes it also sets its
``purge_after`` (``CardOrder.move``, with the retention rule ``domain/orders.py: RETENTION``). A scheduled function (``events/schedule.py``, every hour) then deletes, for each
order past that moment (a query on the sparse ``by-purge`` index, never a scan):

- the numbered cards drawn for the card maker (``orders/...``);
- the official's photo, its original and its card preview, when they are still the ones the order was made with and no
  other order holds the official (a new order with the same photo keeps them: they are its photo now);
- the order's own references to them, so that no view hands out a link to a deleted file.

The official is then shown without a photo, with the reason. The order keeps the names, card numbers, history and
addresses: the préfecture and the card maker still need those (cards to return, monthly reports).

Deleting from S3 and writing DynamoDB cannot be one transaction, so the purge goes in steps that a retry completes:
(1) one transaction clears the officials' photo fields and the order's file references, and writes the keys left to
delete into the order (``purge_keys``; ``CardOrder.files_forgotten`` and ``Official.delete_photos`` say which); (2) S3 deletes those keys; (3) the order leaves the index. A run that fails
after (1) leaves the order in the index with its ``purge_keys``: the next run goes straight to (2). The data bucket has
no versioning (``infra/template.py``): a deleted object has no older version left behind.

Immediate deletion, when the commune removes an official, is ``officials.delete_official``'s.
"""
import logging

from .. import clock
from ..domain.changes import Conflict
from ..domain.orders import RETENTION, CardOrder
from .collaborators import Collaborators

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

ORDERS_PER_RUN = 500  # a run handles at most this many orders; the next run (an hour later) takes the rest
DELETED_REASON = ("La photo a été supprimée {days} jours après la clôture de la demande de carte, comme prévu pour "
                  "les données personnelles. Envoyez une nouvelle photo pour une prochaine carte.")


def run(c: Collaborators) -> dict:
    """Purges every closed order whose retention is over. Returns counts (for the logs and the tests)."""
    done = failed = 0
    for order in c.unit_of_work().orders.due_for_purge(c.now(), ORDERS_PER_RUN):
        try:
            purge_order(c, order)
            done += 1
        except Conflict:
            failed += 1  # an official changed under us: read again at the next run
    log.info("photo purge", extra={"event": "photo_purge", "orders": done, "postponed": failed})
    return {"orders": done, "postponed": failed}


def purge_order(c: Collaborators, order: CardOrder) -> None:
    if order.purge_keys is None:
        _forget_files(c, order)
    keys = list(order.purge_keys or [])
    c.files.delete_objects(keys)
    uow = c.unit_of_work()
    uow.add(order.photos_purged(c.now()))
    try:
        uow.commit()
    except Conflict:
        return  # a concurrent run (a retried invocation) finished it first
    audit.info("photos purged", extra={"event": "photos_purged", "order": order.public_id, "files": len(keys),
                                       "at": clock.iso(c.now())})


def _forget_files(c: Collaborators, order: CardOrder) -> None:
    """Step (1): one transaction that removes every reference to the files and records them in ``purge_keys``."""
    uow = c.unit_of_work()
    officials = uow.read([uow.officials.ref(order.siren, card.official_id) for card in order.cards])
    change, official_changes, _keys = order.files_forgotten(officials, DELETED_REASON.format(days=RETENTION.days))
    uow.add(change, *official_changes)
    uow.commit()  # Conflict: an official changed under us; the run postpones the order
