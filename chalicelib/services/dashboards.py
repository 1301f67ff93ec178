"""The dashboards (docs/orders.md, « Dashboards »): the order events handed to the stats function, counted there, the
back office's dashboard read from the counters (a few items, never the orders), and a commune's own progress."""
import logging

from ..domain import stats
from ..domain.changes import Refused
from ..domain.codes import DEPARTMENT_CODE
from ..domain.roles import PREFECTURE, Principal
from .collaborators import Collaborators

log = logging.getLogger(__name__)


def count(c: Collaborators, event: dict | None) -> None:
    """Hands an order event to the stats function. Called once the move is recorded: a lost event must not fail it
    (the dashboards are then one event short, as the log says)."""
    if event is None:
        return
    try:
        c.count_event(event)
    except Exception:  # noqa: BLE001 - the move is recorded; counting it is secondary
        log.exception("order event not counted", extra={"event_id": event["event_id"]})


def record(message: dict, now) -> bool:
    """The stats function: adds one event to the counters, once (False: already counted)."""
    # Imported here: the order services import this module for ``count``, and stay free of AWS libraries (their
    # in-memory tests check it).
    # cold start: chalicelib.store.stats 1 ms, kept out of the order services' imports (no AWS library there)
    from ..store import stats as counters

    return counters.record(message, now)


def dashboard(c: Collaborators, principal: Principal, scope: str | None, department: str | None,
              weeks: str | None) -> dict:
    """The card maker sees the nation or any département; a préfecture's agent always its own département (what it
    asks for otherwise is ignored, as in the back office's lists)."""
    try:
        count_weeks = int(weeks) if weeks not in (None, "") else stats.DEFAULT_WEEKS
    except ValueError:
        count_weeks = 0
    if not 1 <= count_weeks <= stats.MAX_WEEKS:
        raise Refused("invalid_request", f"Le nombre de semaines va de 1 à {stats.MAX_WEEKS}.",
                      details={"weeks": "Valeur non autorisée."})
    if principal.role == PREFECTURE:
        scope, department = "department", principal.department_code
    scope = scope or ("department" if department else "national")
    if scope not in ("national", "department"):
        raise Refused("invalid_request", "Périmètre inconnu : « national » ou « department ».",
                      details={"scope": "Valeur non autorisée."})
    if scope == "department" and not (department and DEPARTMENT_CODE.fullmatch(department)):
        raise Refused("invalid_request", "Précisez un code de département valide (par exemple 01, 2A, 974).",
                      details={"department": "Code de département requis."})
    # cold start: chalicelib.store.stats 1 ms, as in ``record`` (the order services import this module)
    from ..store import stats as counters

    key = stats.NATIONAL if scope == "national" else stats.department_scope(department)
    week_list = stats.last_weeks(c.now(), count_weeks)
    in_department = department if scope == "department" else None
    weekly, communes = counters.read(key, week_list)
    figures = stats.dashboard(week_list, weekly, communes, counters.cards_to_return(in_department))
    return {"scope": scope, "department_code": in_department, **figures}


def communes_without_order(principal: Principal, department: str | None) -> list[dict]:
    """A département's communes with an official entitled to a card and no order sent yet, by name (a préfecture:
    always its own; the card maker: the one it names): the directory files' INSEE codes (two items) and one query of
    the communes' ``by-department`` index (a few hundred small items)."""
    if principal.role == PREFECTURE:
        department = principal.department_code
    if not (department and DEPARTMENT_CODE.fullmatch(department)):
        raise Refused("invalid_request", "Précisez un code de département valide (par exemple 01, 2A, 974).",
                      details={"department": "Code de département requis."})
    # cold start: chalicelib.store.stats 1 ms, as in ``record``
    from ..store import stats as counters

    return counters.communes_without_order(department)


def commune_progress(c: Collaborators, principal: Principal) -> dict:
    """A commune's own progress, from its two partitions (one query each, its size: tens of rows): the persons the
    directory lists with a function entitled to a card, the officials it registered, those with a card ordered
    (an order in progress, a draft included, or a card already made) and those whose card was handed over."""
    # cold start: chalicelib.services.directory 0 ms (app.py loads it), on the store: as in ``record``
    from . import directory

    rows, _registered = directory.commune_partition(principal.insee_code)
    eligible = sum(1 for person in directory.merge_persons(rows) if person["eligible_functions"])
    officials = c.unit_of_work().officials.of_commune(principal.siren)
    return {
        "eligible": eligible,
        "registered": len(officials),
        "ordered": sum(1 for o in officials if o.active_order_id or o.held_card_number),
        "handed_over": sum(1 for o in officials if o.held_card_handed_over_at is not None),
    }
