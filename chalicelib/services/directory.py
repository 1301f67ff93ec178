"""The national directory of elected officials (RNE) as the portal keeps it: its keys, and the commune's search.

Each published row is one item in the commune's partition (``insee_code``), keyed by person, source file and
function, so a person on two rows (two functions) keeps both, and the rows of the two files do not overwrite each
other. Every row carries the import that wrote it (its generation, spread over ``SHARDS`` index keys); the rows that
a newer import of the same file no longer carries are ``ended``, never deleted, so orders keep their history. The
rows are written by the import of the Ministry's files (``reference_imports.DirectoryWriter``), which depends on this
module, as ``mandates`` does; this one depends on neither.
"""
from ..domain import functions
from ..domain.functions import person_order
from ..domain.names import matches, search_key
from ..domain.officials import Registration
from ..domain.roles import Principal
from ..errors import PortalError
from ..store.tables import DirectoryItem

SHARDS = 16
REGISTERED_PREFIX = Registration.KEY_PREFIX


def row_key(person_key: str, source: str, function_label: str) -> str:
    return f"{person_key}#{source}#{search_key(function_label).replace(' ', '-') or '-'}"


def generation(source: str, import_id: str, person_key: str) -> str:
    return f"{source}#{import_id}#{int(person_key[:4], 16) % SHARDS}"


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
    person = listed_person(insee_code, person_key)
    if person is None:
        raise not_found
    return person


def listed_person(insee_code: str, person_key: str) -> dict | None:
    """The person as the directory lists them now (their active rows merged), or None: one query."""
    rows = [row for row in DirectoryItem.query(insee_code, DirectoryItem.row_key.startswith(person_key + "#"))
            if row.status == "active"]
    return merge_persons(rows)[0] if rows else None
