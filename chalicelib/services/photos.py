"""The image function's work: a photo arrived in S3, a photo must be re-cropped, a preview must be redrawn.

Uploads are hostile until proven otherwise and the emulation does not enforce the presigned POST's conditions, so
everything is checked here again (size before reading, JPEG by content, pixel cap before decoding: see
``imaging.photo``). Each attempt has a time-ordered id; the official keeps the newest good photo, so a duplicated
event, or an older event arriving after a newer one, leaves one consistent result, and a rejected photo never
replaces a good one. Pillow is imported here only: the API functions never load it.
"""
import logging
from datetime import date

from pynamodb.exceptions import TransactWriteError, UpdateError

from ..store import files
from ..store.batch import Wanted, get_many
from ..store.tables import Commune, Official, PhotoUpload, is_condition_failure, transaction
from .officials import MAX_PHOTO_BYTES, official_prefix

log = logging.getLogger(__name__)

PLACEHOLDER_CARD_NUMBER = "SPÉCIMEN"


def _newer_than_kept(attempt: str):
    return Official.photo_id.does_not_exist() | (Official.photo_id < attempt)


def _upload_owner(key: str) -> tuple[str, str] | None:
    """(siren, official id) from an upload's key: ``incoming/photos/<siren>/<official id>/<attempt>.jpg``."""
    parts = key[len(files.PHOTOS_PREFIX):].split("/") if key.startswith(files.PHOTOS_PREFIX) else []
    return (parts[0], parts[1]) if len(parts) == 3 and all(parts) else None


def process_upload(key: str) -> None:
    """A browser finished a presigned POST: turn the file into the official's ID photo, or say why not.

    Three DynamoDB calls: one read (the pending upload, the official and the commune, named by the key), the
    "processing" mark, and the result written with the removal of the pending upload in one transaction."""
    owner = _upload_owner(key)
    upload, official, commune = get_many([Wanted(PhotoUpload, key), Wanted(Official, *owner),
                                          Wanted(Commune, owner[0])]) if owner else (None, None, None)
    if upload is None or (upload.siren, upload.official_id) != owner:
        # Already processed (a retry after a failed clean-up, or a duplicated event) or never asked for: finish the
        # clean-up a failure may have stopped, and drop the file.
        log.info("photo event without a pending upload (already processed, or unknown): cleaning up")
        attempt = key.rsplit("/", 1)[-1].removesuffix(".jpg")
        if official is not None and official.photo_id == attempt:
            _remove_stale_objects(official)
        files.delete_objects([key])
        return
    if official is None:
        files.delete_objects([key])  # the official was deleted meanwhile
        upload.delete()
        return
    attempt = upload.attempt_id
    try:
        official.update(actions=[Official.photo_status.set("processing"), Official.processing_id.set(attempt),
                                 Official.photo_reason.remove()],
                        condition=_newer_than_kept(attempt))
    except UpdateError as error:
        if not is_condition_failure(error):
            raise  # throttled: the message comes back and the work is done then
        if official.photo_id == attempt:
            _remove_stale_objects(official)  # this very photo was kept; a failure stopped the clean-up
        else:
            log.info("older photo event after a newer photo: ignored")
        files.delete_objects([key])
        upload.delete()
        return
    data = files.read_object(key, MAX_PHOTO_BYTES)
    # The original is kept (private) so that the agent can re-crop without sending the file again.
    original_key = f"{official_prefix(upload.siren, upload.official_id)}{attempt}-original.jpg"
    if data is not None:
        files.copy_object(key, original_key)
    if not _make_photo(official, commune, attempt, data, upload.crop.as_dict() if upload.crop else {}, original_key,
                       upload):
        files.delete_objects([original_key])
    files.delete_objects([key])


def recrop(siren: str, official_id: str, attempt: str, crop: dict) -> None:
    official, commune = get_many([Wanted(Official, siren, official_id), Wanted(Commune, siren)])
    if official is None or not official.original_key:
        return
    try:
        official.update(actions=[Official.processing_id.set(attempt)], condition=_newer_than_kept(attempt))
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        return  # a newer photo is already kept
    data = files.read_object(official.original_key, MAX_PHOTO_BYTES)
    _make_photo(official, commune, attempt, data, crop, official.original_key)


def _make_photo(official: Official, commune: Commune | None, attempt: str, data: bytes | None, crop: dict,
                original_key: str, upload: PhotoUpload | None = None) -> bool:
    """Normalise, store the photo and its preview, then switch the official to them (and forget the pending upload
    in the same write). True if the photo was kept."""
    from ..imaging.photo import MAX_UPLOAD_BYTES, PhotoRejected, normalize_photo

    try:
        if data is None:
            raise PhotoRejected("too_large_file", f"Le fichier dépasse la taille maximale de "
                                                  f"{MAX_UPLOAD_BYTES // (1024 * 1024)} Mo.")
        crop, analysis = _frame_and_check(data, crop or None)
        photo = normalize_photo(data, crop)
    except PhotoRejected as rejected:
        _reject(official, attempt, rejected.message, upload)
        return False
    prefix = official_prefix(official.siren, official.official_id)
    photo_key = f"{prefix}{attempt}-photo.jpg"
    preview_key = f"{prefix}{attempt}-preview.jpg"
    files.put_object(photo_key, photo, "image/jpeg")
    files.put_object(preview_key, render_preview(official, photo, commune), "image/jpeg")
    replaced = [official.photo_key, official.preview_key]
    if official.original_key != original_key:
        replaced.append(official.original_key)
    actions = [Official.photo_id.set(attempt), Official.photo_status.set("ready"),
               Official.photo_reason.remove(), Official.photo_key.set(photo_key),
               Official.original_key.set(original_key), Official.crop.set(crop),
               Official.preview_key.set(preview_key), Official.preview_status.set("ready")] \
        + ([Official.photo_checks.set(analysis["checks"]), Official.proposed_crop.set(analysis["proposed_crop"])]
           if analysis else [Official.photo_checks.remove(), Official.proposed_crop.remove()])
    # An order made meanwhile holds the acknowledged photo: it cannot change under it.
    condition = _newer_than_kept(attempt) & Official.active_order_id.does_not_exist()
    try:
        _update_and_forget(official, actions, condition, upload)
    except (UpdateError, TransactWriteError) as error:
        if not is_condition_failure(error):
            raise
        files.delete_objects([photo_key, preview_key])  # a newer photo, or an order, won the race: ours is dropped
        _reject(official, attempt, "Une carte a été commandée avec la photo précédente pendant l'envoi : "
                                   "cette nouvelle photo n'a pas été retenue.", upload)
        return False
    files.delete_objects(k for k in replaced if k)
    return True


def _update_and_forget(official: Official, actions: list, condition, upload: PhotoUpload | None) -> None:
    """The official's update, with the pending upload's removal in the same transaction when there is one."""
    if upload is None:
        official.update(actions=actions, condition=condition)
        return
    with transaction() as writes:
        writes.update(official, actions=actions, condition=condition)
        writes.delete(upload)


def _frame_and_check(data: bytes, crop: dict | None) -> tuple[dict, dict | None]:
    """The crop to apply and the photo assistant's verdicts (checks and proposed framing). Should the assistant fail
    on a photo, the photo is kept without verdicts, as long as the agent chose a crop."""
    from ..imaging.assistant import analyse_jpeg
    from ..imaging.photo import PhotoRejected

    analysis = None
    try:
        result = analyse_jpeg(data, crop)
        analysis = {"checks": [c.as_dict() for c in result.checks], "proposed_crop": dict(result.proposed_crop)}
        crop = crop or dict(result.proposed_crop)
    except PhotoRejected:
        raise
    except Exception:  # noqa: BLE001 - verdicts help; they must never cost the agent the photo
        log.exception("photo assistant failed: photo kept without verdicts")
    if not crop:
        raise PhotoRejected("invalid_crop", "Choisissez le cadrage de la photo avant de l'envoyer.")
    return crop, analysis


def _reject(official: Official, attempt: str, reason: str, upload: PhotoUpload | None = None) -> None:
    """Record why this attempt failed; the kept photo (if any) stays as it is."""
    actions = [Official.photo_status.set("rejected"), Official.photo_reason.set(reason)]
    try:
        # A newer attempt in progress has the last word.
        _update_and_forget(official, actions, Official.processing_id == attempt, upload)
    except (UpdateError, TransactWriteError) as error:
        if not is_condition_failure(error):
            raise
        if upload is not None:
            upload.delete()


def _remove_stale_objects(official: Official) -> None:
    """Delete the official's stored objects that are no longer its photo, original or preview."""
    keep = {official.photo_key, official.original_key, official.preview_key}
    prefix = official_prefix(official.siren, official.official_id)
    files.delete_objects(k for k in files.list_keys(prefix) if k not in keep)


def render_preview(official: Official, photo: bytes | None, commune: Commune | None) -> bytes:
    from ..domain.functions import function_label
    from ..imaging.card import CardData, render_card_preview

    commune = commune or get_many([Wanted(Commune, official.siren)])[0]
    department = f"{official.department_label} ({commune.department_code})" if official.department_label \
        else commune.department_code
    return render_card_preview(CardData(
        last_name=official.last_name, first_name=official.first_name,
        function_label=function_label(official.function, official.sex), commune_name=commune.name,
        department_label=department, mandate_start=date.fromisoformat(official.mandate_start),
        card_number=PLACEHOLDER_CARD_NUMBER, photo_jpeg=photo,
    ))


def rerender_preview(siren: str, official_id: str) -> None:
    """The function changed: redraw the preview from the kept photo."""
    official, commune = get_many([Wanted(Official, siren, official_id), Wanted(Commune, siren)])
    if official is None or not official.photo_key:
        return
    photo = files.read_object(official.photo_key, MAX_PHOTO_BYTES)
    key = f"{official_prefix(siren, official_id)}{_attempt()}-preview.jpg"
    files.put_object(key, render_preview(official, photo, commune), "image/jpeg")
    old = official.preview_key
    try:
        official.update(actions=[Official.preview_key.set(key), Official.preview_status.set("ready")],
                        condition=Official.photo_key == official.photo_key)
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        files.delete_objects([key])  # a new photo arrived meanwhile, with its own preview
        return
    files.delete_objects([old])


def render_order_cards(siren: str, order_id: str) -> None:
    """Production started: draw each card with its number, for the card maker."""
    from ..domain.functions import function_label
    from ..imaging.card import CardData, render_card_preview
    from ..store.tables import CardOrder

    try:
        order = CardOrder.get(siren, order_id, consistent_read=True)
    except CardOrder.DoesNotExist:
        return
    changed = False
    for card in order.cards:
        if card.card_key or not card.card_number or not card.photo_key:  # no photo_key: purged (retention.py)
            continue
        photo = files.read_object(card.photo_key, MAX_PHOTO_BYTES)
        key = f"{files.CARDS_PREFIX}{siren}/{order_id}/{card.card_number}.jpg"
        files.put_object(key, render_card_preview(CardData(
            last_name=card.last_name, first_name=card.first_name,
            function_label=function_label(card.function, card.sex), commune_name=order.commune_name,
            department_label=f"{card.department_label} ({order.department_code})" if card.department_label
            else order.department_code,
            mandate_start=date.fromisoformat(card.mandate_start), card_number=card.card_number, photo_jpeg=photo,
        )), "image/jpeg")
        card.card_key = key
        changed = True
    if changed:
        order.update(actions=[CardOrder.cards.set(order.cards)])


def _attempt() -> str:
    from .officials import attempt_id

    return attempt_id()
