import io
import itertools
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import generate_rne
from chalicelib.domain.csv_rows import SAMPLE_BYTES, BadHeader, RowError, read_rows
from chalicelib.domain.functions import ADJOINT, MAIRE, MAIRE_DELEGUE
from chalicelib.domain.rne import (
    RNE_CM_HEADER,
    RNE_CM_LAYOUTS,
    RNE_MAIRES_HEADER,
    RNE_MAIRES_LAYOUTS,
    DirectoryRow,
    cm_row,
    mayor_row,
)
from chalicelib.services.directory import merge_persons

DATA = Path(__file__).resolve().parents[2] / "data" / "reference"
TODAY = date(2026, 11, 27)

CM_HEADER_LINE = ";".join(RNE_CM_HEADER)
GOOD = (
    "01;Ain;;;01053;Bourg-en-Bresse;MARCHAND;Hélène;F;04/02/1968;48;Professions intermédiaires;15/03/2026;Maire;"
    "22/03/2026;FRA"
)


def persons(rows, mayors=()) -> list[dict]:
    """The directory's persons (what the commune's search shows) of rows of the councillors' file and of the mayors'
    file, stored as the import stores them."""
    return merge_persons([SimpleNamespace(
        person_key=r.person_key, insee_code=r.insee_code, last_name=r.last_name, first_name=r.first_name, sex=r.sex,
        birth_date=r.birth_date.isoformat(), mandate_start=r.mandate_start.isoformat(),
        department_label=r.department_label, commune_label=r.commune_label, function_label=r.function_label,
        source=source) for source, file_rows in (("rne_cm", rows), ("rne_maires", mayors)) for r in file_rows])


def parse(path: Path, layouts):
    with path.open("rb") as body:
        return list(read_rows(body, layouts))


def parse_text(text: str, layouts=RNE_CM_LAYOUTS):
    return list(read_rows(io.BytesIO(text.encode("utf-8")), layouts))


def cm_fields(**changes) -> list[str]:
    """The GOOD line's fields with some columns replaced (by header position name)."""
    fields = GOOD.split(";")
    columns = {
        "department": 0, "department_label": 1, "collectivity_code": 2, "collectivity_label": 3, "insee": 4,
        "commune": 5, "last_name": 6, "first_name": 7, "sex": 8, "birth": 9, "mandate": 12, "function": 13,
        "function_start": 14,
    }
    for name, value in changes.items():
        fields[columns[name]] = value
    return fields


def row(**changes) -> DirectoryRow:
    return cm_row(cm_fields(**changes), today=TODAY)


def reason(**changes) -> str:
    with pytest.raises(ValueError) as problem:  # RowInvalid is a ValueError
        row(**changes)
    return str(problem.value)


# --- The sample files ---------------------------------------------------------------------------------------------
def test_sample_councillors_file_parses_without_error():
    results = parse(DATA / "elus-conseillers-municipaux-cm.csv", RNE_CM_LAYOUTS)
    errors = [r for _, r in results if isinstance(r, RowError)]
    rows = [r for _, r in results]
    assert errors == []
    assert len(rows) == 26
    assert results[0][0] == 2  # line numbers count the header (with its BOM)
    assert rows[0] == DirectoryRow(
        department_code="01", department_label="Ain", collectivity_code="", collectivity_label="",
        insee_code="01053", commune_label="Bourg-en-Bresse", last_name="MARCHAND", first_name="Hélène", sex="F",
        birth_date=date(1968, 2, 4), mandate_start=date(2026, 3, 15), function_label="Maire",
        function_start=date(2026, 3, 22),
    )
    names = {(r.last_name, r.first_name) for r in rows}
    assert {("N'DIAYE", "Moussa"), ("BŒUF", "François"), ("ÉTIENNE", "Noël"), ("CÔTÉ", "Maïté"),
            ("LE GALL-KERVELLA", "Anne-Sophie"), ("D'ARCY", "Chloé")} <= names
    councillor = next(r for r in rows if r.last_name == "ROUSSEAU")
    assert councillor.function_label == "" and councillor.function_start is None
    assert {r.insee_code for r in rows} == {"01053", "01283", "74010", "97701"}


def test_sample_overseas_row_has_empty_department():
    rows = [r for _, r in parse(DATA / "elus-conseillers-municipaux-cm.csv", RNE_CM_LAYOUTS)]
    overseas = next(r for r in rows if r.insee_code == "97701")
    assert overseas.department_code == "" and overseas.department_label == ""
    assert (overseas.collectivity_code, overseas.collectivity_label) == ("977", "Saint-Barthélemy")
    assert (overseas.last_name, overseas.first_name, overseas.sex) == ("GRÉAUX", "Maëlys", "F")


def test_sample_person_with_two_functions_has_one_key():
    rows = [r for _, r in parse(DATA / "elus-conseillers-municipaux-cm.csv", RNE_CM_LAYOUTS)]
    bouvier = [r for r in rows if r.last_name == "BOUVIER"]
    assert [r.function_label for r in bouvier] == ["2ème adjoint au Maire", "Maire délégué"]
    assert bouvier[0].person_key == bouvier[1].person_key
    assert len({r.person_key for r in rows}) == len(rows) - 1

    annecy = persons(r for r in rows if r.insee_code == "74010")
    assert [p["last_name"] for p in annecy] == ["DUMAS", "FAVRE", "BOUVIER", "MERMILLOD", "DUNAND", "PACCARD",
                                                 "VEYRAT"]
    person = annecy[2]
    assert person["rne_functions"] == ["2ème adjoint au Maire", "Maire délégué"]
    assert person["eligible_functions"] == [ADJOINT, MAIRE_DELEGUE]
    assert person["person_key"] == bouvier[0].person_key
    assert annecy[-1]["rne_functions"] == [] and annecy[-1]["eligible_functions"] == []


def test_sample_directory_of_bourg_en_bresse():
    rows = [r for _, r in parse(DATA / "elus-conseillers-municipaux-cm.csv", RNE_CM_LAYOUTS)]
    entries = persons(r for r in rows if r.insee_code == "01053")
    assert len(entries) == 13
    assert entries[0]["eligible_functions"] == [MAIRE]
    assert [p["rne_functions"][0] for p in entries[1:9]] == [f"{n}{'er' if n == 1 else 'ème'} adjoint au Maire"
                                                              for n in range(1, 9)]
    assert [p["eligible_functions"] for p in entries[9:]] == [[], [], [], []]  # conseiller délégué, councillors


def test_sample_mayors_file():
    results = parse(DATA / "elus-maires-mai.csv", RNE_MAIRES_LAYOUTS)
    rows = [r for _, r in results]
    assert not any(isinstance(r, RowError) for r in rows)
    assert [(r.insee_code, r.last_name) for r in rows] == [("01053", "MARCHAND"), ("01283", "VINCENT"),
                                                           ("74010", "DUMAS")]
    assert all(r.function_label == "Maire" and r.function_start == date(2026, 3, 22) for r in rows)
    councillors = [r for _, r in parse(DATA / "elus-conseillers-municipaux-cm.csv", RNE_CM_LAYOUTS)]
    mayors_in_cm = {r.person_key for r in councillors if r.function_label == "Maire"}
    assert {r.person_key for r in rows} == mayors_in_cm  # the two files name the same people
    merged = persons(councillors[:1], mayors=rows[:1])
    assert [(p["rne_functions"], p["in_mayors_file"]) for p in merged] == [(["Maire"], True)]


def test_headers_of_the_two_files():
    assert len(RNE_CM_HEADER) == 16 and len(RNE_MAIRES_HEADER) == 14
    with pytest.raises(BadHeader):
        parse_text(";".join(RNE_MAIRES_HEADER) + "\n" + GOOD + "\n", RNE_CM_LAYOUTS)
    with pytest.raises(BadHeader, match="colonnes manquantes : « Libellé de la fonction », « Code nationalité »"):
        parse_text(";".join(RNE_MAIRES_HEADER) + ";x;y\n" + GOOD + "\n", RNE_CM_LAYOUTS)
    # the header is matched by meaning: case, accents, curly apostrophes
    folded = CM_HEADER_LINE.lower().replace("é", "e").replace("'", "\u2019")
    assert isinstance(parse_text(folded + "\n" + GOOD + "\n")[0][1], DirectoryRow)
    # spaces around column names, a BOM and CRLF line ends are fine
    spaced = "\ufeff" + " ; ".join(RNE_CM_HEADER) + " \r\n" + GOOD + "\r\n"
    assert isinstance(parse_text(spaced)[0][1], DirectoryRow)


# --- Values -------------------------------------------------------------------------------------------------------
def test_real_world_variants_are_cleaned():
    r = row(sex=" f ", last_name="  LE   GALL ", first_name="Anne-Sophie ", insee="2a004", department="2a",
            function="  1er  adjoint au Maire ")
    assert (r.sex, r.last_name, r.first_name) == ("F", "LE GALL", "Anne-Sophie")
    assert (r.insee_code, r.department_code) == ("2A004", "2A")
    assert r.function_label == "1er adjoint au Maire"
    assert row(sex="m").sex == "M"


def test_leading_zero_dropped_by_a_spreadsheet_is_restored():
    r = row(insee="1053", department="1")
    assert (r.insee_code, r.department_code) == ("01053", "01")


@pytest.mark.parametrize("insee", ["01053", "2A004", "2B033", "75056", "97502", "97101", "98735", "98818"])
def test_insee_codes(insee):
    department = "" if insee[:2] in ("97", "98") else insee[:2]
    assert row(insee=insee, department=department).insee_code == insee


@pytest.mark.parametrize("insee", ["", "0105", "010533", "20004", "2C004", "00123", "96001", "ABCDE", "01 053"])
def test_bad_insee_codes(insee):
    assert "Code de la commune" in reason(insee=insee, department="01")


def test_department_empty_only_overseas():
    assert row(insee="97101", department="", collectivity_code="971").department_code == ""
    assert row(insee="97101", department="971").department_code == "971"
    assert row(insee="97101", department="ZA").department_code == "ZA"
    assert "Code du département manquant" in reason(department="")
    assert "incohérent" in reason(department="74")
    assert "Code du département" in reason(department="ZA")
    assert "Code du département" in reason(department="20", insee="2A004")


@pytest.mark.parametrize("sex", ["", "X", "H", "Homme", "MF"])
def test_bad_sex(sex):
    assert "Code sexe" in reason(sex=sex)


@pytest.mark.parametrize("column, label", [("last_name", "Nom de l'élu"), ("first_name", "Prénom de l'élu"),
                                           ("commune", "Libellé de la commune")])
def test_required_texts(column, label):
    assert reason(**{column: "  "}) == f"{label} manquant."


# --- Dates --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("04/02/1968", date(1968, 2, 4)),
        ("1968-02-04", date(1968, 2, 4)),
        ("04/02/68", date(1968, 2, 4)),
        ("4/2/1968", date(1968, 2, 4)),
        ("29/02/1960", date(1960, 2, 29)),
        ("01/01/05", date(2005, 1, 1)),  # 21 at the 2026 mandate: 2005
        ("10/06/08", date(1908, 6, 10)),  # 2008 would be 17 at the mandate: 1908
        ("15/03/08", date(2008, 3, 15)),  # 18 on the very day of the mandate
        ("29/02/00", date(2000, 2, 29)),
        ("31/12/99", date(1999, 12, 31)),
    ],
)
def test_birth_date_formats(text, expected):
    assert row(birth=text).birth_date == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("15/03/2026", date(2026, 3, 15)),
        ("2026-03-15", date(2026, 3, 15)),
        ("15/03/26", date(2026, 3, 15)),
        ("15/03/27", date(2027, 3, 15)),  # up to next year: 20YY
        ("18/03/01", date(2001, 3, 18)),
        ("15/03/95", date(1995, 3, 15)),  # later than next year: 19YY
    ],
)
def test_mandate_start_formats(text, expected):
    assert row(mandate=text, birth="04/02/60").mandate_start == expected


def test_two_digit_birth_year_follows_the_mandate():
    assert row(mandate="15/03/95", birth="04/02/60").birth_date == date(1960, 2, 4)
    assert row(mandate="15/03/2026", birth="04/02/60").birth_date == date(1960, 2, 4)
    assert row(mandate="15/03/2027", birth="04/02/09").birth_date == date(2009, 2, 4)
    assert row(mandate="15/03/2027", birth="04/04/09").birth_date == date(1909, 4, 4)


def test_function_start():
    assert row(function_start="2026-03-22").function_start == date(2026, 3, 22)
    assert row(function_start="22/03/26").function_start == date(2026, 3, 22)
    assert row(function_start="").function_start is None
    assert row(function="", function_start="").function_label == ""


@pytest.mark.parametrize(
    "text",
    ["", "1968/02/04", "04-02-1968", "04.02.1968", "31/02/1968", "04/13/1968", "04/02/1968 00:00",
     "1968-2-4", "04/02/968", "19680204", "29/02/01", "quatre février"],
)
def test_bad_birth_dates_name_the_column(text):
    message = reason(birth=text)
    assert message.startswith("Date de naissance")
    assert "JJ/MM/AAAA" in message


def test_bad_mandate_and_function_dates_name_the_column():
    assert reason(mandate="").startswith("Date de début du mandat")
    assert reason(mandate="2026-15-03").startswith("Date de début du mandat")
    assert reason(function_start="22/03").startswith("Date de début de la fonction")


def test_implausible_dates():
    assert "moins de 18 ans" in reason(birth="16/03/2008")
    assert "moins de 18 ans" in reason(birth="2030-01-01")
    assert "avant 1900" in reason(birth="01/01/1850")
    assert "invraisemblable" in reason(mandate="15/03/2062")
    assert "invraisemblable" in reason(mandate="15/03/1850", birth="01/01/1800")


# --- Bad lines in a file ------------------------------------------------------------------------------------------
def test_bad_lines_are_reported_with_their_number_and_good_lines_kept():
    lines = [
        "\ufeff" + CM_HEADER_LINE,
        GOOD,  # 2
        GOOD.replace("04/02/1968", "31/02/1968"),  # 3: bad date
        GOOD.replace(";F;", ";X;"),  # 4: bad sex
        GOOD + ";extra",  # 5: 17 columns
        GOOD.replace("01053", "1O53"),  # 6: bad INSEE
        "",  # 7: blank, skipped
        GOOD.replace("MARCHAND", "PETIT"),  # 8
        ";".join(GOOD.split(";")[:10]),  # 9: 10 columns
        GOOD.replace("Hélène", ""),  # 10: no first name
    ]
    body = io.BytesIO("\n".join(lines).encode("utf-8") + b"\n\xff\xfe;;\n")  # 11: not UTF-8
    results = list(read_rows(body, RNE_CM_LAYOUTS))
    good = [(n, r.last_name) for n, r in results if isinstance(r, DirectoryRow)]
    errors = {n: r.reason for n, r in results if isinstance(r, RowError)}
    assert good == [(2, "MARCHAND"), (8, "PETIT")]
    assert sorted(errors) == [3, 4, 5, 6, 9, 10, 11]
    assert errors[3].startswith("Date de naissance « 31/02/1968 » invalide")
    assert errors[4] == "Code sexe « X » invalide (M ou F)."
    assert errors[5] == "17 colonnes au lieu de 16."
    assert errors[6].startswith("Code de la commune « 1O53 » invalide")
    assert errors[9] == "10 colonnes au lieu de 16."
    assert errors[10] == "Prénom de l'élu manquant."
    assert "UTF-8" in errors[11]
    assert all(isinstance(r, RowError) and r.line == n for n, r in results if n in errors)


def test_mayors_layout_bad_line():
    header = ";".join(RNE_MAIRES_HEADER)
    good = "74;Haute-Savoie;;;74010;Annecy;DUMAS;Bénédicte;F;1973-06-01;48;Professions intermédiaires;15/03/26;"
    results = parse_text(header + "\n" + good + "\n" + good.replace("1973-06-01", "1973-06-31") + "\n",
                         RNE_MAIRES_LAYOUTS)
    assert results[0][1].birth_date == date(1973, 6, 1)
    assert results[0][1].function_label == "Maire" and results[0][1].function_start is None
    assert results[1] == (3, RowError(3, results[1][1].reason))
    assert results[1][1].reason.startswith("Date de naissance")
    assert mayor_row(good.split(";"), today=TODAY).mandate_start == date(2026, 3, 15)


# --- person_key ---------------------------------------------------------------------------------------------------
def test_person_key_identifies_a_person_within_a_commune():
    key = row().person_key
    assert row(function="1er adjoint au Maire").person_key == key
    assert row(last_name="Marchand", first_name="HELENE").person_key == key  # spelling variants of one person
    assert row(birth="1968-02-04").person_key == key
    assert row(birth="05/02/1968").person_key != key
    assert row(first_name="Hélèna").person_key != key
    assert row(insee="01283").person_key != key
    assert len(key) == 20 and all(c in "0123456789abcdef" for c in key)


# --- The generator ------------------------------------------------------------------------------------------------
def test_generated_file_parses_without_error():
    results = list(read_rows(generate_rne.iter_lines(2000, seed=1), RNE_CM_LAYOUTS))
    errors = [r for _, r in results if isinstance(r, RowError)]
    rows = [r for _, r in results]
    assert errors == []
    assert len(rows) == 2000
    assert results[-1][0] == 2001
    communes = {r.insee_code for r in rows}
    assert 100 < len(communes) < 200
    assert any(r.department_code == "" and r.insee_code[:2] in ("97", "98") and r.collectivity_code for r in rows)
    assert any(r.insee_code.startswith(("2A", "2B")) for r in rows)
    labels = {r.function_label for r in rows}
    assert {"Maire", "1er adjoint au Maire", "2ème adjoint au Maire", "Maire délégué", "Conseiller délégué", ""} \
        <= labels
    assert len({r.person_key for r in rows}) < len(rows)  # some people hold two functions
    assert sum(r.function_label == "Maire" for r in rows) == len(communes)
    assert any(c in r.last_name + r.first_name for r in rows for c in "ÉÈÏŒÇ'-")
    entries = [p for code in sorted(communes)[:20] for p in persons(r for r in rows if r.insee_code == code)]
    assert all(p["eligible_functions"][:1] == [MAIRE] for p in entries if "Maire" in p["rne_functions"])


def test_generator_is_deterministic_and_exact():
    first = b"".join(generate_rne.iter_lines(300, seed=7))
    assert first == b"".join(generate_rne.iter_lines(300, seed=7))
    assert first != b"".join(generate_rne.iter_lines(300, seed=8))
    assert first.startswith("\ufeffCode du département;".encode("utf-8"))
    assert first.count(b"\n") == 301
    assert b"".join(generate_rne.iter_lines(0)).count(b"\n") == 1


def test_generator_writes_in_small_batches():
    class Recorder(io.RawIOBase):
        def __init__(self):
            self.sizes = []

        def writable(self):
            return True

        def write(self, data):
            self.sizes.append(len(data))
            return len(data)

    out = Recorder()
    assert generate_rne.generate(out, 5000, seed=2) == 5000
    assert len(out.sizes) >= 3  # 5,001 lines in batches of 2,000
    assert max(out.sizes) < 2 * generate_rne.BATCH_LINES * 250


def test_parsing_streams_the_generator():
    """The reader looks at the file's first SAMPLE_BYTES (the encoding), then reads a line for a row."""
    consumed = {"lines": 0, "bytes": 0}

    def counted(lines):
        for line in lines:
            consumed["lines"] += 1
            consumed["bytes"] += len(line)
            yield line

    rows = read_rows(counted(generate_rne.iter_lines(100_000, seed=3)), RNE_CM_LAYOUTS)
    first = list(itertools.islice(rows, 50))
    assert all(isinstance(r, DirectoryRow) for _, r in first)
    sample_lines, sample_bytes = consumed["lines"], consumed["bytes"]
    assert SAMPLE_BYTES <= sample_bytes < SAMPLE_BYTES + 1000 and sample_lines < 5000
    list(itertools.islice(rows, sample_lines + 100))
    assert consumed["lines"] == sample_lines + 151  # past the sample: one line read for one row (row n: line n+1)


def test_generated_mayors_file_names_the_cm_mayors():
    cm_rows = [r for _, r in read_rows(generate_rne.iter_lines(1500, seed=4), RNE_CM_LAYOUTS)]
    communes = len({r.insee_code for r in cm_rows})
    mayors = list(read_rows(generate_rne.iter_lines(communes, seed=4, layout="maires"), RNE_MAIRES_LAYOUTS))
    assert len(mayors) == communes
    assert all(isinstance(r, DirectoryRow) and r.function_label == "Maire" for _, r in mayors)
    assert {r.person_key for _, r in mayors} == {r.person_key for r in cm_rows if r.function_label == "Maire"}
    assert not b"".join(generate_rne.iter_lines(3, layout="maires")).startswith(b"\xef\xbb\xbf")


def test_generator_for_given_communes(tmp_path):
    names = generate_rne.read_commune_names(str(DATA / "communes.csv"))
    rows = [r for _, r in read_rows(generate_rne.iter_lines(101, insee=["01053", "74010", "2A004"],
                                                            commune_names=names), RNE_CM_LAYOUTS)]
    assert all(isinstance(r, DirectoryRow) for r in rows)
    by_commune = {code: [r for r in rows if r.insee_code == code] for code in ("01053", "74010", "2A004")}
    assert [len(v) for v in by_commune.values()] == [34, 34, 33]
    assert by_commune["01053"][0].commune_label == "Bourg-en-Bresse"
    assert by_commune["74010"][0].department_label == "Haute-Savoie"

    out = tmp_path / "sub" / "rne.csv"
    assert generate_rne.main(["--rows", "40", "--out", str(out), "--insee", "01053,74010", "--communes",
                              str(DATA / "communes.csv"), "--seed", "5"]) == 0
    parsed = parse(out, RNE_CM_LAYOUTS)
    assert len(parsed) == 40 and {r.commune_label for _, r in parsed} == {"Bourg-en-Bresse", "Annecy"}


@pytest.mark.parametrize("name", ["DUPONT\u202eTROM", "DU\u200bPONT", "DUPONT\nvoir https://exemple.fr", "   ",
                                  "DUPONT\u2066"])
def test_a_row_whose_name_holds_bidi_zero_width_or_line_breaks_or_only_spaces_is_rejected(name):
    assert "Nom de l'élu" in reason(last_name=name)


def test_a_name_with_no_break_spaces_or_a_tab_is_kept_with_plain_spaces():
    assert row(first_name="Marie\u00a0Claire\tAnne").first_name == "Marie Claire Anne"
