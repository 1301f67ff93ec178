"""The spreadsheet writers (chalicelib/printing/tables.py): what a French spreadsheet needs, and no cell that runs."""
import csv
import io

import openpyxl

from chalicelib.printing.tables import MOMENT, NUMBER, TEXT, Column, CsvTable, XlsxTable

COLUMNS = [Column("Nom", TEXT), Column("Nombre de cartes", NUMBER), Column("Dernière mise à jour (UTC)", MOMENT)]
ROWS = [["=HYPERLINK(\"http://x\")", 2, "2026-03-02T09:15:00Z"], ["Lefèvre; Œuvre \"dite\"\nligne 2", 0, None],
        ["+33 6", 1, ""], ["-1", 3, None], ["@SUM(A1)", 4, None]]


def test_csv_is_utf8_with_bom_semicolons_and_no_formula():
    out = io.BytesIO()
    table = CsvTable(out, COLUMNS, "Demandes")
    table.add(ROWS[:2])
    table.add(ROWS[2:])  # page after page
    table.close()
    raw = out.getvalue()
    assert raw.startswith(b"\xef\xbb\xbfNom;Nombre de cartes;")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["Nom", "Nombre de cartes", "Dernière mise à jour (UTC)"]
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "2", "2026-03-02 09:15"]
    assert rows[2] == ["Lefèvre; Œuvre \"dite\"\nligne 2", "0", ""]  # quoted, read back whole
    assert [r[0] for r in rows[3:]] == ["'+33 6", "'-1", "'@SUM(A1)"]


def test_xlsx_has_numbers_dates_and_strings_never_formulas():
    out = io.BytesIO()
    table = XlsxTable(out, COLUMNS, "Un titre de plus de trente et un caractères")
    table.add(ROWS)
    table.close()
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    sheet = book.worksheets[0]
    assert sheet.title == "Un titre de plus de trente et u"
    assert [c.value for c in sheet[1]] == ["Nom", "Nombre de cartes", "Dernière mise à jour (UTC)"]
    first = sheet[2]
    assert first[0].data_type == "s" and first[0].value == "=HYPERLINK(\"http://x\")"  # text, not a formula
    assert first[1].value == 2 and first[1].data_type == "n"
    assert first[2].is_date and f"{first[2].value:%Y-%m-%d %H:%M}" == "2026-03-02 09:15"
    assert sheet[3][0].value == "Lefèvre; Œuvre \"dite\"\nligne 2" and sheet[3][2].value is None
    assert all(row[0].data_type == "s" for row in sheet.iter_rows(min_row=2))
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:C6"
