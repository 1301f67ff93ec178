"""Abuse limits as a rule: a sliding window of attempts, in 60 time buckets (stored by ``store/counters.py``).

A subject is refused while the window holds ``attempts`` attempts or more; ``Retry-After`` is the time until enough
buckets leave the window, exact to a sixtieth of it.
"""
from typing import NamedTuple

from .. import clock
from .changes import Refused

BUCKETS = 60


class Limit(NamedTuple):
    name: str  # part of the key: what is being limited
    attempts: int  # refused (or, for an alert, someone told) once this many attempts are in the window...
    window_seconds: int  # ...the last this many seconds (a multiple of 60)
    refuses: bool = True  # False: an alert threshold, counted but never a reason to refuse

    @property
    def lock_seconds(self) -> int:
        """The longest a refusal lasts: until the attempts that caused it have left the window."""
        return self.window_seconds

    @property
    def bucket_seconds(self) -> int:
        return max(1, self.window_seconds // BUCKETS)


def _buckets(raw: dict | None) -> dict[int, int]:
    if not raw:
        return {}
    return {int(name[1:]): int(value["N"]) for name, value in raw.items()
            if name.startswith("b") and name[1:].isdigit() and "N" in value}


def attempts_in_window(limit: Limit, raw: dict | None, now: float | None = None) -> int:
    """How many attempts the window holds now."""
    now = clock.now().timestamp() if now is None else now
    current = int(now // limit.bucket_seconds)
    return sum(n for bucket, n in _buckets(raw).items() if current - BUCKETS < bucket <= current)


def since(limit: Limit, raw: dict | None, moment) -> dict | None:
    """The counter as read, without the attempts counted until ``moment`` (a datetime, or None to keep them all): what
    a successful password reset forgets. A bucket is the finest grain: the one that holds the moment is forgotten
    too, so the attempts of the first sixtieth of the window after a reset (15 s for logins) are not counted."""
    if not raw or moment is None:
        return raw
    last_forgotten = int(moment.timestamp() // limit.bucket_seconds)
    return {name: value for name, value in raw.items()
            if not (name.startswith("b") and name[1:].isdigit() and int(name[1:]) <= last_forgotten)}


def retry_after(limit: Limit, raw: dict | None, now: float | None = None) -> int | None:
    """Seconds to wait before the next attempt is allowed, or None when it is allowed now."""
    buckets = _buckets(raw)
    if not buckets or not limit.refuses:
        return None
    now = clock.now().timestamp() if now is None else now
    current = int(now // limit.bucket_seconds)
    for later in range(BUCKETS + 1):
        last = current + later
        count = sum(n for bucket, n in buckets.items() if last - BUCKETS < bucket <= last)
        if count < limit.attempts:
            return None if later == 0 else max(1, int(last * limit.bucket_seconds - now))
    return limit.window_seconds  # unreachable: every bucket has left the window after BUCKETS steps



class TooManyAttempts(Refused):
    def __init__(self, seconds: int):
        minutes = max(1, round(seconds / 60))
        super().__init__("too_many_attempts",
                         f"Trop de tentatives. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.")
        self.retry_after = seconds


def check(*limited: tuple) -> None:
    """Refuse (``TooManyAttempts``) if any of these limits, each with its counter as read, is reached."""
    waits = [seconds for limit, raw in limited if (seconds := retry_after(limit, raw))]
    if waits:
        raise TooManyAttempts(max(waits))
