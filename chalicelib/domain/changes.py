"""What an entity's rule answers: a refusal, or the change to write and what must still hold for it to be right.

A rule decides on what was read. Between that read and the write, another request may change the same record (two
tabs of one town hall, the image function, the card maker): the rule's decision is only right if what it relied on
still holds. So a rule does not write; it returns a ``Change`` naming the fields it sets and the fields it relied on
(``expects``). The unit of work (``store/unit_of_work.py``) turns each ``Change`` into one conditional write, and all
the changes of one use case into one transaction: either every rule still holds and everything is written, or
nothing is and the service says so (``Conflict``). No read-modify-write race, no half-written use case.
"""
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Refused(Exception):
    """A rule said no. ``code`` is the stable code programs read; the message is French, for people; ``details``
    say what, field by field or official by official. The API gives it the status its route declares for the code."""

    def __init__(self, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class Conflict(Exception):
    """What a change relied on no longer held when it was written: nothing was written. ``indexes`` are the changes
    of the unit of work that failed, when the store can tell (DynamoDB names every refused item of a transaction:
    two productions racing refuse both the counter and the card records the loser would create)."""

    def __init__(self, *indexes: int | None):
        self.indexes = frozenset(index for index in indexes if index is not None)
        super().__init__(f"changes {sorted(self.indexes)} no longer hold" if self.indexes
                         else "a change no longer holds")

    @property
    def index(self) -> int | None:
        """The one change that failed, or None when several did or the store could not tell."""
        return next(iter(self.indexes)) if len(self.indexes) == 1 else None

    def only_besides(self, kept: int, failed: int) -> bool:
        """Whether change ``failed`` was refused and change ``kept`` was not (the store named them)."""
        return failed in self.indexes and kept not in self.indexes


class Below(NamedTuple):
    """An expectation: the field is absent, or its stored value sorts before ``value`` (time-ordered ids)."""

    value: str


PRESENT = object()  # an expectation: the field exists, whatever its value


class Append(NamedTuple):
    """A value to set: these items added at the end of the stored list (DynamoDB's list_append), so that an event is
    added to a record's history without reading the record first."""

    items: list

# The decorator of the domain's records (officials, orders, cards, ...): a record is itself, not equal to another that
# holds the same values, so no ``__eq__`` is generated (which also saves a fifth of a millisecond of cold start each).
entity = dataclass(eq=False)


@entity
class Change:
    """One record's change. ``sets``: field -> new value (None removes the field). ``expects``: field -> what must
    still be stored (a value, None for absent, ``PRESENT``, or ``Below``). ``kind``: "update", "create" (the whole
    record, which must not exist yet), "put" (the whole record, whatever was there) or "delete"."""

    entity: Any
    sets: dict = field(default_factory=dict)
    expects: dict = field(default_factory=dict)
    kind: str = "update"

    def apply(self) -> None:
        """Mirror the change on the entity in memory, once it is written (a transaction reads nothing back)."""
        for name, value in self.sets.items():
            if isinstance(value, Append):
                value = list(getattr(self.entity, name, None) or []) + list(value.items)
            setattr(self.entity, name, value)
