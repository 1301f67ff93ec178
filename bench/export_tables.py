"""How fast the export writers go (docs/exports.md): rows per second and peak Python memory, writing the registry's
columns for the example card of the OpenAPI document, page after page of 50, as an export does. Not part of
``make bench`` (no target on it yet): a figure for the time budget of a synchronous export.

    python -m bench.export_tables [rows]
"""
import sys
import tempfile
import time
import tracemalloc

from chalicelib.api.examples import EXAMPLES
from chalicelib.api.exports import ADMIN_CARD_FIELDS
from chalicelib.printing.tables import WRITERS

PAGE = 50


def write(file_format: str, rows: int, traced: bool) -> tuple[float, int, int]:
    row = [f.value(EXAMPLES["CARD"]) for f in ADMIN_CARD_FIELDS]
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
        table = WRITERS[file_format](spool, [f.column for f in ADMIN_CARD_FIELDS], "Registre")
        for _ in range(0, rows, PAGE):
            table.add([list(row) for _ in range(PAGE)])
        table.close()
        size = spool.seek(0, 2)
    took = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    return took, size, peak


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    for file_format in WRITERS:
        took, size, _ = write(file_format, rows, traced=False)
        _, _, peak = write(file_format, min(rows, 5_000), traced=True)  # tracing slows it: memory on its own run
        print(f"{file_format}: {rows} rows x {len(ADMIN_CARD_FIELDS)} columns in {took:.1f} s "
              f"({rows / took:,.0f} rows/s), {size / 1e6:.1f} MB; peak Python memory {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
