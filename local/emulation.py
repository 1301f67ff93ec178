"""Makes the AWS emulation behave like AWS where the portal relies on it (``prepare_dynamodb``).

1. DynamoDB applies each request atomically: a conditional write or a transaction sees no other write half-done.
   moto checks conditions and then writes without a lock, so two threads (the local stack's server threads, or the
   concurrency tests) can both pass the same condition. Handling DynamoDB requests one at a time restores AWS's
   guarantee; it costs nothing that matters at local scale.
2. A DynamoDB transaction costs about what its items cost. moto 5.2's ``transact_write_items`` backs up, to roll back,
   a deep copy of every table the transaction touches, once per item: its time grows with the size of those tables.
   On the local stack that is seconds for registering an official once a département's directory is loaded (the
   registration mark shares the directory's table), and with (1) every other request waits meanwhile. The backup is
   replaced by a copy of the items the transaction names, restored if it is cancelled: the same all-or-nothing result,
   since a transaction writes those items only.
"""
import copy
import functools
import threading

_lock = threading.RLock()
_applied = False


def prepare_dynamodb() -> None:
    """Both adjustments, once per process (the local stack, the tests, the benchmarks)."""
    global _applied
    if _applied:
        return
    _one_request_at_a_time()
    _transactions_back_up_their_items_only()
    _applied = True


def _one_request_at_a_time() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    @functools.wraps(original)
    def one_at_a_time(self, *args, **kwargs):
        with _lock:
            return original(self, *args, **kwargs)

    DynamoHandler.call_action = one_at_a_time


class _TablesKeptInPlace:
    """Stands for the ``copy`` module in moto's DynamoDB backend: a table is "copied" as itself (its items are backed
    up one by one instead, below); anything else is copied as before."""

    def __init__(self, table_class):
        self._table_class = table_class

    def deepcopy(self, value, memo=None):
        return value if isinstance(value, self._table_class) else copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def _transactions_back_up_their_items_only() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    models.copy = _TablesKeptInPlace(Table)
    original = models.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self, transact_items):
        backups = [_backup(self, entry) for entry in transact_items]
        try:
            return original(self, transact_items)
        except Exception:
            for backup in reversed(backups):
                if backup is not None:
                    _restore(self, *backup)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


def _backup(backend, entry: dict):
    """(table, key, the item as it is now or None) for one transaction item; None if it names no existing table."""
    operation = next(iter(entry.values()), None)
    if not isinstance(operation, dict) or operation.get("TableName") not in backend.tables:
        return None
    table = backend.tables[operation["TableName"]]
    if "Key" in operation:
        key = operation["Key"]
    elif "Item" in operation:
        key = {name: operation["Item"][name] for name in (table.hash_key_attr, table.range_key_attr)
               if name and name in operation["Item"]}
    else:
        return None
    try:
        current = backend.get_item(table.name, key)
    except Exception:  # noqa: BLE001 - a malformed key: the transaction itself will refuse it, writing nothing
        return None
    return table.name, key, copy.deepcopy(current.to_json()["Attributes"]) if current is not None else None


def _restore(backend, table_name: str, key: dict, attributes: dict | None) -> None:
    if attributes is None:
        if backend.get_item(table_name, key) is not None:
            backend.delete_item(table_name, key)
    else:
        backend.put_item(table_name, attributes)
