"""The directory's files as they really come: each variant of the sample files goes through the real pipeline (presigned
POST, S3 event, import function) and must give the directory the pristine file gives, or a refusal that says why."""
import csv
import io
import re
import unicodedata

import pytest

from chalicelib.store.tables import DirectoryItem
from tests.conftest import REFERENCE_DATA
from tests.helpers import import_file

CM = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_bytes()
MAYORS = (REFERENCE_DATA / "elus-maires-mai.csv").read_bytes()
FRENCH_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def lines_of(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return [line.split(";") for line in text.splitlines() if line]


def written(rows: list[list[str]], separator: str = ";", encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)


def with_header(data: bytes, change) -> list[list[str]]:
    header, *rows = lines_of(data)
    return [[change(name) for name in header], *rows]


def with_dates(data: bytes, change) -> list[list[str]]:
    header, *rows = lines_of(data)
    return [header, *[[change(value) if FRENCH_DATE.match(value) else value for value in row] for row in rows]]


def no_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def directory() -> set[tuple]:
    """The active rows, as the commune's search will read them (the import that wrote them left out)."""
    return {(i.insee_code, i.source, i.last_name, i.first_name, i.sex, i.birth_date, i.mandate_start,
             i.function_label, i.department_code, i.department_label, i.commune_label)
            for i in DirectoryItem.scan() if i.status == "active" and not i.row_key.startswith("registered#")}


def read_like_the_pristine_file(client, operator, kind: str, variant: bytes, pristine: bytes) -> dict:
    """Import the variant, then the pristine file: the pristine import ends whatever the variant wrote differently
    (a name read with the wrong accents is another person), so the two directories are equal only if the variant
    was read exactly as the pristine file."""
    report = import_file(client, operator, kind, variant)
    assert report["status"] == "done" and report["rejected"] == 0, report
    from_variant = directory()
    assert import_file(client, operator, kind, pristine)["status"] == "done"
    assert from_variant == directory() and from_variant
    return report


COUNCILLOR_VARIANTS = {
    "curly apostrophes in the header": lambda: written(with_header(CM, lambda n: n.replace("'", "\u2019"))),
    "header in capitals, without accents": lambda: written(with_header(CM, lambda n: no_accents(n).upper())),
    "historical spellings": lambda: written(with_header(CM, lambda n: {
        "Code de la commune": "Code Insee de la commune",
        "Code de la catégorie socio-professionnelle": "Code profession",
        "Libellé de la catégorie socio-professionnelle": "Libellé de la profession",
        "Libellé du département": "Libellé de département"}.get(n, n))),
    "comma separator": lambda: written(lines_of(CM), separator=","),
    "tab separator": lambda: written(lines_of(CM), separator="\t"),
    "Windows-1252": lambda: written(lines_of(CM), encoding="cp1252"),
    "no BOM, CRLF": lambda: written(lines_of(CM)),
    "ISO dates": lambda: written(with_dates(CM, lambda d: "-".join(reversed(d.split("/"))))),
    "2-digit years": lambda: written(with_dates(CM, lambda d: d[:6] + d[8:])),
    "columns in another order": lambda: written([row[::-1] for row in lines_of(CM)]),
}


@pytest.mark.parametrize("variant", COUNCILLOR_VARIANTS)
def test_a_councillors_file_variant_gives_the_same_directory(client, operator, variant):
    data = COUNCILLOR_VARIANTS[variant]()
    assert data != CM
    report = read_like_the_pristine_file(client, operator, "rne_cm", data, CM)
    assert report["imported"] == 26
    if variant == "Windows-1252":
        assert report["notes"] == ["Fichier lu en Windows-1252 (il n'est pas en UTF-8) : vérifiez les accents des "
                                   "noms importés."]
    elif variant == "comma separator":
        assert report["notes"] == ["Séparateur : virgule."]
    elif variant == "tab separator":
        assert report["notes"] == ["Séparateur : tabulation."]
    else:
        assert report["notes"] == []


def test_a_mayors_file_with_a_bom_and_french_dates_with_two_digit_years(client, operator):
    variant = written(with_dates(MAYORS, lambda d: d[:6] + d[8:]), bom=True)
    report = read_like_the_pristine_file(client, operator, "rne_maires", variant, MAYORS)
    assert report["imported"] == 3


def test_a_column_name_with_a_typing_slip_is_read_and_the_report_says_which(client, operator):
    variant = written(with_header(CM, lambda n: "Date de debut du mnadat" if n == "Date de début du mandat" else n))
    report = read_like_the_pristine_file(client, operator, "rne_cm", variant, CM)
    assert report["notes"] == ["Colonne « Date de debut du mnadat » lue comme « Date de début du mandat »."]


def test_a_file_without_a_column_is_refused_whole_naming_it(client, operator):
    header, *rows = lines_of(CM)
    gone = header.index("Date de début du mandat")
    variant = written([[v for i, v in enumerate(row) if i != gone] for row in [header, *rows]])
    report = import_file(client, operator, "rne_cm", variant)
    assert (report["status"], report["imported"]) == ("failed", 0)
    assert "colonne manquante : « Date de début du mandat »" in report["failure"]
    assert "Attendu : « Code du département;" in report["failure"]
    assert directory() == set()


def test_an_unknown_column_is_refused_naming_what_was_found(client, operator):
    variant = written(with_header(CM, lambda n: "Circonscription" if n == "Code nationalité" else n))
    report = import_file(client, operator, "rne_cm", variant)
    assert report["status"] == "failed"
    assert "colonne manquante : « Code nationalité »" in report["failure"]
    assert "colonne inconnue : « Circonscription »" in report["failure"]


@pytest.mark.parametrize("data, reason", [
    ("Code du département;Nom".encode("utf-16"), "UTF-16"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "classeur"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "n'est pas un texte"),
])
def test_a_file_that_is_not_a_csv_text_is_refused_with_what_it_is(client, operator, data, reason):
    report = import_file(client, operator, "rne_maires", data)
    assert report["status"] == "failed" and reason in report["failure"], report


def test_a_commune_listed_twice_in_the_mayors_file_keeps_the_later_mayor(client, operator):
    header, *rows = lines_of(MAYORS)
    bourg = next(row for row in rows if row[4] == "01053")
    outgoing = list(bourg)
    outgoing[6:10] = ["LAMBERT", "Jean-Pierre", "M", "19/09/1955"]
    outgoing[12:14] = ["15/03/2020", "03/07/2020"]
    # the outgoing mayor comes after the incoming one, and again, in a second copy, before it
    variant = written([header, outgoing, *rows, outgoing])
    report = import_file(client, operator, "rne_maires", variant)
    assert (report["status"], report["rows"], report["imported"], report["rejected"]) == ("done", 5, 3, 0)
    incoming_line = 3
    assert [w["line"] for w in report["warnings"]] == [2, 6]
    assert report["warnings"][0]["reason"] == (
        f"Bourg-en-Bresse (01053) figure deux fois dans le fichier des maires : ligne écartée (LAMBERT Jean-Pierre, "
        f"maire depuis le 03/07/2020) au profit de la ligne {incoming_line} (MARCHAND Hélène, maire depuis le "
        f"22/03/2026), plus récente.")
    mayors_of_bourg = [i.last_name for i in DirectoryItem.query("01053") if i.source == "rne_maires"]
    assert mayors_of_bourg == ["MARCHAND"]


def test_a_later_file_that_lists_the_outgoing_mayor_second_still_keeps_the_incoming(client, operator):
    header, *rows = lines_of(MAYORS)
    bourg = next(row for row in rows if row[4] == "01053")
    newer = list(bourg)
    newer[6:10] = ["ROUSSEL", "Inès", "F", "02/05/1980"]
    newer[13] = "02/10/2026"  # elected after a resignation: the function starts later, same mandate
    report = import_file(client, operator, "rne_maires", written([header, newer, *rows]))
    assert report["imported"] == 3 and [w["line"] for w in report["warnings"]] == [3]
    assert [i.last_name for i in DirectoryItem.query("01053") if i.source == "rne_maires"] == ["ROUSSEL"]
