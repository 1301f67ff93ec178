"""The card registry's use cases: a commune's cards, the registry search, hand-over card by card, loss and theft,
return and destruction, the signed receipt.

Each use case reads the card with what it touches (its order, its official) in one call, asks the card
(``domain/cards.py``), the order and the official what to change, and writes it all in one transaction: the card's
status, the official's ``held_card_*`` and the order's lines never disagree. The moves the order drives (numbering at
production, delivery, destruction of a rejected order's cards) are written by ``services/orders.py`` in the order's
own transaction, with the records made here (``records_for_move``).
"""
import logging
import uuid
from datetime import date, datetime, timedelta

from .. import clock
from ..domain import cards as registry, file_types, orders as lifecycle, stats, webhooks
from ..domain.cards import CardKey, RegisteredCard, not_found
from ..domain.changes import Conflict, Refused
from ..domain.officials import HeldCard, HeldOfficial
from ..domain.roles import PREFECTURE, Principal
from ..errors import PortalError
from . import dashboards, webhook_events
from .collaborators import Collaborators

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

ATTEMPTS = 5  # two cards of one order handed over at once: the second reads the order again
CARDS_PER_WRITE = 49  # a transaction holds 100 writes: the order, and each card with its official
CARD_NUMBER_LENGTH = 40
RECEIPTS_PREFIX = "incoming/receipts/"  # outside the photos' prefix: no trigger, the API checks the file itself
KEPT_RECEIPTS_PREFIX = "cards/"
MAX_RECEIPT_BYTES = 10 * 1024 * 1024
RECEIPT_UPLOAD_LIFETIME = timedelta(minutes=10)


def _read_card(c: Collaborators, principal: Principal, number: str, *more) -> tuple:
    """The card if the principal may see it (else 404, as for a card that does not exist), and ``more`` refs read
    in the same call."""
    if not number or len(number) > CARD_NUMBER_LENGTH:
        raise not_found()
    uow = c.unit_of_work()
    card, *rest = uow.read([uow.cards.ref(number), *more])
    if card is None or not card.visible_to(principal):
        raise not_found()
    return (uow, card, *rest)


def get_card(c: Collaborators, principal: Principal, number: str) -> RegisteredCard:
    return _read_card(c, principal, number)[1]


# --- lists --------------------------------------------------------------------------------------------------------

def list_commune_cards(c: Collaborators, principal: Principal, status: str | None, official_id: str | None,
                       cursor: str | None, since: datetime | None = None) -> tuple[list, str | None]:
    _check_status(status)
    return c.unit_of_work().cards.page_of_commune(principal.siren, status, official_id, cursor, since)


def search(c: Collaborators, principal: Principal, number: str | None, status: str | None, department: str | None,
           cursor: str | None, since: datetime | None = None) -> tuple[list, str | None]:
    """The registry, for the préfecture (its département only) and the card maker (all): one card by its number, or
    the cards of one status; with ``since``, the cards changed after it (a département's from its index by last
    change, oldest first, of any status or one; nationally, those of one status: docs/api.md)."""
    if number:
        uow = c.unit_of_work()
        card = uow.get(uow.cards.ref(number.strip())) if len(number) <= CARD_NUMBER_LENGTH else None
        changed = card is not None and (since is None or card.updated_at > since)
        return ([card] if changed and card.visible_to(principal) else []), None
    _check_status(status)
    if principal.role == PREFECTURE:
        department = principal.department_code
    if since is not None and department:
        return c.unit_of_work().cards.page_changed_in_department(department, since, status, cursor)
    if not status:
        raise Refused("invalid_request", "Précisez un numéro de carte ou un statut.",
                      details={"status": "Numéro ou statut requis."})
    cards = c.unit_of_work().cards
    if department:
        return cards.page_by_department_status(department, status, cursor)
    return cards.page_by_status(status, cursor, since)


def to_return(c: Collaborators, principal: Principal, department: str | None, cursor: str | None):
    """The cards to give back to the préfecture (mandate ended, function changed, replaced after damage)."""
    if principal.role == PREFECTURE:
        department = principal.department_code
    if not department:
        raise Refused("invalid_request", "Précisez le département.", details={"department": "Département requis."})
    return c.unit_of_work().cards.page_by_department_status(department, registry.A_RESTITUER, cursor)


def _check_status(status: str | None) -> None:
    if status and status not in registry.LABELS:
        raise Refused("invalid_request", "Statut de carte inconnu.", details={"status": "Valeur non autorisée."})


# --- hand-over ----------------------------------------------------------------------------------------------------

def may_be_card_number(number: str) -> bool:
    """Whether a URL's number is worth reading with the session (``api.routing.endpoint(read_ahead=...)``): no read
    for a number no card can have."""
    return bool(number) and len(number) <= CARD_NUMBER_LENGTH


def hand_over(c: Collaborators, principal: Principal, number: str, mode: str,
              representative: dict | None, read_ahead: tuple = ()) -> RegisteredCard:
    """The préfecture hands one card over. One transaction: the card (« Remise », to whom, how), its official (no
    longer held by the order; the card is the one they hold) and its order (« Remise partielle » until its last
    card, then « Remise à l'élu »). Two reads: the card, then its order (the card names it); the card comes read
    with the session (``read_ahead``, from ``may_be_card_number``) when the route could, so the request makes three calls:
    session and card, order and commune, the transaction."""
    for attempt in range(ATTEMPTS):
        if attempt == 0 and read_ahead:
            uow, card = c.unit_of_work(), read_ahead[0]
            if card is None or card.card_number != number or not card.visible_to(principal):
                raise not_found()
        else:
            uow, card = _read_card(c, principal, number)
        siren, order_id = card.order_id.split("-", 1)
        # The commune too, for the notification: nothing is read once the write is done (a failure there would
        # answer 503 for a hand-over recorded, that a retry could not finish).
        order, commune = uow.read([uow.orders.ref(siren, order_id), uow.communes.ref(siren)])
        if order is None:
            raise not_found()
        now = c.now()
        change = card.hand_over_to(principal, mode, representative, now)
        order_change = order.cards_handed_over({card.card_number}, principal, now,
                                               change.sets["hand_over"]["representative"])
        uow.add(change, order_change, HeldOfficial(card.siren, card.official_id).card_handed_over(
            card.order_id, card.card_number, now))
        try:
            uow.commit()
        except Conflict as conflict:
            if conflict.index == 1:
                continue  # another card of the order was handed over meanwhile: read the order again
            raise Refused("already_handed_over", f"La carte n° {card.card_number} vient d'être modifiée par quelqu'un "
                          "d'autre : rechargez la page.") from None
        _audit(card, principal, "card_handed_over", mode=mode)
        _card_moved(c, card, registry.LIVREE, commune)
        if "status" in order_change.sets:
            _order_moved(c, order, commune, principal)
        return card
    raise PortalError(503, "service_unavailable", "Le service est momentanément surchargé. Réessayez dans quelques "
                      "secondes.", headers={"Retry-After": "5"})


def hand_over_all(c: Collaborators, principal: Principal, order, commune):
    """« Remise à l'élu » on the whole order: every card not handed over yet, to its official in person (the mayor
    and the deputies come together). Up to ``CARDS_PER_WRITE`` cards a transaction (each card and its official: two
    writes, plus the order), so an order of that size is handed over in one write, never seen « Remise partielle »."""
    attempts, fresh = 0, True  # the order and its commune as the caller just read them
    while attempts < ATTEMPTS:
        uow = c.unit_of_work()
        if not fresh:
            order, commune = uow.read([uow.orders.ref(order.siren, order.order_id), uow.communes.ref(order.siren)])
        fresh = False
        left = order.cards_left_to_hand_over()[:CARDS_PER_WRITE]
        if not left:
            return order
        now = c.now()
        order_change = order.cards_handed_over({line.card_number for line in left}, principal, now)
        # The cards are written without being read: each relies on still being « Livrée en préfecture ».
        uow.add(order_change, *[CardKey(line.card_number, order.department_code).handed_over(principal, now)
                                for line in left],
                *[HeldOfficial(order.siren, line.official_id).card_handed_over(order.public_id, line.card_number, now)
                  for line in left])
        try:
            uow.commit()
        except Conflict:
            attempts += 1  # a card of the order was handed over meanwhile: read again
            continue
        for line in left:
            audit.info("card handed over", extra={"event": "card_handed_over", "card": line.card_number,
                                                  "order": order.public_id, "status": registry.REMISE,
                                                  "role": principal.role, "by": principal.email, "siren": order.siren,
                                                  "at": clock.iso(now), "mode": registry.TITULAIRE})
        webhook_events.emit_all(c, [webhooks.card_status_changed(
            line.card_number, order.siren, order.commune_name, order.department_code, order.public_id,
            line.official_id, registry.LIVREE, registry.REMISE, now, commune.insee_code if commune else None)
            for line in left])
        if "status" in order_change.sets:
            _order_moved(c, order, commune, principal)
        if order.status == lifecycle.REMISE:
            return order  # as the write left it: nothing to read again
    raise PortalError(503, "service_unavailable", "Le service est momentanément surchargé. Réessayez dans quelques "
                      "secondes.", headers={"Retry-After": "5"})


def _order_moved(c: Collaborators, order, commune, principal: Principal) -> None:
    """The order as its last hand-over left it (the commit applied the change): audited and told as any move."""
    audit.info("order moved", extra={"event": "order_moved", "order": order.public_id, "to": order.status,
                                     "role": principal.role, "by": principal.email, "siren": order.siren,
                                     "at": clock.iso(c.now())})
    dashboards.count(c, stats.order_moved(order))
    webhook_events.emit(c, webhooks.order_status_changed(order, commune))
    c.order_moved(order, None, commune.agent_emails if commune else frozenset())


def _card_moved(c: Collaborators, card: RegisteredCard, source: str | None, commune=None) -> None:
    """A card's move, as its last history entry says, told to the webhooks (once the write is done)."""
    last = card.history[-1]
    webhook_events.emit(c, webhooks.card_status_changed(
        card.card_number, card.siren, card.commune_name, card.department_code, card.order_id, card.official_id,
        source, card.status, last.at, commune.insee_code if commune else None))


# --- the card's other moves ---------------------------------------------------------------------------------------

def declare(c: Collaborators, principal: Principal, number: str, kind: str, on: str, circumstances: str,
            police_report: str | None) -> RegisteredCard:
    """The commune declares a loss or a theft: the card is void for good, its official may be ordered a replacement,
    and the préfecture's agents are told."""
    try:
        day = date.fromisoformat(on)
    except (TypeError, ValueError):
        raise Refused("invalid_request", "La date de la perte ou du vol est invalide (format AAAA-MM-JJ).",
                      details={"date": "Date invalide."}) from None
    card = _move(c, principal, number, lambda card, now: card.declare(principal, kind, day, circumstances,
                                                                      police_report, now))
    _audit(card, principal, "card_declared", kind=kind)
    c.card_declared(card, _prefecture_agents(c, card.department_code))
    return card


def return_card(c: Collaborators, principal: Principal, number: str) -> RegisteredCard:
    card = _move(c, principal, number, lambda card, now: card.returned(principal, now))
    _audit(card, principal, "card_returned")
    return card


def destroy(c: Collaborators, principal: Principal, number: str) -> RegisteredCard:
    card = _move(c, principal, number, lambda card, now: card.destroyed(principal, now))
    _audit(card, principal, "card_destroyed")
    return card


def _move(c: Collaborators, principal: Principal, number: str, rule) -> RegisteredCard:
    """A move of one card, with the official's ``held_card_status`` when it is the card they hold: one transaction."""
    uow, card = _read_card(c, principal, number)
    official = uow.get(uow.officials.ref(card.siren, card.official_id))
    source = card.status
    change = rule(card, c.now())
    uow.add(change)
    if official is not None and official.held_card_number == card.card_number:
        uow.add(HeldOfficial(card.siren, card.official_id).held_card_moved(card.card_number, change.sets["status"]))
    try:
        uow.commit()
    except Conflict:
        raise Refused("invalid_card_transition", f"La carte n° {card.card_number} vient d'être modifiée par quelqu'un "
                      "d'autre : rechargez la page.") from None
    _card_moved(c, card, source)
    return card


def undo(c: Collaborators, principal: Principal, number: str) -> RegisteredCard:
    """A wrong move undone by the role that made it, within ``cards.UNDO_WINDOW``, when nothing depends on it yet:
    one transaction with the official (and, for a hand-over, the order). Refused, and nothing changed, otherwise."""
    uow, card = _read_card(c, principal, number)
    now = c.now()
    change = card.undo(principal, now)
    undone = card.history[-1].status
    siren, order_id = card.order_id.split("-", 1)
    # What the undo touches, in one read: the official, the order, the card they held before this one.
    official, order, replaced = uow.read([uow.officials.ref(card.siren, card.official_id),
                                          uow.orders.ref(siren, order_id),
                                          uow.cards.ref(card.replaces or card.card_number)])
    held = HeldOfficial(card.siren, card.official_id)
    uow.add(change)
    if undone == registry.REMISE:
        previous = None
        if card.replaces and replaced is not None:  # the card the official held before is theirs again
            previous = HeldCard(replaced.card_number, replaced.status, replaced.handed_over_at)
        uow.add(order.hand_over_undone(card.card_number, principal, now),
                held.hand_over_undone(card.order_id, card.card_number, previous))
    elif official is not None and official.held_card_number == card.card_number:
        uow.add(held.held_card_moved(card.card_number, change.sets["status"]))
    if undone in registry.DECLARED and official is not None and official.active_order_id:
        raise Refused("not_undoable", f"Une nouvelle carte est déjà commandée pour {card.first_name} {card.last_name} : "
                      "la déclaration ne peut plus être annulée.")
    try:
        uow.commit()
    except Conflict:
        raise Refused("not_undoable", f"La carte n° {card.card_number} ou son élu ont changé depuis : l'opération ne "
                      "peut plus être annulée.") from None
    _audit(card, principal, "card_move_undone", undone=undone)
    _card_moved(c, card, undone)
    if undone == registry.REMISE and order.history and order.history[-1].at == now:
        webhook_events.emit(c, webhooks.order_status_changed(order))  # the order went back a status with its card
    return card


def _prefecture_agents(c: Collaborators, department_code: str) -> list[str]:
    try:
        return c.unit_of_work().prefecture_agents(department_code)
    except Exception:  # noqa: BLE001 - the declaration is recorded; the préfecture also finds it in the registry
        log.exception("préfecture agents not read", extra={"department": department_code})
        return []


# --- the signed receipt -------------------------------------------------------------------------------------------

def start_receipt_upload(c: Collaborators, principal: Principal, number: str) -> dict:
    """A presigned POST for the scan of the receipt the official or the representative signed."""
    _uow, card = _read_card(c, principal, number)
    card.receipt_attached(principal, "")  # refused now rather than after the upload
    upload_id = uuid.uuid4().hex
    post = c.files.presigned_post(f"{RECEIPTS_PREFIX}{card.card_number}/{upload_id}", MAX_RECEIPT_BYTES, None,
                                  RECEIPT_UPLOAD_LIFETIME)
    return {"upload_id": upload_id, "url": post["url"], "fields": post["fields"], "expires_at": post["expires_at"],
            "max_bytes": MAX_RECEIPT_BYTES}


def attach_receipt(c: Collaborators, principal: Principal, number: str, upload_id: str) -> RegisteredCard:
    """The uploaded scan, checked (a PDF or a JPEG, at most 10 Mo: the presigned POST's conditions are not trusted)
    and kept with the card; a file refused is deleted."""
    uow, card = _read_card(c, principal, number)
    if not upload_id or not upload_id.isalnum() or len(upload_id) > 64:
        raise Refused("not_found", "Ce fichier n'a pas été reçu : envoyez-le à nouveau.")
    key = f"{RECEIPTS_PREFIX}{card.card_number}/{upload_id}"
    previous = card.receipt_key
    try:
        found = c.files.read_head(key)
        if found is None:
            raise Refused("not_found", "Ce fichier n'a pas été reçu : envoyez-le à nouveau.")
        size, head = found
        if size > MAX_RECEIPT_BYTES:
            raise Refused("file_too_large", f"Le fichier dépasse {MAX_RECEIPT_BYTES // (1024 * 1024)} Mo : "
                          "numérisez le récépissé en plus basse résolution.")
        if file_types.is_pdf(head):
            suffix = ".pdf"
        elif file_types.is_jpeg(head):
            suffix = ".jpg"
        else:
            raise Refused("invalid_file_type", "Le récépissé signé doit être un PDF ou une image JPEG.")
        kept = f"{KEPT_RECEIPTS_PREFIX}{card.card_number}/receipt-{upload_id}{suffix}"
        uow.add(card.receipt_attached(principal, kept, c.now()))
        c.files.copy_object(key, kept, "application/pdf" if suffix == ".pdf" else "image/jpeg")
        try:
            uow.commit()
        except Conflict:
            c.files.delete_objects([kept])
            raise Refused("invalid_card_transition", "La carte vient d'être modifiée : rechargez la page.") from None
    finally:
        c.files.delete_objects([key])
    if previous and previous != kept:
        c.files.delete_objects([previous])  # a new scan replaces the previous one
    _audit(card, principal, "card_receipt_attached")
    return card


def _audit(card: RegisteredCard, principal: Principal, event: str, **extra) -> None:
    audit.info(event.replace("_", " "), extra={"event": event, "card": card.card_number, "order": card.order_id,
                                               "status": card.status, "role": principal.role, "by": principal.email,
                                               "siren": card.siren, "at": clock.iso(clock.now()), **extra})
