"""What the photo assistant's verdicts mean for a card order: the one rule, written once.

The assistant (chalicelib/imaging/assistant.py) gives each photo checks ``{"code", "level", "message"}``; the
official keeps them. An error-level check (no face, several faces, a face far too small, too few pixels...) forbids
ordering a card with that photo; a warning is shown and the agent decides.
"""
from typing import Iterable, Mapping

ERROR, WARNING = "error", "warning"


def blocking_checks(checks: Iterable[Mapping] | None) -> list[Mapping]:
    """The checks that forbid ordering a card with the photo, in their order."""
    return [check for check in checks or [] if check["level"] == ERROR]


def blocks_ordering(checks: Iterable[Mapping] | None) -> bool:
    return bool(blocking_checks(checks))
