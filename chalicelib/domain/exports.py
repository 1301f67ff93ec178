"""Which list files are written while the person waits, and which in the background (docs/exports.md)."""
from .roles import MANUFACTURER, MINISTRY, Principal

# The roles that read the whole country's orders and cards (the card maker's operators, the ministry's tools).
NATIONAL_ROLES = frozenset({MANUFACTURER, MINISTRY})


def in_background(principal: Principal, department: str | None) -> bool:
    """A national list (the card maker's or the ministry's, no département chosen) grows with the wave to hundreds of
    thousands of rows: more than an API call's 29 seconds can write. Its file is written by a worker and the person
    follows it. A département's list, a commune's, fits in a call (measured in docs/exports.md) and is answered at
    once."""
    return principal.role in NATIONAL_ROLES and not department
