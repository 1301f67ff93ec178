"""The national RNE import, end to end through the S3 trigger: the whole country's councillors, then its mayors.

    python -m bench.national_import [--cm-rows 511000] [--maires-rows 34826]   # prints one JSON object

The files are ``bench.generate_rne``'s, in the published formats (65 MB of councillors, one row per commune of
mayors), cached in ``var/bench/``. The AWS emulation is moto's server in its own process (``bench.endpoint``), free
to use the machine's other CPU, so that its work is not counted in the import's. For each file, a fresh worker
process (pinned to the bench's CPU) does what production does: the import is created (``create_import``, as ``POST
/admin/reference-imports`` does), the file is put at its upload key in the bucket, the bucket's notification queues the
S3 event, and the import function's real handler, ``import_reference_file`` (``chalicelib/events/uploads.py``), is
invoked with that SQS message as Lambda would: it streams the object from S3 over HTTP, validates the rows, writes them
in ``BatchWriteItem`` calls, reports progress, tells the registered communes (a few queries) and links the officials
declared before (``declarations.link_all``). Measured in the worker: wall and CPU seconds of the handler, rows per
second, its own peak resident memory (``VmHWM``: the emulation's memory is in the other process), the DynamoDB calls
by operation and the write units they consume, estimated by DynamoDB's rules from the items sent (1 unit per KB of
each item, rounded up, plus 1 for its entry in the keys-only ``by-generation`` index; a first import into an empty
directory: no item is replaced). The docs turn these into the expected Lambda duration and cost.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .common import CACHE_DIR, PROJECT_DIR

CM_ROWS = 511_000  # conseillers municipaux of the 2020 file, about 65 MB
MAIRES_ROWS = 34_826  # one mayor a commune


def data_file(layout: str, rows: int) -> Path:
    path = CACHE_DIR / f"rne-{layout}-{rows}.csv"
    if not path.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "bench.generate_rne", "--rows", str(rows), "--layout", layout,
                        "--out", str(path)], cwd=PROJECT_DIR, check=True)
    return path


# --- the worker (a fresh process, environment pointing at the emulation) -------------------------------------------

def _peak_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _count_writes(counts: dict):
    """A botocore ``provide-client-params`` handler (the call's parameters as given) counting DynamoDB operations and
    the write units of BatchWriteItem."""
    from .dynamodb import item_size, write_units

    def before_call(model, params, **_):
        counts["calls"][model.name] = counts["calls"].get(model.name, 0) + 1
        if model.name == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    item = request.get("PutRequest", {}).get("Item")
                    if item is not None:
                        counts["items"] += 1
                        counts["table_units"] += write_units(item_size(item))
                        counts["index_units"] += 1 if "generation" in item else 0
        elif model.name in ("UpdateItem", "PutItem", "DeleteItem"):
            counts["other_units"] += 1

    return before_call


def worker(kind: str, path: str) -> dict:
    import boto3
    import botocore.session

    from chalicelib.services import reference_imports
    from chalicelib.settings import get_settings
    from chalicelib.store.queues import IMPORTS_QUEUE

    counts = {"calls": {}, "items": 0, "table_units": 0, "index_units": 0, "other_units": 0}
    original = botocore.session.Session.create_client

    def create_client(session, service_name, *args, **kwargs):
        client = original(session, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb", _count_writes(counts))
        return client

    botocore.session.Session.create_client = create_client
    import app

    settings = get_settings()
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=IMPORTS_QUEUE)["QueueUrl"]
    while True:  # what an earlier file or the notification's creation left (SQS refuses a second purge in 60 s)
        left = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not left:
            break
        for message in left:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    import_id = reference_imports.create_import(kind, "bench", "upload")
    with open(path, "rb") as body:  # one PUT, as the operator's presigned POST (no multipart upload)
        s3.put_object(Bucket=settings.data_bucket, Key=reference_imports.upload_key(import_id, kind), Body=body)
    messages = []
    for _ in range(20):
        messages = [m for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                                   WaitTimeSeconds=1).get("Messages", [])
                    if "Records" in m["Body"]]
        if messages:
            break
    assert len(messages) == 1, messages
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    event = {"Records": [{"messageId": messages[0]["MessageId"], "receiptHandle": messages[0]["ReceiptHandle"],
                          "body": messages[0]["Body"], "attributes": {}, "messageAttributes": {},
                          "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:eu-west-3:123456789012:"
                                                                      f"{IMPORTS_QUEUE}", "awsRegion": "eu-west-3"}]}
    for name in list(counts["calls"]):
        counts["calls"][name] = 0
    counts.update(items=0, table_units=0, index_units=0, other_units=0)
    cpu, started = time.process_time(), time.perf_counter()
    app.app.handler_map["import_reference_file"](event, None)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    described = reference_imports.describe_import(import_id)
    assert described["status"] == "done", described
    return {"kind": kind, "rows": described["rows"], "imported": described["imported"],
            "rejected": described["rejected"], "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1),
            "rows_per_second": round(described["rows"] / seconds), "peak_rss_mib": round(_peak_rss_mib(), 1),
            "file_mb": round(os.path.getsize(path) / 1e6, 1), "dynamodb_calls": counts["calls"],
            "items_written": counts["items"], "write_units": counts["table_units"] + counts["index_units"]
            + counts["other_units"], "write_units_table": counts["table_units"],
            "write_units_index": counts["index_units"]}


# --- the bench ------------------------------------------------------------------------------------------------------

def measure(cm_rows: int = CM_ROWS, maires_rows: int = MAIRES_ROWS) -> dict:
    from .endpoint import Endpoint

    files = {"rne_cm": data_file("cm", cm_rows), "rne_maires": data_file("maires", maires_rows)}
    results = {}
    with Endpoint() as aws:
        try:  # the emulation may use every CPU: its work is not the import's
            os.sched_setaffinity(aws.process.pid, set(range(os.cpu_count() or 1)))
        except (AttributeError, OSError):
            pass
        env = aws.environment()
        for kind, path in files.items():
            done = subprocess.run([sys.executable, "-m", "bench.national_import", "--worker", kind, str(path)],
                                  cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"the {kind} import failed:\n{done.stderr[-3000:]}")
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
        results["emulation_rss_mib"] = round(aws.rss_mib(), 1)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cm-rows", type=int, default=CM_ROWS)
    parser.add_argument("--maires-rows", type=int, default=MAIRES_ROWS)
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        import logging

        logging.disable(logging.INFO)
        print(json.dumps(worker(*args.worker)))
        return 0
    print(json.dumps(measure(args.cm_rows, args.maires_rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
