"""Officials not yet in the national directory (RNE), in the browser: the town hall declares a newly elected official
with the procès-verbal d'élection (PDF), the préfecture of the département validates or refuses the declaration (with
a reason), and the town hall sees where its declaration stands. Every state is checked with axe and screenshotted."""
import re
import time
from datetime import date, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.browser import enter_code, browser, site  # noqa: F401 (fixtures)


def tiny_pdf() -> bytes:
    """A valid one-page PDF (header, catalogue, pages, page, cross-reference table with exact offsets, trailer)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


ELECTION = (date.today() - timedelta(days=20)).isoformat()
PV = re.compile(r"^Procès-verbal d'élection")  # the file field (the other fields' hints name the procès-verbal too)


@pytest.fixture(scope="module")
def accounts(stack):
    return {"commune": stack.state["demo_agent"], "prefecture": stack.state["operators"]["prefecture"],
            "api": stack.state["api_url"]}


def log_in(person, email, password, home, totp_secret=None):
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, totp_secret)
    expect(page).to_have_url(re.compile(rf"/{home}$"))
    return page


class Api:
    """The town hall's agent over HTTP, to prepare a declaration the browser then follows."""

    def __init__(self, url, email, password):
        self.url = url
        self.session = requests.Session()
        answer = self.session.post(url + "/sessions", json={"email": email, "password": password}, timeout=30)
        assert answer.status_code == 201, answer.text
        self.session.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def declare(self, **person) -> dict:
        answer = self.session.post(self.url + "/officials/declarations", json=person, timeout=30)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def send(self, upload: dict, name: str, content: bytes) -> None:
        sent = requests.post(upload["url"], data=upload["fields"], files={"file": (name, content, "application/pdf")},
                             timeout=30)
        assert sent.status_code in (200, 201, 204), sent.text

    def wait(self, official_id: str, until, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            official = self.session.get(f"{self.url}/officials/{official_id}", timeout=30).json()
            if until(official["declaration"]):
                return official
            time.sleep(0.3)
        raise AssertionError(f"declaration of {official_id} still {official['declaration']}")


def test_a_declared_official_is_validated_by_the_prefecture(site, accounts, tmp_path):
    commune = site("declaration")
    page = log_in(commune, accounts["commune"]["email"], accounts["commune"]["password"], "tableau-de-bord.html")

    # From « Enregistrer un élu »: the mayor elected last month is not in the directory; the page says what to do.
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="ELUS").click()
    page.get_by_role("link", name="Enregistrer un élu").click()
    page.get_by_label("Rechercher un élu").fill("nouvel")
    expect(page.get_by_text(re.compile("Aucun élu ne correspond à « nouvel »"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^L'élu n'apparaît pas dans la liste"))).to_be_visible()
    commune.check("recherche-sans-resultat")
    page.get_by_role("link", name="Déclarer un élu absent du répertoire").click()
    expect(page.get_by_role("heading", name="Déclarer un élu absent du répertoire", level=1)).to_be_visible()
    form = page.get_by_role("region", name="Déclarer un élu absent du répertoire")
    commune.check("formulaire")

    # Nothing filled: the summary links to each field, the field says what is missing.
    form.get_by_role("button", name="Déclarer l'élu").click()
    expect(form.get_by_role("heading", name="La déclaration est incomplète")).to_be_visible()
    expect(form.get_by_label(re.compile(r"^Nom\b"))).to_have_accessible_description(
        re.compile("Indiquez le nom de l'élu."))
    form.get_by_role("link", name=re.compile(r"^Fonction\s:\sSélectionnez la fonction")).click()
    expect(form.get_by_role("radio", name="Maire", exact=True)).to_be_focused()
    commune.check("formulaire-incomplet")

    # The function's labels follow the sex, as on the card.
    form.get_by_label(re.compile(r"^Nom\b")).fill("NOUVEL")
    form.get_by_label(re.compile(r"^Prénom\b")).fill("Camille")
    expect(form.get_by_role("radio", name="Adjoint ou adjointe au maire")).to_be_visible()
    form.get_by_role("radio", name="Féminin").check(force=True)
    expect(form.get_by_role("radio", name="Maire déléguée")).to_be_visible()
    form.get_by_role("radio", name="Adjointe au maire").check(force=True)
    form.get_by_label("Date de naissance").fill("1975-06-12")
    form.get_by_label("Date de l'élection").fill(ELECTION)

    # A file that is not a PDF is refused before anything is sent, next to the field.
    fake = tmp_path / "proces-verbal.pdf"
    fake.write_bytes(b"GIF89a not a pdf")
    form.get_by_label(PV).set_input_files(fake)
    form.get_by_role("button", name="Déclarer l'élu").click()
    expect(form.get_by_label(PV)).to_have_accessible_description(
        re.compile("Le fichier n'est pas un PDF"))
    commune.check("pv-pas-pdf")

    proof = tmp_path / "pv-election.pdf"
    proof.write_bytes(tiny_pdf())
    form.get_by_label(PV).set_input_files(proof)
    form.get_by_role("button", name="Déclarer l'élu").click()
    expect(page.get_by_role("heading", name="Déclaration envoyée à la préfecture")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Déclaration de Camille NOUVEL", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/elu-declaration\.html\?elu="))
    expect(page.locator("#suivi-badges").get_by_text("Déclarée par la commune")).to_be_visible()
    expect(page.locator("#suivi-badges").get_by_text("En attente de validation par la préfecture")).to_be_visible()
    expect(page.get_by_role("heading", name="Envoyer un autre procès-verbal")).to_be_visible()
    commune.check("declaration-envoyee")
    follow_up = page.url

    # The list « ELUS » shows the badge and the status.
    page.get_by_role("link", name="Voir la liste des élus").click()
    row = page.get_by_role("row", name=re.compile("NOUVEL Camille"))
    expect(row.get_by_text("Déclarée par la commune")).to_be_visible()
    expect(row.get_by_text("En attente de validation par la préfecture")).to_be_visible()
    expect(row.get_by_role("cell", name="Adjointe au maire", exact=True)).to_be_visible()
    expect(row.get_by_role("link", name="Voir la déclaration de Camille NOUVEL")).to_be_visible()
    commune.check("liste-en-attente")

    # The préfecture of the Ain: the declaration to check, its procès-verbal, « Valider ».
    prefecture = site("declaration-prefecture")
    office = log_in(prefecture, accounts["prefecture"]["email"], accounts["prefecture"]["password"], "prefecture.html",
                    accounts["prefecture"]["totp_secret"])
    section = office.get_by_role("region", name="Élus déclarés à vérifier")
    pending = section.get_by_role("row", name=re.compile("NOUVEL Camille"))
    expect(pending.get_by_role("cell", name="Adjointe au maire", exact=True)).to_be_visible()
    expect(pending.get_by_text("Oyonnax")).to_be_visible()
    link = pending.get_by_role("link", name="Voir le procès-verbal (PDF) de Camille NOUVEL — nouvelle fenêtre")
    expect(link).to_have_attribute("target", "_blank")
    assert requests.get(link.get_attribute("href"), timeout=30).content == tiny_pdf()
    prefecture.check("declarations-a-verifier")
    pending.get_by_role("button", name="Valider la déclaration de Camille NOUVEL").click()
    expect(section.get_by_role("heading", name="Déclaration de Camille NOUVEL (Oyonnax) validée")).to_be_visible()
    expect(section.get_by_role("row", name=re.compile("NOUVEL Camille"))).to_have_count(0)
    prefecture.check("declaration-validee")
    section.get_by_label("Statut de la déclaration").select_option(label="Validée")
    section.get_by_role("button", name="Afficher").click()
    expect(section.get_by_role("row", name=re.compile("NOUVEL Camille")).get_by_text("Validée par la préfecture")
           ).to_be_visible()
    prefecture.check("filtre-validees")

    # The town hall sees it validated; no other procès-verbal can be sent.
    page.goto(follow_up)
    expect(page.locator("#suivi-badges").get_by_text("Validée par la préfecture")).to_be_visible()
    expect(page.get_by_role("heading", name="Envoyer un autre procès-verbal")).to_be_hidden()
    commune.check("declaration-validee")
    page.get_by_role("link", name="Voir la liste des élus").click()
    expect(page.get_by_role("row", name=re.compile("NOUVEL Camille")).get_by_text("Validée par la préfecture")
           ).to_be_visible()


def test_a_refused_declaration_shows_the_reason_to_the_town_hall(site, accounts, tmp_path):
    agent = Api(accounts["api"], accounts["commune"]["email"], accounts["commune"]["password"])
    declared = agent.declare(last_name="RENARD", first_name="Hugo", sex="M", birth_date="1969-02-03",
                             election_date=ELECTION, function="maire_delegue")
    official_id = declared["official"]["id"]
    # A file that is not a PDF sent anyway (not through the page): the service refuses it and says why.
    agent.send(declared["proof_upload"], "pv.pdf", b"GIF89a not a pdf")
    agent.wait(official_id, lambda d: d["status"] == "awaiting_proof" and d["reason"])

    commune = site("declaration-refusee")
    page = log_in(commune, accounts["commune"]["email"], accounts["commune"]["password"], "tableau-de-bord.html")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="ELUS").click()
    row = page.get_by_role("row", name=re.compile("RENARD Hugo"))
    expect(row.get_by_text("En attente du procès-verbal")).to_be_visible()
    expect(row.get_by_text(re.compile(r"^Procès-verbal non accepté\s:\s.*PDF"))).to_be_visible()
    commune.check("liste-pv-refuse")

    # « Envoyer le procès-verbal »: the PDF this time.
    row.get_by_role("link", name="Envoyer le procès-verbal d'Hugo RENARD").click()
    expect(page.get_by_role("heading", name="Déclaration d'Hugo RENARD", level=1)).to_be_visible()
    resend = page.get_by_role("region", name="Envoyer le procès-verbal")
    expect(page.get_by_text(re.compile(r"n'a pas été accepté\s:\sLe fichier envoyé n'est pas un PDF"))).to_be_visible()
    commune.check("envoyer-pv")
    proof = tmp_path / "pv.pdf"
    proof.write_bytes(tiny_pdf())
    resend.get_by_label(PV).set_input_files(proof)
    resend.get_by_role("button", name="Envoyer le procès-verbal").click()
    expect(page.get_by_role("heading", name="Nouveau procès-verbal reçu")).to_be_visible(timeout=30_000)
    expect(page.locator("#suivi-badges").get_by_text("En attente de validation par la préfecture")).to_be_visible()
    commune.check("pv-recu")

    # The préfecture refuses it: the reason is required.
    prefecture = site("declaration-refus")
    office = log_in(prefecture, accounts["prefecture"]["email"], accounts["prefecture"]["password"], "prefecture.html",
                    accounts["prefecture"]["totp_secret"])
    section = office.get_by_role("region", name="Élus déclarés à vérifier")
    pending = section.get_by_role("row", name=re.compile("RENARD Hugo"))
    refuse = pending.get_by_role("button", name="Refuser la déclaration d'Hugo RENARD")
    refuse.click()
    expect(refuse).to_have_attribute("aria-expanded", "true")
    reason = section.get_by_label("Motif du refus de la déclaration d'Hugo RENARD")
    expect(reason).to_be_focused()
    section.get_by_role("button", name="Confirmer le refus de la déclaration d'Hugo RENARD").click()
    expect(section.get_by_role("heading", name="La déclaration n'a pas été refusée")).to_be_visible()
    expect(reason).to_have_accessible_description(re.compile("Indiquez le motif du refus."))
    prefecture.check("refus-sans-motif")
    reason.fill("Le procès-verbal ne mentionne pas l'élection de M. Renard.")
    section.get_by_role("button", name="Confirmer le refus de la déclaration d'Hugo RENARD").click()
    expect(section.get_by_role("heading", name="Déclaration d'Hugo RENARD (Oyonnax) refusée")).to_be_visible()
    section.get_by_label("Statut de la déclaration").select_option(label="Refusée")
    section.get_by_role("button", name="Afficher").click()
    refused = section.get_by_role("row", name=re.compile("RENARD Hugo"))
    expect(refused.get_by_text("Motif : Le procès-verbal ne mentionne pas l'élection de M. Renard.")).to_be_visible()
    prefecture.check("filtre-refusees")

    # The town hall reads the reason, in the list and on the declaration.
    page.get_by_role("link", name="Voir la liste des élus").click()
    row = page.get_by_role("row", name=re.compile("RENARD Hugo"))
    expect(row.get_by_text("Refusée par la préfecture")).to_be_visible()
    expect(row.get_by_text("Motif du refus : Le procès-verbal ne mentionne pas l'élection de M. Renard.")).to_be_visible()
    commune.check("liste-refusee")
    row.get_by_role("link", name="Voir la déclaration d'Hugo RENARD").click()
    expect(page.get_by_text("Le procès-verbal ne mentionne pas l'élection de M. Renard.")).to_be_visible()
    expect(page.get_by_role("heading", name="Envoyer un autre procès-verbal")).to_be_hidden()
    commune.check("declaration-refusee")
