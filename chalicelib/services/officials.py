"""The elected officials a commune registers for a card: from the directory, with a function and a photo."""
import logging
import secrets
import time
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from .. import clock
from ..domain import functions, orders as lifecycle, photo_checks
from ..domain.roles import Principal
from ..errors import PortalError
from ..store import counters, files, queues
from ..store.batch import Wanted, get_many
from ..store.counters import Limit
from ..store.tables import CardOrder, DirectoryItem, Official, PhotoUpload, is_condition_failure, transaction
from . import directory, limits, orders as order_service

audit = logging.getLogger("portal.audit")

MAX_PHOTO_BYTES = 10 * 1024 * 1024  # stated to the browser in the presigned POST and checked again by the trigger
UPLOAD_LIFETIME = timedelta(minutes=10)
# A commune may start 300 photo uploads an hour (a large city registers its whole council in one sitting).
UPLOADS = Limit("uploads", attempts=300, window_seconds=3600)


def not_found() -> PortalError:
    return PortalError(404, "not_found", "Cet élu n'est pas enregistré dans votre commune.")


def card_in_progress() -> PortalError:
    return PortalError(409, "card_in_progress",
                       "Une carte est en cours de commande pour cet élu : attendez sa remise ou annulez la demande.")


def attempt_id() -> str:
    """Time-ordered, so that a late event of an older upload never replaces a newer photo."""
    return f"{time.time_ns() // 1_000_000:013d}{secrets.token_hex(4)}"


def get_official(principal: Principal, official_id: str) -> Official:
    try:
        return Official.get(principal.siren, official_id)
    except Official.DoesNotExist:
        raise not_found() from None


def view(official: Official) -> dict:
    photo = {"status": official.photo_status}
    if official.photo_reason and official.photo_status in ("rejected", "missing"):  # missing: deleted, and why
        photo["reason"] = official.photo_reason
    if official.photo_key:
        photo["url"] = files.presigned_get(official.photo_key)
        photo["crop"] = dict(official.crop.as_dict()) if official.crop else None
    photo["ready"] = official.photo_key is not None
    if official.photo_checks is not None and official.photo_key:
        photo["checks"] = [dict(c) for c in official.photo_checks]
        photo["blocking"] = photo_checks.blocks_ordering(official.photo_checks)
    if official.proposed_crop:
        photo["proposed_crop"] = official.proposed_crop.as_dict()
    preview = {"status": official.preview_status}
    if official.preview_key and official.preview_status == "ready":
        preview["url"] = files.presigned_get(official.preview_key)
    return {
        "id": official.official_id,
        "directory_id": directory.directory_id(official.insee_code, official.official_id),
        "last_name": official.last_name, "first_name": official.first_name, "sex": official.sex,
        "birth_date": official.birth_date, "mandate_start": official.mandate_start,
        "function": official.function, "function_label": functions.function_label(official.function, official.sex),
        "eligible_functions": [{"code": f, "label": functions.function_label(f, official.sex)}
                               for f in official.eligible_functions],
        "photo": photo, "preview": preview, "card_in_progress": official.active_order_id is not None,
        "mandate_ended": official.mandate_ended_at is not None,
        "created_at": clock.iso(official.created_at),
    }


def _check_function(function: str, eligible: list[str], sex: str) -> None:
    if function not in eligible:
        allowed = ", ".join(functions.function_label(f, sex) for f in eligible) or "aucune"
        raise PortalError(422, "function_not_eligible",
                          f"Cet élu ne peut pas recevoir de carte pour cette fonction. Fonctions possibles : {allowed}.",
                          details={"function": "Fonction non ouverte à cet élu."})


def register_official(principal: Principal, directory_id_: str, function: str) -> dict:
    person = directory.find_person(principal, directory_id_)
    _check_function(function, person["eligible_functions"], person["sex"])
    official = Official(
        principal.siren, person["person_key"], insee_code=person["insee_code"], last_name=person["last_name"],
        first_name=person["first_name"], sex=person["sex"], birth_date=person["birth_date"],
        mandate_start=person["mandate_start"], function=function, eligible_functions=person["eligible_functions"],
        commune_label=person["commune_label"], department_label=person["department_label"] or "",
        created_at=clock.now(),
    )
    marker = DirectoryItem(person["insee_code"], directory.REGISTERED_PREFIX + person["person_key"],
                           person_key=person["person_key"], siren=principal.siren)
    try:
        with transaction() as writes:
            writes.save(official, condition=Official.official_id.does_not_exist())
            writes.save(marker)
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise PortalError(409, "already_registered", "Cet élu est déjà enregistré.") from None
    return view(official)


def list_officials(principal: Principal) -> dict:
    officials = list(Official.query(principal.siren))
    officials.sort(key=lambda o: (functions.FUNCTIONS.index(o.function), o.last_name, o.first_name))
    return {"items": [view(o) for o in officials], "next": None}


def change_function(principal: Principal, official_id: str, function: str) -> dict:
    official = get_official(principal, official_id)
    _check_function(function, official.eligible_functions, official.sex)
    if official.function == function:
        if official.photo_key and official.preview_status == "processing":
            _request_preview(principal.siren, official_id)  # a request interrupted after the change: finish it
        return view(official)
    actions = [Official.function.set(function)]
    if official.photo_key:
        actions.append(Official.preview_status.set("processing"))
    try:
        official.update(actions=actions, condition=Official.active_order_id.does_not_exist())
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        raise card_in_progress() from None
    if official.photo_key:
        _request_preview(principal.siren, official_id)
    return view(official)


def _request_preview(siren: str, official_id: str) -> None:
    queues.send(queues.PHOTOS_QUEUE, {"action": "render_preview", "siren": siren, "official_id": official_id})


def delete_official(principal: Principal, official_id: str) -> None:
    official = get_official(principal, official_id)
    if official.active_order_id:
        raise card_in_progress()
    # Photos first: if anything fails midway the official is still there, and deleting again finishes the work.
    files.delete_prefix(official_prefix(principal.siren, official_id))
    files.delete_prefix(f"{files.PHOTOS_PREFIX}{principal.siren}/{official_id}/")
    try:
        with transaction() as writes:
            writes.delete(official, condition=Official.active_order_id.does_not_exist())
            writes.delete(DirectoryItem(official.insee_code, directory.REGISTERED_PREFIX + official_id))
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        raise card_in_progress() from None


def official_prefix(siren: str, official_id: str) -> str:
    return f"{files.OFFICIALS_PREFIX}{siren}/{official_id}/"


# --- photos -------------------------------------------------------------------------------------------------------

def _valid_crop(crop: dict) -> dict:
    if crop["width"] <= 0 or crop["height"] <= 0 or crop["x"] < 0 or crop["y"] < 0:
        raise PortalError(400, "invalid_crop", "Le cadrage de la photo est invalide.",
                          details={"crop": "Largeur et hauteur positives, position dans l'image."})
    return {k: int(crop[k]) for k in ("x", "y", "width", "height")}


def start_photo_upload(principal: Principal, official_id: str, crop: dict | None) -> dict:
    crop = _valid_crop(crop) if crop else None
    official, uploads = get_many([Wanted(Official, principal.siren, official_id),
                                  counters.wanted(UPLOADS, principal.siren)], consistent=False)
    if official is None:
        raise not_found()
    if official.active_order_id:
        raise card_in_progress()  # the card is made from the photo the commune acknowledged
    limits.check((UPLOADS, uploads))
    attempt = attempt_id()
    key = f"{files.PHOTOS_PREFIX}{principal.siren}/{official_id}/{attempt}.jpg"
    now = clock.now()
    with transaction() as writes:
        counters.count_in(writes, UPLOADS, principal.siren)
        writes.save(PhotoUpload(key, siren=principal.siren, official_id=official_id, attempt_id=attempt, crop=crop,
                                created_at=now, purge_at=now + timedelta(days=2)))
    post = files.presigned_post(key, MAX_PHOTO_BYTES, "image/jpeg", UPLOAD_LIFETIME)
    return {"upload_id": attempt, "url": post["url"], "fields": post["fields"], "expires_at": post["expires_at"],
            "max_bytes": MAX_PHOTO_BYTES}


def recrop(principal: Principal, official_id: str, crop: dict) -> dict:
    official = get_official(principal, official_id)
    if not official.original_key:
        raise PortalError(409, "no_original", "Aucune photo n'a encore été envoyée pour cet élu.")
    if official.active_order_id:
        raise card_in_progress()
    crop = _valid_crop(crop)
    official.update(actions=[Official.photo_status.set("processing"), Official.photo_reason.remove()])
    queues.send(queues.PHOTOS_QUEUE, {"action": "recrop", "siren": principal.siren, "official_id": official_id,
                                      "attempt_id": attempt_id(), "crop": crop})
    return view(official)


# --- the right of access: everything the portal holds about one official ------------------------------------------

def export(principal: Principal, official_id: str) -> dict:
    """What the portal holds about one official, for the commune to hand over or keep before removing them: the
    registered record, the directory rows it came from, the photo files (links valid ``files.URL_LIFETIME``) and every
    order of the commune with a card for them."""
    official = get_official(principal, official_id)
    rows = DirectoryItem.query(official.insee_code, DirectoryItem.row_key.startswith(official_id + "#"))
    photo_files = {name: files.presigned_get(key) for name, key in (
        ("original", official.original_key), ("photo", official.photo_key), ("card_preview", official.preview_key))
        if key}
    orders = []
    for order in CardOrder.query(principal.siren, scan_index_forward=False):
        card = next((c for c in order.cards if c.official_id == official_id), None)
        if card is None:
            continue
        orders.append({
            "id": order_service.public_id(order), "status": order.status,
            "status_label": lifecycle.LABELS[order.status], "created_at": clock.iso(order.created_at),
            "card": {"function": card.function, "function_label": functions.function_label(card.function, card.sex),
                     "card_number": card.card_number, "last_name": card.last_name, "first_name": card.first_name,
                     "mandate_start": card.mandate_start, "photo_kept": card.photo_key is not None},
            "history": order_service.history_view(order),
            "delivery_address": order.delivery_address.as_dict() if order.delivery_address else None,
            "photos_to_be_deleted_at": clock.iso(order.purge_after),
            "photos_deleted_at": clock.iso(order.photos_deleted_at),
        })
    audit.info("official exported", extra={"event": "official_exported", "siren": principal.siren,
                                           "official": official_id, "by": principal.email,
                                           "at": clock.iso(clock.now())})
    return {
        "generated_at": clock.iso(clock.now()),
        "official": {**view(official), "registered_at": clock.iso(official.created_at),
                     "commune": official.commune_label, "department": official.department_label,
                     "mandate_ended_at": clock.iso(official.mandate_ended_at)},
        "directory_rows": [{"source": row.source, "last_name": row.last_name, "first_name": row.first_name,
                            "sex": row.sex, "birth_date": row.birth_date, "mandate_start": row.mandate_start,
                            "function": row.function_label, "commune": row.commune_label,
                            "department": row.department_label, "status": row.status,
                            "ended_at": clock.iso(row.ended_at)} for row in rows],
        "photo_files": photo_files,
        "photo_files_expire_at": clock.iso(clock.now() + files.URL_LIFETIME) if photo_files else None,
        "orders": orders,
    }
