"""Repositories: the domain's entities to DynamoDB items and back, PynamoDB models being the mapping layer.

Each repository knows one kind of entity: how to name it for a read (``ref``, gathered by the unit of work into one
BatchGetItem), how to list it (queries on the table or an index, a page at a time), and how to turn a ``Change``
(``domain/changes.py``) into PynamoDB actions and conditions. Attributes that only serve an index
(``department_status``, ``purge_queue``) are derived here: the domain never sees them.
"""
import base64
import dataclasses
import json
from datetime import datetime
from typing import Any, NamedTuple

from pynamodb.attributes import MapAttribute

from .. import clock
from ..domain import orders as lifecycle
from ..domain.cards import CardEvent, CardKey, RegisteredCard
from ..domain.changes import PRESENT, Append, Below, Change, Refused
from ..domain.officials import DECLARED, HeldOfficial, Official, PhotoUpload, Registration
from ..domain.orders import Alert, Card, CardNumbers, CardOrder, HistoryEntry
from ..domain.places import Commune, DeliveryAddress
from . import tables
from .batch import Wanted

PAGE_SIZE = 50


class Ref(NamedTuple):
    """One record to read in the unit of work's batch: its repository and its key."""

    repository: Any
    key: tuple


def _plain(value):
    """PynamoDB map attributes as plain dicts and lists (the domain's values)."""
    if isinstance(value, MapAttribute):
        return _plain(value.as_dict())
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {name: _plain(item) for name, item in value.items()}
    return value


class Repository:
    """Maps one entity class to one model: same names on both sides, unless a subclass says otherwise."""

    model: type
    entity: type
    written: tuple = ()  # the entity classes whose changes it writes (its entity when empty)

    def writes(self, entity) -> bool:
        return isinstance(entity, self.written or self.entity)

    def ref(self, *key) -> Ref:
        return Ref(self, key)

    def wanted(self, key: tuple) -> Wanted:
        return Wanted(self.model, *key)

    def to_entity(self, item):
        return self.entity(**{f.name: _plain(getattr(item, f.name)) for f in dataclasses.fields(self.entity)})

    def key_of(self, entity) -> tuple:
        return tuple(getattr(entity, name) for name in self.key_names)

    key_names: tuple = ()

    def item_of(self, entity):
        """A new item holding the whole entity (to create it)."""
        values = {f.name: self.stored(f.name, getattr(entity, f.name)) for f in dataclasses.fields(entity)
                  if f.name not in self.key_names and getattr(entity, f.name) is not None}
        return self.model(*self.key_of(entity), **values, **self.derived(entity.__dict__))

    def keyed_item(self, entity):
        return self.model(*self.key_of(entity))

    def stored(self, name: str, value):
        """The domain's value as the model's attribute takes it."""
        return value

    def derived(self, values: dict) -> dict:
        """Index attributes computed from the entity's fields (``values``: the fields being written)."""
        return {}

    def _page(self, query) -> tuple[list, str | None]:
        """One page of a query (``limit=PAGE_SIZE``) as entities, and the cursor of the next one."""
        items = [self.to_entity(item) for item in query]
        return items, encode_cursor(query.last_evaluated_key)

    # --- a Change as PynamoDB actions and conditions ------------------------------------------------------------

    def actions(self, change: Change) -> list:
        actions = []
        values = dict(change.sets)
        for name, value in {**values, **self.derived_updates(change.entity, values)}.items():
            attribute = getattr(self.model, name)
            if isinstance(value, Append):
                actions.append(attribute.set(attribute.append(self.stored(name, list(value.items)))))
            else:
                actions.append(attribute.remove() if value is None else attribute.set(self.stored(name, value)))
        return actions

    def derived_updates(self, entity, values: dict) -> dict:
        return {}

    def stamp(self, change: Change, now: datetime) -> None:
        """What the store itself records on every write of the entity (nothing, unless a subclass says so)."""

    def condition(self, change: Change):
        condition = None
        for name, expected in change.expects.items():
            attribute = getattr(self.model, name)
            if expected is None:
                term = attribute.does_not_exist()
            elif expected is PRESENT:
                term = attribute.exists()
            elif isinstance(expected, Below):
                term = attribute.does_not_exist() | (attribute < expected.value)
            else:
                term = attribute == self.stored(name, expected)
            condition = term if condition is None else condition & term
        if change.kind == "create":
            term = getattr(self.model, self.key_names[-1]).does_not_exist()
            condition = term if condition is None else condition & term
        return condition


class OfficialRepository(Repository):
    model, entity, key_names = tables.Official, Official, ("siren", "official_id")
    written = (Official, HeldOfficial)

    def of_commune(self, siren: str) -> list[Official]:
        return [self.to_entity(item) for item in self.model.query(siren)]

    def stamp(self, change: Change, now: datetime) -> None:
        """Every write of an official records when (``updated_since``): set here, where every write passes — the
        commune's, the image function's, the directory's, an order's or the registry's."""
        if change.kind in ("create", "put"):
            change.entity.updated_at = now
        elif change.kind == "update":
            change.sets["updated_at"] = now

    # Declared officials: the préfecture's queue and those the directory does not list yet are indexes whose keys
    # are derived here from the declaration's fields (the domain never sees them).
    def derived(self, values: dict) -> dict:
        return {k: v for k, v in self._derived_of(values.get("department_code"), values).items() if v is not None}

    def derived_updates(self, entity, values: dict) -> dict:
        return self._derived_of(getattr(entity, "department_code", None), values)  # a HeldOfficial has none

    @staticmethod
    def _derived_of(department_code: str | None, values: dict) -> dict:
        derived = {}
        if values.get("declaration_status") is not None and department_code:
            derived["declaration_queue"] = f"{department_code}#{values['declaration_status']}"
        if values.get("origin") == DECLARED:
            derived["awaiting_directory"] = DECLARED
        if values.get("rne_linked_at") is not None:
            derived["awaiting_directory"] = None
        return derived

    def page_of_declarations(self, department_code: str, status: str, cursor: str | None):
        """A département's declarations in one status, oldest first."""
        partition = f"{department_code}#{status}"
        return self._page(self.model.by_declaration_queue.query(
            partition, limit=PAGE_SIZE, last_evaluated_key=decode_cursor(cursor, ("siren", "official_id"), declaration_queue=partition)))

    def awaiting_directory(self) -> list[Official]:
        return [self.to_entity(item) for item in self.model.by_awaiting_directory.query(DECLARED)]


class RegistrationRepository(Repository):
    """The directory's ``registered#<person>`` marker: the directory query shows who is already registered."""

    model, entity = tables.DirectoryItem, Registration
    key_names = ("insee_code", "row_key")

    def item_of(self, entity):
        return self.model(*self.key_of(entity), person_key=entity.person_key, siren=entity.siren)


class PhotoUploadRepository(Repository):
    model, entity, key_names = tables.PhotoUpload, PhotoUpload, ("object_key",)


class CommuneRepository(Repository):
    model, entity, key_names = tables.Commune, Commune, ("siren",)

    def to_entity(self, item) -> Commune:
        return Commune(item.siren, item.insee_code, item.name, item.department_code,
                       frozenset(item.agent_emails or ()))


class PrefectureRepository(Repository):
    model, entity, key_names = tables.Prefecture, DeliveryAddress, ("department_code",)

    def to_entity(self, item) -> DeliveryAddress:
        return DeliveryAddress(item.name, item.address, item.postal_code, item.city)


class CardNumberRepository(Repository):
    """The year's card counter: how many numbers were given."""

    model, entity, key_names = tables.Counter, CardNumbers, ("key",)

    def ref_year(self, year: int) -> Ref:
        return self.ref(CardNumbers.key_of(year))

    def to_entity(self, item) -> CardNumbers:
        return CardNumbers(int(item.key.rpartition("#")[2]), int(item.count or 0), exists=True)

    def key_of(self, entity) -> tuple:
        return (CardNumbers.key_of(entity.year),)


class OrderRepository(Repository):
    model, entity, key_names = tables.CardOrder, CardOrder, ("siren", "order_id")

    def to_entity(self, item) -> CardOrder:
        return CardOrder(
            item.siren, item.order_id, item.status, item.department_code, item.commune_name, item.created_at,
            item.updated_at, [Card(**_plain(card.as_dict())) for card in item.cards],
            [HistoryEntry(h.status, h.at, h.by_role, h.by, h.reason) for h in item.history],
            _plain(item.delivery_address.as_dict()) if item.delivery_address else None,
            [Alert(a.official_id, a.code, a.message, a.at) for a in item.alerts] if item.alerts is not None else None,
            item.purge_after, list(item.purge_keys) if item.purge_keys is not None else None,
            item.photos_deleted_at,
        )

    def stored(self, name: str, value):
        if name == "cards":
            return [tables.CardLine(**dataclasses.asdict(card)) for card in value]
        if name == "history":
            return [tables.HistoryEntry(**entry._asdict()) for entry in value]
        if name == "alerts":
            return [tables.Alert(**alert._asdict()) for alert in value]
        return value

    def derived(self, values: dict) -> dict:
        return {k: v for k, v in self.derived_updates_of(values.get("department_code"), values).items()
                if v is not None}

    def derived_updates(self, entity, values: dict) -> dict:
        return self.derived_updates_of(entity.department_code, values)

    @staticmethod
    def derived_updates_of(department_code: str | None, values: dict) -> dict:
        derived = {}
        if "status" in values:
            derived["department_status"] = f"{department_code}#{values['status']}"
        if "purge_after" in values:
            derived["purge_queue"] = lifecycle.PURGE_DUE if values["purge_after"] is not None else None
        return derived

    # --- lists, a page at a time --------------------------------------------------------------------------------

    def page_of_commune(self, siren: str, cursor: str | None, since: datetime | None = None) -> tuple[list, str | None]:
        """A commune's orders, newest first; with ``since``, those changed after it (a filter: a commune's
        partition is a few dozen orders)."""
        return self._page(self.model.query(siren, scan_index_forward=False, limit=PAGE_SIZE,
                                           filter_condition=_changed_after(self.model, since),
                                           last_evaluated_key=decode_cursor(cursor, siren=siren)))

    def page_changed_in_department(self, department: str, since: datetime, status: str | None, cursor: str | None):
        """A département's orders changed after ``since``, oldest change first (the index's key condition: only
        what changed is read), of one status if given (a filter on what was read)."""
        return self._page(self.model.by_department_updated.query(
            department, self.model.updated_at > since, limit=PAGE_SIZE,
            filter_condition=(self.model.status == status) if status else None,
            last_evaluated_key=_changed_cursor(self.model, cursor, since, ("siren", "order_id"), department)))

    def all_of_commune(self, siren: str) -> list[CardOrder]:
        return [self.to_entity(item) for item in self.model.query(siren, scan_index_forward=False)]

    def page_by_status(self, status: str, cursor: str | None, since: datetime | None = None):
        return self._page(self.model.by_status.query(status, limit=PAGE_SIZE,
                                                     filter_condition=_changed_after(self.model, since),
                                                     last_evaluated_key=decode_cursor(cursor, status=status)))

    def page_by_department(self, department: str, cursor: str | None):
        return self._page(self.model.by_department.query(
            department, limit=PAGE_SIZE, scan_index_forward=False,
            last_evaluated_key=decode_cursor(cursor, department_code=department)))

    def page_by_department_status(self, department: str, status: str, cursor: str | None):
        partition = f"{department}#{status}"
        return self._page(self.model.by_department_status.query(
            partition, limit=PAGE_SIZE, last_evaluated_key=decode_cursor(cursor, department_status=partition)))


    def due_for_purge(self, now: datetime, limit: int) -> list[CardOrder]:
        return [self.to_entity(item) for item in
                self.model.by_purge.query(lifecycle.PURGE_DUE, self.model.purge_after <= now, limit=limit)]


class CardRepository(Repository):
    """The card registry, keyed by card number; a commune's cards, and cards by status (a département's or all)."""

    model, entity, key_names = tables.RegisteredCard, RegisteredCard, ("card_number",)
    written = (RegisteredCard, CardKey)
    KEYS = ("card_number",)

    def to_entity(self, item) -> RegisteredCard:
        values = {f.name: _plain(getattr(item, f.name)) for f in dataclasses.fields(RegisteredCard)}
        values["history"] = [CardEvent(e.status, e.at, e.by_role, e.by, e.note) for e in item.history]
        return RegisteredCard(**values)

    def stored(self, name: str, value):
        if name == "history":
            return [tables.CardEvent(**event._asdict()) for event in value]
        if name == "hand_over" and value is not None:
            representative = value.get("representative")
            return tables.HandOver(**{**value, "representative": tables.Representative(**representative)
                                      if representative else None})
        if name == "declaration" and value is not None:
            return tables.Declaration(**value)
        return value

    def derived(self, values: dict) -> dict:
        return self.derived_updates_of(values.get("department_code"), values)

    def derived_updates(self, entity, values: dict) -> dict:
        return self.derived_updates_of(entity.department_code, values)

    @staticmethod
    def derived_updates_of(department_code: str | None, values: dict) -> dict:
        return {"department_status": f"{department_code}#{values['status']}"} if "status" in values else {}

    def page_of_commune(self, siren: str, status: str | None, official_id: str | None, cursor: str | None,
                        since: datetime | None = None):
        condition = _changed_after(self.model, since)
        for term in ((self.model.status == status) if status else None,
                     (self.model.official_id == official_id) if official_id else None):
            if term is not None:
                condition = term if condition is None else condition & term
        return self._page(self.model.by_commune.query(
            siren, filter_condition=condition, limit=PAGE_SIZE,
            last_evaluated_key=decode_cursor(cursor, self.KEYS, siren=siren)))

    def page_by_status(self, status: str, cursor: str | None, since: datetime | None = None):
        return self._page(self.model.by_status.query(
            status, limit=PAGE_SIZE, filter_condition=_changed_after(self.model, since),
            last_evaluated_key=decode_cursor(cursor, self.KEYS, status=status)))

    def page_changed_in_department(self, department: str, since: datetime, status: str | None, cursor: str | None):
        """A département's cards changed after ``since``, oldest change first, of one status if given."""
        return self._page(self.model.by_department_updated.query(
            department, self.model.updated_at > since, limit=PAGE_SIZE,
            filter_condition=(self.model.status == status) if status else None,
            last_evaluated_key=_changed_cursor(self.model, cursor, since, self.KEYS, department)))

    def page_by_department_status(self, department: str, status: str, cursor: str | None):
        partition = f"{department}#{status}"
        return self._page(self.model.by_department_status.query(
            partition, limit=PAGE_SIZE,
            last_evaluated_key=decode_cursor(cursor, self.KEYS, department_status=partition)))


def _changed_after(model, since: datetime | None):
    """The filter of ``updated_since``: the records whose last change is strictly after ``since``."""
    return None if since is None else model.updated_at > since


def _changed_cursor(model, cursor: str | None, since: datetime, table_keys: tuple, department: str) -> dict | None:
    """The start key of a page of a département's changes: besides ``decode_cursor``'s checks, it holds the index's
    ``updated_at``, after ``since`` (DynamoDB refuses a start key outside the key condition: a cursor kept while
    ``updated_since`` changed is an invalid cursor, not a failure)."""
    key = decode_cursor(cursor, (*table_keys, "updated_at"), department_code=department)
    if key is not None:
        try:
            valid = model.updated_at.deserialize(key["updated_at"]["S"]) > since
        except ValueError:
            valid = False
        if not valid:
            raise Refused("invalid_cursor", "Le curseur de pagination est invalide.")
    return key


def encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, table_keys: tuple = ("siren", "order_id"), **partition) -> dict | None:
    """The start key of the next page; refused unless it is a key of the very partition being listed (and holds the
    table's ``table_keys``), so a forged cursor can neither reach another commune's or département's records nor make
    DynamoDB fail."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, dict) or not all(isinstance(v, dict) and set(v) == {"S"} for v in key.values()):
            raise ValueError
        if any(key.get(name, {}).get("S") != value for name, value in partition.items()):
            raise ValueError
        if not set(table_keys) <= set(key):
            raise ValueError
        return key
    except (ValueError, UnicodeDecodeError):
        raise Refused("invalid_cursor", "Le curseur de pagination est invalide.") from None
