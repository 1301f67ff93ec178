"""The second factor and « Mes sessions » in a real browser, on the local stack: a new préfecture account cannot
reach the back office before enrolling (QR code, code, recovery codes shown once), a session ended from the list
stops working at once, and the card maker ends an operator's sessions."""
import re
from pathlib import Path

import requests
from playwright.sync_api import expect

from tests.e2e.browser import Outbox, browser, enter_code, link_in, site  # noqa: F401 (fixtures)
from tests.helpers import otp

PASSWORD = "des montagnes bleues au lever du jour 74"


def operator_session(api: str, account: dict, user_agent: str = "script-de-test/1.0") -> str:
    answer = requests.post(api + "/sessions", timeout=30, headers={"User-Agent": user_agent},
                           json={"email": account["email"], "password": account["password"],
                                 "otp": otp(account["totp_secret"])})
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def test_a_new_prefecture_account_enrols_before_reaching_the_back_office(site, stack):
    api = stack.state["api_url"]
    maker = operator_session(api, stack.state["operators"]["manufacturer"])
    email = "guichet@haute-savoie.e2e.example.fr"
    outbox = Outbox(stack.state["outbox_dir"])
    seen = outbox.seen()
    created = requests.post(api + "/admin/operators", timeout=30, headers={"Authorization": f"Bearer {maker}"},
                            json={"email": email, "first_name": "Sam", "last_name": "Savoie", "role": "prefecture",
                                  "department_code": "74"})
    assert created.status_code == 201, created.text
    token = link_in(outbox.wait_for(email, seen)).split("token=")[1]
    assert requests.post(api + "/password", json={"token": token, "password": PASSWORD}, timeout=30).status_code == 204

    person = site("double-authentification")
    page = person.open("/connexion.html?retour=prefecture-cartes.html")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(re.compile(r"/double-authentification\.html$"))
    expect(page.get_by_role("img", name="QR code à scanner avec votre application d'authentification")).to_be_visible()
    person.check("enrolement")
    # The back office is closed to this session until the code confirms the second factor.
    session = page.evaluate("() => JSON.parse(sessionStorage.getItem('carteselus.session'))")
    refused = requests.get(api + "/admin/orders", headers={"Authorization": f"Bearer {session['token']}"}, timeout=30)
    assert refused.status_code == 403 and refused.json()["code"] == "second_factor_required"
    page.goto("/prefecture.html")
    expect(page).to_have_url(re.compile(r"/double-authentification\.html$"))

    # (the page prepared a new secret when it was opened again: the last one shown is the one to enter)
    expect(page.locator("#secret")).to_have_text(re.compile(r"^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$"))
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("2. Code affiché par l'application").fill("000000")
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_label("2. Code affiché par l'application")).to_have_accessible_description(
        re.compile("Ce code n'est pas valide"))
    page.get_by_label("2. Code affiché par l'application").fill(otp(secret))
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("heading", name="Double authentification activée")).to_be_visible()
    codes = page.locator("#codes-secours li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code) for code in codes)
    person.check("codes-de-secours")
    page.get_by_role("link", name="J'ai conservé mes codes, continuer").click()
    expect(page.get_by_role("heading", name="Espace préfecture")).to_be_visible()

    # The next sign-in asks for the code; a recovery code does too, once.
    other = site("double-authentification-code")
    page = other.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_label("Code de double authentification")).to_be_visible()
    other.check("code-demande")
    page.get_by_label("Code de double authentification").fill(codes[0])
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(re.compile(r"/prefecture\.html$"))


def test_a_session_ended_from_the_list_stops_working_at_once(site, stack):
    api = stack.state["api_url"]
    operator = stack.state["operators"]["prefecture"]
    laptop = operator_session(api, operator, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Gecko/20100101 Firefox/133.0")
    headers = {"Authorization": f"Bearer {laptop}"}
    assert requests.get(api + "/admin/orders", headers=headers, timeout=30).status_code == 200

    person = site("mes-sessions-fermer")
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(operator["email"])
    page.get_by_label("Mot de passe", exact=True).fill(operator["password"])
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, operator["totp_secret"])
    expect(page.get_by_role("heading", name="Espace préfecture")).to_be_visible()
    page.get_by_role("link", name="Mes sessions").first.click()
    table = page.get_by_role("table", name="Mes sessions ouvertes")
    row = table.get_by_role("row").filter(has_text="Firefox sous macOS")
    expect(row).to_have_count(1)
    expect(table.get_by_role("row").filter(has_text="(cet appareil)")).to_have_count(1)
    person.check("mes-sessions-liste")
    row.first.get_by_role("button", name="Fermer cette session").click()
    expect(page.get_by_role("heading", name="Session fermée")).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="Firefox sous macOS")).to_have_count(0)
    ended = requests.get(api + "/admin/orders", headers=headers, timeout=30)
    assert ended.status_code == 401 and ended.json()["code"] == "unauthenticated"
    person.check("session-fermee")


def test_the_card_maker_ends_an_operator_s_sessions(site, stack):
    api = stack.state["api_url"]
    prefecture = stack.state["operators"]["prefecture"]
    desk = operator_session(api, prefecture)
    maker = stack.state["operators"]["manufacturer"]
    person = site("fermer-sessions-operateur")
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(maker["email"])
    page.get_by_label("Mot de passe", exact=True).fill(maker["password"])
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, maker["totp_secret"])
    expect(page).to_have_url(re.compile(r"/fabricant\.html$"))
    panel = page.get_by_role("region", name="Fermer les sessions d'un opérateur")
    panel.get_by_label("Adresse électronique de l'opérateur").fill("personne@exemple.fr")
    panel.get_by_role("button", name="Fermer ses sessions").click()
    expect(panel.get_by_label("Adresse électronique de l'opérateur")).to_have_accessible_description(
        re.compile("Aucun compte d'opérateur"))
    panel.get_by_label("Adresse électronique de l'opérateur").fill(prefecture["email"])
    panel.get_by_role("button", name="Fermer ses sessions").click()
    expect(panel.get_by_role("heading", name="Sessions fermées")).to_be_visible()
    person.check("sessions-operateur-fermees")
    assert requests.get(api + "/me", headers={"Authorization": f"Bearer {desk}"}, timeout=30).status_code == 401
    assert Path(stack.state["outbox_dir"]).exists()
