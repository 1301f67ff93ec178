"""Card orders: a commune orders cards for some of its officials; the card maker and the préfecture move them on.

Each use case reads what it needs in one call, asks the order (``domain/orders.py``) and the officials
(``domain/officials.py``) what to change, and commits it as one write: the order alone, or one transaction with the
officials it takes or releases, or with the card-number counter. Every change relies on what was read (the order's
status, the officials' photo, function and free state), so two concurrent requests give one success and one refusal,
never a lost update. The views (JSON) are the API's (``api/views.py``).
"""
import logging
from datetime import datetime

from .. import clock
from ..domain import cards as registry, orders as lifecycle, stats, webhooks
from ..domain.cards import CardKey, RegisteredCard
from ..domain.changes import Conflict, Refused
from ..domain.officials import HeldOfficial
from ..domain.orders import CardOrder, officials_not_ready
from ..domain.roles import COMMUNE, PREFECTURE, Principal
from ..errors import PortalError
from . import cards, dashboards, webhook_events
from .collaborators import Collaborators

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

CARD_NUMBER_ATTEMPTS = 5
MAX_WRITES = 100  # in one DynamoDB transaction


def not_found() -> Refused:
    return Refused("not_found", "Cette demande n'existe pas.")


def _key(principal: Principal, order_public_id: str) -> tuple[str, str]:
    siren, _, order_id = order_public_id.partition("-")
    if not siren or not order_id or len(order_public_id) > 64:
        raise not_found()
    if principal.role == COMMUNE and siren != principal.siren:
        raise not_found()
    return siren, order_id


def _visible(principal: Principal, order: CardOrder | None) -> CardOrder:
    if order is None or not order.visible_to(principal):
        raise not_found()
    return order


def load(c: Collaborators, principal: Principal, order_public_id: str) -> CardOrder:
    """The order if the principal may see it: its own commune's, its département's, or any for the card maker."""
    uow = c.unit_of_work()
    return _visible(principal, uow.get(uow.orders.ref(*_key(principal, order_public_id))))


# --- commune side -------------------------------------------------------------------------------------------------

def create_order(c: Collaborators, principal: Principal, official_ids: list[str],
                 reasons: dict | None = None) -> CardOrder:
    """``reasons``: official id -> why the card is ordered (``domain/cards.py``); an official not named gets the
    reason that follows from the card they hold."""
    official_ids = list(dict.fromkeys(official_ids))
    if not 1 <= len(official_ids) <= lifecycle.MAX_CARDS:
        raise Refused("invalid_request", f"Une demande compte de 1 à {lifecycle.MAX_CARDS} élus.")
    reasons = reasons or {}
    uow = c.unit_of_work()
    # The officials and the préfecture's address in one read.
    # The officials, the préfecture's address and the commune (its agents, told of cards to return) in one read.
    *officials, address, commune = uow.read([uow.officials.ref(principal.siren, oid) for oid in official_ids]
                                            + [uow.prefectures.ref(principal.department_code),
                                               uow.communes.ref(principal.siren)], consistent=False)
    if None in officials:
        problems = []
        for oid, official in zip(official_ids, officials):
            problems += [{"official_id": oid, "code": "not_found", "message": "Élu inconnu dans votre commune."}] \
                if official is None else lifecycle.problems_of([official])
        raise officials_not_ready(problems)
    now = c.now()
    order = CardOrder.create(principal, officials, address.as_dict() if address else None, now,
                             reasons=[reasons.get(oid) for oid in official_ids])
    uow.add(order.created(), *order.takes(officials), *_replaced_cards(uow, principal, order, officials, now))
    try:
        uow.commit()
    except Conflict:
        # Another order took one of these officials, or their photo or function changed, between read and write.
        raise officials_not_ready([{"official_id": o.official_id, "code": "card_in_progress",
                                    "message": f"{o.first_name} {o.last_name} : une carte vient d'être demandée, ou "
                                               "sa photo ou sa fonction a changé."} for o in officials]) from None
    _audit(c, order, principal, None)
    replaced = [card for card in order.cards if card.replaces and card.reason in registry.REPLACES_VALID_CARD]
    if replaced:
        c.cards_to_return(order, replaced, commune.agent_emails if commune else frozenset())
        # the replaced card belongs to an earlier order, not read here: the event names the card and its official
        webhook_events.emit_all(c, [webhooks.card_status_changed(
            card.replaces, order.siren, order.commune_name, order.department_code, None, card.official_id,
            registry.REMISE, registry.A_RESTITUER, now, commune.insee_code if commune else None) for card in replaced])
    return order


def _replaced_cards(uow, principal: Principal, order: CardOrder, officials: list, now) -> list:
    """The valid cards the new ones replace (worn, another function, a new mandate) are to be returned: their
    registry records change in the order's transaction."""
    replacing = [o for o in officials if order.replaces_valid_card(o)]
    if not replacing:
        return []
    if 1 + len(officials) + len(replacing) > MAX_WRITES:
        raise Refused("invalid_request", f"Une demande compte au plus {MAX_WRITES - 1 - len(officials)} cartes de "
                      "remplacement avec ces élus : répartissez-les sur deux demandes.")
    # Written without reading them: each relies on the card still being « Remise » (the official's held card, read).
    return [CardKey(o.held_card_number, order.department_code).moved(
        registry.REMISE, registry.A_RESTITUER, principal, now,
        f"Remplacée ({registry.REASON_LABELS[order.card_of(o.official_id).reason].lower()}), demande {order.public_id}")
        for o in replacing]


def list_orders(c: Collaborators, principal: Principal, cursor: str | None,
                since: datetime | None = None) -> tuple[list, str | None]:
    return c.unit_of_work().orders.page_of_commune(principal.siren, cursor, since)


def submit(c: Collaborators, principal: Principal, order_public_id: str, acknowledged: bool) -> CardOrder:
    if acknowledged is not True:
        _key(principal, order_public_id)  # an unknown order is a 404 before anything else
        raise Refused("preview_not_acknowledged",
                      "Cochez la case confirmant que vous avez vu la prévisualisation des cartes.",
                      details={"preview_acknowledged": "Confirmation obligatoire."})
    return move(c, principal, order_public_id, lifecycle.EN_PREPARATION, None)


# --- every move ---------------------------------------------------------------------------------------------------

def move(c: Collaborators, principal: Principal, order_public_id: str, target: str, reason: str | None) -> CardOrder:
    """One move of the lifecycle. One read (the order, its commune for the notification, and the card-number counter
    when production starts) and one write (the order alone, or a transaction with the counter or the officials)."""
    siren, order_id = _key(principal, order_public_id)
    if target == lifecycle.REMISE:
        return _hand_over_all(c, principal, order_public_id)
    now = c.now()
    for _attempt in range(CARD_NUMBER_ATTEMPTS):
        uow = c.unit_of_work()
        refs = [uow.orders.ref(siren, order_id), uow.communes.ref(siren)]
        if target == lifecycle.EN_PRODUCTION:
            refs.append(uow.card_numbers.ref_year(now.year))
        order, commune, *numbers = uow.read(refs)
        order = _visible(principal, order)
        moved = order.move(target, principal, reason, now)
        uow.add(moved.change)
        if target == lifecycle.EN_PRODUCTION:
            counter = numbers[0] or lifecycle.CardNumbers(now.year)
            taken = order.number_cards(now.year, counter.count)
            moved.change.sets["cards"] = order.cards
            uow.add(counter.take(taken))
            # The registry's records, one per card, from its number on (domain/cards.py).
            uow.add(*[RegisteredCard.numbered(order, card, card.reason, card.replaces, principal, now).created()
                      for card in order.cards if card.going_on])
        elif target == lifecycle.LIVREE or (target == lifecycle.REJETEE and moved.source == lifecycle.EN_PRODUCTION):
            uow.add(*_cards_follow(order, target, principal, reason, now))
        if moved.releases_officials:
            uow.add(*order.releases(moved))  # part of the same all-or-nothing write
        try:
            uow.commit()
            break
        except Conflict as conflict:
            if target == lifecycle.EN_PRODUCTION and conflict.only_besides(kept=0, failed=1):
                # Another production took card numbers between our read and our write (its card records are refused
                # with the counter): our order is as we read it, so read the counter again.
                continue
            raise Refused("invalid_transition",
                          "La demande vient d'être modifiée par quelqu'un d'autre : rechargez la page.") from None
    else:
        raise PortalError(503, "service_unavailable",
                          "Le service est momentanément surchargé. Réessayez dans quelques secondes.",
                          headers={"Retry-After": "5"})
    _audit(c, order, principal, moved.source)
    # The move is recorded: what follows must not turn it into a failure.
    if target == lifecycle.EN_PRODUCTION:
        request_card_drawing(c, order)
    dashboards.count(c, stats.order_moved(order))
    # The order's move and its cards' in one send (services/webhook_events.py)
    cards_moved = []
    if target == lifecycle.EN_PRODUCTION:
        cards_moved = _cards_moved(order, commune, None, registry.EN_FABRICATION, now)
    elif target == lifecycle.LIVREE or (target == lifecycle.REJETEE and moved.source == lifecycle.EN_PRODUCTION):
        cards_moved = _cards_moved(order, commune, registry.EN_FABRICATION,
                                   registry.LIVREE if target == lifecycle.LIVREE else registry.DETRUITE, now)
    webhook_events.emit_all(c, [webhooks.order_status_changed(order, commune), *cards_moved])
    if moved.tells_commune:  # not a draft's cancellation: the commune was never told of the draft
        c.order_moved(order, reason, commune.agent_emails if commune else frozenset())
    return order


def _cards_moved(order: CardOrder, commune, source: str | None, status: str, now,
                 official_ids: set | None = None) -> list[dict]:
    """The registry's moves the order's own write made (``_cards_follow``, numbering), as the webhooks' events."""
    return [webhooks.card_status_changed(
        card.card_number, order.siren, order.commune_name, order.department_code, order.public_id, card.official_id,
        source, status, now, commune.insee_code if commune else None)
        for card in order.cards
        if card.card_number and (card.going_on if official_ids is None else card.official_id in official_ids)]


DRAFTS_PER_RUN = 500  # a run cancels at most this many drafts; the next run (an hour later) takes the rest


def expire_drafts(c: Collaborators) -> dict:
    """Cancels the drafts never sent ``lifecycle.DRAFT_LIFETIME`` after they were made, releasing their officials
    (``CardOrder.expire_draft``), without an email. The drafts are read from the « by-status » index (a query, never
    a scan); there are few of them, as none lives longer than a week."""
    now = c.now()
    done = postponed = 0
    cursor = None
    repository = c.unit_of_work().orders
    while done + postponed < DRAFTS_PER_RUN:
        page, cursor = repository.page_by_status(lifecycle.BROUILLON, cursor)
        for order in page:
            if not order.draft_expired(now):
                continue
            if _expire_draft(c, order, now):
                done += 1
            else:
                postponed += 1
        if not cursor:
            break
    log.info("drafts expired", extra={"event": "drafts_expired", "orders": done, "postponed": postponed})
    return {"orders": done, "postponed": postponed}


def _expire_draft(c: Collaborators, order: CardOrder, now) -> bool:
    """One write: the draft cancelled and its officials released; False when it changed since it was read (sent,
    cancelled by its commune): the next run reads it again."""
    moved = order.expire_draft(now)
    uow = c.unit_of_work()
    uow.add(moved.change, *order.releases(moved))
    try:
        uow.commit()
    except Conflict:
        return False
    audit.info("order moved", extra={"event": "order_moved", "order": order.public_id, "from": moved.source,
                                     "to": lifecycle.ANNULEE, "role": lifecycle.PORTAL, "by": lifecycle.PORTAL,
                                     "siren": order.siren, "at": clock.iso(now)})
    return True


def _cards_follow(order: CardOrder, target: str, principal: Principal, reason: str | None, now) -> list:
    """The registry follows the order, written without reading the cards: its cards are at the préfecture once
    delivered; the cards of an order rejected in production are destroyed by the card maker."""
    status, note = (registry.LIVREE, None) if target == lifecycle.LIVREE else \
        (registry.DETRUITE, f"Demande rejetée : {(reason or '').strip()}")
    return [CardKey(card.card_number, order.department_code).moved(registry.EN_FABRICATION, status, principal, now,
                                                                   note)
            for card in order.cards if card.card_number and card.going_on]


def _hand_over_all(c: Collaborators, principal: Principal, order_public_id: str) -> CardOrder:
    """« Remise à l'élu » on the whole order: its cards left, each to its official in person (services/cards.py)."""
    siren, order_id = _key(principal, order_public_id)
    uow = c.unit_of_work()
    order, commune = uow.read([uow.orders.ref(siren, order_id), uow.communes.ref(siren)])
    order = _visible(principal, order)
    lifecycle.check_move(order.status, lifecycle.REMISE, principal.role, None)
    return cards.hand_over_all(c, principal, order, commune)


def undo(c: Collaborators, principal: Principal, order_public_id: str) -> CardOrder:
    """The order's last move undone by the role that made it, within ``cards.UNDO_WINDOW``, when nothing depends on
    it (``CardOrder.UNDOABLE``); undoing « Livrée en préfecture » puts its cards back « En fabrication »."""
    siren, order_id = _key(principal, order_public_id)
    uow = c.unit_of_work()
    order = _visible(principal, uow.get(uow.orders.ref(siren, order_id)))
    now = c.now()
    change = order.undo(principal, now)
    undone = order.status
    uow.add(change)
    if undone == lifecycle.LIVREE:
        uow.add(*[CardKey(card.card_number, order.department_code).moved(
            registry.LIVREE, registry.EN_FABRICATION, principal, now, "Annulation de la réception")
            for card in order.cards if card.card_number and card.going_on])
    try:
        uow.commit()
    except Conflict:
        raise Refused("not_undoable", "La demande ou ses cartes ont changé depuis : l'étape ne peut plus être "
                      "annulée.") from None
    _audit(c, order, principal, undone)
    webhook_events.emit_all(c, [webhooks.order_status_changed(order), *(
        _cards_moved(order, None, registry.LIVREE, registry.EN_FABRICATION, now) if undone == lifecycle.LIVREE else [])])
    return order


def reject_photo(c: Collaborators, principal: Principal, order_public_id: str, official_id: str,
                 reason: str | None) -> CardOrder:
    """The card maker refuses one card's photo while the others of the order go on. One transaction: the order (the
    card leaves it; every photo refused: the order is rejected), the official (released, the photo refused), and the
    card's registry record when it was numbered (destroyed)."""
    siren, order_id = _key(principal, order_public_id)
    uow = c.unit_of_work()
    order, commune = uow.read([uow.orders.ref(siren, order_id), uow.communes.ref(siren)])
    order = _visible(principal, order)
    now = c.now()
    change = order.reject_photo(official_id, principal, reason, now)
    card = next(line for line in change.sets["cards"] if line.official_id == official_id)
    uow.add(change, HeldOfficial(siren, official_id).photo_refused(order.public_id, card.photo_rejected_reason))
    if card.card_number:  # in production: the card maker destroys what it may have printed
        uow.add(CardKey(card.card_number, order.department_code).moved(
            registry.EN_FABRICATION, registry.DETRUITE, principal, now, f"Photo refusée : {card.photo_rejected_reason}"))
    try:
        uow.commit()
    except Conflict:
        raise Refused("invalid_transition", "La demande vient d'être modifiée par quelqu'un d'autre : rechargez la "
                      "page.") from None
    audit.info("card photo rejected", extra={"event": "card_photo_rejected", "order": order.public_id,
                                             "official": official_id, "by": principal.email, "siren": siren,
                                             "at": clock.iso(now)})
    dashboards.count(c, stats.photo_refused(order, official_id, now))
    events = _cards_moved(order, commune, registry.EN_FABRICATION, registry.DETRUITE, now, {official_id}) \
        if card.card_number else []
    if order.status == lifecycle.REJETEE:  # every photo refused: the order is rejected with its last one
        dashboards.count(c, stats.order_moved(order))
        events.insert(0, webhooks.order_status_changed(order, commune))
    webhook_events.emit_all(c, events)
    c.order_moved(order, change.sets["alerts"][-1].message, commune.agent_emails if commune else frozenset())
    return order


def request_card_drawing(c: Collaborators, order: CardOrder) -> None:
    try:
        c.send_photo_task({"action": "render_cards", "siren": order.siren, "order_id": order.order_id})
    except Exception:  # noqa: BLE001 - the card maker's view asks again for cards still undrawn
        log.exception("card drawing not requested", extra={"order": order.public_id})


def redraw_missing_cards(c: Collaborators, order: CardOrder) -> None:
    """Production started a while ago and some cards are still undrawn (the request was lost): ask again."""
    if order.waits_for_drawing(c.now()):
        request_card_drawing(c, order)


def _audit(c: Collaborators, order: CardOrder, principal: Principal, source: str | None) -> None:
    audit.info("order moved", extra={"event": "order_moved", "order": order.public_id, "from": source,
                                     "to": order.status, "role": principal.role, "by": principal.email,
                                     "siren": order.siren, "at": clock.iso(c.now())})


# --- back office --------------------------------------------------------------------------------------------------

def admin_list(c: Collaborators, principal: Principal, status: str | None, department: str | None,
               cursor: str | None, since: datetime | None = None) -> tuple[list, str | None]:
    """Orders of a status and/or a département; with ``since``, those changed after it: a département's from its
    index by last change (oldest change first), the card maker's of one status nationally by a filter on the
    status's queue (docs/api.md)."""
    if principal.role == PREFECTURE:
        department = principal.department_code
    if status and status not in lifecycle.LABELS:
        raise Refused("invalid_request", "Statut inconnu.", details={"status": "Valeur non autorisée."})
    orders = c.unit_of_work().orders
    if since is not None and department:
        return orders.page_changed_in_department(department, since, status, cursor)
    if since is not None and status:
        return orders.page_by_status(status, cursor, since)
    if department and status:
        return orders.page_by_department_status(department, status, cursor)
    if department:
        return orders.page_by_department(department, cursor)
    if status:
        return orders.page_by_status(status, cursor)
    raise Refused("invalid_request", "Précisez un statut ou un département.",
                  details={"status": "Statut ou département requis."})
