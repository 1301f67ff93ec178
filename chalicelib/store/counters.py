"""Rate-limit counters: a sliding window in one item, read with the request's other reads, counted in its write.

One item per limited thing (``<limit>#<subject>``: a SIREN, an email, a source address) holds the attempts of the
last window in 60 time buckets, one attribute each (``b<bucket number>``). Counting an attempt is a single
``ADD b<now>`` that needs no read and no condition (it also drops a few buckets that just left the window; older ones
are ignored and DynamoDB's TTL removes idle items), so it can ride in the request's own transaction; checking a
limit reads the item in the request's first BatchGetItem. A subject is refused while the window holds ``attempts``
attempts or more; ``Retry-After`` is the time until enough buckets leave the window, exact to a sixtieth of it.

The check and the count are separate calls: attempts sent at the very same instant may all pass the check, so the
limit can be overshot by the number of concurrent requests; that is the price of one read and no extra write, and a
guessing attack is still bounded by it.
"""
from datetime import datetime, timezone

from pynamodb.expressions.operand import Path

from .. import clock
from ..domain.limits import BUCKETS, Limit, retry_after  # noqa: F401 (the rule is the domain's; re-exported)
from .batch import Wanted
from .tables import Counter

# Buckets dropped on each count, beyond the window: enough that a counter used steadily never grows.
_SWEEP = 5


def key(limit: Limit, subject: str) -> str:
    return f"{limit.name}#{subject}"


def wanted(limit: Limit, subject: str) -> Wanted:
    """The counter's item, to read in a batch (raw: its bucket attributes are not declared on the model)."""
    return Wanted(Counter, key(limit, subject), raw=True)


def count_actions(limit: Limit, now: float | None = None) -> list:
    """The update actions that count one attempt now: for ``Counter(key).update`` or a transaction's update."""
    now = clock.now().timestamp() if now is None else now
    current = int(now // limit.bucket_seconds)
    stale = [Path(f"b{current - BUCKETS - age}").remove() for age in range(_SWEEP)]
    purge_at = datetime.fromtimestamp(now + limit.window_seconds + 3600, timezone.utc)
    return [Path(f"b{current}").add(1), Counter.purge_at.set(purge_at), *stale]


def count_in(writes, limit: Limit, subject: str) -> None:
    """Count one attempt inside a transaction (``store.tables.transaction()``)."""
    writes.update(Counter(key(limit, subject)), actions=count_actions(limit))


def clear(limit: Limit, subject: str) -> None:
    Counter(key(limit, subject)).delete()


def clear_in(writes, limit: Limit, subject: str) -> None:
    """Forget a subject's attempts inside a transaction (a successful login, a new activation code)."""
    writes.delete(Counter(key(limit, subject)))
