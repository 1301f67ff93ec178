"""The JSON the API answers with, beside the schemas it must match (``api/schemas.py``; a test checks every answer
against its route's schema). Links to stored files are short-lived presigned URLs, made here, at the edge."""
from .. import clock
from ..domain import api_clients, cards as registry, functions, orders as lifecycle, photo_checks
from ..domain.officials import DECLARATION_LABELS, DECLARED, READY, Official
from ..domain.orders import CardOrder
from ..domain.roles import COMMUNE, MANUFACTURER, PREFECTURE
from ..services.directory import directory_id
from ..store import files


def page(items: list, next_cursor: str | None, view, *args) -> dict:
    return {"items": [view(item, *args) for item in items], "next": next_cursor}


# --- officials ----------------------------------------------------------------------------------------------------

def official(o: Official) -> dict:
    photo = {"status": o.photo_status}
    if o.photo_reason and o.photo_status in ("rejected", "missing"):  # missing: deleted, and why
        photo["reason"] = o.photo_reason
    if o.photo_key:
        photo["url"] = files.presigned_get(o.photo_key)
        photo["crop"] = dict(o.crop) if o.crop else None
    photo["ready"] = o.photo_key is not None
    if o.photo_checks is not None and o.photo_key:
        photo["checks"] = [dict(c) for c in o.photo_checks]
        photo["blocking"] = photo_checks.blocks_ordering(o.photo_checks)
    if o.proposed_crop:
        photo["proposed_crop"] = dict(o.proposed_crop)
    preview = {"status": o.preview_status}
    if o.preview_key and o.preview_status == READY:
        preview["url"] = files.presigned_get(o.preview_key)
    return {
        "id": o.official_id, "directory_id": directory_id(o.insee_code, o.official_id),
        "last_name": o.last_name, "first_name": o.first_name, "sex": o.sex,
        "birth_date": o.birth_date, "mandate_start": o.mandate_start,
        "function": o.function, "function_label": functions.function_label(o.function, o.sex),
        "eligible_functions": [{"code": f, "label": functions.function_label(f, o.sex)} for f in o.eligible_functions],
        "photo": photo, "preview": preview, "card_in_progress": o.active_order_id is not None,
        "mandate_ended": o.mandate_ended_at is not None,
        # The card the official holds, as the registry says (a valid one is not ordered again without a reason).
        "card": {"number": o.held_card_number, "status": o.held_card_status,
                 "status_label": registry.LABELS[o.held_card_status],
                 "handed_over_at": clock.iso(o.held_card_handed_over_at)} if o.held_card_number else None,
        "created_at": clock.iso(o.created_at), "updated_at": clock.iso(o.changed_at),
        "origin": o.origin, "declaration": declaration(o),
    }


def declaration(o: Official) -> dict | None:
    """A declared official's declaration, as the commune follows it."""
    if o.origin != DECLARED:
        return None
    return {"status": o.declaration_status, "status_label": DECLARATION_LABELS[o.declaration_status],
            "reason": o.declaration_reason, "election_date": o.election_date,
            "proof_id": o.proof_key.rsplit("/proof-", 1)[-1].removesuffix(".pdf") if o.proof_key else None,
            "linked_to_directory": o.rne_linked_at is not None}


def declaration_item(o: Official) -> dict:
    """A declaration as the préfecture reviews it, with a short-lived link to its procès-verbal."""
    return {
        "siren": o.siren, "official_id": o.official_id, "commune_label": o.commune_label,
        "insee_code": o.insee_code, "last_name": o.last_name, "first_name": o.first_name, "sex": o.sex,
        "birth_date": o.birth_date, "election_date": o.election_date, "function": o.function,
        "function_label": functions.function_label(o.function, o.sex), "status": o.declaration_status,
        "status_label": DECLARATION_LABELS[o.declaration_status], "reason": o.declaration_reason,
        "declared_at": clock.iso(o.created_at),
        "proof_url": files.presigned_get(o.proof_key) if o.proof_key else None,
        "overdue": o.overdue_flagged_at is not None,
    }


def official_export(o: Official, rows: list, orders: list[CardOrder], now) -> dict:
    """Everything the portal holds about one official (the right of access): links valid ``files.URL_LIFETIME``."""
    # The original upload is not offered: it is kept only for re-crops (stripped of its metadata), and what the
    # portal holds of the person's face is the ID photo and the card preview made from it.
    photo_files = {name: files.presigned_get(key) for name, key in (
        ("photo", o.photo_key), ("card_preview", o.preview_key)) if key}
    ordered = []
    for order in orders:
        card = order.card_of(o.official_id)
        if card is None:
            continue
        ordered.append({
            "id": order.public_id, "status": order.status, "status_label": lifecycle.LABELS[order.status],
            "created_at": clock.iso(order.created_at),
            "card": {"function": card.function, "function_label": functions.function_label(card.function, card.sex),
                     "card_number": card.card_number, "last_name": card.last_name, "first_name": card.first_name,
                     "mandate_start": card.mandate_start, "photo_kept": card.photo_key is not None},
            "history": history(order),
            "delivery_address": order.delivery_address,
            "photos_to_be_deleted_at": clock.iso(order.purge_after),
            "photos_deleted_at": clock.iso(order.photos_deleted_at),
        })
    return {
        "generated_at": clock.iso(now),
        "official": {**official(o), "registered_at": clock.iso(o.created_at), "commune": o.commune_label,
                     "department": o.department_label, "mandate_ended_at": clock.iso(o.mandate_ended_at)},
        "directory_rows": [{"source": row.source, "last_name": row.last_name, "first_name": row.first_name,
                            "sex": row.sex, "birth_date": row.birth_date, "mandate_start": row.mandate_start,
                            "function": row.function_label, "commune": row.commune_label,
                            "department": row.department_label, "status": row.status,
                            "ended_at": clock.iso(row.ended_at)} for row in rows],
        "photo_files": photo_files,
        "photo_files_expire_at": clock.iso(now + files.URL_LIFETIME) if photo_files else None,
        "orders": ordered,
    }


# --- orders -------------------------------------------------------------------------------------------------------

def _link(key: str | None, links: bool) -> str | None:
    return files.presigned_get(key) if key and links else None


def order(o: CardOrder, role: str, links: bool = True) -> dict:
    """``links=False``: without the files' short-lived links (a spreadsheet keeps none; its writer may not read the
    files)."""
    cards = []
    for card in o.cards:
        entry = {
            "official_id": card.official_id, "last_name": card.last_name, "first_name": card.first_name,
            "function": card.function, "function_label": functions.function_label(card.function, card.sex),
            "preview": {"status": "ready", "url": _link(card.preview_key, links)} if card.preview_key
            else {"status": "missing"},
        }
        if card.card_number:
            entry["card_number"] = card.card_number
        else:
            entry["card_number_label"] = o.card_number_label(card)
        entry["reason"], entry["reason_label"] = card.reason, registry.REASON_LABELS[card.reason]
        if card.replaces:
            entry["replaces"] = card.replaces
        if card.handed_over_at:
            entry["handed_over_at"] = clock.iso(card.handed_over_at)
        if card.photo_rejected_at:
            entry["photo_rejected"] = {"reason": card.photo_rejected_reason, "at": clock.iso(card.photo_rejected_at)}
        if role == MANUFACTURER:
            # What the photo assistant said of the photo ordered: the card maker checks those first.
            entry["photo_checks"] = [dict(c) for c in card.photo_checks or []
                                     if c.get("level") in (photo_checks.ERROR, photo_checks.WARNING)]
            if card.photo_key and links:  # None once the photos are purged
                entry["photo_url"] = files.presigned_get(card.photo_key)  # audited by the route that shows it
            if card.card_key and links:
                entry["card_url"] = files.presigned_get(card.card_key)
        cards.append(entry)
    return {
        "id": o.public_id, "status": o.status, "status_label": lifecycle.LABELS[o.status],
        "siren": o.siren, "commune_name": o.commune_name, "department_code": o.department_code,
        "created_at": clock.iso(o.created_at), "updated_at": clock.iso(o.updated_at),
        "cards": cards, "delivery_address": o.delivery_address,
        "history": history(o),
        "alerts": [{"official_id": a.official_id, "code": a.code, "message": a.message, "at": clock.iso(a.at)}
                   for a in o.alerts or []],
        # When the photos behind a closed order go, and when they went (services/retention.py).
        "photos_deleted_at": clock.iso(o.photos_deleted_at),
        "photos_to_be_deleted_at": clock.iso(o.purge_after),
        "allowed_moves": [{"to": m, "label": lifecycle.LABELS[m], "reason_required": lifecycle.MOVES[m].reason_required}
                          for m in o.allowed_moves(role)],
        "undo": _undo(o.undoable_by(role, clock.now()), lambda e: lifecycle.LABELS[e.status]),
    }


def history(o: CardOrder) -> list[dict]:
    return [{"status": h.status, "status_label": lifecycle.LABELS[h.status], "at": clock.iso(h.at),
             "by_role": h.by_role, **_program(h.by), **({"reason": h.reason} if h.reason else {})} for h in o.history]


def _program(by: str | None) -> dict:
    """``{"by_program": "API : <name>"}`` for a step a program made (domain/api_clients.py): the commune sees which of its
    software did it. A person's email is not shown in histories."""
    return {"by_program": by} if by and by.startswith(api_clients.API_LABEL_PREFIX) else {}


# --- the card registry --------------------------------------------------------------------------------------------

def card(c, role: str, links: bool = True) -> dict:
    """A card of the registry as ``role`` sees it, with the moves that role may take on it now (``actions``);
    ``links=False`` as for ``order``."""
    hand_over = None
    if c.hand_over:
        hand_over = {"mode": c.hand_over["mode"], "mode_label": registry.HAND_OVER_MODES[c.hand_over["mode"]],
                     "representative": c.hand_over.get("representative"), "at": clock.iso(c.hand_over["at"])}
    declaration = None
    if c.declaration:
        declaration = {**{k: c.declaration.get(k) for k in ("kind", "date", "circumstances", "police_report")},
                       "at": clock.iso(c.declaration["at"])}
    return {
        "number": c.card_number, "status": c.status, "status_label": c.label, "official_id": c.official_id,
        "last_name": c.last_name, "first_name": c.first_name, "function": c.function,
        "function_label": functions.function_label(c.function, c.sex), "siren": c.siren,
        "commune_name": c.commune_name, "department_code": c.department_code, "order_id": c.order_id,
        "reason": c.reason, "reason_label": registry.REASON_LABELS[c.reason], "replaces": c.replaces,
        "created_at": clock.iso(c.created_at), "updated_at": clock.iso(c.updated_at),
        "hand_over": hand_over, "declaration": declaration,
        "receipt_url": _link(c.receipt_key, links) if role != COMMUNE else None,
        "history": [{"status": e.status, "status_label": registry.LABELS[e.status], "at": clock.iso(e.at),
                     "by_role": e.by_role, **_program(e.by), "note": e.note} for e in c.history],
        "actions": card_actions(c, role),
        "undo": _undo(c.undoable_by(role, clock.now()), lambda e: registry.LABELS[e.status]),
    }


def _undo(last, label) -> dict | None:
    """The move the caller may still undo, and until when (``cards.UNDO_WINDOW``)."""
    if last is None:
        return None
    return {"label": label(last), "until": clock.iso(last.at + registry.UNDO_WINDOW)}


def card_actions(c, role: str) -> list[str]:
    """What the site offers on the card, from the registry's rules (``domain/cards.py``): the same table decides."""
    actions = [name for name, target in (("hand_over", registry.REMISE), ("declare", registry.PERDUE),
                                         ("return", registry.RESTITUEE), ("destroy", registry.DETRUITE))
               if registry.MOVES[target].role == role and c.status in registry.MOVES[target].sources]
    if role == PREFECTURE and c.hand_over:
        actions.append("attach_receipt")
    return actions


# --- what a directory import changed for the commune -------------------------------------------------------------

def directory_notice(notice) -> dict:
    """``notice``: a ``domain.directory_news.DirectoryNotice``."""
    def lines(items):
        return [{"name": i.name, "function_label": i.function_label, "directory_id": i.directory_id,
                 "registered": i.registered, "order_id": i.order_id, "card_number": i.card_number} for i in items]

    return {"id": notice.notice_id, "created_at": clock.iso(notice.created_at), "source": notice.source,
            "source_label": notice.source_label,
            "newly_eligible": lines(notice.newly_eligible), "cards_to_return": lines(notice.cards_to_return),
            "orders_flagged": lines(notice.orders_flagged)}
