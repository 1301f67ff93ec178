"""In-memory collaborators for the services' unit tests: the same interface as ``store/unit_of_work.py`` and the
production ``wiring``, with the same all-or-nothing commit and the same checks of what each change relied on, so a
service's rules and races are tested in milliseconds, without AWS or its emulation (no boto3, no moto here)."""
import copy
from datetime import datetime, timedelta, timezone

from chalicelib.domain.changes import PRESENT, Append, Below, Conflict
from chalicelib.domain.cards import CardKey, RegisteredCard
from chalicelib.domain.officials import HeldOfficial, Official, PhotoUpload, Registration
from chalicelib.domain.orders import CardNumbers, CardOrder
from chalicelib.services.collaborators import Collaborators


class Ref:
    def __init__(self, table: str, key):
        self.table, self.key = table, key


class Repository:
    def __init__(self, store: "Store", table: str):
        self.store, self.table = store, table

    def ref(self, *key) -> Ref:
        return Ref(self.table, key if len(key) > 1 else key[0])


class Officials(Repository):
    def of_commune(self, siren: str) -> list:
        return [copy.deepcopy(o) for (s, _), o in self.store.tables["officials"].items() if s == siren]


class Orders(Repository):
    def _of(self, keep) -> tuple[list, None]:
        found = [copy.deepcopy(o) for o in self.store.tables["orders"].values() if keep(o)]
        return sorted(found, key=lambda o: o.order_id, reverse=True), None

    def page_of_commune(self, siren, cursor):
        return self._of(lambda o: o.siren == siren)

    def all_of_commune(self, siren):
        return self._of(lambda o: o.siren == siren)[0]

    def page_by_status(self, status, cursor):
        return self._of(lambda o: o.status == status)

    def page_by_department(self, department, cursor):
        return self._of(lambda o: o.department_code == department)

    def page_by_department_status(self, department, status, cursor):
        return self._of(lambda o: o.department_code == department and o.status == status)


    def due_for_purge(self, now, limit):
        return self._of(lambda o: o.purge_after is not None and o.purge_after <= now)[0][:limit]


class Cards(Repository):
    def _of(self, keep) -> tuple[list, None]:
        found = [copy.deepcopy(c) for c in self.store.tables["cards"].values() if keep(c)]
        return sorted(found, key=lambda c: c.card_number), None

    def page_of_commune(self, siren, status, official_id, cursor):
        return self._of(lambda c: c.siren == siren and status in (None, c.status)
                        and official_id in (None, c.official_id))

    def page_by_status(self, status, cursor):
        return self._of(lambda c: c.status == status)

    def page_by_department_status(self, department, status, cursor):
        return self._of(lambda c: c.department_code == department and c.status == status)


class CardNumberCounters(Repository):
    def ref_year(self, year: int) -> Ref:
        return Ref("card_numbers", year)


def key_of(entity) -> tuple:
    if isinstance(entity, (Official, HeldOfficial)):
        return "officials", (entity.siren, entity.official_id)
    if isinstance(entity, CardOrder):
        return "orders", (entity.siren, entity.order_id)
    if isinstance(entity, CardNumbers):
        return "card_numbers", entity.year
    if isinstance(entity, Registration):
        return "registrations", (entity.insee_code, entity.person_key)
    if isinstance(entity, PhotoUpload):
        return "photo_uploads", entity.object_key
    if isinstance(entity, (RegisteredCard, CardKey)):
        return "cards", entity.card_number
    raise TypeError(type(entity).__name__)


def holds(expected, stored) -> bool:
    if expected is None:
        return stored is None
    if expected is PRESENT:
        return stored is not None
    if isinstance(expected, Below):
        return stored is None or stored < expected.value
    return stored == expected


class Store:
    """The tables, as dicts of entities. ``fail_next``: conflicts to raise at the next commits (index of the change);
    ``before_next_commit``: what another request does between a use case's read and its write."""

    def __init__(self):
        self.tables = {name: {} for name in ("officials", "orders", "communes", "prefectures", "card_numbers",
                                             "registrations", "photo_uploads", "counters", "cards")}
        self.prefecture_agents: dict[str, list] = {}
        self.commits: list[list] = []
        self.fail_next: list[int] = []
        self.before_next_commit: list = []

    def add(self, table: str, key, entity) -> None:
        self.tables[table][key] = entity

    def unit_of_work(self) -> "UnitOfWork":
        return UnitOfWork(self)


class UnitOfWork:
    def __init__(self, store: Store):
        self.store = store
        self.officials = Officials(store, "officials")
        self.orders = Orders(store, "orders")
        self.communes = Repository(store, "communes")
        self.prefectures = Repository(store, "prefectures")
        self.card_numbers = CardNumberCounters(store, "card_numbers")
        self.photo_uploads = Repository(store, "photo_uploads")
        self.cards = Cards(store, "cards")
        self._changes = []

    def read(self, refs, consistent=True):
        return [copy.deepcopy(self.store.tables[ref.table].get(ref.key)) for ref in refs]

    def get(self, ref, consistent=True):
        return self.read([ref])[0]

    def attempts_ref(self, limit, subject):
        return Ref("counters", f"{limit.name}#{subject}")

    def count_attempt(self, limit, subject):
        counters = self.store.tables["counters"]
        counters[f"{limit.name}#{subject}"] = counters.get(f"{limit.name}#{subject}")

    def prefecture_agents(self, department_code):
        return list(self.store.prefecture_agents.get(department_code, []))

    def directory_rows_of(self, insee_code, person_key):
        return []

    def add(self, *changes):
        self._changes += [change for change in changes if change is not None]

    def _holds(self, change) -> bool:
        table, key = key_of(change.entity)
        stored = self.store.tables[table].get(key)
        if change.kind == "create" and stored is not None:
            return False
        if change.kind == "update" and table == "card_numbers":
            if change.expects.get("key", PRESENT) is None and stored is not None:
                return False
            return not ("count" in change.expects and (stored is None or stored.count != change.expects["count"]))
        return all(stored is not None and holds(expected, getattr(stored, name))
                   for name, expected in change.expects.items())

    def commit(self):
        changes, self._changes = self._changes, []
        while self.store.before_next_commit:
            self.store.before_next_commit.pop(0)()
        if self.store.fail_next:
            raise Conflict(self.store.fail_next.pop(0))
        # Like DynamoDB, every change is checked and every refused one named.
        failed = [index for index, change in enumerate(changes) if not self._holds(change)]
        if failed:
            raise Conflict(*failed)
        for change in changes:  # every change holds: all are written
            table, key = key_of(change.entity)
            if change.kind in ("create", "put"):
                self.store.tables[table][key] = copy.deepcopy(change.entity)
            elif change.kind == "delete":
                self.store.tables[table].pop(key, None)
            elif table == "card_numbers":
                self.store.tables[table][key] = CardNumbers(key, change.sets["count"], exists=True)
            else:
                stored = self.store.tables[table][key]
                for name, value in change.sets.items():
                    if isinstance(value, Append):
                        value = list(getattr(stored, name) or []) + list(value.items)
                    setattr(stored, name, copy.deepcopy(value))
                change.apply()
        self.store.commits.append(changes)


class Clock:
    def __init__(self, at: datetime = datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc)):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


class Files:
    """The data bucket: object keys and bytes."""

    PHOTOS_PREFIX, OFFICIALS_PREFIX, CARDS_PREFIX = "incoming/photos/", "officials/", "orders/"

    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def delete_prefix(self, prefix: str) -> None:
        for key in [k for k in self.objects if k.startswith(prefix)]:
            del self.objects[key]

    def delete_objects(self, keys) -> None:
        for key in keys:
            self.objects.pop(key, None)

    def presigned_post(self, key, max_bytes, content_type, lifetime):
        return {"url": "https://bucket.test/", "fields": {"key": key}, "expires_at": "2026-04-02T09:10:00Z"}

    def read_head(self, key, length=1024):
        data = self.objects.get(key)
        return None if data is None else (len(data), data[:length])

    def copy_object(self, source_key, target_key, content_type):
        self.objects[target_key] = self.objects[source_key]


def collaborators(store: Store | None = None, clock: Clock | None = None):
    """Collaborators on an in-memory store; what the services sent (tasks, notifications) is recorded."""
    store = store or Store()
    sent, notified = [], []
    c = Collaborators(unit_of_work=store.unit_of_work, now=clock or Clock(), send_photo_task=sent.append,
                      order_moved=lambda order, reason, emails: notified.append((order.status, reason, emails)),
                      files=Files(), card_declared=lambda card, emails: notified.append((card.status, None, emails)))
    return c, store, sent, notified
