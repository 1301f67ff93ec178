"""The back office as the card maker and a préfecture use it: reference files (and their sync with data.gouv.fr),
activation codes, operator accounts."""
import json
import re

import requests
from playwright.sync_api import expect

from tests.e2e.browser import (  # noqa: F401 (fixtures)
    enter_code, PROJECT_DIR, REFERENCE_DATA, Outbox, browser, link_in, site)


def log_in(person, email: str, password: str, totp_secret: str | None = None):
    page = person.open("/")
    page.get_by_role("link", name="se connecter").click()
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, totp_secret)
    return page


def test_the_manufacturer_imports_a_reference_file_issues_a_code_and_creates_an_account(site, stack, tmp_path):
    operator = stack.state["operators"]["manufacturer"]
    outbox = Outbox(stack.state["outbox_dir"])
    person = site("fabricant")
    page = log_in(person, operator["email"], operator["password"], operator["totp_secret"])
    expect(page).to_have_url(re.compile(r"/fabricant\.html$"))
    expect(page.get_by_role("heading", name="Espace fabricant")).to_be_visible()
    person.check("espace")

    # The communes file again: an import changes nothing the second time, and reports its counts.
    imports = page.get_by_role("region", name="Importer un fichier de référence")
    imports.get_by_label("Type de fichier").select_option(label="Communes")
    imports.get_by_label("Fichier à importer").set_input_files(REFERENCE_DATA / "communes.csv")
    imports.get_by_role("button", name="Envoyer le fichier").click()
    expect(imports.get_by_role("status")).to_have_text("Statut : Terminé", timeout=30_000)
    rows = sum(1 for _ in (REFERENCE_DATA / "communes.csv").open(encoding="utf-8")) - 1
    counts = imports.get_by_role("table", name="Lignes du fichier")
    expect(counts.get_by_role("cell")).to_have_text([str(rows), str(rows), "0"])
    expect(imports.get_by_role("heading", name="Import terminé")).to_be_visible()
    expect(imports.get_by_role("progressbar", name="Envoi du fichier")).to_have_attribute("value", "100")
    person.check("import-termine")

    # A file with a bad line: the good lines are loaded, the bad one is listed with its number and reason.
    partly_bad = tmp_path / "communes-avec-erreur.csv"
    partly_bad.write_text("siren;code_insee;nom;code_departement\n210100533;01053;Bourg-en-Bresse;01\n"
                          "123;01999;Nulle-Part;01\n", encoding="utf-8")
    imports.get_by_label("Fichier à importer").set_input_files(partly_bad)
    imports.get_by_role("button", name="Envoyer le fichier").click()
    expect(imports.get_by_role("status")).to_have_text("Statut : Terminé", timeout=30_000)
    expect(counts.get_by_role("cell")).to_have_text(["2", "1", "1"])
    expect(imports.get_by_role("heading", name="Import terminé avec des lignes rejetées")).to_be_visible()
    errors = imports.get_by_role("table", name="Lignes rejetées")
    expect(errors.get_by_role("row").nth(1).get_by_role("cell").first).to_have_text("3")
    person.check("import-lignes-rejetees")

    # A file of another kind: the import fails and says why.
    imports.get_by_label("Type de fichier").select_option(label="Préfectures")
    imports.get_by_label("Fichier à importer").set_input_files(REFERENCE_DATA / "communes.csv")
    imports.get_by_role("button", name="Envoyer le fichier").click()
    expect(imports.get_by_role("status")).to_have_text("Statut : Échec", timeout=30_000)
    expect(imports.get_by_role("heading", name="L'import a échoué")).to_be_visible()
    person.check("import-echec")

    # An activation code for a commune that is not registered yet (Paris).
    codes = page.get_by_role("region", name="Émettre un code d'activation")
    codes.get_by_label("Numéro SIREN de la commune").fill("217500016")
    codes.get_by_role("button", name="Émettre le code").click()
    expect(codes.get_by_role("heading", name="Code d'activation émis pour Paris (SIREN 217500016)")).to_be_visible()
    expect(codes.get_by_text(re.compile(r"^Valable jusqu'au \d+ \w+ 20\d\d"))).to_be_visible()
    issued = codes.get_by_role("table", name="Codes émis depuis l'ouverture de cette page").get_by_role("row")
    expect(issued).to_have_count(2)
    paris = issued.nth(1).get_by_role("cell")
    expect(paris.nth(0)).to_have_text("Paris")
    code = paris.nth(2).inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4})+", code), code
    expect(codes.get_by_text(code)).to_have_count(2)  # in the message and in the table
    person.check("code-activation")
    # The code shown is the one that works: the town hall of Paris can register with it.
    registered = requests.post(stack.state["api_url"] + "/registrations", timeout=30, json={
        "siren": "217500016", "activation_code": code, "last_name": "Lefèvre", "first_name": "Anne",
        "email": "anne.lefevre@paris.fr"})
    assert registered.status_code == 201, registered.text
    # A SIREN unknown to the reference table is refused next to the field.
    codes.get_by_label("Numéro SIREN de la commune").fill("732829320")
    codes.get_by_role("button", name="Émettre le code").click()
    expect(codes.get_by_label("Numéro SIREN de la commune")).to_have_accessible_description(
        re.compile("Aucune commune ne porte ce numéro SIREN"))
    person.check("code-siren-inconnu")

    # A préfecture agent's account: the person receives the set-password email.
    accounts = page.get_by_role("region", name="Créer un compte opérateur")
    accounts.get_by_role("radio", name="Préfecture").check(force=True)  # its visible label takes the click
    accounts.get_by_label("Département").fill("13")
    accounts.get_by_label("Nom", exact=True).fill("Garnier")
    accounts.get_by_label("Prénom", exact=True).fill("Sophie")
    accounts.get_by_label("Adresse électronique").fill("sophie.garnier@bouches-du-rhone.gouv.fr")
    accounts.get_by_role("button", name="Créer le compte").click()
    expect(accounts.get_by_role("heading", name="Compte créé")).to_be_visible()
    expect(accounts.get_by_text("département 13")).to_be_visible()
    link = link_in(outbox.wait_for("sophie.garnier@bouches-du-rhone.gouv.fr"))
    assert link.startswith(stack.state["site_url"] + "/mot-de-passe.html?token=")
    person.check("compte-operateur")


def test_the_manufacturer_syncs_the_directory_with_data_gouv_and_reads_each_import_report(site, stack):
    """The button of the back office, against the stack's fake data.gouv.fr. The stack's own daily sync runs now and
    then (time runs fast here): a step whose new version it took first is published again."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["environment_variables"]
    mayors_id = config["DATAGOUV_RESOURCE_RNE_MAIRES"]
    fake = stack.state["datagouv_url"]
    mayors = (REFERENCE_DATA / "elus-maires-mai.csv").read_bytes()
    operator = stack.state["operators"]["manufacturer"]
    person = site("synchro")
    page = log_in(person, operator["email"], operator["password"], operator["totp_secret"])
    sync = page.get_by_role("region", name="Synchroniser le RNE avec data.gouv.fr")
    expect(sync.get_by_role("button", name="Synchroniser avec data.gouv.fr")).to_be_enabled()
    table = sync.get_by_role("table", name="Fichiers de data.gouv.fr")
    mayors_row = table.get_by_role("row").filter(has_text="Élus – maires")

    # The new versions as a spreadsheet may save them: in Windows-1252, with Oyonnax's earlier mayor still listed.
    earlier = next(line for line in mayors.decode("utf-8-sig").splitlines() if ";Oyonnax;" in line)

    def publish_and_sync(version: int, broken: str | None = None) -> str:
        text = mayors.decode("utf-8-sig").replace("Oyonnax;VINCENT;", f"Oyonnax;VERSION{version};")
        content = (text.rstrip("\n") + "\n" + earlier.replace("VINCENT", "ANCIEN").replace("22/03/2026", "01/01/2020")
                   + "\n").encode("cp1252")
        requests.put(f"{fake}/_fake/resources/{mayors_id}", data=content, timeout=30).raise_for_status()
        if broken:
            requests.post(f"{fake}/_fake/resources/{mayors_id}/break", params={"mode": broken},
                          timeout=30).raise_for_status()
        status = sync.get_by_role("status")
        before = status.get_attribute("data-id") if status.count() else None
        sync.get_by_role("button", name="Synchroniser avec data.gouv.fr").click()
        if before:
            expect(status).not_to_have_attribute("data-id", before)
        expect(status).to_have_text(re.compile(r"^Statut\s:\s(Terminée|Échec)\s*$"), timeout=30_000)
        return mayors_row.get_by_role("cell").nth(2).inner_text()

    # A new version of the mayors' file: imported, with a link to its import report.
    for version in range(1, 4):
        if publish_and_sync(version).startswith("Nouvelle version importée"):
            break
    expect(sync.get_by_role("status")).to_have_text("Statut : Terminée")
    expect(mayors_row.get_by_role("cell").first).to_contain_text("elus-maire-mai.csv")
    started_by = re.compile("^Commencée le .*demandée par " + re.escape(operator["email"]))
    expect(sync.get_by_text(started_by)).to_be_visible()
    person.check("synchro-terminee")
    mayors_row.get_by_role("link", name="Voir le rapport d'import").click()
    imports = page.get_by_role("region", name="Importer un fichier de référence")
    expect(imports.get_by_role("status")).to_have_text("Statut : Terminé", timeout=30_000)
    expect(imports.get_by_text("Fichier lu en Windows-1252", exact=False)).to_be_visible()
    warnings = imports.get_by_role("table", name=re.compile("^Lignes lues mais non retenues"))
    expect(warnings.get_by_role("row")).not_to_have_count(1)
    person.check("synchro-rapport-import")

    # A newer version whose download is cut half-way: the sync fails and says why; nothing is imported.
    for version in range(4, 7):
        if publish_and_sync(version, broken="cut").startswith("Échec"):
            break
    expect(sync.get_by_role("status")).to_have_text("Statut : Échec")
    expect(sync.get_by_role("heading", name="La synchronisation a échoué").first).to_be_visible()
    expect(mayors_row).to_contain_text(re.compile("interrompu|incomplet"))
    expect(mayors_row.get_by_role("link")).to_have_count(0)
    person.check("synchro-echec")

    # The page shows the last sync when it opens.
    page.reload()
    expect(sync.get_by_role("status")).to_have_text(re.compile(r"^Statut\s:\s"), timeout=10_000)
    expect(table.get_by_role("row")).to_have_count(3)


def test_a_prefecture_agent_sees_their_departement(site, stack):
    operator = stack.state["operators"]["prefecture"]
    person = site("prefecture")
    page = log_in(person, operator["email"], operator["password"], operator["totp_secret"])
    expect(page).to_have_url(re.compile(r"/prefecture\.html$"))
    expect(page.get_by_role("heading", name="Espace préfecture")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=re.compile("^01$"))).to_be_visible()
    person.check("espace")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Vous êtes déconnecté")).to_be_visible()


def test_closing_every_session_ends_the_one_on_another_device_too(site, stack):
    operator = stack.state["operators"]["prefecture"]
    api = stack.state["api_url"]
    from tests.helpers import otp

    other_device = requests.post(api + "/sessions", timeout=30,
                                 json={"email": operator["email"], "password": operator["password"],
                                       "otp": otp(operator["totp_secret"])}).json()["token"]
    person = site("sessions")
    page = log_in(person, operator["email"], operator["password"], operator["totp_secret"])
    expect(page.get_by_role("heading", name="Espace préfecture")).to_be_visible()
    page.get_by_role("button", name="Fermer toutes mes sessions").click()
    expect(page).to_have_url(re.compile(r"/index\.html$"))
    expect(page.get_by_text("Toutes vos sessions sont fermées, sur cet appareil et sur tous les autres.")).to_be_visible()
    person.check("toutes-sessions-fermees")
    answer = requests.get(api + "/me", timeout=30, headers={"Authorization": f"Bearer {other_device}"})
    assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"


def test_an_ended_session_asks_to_log_in_again_and_keeps_what_was_typed(site, stack):
    """Last of the module: it changes the manufacturer's password."""
    operator = stack.state["operators"]["manufacturer"]
    outbox = Outbox(stack.state["outbox_dir"])
    person = site("session-expiree")
    page = log_in(person, operator["email"], operator["password"], operator["totp_secret"])
    accounts = page.get_by_role("region", name="Créer un compte opérateur")
    accounts.get_by_role("radio", name="Préfecture").check(force=True)
    accounts.get_by_label("Département").fill("31")
    accounts.get_by_label("Nom", exact=True).fill("Roux")
    accounts.get_by_label("Prénom", exact=True).fill("Émile")
    accounts.get_by_label("Adresse électronique").fill("emile.roux@haute-garonne.gouv.fr")

    # Meanwhile, the same person changes the password from another browser: every session ends.
    other = site("session-expiree-autre-navigateur")
    elsewhere = other.open("/connexion.html")
    elsewhere.get_by_role("link", name="Mot de passe oublié ?").click()
    seen = outbox.seen()
    elsewhere.get_by_label("Adresse électronique").fill(operator["email"])
    elsewhere.get_by_role("button", name="Recevoir un lien").click()
    expect(elsewhere.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
    elsewhere.goto(link_in(outbox.wait_for(operator["email"], seen)))
    new_password = "les cartes tricolores sortent de la presse"
    elsewhere.get_by_label("Mot de passe", exact=True).fill(new_password)
    elsewhere.get_by_label("Confirmation du mot de passe", exact=True).fill(new_password)
    elsewhere.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(elsewhere.get_by_role("heading", name="Mot de passe enregistré")).to_be_visible()

    accounts.get_by_role("button", name="Créer le compte").click()
    expect(page).to_have_url(re.compile(r"/connexion\.html\?expire=1"))
    expect(page.get_by_text("Votre session a expiré, veuillez vous reconnecter.")).to_be_visible()
    person.check("connexion")
    page.get_by_label("Adresse électronique").fill(operator["email"])
    page.get_by_label("Mot de passe", exact=True).fill(new_password)
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, operator["totp_secret"])  # a new password leaves the second factor as it was
    expect(page).to_have_url(re.compile(r"/fabricant\.html$"))
    accounts = page.get_by_role("region", name="Créer un compte opérateur")
    expect(accounts.get_by_role("radio", name="Préfecture")).to_be_checked()
    expect(accounts.get_by_label("Département")).to_have_value("31")
    expect(accounts.get_by_label("Nom", exact=True)).to_have_value("Roux")
    expect(accounts.get_by_label("Prénom", exact=True)).to_have_value("Émile")
    expect(accounts.get_by_label("Adresse électronique")).to_have_value("emile.roux@haute-garonne.gouv.fr")
    accounts.get_by_role("button", name="Créer le compte").click()
    expect(accounts.get_by_role("heading", name="Compte créé")).to_be_visible()
    person.check("formulaire-retrouve")
