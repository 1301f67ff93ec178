"""« Accès pour les logiciels » in a real browser on the local stack: the commune's agent creates an access for a
program (name, scopes as checkboxes), sees its secret once and copies it, the program gets a token with it over
HTTP, then the agent revokes the access (after a confirmation) and the program's token and secret stop working."""
import re

import requests
from playwright.sync_api import expect

from tests.e2e.browser import browser, site  # noqa: F401 (fixtures)
from tests.e2e.test_site_exports import log_in


def test_a_commune_creates_an_access_sees_its_secret_once_and_revokes_it(site, stack):
    api = stack.state["api_url"]
    person = site("logiciels")
    person.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = log_in(person, stack.state["demo_agent"], "tableau-de-bord.html")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Logiciels").click()
    expect(page.get_by_role("heading", name="Accès pour les logiciels", level=1)).to_be_visible()
    expect(page.get_by_text("Aucun accès pour l'instant.")).to_be_visible()
    person.check("liste-vide")

    # nothing chosen: said next to the checkboxes, nothing created
    page.get_by_label("Nom du logiciel").fill("Logiciel d'état civil Exemple")
    page.get_by_role("button", name="Créer l'accès").click()
    expect(page.get_by_role("heading", name="Le formulaire est incomplet")).to_be_visible()
    expect(page.get_by_label("Nom du logiciel")).to_have_value("Logiciel d'état civil Exemple")

    for label in ("Lire les élus", "Lire les demandes et les cartes"):  # a click on the DSFR box's label, as a person
        page.locator("label.fr-label", has_text=label).click()
        expect(page.get_by_label(label)).to_be_checked()
    expect(page.get_by_label("Créer et valider les demandes")).not_to_be_checked()
    page.get_by_role("button", name="Créer l'accès").click()
    expect(page.get_by_role("heading", name="Copiez le secret maintenant")).to_be_visible()
    expect(page.get_by_text("Il ne sera plus jamais affiché.")).to_be_visible()
    client_id = page.get_by_label("Identifiant (client_id)").input_value()
    secret = page.get_by_label("Secret (client_secret)").input_value()
    assert re.fullmatch(r"[0-9a-f]{32}", client_id) and len(secret) >= 43
    page.get_by_role("button", name="Copier le secret").click()
    expect(page.get_by_text("Secret copié dans le presse-papiers.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = page.locator(f"tr[data-client='{client_id}']")
    expect(row).to_contain_text("Logiciel d'état civil Exemple")
    expect(row).to_contain_text("Lire les élus")
    expect(row).to_contain_text("Lire les demandes et les cartes")
    expect(row).to_contain_text("Actif")
    person.check("secret-affiche")

    # the program, with what the page gave: a token, the commune's officials
    answer = requests.post(f"{api}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret),
                           timeout=30)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    officials = requests.get(f"{api}/officials", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert officials.status_code == 200 and officials.json()["items"]

    # shown once: after a reload, the list has the access and no secret anywhere on the page
    page.reload()
    expect(row).to_contain_text("Actif")
    expect(page.get_by_label("Secret (client_secret)")).to_be_hidden()
    assert secret not in page.content()

    row.get_by_role("button", name="Révoquer l'accès « Logiciel d'état civil Exemple »").click()
    row.get_by_role("button", name="Annuler").click()
    expect(row).to_contain_text("Actif")
    row.get_by_role("button", name="Révoquer l'accès « Logiciel d'état civil Exemple »").click()
    row.get_by_role("button", name="Confirmer la révocation de l'accès « Logiciel d'état civil Exemple »").click()
    expect(page.get_by_role("heading", name="Accès révoqué")).to_be_visible()
    expect(row).to_contain_text("Révoqué le")
    expect(row.get_by_role("button", name=re.compile("Révoquer"))).to_have_count(0)  # its webhooks' log stays
    person.check("acces-revoque")

    assert requests.get(f"{api}/officials", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 401
    again = requests.post(f"{api}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret),
                          timeout=30)
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
