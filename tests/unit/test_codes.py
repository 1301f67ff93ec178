"""One rule per code (domain/codes.py), the same for the reference files, the directory's files and the API; and one
rule for a new activation code (domain/secrets_codes.py)."""
from datetime import datetime, timedelta, timezone

import pytest
from jsonschema import Draft202012Validator

from chalicelib.api import schemas
from chalicelib.domain import codes, reference_files, rne
from chalicelib.domain.csv_rows import RowInvalid
from chalicelib.domain.secrets_codes import (ACTIVATION_CODE_LIFETIME, activation_code_matches,
                                             issue_activation_code)

GOOD_INSEE = ["01053", "2A004", "2B033", "21231", "95127", "97502", "97101", "98735"]
BAD_INSEE = ["00123", "20001", "96001", "99001", "2C004", "123", "123456", "ABCDE", "", "0105 3"]
GOOD_DEPARTMENTS = ["01", "19", "2A", "2B", "21", "95", "971", "976", "988"]
BAD_DEPARTMENTS = ["00", "20", "96", "99", "2C", "100", "9A", "", "A"]


@pytest.mark.parametrize("value", GOOD_INSEE)
def test_insee_codes(value):
    assert codes.insee_code(value) == value
    assert codes.insee_code(f" {value.lower()} ") == value


@pytest.mark.parametrize("value", BAD_INSEE)
def test_bad_insee_codes(value):
    with pytest.raises(codes.InvalidCode):
        codes.insee_code(value)


@pytest.mark.parametrize("value", GOOD_DEPARTMENTS)
def test_department_codes(value):
    assert codes.department_code(value) == value
    assert codes.department_code(value.lower()) == value


@pytest.mark.parametrize("value", BAD_DEPARTMENTS)
def test_bad_department_codes(value):
    with pytest.raises(codes.InvalidCode):
        codes.department_code(value)


def test_nothing_is_guessed_a_format_mends_its_own_artefacts():
    """A 4-digit INSEE code may be 0xxxx with its zero dropped, or a typo: only the directory's format, whose
    département column tells which, restores it."""
    for value, read in (("1053", codes.insee_code), ("1", codes.department_code)):
        with pytest.raises(codes.InvalidCode):
            read(value)
    mended = rne.cm_row(["1", "Ain", "", "", "1053", "Bourg-en-Bresse", "NOM", "Prénom", "F", "04/02/1968", "", "",
                         "15/03/2026", "", "", "FRA"])
    assert (mended.department_code, mended.insee_code) == ("01", "01053")


def test_sirens():
    assert codes.siren("210100533") == "210100533"
    assert codes.siren("210 100 533") == "210100533"  # as a person may type it
    for bad in ("210100534", "21010053", "2101005333", "21010053A", ""):  # Luhn key, length, letters
        with pytest.raises(codes.InvalidCode):
            codes.siren(bad)


@pytest.mark.parametrize("value", GOOD_INSEE + BAD_INSEE)
def test_the_communes_file_and_the_directory_accept_the_same_insee_codes(value):
    department = value[:3] if value[:2] in ("97", "98") else value[:2]

    def communes_file():
        return reference_files.commune_row(["210100533", value, "Commune", "01"]).insee_code

    def directory_file():
        return rne.cm_row([department, "", "", "", value, "Commune", "NOM", "Prénom", "F", "04/02/1968", "", "",
                           "15/03/2026", "", "", "FRA"]).insee_code

    outcomes = []
    for read in (communes_file, directory_file):
        try:
            outcomes.append(read())
        except RowInvalid as refused:
            assert "« " in str(refused)  # a French reason naming the value
            outcomes.append(None)
    assert outcomes[0] == outcomes[1] == (value if value in GOOD_INSEE else None)


@pytest.mark.parametrize("value", GOOD_DEPARTMENTS + BAD_DEPARTMENTS)
def test_the_prefectures_file_and_the_api_accept_the_same_departement_codes(value):
    try:
        from_file = reference_files.department_code(value)
    except RowInvalid:
        from_file = None
    from_api = not list(Draft202012Validator(schemas.DEPARTMENT).iter_errors(value))
    assert (from_file == value) is from_api is (value in GOOD_DEPARTMENTS)


def test_the_files_reasons_are_unchanged():
    with pytest.raises(RowInvalid, match="^Code INSEE « 20001 » invalide.$"):
        reference_files.commune_row(["210100533", "20001", "Commune", "2A"])
    with pytest.raises(RowInvalid, match="^Code de département « 20 » invalide.$"):
        reference_files.department_code("20")
    with pytest.raises(RowInvalid, match=r"^SIREN « 210100534 » invalide \(9 chiffres, clé de contrôle\).$"):
        reference_files.commune_row(["210100534", "01053", "Commune", "01"])


def test_a_new_activation_code_comes_with_its_hash_and_its_expiry():
    now = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    issued = issue_activation_code(now)
    assert issued.expires_at == now + ACTIVATION_CODE_LIFETIME == now + timedelta(days=120)
    assert issued.code not in issued.code_hash and issued.code_hash.startswith("$argon2id$")
    assert activation_code_matches(issued.code_hash, issued.code.lower())
    assert not activation_code_matches(issue_activation_code(now).code_hash, issued.code)
