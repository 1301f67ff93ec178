"""When a newer directory no longer holds an official's function, the orders concerned are flagged.

An order not yet in production is flagged for the commune and the card maker (the card would certify a function the
person no longer holds); a card already delivered is listed for the préfecture as to be returned.
"""
import logging

from pynamodb.exceptions import UpdateError

from .. import clock
from ..domain import functions, orders as lifecycle
from ..store.tables import Alert, CardOrder, DirectoryItem, Official
from . import directory

log = logging.getLogger(__name__)

NOT_YET_PRODUCED = {lifecycle.BROUILLON, lifecycle.EN_PREPARATION}
DELIVERED = {lifecycle.LIVREE, lifecycle.REMISE}


def review(persons: set[tuple[str, str]]) -> int:
    """``persons``: (INSEE code, person key) of the people some of whose directory rows just ended."""
    flagged = 0
    for insee_code, person_key in persons:
        try:
            marker = DirectoryItem.get(insee_code, directory.REGISTERED_PREFIX + person_key)
        except DirectoryItem.DoesNotExist:
            continue  # not registered by the commune: nothing to flag
        try:
            official = Official.get(marker.siren, person_key)
        except Official.DoesNotExist:
            continue
        rows = [r for r in DirectoryItem.query(insee_code, DirectoryItem.row_key.startswith(person_key + "#"))
                if r.status == "active"]
        still_eligible = rows and official.function in directory.merge_persons(rows)[0]["eligible_functions"]
        if still_eligible:
            continue
        now = clock.now()
        official.update(actions=[Official.mandate_ended_at.set(now)])
        label = functions.function_label(official.function, official.sex)
        for order_id in filter(None, {official.active_order_id, official.delivered_order_id}):
            flagged += _flag(order_id, official, label, now)
    return flagged


def _flag(order_public_id: str, official: Official, label: str, now) -> int:
    siren, _, order_id = order_public_id.partition("-")
    try:
        order = CardOrder.get(siren, order_id)
    except CardOrder.DoesNotExist:
        return 0
    name = f"{official.first_name} {official.last_name}"
    if order.status in NOT_YET_PRODUCED:
        alert = Alert(official_id=official.official_id, code="mandate_ended", at=now,
                      message=f"{name} n'est plus {label.lower()} d'après le répertoire national des élus : "
                              "vérifiez la demande avant sa fabrication.")
        actions = [CardOrder.alerts.set(CardOrder.alerts.append([alert]))]
    elif order.status in DELIVERED:
        alert = Alert(official_id=official.official_id, code="card_to_return", at=now,
                      message=f"Le mandat de {name} ({label.lower()}) a pris fin : la carte est à restituer à la "
                              "préfecture.")
        actions = [CardOrder.alerts.set(CardOrder.alerts.append([alert])),
                   CardOrder.return_department.set(order.department_code)]
    else:
        return 0
    if order.alerts is None:
        actions[0] = CardOrder.alerts.set([alert])
    try:
        order.update(actions=actions)
    except UpdateError:
        log.exception("order not flagged", extra={"order": order_public_id})
        return 0
    log.info("order flagged: mandate ended", extra={"order": order_public_id, "code": alert.code})
    return 1
