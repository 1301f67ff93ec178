"""The elected officials a commune registers for a card: from the directory, with a function and a photo.

The rules are the official's (``domain/officials.py``); each use case here reads, asks the official, and commits
the change it answers as one conditional write (``store/unit_of_work.py``). The views (JSON) are the API's.
"""
import logging
from datetime import datetime, timedelta

from .. import clock
from ..domain import limits
from ..domain.changes import Conflict, Refused
from ..domain.ids import time_ordered_id
from ..domain.limits import Limit
from ..domain.officials import Official, PhotoUpload, Registration, card_in_progress, display_order
from ..domain.roles import Principal
from .collaborators import Collaborators

audit = logging.getLogger("portal.audit")

MAX_PHOTO_BYTES = 10 * 1024 * 1024  # stated to the browser in the presigned POST and checked again by the trigger
UPLOAD_LIFETIME = timedelta(minutes=10)
# A commune may start 300 photo uploads an hour (a large city registers its whole council in one sitting).
UPLOADS = Limit("uploads", attempts=300, window_seconds=3600)


def not_found() -> Refused:
    return Refused("not_found", "Cet élu n'est pas enregistré dans votre commune.")


def official_prefix(files, siren: str, official_id: str) -> str:
    """Where an official's kept photo, original and previews are stored."""
    return f"{files.OFFICIALS_PREFIX}{siren}/{official_id}/"


def get_official(c: Collaborators, principal: Principal, official_id: str) -> Official:
    uow = c.unit_of_work()
    official = uow.get(uow.officials.ref(principal.siren, official_id), consistent=False)
    if official is None:
        raise not_found()
    return official


def register_official(c: Collaborators, principal: Principal, person: dict, function: str) -> Official:
    """``person``: the directory's entry for the person (``services/directory.find_person``)."""
    official = Official.register(principal.siren, person, function, c.now())
    save_new(c, official)
    return official


def save_new(c: Collaborators, official: Official) -> None:
    """A new official (from the directory, or declared) and the directory's mark that the person is registered, in
    one transaction: refused if the commune already registered that person."""
    uow = c.unit_of_work()
    uow.add(official.registered(), Registration.of(official).added())
    try:
        uow.commit()
    except Conflict:
        raise Refused("already_registered", "Cet élu est déjà enregistré.") from None


def list_officials(c: Collaborators, principal: Principal, since: datetime | None = None) -> list[Official]:
    """The commune's officials (one query of its partition: a council at most), in the list's order; with ``since``,
    those whose record changed after it."""
    found = c.unit_of_work().officials.of_commune(principal.siren)
    return sorted((o for o in found if since is None or o.changed_at > since), key=display_order)


def change_function(c: Collaborators, principal: Principal, official_id: str, function: str) -> Official:
    official = get_official(c, principal, official_id)
    change = official.change_function(function)
    if change is None:
        if official.needs_preview:
            _request_preview(c, official)  # a request interrupted after the change: finish it
        return official
    uow = c.unit_of_work()
    uow.add(change)
    try:
        uow.commit()
    except Conflict:
        raise card_in_progress() from None  # ordered (or changed) between our read and our write
    if official.needs_preview:
        _request_preview(c, official)
    return official


def _request_preview(c: Collaborators, official: Official) -> None:
    c.send_photo_task({"action": "render_preview", "siren": official.siren, "official_id": official.official_id})


def delete_official(c: Collaborators, principal: Principal, official_id: str) -> None:
    official = get_official(c, principal, official_id)
    removal = official.removable()
    # Photos first: if anything fails midway the official is still there, and deleting again finishes the work.
    c.files.delete_prefix(official_prefix(c.files, principal.siren, official_id))
    c.files.delete_prefix(f"{c.files.PHOTOS_PREFIX}{principal.siren}/{official_id}/")
    uow = c.unit_of_work()
    uow.add(removal, Registration.of(official).removed())
    try:
        uow.commit()
    except Conflict:
        raise card_in_progress() from None


# --- photos -------------------------------------------------------------------------------------------------------

def _valid_crop(crop: dict) -> dict:
    if crop["width"] <= 0 or crop["height"] <= 0 or crop["x"] < 0 or crop["y"] < 0:
        raise Refused("invalid_crop", "Le cadrage de la photo est invalide.",
                      details={"crop": "Largeur et hauteur positives, position dans l'image."})
    return {k: int(crop[k]) for k in ("x", "y", "width", "height")}


def start_photo_upload(c: Collaborators, principal: Principal, official_id: str, crop: dict | None) -> dict:
    crop = _valid_crop(crop) if crop else None
    uow = c.unit_of_work()
    official, uploads = uow.read([uow.officials.ref(principal.siren, official_id),
                                  uow.attempts_ref(UPLOADS, principal.siren)], consistent=False)
    if official is None:
        raise not_found()
    official.may_start_upload()  # the card is made from the photo the commune acknowledged
    return start_upload(c, uow, principal, official_id, uploads, "{}.jpg", "image/jpeg", MAX_PHOTO_BYTES, crop)


def start_upload(c: Collaborators, uow, principal: Principal, official_id: str, uploads, name: str,
                 content_type: str, max_bytes: int, crop: dict | None = None) -> dict:
    """A presigned POST for one of the official's files (``name``: its file name, ``{}`` for the upload's id),
    counted against the commune's upload limit and recorded as pending, so that the trigger takes only the uploads
    it was told of (the photo's, or the procès-verbal's: ``services/declarations.py``)."""
    limits.check((UPLOADS, uploads))
    attempt = time_ordered_id()
    key = f"{c.files.PHOTOS_PREFIX}{principal.siren}/{official_id}/{name.format(attempt)}"
    now = c.now()
    uow.add(PhotoUpload(key, principal.siren, official_id, attempt, crop, now, now + timedelta(days=2)).started())
    uow.count_attempt(UPLOADS, principal.siren)
    uow.commit()
    post = c.files.presigned_post(key, max_bytes, content_type, UPLOAD_LIFETIME)
    return {"upload_id": attempt, "url": post["url"], "fields": post["fields"], "expires_at": post["expires_at"],
            "max_bytes": max_bytes}


def recrop(c: Collaborators, principal: Principal, official_id: str, crop: dict) -> Official:
    official = get_official(c, principal, official_id)
    change = official.request_recrop()
    crop = _valid_crop(crop)
    uow = c.unit_of_work()
    uow.add(change)
    try:
        uow.commit()
    except Conflict:
        raise card_in_progress() from None
    c.send_photo_task({"action": "recrop", "siren": principal.siren, "official_id": official_id,
                       "attempt_id": time_ordered_id(), "crop": crop})
    return official


# --- the right of access: everything the portal holds about one official ------------------------------------------

def export(c: Collaborators, principal: Principal, official_id: str) -> tuple:
    """What the portal holds about one official, for the commune to hand over or keep before removing them: the
    registered record, the directory rows it came from, and every order of the commune with a card for them."""
    official = get_official(c, principal, official_id)
    uow = c.unit_of_work()
    rows = uow.directory_rows_of(official.insee_code, official.official_id)
    orders = [order for order in uow.orders.all_of_commune(principal.siren) if order.card_of(official_id)]
    audit.info("official exported", extra={"event": "official_exported", "siren": principal.siren,
                                           "official": official_id, "by": principal.email,
                                           "at": clock.iso(c.now())})
    return official, rows, orders
