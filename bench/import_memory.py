"""Memory and speed of a whole-country directory import, client side.

    python -m bench.import_memory [--rows 50000 500000]

For each size, in a fresh interpreter: generate the synthetic RNE file (bench.generate_rne), then run the real import
pipeline (streaming reader, row validation, DirectoryWriter with PynamoDB batch writes and their serialisation) with
DynamoDB answered in-process by a recording stub, so the figure is the importer's own memory and speed, not the
emulation's. Prints one JSON object per size: rows, seconds, rows per second, write calls per row, peak RSS (MiB).
"""
import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

PROJECT_DIR = Path(__file__).resolve().parent.parent


def measure(path: Path) -> dict:
    import os

    os.environ.update(TABLE_PREFIX="bench-", DATA_BUCKET="bench", MAIL_SENDER="bench@example.fr",
                      SITE_URL="https://bench.example.fr", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="eu-west-3")
    from botocore.client import BaseClient

    from chalicelib.services import reference_imports
    from chalicelib.services.reference_imports import DirectoryWriter
    from chalicelib.store.tables import ReferenceImport

    calls: dict[str, int] = {}

    def answer(client, operation, params):
        calls[operation] = calls.get(operation, 0) + 1
        if operation == "BatchWriteItem":
            return {"UnprocessedItems": {}}
        if operation == "GetItem":
            return {}
        if operation == "Query":
            return {"Items": [], "Count": 0, "ScannedCount": 0}
        return {"Attributes": {}}

    item = ReferenceImport("bench-import", kind="rne_cm", status="running", created_by="bench")
    with mock.patch.object(BaseClient, "_make_api_call", answer), path.open("rb") as lines:
        started = time.perf_counter()
        reference_imports._import_rows(item, DirectoryWriter("rne_cm", "bench-import"), lambda: lines)
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "batch_writes": calls.get("BatchWriteItem", 0),
            "progress_writes": calls.get("UpdateItem", 0), "peak_rss_mib": round(_peak_rss_kib() / 1024, 1)}


def _peak_rss_kib() -> int:
    """This process's own peak RSS. ``ru_maxrss`` is not: Linux carries the parent's peak over fork and exec, so a
    measure started from a process that held more memory (bench.run) would report the parent's figure."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(rows: int, data_dir: Path) -> dict:
    path = data_dir / f"rne-{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "bench.generate_rne", "--rows", str(rows), "--out", str(path)],
                       cwd=PROJECT_DIR, check=True)
    output = subprocess.run([sys.executable, "-m", "bench.import_memory", "--measure", str(path)], cwd=PROJECT_DIR,
                            check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["rows"] = rows
    result["rows_per_second"] = round(rows / result["seconds"])
    result["batch_writes_per_row"] = round(result["batch_writes"] / rows, 4)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[50_000, 500_000])
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=str(PROJECT_DIR / "var"))
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return 0
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    for rows in args.rows:
        print(json.dumps(run(rows, Path(args.data_dir))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
