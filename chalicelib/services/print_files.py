"""The card maker's print files in one archive: every card of one order, or of every order in production.

A ZIP (``zipfile``, stored: JPEGs do not compress) holding, per card, its photo and its final card file, and a CSV
manifest (card number, names, function, commune, département, the files, the photo assistant's warnings): what the
card maker opened one by one before. Written to a spooled temporary file (memory up to 64 MiB, then the Lambda's
/tmp), uploaded to the private bucket and handed out through a 10-minute URL, like the other documents.
"""
import csv
import io
import logging
import tempfile
import uuid
import zipfile

from .. import clock
from ..domain import orders as lifecycle
from ..domain.changes import Refused
from ..domain.functions import function_label
from ..domain.roles import Principal
from ..store import files
from . import orders
from .collaborators import Collaborators

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

ARCHIVES_PREFIX = "documents/archives/"
MAX_CARDS = 400  # an API call lasts 29 s at most: two S3 reads a card, about 20 ms each on AWS
MAX_FILE_BYTES = 20 * 1024 * 1024
SPOOL_BYTES = 64 * 1024 * 1024
MANIFEST = "manifeste.csv"
MANIFEST_COLUMNS = ("numero_carte", "nom", "prenom", "fonction", "commune", "departement", "demande", "photo",
                    "carte", "avertissements_photo")


def print_archive(c: Collaborators, principal: Principal, order_public_id: str | None) -> dict:
    """One order's archive (``order_public_id``), or that of every order in production, oldest first, up to
    ``MAX_CARDS`` cards (``truncated`` says when more are waiting: the next archive takes them once these move on)."""
    if order_public_id:
        chosen = [orders.load(c, principal, order_public_id)]
        truncated = False
    else:
        chosen, truncated = _in_production(c)
        if not chosen:
            raise Refused("not_found", "Aucune demande n'est en production.")
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    rows, missing = [], []
    with spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as archive:
            for order in chosen:
                for card in order.cards:
                    if card.going_on:  # a card whose photo was refused is not printed
                        rows.append(_add_card(archive, order, card, missing))
                orders.redraw_missing_cards(c, order)
            text = io.StringIO()
            writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
            writer.writerow(MANIFEST_COLUMNS)
            writer.writerows(rows)
            # UTF-8 with its BOM: the spreadsheet the card maker opens it in reads the accents right.
            archive.writestr(MANIFEST, "\ufeff" + text.getvalue())
        spool.seek(0)
        key = f"{ARCHIVES_PREFIX}{clock.now():%Y/%m}/{uuid.uuid4().hex}.zip"
        files.put_file(key, spool, "application/zip")
    audit.info("photo_access", extra={"event": "photo_access", "by": principal.email, "archive": key,
                                      "orders": [o.public_id for o in chosen], "cards": len(rows),
                                      "at": clock.iso(clock.now())})
    return {"url": files.presigned_get(key), "expires_at": clock.iso(clock.now() + files.URL_LIFETIME),
            "orders": len(chosen), "cards": len(rows), "missing_files": missing, "truncated": truncated}


def _in_production(c: Collaborators) -> tuple[list, bool]:
    chosen, count, cursor = [], 0, None
    repository = c.unit_of_work().orders
    while True:
        page, cursor = repository.page_by_status(lifecycle.EN_PRODUCTION, cursor)
        for order in page:
            if chosen and count + len(order.cards) > MAX_CARDS:
                return chosen, True
            chosen.append(order)
            count += len(order.cards)
        if not cursor:
            return chosen, False


def _add_card(archive: zipfile.ZipFile, order, card, missing: list) -> list:
    name = card.card_number or f"{order.public_id}-{card.official_id}"
    folder = f"{order.commune_name} ({order.siren})/"
    photo = _put(archive, f"{folder}{name}-photo.jpg", card.photo_key, missing, f"{name} : photo")
    drawn = _put(archive, f"{folder}{name}-carte.jpg", card.card_key, missing, f"{name} : carte")
    warnings = " | ".join(f"{check['level']}: {check['message']}" for check in card.photo_checks or [])
    return [card.card_number or "", card.last_name, card.first_name, function_label(card.function, card.sex),
            order.commune_name, order.department_code, order.public_id, photo, drawn, warnings]


def _put(archive: zipfile.ZipFile, path: str, key: str | None, missing: list, what: str) -> str:
    """The file in the archive at ``path``; its path for the manifest, empty (and listed as missing) when it is not
    there: photos purged, or a card not drawn yet."""
    data = files.read_object(key, MAX_FILE_BYTES) if key else None
    if data is None:
        missing.append(what)
        return ""
    archive.writestr(path, data)
    return path
