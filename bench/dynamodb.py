"""Counts DynamoDB calls through botocore's events, and estimates the request units they would cost on AWS.

``Recorder.install()`` wraps ``botocore.session.Session.create_client`` so that every DynamoDB client created
afterwards (boto3's and PynamoDB's alike: both go through it) gets two handlers on its own event system:

- ``before-call.dynamodb``: the operation and its request (the JSON body DynamoDB receives); for writes, the items as
  they are before the write (read with an uncounted client, for the capacity estimate);
- ``after-call.dynamodb``: the parsed answer: the ``ConsumedCapacity`` the emulation reports (PynamoDB asks for
  ``TOTAL`` on every call; moto reports fixed figures, not item sizes), and the items read or written.

Request units are estimated with DynamoDB's published rules, since the emulation does not apply them: a read costs
1 unit per 4 KB read (half for an eventually consistent read, twice in a transaction; a query rounds the total of the
items it reads), a write 1 unit per KB of the larger of the item before and after (twice in a transaction; a failed
conditional write still costs its unit), plus the writes of each global secondary index the item enters, leaves or
changes in (the projected size: the whole item for ALL, the keys for KEYS_ONLY). Item sizes follow DynamoDB's rules
(attribute names plus values; numbers 1 byte per 2 digits plus 1; 3 bytes per map or list plus 1 per element).
"""
from __future__ import annotations

import base64
import contextlib
import json
import math
from dataclasses import dataclass, field

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@dataclass
class Call:
    operation: str
    tables: list[str]
    section: str | None
    reported_units: float = 0.0  # ConsumedCapacity.CapacityUnits as the emulation reports it
    read_units: float = 0.0  # estimated with DynamoDB's rules
    write_units: float = 0.0
    failed: bool = False


# --- item sizes -----------------------------------------------------------------------------------------------------

def _number_size(text: str) -> int:
    digits = text.lstrip("-+").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict) -> int:
    """Size in bytes of one DynamoDB attribute value in the wire format ({"S": "..."}, {"M": {...}}, ...)."""
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        return _number_size(content)
    if kind == "B":
        return len(base64.b64decode(content)) if isinstance(content, str) else len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in content)
    if kind == "NS":
        return sum(_number_size(v) for v in content)
    if kind == "BS":
        return sum(len(base64.b64decode(v)) if isinstance(v, str) else len(v) for v in content)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in content)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    return units * 2 if transactional else units * (1.0 if consistent else 0.5)


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


# --- the table schemas the estimate needs ---------------------------------------------------------------------------

@dataclass
class Index:
    name: str
    keys: list[str]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    include: list[str] = field(default_factory=list)


@dataclass
class Schema:
    keys: list[str]
    indexes: list[Index]

    def key_of(self, item: dict) -> dict:
        return {name: item[name] for name in self.keys if name in item}


class Estimator:
    """Reads tables with its own client, which the recorder does not count."""

    def __init__(self, client):
        self.client = client
        self._schemas: dict[str, Schema] = {}

    def schema(self, table: str) -> Schema:
        if table not in self._schemas:
            description = self.client.describe_table(TableName=table)["Table"]
            indexes = [Index(i["IndexName"], [k["AttributeName"] for k in i["KeySchema"]],
                             i["Projection"]["ProjectionType"], i["Projection"].get("NonKeyAttributes", []))
                       for i in description.get("GlobalSecondaryIndexes", [])]
            self._schemas[table] = Schema([k["AttributeName"] for k in description["KeySchema"]], indexes)
        return self._schemas[table]

    def get(self, table: str, key: dict) -> dict | None:
        return self.client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def index_units(self, table: str, old: dict | None, new: dict | None) -> int:
        """Write units of the global secondary indexes for one item going from ``old`` to ``new``."""
        schema = self.schema(table)
        units = 0
        for index in schema.indexes:
            def projected(item):
                if not item or not all(k in item for k in index.keys):
                    return None
                if index.projection == "ALL":
                    return item
                names = set(schema.keys) | set(index.keys) | set(index.include)
                return {k: v for k, v in item.items() if k in names}

            before, after = projected(old), projected(new)
            if before is None and after is None:
                continue
            if before is not None and after is not None and all(old[k] == new[k] for k in index.keys):
                if before != after:
                    units += write_units(item_size(after))  # updated in place
                continue
            units += (write_units(item_size(before)) if before is not None else 0) \
                + (write_units(item_size(after)) if after is not None else 0)
        return units


# --- the recorder ---------------------------------------------------------------------------------------------------

class Recorder:
    def __init__(self, estimate: bool = True):
        self.calls: list[Call] = []
        self.section: str | None = None
        self.estimate = estimate
        self.enabled = True
        self._estimator: Estimator | None = None
        self._original_create_client = None
        self._suspended = False

    # installation

    def install(self) -> None:
        import botocore.session

        if self._original_create_client is not None:
            return
        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session, service_name, *args, **kwargs):
            client = original(session, service_name, *args, **kwargs)
            if service_name == "dynamodb" and not recorder._suspended:
                client.meta.events.register("before-call.dynamodb", recorder._before_call,
                                            unique_id="bench-dynamodb-before")
                client.meta.events.register("after-call.dynamodb", recorder._after_call,
                                            unique_id="bench-dynamodb-after")
            return client

        self._original_create_client = original
        botocore.session.Session.create_client = create_client

    def uninstall(self) -> None:
        import botocore.session

        if self._original_create_client is not None:
            botocore.session.Session.create_client = self._original_create_client
            self._original_create_client = None

    def _estimator_for(self, context: dict) -> Estimator | None:
        if not self.estimate:
            return None
        if self._estimator is None:
            import os

            import botocore.session

            self._suspended = True
            try:
                client = botocore.session.get_session().create_client(
                    "dynamodb", region_name=context.get("client_region"),
                    endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
            finally:
                self._suspended = False
            self._estimator = Estimator(client)
        return self._estimator

    # sections

    @contextlib.contextmanager
    def recording(self, section: str):
        """Calls made inside the block are labelled ``section`` and returned in the yielded list."""
        previous, self.section = self.section, section
        start = len(self.calls)
        collected: list[Call] = []
        try:
            yield collected
        finally:
            collected.extend(self.calls[start:])
            self.section = previous

    @contextlib.contextmanager
    def paused(self):
        enabled, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = enabled

    # event handlers

    def _before_call(self, model, params, context, **_):
        if not self.enabled:
            return
        operation = model.name
        request = json.loads(params.get("body") or b"{}")
        context["bench_request"] = request
        if operation in WRITES and self._estimator_for(context) is not None:
            context["bench_before"] = [(table, key, self._estimator.get(table, key))
                                       for table, key, _ in self._writes(operation, request)]

    def _after_call(self, http_response, parsed, model, context, **_):
        if not self.enabled or "bench_request" not in context:
            return
        operation = model.name
        request = context["bench_request"]
        call = Call(operation, self._tables(operation, request), self.section,
                    failed=http_response.status_code >= 400)
        call.reported_units = _reported_units(parsed.get("ConsumedCapacity"))
        if self._estimator_for(context) is not None:
            if operation in READS:
                call.read_units = self._read_units(operation, request, parsed)
            elif operation in WRITES:
                call.write_units = self._write_units(operation, request, context.get("bench_before", []),
                                                     call.failed)
        self.calls.append(call)

    # what a request touches

    @staticmethod
    def _tables(operation: str, request: dict) -> list[str]:
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return sorted(request.get("RequestItems", {}))
        if operation in ("TransactWriteItems", "TransactGetItems"):
            return sorted({next(iter(entry.values()))["TableName"] for entry in request.get("TransactItems", [])})
        return [request["TableName"]] if "TableName" in request else []

    def _writes(self, operation: str, request: dict) -> list[tuple[str, dict, str]]:
        """(table, key, kind) of every item a write request touches."""
        estimator = self._estimator
        if operation == "PutItem":
            table = request["TableName"]
            return [(table, estimator.schema(table).key_of(request["Item"]), "put")]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(request["TableName"], request["Key"], operation)]
        if operation == "BatchWriteItem":
            writes = []
            for table, entries in request.get("RequestItems", {}).items():
                for entry in entries:
                    if "PutRequest" in entry:
                        writes.append((table, estimator.schema(table).key_of(entry["PutRequest"]["Item"]), "put"))
                    else:
                        writes.append((table, entry["DeleteRequest"]["Key"], "delete"))
            return writes
        writes = []
        for entry in request.get("TransactItems", []):
            (kind, spec), = entry.items()
            key = estimator.schema(spec["TableName"]).key_of(spec["Item"]) if kind == "Put" else spec["Key"]
            writes.append((spec["TableName"], key, kind))
        return writes

    def _write_units(self, operation: str, request: dict, before: list, failed: bool) -> float:
        transactional = operation == "TransactWriteItems"
        units = 0.0
        for table, key, old in before:
            if failed:
                # A refused conditional write costs its unit; a refused transaction writes nothing but is charged
                # for what it would have written (as DynamoDB does), approximated by the items as they are.
                units += write_units(item_size(old)) * (2 if transactional else 1)
                continue
            new = self._estimator.get(table, key)
            table_units = write_units(max(item_size(old), item_size(new)))
            units += table_units * (2 if transactional else 1) + self._estimator.index_units(table, old, new)
        return units

    def _read_units(self, operation: str, request: dict, parsed: dict) -> float:
        if operation == "GetItem":
            return read_units(item_size(parsed.get("Item")), bool(request.get("ConsistentRead")))
        if operation in ("Query", "Scan"):
            size = sum(item_size(item) for item in parsed.get("Items", []))
            consistent = bool(request.get("ConsistentRead")) and "IndexName" not in request
            return read_units(size, consistent)
        if operation == "BatchGetItem":
            units = 0.0
            for table, spec in request.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                sizes = [item_size(item) for item in found] + [0] * max(0, len(spec["Keys"]) - len(found))
                units += sum(read_units(size, bool(spec.get("ConsistentRead"))) for size in sizes)
            return units
        if operation == "TransactGetItems":
            return sum(read_units(item_size(r.get("Item")), True, transactional=True)
                       for r in parsed.get("Responses", []))
        return 0.0


def _reported_units(consumed) -> float:
    if not consumed:
        return 0.0
    entries = consumed if isinstance(consumed, list) else [consumed]
    return float(sum(entry.get("CapacityUnits", 0) for entry in entries))


# --- summaries ------------------------------------------------------------------------------------------------------

def summarise(calls: list[Call]) -> dict:
    operations: dict[str, int] = {}
    for call in calls:
        operations[call.operation] = operations.get(call.operation, 0) + 1
    return {
        "calls": len(calls),
        "operations": dict(sorted(operations.items())),
        "read_units": round(sum(c.read_units for c in calls), 1),
        "write_units": round(sum(c.write_units for c in calls), 1),
        "reported_units": round(sum(c.reported_units for c in calls), 1),
    }


def breakdown(calls: list[Call]) -> str:
    """``GetItem tokens, Query directory, UpdateItem communes x 10, ...`` in call order, repeats grouped."""
    labels = [f"{c.operation} {'+'.join(_short(t) for t in c.tables)}" + (" (refused)" if c.failed else "")
              for c in calls]
    grouped: list[list] = []
    for label in labels:
        if grouped and grouped[-1][0] == label:
            grouped[-1][1] += 1
        else:
            grouped.append([label, 1])
    return ", ".join(label if count == 1 else f"{label} x {count}" for label, count in grouped)


def _short(table: str) -> str:
    import os

    prefix = os.environ.get("TABLE_PREFIX", "")
    return table[len(prefix):] if prefix and table.startswith(prefix) else table
