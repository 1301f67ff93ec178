"""Memory and speed of a national list's file written in the background, client side: the worker's own code
(``services/exports.run_export`` with the registry's table of ``api/exports.py``) over the card registry of one
status, page after page of 50 as DynamoDB gives them, with DynamoDB and S3 answered in-process by a stub (as
bench.import_memory does), so that the figure is the writer's memory and speed, not the emulation's.

    python -m bench.export_memory [--rows 20000 200000] [--format csv]

For each size, in a fresh interpreter: prints one JSON object (rows, seconds, rows per second, Query calls, peak RSS
in MiB, the file's size). The file itself goes to the stub, which reads it to its end as S3 would.
"""
import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from unittest import mock

from .import_memory import PROJECT_DIR, _peak_rss_kib

PAGE = 50  # the repositories' PAGE_SIZE


def _items(rows: int, fmt: str):
    """The job as its claim answers it, and one card of the registry, in DynamoDB's JSON."""
    from chalicelib.store.tables import CardEvent, HandOver, ListExport, RegisteredCard

    at = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)
    card = RegisteredCard(
        "2026-0000001", siren="210100533", order_id="210100533-0001", official_id="17966842699639d026642",
        last_name="DUPONT-LAMBERT", first_name="Marie-Hélène", sex="F", function="adjoint",
        commune_name="Saint-Étienne-du-Bois", department_code="01", department_status="01#remise",
        reason="premiere_demande",
        status="remise", created_at=at, updated_at=at + timedelta(days=12),
        history=[CardEvent(status=s, at=at, by_role="prefecture", by="agent@ain.gouv.fr")
                 for s in ("en_fabrication", "livree", "remise")],
        hand_over=HandOver(mode="titulaire", at=at + timedelta(days=12), by="agent@ain.gouv.fr"))
    job = ListExport("0" * 32, owner="account#bench", principal={"email": "bench@fabricant.example.fr",
                                                                 "role": "manufacturer", "account_id": "bench"},
                     list_name="registre-des-cartes", filters={"status": "remise"}, file_format=fmt,
                     status="running", rows=0, attempts=1, created_at=datetime.now(timezone.utc),
                     purge_at=datetime.now(timezone.utc) + timedelta(days=1))  # just asked for
    return job.serialize(), card.serialize()


def measure(rows: int, fmt: str) -> dict:
    import os

    os.environ.update(TABLE_PREFIX="bench-", DATA_BUCKET="bench", MAIL_SENDER="bench@example.fr",
                      SITE_URL="https://bench.example.fr", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="eu-west-3")
    from botocore.client import BaseClient

    from chalicelib.api.exports import national_table
    from chalicelib.services import exports

    job, card = _items(rows, fmt)
    served, calls, written = [0], {}, [0]

    def answer(client, operation, params):
        calls[operation] = calls.get(operation, 0) + 1
        if operation == "UpdateItem":
            return {"Attributes": job}
        if operation == "Query":
            start = served[0]
            page = [dict(card, card_number={"S": f"2026-{n:07d}"}) for n in range(start, min(start + PAGE, rows))]
            served[0] += len(page)
            last = {"card_number": page[-1]["card_number"], "status": {"S": "remise"}} if served[0] < rows else None
            return {"Items": page, "Count": len(page), "ScannedCount": len(page),
                    **({"LastEvaluatedKey": last} if last else {})}
        if operation in ("PutObject", "UploadPart"):
            while chunk := params["Body"].read(64 * 1024):  # read to its end, as the HTTP client would
                written[0] += len(chunk)
            return {"ETag": '"bench"'}
        if operation == "CreateMultipartUpload":
            return {"UploadId": "bench"}
        return {}

    with mock.patch.object(BaseClient, "_make_api_call", answer):
        started = time.perf_counter()
        outcome = exports.run_export("0" * 32, national_table)
        seconds = time.perf_counter() - started
    assert outcome == "ready" and served[0] == rows, (outcome, served[0])
    return {"rows": rows, "format": fmt, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
            "queries": calls.get("Query", 0), "progress_writes": calls.get("UpdateItem", 0) - 2,
            "file_mb": round(written[0] / 1e6, 1), "peak_rss_mib": round(_peak_rss_kib() / 1024, 1)}


def run(rows: int, fmt: str = "csv") -> dict:
    output = subprocess.run([sys.executable, "-m", "bench.export_memory", "--measure", str(rows), "--format", fmt],
                            cwd=PROJECT_DIR, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[20_000, 200_000])
    parser.add_argument("--format", default="csv", choices=("csv", "xlsx"))
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.format)))
        return 0
    for rows in args.rows:
        print(json.dumps(run(rows, args.format)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
