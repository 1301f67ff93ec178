"""The unit of work: one use case's reads in one call, and its writes in one conditional write or one transaction.

A service asks the unit of work for the records it needs (``read``: one BatchGetItem whatever their tables), asks the
entities what to change, hands the changes over (``add``) and commits. ``commit`` writes a lone change as one
conditional UpdateItem, PutItem or DeleteItem (the cheapest call), and several as one TransactWriteItems: all or none.
When what a change relied on no longer holds, nothing is written and ``Conflict`` says which change failed.

Every write goes through the process's one DynamoDB connection (``aws.dynamodb()``), built once per container.
"""
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from .. import aws, clock
from ..domain.changes import Change, Conflict
from . import counters
from .batch import get_many
from .repositories import (CardNumberRepository, CardRepository, CommuneRepository, OfficialRepository, OrderRepository,
                           PhotoUploadRepository, PrefectureRepository, Ref, RegistrationRepository)
from .tables import Account, DirectoryItem, is_condition_failure


class UnitOfWork:
    def __init__(self):
        self.officials = OfficialRepository()
        self.orders = OrderRepository()
        self.communes = CommuneRepository()
        self.prefectures = PrefectureRepository()
        self.card_numbers = CardNumberRepository()
        self.registrations = RegistrationRepository()
        self.photo_uploads = PhotoUploadRepository()
        self.cards = CardRepository()
        self._changes: list[Change] = []
        self._counted: list = []  # rate-limit attempts counted with the writes (store/counters.py)

    # --- reads --------------------------------------------------------------------------------------------------

    def read(self, refs: list, consistent: bool = True) -> list:
        """The entities named, in order (None for those that do not exist), in one call. A ``Ref`` comes from a
        repository (``uow.officials.ref(siren, id)``); a rate-limit counter is read raw (``counters.wanted``)."""
        if len(refs) == 1 and isinstance(refs[0], Ref):
            return [self._get_item(refs[0], consistent)]  # GetItem: cheaper than a batch of one
        wanted = [ref.repository.wanted(ref.key) if isinstance(ref, Ref) else ref for ref in refs]
        items = get_many(wanted, consistent=consistent)
        return [ref.repository.to_entity(item) if isinstance(ref, Ref) and item is not None else item
                for ref, item in zip(refs, items)]

    def get(self, ref: Ref, consistent: bool = True):
        return self.read([ref], consistent)[0]

    @staticmethod
    def _get_item(ref: Ref, consistent: bool):
        model = ref.repository.model
        try:
            return ref.repository.to_entity(model.get(*ref.key, consistent_read=consistent))
        except model.DoesNotExist:
            return None

    @staticmethod
    def attempts_ref(limit, subject: str):
        """A rate-limit counter, to read with the use case's other records (``domain/limits.py`` checks it)."""
        return counters.wanted(limit, subject)

    @staticmethod
    def prefecture_agents(department_code: str) -> list[str]:
        """The e-mails of a préfecture's agents (one query of a sparse index)."""
        return [item.email for item in Account.by_prefecture.query(department_code)]

    @staticmethod
    def directory_rows_of(insee_code: str, person_key: str) -> list:
        """The directory's rows about one person (read-only: the right of access shows them as they are)."""
        return list(DirectoryItem.query(insee_code, DirectoryItem.row_key.startswith(person_key + "#")))

    # --- writes -------------------------------------------------------------------------------------------------

    def add(self, *changes: Change | None) -> None:
        self._changes += [change for change in changes if change is not None]

    def count_attempt(self, limit, subject: str) -> None:
        """Count one attempt of a rate-limited action in the same write."""
        self._counted.append((limit, subject))

    def commit(self) -> None:
        changes, counted = self._changes, self._counted
        self._changes, self._counted = [], []
        if not changes and not counted:
            return
        now = clock.now()
        for change in changes:
            self._repository(change).stamp(change, now)
        try:
            if len(changes) == 1 and not counted:
                self._write_one(changes[0])
            else:
                with TransactWrite(connection=aws.dynamodb()) as writes:
                    for change in changes:
                        self._write_in(writes, change)
                    for limit, subject in counted:
                        counters.count_in(writes, limit, subject)
        except TransactWriteError as error:
            if not is_condition_failure(error):
                raise
            raise Conflict(*_failed_indexes(error)) from None
        except (UpdateError, PutError, DeleteError) as error:
            if not is_condition_failure(error):
                raise
            raise Conflict(0) from None
        for change in changes:
            if change.kind in ("update",):
                change.apply()

    def _repository(self, change: Change):
        for repository in (self.officials, self.orders, self.card_numbers, self.registrations, self.photo_uploads,
                           self.cards):
            if repository.writes(change.entity):
                return repository
        raise TypeError(f"no repository writes {type(change.entity).__name__}")

    def _write_one(self, change: Change) -> None:
        repository = self._repository(change)
        condition = repository.condition(change)
        if change.kind in ("create", "put"):
            repository.item_of(change.entity).save(condition=condition)
        elif change.kind == "delete":
            repository.keyed_item(change.entity).delete(condition=condition)
        else:
            repository.keyed_item(change.entity).update(actions=repository.actions(change), condition=condition)

    def _write_in(self, writes: TransactWrite, change: Change) -> None:
        repository = self._repository(change)
        condition = repository.condition(change)
        if change.kind in ("create", "put"):
            writes.save(repository.item_of(change.entity), condition=condition)
        elif change.kind == "delete":
            writes.delete(repository.keyed_item(change.entity), condition=condition)
        else:
            writes.update(repository.keyed_item(change.entity), actions=repository.actions(change),
                          condition=condition)


def _failed_indexes(error: TransactWriteError) -> list[int]:
    """The changes whose condition failed, as DynamoDB names them (every refused item, not only the first)."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [i for i, reason in enumerate(reasons) if reason is not None and reason.code == "ConditionalCheckFailed"]
