"""Time-ordered ids: the millisecond, then randomness. Sorting them sorts by creation, which two rules rely on: a
commune's orders listed newest first by key, and an older photo attempt never replacing a newer one."""
import secrets
import time


def time_ordered_id() -> str:
    return f"{time.time_ns() // 1_000_000:013d}{secrets.token_hex(4)}"
