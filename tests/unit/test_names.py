import pytest

from chalicelib.domain.names import matches, search_key


@pytest.mark.parametrize(
    "text, key",
    [
        ("héLÈNE", "helene"),
        ("Hélène", "helene"),
        ("N'DIAYE", "n diaye"),
        ("N’Diaye", "n diaye"),
        ("LE GALL-KERVELLA", "le gall kervella"),
        ("  Jean--Baptiste   ", "jean baptiste"),
        ("BŒUF", "boeuf"),
        ("Lætitia", "laetitia"),
        ("Straße", "strasse"),
        ("Çelik", "celik"),
        ("Maïté", "maite"),
        ("ÉLOÏ", "eloi"),
        ("Nguyễn", "nguyen"),
        ("Søren Łukasz", "soren lukasz"),
        ("2ᵉ adjoint", "2e adjoint"),
        ("", ""),
    ],
)
def test_search_key(text, key):
    assert search_key(text) == key


def test_search_key_is_idempotent():
    for text in ("N'DIAYE", "héLÈNE", "BŒUF", "Jean-Baptiste"):
        assert search_key(search_key(text)) == search_key(text)


@pytest.mark.parametrize(
    "query",
    ["héLÈNE", "helene", "HEL", "marchand", "march hel", "hélène marchand", "  Hél  ", ""],
)
def test_matches_accent_and_case_insensitive(query):
    assert matches(query, "MARCHAND", "Hélène")


@pytest.mark.parametrize("query", ["ndiaye", "n diaye", "N'DIAYE", "diaye", "n'di", "moussa ndiaye", "ndi mou"])
def test_matches_apostrophes(query):
    assert matches(query, "N'DIAYE", "Moussa")


@pytest.mark.parametrize("query", ["legall", "le gall", "kervella", "gall kerv", "jean baptiste", "jeanbap", "anne-so"])
def test_matches_compound_names(query):
    assert matches(query, "LE GALL-KERVELLA", "Jean-Baptiste Anne-Sophie")


def test_matches_boeuf():
    assert matches("boeuf", "BŒUF", "François")
    assert matches("Bœuf franc", "BOEUF", "Francois")


@pytest.mark.parametrize("query", ["helena", "marchands", "x", "hélène dupont", "archand", "elene"])
def test_no_match(query):
    # every word must start a name word: inner substrings do not match
    assert not matches(query, "MARCHAND", "Hélène")


def test_words_may_not_join_across_two_names():
    assert not matches("marchandhelene", "MARCHAND", "Hélène")


# --- what a name may be made of (names.person_name) --------------------------------------------------------------

import pytest as _pytest  # noqa: E402

from chalicelib.domain.names import InvalidName, person_name  # noqa: E402


@_pytest.mark.parametrize("typed, kept", [
    ("  Jean-Baptiste  ", "Jean-Baptiste"), ("N’Diaye", "N’Diaye"), ("O'Connor", "O'Connor"),
    ("Marie  Claire", "Marie Claire"), ("Zoë", "Zoë"), ("Ζωή", "Ζωή"), ("Nguyễn", "Nguyễn"),
    ("E\u0301lodie", "Élodie"),  # decomposed é, kept composed (NFC)
    ("L'Haÿ-les-Roses", "L'Haÿ-les-Roses"),
])
def test_names_of_any_script_with_marks_apostrophes_and_hyphens_are_kept_nfc_and_trimmed(typed, kept):
    assert person_name(typed) == kept


@_pytest.mark.parametrize("typed", [
    "Dupont\nCliquez ici : https://exemple.fr", "Dupont\r", "Du\tpont", "Dupont\u202e", "Du\u200bpont",
    "Dupont\u2066", "Du\u0000pont", "Dupont <a>", "Dupont 2", "www.exemple.fr", "   ", "", "''-",
])
def test_line_breaks_controls_bidi_zero_width_digits_links_and_blank_names_are_refused_in_french(typed):
    with _pytest.raises(InvalidName) as refused:
        person_name(typed, "Le nom")
    assert str(refused.value).startswith("Le nom ")
