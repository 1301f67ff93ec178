"""A list downloaded as a spreadsheet (CSV or XLSX): every page of the list, as its route reads it, written row by row
to a file that goes to the private bucket, handed out through a short-lived link (docs/exports.md).

Why a file in the bucket and not the answer itself: a Lambda answer holds 6 MB at most (and API Gateway's binary
media types would have to be declared for XLSX), while the card maker's national lists (every order in production,
the registry of cards) grow with the wave. The rows are read one page at a time (the same query, the same order as
the page), so memory holds one page, whatever the list's length; the file spools to /tmp above 1 MiB and is uploaded
in parts above 8 MiB.
"""
import logging
import tempfile
import time
import uuid
from typing import Callable, Iterable, Iterator

from .. import clock
from ..domain.roles import Principal
from ..errors import PortalError
# The writers import the standard library's csv only (about 0.5 ms); XlsxWriter waits for the first XLSX export.
from ..printing.tables import FORMATS, WRITERS
from ..store import files
from .documents import DOCUMENTS_PREFIX

audit = logging.getLogger("portal.audit")

EXPORTS_PREFIX = f"{DOCUMENTS_PREFIX}exports/"  # expires with the other generated documents (infra/template.py)
SPOOL_BYTES = 1024 * 1024
# API Gateway ends a call after 29 s: past this much reading and writing, the file stops at the last whole page and
# says so (``truncated``), rather than the person getting a timeout. Measured rates in docs/exports.md.
TIME_BUDGET_SECONDS = 20.0


def check_format(value: str | None) -> str:
    chosen = (value or "csv").lower()
    if chosen not in FORMATS:
        raise PortalError(400, "invalid_request", "Format de fichier inconnu : csv ou xlsx.",
                          details={"format": "Valeur non autorisée : csv, xlsx."})
    return chosen


def all_pages(fetch: Callable[[str | None], tuple[list, str | None]]) -> Iterator[list]:
    """Every page of a paginated list, from the first: ``fetch(cursor)`` gives a page and the next cursor."""
    cursor = None
    while True:
        items, cursor = fetch(cursor)
        yield items
        if not cursor:
            return


def export(principal: Principal, name: str, title: str, columns: list, pages: Iterable[list], file_format: str
           ) -> dict:
    """Write ``pages`` (lists of rows, one value per column) as ``file_format``; the link and the count of rows."""
    content_type, extension = FORMATS[file_format]
    filename = f"{name}-{clock.now():%Y-%m-%d}.{extension}"
    key = f"{EXPORTS_PREFIX}{clock.now():%Y/%m}/{uuid.uuid4().hex}/{filename}"
    rows, truncated = 0, False
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        table = WRITERS[file_format](spool, columns, title)
        pages = iter(pages)
        for page in pages:
            table.add(page)
            rows += len(page)
            if time.monotonic() > deadline:
                truncated = next(pages, None) is not None  # one more page read: was that the end?
                break
        table.close()
        spool.seek(0)
        files.put_file(key, spool, content_type)
    # Lists of people leave the portal: who took which list, and how many rows.
    audit.info("list_exported", extra={"event": "list_exported", "by": principal.email, "list": name,
                                       "format": file_format, "rows": rows, "truncated": truncated,
                                       "at": clock.iso(clock.now())})
    return {"url": files.presigned_download(key, filename), "expires_at": clock.iso(clock.now() + files.URL_LIFETIME),
            "format": file_format, "filename": filename, "rows": rows, "truncated": truncated}
