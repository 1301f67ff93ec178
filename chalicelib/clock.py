"""The current time, in one place so that tests can move it."""
from datetime import datetime, timezone


def now() -> datetime:
    # Microseconds kept: a session opened just after a password change must come after the revocation it made.
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
