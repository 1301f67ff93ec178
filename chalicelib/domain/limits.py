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
    attempts: int  # refused once this many attempts are in the window...
    window_seconds: int  # ...the last this many seconds (a multiple of 60)

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
