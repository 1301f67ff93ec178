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
from .batch import Wanted, get_many
from .tables import Counter, is_condition_failure, transaction

# Longer than SQS keeps a message (4 days, infra/template.py) and its redrives: a late duplicate still finds it.
MARKER_KEPT = timedelta(days=15)


def key(scope: str, week: str) -> str:
    return f"stats#{scope}#{week}"


def record(event: dict, now: datetime) -> bool:
    """Adds the event's counts to its weeks' items; False when it was counted already (a redelivery)."""
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


def read(scope: str, weeks: list[str]) -> list[dict | None]:
    """The counters of each week (name -> count), None for a week without events: one BatchGetItem."""
    raw_items = get_many([Wanted(Counter, key(scope, week), raw=True) for week in weeks], consistent=False)
    return [None if raw is None else {name: int(value["N"]) for name, value in raw.items() if "N" in value}
            for raw in raw_items]
