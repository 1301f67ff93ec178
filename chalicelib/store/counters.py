"""Rate-limit counters: one atomic DynamoDB update per failure, no read-modify-write."""
from dataclasses import dataclass

from pynamodb.exceptions import PutError, UpdateError

from .. import clock
from .tables import Counter


@dataclass(frozen=True)
class Limit:
    name: str  # part of the key: what is being limited
    attempts: int  # this many failures in the window...
    window_seconds: int  # ...within this long...
    lock_seconds: int  # ...lock for this long from the last one


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}#{subject}"


def retry_after(limit: Limit, subject: str) -> int | None:
    """Seconds to wait if the subject is locked, else None."""
    try:
        counter = Counter.get(_key(limit, subject), consistent_read=True)
    except Counter.DoesNotExist:
        return None
    return _wait(limit, counter)


def current(checks: list[tuple[Limit, str]]) -> dict[tuple[str, str], "Counter"]:
    """The counters of several (limit, subject) pairs in one read (BatchGetItem)."""
    found = {c.key: c for c in Counter.batch_get([_key(limit, subject) for limit, subject in checks])}
    return {(limit.name, subject): found[_key(limit, subject)] for limit, subject in checks
            if _key(limit, subject) in found}


def wait_for(limit: Limit, counter: "Counter | None") -> int | None:
    return _wait(limit, counter) if counter is not None else None


def _wait(limit: Limit, counter: Counter) -> int | None:
    now = clock.now().timestamp()
    if counter.count >= limit.attempts and counter.window_ends_at > now:
        return max(1, int(counter.window_ends_at - now))
    return None


def record_failure(limit: Limit, subject: str) -> int:
    """Count one failure; returns the count in the current window. Reaching the limit starts the lock."""
    now = int(clock.now().timestamp())
    key = _key(limit, subject)
    for _ in range(3):
        counter = Counter(key)
        try:
            # Count in the current window; an absent or ended window is (re)started below.
            counter.update(actions=[Counter.count.add(1)], condition=Counter.window_ends_at > now)
            count = counter.count
            break
        except UpdateError as error:
            if not _is_condition_failure(error):
                raise
        fresh = Counter(key, count=1, window_ends_at=now + limit.window_seconds)
        fresh.purge_at = _epoch_to_datetime(now + max(limit.window_seconds, limit.lock_seconds) + 60)
        try:
            # Conditional so that two first failures at the same instant do not both start a window.
            fresh.save(condition=Counter.key.does_not_exist() | (Counter.window_ends_at <= now))
            count = 1
            break
        except PutError as error:
            if not _is_condition_failure(error):
                raise
    else:
        raise RuntimeError("rate-limit counter kept changing under us")
    if count == limit.attempts:
        lock_end = now + limit.lock_seconds
        Counter(key).update(
            actions=[
                Counter.window_ends_at.set(lock_end),
                Counter.purge_at.set(_epoch_to_datetime(lock_end + 60)),
            ]
        )
    return count


def clear(limit: Limit, subject: str) -> None:
    Counter(_key(limit, subject)).delete()


def _is_condition_failure(error) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _epoch_to_datetime(epoch: int):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, timezone.utc)
