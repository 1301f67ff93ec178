"""The dashboards' counters (``domain/stats.py``), in the counters table: one item per (scope, week),
``stats#<scope>#<monday>``, with one number attribute per counter.

An event is counted once although SQS delivers at least once: one transaction puts a marker item named after the
event (on the condition that it does not exist yet; DynamoDB's TTL removes it once no redelivery can come) and adds
the event's counts to the national item and to its département's item with ADD (no read). A second delivery fails
the marker's condition and adds nothing.
"""
from datetime import datetime, timedelta

from pynamodb.expressions.operand import Path

from ..domain import stats
from ..domain.cards import A_RESTITUER
from .batch import MAX_KEYS, Wanted, get_many
from .tables import Commune, Counter, RegisteredCard, is_condition_failure, transaction

# Longer than SQS keeps a message (4 days, infra/template.py) and its redrives: a late duplicate still finds it.
MARKER_KEPT = timedelta(days=15)


def key(scope: str, week: str) -> str:
    return f"stats#{scope}#{week}"


def communes_key(scope: str) -> str:
    """The scope's communes: ``eligible`` (set by each directory import) and ``ordered`` (added to by first orders)."""
    return key(scope, "communes")


def eligible_key(source: str, department: str) -> str:
    return f"eligible-communes#{source}#{department}"


def _scopes(department: str) -> tuple[str, str]:
    return stats.NATIONAL, stats.department_scope(department)


def record(event: dict, now: datetime) -> bool:
    """Adds the event's counts to its weeks' items; False when it was counted already (a redelivery). An order sent
    first marks its commune first."""
    if event.get("siren"):
        first_order(event["siren"], event["department_code"], now)
    actions = [Path(name).add(int(count)) for name, count in sorted(event["counts"].items())]
    try:
        with transaction() as writes:
            writes.save(Counter(f"stats-event#{event['event_id']}", purge_at=now + MARKER_KEPT),
                        condition=Counter.key.does_not_exist())
            for scope in (stats.NATIONAL, stats.department_scope(event["department_code"])):
                writes.update(Counter(key(scope, event["week"])), actions=actions)
    except Exception as error:  # noqa: BLE001 - only the marker's condition is an answer; the rest propagates
        if is_condition_failure(error):
            return False
        raise
    return True


def read(scope: str, weeks: list[str]) -> tuple[list[dict | None], dict]:
    """The counters of each week (name -> count), None for a week without events, and the scope's communes
    (``eligible``, ``ordered``): one BatchGetItem (52 weeks and one item at most)."""
    raw_items = get_many([Wanted(Counter, key(scope, week), raw=True) for week in weeks]
                         + [Wanted(Counter, communes_key(scope), raw=True)], consistent=False)
    counted = [None if raw is None else {name: int(value["N"]) for name, value in raw.items() if "N" in value}
               for raw in raw_items]
    return counted[:-1], {name: counted[-1].get(name, 0) for name in ("eligible", "ordered")} if counted[-1] else {}


def first_order(siren: str, department: str, now: datetime) -> bool:
    """The commune's first order sent: its marker set on condition and the communes that ordered counted, in one
    transaction; False (nothing written) when the commune had ordered already. Done before the event's own counts:
    a redelivery after a failure between the two finds the marker and counts the rest."""
    try:
        with transaction() as writes:
            writes.update(Commune(siren), actions=[Commune.first_order_at.set(now)],
                          condition=Commune.siren.exists() & Commune.first_order_at.does_not_exist())
            for scope in _scopes(department):
                writes.update(Counter(communes_key(scope)), actions=[Counter.ordered.add(1)])
    except Exception as error:  # noqa: BLE001 - only the marker's condition is an answer
        if is_condition_failure(error):
            return False
        raise
    return True


def _read_all(keys: list[str]) -> list:
    found = []
    for start in range(0, len(keys), MAX_KEYS):
        found += get_many([Wanted(Counter, k) for k in keys[start:start + MAX_KEYS]], consistent=False)
    return found


def record_eligible(source: str, by_department: dict[str, set[str]]) -> dict[str, int]:
    """After a directory file is imported: the INSEE codes of the communes it entitles, per département, replace that
    file's previous ones, and each département's count of eligible communes (those either file lists) is set, with
    the national sum. A few hundred small items read and written by the import function, once per file; the
    dashboards then read one item. Returns the counts by département."""
    registry = f"eligible-communes#{source}"
    previous = _read_all([registry])[0]
    gone = set(previous.codes or ()) - set(by_department) if previous else set()
    with Counter.batch_write() as batch:
        for department, codes in by_department.items():
            batch.save(Counter(eligible_key(source, department), codes=set(codes)))
        for department in gone:
            batch.delete(Counter(eligible_key(source, department)))
        batch.save(Counter(registry, codes=set(by_department) or None))
    others = [other for other in stats.DIRECTORY_SOURCES if other != source]
    departments = set(by_department) | gone
    for item in _read_all([f"eligible-communes#{other}" for other in others]):
        departments |= set(item.codes or ()) if item else set()
    departments = sorted(departments)
    wanted = [eligible_key(s, d) for d in departments for s in (source, *others)]
    sets = dict(zip(wanted, _read_all(wanted)))
    counts = {d: len(set().union(*[(sets[eligible_key(s, d)].codes or set()) if sets[eligible_key(s, d)] else set()
                                   for s in (source, *others)])) for d in departments}
    for department, count in counts.items():
        Counter(communes_key(stats.department_scope(department))).update(actions=[Counter.eligible.set(count)])
    Counter(communes_key(stats.NATIONAL)).update(actions=[Counter.eligible.set(sum(counts.values()))])
    return counts


def eligible_codes(department: str) -> set[str]:
    """The INSEE codes of a département's communes with an official entitled to a card (either directory file)."""
    codes: set[str] = set()
    for item in _read_all([eligible_key(source, department) for source in stats.DIRECTORY_SOURCES]):
        codes |= set(item.codes or ()) if item else set()
    return codes


def communes_without_order(department: str) -> list[dict]:
    """A département's communes that a directory file entitles and that sent no order, by name."""
    eligible = eligible_codes(department)
    found = [{"siren": item.siren, "insee_code": item.insee_code, "name": item.name,
              "registered": item.registered_at is not None}
             for item in Commune.by_department.query(department)
             if item.insee_code in eligible and item.first_order_at is None]
    return sorted(found, key=lambda commune: (commune["name"], commune["insee_code"]))


def cards_to_return(department: str | None) -> int:
    """The registry's cards to give back, counted by a query of its index (``Select=COUNT``: no item returned)."""
    if department:
        return RegisteredCard.by_department_status.count(f"{department}#{A_RESTITUER}")
    return RegisteredCard.by_status.count(A_RESTITUER)
