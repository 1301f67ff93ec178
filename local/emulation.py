"""Makes the AWS emulation as strict as AWS where the portal relies on it.

DynamoDB applies each request atomically: a conditional write or a transaction sees no other write half-done. moto
checks conditions and then writes without a lock, so two threads (the local stack's server threads, or the
concurrency tests) can both pass the same condition. Handling DynamoDB requests one at a time restores AWS's
guarantee; it costs nothing that matters at local scale.
"""
import functools
import threading

_lock = threading.RLock()
_applied = False


def make_dynamodb_atomic() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    @functools.wraps(original)
    def one_at_a_time(self, *args, **kwargs):
        with _lock:
            return original(self, *args, **kwargs)

    DynamoHandler.call_action = one_at_a_time
    _applied = True
