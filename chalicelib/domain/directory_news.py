"""What a directory import means for a registered commune: officials who became eligible for a card, and cards to
return because their holder lost the function printed on them.

The portal keeps, for each registered commune, what the directory listed as eligible when the commune was last told
(its ``seen`` entries, one per person and function: ``<person key>:<function code>``). After each import of the RNE,
the commune's directory is compared with them: a new entry is an official who can now be ordered a card (a new mayor,
a new deputy, a deputy become mayor); an entry gone is a function lost, and the card printed with it, if the commune
had one handed over, must go back to the préfecture. The first comparison of a commune is taken silently (at its
registration): it learns what changes after it joined, not the whole directory.

A notice is what the commune is told, in its space and by one email per import.
"""
from dataclasses import field
from datetime import datetime

from .changes import entity
from .functions import function_label

MAX_KEPT = 5  # notices kept in a commune's space, newest first; older ones drop off
SOURCE_LABELS = {"rne_maires": "fichier des maires", "rne_cm": "fichier des conseillers municipaux"}


def entry(person_key: str, function: str) -> str:
    return f"{person_key}:{function}"


def person_of(seen_entry: str) -> tuple[str, str]:
    """(person key, function code) of a ``seen`` entry."""
    person_key, _, function = seen_entry.rpartition(":")
    return person_key, function


def eligible_entries(persons: list[dict]) -> set[str]:
    """The entries of the directory's persons (as ``services.directory.merge_persons`` gives them)."""
    return {entry(p["person_key"], f) for p in persons for f in p["eligible_functions"]}


@entity
class NoticeLine:
    name: str  # "Prénom NOM"
    function_label: str
    directory_id: str | None = None  # newly eligible: to register them from the directory
    registered: bool = False  # newly eligible but already registered by the commune (a declared official, linked)
    order_id: str | None = None  # cards to return: the order of the card handed over; flagged: the order in progress
    card_number: str | None = None

    @classmethod
    def of_person(cls, person: dict, function: str, **more) -> "NoticeLine":
        return cls(f"{person['first_name']} {person['last_name']}", function_label(function, person["sex"]), **more)


@entity
class DirectoryNotice:
    notice_id: str  # the import's id: one notice per commune per import
    created_at: datetime
    source: str  # rne_cm | rne_maires
    newly_eligible: list = field(default_factory=list)  # NoticeLine
    cards_to_return: list = field(default_factory=list)  # NoticeLine: a card handed over, its function lost
    orders_flagged: list = field(default_factory=list)  # NoticeLine: an order in progress, its function lost

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    def says_something(self) -> bool:
        return bool(self.newly_eligible or self.cards_to_return or self.orders_flagged)


@entity
class Comparison:
    gained: list  # (person dict, function code), in the directory's order
    lost: list  # (person key, function code)
    seen: set  # the entries to keep for the next comparison


def compare(seen: set[str], persons: list[dict]) -> Comparison:
    """``persons``: the commune's directory now, in its order; ``seen``: the entries of the last time."""
    current = eligible_entries(persons)
    gained = [(p, f) for p in persons for f in p["eligible_functions"] if entry(p["person_key"], f) not in seen]
    lost = sorted(person_of(e) for e in seen - current)
    return Comparison(gained, lost, current)


def function_lost(lost: list[tuple[str, str]], official) -> bool:
    """The official's card certifies a function the directory no longer gives them."""
    return (official.official_id, official.function) in set(lost)


def kept(notices: list[DirectoryNotice], new: DirectoryNotice) -> list[DirectoryNotice]:
    """The commune's notices once ``new`` is added (newest first, at most MAX_KEPT; the same import only once)."""
    others = [n for n in notices if n.notice_id != new.notice_id]
    return [new, *others][:MAX_KEPT]
