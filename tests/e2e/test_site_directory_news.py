"""After an import of the national directory, on the local stack: the registered town hall gets one email and, on its
dashboard, the officials who can now be ordered a card (with the way to register them) and the cards to return; it
marks the notice read. Checked with axe and screenshotted."""
import re
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import enter_code, REFERENCE_DATA, Outbox, browser, site  # noqa: F401 (fixtures)

NEWCOMER = ("01;Ain;;;01283;Oyonnax;PETIT;Margaux;F;12/09/1984;48;Professions intermédiaires;15/03/2026;"
            "4ème adjoint au Maire;22/03/2026;FRA")


@pytest.fixture(scope="module")
def accounts(stack):
    return {"commune": stack.state["demo_agent"], "manufacturer": stack.state["operators"]["manufacturer"],
            "api": stack.state["api_url"], "outbox": stack.state["outbox_dir"]}


def log_in(person, who, home):
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(who["email"])
    page.get_by_label("Mot de passe", exact=True).fill(who["password"])
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, who.get("totp_secret"))
    expect(page).to_have_url(re.compile(rf"/{home}$"))
    return page


def test_the_town_hall_learns_who_can_get_a_card_after_a_directory_update(site, accounts, tmp_path):
    outbox = Outbox(accounts["outbox"])
    seen = outbox.seen()
    agent = accounts["commune"]

    # The card maker imports a newer file of the conseillers municipaux: a new deputy in Oyonnax.
    lines = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_text(encoding="utf-8-sig").splitlines()
    newer = tmp_path / "elus-conseillers-municipaux-cm.csv"
    newer.write_text("\n".join(lines + [NEWCOMER]) + "\n", encoding="utf-8")
    maker = site("repertoire-import")
    office = log_in(maker, accounts["manufacturer"], "fabricant.html")
    imports = office.get_by_role("region", name="Importer un fichier de référence")
    imports.get_by_label("Type de fichier").select_option(label="Élus – conseillers municipaux (rne_cm)")
    imports.get_by_label("Fichier à importer").set_input_files(newer)
    imports.get_by_role("button", name="Envoyer le fichier").click()
    expect(imports.get_by_role("status")).to_have_text("Statut : Terminé", timeout=60_000)
    # Oyonnax, the one registered commune of the file
    expect(imports.get_by_text(re.compile(r"^Communes inscrites concernées\s:\s1\."))).to_be_visible()
    maker.check("import-communes-prevenues")

    mail = outbox.wait_for(agent["email"], seen, timeout=30)  # the notices function, through its queue
    assert mail["Subject"] == "Répertoire des élus\u00a0: un élu peut recevoir une carte"  # punctuate(): no-break space
    assert "Margaux PETIT (Adjointe au maire)" in mail.get_body(preferencelist=("plain",)).get_content()

    commune = site("repertoire-mis-a-jour")
    page = log_in(commune, agent, "tableau-de-bord.html")
    news = page.get_by_role("region", name="Mises à jour du répertoire national des élus")
    expect(news.get_by_role("heading", name=re.compile(r"^Mise à jour du .* \(fichier des conseillers municipaux\)$"))
           ).to_be_visible()
    expect(news.get_by_role("heading", name="Élus pouvant désormais recevoir une carte")).to_be_visible()
    expect(news.get_by_text("Margaux PETIT, Adjointe au maire")).to_be_visible()
    commune.check("tableau-de-bord-nouvelles")

    # « Enregistrer Margaux PETIT »: the directory's search, already on her.
    news.get_by_role("link", name="Enregistrer Margaux PETIT").click()
    expect(page).to_have_url(re.compile(r"/elu-nouveau\.html\?q="))
    expect(page.get_by_role("radio", name=re.compile("^PETIT Margaux"))).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(1)
    commune.check("enregistrer-le-nouvel-elu")

    page.go_back()
    news = page.get_by_role("region", name="Mises à jour du répertoire national des élus")
    news.get_by_role("button", name="Marquer comme lu").click()
    expect(news).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", name="Accès rapide")).to_be_visible()
    expect(page.get_by_role("region", name="Mises à jour du répertoire national des élus")).to_be_hidden()
    commune.check("nouvelles-lues")
