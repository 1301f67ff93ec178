"""The site as a town hall uses it, following the user guide (mode d'emploi) label for label."""
import re

from playwright.sync_api import expect

from tests.e2e.browser import Outbox, browser, link_in, site  # noqa: F401 (fixtures)

AGENT = {"last_name": "Dupont", "first_name": "Claire", "email": "secretariat@mairie-bourg-en-bresse.fr"}
PASSWORD = "la rivière Reyssouze en automne"


def test_a_wrong_activation_code_is_shown_next_to_its_field_and_nothing_typed_is_lost(site):
    person = site("inscription-erreur")
    page = person.open("/inscription.html")
    page.get_by_label("Numéro SIREN de la commune").fill("216901231")  # Lyon: not registered, no valid code typed
    page.get_by_label("Code d'activation").fill("ABCD-EFGH-JKLM")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Prénom", exact=True).fill("Léa")
    page.get_by_label("Adresse e-mail").fill("lea.martin@mairie-lyon.fr")
    page.get_by_role("button", name="Valider l'inscription").click()

    alert = page.get_by_role("heading", name="L'inscription n'a pas abouti")
    expect(alert).to_be_visible()
    code = page.get_by_label("Code d'activation")
    expect(code).to_have_accessible_description(re.compile("code d'activation est incorrect"))
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Numéro SIREN de la commune")).to_have_value("216901231")
    expect(code).to_have_value("ABCD-EFGH-JKLM")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Martin")
    expect(page.get_by_label("Prénom", exact=True)).to_have_value("Léa")
    expect(page.get_by_label("Adresse e-mail")).to_have_value("lea.martin@mairie-lyon.fr")
    person.check("code-incorrect")

    page.get_by_label("Numéro SIREN de la commune").fill("21690123")
    page.get_by_role("button", name="Valider l'inscription").click()
    expect(page.get_by_label("Numéro SIREN de la commune")).to_have_accessible_description(
        re.compile("9 chiffres"))


def test_a_wrong_password_is_refused_with_a_message(site, stack):
    person = site("connexion-erreur")
    page = person.open("/")
    page.get_by_role("link", name="se connecter").click()
    page.get_by_label("Adresse électronique").fill("personne@mairie-inconnue.fr")
    page.get_by_label("Mot de passe", exact=True).fill("pas le bon mot de passe")
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_text("Adresse e-mail ou mot de passe incorrect.")).to_be_visible()
    expect(page.get_by_label("Adresse électronique")).to_have_value("personne@mairie-inconnue.fr")
    person.check("identifiants-incorrects")

    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Adresse électronique").fill("personne@mairie-inconnue.fr")
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page.get_by_text("Si un compte existe pour cette adresse")).to_be_visible()
    person.check("mot-de-passe-oublie")


def test_a_town_hall_registers_sets_its_password_logs_in_and_out(site, stack):
    demo = stack.state["demo"]
    outbox = Outbox(stack.state["outbox_dir"])
    person = site("mairie")
    page = person.open("/")
    expect(page.get_by_role("heading", name="Inscription au service")).to_be_visible()
    expect(page.get_by_role("heading", name="Connexion au service")).to_be_visible()
    person.check("accueil")

    # 2/ "Dans l'encadré « Inscription au service », cliquer sur « Démarrer l'inscription »."
    page.get_by_role("link", name="Démarrer l'inscription").click()
    expect(page.get_by_role("heading", name="Inscription au service", level=1)).to_be_visible()
    person.check("inscription")
    # 3/ SIREN, code d'activation, then nom, prénom, adresse e-mail of the person in charge.
    page.get_by_label("Numéro SIREN de la commune").fill(demo["siren"])
    page.get_by_label("Code d'activation").fill(demo["activation_code"])
    page.get_by_label("Nom", exact=True).fill(AGENT["last_name"])
    page.get_by_label("Prénom", exact=True).fill(AGENT["first_name"])
    page.get_by_label("Adresse e-mail").fill(AGENT["email"])
    page.get_by_role("button", name="Valider l'inscription").click()
    expect(page.get_by_role("heading", name="Inscription enregistrée")).to_be_visible()
    expect(page.get_by_text("Un e-mail contenant un lien pour créer votre mot de passe")).to_be_visible()
    expect(page.get_by_text(AGENT["email"])).to_be_visible()
    person.check("inscription-enregistree")

    # The confirmation email, with the link to create the password.
    link = link_in(outbox.wait_for(AGENT["email"]))
    assert link.startswith(stack.state["site_url"] + "/mot-de-passe.html?token=")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choisir votre mot de passe")).to_be_visible()
    expect(page.get_by_text("12 caractères minimum, une phrase de plusieurs mots est idéale")).to_be_visible()
    assert "token=" not in page.url  # taken out of the address bar and the history
    person.check("mot-de-passe")
    page.get_by_label("Mot de passe", exact=True).fill("Bourg-en-Bresse 2026 !")
    page.get_by_label("Confirmation du mot de passe", exact=True).fill("Bourg-en-Bresse 2026 !")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    password = page.get_by_label("Mot de passe", exact=True)
    expect(password).to_have_accessible_description(re.compile("ni le nom ou le SIREN de votre commune"))
    expect(password).to_have_value("Bourg-en-Bresse 2026 !")
    person.check("mot-de-passe-faible")
    page.get_by_label("Afficher le mot de passe", exact=True).check(force=True)  # its visible label « Afficher » takes the click
    expect(password).to_have_attribute("type", "text")
    password.fill(PASSWORD)
    page.get_by_label("Confirmation du mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("heading", name="Mot de passe enregistré")).to_be_visible()
    person.check("mot-de-passe-enregistre")

    # The link works once: opened again, it says so and leads to "Mot de passe oublié".
    other = site("lien-utilise")
    used = other.open(link)
    used.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    used.get_by_label("Confirmation du mot de passe", exact=True).fill(PASSWORD)
    used.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(used.get_by_role("heading", name="Ce lien n'est plus valable")).to_be_visible()
    expect(used.get_by_role("link", name="Mot de passe oublié")).to_have_attribute("href", "mot-de-passe-oublie.html")
    other.check("lien-deja-utilise")

    # 4/ "Connexion au service": adresse électronique, mot de passe, « Connexion ».
    page.get_by_role("link", name="Se connecter").click()
    page.get_by_label("Adresse électronique").fill(AGENT["email"])
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(re.compile(r"/tableau-de-bord\.html$"))
    expect(page.get_by_role("heading", name="Mairie de Bourg-en-Bresse")).to_be_visible()
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.get_by_role("link", name="ELUS")).to_be_visible()
    expect(menu.get_by_role("link", name="Demandes")).to_be_visible()
    quick = page.get_by_role("region", name="Accès rapide")
    expect(quick.get_by_role("link", name="Enregistrer un élu")).to_be_visible()
    expect(quick.get_by_role("link", name="Nouvelle demande")).to_be_visible()
    expect(page.get_by_role("region", name="Préfecture de livraison")).to_contain_text("45 avenue Alsace-Lorraine")
    person.check("tableau-de-bord")

    # Agents of the commune: add one (who receives the set-password email), then remove them.
    page.get_by_role("link", name="Gérer les agents de la commune").click()
    expect(page.get_by_role("heading", name="Agents de la commune", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name=AGENT["email"])).to_be_visible()
    page.get_by_label("Nom", exact=True).fill("Moreau")
    page.get_by_label("Prénom", exact=True).fill("Hugo")
    page.get_by_label("Adresse e-mail").fill("hugo.moreau@mairie-bourg-en-bresse.fr")
    page.get_by_role("button", name="Ajouter l'agent").click()
    expect(page.get_by_role("heading", name="Agent ajouté")).to_be_visible()
    expect(page.get_by_role("cell", name="hugo.moreau@mairie-bourg-en-bresse.fr")).to_be_visible()
    outbox.wait_for("hugo.moreau@mairie-bourg-en-bresse.fr")
    person.check("agents")
    page.get_by_role("button", name="Retirer Hugo Moreau").click()
    page.get_by_role("button", name="Confirmer le retrait d'Hugo Moreau").click()
    expect(page.get_by_role("heading", name="Agent retiré")).to_be_visible()
    expect(page.get_by_role("cell", name="hugo.moreau@mairie-bourg-en-bresse.fr")).to_have_count(0)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/index\.html$"))
    expect(page.get_by_role("heading", name="Vous êtes déconnecté")).to_be_visible()
    person.check("deconnecte")
    page.goto("/tableau-de-bord.html")  # the session is over: back to the sign-in page
    expect(page.get_by_role("heading", name="Connexion au service")).to_be_visible()
    expect(page.get_by_text("Votre session a expiré")).to_be_hidden()


def test_an_unknown_address_shows_the_sites_page_introuvable_in_its_frame(site):
    person = site("page-introuvable")
    page = person.page
    answer = page.goto("/dossier/inconnu/page.html")
    assert answer.status == 404
    # Chromium logs the page's own 404 as a console error: expected here, and the only one
    expected = [p for p in person.problems if "404" in p and "/dossier/inconnu/page.html" in p]
    assert len(expected) == 1
    person.problems.remove(expected[0])
    expect(page.get_by_role("heading", level=1, name="Page introuvable")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("Cartes d'identité des élus")
    # the DSFR styles loaded from the site's root, although the address is three folders deep
    assert page.evaluate("() => getComputedStyle(document.querySelector('.fr-btn')).backgroundColor") \
        != "rgba(0, 0, 0, 0)"
    person.check("page-introuvable")
    page.get_by_role("link", name="Page d'accueil").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Commander les cartes d'identité des élus de votre commune")
