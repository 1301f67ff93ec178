"""The card registry on the running local stack (issue 19): over HTTP, an order of three cards handed over in the two
modes, a loss and its replacement, a card replaced on a change of function, returned and destroyed; in the browser,
the town hall declares a theft from « Cartes », the préfecture hands a card over to a representative and attaches the
signed receipt. One stack for the module; the town hall is Bourg-en-Bresse (the demo's code)."""
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.browser import enter_code, browser, site  # noqa: F401 (fixtures)
from tests.e2e.test_local_stack import read_link_token
from tests.e2e.test_local_stack_officials import Api, wait_for
from tests.unit import photo_corpus as corpus

PASSWORD = "le monastère royal de Brou"
EMAIL = "cartes@mairie-bourg-en-bresse.fr"
REPRESENTATIVE = {"last_name": "Lefèvre", "first_name": "Chantal", "quality": "secrétaire générale de mairie"}


@pytest.fixture(scope="module")
def people(stack):
    state = stack.state
    demo = state["demo"]
    agent = Api(state["api_url"])
    agent("POST", "/registrations", 201, json={"siren": demo["siren"], "activation_code": demo["activation_code"],
                                               "last_name": "Bernard", "first_name": "Lucie", "email": EMAIL})
    agent("POST", "/password", 204, json={"token": read_link_token(Path(state["outbox_dir"]), EMAIL),
                                          "password": PASSWORD})
    agent.log_in(EMAIL, PASSWORD)
    manufacturer = Api(state["api_url"])
    manufacturer.log_in_as(state["operators"]["manufacturer"])
    prefecture = Api(state["api_url"])
    prefecture.log_in_as(state["operators"]["prefecture"])
    directory = {e["last_name"]: e for e in agent("GET", "/directory", 200)["items"]}
    return {"agent": agent, "manufacturer": manufacturer, "prefecture": prefecture, "directory": directory,
            "state": state}


def ready_official(people, name: str, function: str = "adjoint") -> str:
    agent = people["agent"]
    official = agent("POST", "/officials", 201, json={"directory_id": people["directory"][name]["id"],
                                                      "function": function})
    upload = agent("POST", f"/officials/{official['id']}/photo-uploads", 201, json={"crop": corpus.full_crop((700, 900))})
    requests.post(upload["url"], data=upload["fields"],
                  files={"file": ("photo.jpg", corpus.portrait_jpeg((700, 900)), "image/jpeg")}, timeout=60)
    wait_for(lambda: agent("GET", f"/officials/{official['id']}", 200)["preview"]["status"] == "ready")
    return official["id"]


def delivered(people, body: dict) -> dict:
    """Ordered, submitted, produced, shipped and received at the préfecture of the Ain."""
    order = people["agent"]("POST", "/orders", 201, json=body)
    people["agent"]("POST", f"/orders/{order['id']}/submit", 200, json={"preview_acknowledged": True})
    for actor, to in (("manufacturer", "en_production"), ("manufacturer", "en_livraison"), ("prefecture", "livree")):
        order = people[actor]("POST", f"/admin/orders/{order['id']}/transitions", 200, json={"to": to})
    return order


def test_the_registry_over_http(people):
    agent, prefecture, manufacturer = people["agent"], people["prefecture"], people["manufacturer"]
    ids = [ready_official(people, "MARCHAND", "maire"), ready_official(people, "GIRAUD"),
           ready_official(people, "FONTAINE")]
    order = delivered(people, {"official_ids": ids})
    mayor, deputy, other = (c["card_number"] for c in order["cards"])

    # Three cards handed over in two goes, in the two modes: « Remise partielle » until the third.
    handed = prefecture("POST", f"/admin/cards/{mayor}/hand-over", 200, json={"mode": "titulaire"})
    assert handed["status"] == "remise" and handed["hand_over"]["representative"] is None
    assert agent("GET", f"/orders/{order['id']}", 200)["status_label"] == "Remise partielle"
    prefecture.log_in_as(people["state"]["operators"]["prefecture"])  # another day, another session
    for number in (deputy, other):
        assert agent("GET", f"/orders/{order['id']}", 200)["status"] == "remise_partielle"
        prefecture("POST", f"/admin/cards/{number}/hand-over", 200,
                   json={"mode": "representant", "representative": REPRESENTATIVE})
    assert agent("GET", f"/orders/{order['id']}", 200)["status"] == "remise"
    again = prefecture("POST", f"/admin/cards/{other}/hand-over", 409, json={"mode": "titulaire"})
    assert again["code"] == "already_handed_over"
    assert prefecture("POST", "/admin/cards/2026-9999999/hand-over", 404, json={"mode": "titulaire"})["code"] == \
        "not_found"
    in_use = prefecture("POST", f"/admin/cards/{mayor}/destroy", 409, json={})
    assert in_use["code"] == "card_in_use"
    assert prefecture("GET", f"/admin/cards/{mayor}", 200)["status"] == "remise"  # nothing changed

    # A loss declared by the town hall, a replacement with the reason « perte »; the lost card stays lost.
    refused = agent("POST", "/orders", 409, json={"official_ids": [ids[0]]})
    assert refused["code"] == "card_already_issued" and mayor in refused["message"]
    lost = agent("POST", f"/cards/{mayor}/declarations", 201,
                 json={"kind": "perte", "date": (date.today() - timedelta(days=2)).isoformat(),
                       "circumstances": "Perdue lors de la foire"})
    assert lost["status"] == "perdue"
    replacement = delivered(people, {"cards": [{"official_id": ids[0], "reason": "perte"}]})
    assert replacement["cards"][0]["replaces"] == mayor
    assert prefecture("POST", f"/admin/cards/{mayor}/hand-over", 409, json={"mode": "titulaire"})["code"] == \
        "card_declared"
    assert prefecture("GET", f"/admin/cards/{mayor}", 200)["status"] == "perdue"

    # A change of function: refused without a reason, accepted with it; the old card is to be returned, then is.
    assert agent("POST", "/orders", 409, json={"official_ids": [ids[1]]})["code"] == "card_already_issued"
    changed = agent("POST", "/orders", 201, json={"cards": [{"official_id": ids[1],
                                                             "reason": "changement_de_fonction"}]})
    assert changed["cards"][0]["reason_label"] == "Changement de fonction"
    assert prefecture("GET", f"/admin/cards/{deputy}", 200)["status"] == "a_restituer"
    assert [c["number"] for c in prefecture("GET", "/admin/cards-to-return", 200)["items"]] == [deputy]
    assert [c["number"] for c in agent("GET", "/cards?status=a_restituer", 200)["items"]] == [deputy]
    assert prefecture("POST", f"/admin/cards/{deputy}/return", 200, json={})["status"] == "restituee"
    assert prefecture("POST", f"/admin/cards/{deputy}/destroy", 200, json={})["status"] == "detruite"

    # The card maker sees every card; the préfecture of Haute-Savoie neither sees nor moves one of the Ain (404).
    assert manufacturer("GET", f"/admin/cards?number={other}", 200)["items"][0]["status"] == "remise"
    savoie_email = "guichet@haute-savoie.example.fr"
    manufacturer("POST", "/admin/operators", 201, json={"email": savoie_email, "first_name": "Paul",
                                                        "last_name": "Guichet", "role": "prefecture",
                                                        "department_code": "74"})
    savoie = Api(people["state"]["api_url"])
    savoie("POST", "/password", 204, json={"token": read_link_token(Path(people["state"]["outbox_dir"]), savoie_email),
                                           "password": "le lac d'Annecy au petit matin"})
    savoie.log_in(savoie_email, "le lac d'Annecy au petit matin")
    savoie.enrol_second_factor()  # a new préfecture account enrols its second factor first
    assert savoie("GET", f"/admin/cards/{other}", 404)["code"] == "not_found"
    assert savoie("GET", f"/admin/cards?number={other}", 200)["items"] == []
    assert savoie("POST", f"/admin/cards/{other}/return", 404, json={})["code"] == "not_found"
    assert prefecture("GET", f"/admin/cards/{other}", 200)["status"] == "remise"


def test_the_town_hall_declares_a_theft_from_its_cards_page(people, site):
    official = ready_official(people, "N'DIAYE")
    order = delivered(people, {"official_ids": [official]})
    number = order["cards"][0]["card_number"]
    people["prefecture"]("POST", f"/admin/cards/{number}/hand-over", 200, json={"mode": "titulaire"})

    person = site("cartes-mairie")
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(re.compile(r"/tableau-de-bord\.html$"))
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Cartes").click()
    row = page.get_by_role("row", name=re.compile(number))
    expect(row.get_by_text("Remise", exact=True)).to_be_visible()
    person.check("cartes")
    row.get_by_role("button", name=f"Déclarer une perte ou un vol\u00a0: carte n°\u00a0{number} de Moussa N'DIAYE").click()
    page.get_by_role("radio", name="Vol").check(force=True)
    page.get_by_label("Date de la perte ou du vol").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_label("Circonstances").fill("Sac volé dans le train")
    # A theft without the police report's reference is refused in the page, with the server's words.
    page.get_by_role("button", name="Enregistrer la déclaration").click()
    expect(page.get_by_text("Indiquez la référence du dépôt de plainte (obligatoire pour un vol).").first).to_be_visible()
    person.check("declaration-sans-plainte")
    page.get_by_label("Référence du dépôt de plainte").fill("PV 2026/0412")
    page.get_by_role("button", name="Enregistrer la déclaration").click()
    expect(page.get_by_role("heading", name=f"Carte n°\u00a0{number} déclarée volée")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(number)).get_by_text("Volée", exact=True)).to_be_visible()
    person.check("carte-volee")
    card = people["prefecture"]("GET", f"/admin/cards/{number}", 200)
    assert card["status"] == "volee" and card["declaration"]["police_report"] == "PV 2026/0412"


def test_the_prefecture_hands_a_card_over_to_a_representative_and_attaches_the_signed_receipt(people, site, tmp_path):
    official = ready_official(people, "LE GALL-KERVELLA")
    order = delivered(people, {"official_ids": [official]})
    number = order["cards"][0]["card_number"]
    operator = people["state"]["operators"]["prefecture"]

    person = site("registre-prefecture")
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(operator["email"])
    page.get_by_label("Mot de passe", exact=True).fill(operator["password"])
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, operator["totp_secret"])
    expect(page).to_have_url(re.compile(r"/prefecture\.html$"))
    page.get_by_role("link", name=re.compile("^Registre des cartes")).first.click()
    page.get_by_label("Numéro de la carte").fill(number)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name=f"Carte n°\u00a0{number}")).to_be_visible()
    person.check("carte-livree")
    page.get_by_role("radio", name=re.compile("^À un représentant de la mairie")).check(force=True)
    page.get_by_label("Nom du représentant", exact=True).fill(REPRESENTATIVE["last_name"])
    page.get_by_label("Prénom du représentant").fill(REPRESENTATIVE["first_name"])
    page.get_by_label(re.compile("^Qualité")).fill(REPRESENTATIVE["quality"])
    page.get_by_role("button", name="Enregistrer la remise").click()
    dialog = page.get_by_role("dialog", name="Enregistrer la remise")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(re.compile("Chantal Lefèvre \\(secrétaire générale de mairie\\)"))).to_be_visible()
    person.check("confirmation-remise")
    dialog.get_by_role("button", name="Enregistrer la remise").click()
    expect(dialog).to_be_hidden()  # closed, not fading out, when axe looks at the page
    expect(page.get_by_role("heading", name=f"Carte remise\u00a0: carte n°\u00a0{number}")).to_be_visible()
    expect(page.get_by_text("Remise le", exact=False).first).to_be_visible()
    person.check("carte-remise")
    # The signed receipt: a PNG is refused before any upload; the PDF scan is kept with the card.
    png = tmp_path / "recu.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfaux")
    page.get_by_label("Joindre le récépissé signé").set_input_files(png)
    page.get_by_role("button", name="Envoyer le récépissé").click()
    expect(page.get_by_text("Le récépissé signé doit être un PDF ou une image JPEG.").first).to_be_visible()
    scan = tmp_path / "recepisse-signe.pdf"
    scan.write_bytes(b"%PDF-1.4\n% recepisse signe par Chantal Lefevre\n%%EOF\n")
    page.get_by_label("Joindre le récépissé signé").set_input_files(scan)
    page.get_by_role("button", name="Envoyer le récépissé").click()
    expect(page.get_by_role("heading", name="Récépissé joint")).to_be_visible()
    link = page.get_by_role("link", name="Voir le récépissé signé")
    expect(link).to_be_visible()
    assert requests.get(link.get_attribute("href"), timeout=30).content.startswith(b"%PDF-1.4")
    person.check("recepisse-joint")
    card = people["prefecture"]("GET", f"/admin/cards/{number}", 200)
    assert card["hand_over"]["representative"] == REPRESENTATIVE and card["receipt_url"]
    assert people["agent"]("GET", f"/orders/{order['id']}", 200)["status"] == "remise"



def confirm(page, name: str) -> None:
    """« name » again in the DSFR modal that asks before a move; it is closed (not fading out) afterwards."""
    dialog = page.get_by_role("dialog", name=name)
    dialog.get_by_role("button", name=name).click()
    expect(dialog).to_be_hidden()


def log_in_as(site, name: str, account: dict, home: str):
    person = site(name)
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(account["email"])
    page.get_by_label("Mot de passe", exact=True).fill(account["password"])
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, account.get("totp_secret"))
    expect(page).to_have_url(re.compile(rf"/{home}$"))
    return person, page


def test_the_card_maker_refuses_one_photo_and_the_prefecture_undoes_a_wrong_hand_over(people, site):
    ids = [ready_official(people, "BŒUF"), ready_official(people, "D'ARCY")]
    order = people["agent"]("POST", "/orders", 201, json={"official_ids": ids})
    people["agent"]("POST", f"/orders/{order['id']}/submit", 200, json={"preview_acknowledged": True})
    maker, page = log_in_as(site, "refus-photo", people["state"]["operators"]["manufacturer"], "fabricant.html")
    page.goto(f"/gestion-demande.html?id={order['id']}")
    page.get_by_role("button", name="Refuser la photo : François BŒUF").click()
    page.get_by_label("Motif du refus de la photo de François BŒUF").fill("visage flou")
    page.get_by_role("button", name="Refuser la photo", exact=True).click()
    dialog = page.get_by_role("dialog", name="Refuser la photo")
    expect(dialog.get_by_text(re.compile("les autres cartes continuent"))).to_be_visible()
    maker.check("confirmation-refus-photo")
    dialog.get_by_role("button", name="Refuser la photo").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Photo de François BŒUF refusée")).to_be_visible()
    expect(page.get_by_text("Photo refusée", exact=True)).to_be_visible()
    maker.check("photo-refusee")
    kept = people["manufacturer"]("GET", f"/admin/orders/{order['id']}", 200)
    assert kept["status"] == "en_preparation" and [c["official_id"] for c in kept["cards"] if "photo_rejected"
                                                   not in c] == [ids[1]]

    for actor, to in (("manufacturer", "en_production"), ("manufacturer", "en_livraison"), ("prefecture", "livree")):
        people[actor]("POST", f"/admin/orders/{order['id']}/transitions", 200, json={"to": to})
    number = people["prefecture"]("GET", f"/admin/orders/{order['id']}", 200)["cards"][1]["card_number"]
    desk, page = log_in_as(site, "annulation-remise", people["state"]["operators"]["prefecture"], "prefecture.html")
    page.goto(f"/prefecture-cartes.html?numero={number}")
    page.get_by_role("button", name="Enregistrer la remise").click()
    confirm(page, "Enregistrer la remise")
    expect(page.get_by_role("heading", name=f"Carte remise\u00a0: carte n°\u00a0{number}")).to_be_visible()
    page.get_by_role("button", name="Annuler « Remise »").click()
    confirm(page, "Annuler « Remise »")
    expect(page.get_by_role("heading", name=f"Opération annulée\u00a0: carte n°\u00a0{number}")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer la remise")).to_be_visible()
    desk.check("remise-annulee")
    assert people["agent"]("GET", f"/orders/{order['id']}", 200)["status"] == "livree"
