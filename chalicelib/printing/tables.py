"""A list as a spreadsheet file, written row by row: CSV for French spreadsheets, or XLSX (XlsxWriter).

- **CSV**: UTF-8 with a byte order mark (so that Excel reads the accents right), ``;`` between cells (Excel and
  LibreOffice in French take ``,`` as the decimal separator), CRLF line ends (RFC 4180).
- **XLSX**: XlsxWriter in ``constant_memory`` mode (each row goes to disk as it is written: a national list never sits
  whole in memory), numbers as numbers and moments as dates, a header row frozen and filtered.

Either way a cell is never a formula: a name or a reason that begins with ``=``, ``+``, ``-`` or ``@`` would run as
one when the file is opened (CSV injection, OWASP). A CSV cell starting so gets a leading apostrophe; an XLSX cell is
written as a string explicitly, which Excel does not evaluate.

XlsxWriter is imported here only, by the export routes: the other API calls never pay for it.
"""
import csv
import io
from datetime import datetime, timezone
from typing import Any, BinaryIO, Iterable, NamedTuple

TEXT, NUMBER, MOMENT = "text", "number", "moment"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Column(NamedTuple):
    header: str  # in French: what the person reads
    kind: str  # TEXT, NUMBER or MOMENT (an ISO 8601 UTC string, as the API gives it)


FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")}


def moment(value: str | None) -> datetime | None:
    """An API moment (``2026-03-02T09:15:00Z``) as a naive UTC datetime (spreadsheets know no time zones)."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)


def csv_cell(value: Any, kind: str) -> str:
    if value is None or value == "":
        return ""
    if kind == MOMENT:
        return f"{moment(value):%Y-%m-%d %H:%M}"
    if kind == NUMBER:
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class CsvTable:
    def __init__(self, out: BinaryIO, columns: list[Column], title: str):
        self._out = out
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        self._writer = csv.writer(self._text, delimiter=";", lineterminator="\r\n")
        self._kinds = [c.kind for c in columns]
        self._writer.writerow([c.header for c in columns])

    def add(self, rows: Iterable[list]) -> None:
        self._writer.writerows([csv_cell(v, k) for v, k in zip(row, self._kinds)] for row in rows)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the file stays open for the upload


class XlsxTable:
    def __init__(self, out: BinaryIO, columns: list[Column], title: str):
        # cold start: xlsxwriter 40 ms, only the XLSX exports need it
        import xlsxwriter

        self._book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "in_memory": False})
        self._sheet = self._book.add_worksheet(title[:31])  # Excel's limit for a sheet's name
        bold = self._book.add_format({"bold": True})
        self._date = self._book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        self._kinds = [c.kind for c in columns]
        for index, column in enumerate(columns):
            self._sheet.write_string(0, index, column.header, bold)
            self._sheet.set_column(index, index, 22 if column.kind == MOMENT else max(12, len(column.header) + 2))
        self._sheet.freeze_panes(1, 0)
        self._columns = len(columns)
        self._row = 0

    def add(self, rows: Iterable[list]) -> None:
        for row in rows:
            self._row += 1
            for index, (value, kind) in enumerate(zip(row, self._kinds)):
                if value is None or value == "":
                    continue
                if kind == NUMBER:
                    self._sheet.write_number(self._row, index, value)
                elif kind == MOMENT:
                    self._sheet.write_datetime(self._row, index, moment(value), self._date)
                else:
                    self._sheet.write_string(self._row, index, str(value))

    def close(self) -> None:
        self._sheet.autofilter(0, 0, self._row, self._columns - 1)
        self._book.close()


WRITERS = {"csv": CsvTable, "xlsx": XlsxTable}
