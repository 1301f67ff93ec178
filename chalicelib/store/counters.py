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
from typing import NamedTuple

from pynamodb.expressions.operand import Path

from .. import clock
from .batch import Wanted
from .tables import Counter

BUCKETS = 60
# Buckets dropped on each count, beyond the window: enough that a counter used steadily never grows.
_SWEEP = 5


class Limit(NamedTuple):
    name: str  # part of the key: what is being limited
    attempts: int  # refused once this many attempts are in the window...
    window_seconds: int  # ...the last this many seconds (a multiple of 60)

    @property
    def lock_seconds(self) -> int:
        """The longest a refusal lasts: until the attempts that caused it have left the window."""
        return self.window_seconds

    @property
    def bucket_seconds(self) -> int:
        return max(1, self.window_seconds // BUCKETS)


def key(limit: Limit, subject: str) -> str:
    return f"{limit.name}#{subject}"


def wanted(limit: Limit, subject: str) -> Wanted:
    """The counter's item, to read in a batch (raw: its bucket attributes are not declared on the model)."""
    return Wanted(Counter, key(limit, subject), raw=True)


def _buckets(raw: dict | None) -> dict[int, int]:
    if not raw:
        return {}
    return {int(name[1:]): int(value["N"]) for name, value in raw.items()
            if name.startswith("b") and name[1:].isdigit() and "N" in value}


def retry_after(limit: Limit, raw: dict | None, now: float | None = None) -> int | None:
    """Seconds to wait before the next attempt is allowed, or None when it is allowed now."""
    buckets = _buckets(raw)
    if not buckets:
        return None
    now = clock.now().timestamp() if now is None else now
    current = int(now // limit.bucket_seconds)
    for later in range(BUCKETS + 1):
        last = current + later
        count = sum(n for bucket, n in buckets.items() if last - BUCKETS < bucket <= last)
        if count < limit.attempts:
            return None if later == 0 else max(1, int(last * limit.bucket_seconds - now))
    return limit.window_seconds  # unreachable: every bucket has left the window after BUCKETS steps


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
