"""The webhooks of an access, in a real browser on the local stack (« Accès pour les logiciels »): the commune's agent
adds a webhook to a receiver this test runs on 127.0.0.1 (address and events as checkboxes), sees its signing secret
once; an order's move reaches the receiver, signed with that secret, after the receiver failed the first POST; the
delivery log shows it delivered at the second attempt; the agent deletes the webhook (after a confirmation)."""
import time

import requests
from playwright.sync_api import expect

from chalicelib.domain import webhooks
from tests.e2e.browser import browser, site  # noqa: F401 (fixtures)
from tests.e2e.test_site_exports import log_in
from tests.webhook_receiver import Receiver

NAME = "Logiciel de gestion du conseil"


def test_a_commune_adds_a_webhook_reads_its_delivery_log_and_deletes_it(site, stack):
    api = stack.state["api_url"]
    agent = stack.state["demo_agent"]
    person = site("webhooks")
    page = log_in(person, agent, "tableau-de-bord.html")
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Logiciels").click()
    page.get_by_label("Nom du logiciel").fill(NAME)
    page.locator("label.fr-label", has_text="Lire les demandes et les cartes").click()
    page.get_by_role("button", name="Créer l'accès").click()
    expect(page.get_by_role("heading", name="Copiez le secret maintenant")).to_be_visible()

    with Receiver(answers=(500,)) as receiver:
        page.get_by_role("button", name=f"Webhooks et journal des envois de l'accès « {NAME} »").click()
        section = page.locator("#webhooks")
        expect(section.get_by_role("heading", name=f"Webhooks de l'accès « {NAME} »")).to_be_visible()
        expect(section.get_by_text("Aucun webhook pour cet accès.")).to_be_visible()

        # nothing chosen: said next to the checkboxes, nothing added
        section.get_by_label("Adresse du webhook").fill(receiver.url)
        section.get_by_role("button", name="Ajouter le webhook").click()
        expect(page.get_by_role("heading", name="Le formulaire est incomplet")).to_be_visible()
        # an event the access may not read (the officials): refused by the portal, said in French
        section.locator("label.fr-label", has_text=webhooks.EVENT_LABELS[webhooks.PHOTO_CHECKED]).click()
        section.get_by_role("button", name="Ajouter le webhook").click()
        expect(page.get_by_role("heading", name="Le webhook n'a pas été ajouté")).to_be_visible()
        expect(section).to_contain_text("officials:read")
        section.locator("label.fr-label", has_text=webhooks.EVENT_LABELS[webhooks.PHOTO_CHECKED]).click()
        section.locator("label.fr-label", has_text=webhooks.EVENT_LABELS[webhooks.ORDER_STATUS_CHANGED]).click()
        section.get_by_role("button", name="Ajouter le webhook").click()
        expect(section.get_by_role("heading", name="Copiez le secret de signature maintenant")).to_be_visible()
        secret = section.get_by_label("Secret de signature").input_value()
        assert secret.startswith("whsec_")
        row = section.locator("#liste-webhooks tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(receiver.url)
        expect(row).to_contain_text(webhooks.EVENT_LABELS[webhooks.ORDER_STATUS_CHANGED])
        expect(row).to_contain_text("Actif")
        person.check("webhook-ajoute")

        # an order of the commune moves: the receiver fails the first POST, gets it again
        session = requests.post(f"{api}/sessions", json={"email": agent["email"], "password": agent["password"]},
                                timeout=30).json()["token"]
        headers = {"Authorization": f"Bearer {session}"}
        officials = [o["id"] for o in requests.get(f"{api}/officials", headers=headers, timeout=30).json()["items"]
                     if o["photo"]["status"] == "ready"]
        order = requests.post(f"{api}/orders", json={"official_ids": officials}, headers=headers, timeout=30).json()
        submitted = requests.post(f"{api}/orders/{order['id']}/submit", json={"preview_acknowledged": True},
                                  headers=headers, timeout=30)
        assert submitted.status_code == 200, submitted.text
        (delivered,) = receiver.wait_for(1, timeout=30)
        assert [r.answered for r in receiver.received] == [500, 200]
        assert webhooks.verify_signature(secret, delivered.headers["x-carteselus-signature"], delivered.body,
                                         int(time.time()))

        row.get_by_role("button", name=f"Journal des envois vers {receiver.url}").click()
        journal = page.locator("#journal-envois")
        expect(journal.get_by_role("heading", name=f"Journal des envois vers {receiver.url}")).to_be_visible()
        entry = journal.locator("#liste-envois tr")
        expect(entry).to_have_count(1)
        cells = entry.locator("td")
        expect(cells.nth(0)).to_contain_text(webhooks.EVENT_LABELS[webhooks.ORDER_STATUS_CHANGED])
        expect(cells.nth(2)).to_have_text("Remis")
        expect(cells.nth(3)).to_have_text("2")
        expect(cells.nth(4)).to_have_text("200")
        person.check("journal-des-envois")

        row.get_by_role("button", name=f"Supprimer le webhook {receiver.url}").click()
        row.get_by_role("button", name="Annuler").click()
        expect(row).to_contain_text("Actif")
        row.get_by_role("button", name=f"Supprimer le webhook {receiver.url}").click()
        row.get_by_role("button", name=f"Confirmer la suppression du webhook {receiver.url}").click()
        expect(page.get_by_role("heading", name="Webhook supprimé")).to_be_visible()
        expect(row).to_contain_text("Supprimé le")
        expect(row.get_by_role("button", name=f"Supprimer le webhook {receiver.url}")).to_have_count(0)
        person.check("webhook-supprime")

    # the secret is not shown again
    page.reload()
    assert secret not in page.content()
