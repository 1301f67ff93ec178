"""French typography and grammar (domain/french.py) and its twin for the site (site/js/typography.js), on the same
cases (french_cases.json); the emails and the PDFs written with them."""
import html
import json
import shutil
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from chalicelib.domain import french
from chalicelib.domain.french import date_in_words, de, elide, elides, ordinal_day, punctuate
from chalicelib.mail import messages

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((Path(__file__).with_name("french_cases.json")).read_text(encoding="utf-8"))
NBSP, NNBSP = "\u00a0", "\u202f"


# --- the rules ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("word, expected", CASES["de"])
def test_de_elides_before_a_vowel_a_mute_h_and_a_y_before_a_consonant(word, expected):
    assert de(word) == expected


def test_the_names_of_the_issue():
    said = [f"La photo {de(name)}" for name in ("Anne-Sophie", "Hélène", "Yves", "Ophélie", "Hugo")]
    assert said == ["La photo d'Anne-Sophie", "La photo d'Hélène", "La photo d'Yves", "La photo d'Ophélie",
                    "La photo d'Hugo"]


@pytest.mark.parametrize("place, expected", CASES["de_place"])
def test_de_before_a_place_contracts_its_article(place, expected):
    assert de(place, place=True) == expected


@pytest.mark.parametrize("particle, word, expected", CASES["elide"])
def test_elide_keeps_the_particles_case(particle, word, expected):
    assert elide(particle, word) == expected


@pytest.mark.parametrize("iso, expected", CASES["date_in_words"])
def test_dates_in_words_say_1er(iso, expected):
    assert date_in_words(date.fromisoformat(iso)) == expected


def test_ordinal_day():
    assert [ordinal_day(day) for day in (1, 2, 11, 21, 31)] == ["1er", "2", "11", "21", "31"]


@pytest.mark.parametrize("text, expected", CASES["punctuate"])
def test_punctuate_sets_the_imprimerie_nationale_spaces(text, expected):
    assert punctuate(text) == expected
    assert punctuate(expected) == expected  # idempotent: a text may go through twice


def test_every_word_of_the_lists_is_what_it_says():
    assert not any(elides(word) for word in french.ASPIRATED_H)
    assert not any(elides(word) for word in french.NO_ELISION)
    assert all(elides(word) for word in french.ELIDING_Y)
    assert all(word == word.lower() for word in french.ASPIRATED_H | french.ELIDING_Y | french.NO_ELISION)


# --- the site's twin --------------------------------------------------------------------------------------------------

NODE_SCRIPT = """
import * as t from "./typography.mjs";
import { readFileSync } from "node:fs";
const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = {
  de: cases.de.map(([word]) => t.de(word)),
  de_place: cases.de_place.map(([word]) => t.de(word, { place: true })),
  elide: cases.elide.map(([particle, word]) => t.elide(particle, word)),
  date_in_words: cases.date_in_words.map(([iso]) => t.dateInWords(iso)),
  punctuate: cases.punctuate.map(([text]) => t.punctuate(text)),
  first_of_month: t.formatWithOrdinalDay(new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeZone: "UTC" }),
    new Date("2026-01-01T12:00:00Z")),
  tenth: t.formatWithOrdinalDay(new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeZone: "UTC" }),
    new Date("2026-01-10T12:00:00Z")),
  lists: { ASPIRATED_H: t.ASPIRATED_H, ELIDING_Y: t.ELIDING_Y, NO_ELISION: t.NO_ELISION, ELIDED: t.ELIDED,
    MONTHS: t.MONTHS },
};
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def from_javascript(tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")  # make test installs it with the site's packages
    folder = tmp_path_factory.mktemp("typography")
    # The site's modules are ES modules served as .js; Node reads a lone file as one only with the .mjs extension.
    shutil.copy(ROOT / "site" / "js" / "typography.js", folder / "typography.mjs")
    (folder / "run.mjs").write_text(NODE_SCRIPT, encoding="utf-8")
    result = subprocess.run([node, "run.mjs", str(Path(__file__).with_name("french_cases.json"))], cwd=folder,
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind", ["de", "de_place", "elide", "date_in_words", "punctuate"])
def test_the_site_says_it_as_the_python_does(from_javascript, kind):
    assert from_javascript[kind] == [case[-1] for case in CASES[kind]]


def test_the_site_holds_the_same_word_lists(from_javascript):
    lists = from_javascript["lists"]
    assert set(lists["ASPIRATED_H"]) == french.ASPIRATED_H
    assert set(lists["ELIDING_Y"]) == french.ELIDING_Y
    assert set(lists["NO_ELISION"]) == french.NO_ELISION
    assert lists["ELIDED"] == french.ELIDED
    assert tuple(lists["MONTHS"]) == french.MONTHS


def test_the_sites_dates_say_1er(from_javascript):
    assert from_javascript["first_of_month"] == "1er janvier 2026"
    assert from_javascript["tenth"] == "10 janvier 2026"


def test_the_sites_date_formatting_goes_through_the_twin():
    ui = (ROOT / "site" / "js" / "ui.js").read_text(encoding="utf-8")
    assert 'from "./typography.js"' in ui
    assert ui.count("formatWithOrdinalDay(") >= 2  # formatDate and formatDateTime


def test_no_page_of_the_site_writes_de_before_a_name_by_hand():
    """« de ${name} » gives « de Anne-Sophie »: the pages call de() (a number after « de » is fine)."""
    import re

    pattern = re.compile(r"\b[dD]e \$\{(?!Math\.)[^}]*\}")
    found = [f"{path.relative_to(ROOT)}: {match.group()}" for path in sorted((ROOT / "site" / "js").rglob("*.js"))
             if path.name != "typography.js" for match in pattern.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


# --- the emails and the PDFs ----------------------------------------------------------------------------------------

def test_an_email_elides_and_sets_the_no_break_spaces():
    mail = messages.declaration_reviewed_mail("agent@mairie.example.fr", "Oyonnax", "Anne-Sophie MARTIN",
                                              "Adjointe au maire", False, "procès-verbal illisible",
                                              "https://portail.example.fr/elus.html?x=1")
    for body in (mail.text, html.unescape(mail.html)):
        assert "la déclaration d'Anne-Sophie MARTIN (Adjointe au maire) faite par la commune d'Oyonnax." in body
        assert f"Motif{NBSP}: procès-verbal illisible" in body
        assert "de Anne-Sophie" not in body and "de Oyonnax" not in body
        assert "https://portail.example.fr/elus.html?x=1" in body  # the link's « ? » left alone
    assert mail.subject == f"Déclaration refusée{NBSP}: Anne-Sophie MARTIN"
    assert f"navigateur{NBSP}:" in mail.html


def test_an_order_email_names_its_date_in_words_and_the_guillemets_hold_no_break_spaces(monkeypatch):
    from types import SimpleNamespace

    from chalicelib.services import notifications

    sent = []
    monkeypatch.setattr(notifications.sender, "send", sent.append)
    monkeypatch.setattr(notifications, "get_settings", lambda: SimpleNamespace(site_url="https://portail.example.fr"))
    order = SimpleNamespace(siren="210100533", order_id="01J", commune_name="Le Havre", status="annulee",
                            created_at=datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc),
                            cards=[SimpleNamespace(first_name="Hélène", last_name="MARTIN", function="maire",
                                                   sex="F")])
    notifications.order_moved(order, None, {"agent@mairie.example.fr"})
    (mail,) = sent
    assert f"La demande de cartes du 1er mars 2026 de la commune du Havre est maintenant{NBSP}: Annulée." in mail.text
    assert f"page «{NBSP}Demandes{NBSP}»" in mail.text


def test_a_pdf_elides_says_1er_and_sets_the_narrow_no_break_space():
    import pypdfium2
    import pypdfium2.raw as raw

    from chalicelib.printing.pdf import ActivationLetter, activation_letters

    pdf = activation_letters([ActivationLetter("Oyonnax", "Ain (01)", "210100000", "ABCD-EFGH", date(2027, 1, 1))],
                             "https://portail.example.fr/?depuis=courrier")
    page = pypdfium2.PdfDocument(pdf)[0].get_textpage()
    # Character by character: pdfium's get_text_range turns the narrow no-break space into a space.
    text = "".join(chr(raw.FPDFText_GetUnicode(page, i)) for i in range(page.count_chars()))
    assert "Mairie d'Oyonnax" in text
    assert "jusqu'au 1er janvier 2027." in text
    assert f"au fabricant{NNBSP}; il remplace" in text
    assert "https://portail.example.fr/?depuis=courrier" in text
    # fpdf2 draws U+00A0 as a space that never breaks a line (fpdf/line_break.py): before « : » it is there as a
    # space, and « Objet » never ends a line without its colon.
    assert "Objet : votre code" in text.replace(NBSP, " ")


def test_no_page_writes_de_before_the_communes_name_by_hand():
    """« Mairie de <commune> » gives « Mairie de Oyonnax »: the pages use the elided « of_commune » (espace.js)."""
    import re

    pages = sorted((ROOT / "site-src").rglob("*.html"))
    found = [f"{page.relative_to(ROOT)}: {match.group()}" for page in pages
             for match in re.finditer(r"\bde <span data-me=\"commune_name\"", page.read_text(encoding="utf-8"))]
    assert found == []
    space = (ROOT / "site" / "js" / "espace.js").read_text(encoding="utf-8")
    assert re.search(r"of_commune: .*de\(me\.commune\.name, \{ place: true \}\)", space)
    assert any('data-me="of_commune"' in page.read_text(encoding="utf-8") for page in pages)
