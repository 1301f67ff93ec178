"""The local stack as `make run` starts it (``local.stack.main``, same arguments), with counters for the load test.

    python -m bench.load.observed_stack --stats-file var/load/stack-stats.json -- --free-ports --state-file ...

One thing differs from `make run`: the API server's listen backlog. ``chalice local``'s server keeps socketserver's
default of 5 connections waiting to be accepted; when many users connect at once and the accepting thread waits for
the GIL, the kernel refuses the extra ones (a first run, 5 users started a second, had 3 registrations of 56 reset
before any answer). API Gateway, which the local server stands for, has no such queue: the load test gives it 128, as
werkzeug's server (moto's) has. ``--stock-backlog`` keeps the 5, to see it.

Apart from that nothing here changes what the stack does; it counts, in the stack's own process:

- every DynamoDB call of the portal (botocore's ``before-call``/``after-call`` events on each DynamoDB client, as
  ``bench/dynamodb.py`` does): its time as the caller sees it, by operation and table; the writes DynamoDB refused
  because a condition failed, by key (a transaction names the item whose condition failed); the calls that touch
  the card-number counter (``counters`` table, ``card-number#<year>``);
- the emulation's one-request-at-a-time lock (``local/emulation.py``): how long each DynamoDB request waited for it
  and held it, since that lock is what serialises the stack's DynamoDB work;
- the audit log (``portal.audit``): records by event, and how long handing one to the log handler took;
- each message the S3/SQS relay hands to a handler (a photo, a card drawing, an import): its time;
- the API server's connections in flight (``chalice local`` serves each connection on its own thread) and the
  process's CPU time.

SIGUSR1 empties the counters (the run starts after the set-up); SIGUSR2 writes them to the stats file now. They
are also written every 2 seconds and when the stack stops.
"""
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter, defaultdict

COUNTER_TABLE_SUFFIX = "counters"
CARD_NUMBER_KEY_PREFIX = "card-number#"
LISTEN_BACKLOG = 128


class Samples:
    """Durations in seconds; percentiles computed when written (a run has at most a few hundred thousand)."""

    def __init__(self):
        self.values: list[float] = []

    def add(self, value: float) -> None:
        self.values.append(value)

    def summary(self) -> dict:
        values = sorted(self.values)
        if not values:
            return {"count": 0}
        def pick(q):
            return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 3)
        return {"count": len(values), "mean_ms": round(sum(values) / len(values) * 1000, 3), "p50_ms": pick(0.5),
                "p95_ms": pick(0.95), "p99_ms": pick(0.99), "max_ms": round(values[-1] * 1000, 3)}


class Stats:
    def __init__(self):
        self._guard = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_guard", threading.Lock()):
            self.started = time.time()
            self.cpu_started = os.times()
            self.calls = defaultdict(Samples)  # "Operation table+table" -> durations
            self.refused = Counter()  # "table key" -> conditional checks failed
            self.refused_by_table = Counter()
            self.refused_together = Counter()  # a refused transaction: the tables of its refused items
            self.errors = Counter()  # other DynamoDB errors by code
            self.counter_calls = defaultdict(Samples)  # operation on the card-number counter -> durations
            self.counter_refused = 0
            self.handlers = defaultdict(Samples)  # relayed handler: what -> durations
            self.lock_wait = Samples()
            self.lock_hold = Samples()
            self.audit = Counter()
            self.audit_per_second = Counter()
            self.audit_emit = Samples()
            self.in_flight = getattr(self, "in_flight", 0)  # requests being served go on across a reset
            self.in_flight_samples = Counter()
            self.connections = 0

    def snapshot(self) -> dict:
        with self._guard:
            now, cpu = time.time(), os.times()
            wall = now - self.started
            used = (cpu.user - self.cpu_started.user) + (cpu.system - self.cpu_started.system)
            per_second = sorted(self.audit_per_second.values())
            return {
                "written_at": now, "seconds": round(wall, 3), "pid": os.getpid(),
                "cpu_seconds": round(used, 3), "cpu_share_of_one_core": round(used / wall, 3) if wall else None,
                "threads_now": threading.active_count(),
                "dynamodb_calls": {name: s.summary() for name, s in sorted(self.calls.items())},
                "conditional_check_failed": {"by_table": dict(self.refused_by_table),
                                             "transactions_by_refused_items": dict(self.refused_together),
                                             "hottest_keys": dict(self.refused.most_common(15))},
                "dynamodb_errors": dict(self.errors),
                "card_number_counter": {"calls": {op: s.summary() for op, s in self.counter_calls.items()},
                                        "refused": self.counter_refused},
                "handlers": {name: s.summary() for name, s in sorted(self.handlers.items())},
                "emulation_lock": {"wait": self.lock_wait.summary(), "hold": self.lock_hold.summary()},
                "audit_log": {"records": dict(self.audit), "total": sum(self.audit.values()),
                              "peak_per_second": per_second[-1] if per_second else 0,
                              "handler": self.audit_emit.summary()},
                "api_connections": {"served": self.connections,
                                    "in_flight_sampled": {str(k): v for k, v in sorted(self.in_flight_samples.items())}},
            }


STATS = Stats()


# --- DynamoDB calls ------------------------------------------------------------------------------------------------

def _table_short(name: str) -> str:
    """``portal-local-orders`` -> ``orders`` (the stage prefix says nothing here)."""
    return name.rsplit("-", 1)[-1]


def _key_text(key: dict) -> str:
    return "/".join(next(iter(value.values())) for _, value in sorted(key.items()))


def _items_of(operation: str, request: dict) -> list[tuple[str, dict | None]]:
    """(table, key) of each item a request names (None for a put without its key schema at hand: the whole item)."""
    if operation in ("GetItem", "UpdateItem", "DeleteItem"):
        return [(request.get("TableName", ""), request.get("Key"))]
    if operation == "PutItem":
        return [(request.get("TableName", ""), None)]
    if operation == "BatchGetItem":
        return [(table, key) for table, spec in request.get("RequestItems", {}).items() for key in spec.get("Keys", [])]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        named = []
        for entry in request.get("TransactItems", []):
            (kind, spec), = entry.items()
            named.append((spec.get("TableName", ""), spec.get("Key") if kind != "Put" else None))
        return named
    return []


def _tables(operation: str, request: dict) -> str:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        tables = request.get("RequestItems", {})
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        tables = {next(iter(e.values()))["TableName"] for e in request.get("TransactItems", [])}
    else:
        tables = [request.get("TableName", "")]
    return "+".join(sorted({_table_short(t) for t in tables}))


def _is_counter(table: str, key: dict | None) -> bool:
    if not key or _table_short(table) != COUNTER_TABLE_SUFFIX:
        return False
    return _key_text(key).startswith(CARD_NUMBER_KEY_PREFIX)


def _before_call(model, params, context, **_):
    context["load_started"] = time.perf_counter()
    try:
        context["load_request"] = json.loads(params.get("body") or b"{}")
    except ValueError:
        context["load_request"] = {}


def _after_call(http_response, parsed, model, context, **_):
    started = context.pop("load_started", None)
    request = context.pop("load_request", None)
    if started is None or request is None:
        return
    elapsed = time.perf_counter() - started
    operation = model.name
    items = _items_of(operation, request)
    error = (parsed.get("Error") or {}).get("Code") if http_response.status_code >= 400 else None
    with STATS._guard:
        STATS.calls[f"{operation} {_tables(operation, request)}"].add(elapsed)
        touches_counter = any(_is_counter(table, key) for table, key in items)
        if touches_counter:
            STATS.counter_calls[operation].add(elapsed)
        if error is None:
            return
        failed: list[tuple[str, dict | None]] = []
        if error == "ConditionalCheckFailedException":
            failed = items[:1]
        elif error == "TransactionCanceledException":
            reasons = parsed.get("CancellationReasons") or []
            failed = [item for item, reason in zip(items, reasons) if reason.get("Code") == "ConditionalCheckFailed"]
        if not failed:
            STATS.errors[error] += 1
        elif operation == "TransactWriteItems":
            # Which items refused together: the service retries a production only when the counter alone refused.
            STATS.refused_together[" + ".join(sorted(_table_short(t) for t, _ in failed))] += 1
        for table, key in failed:
            short = _table_short(table)
            STATS.refused_by_table[short] += 1
            if key is not None:
                text = _key_text(key)
                if short == "orders":
                    text = "<an order>"  # many orders: what matters is which kind of item is contended
                elif short in ("officials", "cards"):
                    text = f"<{short[:-1]}>"
                STATS.refused[f"{short} {text}"] += 1
            else:
                STATS.refused[f"{short} <put of a new item>"] += 1
            if _is_counter(table, key):
                STATS.counter_refused += 1


def install_dynamodb_hooks() -> None:
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(session, service_name, *args, **kwargs):
        client = original(session, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb", _before_call, unique_id="load-before")
            client.meta.events.register("after-call.dynamodb", _after_call, unique_id="load-after")
        return client

    botocore.session.Session.create_client = create_client


# --- the emulation's lock ------------------------------------------------------------------------------------------

class TimedLock:
    """Stands for ``local.emulation._lock`` (an RLock taken around each DynamoDB request): the same lock, timed."""

    def __init__(self):
        self._lock = threading.RLock()
        self._local = threading.local()

    def __enter__(self):
        asked = time.perf_counter()
        self._lock.acquire()
        got = time.perf_counter()
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.got = got
            STATS.lock_wait.add(got - asked)
        self._local.depth = depth + 1
        return self

    def __exit__(self, *exc):
        self._local.depth -= 1
        if self._local.depth == 0:
            STATS.lock_hold.add(time.perf_counter() - self._local.got)
        self._lock.release()
        return False


def install_lock_timer() -> None:
    from local import emulation

    emulation._lock = TimedLock()  # read at each call by the wrapper prepare_dynamodb installs


# --- audit log -----------------------------------------------------------------------------------------------------

class AuditCounter(logging.Handler):
    def emit(self, record):
        STATS.audit[getattr(record, "event", record.getMessage())] += 1
        STATS.audit_per_second[int(record.created)] += 1


def install_audit_hooks() -> None:
    logging.getLogger("portal.audit").addHandler(AuditCounter())
    original = logging.Handler.handle

    def handle(self, record):
        if record.name != "portal.audit" or isinstance(self, AuditCounter):
            return original(self, record)
        started = time.perf_counter()
        try:
            return original(self, record)
        finally:
            STATS.audit_emit.add(time.perf_counter() - started)

    logging.Handler.handle = handle


# --- the API server's connections ----------------------------------------------------------------------------------

def install_connection_counter() -> None:
    from local.api_server import GatewayLikeHandler

    original = GatewayLikeHandler.handle

    def handle(self):
        with STATS._guard:
            STATS.in_flight += 1
            STATS.connections += 1
        try:
            return original(self)
        finally:
            with STATS._guard:
                STATS.in_flight -= 1

    GatewayLikeHandler.handle = handle


# --- the S3 and SQS handlers the relay runs ------------------------------------------------------------------------

def _what(event: dict) -> str:
    """An S3 event, or the task a message asks for (``{"action": "render_cards", ...}``)."""
    try:
        body = json.loads(event["Records"][0]["body"])
    except (KeyError, IndexError, TypeError, ValueError):
        return "message"
    return body.get("action") or ("S3 object created" if "Records" in body else "message")


def install_handler_timer() -> None:
    """Times each message the relay hands to a handler (one at a time per queue: ``local/relay.py``)."""
    from local.relay import S3EventRelay

    original_start = S3EventRelay.start

    def start(self):
        for _, name in self._routes:
            handler = self._app.handler_map[name]
            if getattr(handler, "load_timed", False):
                continue

            def timed(event, context, _handler=handler, _name=name):
                started = time.perf_counter()
                try:
                    return _handler(event, context)
                finally:
                    STATS.handlers[f"{_name}: {_what(event)}"].add(time.perf_counter() - started)

            timed.load_timed = True
            self._app.handler_map[name] = timed
        return original_start(self)

    S3EventRelay.start = start


def _sampler(stats_file: str, stop: threading.Event) -> None:
    last_write = 0.0
    while not stop.wait(0.1):
        with STATS._guard:
            STATS.in_flight_samples[STATS.in_flight] += 1
        if time.monotonic() - last_write >= 2:
            write_stats(stats_file)
            last_write = time.monotonic()


def write_stats(stats_file: str) -> None:
    temporary = stats_file + ".part"
    with open(temporary, "w") as out:
        json.dump(STATS.snapshot(), out, indent=1)
    os.replace(temporary, stats_file)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--stats-file" not in argv:
        raise SystemExit("usage: python -m bench.load.observed_stack --stats-file FILE -- <local.stack arguments>")
    at = argv.index("--stats-file")
    stats_file = argv[at + 1]
    stack_args = [a for a in argv[at + 2:] if a != "--"] + argv[:at]
    if "--stock-backlog" in stack_args:
        stack_args.remove("--stock-backlog")
    else:
        from chalice.local import ThreadedHTTPServer

        ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG
    install_dynamodb_hooks()
    install_lock_timer()
    install_audit_hooks()
    install_connection_counter()
    install_handler_timer()
    signal.signal(signal.SIGUSR1, lambda *_: STATS.reset())
    signal.signal(signal.SIGUSR2, lambda *_: write_stats(stats_file))
    stop = threading.Event()
    threading.Thread(target=_sampler, args=(stats_file, stop), name="load-stats", daemon=True).start()
    from local import stack

    try:
        return stack.main(stack_args)
    finally:
        stop.set()
        write_stats(stats_file)


if __name__ == "__main__":
    sys.exit(main())
