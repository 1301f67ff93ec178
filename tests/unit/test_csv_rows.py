"""The reference files' reader: what it takes from real files, what it refuses, and what it says it assumed."""
import difflib
import io
import itertools

import pytest

from chalicelib.domain import csv_rows, reference_files, rne
from chalicelib.domain.csv_rows import BadHeader, RowError, read_rows
from chalicelib.domain.names import search_key

COMMUNES = reference_files.COMMUNE_LAYOUTS


def read(data: bytes, layouts=COMMUNES):
    notes: list[str] = []
    return list(read_rows(io.BytesIO(data), layouts, notes)), notes


def test_no_two_columns_of_a_layout_are_a_typing_slip_apart():
    """Else a slip in one column's name could be read as the other."""
    for lay in rne.RNE_CM_LAYOUTS + rne.RNE_MAIRES_LAYOUTS + COMMUNES + reference_files.PREFECTURE_LAYOUTS:
        spellings = [(i, search_key(s)) for i, c in enumerate(lay.columns) for s in (c.name, *c.aliases)]
        for (i, a), (j, b) in itertools.combinations(spellings, 2):
            if i != j:
                assert difflib.SequenceMatcher(None, a, b).ratio() < csv_rows.TYPO_SIMILARITY, (a, b)
        assert len({s for _, s in spellings}) == len(spellings)  # no spelling names two columns


def test_a_trailing_separator_and_columns_in_any_order():
    rows, notes = read(b"nom;code_departement;siren;code_insee;\n"
                       b"Bourg-en-Bresse;01;210100533;01053;\n")
    assert [r.siren for _, r in rows] == ["210100533"] and rows[0][1].name == "Bourg-en-Bresse" and notes == []


def test_a_doubled_column_is_refused():
    with pytest.raises(BadHeader, match="colonne en double : « Nom »"):
        read(b"siren;code_insee;nom;Nom;code_departement\n")


def test_a_header_alone_is_read_with_its_separator():
    assert read(b"siren,code_insee,nom,code_departement\n") == ([], ["Séparateur : virgule."])


def test_quoted_fields_of_a_comma_separated_file():
    rows, _ = read(b'siren,code_insee,nom,code_departement\n210100533,01053,"Bourg, en Bresse",01\n'
                   b'210100533,01053,"Bourg,01\n')
    # The quoted comma stayed in its field (four columns read), which the name rule then refuses, with its line.
    assert rows[0][1] == RowError(2, "Nom de la commune ne peut contenir que des lettres, des espaces, des "
                                     "apostrophes et des traits d'union (il contient « , »).")
    assert rows[1] == (3, RowError(3, "Ligne mal formée (guillemets non fermés)."))


def test_an_undecodable_windows_1252_file_is_refused():
    with pytest.raises(BadHeader, match="ni UTF-8, ni Windows-1252"):
        read(b"siren;code_insee;nom;code_departement\n210100533;01053;Bourg\x81;01\n")


def test_a_damaged_line_past_the_sample_is_an_error_of_that_line(monkeypatch):
    monkeypatch.setattr(csv_rows, "SAMPLE_BYTES", 64)
    data = ("siren;code_insee;nom;code_departement\n" + "210100533;01053;Bourg-en-Bresse;01\n" * 3).encode()
    rows, notes = read(data + "210100533;01053;Brèsse;01\n".encode("cp1252"))
    assert [r.reason for _, r in rows if isinstance(r, RowError)] == [
        "Ligne illisible : le fichier doit être encodé en UTF-8."]
    assert notes == []


def test_the_refusal_names_the_closest_layout_and_the_separator_it_read():
    with pytest.raises(BadHeader) as refused:
        read(b"siren\tcode_insee\tnom\tdepartement\n")
    assert str(refused.value) == (
        "En-tête inattendu (colonne manquante : « code_departement » ; colonne inconnue : « departement »). Lu avec "
        "le séparateur tabulation. Attendu : « siren;code_insee;nom;code_departement ».")
