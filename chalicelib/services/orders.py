"""Card orders: a commune orders cards for some of its officials; the card maker and the préfecture move them on.

Every move is one conditional write (the order's status must still be the one the move starts from) or one
transaction when officials are taken or released, so two concurrent moves give one success and one 409, never a lost
update. An official belongs to at most one order that is neither cancelled, rejected nor handed over: creating an
order sets ``active_order_id`` on each official under the condition that it has none, in the same transaction.
"""
import base64
import json
import logging
import secrets
import time

from pynamodb.exceptions import TransactWriteError, UpdateError

from .. import clock
from ..domain import functions, orders as lifecycle, photo_checks
from ..domain.roles import COMMUNE, MANUFACTURER, PREFECTURE, Principal
from ..errors import PortalError
from ..store import files, queues
from ..store.batch import Wanted, get_many
from ..store.tables import (CardLine, CardOrder, Commune, Counter, HistoryEntry, Official, Prefecture,
                            is_condition_failure, transaction)
from . import notifications, retention

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

MAX_CARDS = 99  # a DynamoDB transaction holds 100 writes: the order and one per official
PAGE_SIZE = 50


def not_found() -> PortalError:
    return PortalError(404, "not_found", "Cette demande n'existe pas.")


def public_id(order: CardOrder) -> str:
    return f"{order.siren}-{order.order_id}"


def new_order_id() -> str:
    return f"{time.time_ns() // 1_000_000:013d}{secrets.token_hex(4)}"


def address_of(prefecture: Prefecture | None) -> dict | None:
    """Where the cards of a département are delivered: its préfecture (None until the reference file has it)."""
    if prefecture is None:
        return None
    return {"name": prefecture.name, "address": prefecture.address, "postal_code": prefecture.postal_code,
            "city": prefecture.city}


# --- views --------------------------------------------------------------------------------------------------------

def view(order: CardOrder, role: str) -> dict:
    cards = []
    for card in order.cards:
        entry = {
            "official_id": card.official_id, "last_name": card.last_name, "first_name": card.first_name,
            "function": card.function, "function_label": functions.function_label(card.function, card.sex),
            "preview": {"status": "ready", "url": files.presigned_get(card.preview_key)} if card.preview_key
            else {"status": "missing"},
        }
        if card.card_number:
            entry["card_number"] = card.card_number
        if role == MANUFACTURER:
            if card.photo_key:  # None once the photos are purged
                entry["photo_url"] = files.presigned_get(card.photo_key)  # audited by the route that shows it
            if card.card_key:
                entry["card_url"] = files.presigned_get(card.card_key)
        cards.append(entry)
    return {
        "id": public_id(order), "status": order.status, "status_label": lifecycle.LABELS[order.status],
        "siren": order.siren, "commune_name": order.commune_name, "department_code": order.department_code,
        "created_at": clock.iso(order.created_at), "updated_at": clock.iso(order.updated_at),
        "cards": cards, "delivery_address": order.delivery_address.as_dict() if order.delivery_address else None,
        "history": history_view(order),
        "alerts": [{"official_id": a.official_id, "code": a.code, "message": a.message, "at": clock.iso(a.at)}
                   for a in order.alerts or []],
        # When the photos behind a closed order go, and when they went (services/retention.py).
        "photos_deleted_at": clock.iso(order.photos_deleted_at),
        "photos_to_be_deleted_at": clock.iso(order.purge_after),
        "allowed_moves": [{"to": m, "label": lifecycle.LABELS[m], "reason_required": lifecycle.MOVES[m].reason_required}
                          for m in lifecycle.allowed_moves(order.status, role)],
    }


def history_view(order: CardOrder) -> list[dict]:
    return [{"status": h.status, "status_label": lifecycle.LABELS[h.status], "at": clock.iso(h.at),
             "by_role": h.by_role, **({"reason": h.reason} if h.reason else {})} for h in order.history]


def _history(status: str, principal: Principal, reason: str | None = None) -> HistoryEntry:
    return HistoryEntry(status=status, at=clock.now(), by_role=principal.role, by=principal.email,
                        reason=reason.strip() if reason else None)


# --- finding an order ---------------------------------------------------------------------------------------------

def _key(principal: Principal, order_public_id: str) -> tuple[str, str]:
    siren, _, order_id = order_public_id.partition("-")
    if not siren or not order_id or len(order_public_id) > 64:
        raise not_found()
    if principal.role == COMMUNE and siren != principal.siren:
        raise not_found()
    return siren, order_id


def _visible(principal: Principal, order: CardOrder | None) -> CardOrder:
    if order is None or (principal.role == PREFECTURE and order.department_code != principal.department_code):
        raise not_found()
    return order


def load(principal: Principal, order_public_id: str) -> CardOrder:
    """The order if the principal may see it: its own commune's, its département's, or any for the card maker."""
    siren, order_id = _key(principal, order_public_id)
    try:
        order = CardOrder.get(siren, order_id, consistent_read=True)
    except CardOrder.DoesNotExist:
        order = None
    return _visible(principal, order)


# --- commune side -------------------------------------------------------------------------------------------------

def create_order(principal: Principal, official_ids: list[str]) -> dict:
    official_ids = list(dict.fromkeys(official_ids))
    if not 1 <= len(official_ids) <= MAX_CARDS:
        raise PortalError(400, "invalid_request", f"Une demande compte de 1 à {MAX_CARDS} élus.")
    # The officials and the préfecture's address in one read.
    *read, prefecture = get_many([Wanted(Official, principal.siren, oid) for oid in official_ids]
                                 + [Wanted(Prefecture, principal.department_code)], consistent=False)
    found = {o.official_id: o for o in read if o is not None}
    problems = []
    for oid in official_ids:
        official = found.get(oid)
        if official is None:
            problems.append({"official_id": oid, "code": "not_found", "message": "Élu inconnu dans votre commune."})
        elif not official.photo_key:
            problems.append({"official_id": oid, "code": "photo_not_ready",
                             "message": f"{official.first_name} {official.last_name} : la photo n'est pas prête."})
        elif official.active_order_id:
            problems.append({"official_id": oid, "code": "card_in_progress",
                             "message": f"{official.first_name} {official.last_name} : une carte est déjà en cours."})
        elif official.preview_status != "ready":
            problems.append({"official_id": oid, "code": "photo_not_ready",
                             "message": f"{official.first_name} {official.last_name} : l'aperçu de la carte est en "
                                        "cours de préparation, réessayez dans quelques secondes."})
        elif photo_checks.blocks_ordering(official.photo_checks):
            reasons = " ".join(c["message"] for c in photo_checks.blocking_checks(official.photo_checks))
            problems.append({"official_id": oid, "code": "photo_not_conforming",
                             "message": f"{official.first_name} {official.last_name} : la photo ne convient pas. "
                                        f"{reasons}"})
    if problems:
        raise _not_ready(problems)
    officials = [found[oid] for oid in official_ids]
    department_code = principal.department_code
    now = clock.now()
    order = CardOrder(
        principal.siren, new_order_id(), status=lifecycle.BROUILLON, department_code=department_code,
        department_status=f"{department_code}#{lifecycle.BROUILLON}", commune_name=officials[0].commune_label,
        created_at=now, updated_at=now,
        cards=[CardLine(official_id=o.official_id, last_name=o.last_name, first_name=o.first_name, sex=o.sex,
                        function=o.function, mandate_start=o.mandate_start, department_label=o.department_label,
                        photo_key=o.photo_key, preview_key=o.preview_key) for o in officials],
        history=[_history(lifecycle.BROUILLON, principal)],
        delivery_address=address_of(prefecture),
    )
    try:
        with transaction() as writes:
            writes.save(order, condition=CardOrder.order_id.does_not_exist())
            for official in officials:
                # The card copies the official as read: nothing of it may have changed since (a function changed
                # at the same moment would leave the card with the old function and a preview about to be deleted).
                writes.update(official, actions=[Official.active_order_id.set(public_id(order))],
                              condition=Official.active_order_id.does_not_exist()
                              & (Official.photo_key == official.photo_key) & (Official.function == official.function)
                              & (Official.preview_key == official.preview_key)
                              & (Official.preview_status == "ready"))
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        # Another order took one of these officials, or its photo or function changed, between our read and our
        # write.
        raise _not_ready([{"official_id": o.official_id, "code": "card_in_progress",
                           "message": f"{o.first_name} {o.last_name} : une carte vient d'être demandée, ou sa photo "
                                      "ou sa fonction a changé."} for o in officials]) from None
    _audit(order, principal, None)
    return view(order, principal.role)


def _not_ready(problems: list[dict]) -> PortalError:
    return PortalError(422, "officials_not_ready", "Certains élus ne peuvent pas être commandés pour l'instant.",
                       details=problems)


def list_orders(principal: Principal, cursor: str | None) -> dict:
    query = CardOrder.query(principal.siren, scan_index_forward=False, limit=PAGE_SIZE,
                            last_evaluated_key=_decode_cursor(cursor, siren=principal.siren))
    return _page(query, principal.role)


def submit(principal: Principal, order_public_id: str, acknowledged: bool) -> dict:
    if acknowledged is not True:
        _key(principal, order_public_id)  # an unknown order is a 404 before anything else
        raise PortalError(422, "preview_not_acknowledged",
                          "Cochez la case confirmant que vous avez vu la prévisualisation des cartes.",
                          details={"preview_acknowledged": "Confirmation obligatoire."})
    return move(principal, order_public_id, lifecycle.EN_PREPARATION, None)


# --- every move ---------------------------------------------------------------------------------------------------

CARD_NUMBER_ATTEMPTS = 5


def move(principal: Principal, order_public_id: str, target: str, reason: str | None) -> dict:
    """One move of the lifecycle. One read (the order, its commune for the notification, and the card-number counter
    when production starts) and one write (the order alone, or a transaction with the counter or the officials)."""
    siren, order_id = _key(principal, order_public_id)
    year = clock.now().year
    for _attempt in range(CARD_NUMBER_ATTEMPTS):
        wanted = [Wanted(CardOrder, siren, order_id), Wanted(Commune, siren)]
        if target == lifecycle.EN_PRODUCTION:
            wanted.append(Wanted(Counter, _card_counter_key(year)))
        order, commune, *counter = get_many(wanted)
        order = _visible(principal, order)
        try:
            lifecycle.check_move(order.status, target, principal.role, reason)
        except lifecycle.MoveRefused as refused:
            raise PortalError(409 if refused.code == "invalid_transition" else 422, refused.code, str(refused)) \
                from None
        source = order.status
        try:
            _write_move(principal, order, target, reason, year, counter[0] if counter else None)
            break
        except _CounterMoved:
            continue  # another order took card numbers between our read and our write: read again
    else:
        raise PortalError(503, "service_unavailable", "Le service est momentanément surchargé. Réessayez dans quelques secondes.",
                          headers={"Retry-After": "5"})
    _audit(order, principal, source)
    # The move is recorded: what follows must not turn it into a failure.
    if target == lifecycle.EN_PRODUCTION:
        request_card_drawing(order)
    notifications.order_moved(order, reason, commune.agent_emails if commune else None)
    return view(order, principal.role)


class _CounterMoved(Exception):
    pass


def _write_move(principal: Principal, order: CardOrder, target: str, reason: str | None, year: int,
                counter: Counter | None) -> None:
    """Writes the move under the condition that the order is still in the status it was read in, and leaves
    ``order`` as written."""
    entry = _history(target, principal, reason)
    actions = [CardOrder.status.set(target), CardOrder.department_status.set(f"{order.department_code}#{target}"),
               CardOrder.updated_at.set(entry.at), CardOrder.history.set(CardOrder.history.append([entry]))]
    condition = CardOrder.status == order.status
    try:
        if target == lifecycle.EN_PRODUCTION:
            # Card numbers, unique nationwide (<year>-<sequence>), taken in the same transaction as the move: the
            # counter must still hold what we read, so two productions starting together cannot share numbers, and
            # a refused move takes none.
            taken = int(counter.count or 0) if counter else 0
            for offset, card in enumerate(order.cards):
                card.card_number = f"{year}-{taken + 1 + offset:07d}"
            with transaction() as writes:
                writes.update(order, actions=actions + [CardOrder.cards.set(list(order.cards))], condition=condition)
                writes.update(Counter(_card_counter_key(year)),
                              actions=[Counter.count.set(taken + len(order.cards))],
                              condition=(Counter.count == taken) if counter else Counter.key.does_not_exist())
        elif target in lifecycle.FINAL:
            # Releasing the officials is part of the same all-or-nothing write, and so is the date from which the
            # order's photos are to be deleted.
            with transaction() as writes:
                writes.update(order, actions=actions + retention.schedule_actions(entry.at), condition=condition)
                for card in order.cards:
                    released = [Official.active_order_id.remove()]
                    if target == lifecycle.REMISE:
                        released.append(Official.delivered_order_id.set(public_id(order)))
                    writes.update(Official(order.siren, card.official_id), actions=released,
                                  condition=Official.active_order_id == public_id(order))
        else:
            order.update(actions=actions, condition=condition)  # PynamoDB refreshes ``order`` from the write
            return
    except (UpdateError, TransactWriteError) as error:
        if not is_condition_failure(error):
            raise
        if target == lifecycle.EN_PRODUCTION and _failed_on(error, 1):
            raise _CounterMoved() from None
        raise PortalError(409, "invalid_transition",
                          "La demande vient d'être modifiée par quelqu'un d'autre : rechargez la page.") from None
    # A transaction reads nothing back: the order as it was just written.
    order.status, order.updated_at = target, entry.at
    order.department_status = f"{order.department_code}#{target}"
    order.history = list(order.history) + [entry]


def _failed_on(error: TransactWriteError, index: int) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    return len(reasons) > index and reasons[index] is not None and reasons[index].code == "ConditionalCheckFailed" \
        and all(r is None or r.code != "ConditionalCheckFailed" for i, r in enumerate(reasons) if i != index)


def _card_counter_key(year: int) -> str:
    return f"card-number#{year}"


def request_card_drawing(order: CardOrder) -> None:
    try:
        queues.send(queues.PHOTOS_QUEUE, {"action": "render_cards", "siren": order.siren, "order_id": order.order_id})
    except Exception:  # noqa: BLE001 - the card maker's view asks again for cards still undrawn
        log.exception("card drawing not requested", extra={"order": public_id(order)})


def redraw_missing_cards(order: CardOrder) -> None:
    """Production started a while ago and some cards are still undrawn (the request was lost): ask again."""
    if order.status in (lifecycle.EN_PRODUCTION, lifecycle.EN_LIVRAISON) and \
            any(card.card_number and not card.card_key for card in order.cards) and \
            (clock.now() - order.updated_at).total_seconds() > 120:
        request_card_drawing(order)


def _audit(order: CardOrder, principal: Principal, source: str | None) -> None:
    audit.info("order moved", extra={"event": "order_moved", "order": public_id(order), "from": source,
                                     "to": order.status, "role": principal.role, "by": principal.email,
                                     "siren": order.siren, "at": clock.iso(clock.now())})


# --- back office --------------------------------------------------------------------------------------------------

def admin_list(principal: Principal, status: str | None, department: str | None, cursor: str | None) -> dict:
    if principal.role == PREFECTURE:
        department = principal.department_code
    if status and status not in lifecycle.LABELS:
        raise PortalError(400, "invalid_request", "Statut inconnu.", details={"status": "Valeur non autorisée."})
    if department and status:
        start = _decode_cursor(cursor, department_status=f"{department}#{status}")
        query = CardOrder.by_department_status.query(f"{department}#{status}", limit=PAGE_SIZE,
                                                     last_evaluated_key=start)
    elif department:
        start = _decode_cursor(cursor, department_code=department)
        query = CardOrder.by_department.query(department, limit=PAGE_SIZE, last_evaluated_key=start,
                                              scan_index_forward=False)
    elif status:
        query = CardOrder.by_status.query(status, limit=PAGE_SIZE, last_evaluated_key=_decode_cursor(cursor,
                                                                                                     status=status))
    else:
        raise PortalError(400, "invalid_request", "Précisez un statut ou un département.",
                          details={"status": "Statut ou département requis."})
    return _page(query, principal.role)


def cards_to_return(principal: Principal, department: str | None, cursor: str | None) -> dict:
    """Delivered cards whose mandate ended: the préfecture gets them back."""
    if principal.role == PREFECTURE:
        department = principal.department_code
    if not department:
        raise PortalError(400, "invalid_request", "Précisez le département.",
                          details={"department": "Département requis."})
    query = CardOrder.by_return.query(department, limit=PAGE_SIZE,
                                      last_evaluated_key=_decode_cursor(cursor, return_department=department))
    return _page(query, principal.role)


def _page(query, role: str) -> dict:
    items = [view(order, role) for order in query]
    return {"items": items, "next": _encode_cursor(query.last_evaluated_key)}


def _encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, **partition) -> dict | None:
    """The start key of the next page; refused unless it is a key of the very partition being listed, so a forged
    cursor can neither reach another commune's or département's orders nor make DynamoDB fail."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, dict) or not all(isinstance(v, dict) and set(v) == {"S"} for v in key.values()):
            raise ValueError
        if any(key.get(name, {}).get("S") != value for name, value in partition.items()):
            raise ValueError
        if not {"siren", "order_id"} <= set(key):
            raise ValueError
        return key
    except (ValueError, UnicodeDecodeError):
        raise PortalError(400, "invalid_cursor", "Le curseur de pagination est invalide.") from None
