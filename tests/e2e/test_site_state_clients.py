"""« Outils de l'État » in a real browser on the local stack: the card maker creates read-only accesses for the
ministry's tools and for the Ain préfecture's (scopes limited to the two read scopes), sees each secret once, the
tools get a token with it over HTTP and read the orders, a webhook is added to the Ain's access, then the card maker
revokes it (after a confirmation) and its secret and token stop working."""
import re

import requests
from playwright.sync_api import expect

from chalicelib.domain import webhooks
from tests.e2e.browser import browser, site  # noqa: F401 (fixtures)
from tests.e2e.test_site_exports import log_in
from tests.webhook_receiver import Receiver

MINISTRY_TOOL = "Pilotage national des cartes"
AIN_TOOL = "Tableau de bord de la préfecture de l'Ain"


def token(api: str, client_id: str, secret: str) -> requests.Response:
    return requests.post(f"{api}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret),
                         timeout=30)


def create_access(page, name: str, scopes: list[str]) -> tuple[str, str]:
    """Fills « Créer un accès » and returns the identifier and the secret the page shows once."""
    page.get_by_label("Nom de l'outil").fill(name)
    for label in scopes:  # a click on the DSFR box's label, as a person
        page.locator("label.fr-label", has_text=label).click()
    page.get_by_role("button", name="Créer l'accès").click()
    expect(page.get_by_role("heading", name="Copiez le secret maintenant")).to_be_visible()
    client_id = page.get_by_label("Identifiant (client_id)").input_value()
    secret = page.get_by_label("Secret (client_secret)").input_value()
    assert re.fullmatch(r"[0-9a-f]{32}", client_id) and len(secret) >= 43
    return client_id, secret


def test_the_card_maker_creates_accesses_for_the_ministry_and_a_prefecture_and_revokes_one(site, stack):
    api = stack.state["api_url"]
    person = site("outils-etat")
    person.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = log_in(person, stack.state["operators"]["manufacturer"], "fabricant.html")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Outils de l'État").click()
    expect(page.get_by_role("heading", name="Outils de l'État", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Accès des outils du ministère (lecture nationale)")).to_be_visible()
    # read only: the two read scopes, nothing that writes
    expect(page.locator("#choix-autorisations input[type=checkbox]")).to_have_count(2)
    expect(page.get_by_label("Créer et valider les demandes")).to_have_count(0)
    person.check("ministere")

    # the ministry's tool: its secret once, copied; it reads the orders of the whole country
    national_id, national_secret = create_access(page, MINISTRY_TOOL, ["Lire les demandes et les cartes"])
    page.get_by_role("button", name="Copier le secret").click()
    expect(page.get_by_text("Secret copié dans le presse-papiers.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == national_secret
    row = page.locator(f"tr[data-client='{national_id}']")
    expect(row).to_contain_text(MINISTRY_TOOL)
    expect(row).to_contain_text("Actif")
    person.check("secret-ministere")
    answer = token(api, national_id, national_secret)
    assert answer.status_code == 200, answer.text
    orders = requests.get(f"{api}/admin/orders", params={"status": "en_preparation"}, timeout=30,
                          headers={"Authorization": f"Bearer {answer.json()['access_token']}"})
    assert orders.status_code == 200, orders.text

    # a département: a code that is not one is said next to the field; the Ain's list has no national access
    page.locator("label.fr-label", has_text="La préfecture d'un département").click()
    page.get_by_role("textbox", name="Département").fill("20")
    page.get_by_role("button", name="Afficher leurs accès").click()
    expect(page.get_by_role("heading", name="Le département n'est pas reconnu")).to_be_visible()
    page.get_by_role("textbox", name="Département").fill("01")
    page.get_by_role("button", name="Afficher leurs accès").click()
    heading = page.get_by_role("heading", name="Accès des outils de la préfecture du département 01")
    expect(heading).to_be_focused()
    expect(page.get_by_text("Aucun accès pour l'instant.")).to_be_visible()
    expect(page.get_by_label("Secret (client_secret)")).to_be_hidden()  # the ministry's secret is gone
    assert national_secret not in page.content()
    person.check("departement")

    client_id, secret = create_access(page, AIN_TOOL, ["Lire les élus", "Lire les demandes et les cartes"])
    row = page.locator(f"tr[data-client='{client_id}']")
    expect(row).to_contain_text("Lire les élus")
    expect(row).to_contain_text("Lire les demandes et les cartes")
    answer = token(api, client_id, secret)
    assert answer.status_code == 200, answer.text
    bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    orders = requests.get(f"{api}/admin/orders", params={"status": "en_preparation"}, headers=bearer, timeout=30)
    assert orders.status_code == 200, orders.text

    # its webhooks, which the card maker manages for the State's tools
    with Receiver() as receiver:
        page.get_by_role("button", name=f"Webhooks et journal des envois de l'accès « {AIN_TOOL} »").click()
        section = page.locator("#webhooks")
        expect(section.get_by_role("heading", name=f"Webhooks de l'accès « {AIN_TOOL} »")).to_be_visible()
        expect(section).to_be_focused()
        section.get_by_label("Adresse du webhook").fill(receiver.url)
        section.locator("label.fr-label", has_text=webhooks.EVENT_LABELS[webhooks.ORDER_STATUS_CHANGED]).click()
        section.get_by_role("button", name="Ajouter le webhook").click()
        expect(section.get_by_role("heading", name="Copiez le secret de signature maintenant")).to_be_visible()
        expect(section.locator("#liste-webhooks tr")).to_contain_text(receiver.url)
        section.get_by_role("button", name=f"Journal des envois vers {receiver.url}").click()
        expect(section.get_by_text("Aucun envoi pour l'instant.")).to_be_visible()
        person.check("webhook")

    # the owner stays in the address: after a reload, the Ain's list, no secret anywhere
    page.reload()
    expect(page).to_have_url(re.compile(r"fabricant-logiciels\.html\?departement=01$"))
    expect(row).to_contain_text("Actif")
    expect(page.get_by_role("textbox", name="Département")).to_have_value("01")
    assert secret not in page.content()

    row.get_by_role("button", name=f"Révoquer l'accès « {AIN_TOOL} »").click()
    row.get_by_role("button", name="Annuler").click()
    expect(row).to_contain_text("Actif")
    row.get_by_role("button", name=f"Révoquer l'accès « {AIN_TOOL} »").click()
    row.get_by_role("button", name=f"Confirmer la révocation de l'accès « {AIN_TOOL} »").click()
    expect(page.get_by_role("heading", name="Accès révoqué")).to_be_visible()
    expect(row).to_contain_text("Révoqué le")
    person.check("acces-revoque")

    assert requests.get(f"{api}/admin/orders", params={"status": "en_preparation"}, headers=bearer,
                        timeout=30).status_code == 401
    again = token(api, client_id, secret)
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert token(api, national_id, national_secret).status_code == 200  # the ministry's access is untouched
