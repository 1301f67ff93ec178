"""A list downloaded as a spreadsheet (CSV or XLSX): every page of the list, as its route reads it, written row by row
to a file that goes to the private bucket, handed out through a short-lived link (docs/exports.md).

Why a file in the bucket and not the answer itself: a Lambda answer holds 6 MB at most (and API Gateway's binary
media types would have to be declared for XLSX), while the card maker's national lists (every order in production,
the registry of cards) grow with the wave. The rows are read one page at a time (the same query, the same order as
the page), so memory holds one page, whatever the list's length; the file is written to /tmp and uploaded from there,
in parts above 8 MiB read from the disk as they are sent.

A national list (domain/exports.py) is written in the background: ``start_export`` records the request
(``ListExport``) and queues it, the worker (``run_export``, events/exports.py) writes the file with the requester's
rights, counting its rows as it goes, and the person follows it (``describe_export``) until its link is there.
"""
import logging
import re
import tempfile
import time
import uuid
from datetime import timedelta
from typing import Callable, Iterable, Iterator

from pynamodb.exceptions import UpdateError

from .. import clock
from ..domain.changes import Refused
from ..domain.roles import Principal
from ..errors import PortalError
# The writers import the standard library's csv only (about 0.5 ms); XlsxWriter waits for the first XLSX export.
from ..printing.tables import FORMATS, WRITERS
from ..store import files, queues
from ..store.tables import ListExport, is_condition_failure
from .documents import DOCUMENTS_PREFIX

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

EXPORTS_PREFIX = f"{DOCUMENTS_PREFIX}exports/"  # expires with the other generated documents (infra/template.py)
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


def write_file(name: str, title: str, columns: list, pages: Iterable[list], file_format: str, budget_seconds: float,
               progress: Callable[[int], None] | None = None) -> dict:
    """Write ``pages`` (lists of rows, one value per column) as ``file_format`` to the bucket, page by page, for at
    most ``budget_seconds``; ``progress(rows)`` hears of each page written. Where the file is and what it holds."""
    content_type, extension = FORMATS[file_format]
    filename = f"{name}-{clock.now():%Y-%m-%d}.{extension}"
    key = f"{EXPORTS_PREFIX}{clock.now():%Y/%m}/{uuid.uuid4().hex}/{filename}"
    rows, truncated = 0, False
    deadline = time.monotonic() + budget_seconds
    # On disk (Lambda's /tmp), uploaded from its path: neither the file nor its upload's parts sit in memory.
    with tempfile.NamedTemporaryFile(prefix="export-", suffix=f".{extension}") as spool:
        table = WRITERS[file_format](spool, columns, title)
        pages = iter(pages)
        for page in pages:
            table.add(page)
            rows += len(page)
            if progress is not None:
                progress(rows)
            if time.monotonic() > deadline:
                truncated = next(pages, None) is not None  # one more page read: was that the end?
                break
        table.close()
        spool.flush()
        files.put_path(key, spool.name, content_type)
    return {"key": key, "filename": filename, "rows": rows, "truncated": truncated}


def export(principal: Principal, name: str, title: str, columns: list, pages: Iterable[list], file_format: str
           ) -> dict:
    """The file written while the person waits: the link and the count of rows."""
    written = write_file(name, title, columns, pages, file_format, TIME_BUDGET_SECONDS)
    _audit(principal, name, file_format, written)
    return {"url": files.presigned_download(written["key"], written["filename"]),
            "expires_at": clock.iso(clock.now() + files.URL_LIFETIME), "format": file_format,
            "filename": written["filename"], "rows": written["rows"], "truncated": written["truncated"]}


def _audit(principal: Principal, name: str, file_format: str, written: dict) -> None:
    # Lists of people leave the portal: who took which list, and how many rows.
    audit.info("list_exported", extra={"event": "list_exported", "by": principal.email, "list": name,
                                       "format": file_format, "rows": written["rows"],
                                       "truncated": written["truncated"], "at": clock.iso(clock.now())})


# --- a national list, written in the background (domain/exports.py) -----------------------------------------------

# (list name, principal, filters) -> (file name, sheet title, columns, pages of rows): the lists' table
# (api/exports.py), handed in by the worker so that this module does not know the lists' columns.
ListTable = Callable[[str, Principal, dict], tuple[str, str, list, Iterable[list]]]

JOB_LIFETIME = timedelta(days=1)  # as the files under documents/ (the bucket's rule)
# The worker's function has 15 minutes (.chalice/config.json): past this, the file stops at a whole page and says so.
WORKER_BUDGET_SECONDS = 780.0
PROGRESS_EVERY_ROWS = 2000  # the count a person follows is written this often (one small write)
MAX_ATTEMPTS = 3  # workers that may take one file
# A worker that fails queues the file again for a minute later itself: left to SQS, the message would come back only
# after its visibility timeout (6 times the function's 15 minutes, infra/template.py).
RETRY_DELAY_SECONDS = 60
# A file still "running" this long after it was asked for will not come (shown as failed): its workers died, and SQS
# gives a dead worker's message again only after that visibility timeout (90 minutes).
GIVEN_UP_AFTER = timedelta(hours=2)
# No worker starts a file later than this: it could not finish (15 minutes at most) before being shown failed.
START_BEFORE = GIVEN_UP_AFTER - timedelta(minutes=15)
FAILED = "Le fichier n'a pas pu être préparé. Demandez-le de nouveau ; si cela se reproduit, choisissez un département."

EXPORT_ID = re.compile("[0-9a-f]{32}")


def _requester(principal: Principal) -> str:
    """Who asked for a file, and alone may follow it: the program's client, or the person's account."""
    if principal.client_id:
        return f"client#{principal.client_id}"
    return f"account#{principal.account_id or principal.email}"


def _principal_fields(principal: Principal) -> dict:
    """The principal as JSON values, without its token (the worker acts with the request's rights, not its session)."""
    fields = {k: v for k, v in principal._asdict().items() if v is not None and k != "token_hash"}
    if "scopes" in fields:
        fields["scopes"] = sorted(fields["scopes"])
    return fields


def _principal_of(fields: dict) -> Principal:
    scopes = fields.get("scopes")
    return Principal(**{"siren": None, "department_code": None, "token_hash": "", **fields,
                        "scopes": frozenset(scopes) if scopes is not None else None})


def start_export(principal: Principal, list_name: str, filters: dict, file_format: str) -> dict:
    """Records the file asked for and hands it to the worker; its state, to follow (``describe_export``)."""
    now = clock.now()
    job = ListExport(uuid.uuid4().hex, owner=_requester(principal), principal=_principal_fields(principal),
                     list_name=list_name, filters=filters, file_format=file_format, status="running", rows=0,
                     attempts=0, created_at=now, purge_at=now + JOB_LIFETIME)
    job.save(condition=ListExport.export_id.does_not_exist())
    # A refused send raises (the API answers 503): the record, never taken, shows failed after GIVEN_UP_AFTER.
    queues.send(queues.EXPORTS_QUEUE, {"export_id": job.export_id})
    return _view(job)


def describe_export(principal: Principal, export_id: str) -> dict:
    """The file's state, for its owner only (anyone else: 404, as if it did not exist); a fresh link once ready."""
    job = None
    if EXPORT_ID.fullmatch(export_id):
        try:
            job = ListExport.get(export_id, consistent_read=True)
        except ListExport.DoesNotExist:
            pass
    if job is None or job.owner != _requester(principal):
        raise PortalError(404, "not_found", "Ce fichier n'existe pas ou n'est plus disponible.")
    return _view(job)


def run_export(export_id: str, list_table: ListTable) -> str:
    """The worker: writes the file of one request, with the requester's rights. Returns what became of it."""
    job = ListExport(export_id)
    try:  # one call: the update answers the whole record
        job.update(actions=[ListExport.attempts.add(1)], condition=ListExport.status == "running")
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        return "finished already"  # the queue gave it twice (or the record was purged meanwhile)
    if job.attempts > MAX_ATTEMPTS or job.created_at < clock.now() - START_BEFORE:
        _finish(job, [ListExport.status.set("failed"), ListExport.failure.set(FAILED)])
        return "failed"
    principal = _principal_of(dict(job.principal.as_dict()))
    progress = _Progress(job)
    try:
        name, title, columns, pages = list_table(job.list_name, principal, dict(job.filters.as_dict()))
        written = write_file(name, title, columns, pages, job.file_format, WORKER_BUDGET_SECONDS, progress)
    except (PortalError, Refused) as error:  # the list itself refused (its filters were checked when asked for)
        _finish(job, [ListExport.status.set("failed"), ListExport.failure.set(error.message)])
        return "failed"
    except Exception:
        log.exception("list export failed", extra={"export_id": export_id, "attempt": job.attempts})
        if job.attempts < MAX_ATTEMPTS:  # (should the send fail, the message comes back after its visibility timeout)
            queues.send(queues.EXPORTS_QUEUE, {"export_id": export_id}, delay_seconds=RETRY_DELAY_SECONDS)
            return "retrying"
        _finish(job, [ListExport.status.set("failed"), ListExport.failure.set(FAILED)])
        return "failed"
    _finish(job, [ListExport.status.set("ready"), ListExport.key.set(written["key"]),
                  ListExport.filename.set(written["filename"]), ListExport.rows.set(written["rows"]),
                  ListExport.truncated.set(written["truncated"])])
    _audit(principal, name, job.file_format, written)
    return "ready"


class _Progress:
    """Writes the count of rows every ``PROGRESS_EVERY_ROWS``, so that the page shows the file growing."""

    def __init__(self, job: ListExport):
        self._job, self._told = job, 0

    def __call__(self, rows: int) -> None:
        if rows - self._told >= PROGRESS_EVERY_ROWS:
            self._job.update(actions=[ListExport.rows.set(rows)])
            self._told = rows


def _finish(job: ListExport, actions: list) -> None:
    """The file's end, once: a second worker's (the queue gave it twice) changes nothing."""
    try:
        job.update(actions=[*actions, ListExport.finished_at.set(clock.now())],
                   condition=ListExport.status == "running")
    except UpdateError as error:
        if not is_condition_failure(error):
            raise


def _view(job: ListExport) -> dict:
    status, failure = job.status, job.failure
    if status == "running" and job.created_at < clock.now() - GIVEN_UP_AFTER:
        status, failure = "failed", FAILED
    ready = status == "ready"
    return {"id": job.export_id, "list": job.list_name, "format": job.file_format, "status": status,
            "rows": int(job.rows or 0), "created_at": clock.iso(job.created_at),
            "finished_at": clock.iso(job.finished_at) if job.finished_at else None, "filename": job.filename,
            "truncated": bool(job.truncated), "failure": failure,
            "url": files.presigned_download(job.key, job.filename) if ready else None,
            "expires_at": clock.iso(clock.now() + files.URL_LIFETIME) if ready else None}
