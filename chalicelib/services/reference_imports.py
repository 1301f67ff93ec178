"""Reference files: the operator sends a file to S3, the S3 trigger imports it row by row.

The import streams the object (memory does not grow with the file), reports each bad line by number and loads the good
ones. It is idempotent: rows are keyed by their natural id (SIREN, département code, ...), so importing the same file
again, or receiving the same S3 event twice, changes nothing. Only one run works on an import at a time: a run claims
it with a conditional write; a run that died (Lambda timeout) is taken over once its heartbeat is old.

Each kind of file has its writer here. The directory's writer keeps ``directory``'s keys, has ``mandates`` flag the
orders of officials a newer file no longer holds, and has ``directory_news`` tell the registered communes it touched
what changed for them: this module depends on the three, none of them on it.
"""
from __future__ import annotations

import functools
import logging
import uuid
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING, Callable, Iterable

from pynamodb.exceptions import UpdateError

from .. import clock
from ..domain import stats
from ..domain.csv_rows import BadHeader, RowError, read_rows
from ..domain.roles import Principal
from ..errors import PortalError
from ..store import files
from ..store.tables import Commune, DirectoryItem, ImportError_, Prefecture, ReferenceImport, is_condition_failure
from . import directory, directory_news, mandates

if TYPE_CHECKING:
    from ..domain.reference_files import CommuneRow, PrefectureRow
    from ..domain.rne import DirectoryRow

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 200 * 1024 * 1024  # a whole-country directory file is a few tens of MB
UPLOAD_LIFETIME = timedelta(minutes=15)
PROGRESS_EVERY = 500  # rows between two progress writes
MAX_REPORTED_ERRORS = 100
STALE_AFTER = timedelta(minutes=5)  # a running import with no progress for this long is taken over


def _layouts(kind: str) -> dict:
    """The headers a kind of file may have, each with its row converter."""
    # cold start: the file formats 4 ms (domain.rne 2 ms, domain.reference_files 2 ms), read by the import function
    # only, never by the API
    from ..domain import reference_files, rne

    return {"communes": reference_files.COMMUNE_LAYOUTS, "prefectures": reference_files.PREFECTURE_LAYOUTS,
            "rne_cm": rne.RNE_CM_LAYOUTS, "rne_maires": rne.RNE_MAIRES_LAYOUTS}[kind]


class Writer(ABC):
    """Stores the parsed rows of one kind."""

    layouts: tuple
    needs_first_pass = False  # True: ``set_aside`` reads the file's valid rows once before anything is written

    def set_aside(self, records: Iterable[tuple[int, object]]) -> dict[int, str]:
        """Lines of valid rows not to write, each with the warning the report gives (first pass only)."""
        return {}

    @abstractmethod
    def write(self, row) -> None:
        """Store one valid row (may buffer it until ``flush``)."""

    def flush(self) -> None:
        """Write what is buffered; called every PROGRESS_EVERY rows and at the end."""

    def finish(self) -> None:
        """Called once every row is written (e.g. to mark what the file no longer contains)."""


class CommuneWriter(Writer):
    def __init__(self, import_id: str):
        self.layouts = _layouts("communes")
        self.import_id = import_id

    def write(self, row: CommuneRow) -> None:
        # An update, not a put: the registration state and activation code of the commune must survive a re-import.
        Commune(row.siren).update(actions=[
            Commune.insee_code.set(row.insee_code),
            Commune.name.set(row.name),
            Commune.department_code.set(row.department_code),
        ])


class PrefectureWriter(Writer):
    def __init__(self, import_id: str):
        self.layouts = _layouts("prefectures")
        self.import_id = import_id
        self._batch = Prefecture.batch_write()

    def write(self, row: PrefectureRow) -> None:
        self._batch.save(Prefecture(row.department_code, name=row.name, address=row.address,
                                    postal_code=row.postal_code, city=row.city))

    def flush(self) -> None:
        self._batch.commit()


class DirectoryWriter(Writer):
    """The rows of one of the directory's files (``source``: "rne_cm" or "rne_maires"), in batched puts (25 a call);
    once they are all written, the rows of that file's previous import that this one did not rewrite are ended."""

    def __init__(self, source: str, import_id: str):
        self.source = source
        self.import_id = import_id
        self.layouts = _layouts(source)
        self._batch = DirectoryItem.batch_write()
        self.communes: set[str] = set()  # INSEE codes whose rows this import wrote or ended: the communes to tell
        # département -> INSEE codes of the communes with an official this file entitles to a card (the dashboards)
        self.eligible: dict[str, set[str]] = {}

    def write(self, row: DirectoryRow) -> None:
        key = row.person_key
        self.communes.add(row.insee_code)
        if row.department_code and stats.entitles_commune(self.source, row.function_label):
            self.eligible.setdefault(row.department_code, set()).add(row.insee_code)
        self._batch.save(DirectoryItem(
            row.insee_code, directory.row_key(key, self.source, row.function_label),
            person_key=key, source=self.source, last_name=row.last_name, first_name=row.first_name, sex=row.sex,
            birth_date=row.birth_date.isoformat(), mandate_start=row.mandate_start.isoformat(),
            function_label=row.function_label, department_code=row.department_code,
            department_label=row.department_label or row.collectivity_label, commune_label=row.commune_label,
            status="active", generation=directory.generation(self.source, self.import_id, key),
        ))

    def flush(self) -> None:
        self._batch.commit()

    def finish(self) -> None:
        pointer_id = f"latest:{self.source}"
        try:
            previous = ReferenceImport.get(pointer_id).latest_import_id
        except ReferenceImport.DoesNotExist:
            previous = None
        if previous and previous != self.import_id:
            ended = self._end_rows_of(previous)
            log.info("directory rows ended", extra={"source": self.source, "ended": ended})
        now = clock.now()
        ReferenceImport(pointer_id, kind=self.source, status="pointer", created_by="system", created_at=now,
                        updated_at=now, latest_import_id=self.import_id).save()
        # cold start: store.stats 1 ms, for the import function only
        from ..store import stats as counters

        counters.record_eligible(self.source, self.eligible)
        checked = directory_news.announce(self.import_id, self.source, self.communes)
        ReferenceImport(self.import_id).update(actions=[ReferenceImport.communes_checked.set(checked)])

    def _end_rows_of(self, previous_import: str) -> int:
        ended = 0
        now = clock.now()
        persons: set[tuple[str, str]] = set()
        for shard in range(directory.SHARDS):
            stale_generation = f"{self.source}#{previous_import}#{shard}"
            for key in DirectoryItem.by_generation.query(stale_generation):
                try:
                    DirectoryItem(key.insee_code, key.row_key).update(
                        actions=[DirectoryItem.status.set("ended"), DirectoryItem.ended_at.set(now)],
                        condition=(DirectoryItem.generation == stale_generation)
                        & (DirectoryItem.status == "active"),
                    )
                    ended += 1
                    persons.add((key.insee_code, key.row_key.split("#", 1)[0]))
                    self.communes.add(key.insee_code)
                except UpdateError as error:
                    if not is_condition_failure(error):
                        raise
                    # rewritten by this import meanwhile (index lag) or already ended
        if persons:
            mandates.review(persons)
        return ended


class MayorsWriter(DirectoryWriter):
    """The mayors' file, which may list a commune twice: only the row ``rne.mayor_rank`` ranks first is written (a
    first pass over the file finds it, keeping a few figures a commune, not the rows)."""

    needs_first_pass = True

    def __init__(self, import_id: str):
        super().__init__("rne_maires", import_id)

    def set_aside(self, records: Iterable[tuple[int, DirectoryRow]]) -> dict[int, str]:
        # cold start: domain.rne 2 ms, read by the import function only (see _layouts, which loaded it already)
        from ..domain import rne

        kept: dict[str, tuple[tuple, str]] = {}  # INSEE code -> (rank, who), the best row so far
        beaten: list[tuple[int, str, str, str]] = []  # (line, INSEE code, commune, who)
        for line, row in records:
            candidate = (rne.mayor_rank(row, line), rne.mayor_described(row))
            current = kept.get(row.insee_code)
            if current is None or candidate[0] > current[0]:
                kept[row.insee_code] = candidate
                loser = current
            else:
                loser = candidate
            if loser is not None:
                beaten.append((loser[0][-1], row.insee_code, row.commune_label, loser[1]))
        return {line: rne.set_aside_mayor(commune, insee_code, who, kept[insee_code][0][-1], kept[insee_code][1])
                for line, insee_code, commune, who in beaten}


WRITERS: dict[str, Callable[[str], Writer]] = {
    "communes": CommuneWriter,
    "prefectures": PrefectureWriter,
    "rne_cm": functools.partial(DirectoryWriter, "rne_cm"),
    "rne_maires": MayorsWriter,
}


# --- API side -----------------------------------------------------------------------------------------------------

def start_import(principal: Principal, kind: str) -> dict:
    if kind not in WRITERS:
        raise PortalError(400, "invalid_request", "Type de fichier inconnu.", details={"kind": "Valeur non autorisée."})
    import_id = create_import(kind, principal.email, "upload")
    upload = files.presigned_post(upload_key(import_id, kind), MAX_FILE_BYTES, None, UPLOAD_LIFETIME)
    return {"id": import_id, "kind": kind, "status": "pending",
            "upload": {"url": upload["url"], "fields": upload["fields"]}, "expires_at": upload["expires_at"]}


def create_import(kind: str, created_by: str, source: str) -> str:
    """A pending import of ``kind``: the file put at ``upload_key(id, kind)`` starts it (the S3 event), whoever puts it
    (the operator's browser through a presigned POST, or the data.gouv.fr sync)."""
    now = clock.now()
    import_id = uuid.uuid4().hex
    ReferenceImport(import_id, kind=kind, status="pending", created_by=created_by, created_at=now, updated_at=now,
                    source=source).save()
    return import_id


def describe_import(import_id: str) -> dict:
    try:
        item = ReferenceImport.get(import_id)
    except ReferenceImport.DoesNotExist:
        raise PortalError(404, "not_found", "Cet import n'existe pas.") from None
    return _view(item)


def _view(item: ReferenceImport) -> dict:
    return {
        "id": item.import_id, "kind": item.kind, "status": item.status, "rows": item.rows,
        "imported": item.imported, "rejected": item.rejected,
        "errors": [{"line": e.line, "reason": e.reason} for e in item.errors or []],
        "warnings": [{"line": w.line, "reason": w.reason} for w in item.warnings or []],
        "notes": list(item.notes or []), "source": item.source or "upload",
        "communes_checked": item.communes_checked,
        "failure": item.failure, "created_at": clock.iso(item.created_at), "updated_at": clock.iso(item.updated_at),
    }


def upload_key(import_id: str, kind: str) -> str:
    return f"{files.IMPORTS_PREFIX}{import_id}/{kind}.csv"


def is_directory_file(key: str) -> bool:
    parsed = parse_upload_key(key)
    return parsed is not None and parsed[1] in ("rne_cm", "rne_maires")


def parse_upload_key(key: str) -> tuple[str, str] | None:
    if not key.startswith(files.IMPORTS_PREFIX):
        return None
    parts = key[len(files.IMPORTS_PREFIX):].split("/")
    if len(parts) != 2 or not parts[1].endswith(".csv"):
        return None
    return parts[0], parts[1][: -len(".csv")]


# --- trigger side -------------------------------------------------------------------------------------------------

def run_import(key: str) -> None:
    """Import the object at ``key``; safe to call twice for the same object."""
    parsed = parse_upload_key(key)
    if parsed is None:
        log.warning("ignored object outside the import layout", extra={"key": key})
        return
    import_id, kind = parsed
    item = _claim(import_id, kind)
    if item is None:
        return
    try:
        obj = files.open_object(key)
        if obj["ContentLength"] > MAX_FILE_BYTES:
            _finish(item, failure=f"Fichier trop volumineux (plus de {MAX_FILE_BYTES // (1024 * 1024)} Mo).")
            return
        first = [obj["Body"]]  # the object already opened serves the first read; a second one opens it again

        def open_lines() -> Iterable[bytes]:
            body = first.pop() if first else files.open_object(key)["Body"]
            return body.iter_lines(keepends=True)

        _import_rows(item, WRITERS[kind](import_id), open_lines)
    except BadHeader as refused:
        _finish(item, failure=str(refused))
    except Exception:
        # Give the claim back so that the retry of the event (SQS) starts again; rows already written are rewritten
        # identically.
        item.update(actions=[ReferenceImport.status.set("pending"), ReferenceImport.updated_at.set(clock.now())])
        raise


def _claim(import_id: str, kind: str) -> ReferenceImport | None:
    now = clock.now()
    item = ReferenceImport(import_id)
    try:
        item.update(
            actions=[ReferenceImport.status.set("running"), ReferenceImport.updated_at.set(now),
                     ReferenceImport.rows.set(0), ReferenceImport.imported.set(0), ReferenceImport.rejected.set(0),
                     ReferenceImport.errors.set([]), ReferenceImport.warnings.set([]), ReferenceImport.notes.remove(),
                     ReferenceImport.failure.remove(), ReferenceImport.communes_checked.remove()],
            condition=(ReferenceImport.kind == kind)
            & ((ReferenceImport.status == "pending")
               | ((ReferenceImport.status == "running") & (ReferenceImport.updated_at < now - STALE_AFTER))),
        )
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        log.info("import already claimed, finished or unknown: event ignored", extra={"import_id": import_id})
        return None
    return item


class _Report:
    """What the import tells the operator, kept on the import's item as it goes."""

    def __init__(self):
        self.rows = self.imported = self.rejected = 0
        self.errors: list[RowError] = []
        self.warnings: list[RowError] = []
        self.notes: list[str] = []

    def refuse(self, error: RowError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def warn(self, line: int, reason: str) -> None:
        if len(self.warnings) < MAX_REPORTED_ERRORS:
            self.warnings.append(RowError(line, reason))

    def save(self, item: ReferenceImport) -> None:
        item.update(actions=[
            ReferenceImport.rows.set(self.rows), ReferenceImport.imported.set(self.imported),
            ReferenceImport.rejected.set(self.rejected), ReferenceImport.updated_at.set(clock.now()),
            ReferenceImport.errors.set([ImportError_(line=e.line, reason=e.reason) for e in self.errors]),
            ReferenceImport.warnings.set([ImportError_(line=w.line, reason=w.reason) for w in self.warnings]),
            ReferenceImport.notes.set(self.notes),
        ])


def _import_rows(item: ReferenceImport, writer: Writer, open_lines: Callable[[], Iterable[bytes]]) -> None:
    """Read the file (twice for a writer that needs a first pass), write its valid rows, report the rest."""
    aside: dict[int, str] = {}
    if writer.needs_first_pass:
        valid = ((line, record) for line, record in read_rows(open_lines(), writer.layouts)
                 if not isinstance(record, RowError))
        aside = writer.set_aside(valid)
    report = _Report()
    for line, record in read_rows(open_lines(), writer.layouts, report.notes):
        report.rows += 1
        if isinstance(record, RowError):
            report.refuse(record)
        elif line in aside:
            report.warn(line, aside[line])
        else:
            writer.write(record)
            report.imported += 1
        if report.rows % PROGRESS_EVERY == 0:
            writer.flush()
            report.save(item)
    writer.flush()
    report.save(item)
    writer.finish()
    _finish(item)


def _finish(item: ReferenceImport, failure: str | None = None) -> None:
    actions = [ReferenceImport.status.set("failed" if failure else "done"), ReferenceImport.updated_at.set(clock.now())]
    if failure:
        actions.append(ReferenceImport.failure.set(failure))
    item.update(actions=actions)
