"""The whole journey of the user guide in the browser, label for label: a town hall registers, records two officials with
their photo (5/), orders their cards (6/), and follows the order while the card maker and the préfecture move it on,
up to « Remise à l'élu ». Every page on the way passes axe and is saved in var/screenshots/."""
import re

import boto3
import requests
from playwright.sync_api import expect

from tests.e2e.browser import (  # noqa: F401 (fixtures)
    enter_code, Outbox, browser, choose_file, link_in, portrait_jpeg, site)

AGENT = {"last_name": "Lambert", "first_name": "Sylvie", "email": "cartes-elus@mairie-bourg-en-bresse.fr"}
PASSWORD = "les toits vernissés de Brou"
CARD_NUMBER = re.compile(r"^\d{4}-\d{7}$")


def log_in(person, email: str, password: str, totp_secret: str | None = None):
    page = person.open("/")
    page.get_by_role("link", name="se connecter").click()
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, totp_secret)
    return page


def register_the_town_hall(person, stack):
    """3/ and 4/ of the guide: « Démarrer l'inscription », the email's link, the password, « Connexion »."""
    demo = stack.state["demo"]
    page = person.open("/")
    page.get_by_role("link", name="Démarrer l'inscription").click()
    page.get_by_label("Numéro SIREN de la commune").fill(demo["siren"])
    page.get_by_label("Code d'activation").fill(demo["activation_code"])
    page.get_by_label("Nom", exact=True).fill(AGENT["last_name"])
    page.get_by_label("Prénom", exact=True).fill(AGENT["first_name"])
    page.get_by_label("Adresse e-mail").fill(AGENT["email"])
    page.get_by_role("button", name="Valider l'inscription").click()
    expect(page.get_by_role("heading", name="Inscription enregistrée")).to_be_visible()
    person.check("inscription-enregistree")
    page.goto(link_in(Outbox(stack.state["outbox_dir"]).wait_for(AGENT["email"])))
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmation du mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("heading", name="Mot de passe enregistré")).to_be_visible()
    person.check("mot-de-passe-enregistre")
    log_in(person, AGENT["email"], PASSWORD)
    expect(page.get_by_role("heading", name="Mairie de Bourg-en-Bresse")).to_be_visible()
    person.check("tableau-de-bord")
    return page


def record_official(person, page, query: str, name: str, function: str, photo, *, drag: bool = False):
    """5/: « rechercher un élu », « Suivant », the function, « Suivant », « Ajouter », « Parcourir », the framing,
    « Terminer »; returns the heading that gives the result."""
    page.get_by_label("Rechercher un élu").fill(query)
    expect(page.get_by_role("radio")).to_have_count(1)
    page.get_by_role("radio", name=re.compile(f"^{name}")).check(force=True)  # the label takes the click
    page.get_by_role("button", name="Suivant").click()
    page.get_by_role("radio", name=function, exact=True).check(force=True)
    page.get_by_role("button", name="Suivant").click()
    page.get_by_role("button", name="Ajouter", exact=True).click()
    choose_file(page, "Parcourir", photo)
    frame = page.locator("#cadrage-etat")
    expect(frame).to_contain_text("Zone retenue")
    if drag:  # « rogner les bords de la photo afin de mieux la cadrer »: the frame is dragged a little with the mouse
        before = frame.inner_text()
        face = page.locator(".cropper-face")
        face.scroll_into_view_if_needed()
        box = face.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 - 8, box["y"] + box["height"] / 2 + 6, steps=5)
        page.mouse.up()
        expect(frame).not_to_have_text(before)
        person.check("photo-cadree")
    page.get_by_role("button", name="Terminer").click()
    result = page.get_by_role("heading", name=re.compile(r"^La photo (de |d')"))
    expect(result).to_be_visible(timeout=30_000)
    return result



def move(page, name: str) -> None:
    """A back-office move: its button, then « Passer à … » again in the DSFR modal that asks for confirmation."""
    page.get_by_role("button", name=name).click()
    dialog = page.get_by_role("dialog", name=name)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=name).click()
    expect(dialog).to_be_hidden()


def tick(page, name: str) -> None:
    """Tick a checkbox of the list with the keyboard (Space), as a keyboard user does: a click lands where the box was
    a moment ago and misses it while the page still scrolls to the step just shown."""
    box = page.get_by_role("checkbox", name=name)
    box.press("Space")
    expect(box).to_be_checked()

def test_from_registration_to_the_card_handed_over(site, stack, tmp_path):
    commune = site("parcours-mairie")
    page = register_the_town_hall(commune, stack)

    # 5/ « Accès rapide » › « Enregistrer un élu »: the mayor, then her deputy.
    far = tmp_path / "portrait-de-loin.jpg"  # the face is small in the default frame
    far.write_bytes(portrait_jpeg("astronaut", (1000, 1300), 420))
    close = tmp_path / "portrait.jpg"
    close.write_bytes(portrait_jpeg("grace", (700, 900), 600))
    page.get_by_role("region", name="Accès rapide").get_by_role("link", name="Enregistrer un élu").click()
    commune.check("rechercher-un-elu")
    # The agent moves the frame a little (left alone, the photo assistant would frame the photo itself): the face is too
    # small in that frame; the assistant's proposed framing fixes it, without a new upload.
    result = record_official(commune, page, "marchand", "MARCHAND Hélène", "Maire", far, drag=True)
    expect(result).to_have_text("La photo d'Hélène MARCHAND ne permet pas de commander sa carte")
    expect(page.get_by_text(re.compile("Le visage est trop petit dans le cadrage"))).to_be_visible()
    commune.check("photo-non-conforme")
    page.get_by_role("button", name="Appliquer le cadrage proposé").click()
    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_role("heading", name=re.compile(r"^La photo d'Hélène MARCHAND est enregistrée"))).to_be_visible(
        timeout=30_000)
    expect(page.get_by_role("img", name="Aperçu de la carte d'Hélène MARCHAND, Maire")).to_be_visible()
    commune.check("photo-enregistree")
    page.get_by_role("link", name="Enregistrer un autre élu").click()
    result = record_official(commune, page, "fontaine", "FONTAINE Gaëlle", "Adjointe au maire", close, drag=True)
    expect(result).to_have_text(re.compile(r"^La photo de Gaëlle FONTAINE est enregistrée"))
    page.get_by_role("link", name="Voir la liste des élus").click()
    for name in ("MARCHAND Hélène", "FONTAINE Gaëlle"):
        expect(page.get_by_role("row", name=re.compile(name)).get_by_text("Photo prête")).to_be_visible()
    commune.check("elus")

    # 6/ « Demandes » › « Nouvelle demande » › « Nouvelle carte » › « Créer »: tick both.
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Demandes").click()
    expect(page.get_by_role("heading", name="Liste des demandes")).to_be_visible()
    commune.check("demandes-vide")
    page.get_by_role("link", name="Nouvelle demande").click()
    expect(page.get_by_role("heading", name="Nouvelle carte")).to_be_visible()
    commune.check("nouvelle-carte")
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_text("2 élus sur 2 peuvent être commandés.")).to_be_visible()
    tick(page, "Sélectionner Hélène MARCHAND")
    tick(page, "Sélectionner Gaëlle FONTAINE")
    commune.check("choix-des-elus")

    # Meanwhile a colleague starts an order for the mayor: « Etape suivante » says so on her row, the rest is kept.
    colleague = requests.Session()
    token = colleague.post(stack.state["api_url"] + "/sessions", timeout=30,
                           json={"email": AGENT["email"], "password": PASSWORD}).json()["token"]
    colleague.headers["Authorization"] = f"Bearer {token}"
    mayor_id = page.get_by_role("checkbox", name="Sélectionner Hélène MARCHAND").get_attribute("value")
    started = colleague.post(stack.state["api_url"] + "/orders", timeout=30, json={"official_ids": [mayor_id]})
    assert started.status_code == 201, started.text
    page.get_by_role("button", name="Etape suivante").click()
    expect(page.get_by_role("heading", name="La demande n'a pas été créée")).to_be_visible()
    mayor = page.get_by_role("checkbox", name="Sélectionner Hélène MARCHAND")
    expect(mayor).to_have_accessible_description(re.compile("une carte est déjà en cours"))
    expect(mayor).to_be_checked()
    expect(page.get_by_role("checkbox", name="Sélectionner Gaëlle FONTAINE")).to_be_checked()
    commune.check("elu-deja-commande")

    # The colleague's draft is in the list (« Brouillon »): cancel it, then start again.
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Demandes").click()
    draft = page.get_by_role("row", name=re.compile("Brouillon"))
    expect(draft.get_by_role("cell", name="MARCHAND Hélène")).to_be_visible()
    expect(draft.get_by_role("link", name=re.compile("^Continuer"))).to_be_visible()
    commune.check("brouillon")
    draft.get_by_role("button", name=re.compile("^Annuler la demande du")).click()
    page.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.get_by_role("heading", name="Demande annulée")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Annulée"))).to_be_visible()

    page.get_by_role("link", name="Nouvelle demande").click()
    page.get_by_role("button", name="Créer").click()
    # The list is shown once loaded and counted (as a person waits for it): ticking a box of a list still being put
    # in place can miss it.
    expect(page.get_by_text("2 élus sur 2 peuvent être commandés.")).to_be_visible()
    tick(page, "Sélectionner Hélène MARCHAND")
    tick(page, "Sélectionner Gaëlle FONTAINE")
    page.get_by_role("button", name="Etape suivante").click()

    # « Une prévisualisation de chaque carte »; the box must be ticked to go on.
    expect(page.get_by_text("Étape 2 sur 3")).to_be_visible()
    expect(page.get_by_role("img", name="Prévisualisation de la carte d'Hélène MARCHAND, Maire")).to_be_visible()
    expect(page.get_by_role("img", name="Prévisualisation de la carte de Gaëlle FONTAINE, Adjointe au maire")
           ).to_be_visible()
    commune.check("previsualisation")
    page.get_by_role("button", name="Etape suivante").click()
    confirmation = page.get_by_role("checkbox", name="Je confirme avoir été informé du rendu avant fabrication de "
                                    "mes cartes (prévisualisation) et je souhaite continuer ma demande")
    expect(confirmation).to_have_accessible_description(re.compile("Cochez cette case"))
    expect(page.get_by_text("Étape 2 sur 3")).to_be_visible()
    commune.check("confirmation-manquante")
    confirmation.check(force=True)
    page.get_by_role("button", name="Etape suivante").click()

    # « Un récapitulatif des cartes commandées apparaît, avec l'adresse de la préfecture de livraison »: « Terminer ».
    expect(page.get_by_text("Étape 3 sur 3")).to_be_visible()
    expect(page.get_by_text("2 cartes seront commandées.")).to_be_visible()
    expect(page.get_by_role("region", name="Adresse de livraison")).to_contain_text("45 avenue Alsace-Lorraine")
    commune.check("recapitulatif")
    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_role("heading", name="Demande envoyée")).to_be_visible()
    order_row = page.get_by_role("row", name=re.compile("MARCHAND Hélène, FONTAINE Gaëlle"))
    expect(order_row.get_by_text("En préparation")).to_be_visible()
    commune.check("demande-en-preparation")

    # The card maker: « Voir les demandes de cartes », « En préparation », production then delivery.
    operator = stack.state["operators"]["manufacturer"]
    maker = site("parcours-fabricant")
    work = log_in(maker, operator["email"], operator["password"], operator["totp_secret"])
    work.get_by_role("link", name="Voir les demandes de cartes").click()
    expect(work.get_by_label("Statut de la demande")).to_have_value("en_preparation")
    row = work.get_by_role("row", name=re.compile("Bourg-en-Bresse"))
    expect(row.get_by_text("2 cartes")).to_be_visible()
    maker.check("demandes-en-preparation")
    row.get_by_role("link", name=re.compile("^Demande du")).click()
    expect(work.get_by_role("heading", name=re.compile("Bourg-en-Bresse$"), level=1)).to_be_visible()
    maker.check("demande")
    move(work, "Passer à « En production »")
    expect(work.get_by_role("heading", name="Demande passée à « En production »")).to_be_visible()
    cards = work.get_by_role("table", name="Cartes de la demande")
    for number in cards.get_by_role("row").filter(has=work.get_by_role("cell")).all():
        expect(number.get_by_role("cell").nth(1)).to_have_text(CARD_NUMBER)
    expect(cards.get_by_role("link", name="Carte définitive")).to_have_count(2, timeout=30_000)
    # A rejection needs a reason: without one, the API's answer is shown next to the field, nothing changes.
    work.get_by_role("button", name="Rejeter la demande").click()
    expect(work.get_by_label("Motif du rejet")).to_have_accessible_description(re.compile("Indiquez le motif du rejet"))
    maker.check("en-production")
    move(work, "Passer à « En livraison »")
    expect(work.get_by_role("heading", name="Demande passée à « En livraison »")).to_be_visible()
    maker.check("en-livraison")
    # Activation letters for the communes of a département not registered yet: Haute-Savoie (the Ain's two communes
    # of the sample are registered, Oyonnax by the demo, Bourg-en-Bresse above).
    work.goto("/fabricant.html")
    letters = work.get_by_role("region", name="Lettres d'activation d'un département")
    letters.get_by_label("Département").fill("74")
    letters.get_by_role("button", name="Générer les lettres").click()
    expect(letters.get_by_role("heading", name=re.compile(r"lettres? d'activation pour le département 74"))
           ).to_be_visible()
    pdf = letters.get_by_role("link", name="Ouvrir les lettres d'activation (PDF)").get_attribute("href")
    assert work.request.get(pdf).body().startswith(b"%PDF")
    maker.check("lettres-activation")

    # The préfecture of the Ain: « Livrée en préfecture », then « Remise à l'élu », and the receipt to sign.
    operator = stack.state["operators"]["prefecture"]
    prefecture = site("parcours-prefecture")
    desk = log_in(prefecture, operator["email"], operator["password"], operator["totp_secret"])
    expect(desk.get_by_label("Statut de la demande")).to_have_value("en_livraison")
    row = desk.get_by_role("region", name="Demandes de cartes du département").get_by_role(
        "row", name=re.compile("Bourg-en-Bresse"))
    expect(row.get_by_text("En livraison")).to_be_visible()
    prefecture.check("espace")
    row.get_by_role("link", name=re.compile("^Demande du")).click()
    move(desk, "Passer à « Livrée en préfecture »")
    expect(desk.get_by_role("heading", name="Demande passée à « Livrée en préfecture »")).to_be_visible()
    prefecture.check("livree")
    move(desk, "Passer à « Remise à l'élu »")
    expect(desk.get_by_role("heading", name="Demande passée à « Remise à l'élu »")).to_be_visible()
    desk.get_by_role("button", name="Préparer le récépissé de remise").click()
    receipt = desk.get_by_role("link", name="Ouvrir le récépissé de remise (PDF, 2 pages)")
    expect(receipt).to_be_focused()
    prefecture.check("remise")
    with desk.expect_popup() as opened:
        receipt.click()
    opened.value.close()
    assert desk.request.get(receipt.get_attribute("href")).body().startswith(b"%PDF")
    desk.get_by_role("link", name="Retour à l'espace préfecture").click()
    monthly = desk.get_by_role("region", name="Contrôle mensuel")
    expect(monthly.get_by_role("row", name=re.compile("Bourg-en-Bresse")).get_by_role("cell")).to_have_text(
        ["210100533", "2", "2", "2", "0"])
    prefecture.check("controle-mensuel")

    # The town hall's list follows: « Remise à l'élu »; the order's history says who did what.
    page.reload()
    order_row = page.get_by_role("row", name=re.compile("MARCHAND Hélène, FONTAINE Gaëlle"))
    expect(order_row.get_by_text("Remise à l'élu")).to_be_visible()
    commune.check("demande-remise")
    order_row.get_by_role("link", name=re.compile("^Demande du")).click()
    history = page.get_by_role("table", name="Historique de la demande").get_by_role("row")
    expect(history).to_have_count(7)
    expect(history.nth(6).get_by_role("cell").nth(2)).to_have_text("Préfecture")
    expect(history.nth(3).get_by_role("cell").nth(2)).to_have_text("Fabricant")
    facts = page.get_by_role("definition")
    expect(facts.filter(has_text=re.compile(r"^Conservées jusqu'au .*, puis supprimées$"))).to_be_visible()
    commune.check("demande-detail")

    # 30 days later (the order's purge date moved to the past in the stack's DynamoDB), the stack's scheduled purge
    # deletes its photos and cards: the order says so, the officials wait for a new photo, with the reason.
    order_id = re.search(r"id=([^&]+)", page.url).group(1)
    siren, _, key = order_id.partition("-")
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.state["aws_url"], region_name="eu-west-3",
                            aws_access_key_id="local", aws_secret_access_key="local")
    dynamodb.update_item(TableName="carteselus-local-orders", Key={"siren": {"S": siren}, "order_id": {"S": key}},
                         UpdateExpression="SET purge_after = :past",
                         ExpressionAttributeValues={":past": {"S": "2026-01-01T00:00:00.000000+0000"}})
    for _ in range(30):
        page.reload()
        if page.get_by_text(re.compile(r"^Supprimées le ")).count():
            break
        page.wait_for_timeout(1000)
    expect(page.get_by_role("definition").filter(has_text=re.compile(r"^Supprimées le "))).to_be_visible()
    cards = page.get_by_role("table", name="Cartes de la demande")
    expect(cards.get_by_text("Supprimée", exact=True)).to_have_count(2)
    expect(cards.get_by_role("link")).to_have_count(0)
    commune.check("demande-photos-supprimees")
    page.goto("/elus.html")
    expect(page.get_by_text(re.compile("La photo a été supprimée 30 jours après la clôture"))).to_have_count(2)
    commune.check("elus-photos-supprimees")
