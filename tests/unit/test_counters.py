"""The sliding-window arithmetic of the rate-limit counters (store.counters), on items as DynamoDB returns them."""
from chalicelib.store.counters import BUCKETS, Limit, count_actions, retry_after

HOURLY = Limit("test", attempts=5, window_seconds=3600)  # buckets of 60 s


def item(**buckets: int) -> dict:
    return {"key": {"S": "test#x"}, **{name: {"N": str(n)} for name, n in buckets.items()}}


def test_no_counter_or_few_attempts_is_allowed():
    now = 1_000_000.0
    bucket = int(now // 60)
    assert retry_after(HOURLY, None, now) is None
    assert retry_after(HOURLY, item(**{f"b{bucket}": 4}), now) is None


def test_the_limit_reached_now_locks_for_about_the_window():
    now = 1_000_010.0
    bucket = int(now // 60)
    wait = retry_after(HOURLY, item(**{f"b{bucket}": 5}), now)
    assert 3600 - 60 < wait <= 3600


def test_attempts_leave_the_window_one_bucket_at_a_time():
    now = 1_000_000.0
    bucket = int(now // 60)
    # 3 attempts 50 minutes ago, 2 just now: allowed again once the old three have left the hour (10 minutes).
    counter = item(**{f"b{bucket - 50}": 3, f"b{bucket}": 2})
    wait = retry_after(HOURLY, counter, now)
    assert 9 * 60 < wait <= 10 * 60
    assert retry_after(HOURLY, counter, now + wait) is None
    assert retry_after(HOURLY, counter, now + wait - 61) is not None


def test_attempts_older_than_the_window_do_not_count():
    now = 1_000_000.0
    bucket = int(now // 60)
    assert retry_after(HOURLY, item(**{f"b{bucket - BUCKETS}": 50, f"b{bucket - 200}": 50}), now) is None


def test_other_attributes_are_ignored():
    now = 1_000_000.0
    raw = item(**{f"b{int(now // 60)}": 1})
    raw.update({"purge_at": {"N": "123"}, "count": {"N": "99"}, "bx": {"N": "7"}})
    assert retry_after(HOURLY, raw, now) is None


def test_counting_is_one_add_and_a_sweep_of_buckets_that_just_left():
    now = 1_000_000.0
    bucket = int(now // 60)
    names, values = {}, {}
    expressions = [action.serialize(names, values) for action in count_actions(HOURLY, now)]
    touched = set(names)
    assert f"b{bucket}" in touched and "purge_at" in touched
    removed = {n for n in touched if n.startswith("b") and n != f"b{bucket}"}
    assert removed and all(int(n[1:]) <= bucket - BUCKETS for n in removed)
    assert any(e.startswith(names[f"b{bucket}"]) for e in expressions)
