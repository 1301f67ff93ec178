"""The site's step-by-step forms keep their step in the address: the browser's Back goes to the step before, Forward
comes back, and a reload leaves the person at the step they were at (« Enregistrer un élu », « Nouvelle demande »,
the registration). Played as a person does, on the demo town hall (Oyonnax) and the commune still to register
(Bourg-en-Bresse)."""
import re

from playwright.sync_api import expect

from tests.e2e.browser import browser, site  # noqa: F401 (fixtures)


def log_in(person, stack):
    agent = stack.state["demo_agent"]
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(agent["email"])
    page.get_by_label("Mot de passe", exact=True).fill(agent["password"])
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("heading", name=re.compile("^Mairie d"))).to_be_visible()
    return page


def step(page, number: int, total: int = 3):
    expect(page.get_by_text(f"Étape {number} sur {total}")).to_be_visible()


def test_back_and_reload_keep_each_step_of_recording_an_official(site, stack):
    person = site("assistant-elu")
    page = log_in(person, stack)
    page.goto("/elu-nouveau.html")
    step(page, 1)
    choice = page.locator("input[name=directory_id]:not([disabled])").first
    expect(choice).to_be_attached()
    name = page.locator(f"label[for='{choice.get_attribute('id')}']").evaluate("l => l.firstChild.textContent.trim()")
    choice.check(force=True)  # the label takes the click
    page.get_by_role("button", name="Suivant").click()
    step(page, 2)
    expect(page).to_have_url(re.compile(r"/elu-nouveau\.html\?choix=[^&]+$"))
    functions = page.get_by_role("group", name=re.compile("^Fonction de (?!l'élu)"))  # « Fonction de <the official> »
    expect(functions).to_be_visible()
    person.check("etape-2")

    page.reload()  # the reload keeps step 2, with the official chosen
    step(page, 2)
    expect(functions).to_be_visible()
    page.go_back()
    step(page, 1)
    expect(page).to_have_url(re.compile(r"/elu-nouveau\.html$"))
    page.go_forward()
    step(page, 2)
    page.get_by_role("button", name="Précédent").click()  # the page's own « Précédent » is the same as Back
    step(page, 1)
    page.go_forward()
    step(page, 2)

    page.locator("input[name=function]").first.check(force=True)
    page.get_by_role("button", name="Suivant").click()
    step(page, 3)
    expect(page).to_have_url(re.compile(r"/elu-nouveau\.html\?elu=[^&]+$"))
    page.reload()  # registered: the photo step of this official
    expect(page.get_by_role("heading", name="Ajouter la photo d'un élu")).to_be_visible()
    expect(page.get_by_role("button", name="Ajouter", exact=True)).to_be_visible()
    person.check("etape-3-rechargee")
    page.go_back()  # before the registration: the list, where the official is now registered
    step(page, 1)
    expect(page.get_by_role("radio", name=re.compile("^" + re.escape(name)))).to_be_disabled()


def test_back_and_reload_keep_each_step_of_a_new_order(site, stack):
    person = site("assistant-demande")
    page = log_in(person, stack)
    page.goto("/demande-nouvelle.html")
    page.get_by_role("button", name="Créer").click()
    step(page, 1)
    expect(page).to_have_url(re.compile(r"/demande-nouvelle\.html\?etape=1$"))
    expect(page.get_by_text(re.compile(r"^\d élus? sur \d peu"))).to_be_visible()
    boxes = page.locator("input[name=official_ids]:not([disabled])")
    first = boxes.first.get_attribute("value")
    boxes.first.check(force=True)
    page.get_by_role("button", name="Etape suivante").click()
    step(page, 2)
    expect(page).to_have_url(re.compile(r"\?id=[^&]+&etape=2$"))
    order_id = re.search(r"id=([^&]+)", page.url).group(1)

    page.reload()
    step(page, 2)
    expect(page.get_by_role("img", name=re.compile("^Prévisualisation de la carte (de |d')"))).to_have_count(1)
    page.go_back()  # step 1, the draft's official still ticked and free to untick
    step(page, 1)
    expect(page).to_have_url(re.compile(rf"\?id={order_id}&etape=1$"))
    box = page.locator(f"input[name=official_ids][value='{first}']")
    expect(box).to_be_checked()
    expect(box).to_be_enabled()
    page.reload()
    step(page, 1)
    expect(box).to_be_checked()
    page.get_by_role("button", name="Etape suivante").click()  # the same selection goes on with the same draft
    step(page, 2)
    expect(page).to_have_url(re.compile(rf"\?id={order_id}&etape=2$"))

    page.get_by_role("checkbox", name=re.compile("^Je confirme avoir été informé")).check(force=True)
    page.get_by_role("button", name="Etape suivante").click()
    step(page, 3)
    expect(page).to_have_url(re.compile(rf"\?id={order_id}&etape=3$"))
    expect(page.get_by_text("1 carte sera commandée.")).to_be_visible()
    page.reload()
    step(page, 3)
    expect(page.get_by_text("1 carte sera commandée.")).to_be_visible()
    person.check("etape-3-rechargee")
    page.go_back()
    step(page, 2)
    page.go_forward()
    step(page, 3)
    page.get_by_role("button", name="Etape précédente").click()
    step(page, 2)
    page.get_by_role("button", name="Modifier la sélection").click()  # cancels the draft: step 1 without it
    step(page, 1)
    expect(page).to_have_url(re.compile(r"/demande-nouvelle\.html\?etape=1$"))
    expect(box).to_be_checked()


def test_back_and_reload_keep_the_registration_sent(site, stack):
    person = site("assistant-inscription")
    demo = stack.state["demo"]
    page = person.open("/inscription.html")
    page.get_by_label("Numéro SIREN de la commune").fill(demo["siren"])
    page.get_by_label("Code d'activation").fill(demo["activation_code"])
    page.get_by_label("Nom", exact=True).fill("Lefèvre")
    page.get_by_label("Prénom", exact=True).fill("Chantal")
    page.get_by_label("Adresse e-mail").fill("mairie@bourg-en-bresse.example.fr")
    page.get_by_role("button", name="Valider l'inscription").click()
    sent = page.get_by_role("heading", name="Inscription enregistrée")
    expect(sent).to_be_visible()
    expect(page).to_have_url(re.compile(r"/inscription\.html\?etape=envoyee$"))
    page.reload()
    expect(sent).to_be_visible()
    expect(page.get_by_text("mairie@bourg-en-bresse.example.fr")).to_be_visible()
    expect(page).to_have_title(re.compile("^Inscription enregistrée"))
    page.go_back()
    expect(page.get_by_role("button", name="Valider l'inscription")).to_be_visible()
    expect(sent).to_be_hidden()
    page.go_forward()
    expect(sent).to_be_visible()
    person.check("inscription-rechargee")
