"""The national directory of elected officials (RNE): import and search.

Each published row is one item in the commune's partition (``insee_code``), keyed by person, source file and
function, so a person on two rows (two functions) keeps both, and the rows of the two files do not overwrite each
other. Rows are written with batched puts (25 per call). Every row carries the import that wrote it (its generation);
when an import completes, the rows still carrying the previous import of the same file are the officials who left the
directory: they are marked ``ended`` (never deleted, so orders keep their history).
"""
import logging
from typing import TYPE_CHECKING

from pynamodb.exceptions import UpdateError

from .. import clock
from ..domain import functions
from ..domain.functions import person_order
from ..domain.names import matches, search_key
from ..domain.roles import Principal
from ..errors import PortalError
from ..store.tables import DirectoryItem, ReferenceImport, is_condition_failure
from .reference_imports import Writer

if TYPE_CHECKING:
    from ..domain.rne import DirectoryRow

log = logging.getLogger(__name__)

SHARDS = 16
REGISTERED_PREFIX = "registered#"


def _layouts(source: str):
    """The RNE file's layouts: imported by the import function only (the API's cold start does without them)."""
    from ..domain.rne import RNE_CM_LAYOUTS, RNE_MAIRES_LAYOUTS

    return {"rne_cm": RNE_CM_LAYOUTS, "rne_maires": RNE_MAIRES_LAYOUTS}[source]


def row_key(person_key: str, source: str, function_label: str) -> str:
    return f"{person_key}#{source}#{search_key(function_label).replace(' ', '-') or '-'}"


def generation(source: str, import_id: str, person_key: str) -> str:
    return f"{source}#{import_id}#{int(person_key[:4], 16) % SHARDS}"


class DirectoryWriter(Writer):
    def __init__(self, source: str, import_id: str):
        self.source = source
        self.import_id = import_id
        self.layouts = _layouts(source)
        self._batch = DirectoryItem.batch_write()

    def write(self, row: "DirectoryRow") -> None:
        key = row.person_key
        self._batch.save(DirectoryItem(
            row.insee_code, row_key(key, self.source, row.function_label),
            person_key=key, source=self.source, last_name=row.last_name, first_name=row.first_name, sex=row.sex,
            birth_date=row.birth_date.isoformat(), mandate_start=row.mandate_start.isoformat(),
            function_label=row.function_label, department_code=row.department_code,
            department_label=row.department_label or row.collectivity_label, commune_label=row.commune_label,
            status="active", generation=generation(self.source, self.import_id, key),
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

    def _end_rows_of(self, previous_import: str) -> int:
        ended = 0
        now = clock.now()
        persons: set[tuple[str, str]] = set()
        for shard in range(SHARDS):
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
                except UpdateError as error:
                    if not is_condition_failure(error):
                        raise
                    # rewritten by this import meanwhile (index lag) or already ended
        if persons:
            from .mandates import review

            review(persons)
        return ended


# --- search -------------------------------------------------------------------------------------------------------

def commune_partition(insee_code: str) -> tuple[list[DirectoryItem], set[str]]:
    """All rows of a commune and the persons it has registered, in one query."""
    rows, registered = [], set()
    for item in DirectoryItem.query(insee_code):
        if item.row_key.startswith(REGISTERED_PREFIX):
            registered.add(item.person_key)
        elif item.status == "active":
            rows.append(item)
    return rows, registered


def merge_persons(rows: list[DirectoryItem]) -> list[dict]:
    persons: dict[str, dict] = {}
    for row in rows:
        person = persons.setdefault(row.person_key, {
            "person_key": row.person_key, "insee_code": row.insee_code, "last_name": row.last_name,
            "first_name": row.first_name, "sex": row.sex, "birth_date": row.birth_date,
            "mandate_start": row.mandate_start, "department_label": row.department_label,
            "commune_label": row.commune_label, "rne_functions": [], "in_mayors_file": False,
        })
        if row.source == "rne_maires":
            person["in_mayors_file"] = True
        if row.function_label and row.function_label not in person["rne_functions"]:
            person["rne_functions"].append(row.function_label)
    for person in persons.values():
        person["rne_functions"].sort(key=lambda label: person_order([label]))
        person["eligible_functions"] = functions.eligible_functions(person["rne_functions"],
                                                                    person["in_mayors_file"])
    return sorted(persons.values(),
                  key=lambda p: person_order(p["rne_functions"] or (["Maire"] if p["in_mayors_file"] else []),
                                             p["last_name"], p["first_name"]))


def directory_id(insee_code: str, person_key: str) -> str:
    return f"{insee_code}.{person_key}"


def search_directory(principal: Principal, query: str) -> dict:
    rows, registered = commune_partition(principal.insee_code)
    items = []
    for person in merge_persons(rows):
        if query and not matches(query, person["last_name"], person["first_name"]):
            continue
        items.append({
            "id": directory_id(person["insee_code"], person["person_key"]),
            "last_name": person["last_name"], "first_name": person["first_name"], "sex": person["sex"],
            "birth_date": person["birth_date"], "mandate_start": person["mandate_start"],
            "rne_functions": person["rne_functions"] or (["Maire"] if person["in_mayors_file"] else []),
            "eligible_functions": [{"code": f, "label": functions.function_label(f, person["sex"])}
                                   for f in person["eligible_functions"]],
            "registered": person["person_key"] in registered,
        })
    return {"items": items, "next": None}


def find_person(principal: Principal, directory_id_: str) -> dict:
    """The directory entry of one person of the principal's commune, or 404 (also for another commune's person)."""
    insee_code, _, person_key = directory_id_.partition(".")
    not_found = PortalError(404, "not_found", "Cet élu ne figure pas dans le répertoire de votre commune.")
    if insee_code != principal.insee_code or not person_key:
        raise not_found
    rows = [row for row in DirectoryItem.query(insee_code, DirectoryItem.row_key.startswith(person_key + "#"))
            if row.status == "active"]
    if not rows:
        raise not_found
    return merge_persons(rows)[0]
