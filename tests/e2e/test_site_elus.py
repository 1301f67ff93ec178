"""« Enregistrer les élus de ma commune » in the browser, as the user guide (5/) tells it: the wizard, the framing of the
photo (also by keyboard, and with a photo a phone stored sideways), the refused file, the list « ELUS »."""
import io
import json
import re
import time
from pathlib import Path

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.browser import Outbox, browser, choose_file, link_in, portrait_jpeg, site  # noqa: F401 (fixtures)
from tests.unit import photo_corpus as corpus

EMAIL = "etat-civil@mairie-bourg-en-bresse.fr"
PASSWORD = "le clocher de Brou sous la pluie"


@pytest.fixture(scope="module")
def commune(stack):
    """The demo commune, registered with a password (the registration itself is tested in test_site_commune.py)."""
    api, demo = stack.state["api_url"], stack.state["demo"]
    answer = requests.post(api + "/registrations", timeout=30, json={
        "siren": demo["siren"], "activation_code": demo["activation_code"], "last_name": "Roche",
        "first_name": "Maëlle", "email": EMAIL})
    assert answer.status_code == 201, answer.text
    token = link_in(Outbox(stack.state["outbox_dir"]).wait_for(EMAIL)).rsplit("=", 1)[1]
    answer = requests.post(api + "/password", timeout=30, json={"token": token, "password": PASSWORD})
    assert answer.status_code == 204, answer.text
    return {"email": EMAIL, "password": PASSWORD}


def log_in(person, email, password):
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(re.compile(r"/tableau-de-bord\.html$"))
    return page


def colour_at(image: Image.Image, fx: float, fy: float) -> tuple[int, int, int]:
    return image.convert("RGB").getpixel((int(image.width * fx), int(image.height * fy)))


def near(colour, expected, tolerance=60):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def test_an_official_is_registered_with_a_sideways_phone_photo_framed_by_keyboard(site, commune, tmp_path):
    person = site("elu")
    page = log_in(person, commune["email"], commune["password"])

    # « Dans le menu en haut à gauche, cliquer sur « ELUS » »: the list is empty, « Enregistrer un élu ».
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="ELUS").click()
    expect(page.get_by_role("heading", name="Élus de la commune", level=1)).to_be_visible()
    expect(page.get_by_text("Aucun élu n'est encore enregistré.")).to_be_visible()
    person.check("liste-vide")
    page.get_by_role("link", name="Enregistrer un élu").click()

    # 1. « rechercher un élu »: the search ignores accents; a councillor without card cannot be chosen.
    expect(page.get_by_text("Étape 1 sur 3")).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("^PERRIN Yannick"))).to_be_disabled()
    person.check("etape-1-recherche")
    page.get_by_label("Rechercher un élu").fill("gaelle")
    expect(page.get_by_role("radio")).to_have_count(1)
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_role("heading", name="Aucun élu n'est sélectionné")).to_be_visible()  # nothing chosen yet
    page.get_by_role("radio", name=re.compile("^FONTAINE Gaëlle")).check(force=True)
    page.get_by_role("button", name="Suivant").click()

    # 2. The function, feminised: « Adjointe au maire ».
    expect(page.get_by_text("Étape 2 sur 3")).to_be_visible()
    expect(page.get_by_role("radio", name="Adjointe au maire")).to_be_checked()
    person.check("etape-2-fonction")
    page.get_by_role("button", name="Suivant").click()

    # 3. « Ajouter », « Parcourir »: a photo stored sideways by a phone (EXIF orientation 6) shows upright, and the
    # frame is in pixels of the upright photo (700 x 900): the default frame covers 90 % of it.
    expect(page.get_by_text("Étape 3 sur 3")).to_be_visible()
    expect(page.get_by_text("Gaëlle FONTAINE est enregistrée comme adjointe au maire.")).to_be_visible()
    page.get_by_role("button", name="Ajouter", exact=True).click()
    sideways = tmp_path / "portrait-telephone.jpg"
    sideways.write_bytes(corpus.oriented_pattern_jpeg(6))
    choose_file(page, "Parcourir", sideways)
    frame = page.locator("#cadrage-etat")
    expect(frame).to_have_text(re.compile(r"630 × 810 pixels"))
    person.check("etape-3-cadrage")

    # The frame by keyboard only: into the photo area, « - » makes it smaller, the arrows move it; then « Terminer ».
    area = page.get_by_role("group", name="Cadrage de la photo")
    area.focus()
    page.keyboard.press("-")
    expect(frame).to_have_text(re.compile(r"57[23] × 73[67] pixels"))
    before = frame.inner_text()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft")
    expect(frame).not_to_have_text(before)
    for _ in range(5):
        page.keyboard.press("-")  # never under 413 x 531 pixels: no enlargement at print
    expect(frame).to_have_text(re.compile(r"41[3-9] × 53[1-9] pixels"))
    terminer = page.get_by_role("button", name="Terminer")
    for _ in range(15):
        page.keyboard.press("Tab")
        if terminer.evaluate("button => button === document.activeElement"):
            break
    expect(terminer).to_be_focused()
    page.keyboard.press("Enter")

    # The photo is kept, but the photo assistant finds no face in it: the page says so, the order will be refused.
    expect(page.get_by_role("heading", name="La photo de Gaëlle FONTAINE ne permet pas de commander sa carte")
           ).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Aucun visage n'a été détecté dans le cadrage de la photo.")).to_be_visible()
    photo = page.get_by_role("img", name="Photo d'identité de Gaëlle FONTAINE")
    expect(photo).to_be_visible()
    expect(page.get_by_role("img", name="Aperçu de la carte de Gaëlle FONTAINE, Adjointe au maire")).to_be_visible()
    # The ID photo as the page shows it is upright: red on top, blue bottom left, green bottom right.
    shown = Image.open(io.BytesIO(photo.screenshot()))
    assert near(colour_at(shown, 0.5, 0.15), corpus.TOP)
    assert near(colour_at(shown, 0.25, 0.9), corpus.BOTTOM_LEFT)
    assert near(colour_at(shown, 0.75, 0.9), corpus.BOTTOM_RIGHT)
    person.check("photo-sans-visage")

    # The list « ELUS »: the photo and the card preview, the verdict.
    page.get_by_role("link", name="Voir la liste des élus").click()
    row = page.get_by_role("row", name=re.compile("FONTAINE Gaëlle"))
    expect(row.get_by_text("Photo non conforme")).to_be_visible()
    expect(row.get_by_text("Aucun visage n'a été détecté")).to_be_visible()
    expect(row.get_by_role("cell", name="Adjointe au maire", exact=True)).to_be_visible()
    expect(row.get_by_role("img", name="Aperçu de la carte de Gaëlle FONTAINE")).to_be_visible()
    person.check("liste")


def test_files_the_service_would_refuse_never_leave_and_a_portrait_is_right_the_first_time(site, commune, stack,
                                                                                              tmp_path):
    person = site("elu-photo-refusee")
    page = log_in(person, commune["email"], commune["password"])
    page.get_by_role("region", name="Accès rapide").get_by_role("link", name="Enregistrer un élu").click()
    page.get_by_label("Rechercher un élu").fill("giraud")
    expect(page.get_by_role("radio")).to_have_count(1)
    page.get_by_role("radio", name=re.compile("^GIRAUD Loïc")).check(force=True)
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_role("radio", name="Adjoint au maire")).to_be_checked()
    page.get_by_role("button", name="Suivant").click()
    page.get_by_role("button", name="Ajouter", exact=True).click()
    sent = []  # from here, every POST the page makes (to the API or to S3)
    page.on("request", lambda request: sent.append(
        (request.url, request.post_data if "photo-uploads" in request.url else None))
        if request.method == "POST" else None)

    # A PNG named .jpg: refused as soon as it is chosen, in the image function's words; nothing is sent.
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(corpus.png_named_jpg())
    choose_file(page, "Parcourir", fake)
    expect(page.get_by_text("Fichier choisi : photo.jpg")).to_be_visible()
    expect(page.get_by_role("heading", name="La photo ne convient pas")).to_be_visible()
    browse = page.get_by_role("button", name="Parcourir")
    expect(browse).to_have_accessible_description(re.compile("Le fichier n'est pas une image JPEG."))
    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_role("heading", name="Aucune photo n'est choisie")).to_be_visible()
    person.check("photo-png-refusee")

    # A JPEG of 300 x 400 pixels: refused before sending, with the size the service would give.
    small = tmp_path / "petite.jpg"
    small.write_bytes(portrait_jpeg(canvas=(300, 400), head=260))
    choose_file(page, "Parcourir", small)
    expect(browse).to_have_accessible_description(re.compile(
        r"La photo est trop petite \(300 x 400 pixels\) : elle doit mesurer au moins 413 x 531 pixels\."))
    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_role("heading", name="La photo ne convient pas")).to_be_visible()
    expect(page.locator("#envoi")).to_be_hidden()
    person.check("photo-trop-petite")
    assert sent == [], sent

    # « Choisir un autre fichier »: a portrait, finished without touching the frame: the photo assistant frames it
    # and it is accepted the first time.
    page.get_by_role("link", name="Choisir un autre fichier avec « Parcourir »").click()
    expect(browse).to_be_focused()
    good = tmp_path / "portrait.jpg"
    good.write_bytes(portrait_jpeg(canvas=(1200, 1000), head=420))  # off the norm's shape: the frame must be chosen
    choose_file(page, "Parcourir", good)
    expect(page.get_by_role("heading", name="La photo ne convient pas")).to_be_hidden()
    page.get_by_role("button", name="Terminer").click()
    expect(page.get_by_role("heading", name="La photo de Loïc GIRAUD est enregistrée")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("img", name="Aperçu de la carte de Loïc GIRAUD, Adjoint au maire")).to_be_visible()
    [body] = [b for u, b in sent if "photo-uploads" in u]
    assert json.loads(body or "{}") == {}, body  # no crop: the assistant's framing
    person.check("photo-acceptee-du-premier-coup")

    # A replacement sent from elsewhere (another agent's PNG) is refused: the photo in use keeps its label.
    api = stack.state["api_url"]
    token = requests.post(f"{api}/sessions", json={"email": commune["email"], "password": commune["password"]},
                          timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    listed = requests.get(f"{api}/officials", headers=headers, timeout=30).json()["items"]
    official_id = next(o["id"] for o in listed if o["last_name"] == "GIRAUD")
    upload = requests.post(f"{api}/officials/{official_id}/photo-uploads", json={}, headers=headers, timeout=30)
    assert upload.status_code == 201, upload.text
    upload = upload.json()
    requests.post(upload["url"], data=upload["fields"], files={"file": ("photo.jpg", corpus.png_named_jpg())},
                  timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and requests.get(f"{api}/officials/{official_id}", headers=headers,
                                                       timeout=30).json()["photo"]["status"] != "rejected":
        time.sleep(0.3)
    page.get_by_role("link", name="Voir la liste des élus").click()
    row = page.get_by_role("row", name=re.compile("GIRAUD Loïc"))
    expect(row.get_by_text("Photo prête")).to_be_visible()
    expect(row.get_by_text("Photo refusée", exact=True)).to_have_count(0)
    expect(row.get_by_text(re.compile(r"^Nouvelle photo refusée\s:\sLe fichier n'est pas une image JPEG\. La photo en "
                                      r"place est conservée\.$"))).to_be_visible()
    person.check("remplacement-refuse")

    # He is removed from the list, after a confirmation.
    expect(page.get_by_role("row", name=re.compile("GIRAUD Loïc"))).to_be_visible()
    page.get_by_role("button", name="Supprimer Loïc GIRAUD").click()
    # Before confirming, the commune downloads what the portal holds about him (the right of access).
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger ses données (Loïc GIRAUD, fichier JSON)").click()
    assert download.value.suggested_filename == "donnees-elu-giraud-loic.json"
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert (exported["official"]["last_name"], exported["official"]["first_name"]) == ("GIRAUD", "Loïc")
    # Not the original upload: it is kept only for re-crops (api/views.official_export).
    assert set(exported["photo_files"]) == {"photo", "card_preview"} and exported["directory_rows"]
    expect(page.get_by_role("heading", name="Données téléchargées")).to_be_visible()
    page.get_by_role("button", name="Confirmer la suppression de Loïc GIRAUD").click()
    expect(page.get_by_role("heading", name="Élu supprimé")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("GIRAUD Loïc"))).to_have_count(0)
    person.check("elu-supprime")
