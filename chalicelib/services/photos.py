"""The image function's work: a photo arrived in S3, a photo must be re-cropped, a preview or cards must be drawn.

Uploads are hostile until proven otherwise and the emulation does not enforce the presigned POST's conditions, so
everything is checked here again (size before reading, JPEG by content, pixel cap before decoding: see
``imaging.photo``). Each attempt has a time-ordered id; the official's photo rules (``domain/officials.py``) keep the
newest good photo, so a duplicated event, or an older event arriving after a newer one, leaves one consistent result,
and a rejected photo never replaces a good one.
"""
import logging
from datetime import date

from ..domain import webhooks
from ..domain.changes import Conflict, Refused
from ..domain.functions import function_label
from ..domain.ids import time_ordered_id
from ..domain.officials import Official, PhotoUpload
from ..domain.orders import CardOrder
from ..domain.places import Commune, department_on_card
from ..imaging.metadata import NotAJpeg, original_without_metadata
from . import webhook_events
from .collaborators import Collaborators
from .officials import MAX_PHOTO_BYTES, official_prefix

log = logging.getLogger(__name__)

PLACEHOLDER_CARD_NUMBER = "SPÉCIMEN"


def _upload_owner(files, key: str) -> tuple[str, str] | None:
    """(siren, official id) from an upload's key: ``incoming/photos/<siren>/<official id>/<attempt>.jpg``."""
    parts = key[len(files.PHOTOS_PREFIX):].split("/") if key.startswith(files.PHOTOS_PREFIX) else []
    return (parts[0], parts[1]) if len(parts) == 3 and all(parts) else None


def process_upload(c: Collaborators, key: str) -> None:
    """A browser finished a presigned POST: turn the file into the official's ID photo, or say why not.

    Three DynamoDB calls: one read (the pending upload, the official and the commune, named by the key), the
    "processing" mark, and the result written with the removal of the pending upload in one transaction."""
    files = c.files
    uow = c.unit_of_work()
    owner = _upload_owner(files, key)
    upload, official, commune = uow.read([uow.photo_uploads.ref(key), uow.officials.ref(*owner),
                                          uow.communes.ref(owner[0])]) if owner else (None, None, None)
    if upload is None or (upload.siren, upload.official_id) != owner:
        # Already processed (a retry after a failed clean-up, or a duplicated event) or never asked for: finish the
        # clean-up a failure may have stopped, and drop the file.
        log.info("photo event without a pending upload (already processed, or unknown): cleaning up")
        attempt = key.rsplit("/", 1)[-1].removesuffix(".jpg")
        if official is not None and official.photo_id == attempt:
            _remove_stale_objects(files, official)
        files.delete_objects([key])
        return
    if official is None:
        files.delete_objects([key])  # the official was deleted meanwhile
        _commit(c, upload.done())
        return
    attempt = upload.attempt_id
    try:
        _commit(c, official.start_attempt(attempt))
    except (Refused, Conflict):
        if official.photo_id == attempt:
            _remove_stale_objects(files, official)  # this very photo was kept; a failure stopped the clean-up
        else:
            log.info("older photo event after a newer photo: ignored")
        files.delete_objects([key])
        _commit(c, upload.done())
        return
    data = files.read_object(key, MAX_PHOTO_BYTES)
    # The original is kept (private) so that the agent can re-crop without sending the file again: without its
    # metadata (GPS, device, dates), and typed image/jpeg by the portal whatever the uploader sent.
    original_key = f"{official_prefix(files, upload.siren, upload.official_id)}{attempt}-original.jpg"
    if data is not None:
        try:
            files.put_object(original_key, original_without_metadata(data), "image/jpeg")
        except NotAJpeg:
            pass  # not a JPEG's structure: the photo check below refuses it, with its reason
    if not _make_photo(c, official, commune, attempt, data, upload.crop or {}, original_key, upload):
        files.delete_objects([original_key])
    files.delete_objects([key])


def recrop(c: Collaborators, siren: str, official_id: str, attempt: str, crop: dict) -> None:
    uow = c.unit_of_work()
    official, commune = uow.read([uow.officials.ref(siren, official_id), uow.communes.ref(siren)])
    if official is None or not official.original_key:
        return
    try:
        _commit(c, official.start_recrop(attempt))
    except (Refused, Conflict):
        return  # a newer photo is already kept
    data = c.files.read_object(official.original_key, MAX_PHOTO_BYTES)
    _make_photo(c, official, commune, attempt, data, crop, official.original_key)


def _commit(c: Collaborators, *changes) -> None:
    uow = c.unit_of_work()
    uow.add(*changes)
    uow.commit()


def _make_photo(c: Collaborators, official: Official, commune: Commune | None, attempt: str, data: bytes | None,
                crop: dict, original_key: str, upload: PhotoUpload | None = None) -> bool:
    """Normalise, store the photo and its preview, then switch the official to them (and forget the pending upload
    in the same write). True if the photo was kept."""
    # cold start: imaging.photo (Pillow, numpy) costs about 110 ms to import (python -X importtime); the API
    # functions import this module through app.py and never decode a photo.
    from ..imaging.photo import MAX_UPLOAD_BYTES, PhotoRejected

    files = c.files
    try:
        if data is None:
            raise PhotoRejected("too_large_file", f"Le fichier dépasse la taille maximale de "
                                                  f"{MAX_UPLOAD_BYTES // (1024 * 1024)} Mo.")
        crop, analysis, decoded = _frame_and_check(data, crop or None)
        photo = decoded.normalized(crop)
    except PhotoRejected as rejected:
        _reject(c, official, attempt, rejected.message, upload, commune)
        return False
    prefix = official_prefix(files, official.siren, official.official_id)
    photo_key = f"{prefix}{attempt}-photo.jpg"
    preview_key = f"{prefix}{attempt}-preview.jpg"
    files.put_object(photo_key, photo, "image/jpeg")
    files.put_object(preview_key, render_preview(c, official, photo, commune), "image/jpeg")
    replaced = official.files_replaced_by(original_key)
    kept = official.keep_photo(attempt, photo_key=photo_key, original_key=original_key, preview_key=preview_key,
                               crop=crop, analysis=analysis)
    try:
        _commit(c, kept, upload.done() if upload else None)
    except Conflict:
        files.delete_objects([photo_key, preview_key])  # a newer photo, or an order, won the race: ours is dropped
        _reject(c, official, attempt, "Une carte a été commandée avec la photo précédente pendant l'envoi : "
                                      "cette nouvelle photo n'a pas été retenue.", upload, commune)
        return False
    files.delete_objects(replaced)
    webhook_events.emit(c, webhooks.photo_checked(official, commune, attempt, c.now(), True, None))
    return True


def _frame_and_check(data: bytes, crop: dict | None):
    """The crop to apply, the photo assistant's verdicts (checks and proposed framing) and the upload decoded once
    for both (``imaging.photo.decode_photo``: the ID photo is cut from the same pixels). Should the assistant fail
    on a photo, the photo is kept without verdicts, as long as the agent chose a crop."""
    # cold start: imaging.assistant (numpy, Pillow, the face detector) about 320 ms; the image function's alone.
    from ..imaging.assistant import DECODE_SIDE, analyse_jpeg
    from ..imaging.photo import PhotoRejected, decode_photo

    analysis = None
    decoded = decode_photo(data, DECODE_SIDE, crop)  # the header checks first; PhotoRejected as normalize_photo
    try:
        result = analyse_jpeg(data, crop, decoded)
        analysis = {"checks": [c.as_dict() for c in result.checks], "proposed_crop": dict(result.proposed_crop)}
        crop = crop or dict(result.proposed_crop)
    except PhotoRejected:
        raise
    except Exception:  # noqa: BLE001 - verdicts help; they must never cost the agent the photo
        log.exception("photo assistant failed: photo kept without verdicts")
    if not crop:
        raise PhotoRejected("invalid_crop", "Choisissez le cadrage de la photo avant de l'envoyer.")
    return crop, analysis, decoded


def _reject(c: Collaborators, official: Official, attempt: str, reason: str, upload: PhotoUpload | None,
            commune: Commune | None = None) -> None:
    """Record why this attempt failed; the kept photo (if any) stays as it is. A newer attempt in progress has the
    last word: then only the pending upload is forgotten (and no program is told of an attempt superseded)."""
    try:
        _commit(c, official.reject_attempt(attempt, reason), upload.done() if upload else None)
    except Conflict:
        if upload is not None:
            _commit(c, upload.done())
        return
    webhook_events.emit(c, webhooks.photo_checked(official, commune, attempt, c.now(), False, reason))


def _remove_stale_objects(files, official: Official) -> None:
    """Delete the official's stored objects that are no longer its photo, original or preview."""
    keep = official.kept_files()
    prefix = official_prefix(files, official.siren, official.official_id)
    files.delete_objects(k for k in files.list_keys(prefix) if k not in keep)


def render_preview(c: Collaborators, official: Official, photo: bytes | None, commune: Commune | None) -> bytes:
    # cold start: imaging.card (Pillow, the card's fonts) about 80 ms; the image function's alone.
    from ..imaging.card import CardData, render_card_preview

    if commune is None:
        uow = c.unit_of_work()
        commune = uow.get(uow.communes.ref(official.siren))
    return render_card_preview(CardData(
        last_name=official.last_name, first_name=official.first_name,
        function_label=function_label(official.function, official.sex), commune_name=commune.name,
        department_label=department_on_card(official.department_label, commune.department_code),
        mandate_start=date.fromisoformat(official.mandate_start),
        card_number=PLACEHOLDER_CARD_NUMBER, photo_jpeg=photo,
    ))


def rerender_preview(c: Collaborators, siren: str, official_id: str) -> None:
    """The function changed: redraw the preview from the kept photo."""
    files = c.files
    uow = c.unit_of_work()
    official, commune = uow.read([uow.officials.ref(siren, official_id), uow.communes.ref(siren)])
    if official is None or not official.photo_key:
        return
    photo = files.read_object(official.photo_key, MAX_PHOTO_BYTES)
    key = f"{official_prefix(files, siren, official_id)}{time_ordered_id()}-preview.jpg"
    files.put_object(key, render_preview(c, official, photo, commune), "image/jpeg")
    old = official.preview_key
    try:
        _commit(c, official.preview_redrawn(key))
    except Conflict:
        files.delete_objects([key])  # a new photo arrived meanwhile, with its own preview
        return
    files.delete_objects([old])


def render_order_cards(c: Collaborators, siren: str, order_id: str) -> None:
    """Production started: draw each card with its number, for the card maker."""
    # cold start: imaging.card, about 80 ms (see render_preview).
    from ..imaging.card import CardData, render_card_preview

    files = c.files
    uow = c.unit_of_work()
    order: CardOrder | None = uow.get(uow.orders.ref(siren, order_id))
    if order is None:
        return
    to_draw = order.cards_to_draw()
    for card in to_draw:
        photo = files.read_object(card.photo_key, MAX_PHOTO_BYTES)
        key = f"{files.CARDS_PREFIX}{siren}/{order_id}/{card.card_number}.jpg"
        files.put_object(key, render_card_preview(CardData(
            last_name=card.last_name, first_name=card.first_name,
            function_label=function_label(card.function, card.sex), commune_name=order.commune_name,
            department_label=department_on_card(card.department_label, order.department_code),
            mandate_start=date.fromisoformat(card.mandate_start), card_number=card.card_number, photo_jpeg=photo,
        )), "image/jpeg")
        card.card_key = key
    if to_draw:
        _commit(c, order.cards_drawn())
