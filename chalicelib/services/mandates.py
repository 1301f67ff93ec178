"""When a newer directory no longer holds an official's function, the orders concerned are flagged.

An order not yet in production is flagged for the commune and the card maker (the card would certify a function the
person no longer holds); a card already delivered is listed for the préfecture as to be returned. Called by the
directory's import (``reference_imports.DirectoryWriter``) with the persons whose rows it ended; reads the directory
through ``directory``, which knows neither module.
"""
import logging

from .. import clock
from ..domain import cards as registry, webhooks
from ..domain.codes import department_of_commune
from ..domain.changes import Conflict
from ..domain.officials import HeldOfficial
from ..domain.roles import Principal
from ..store.tables import DirectoryItem
from ..store.unit_of_work import UnitOfWork
from ..wiring import collaborators
from . import directory, webhook_events

log = logging.getLogger(__name__)

# Who moves a card when the directory ends a mandate: the import itself, recorded as such in the card's history.
DIRECTORY = Principal("répertoire national des élus", "directory", None, None, "")


def review(persons: set[tuple[str, str]]) -> int:
    """``persons``: (INSEE code, person key) of the people some of whose directory rows just ended."""
    flagged = 0
    uow = UnitOfWork()
    for insee_code, person_key in persons:
        try:
            marker = DirectoryItem.get(insee_code, directory.REGISTERED_PREFIX + person_key)
        except DirectoryItem.DoesNotExist:
            continue  # not registered by the commune: nothing to flag
        official = uow.get(uow.officials.ref(marker.siren, person_key))
        if official is None:
            continue
        rows = [r for r in DirectoryItem.query(insee_code, DirectoryItem.row_key.startswith(person_key + "#"))
                if r.status == "active"]
        if rows and official.function in directory.merge_persons(rows)[0]["eligible_functions"]:
            continue
        now = clock.now()
        uow.add(official.mandate_ended(now))
        uow.commit()
        department = official.department_code or department_of_commune(insee_code)
        _emit(webhooks.official_mandate_ended(official, department, now))
        for order_id in filter(None, {official.active_order_id, official.delivered_order_id}):
            flagged += _flag(uow, order_id, official, now)
        _card_to_return(uow, official, now)
    return flagged


def _card_to_return(uow: UnitOfWork, official, now) -> None:
    """The card the official holds certifies a function they lost: in the registry, it is to be returned (the
    commune sees it in « Cartes », the préfecture in its list of cards to return)."""
    if official.held_card_status not in registry.VALID:
        return
    card = uow.get(uow.cards.ref(official.held_card_number))
    change = card.to_return(DIRECTORY, now, "Mandat terminé d'après le répertoire national des élus") if card else None
    if change is None:
        return
    uow.add(change, HeldOfficial(official.siren, official.official_id).held_card_moved(card.card_number,
                                                                                        registry.A_RESTITUER))
    source = card.status
    try:
        uow.commit()
    except Conflict:
        log.warning("card not set to return: it moved meanwhile", extra={"card": card.card_number})
        return
    _emit(webhooks.card_status_changed(card.card_number, card.siren, card.commune_name, card.department_code,
                                       card.order_id, card.official_id, source, registry.A_RESTITUER, now,
                                       official.insee_code))


def _emit(event: dict) -> None:
    """Told to the webhooks as the API's changes are (``services/webhook_events.py``); the directory's import runs
    outside any request, with the production collaborators."""
    webhook_events.emit(collaborators(), event)


def _flag(uow: UnitOfWork, order_public_id: str, official, now) -> int:
    siren, _, order_id = order_public_id.partition("-")
    order = uow.get(uow.orders.ref(siren, order_id))
    change = order.mandate_ended(official, now) if order else None
    if change is None:
        return 0
    uow.add(change)
    try:
        uow.commit()
    except Conflict:
        log.warning("order not flagged: it moved meanwhile", extra={"order": order_public_id})
        return 0
    log.info("order flagged: mandate ended", extra={"order": order_public_id, "code": change.sets["alerts"][-1].code})
    return 1
