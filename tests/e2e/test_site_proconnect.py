"""« S'identifier avec ProConnect » on the local stack, against its OpenID Connect provider (local/oidc_provider.py):
in a real browser from the button to the commune's space and back out of both sessions, and over HTTP for the
refusals (another commune's SIRET, an unregistered commune, a replayed state, a code of another flow whose ID token
carries another nonce). The tampered and foreign-signed ID tokens are refused in tests/integration/test_proconnect.py
(a provider of the test's own spoils them); the local provider signs correctly."""
import re
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from playwright.sync_api import expect

from tests.e2e.browser import browser, site  # noqa: F401 (fixtures)

SESSION_KEY = "carteselus.session"


def session_in(page):
    return page.evaluate(f"() => JSON.parse(sessionStorage.getItem('{SESSION_KEY}'))")


def sign_in_with_proconnect(person, identity: str):
    page = person.open("/connexion.html")
    page.get_by_role("button", name="S’identifier avec ProConnect").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_role("button", name=identity, exact=True).click()
    return page


def test_the_demo_commune_s_agent_signs_in_with_proconnect_and_out_of_both(site, stack):
    person = site("proconnect")
    page = person.open("/connexion.html")
    expect(page.get_by_role("button", name="S’identifier avec ProConnect")).to_be_visible()
    person.check("connexion-proconnect")
    page = sign_in_with_proconnect(person, "agent-oyonnax")
    expect(page).to_have_url(re.compile(r"/tableau-de-bord\.html$"))
    expect(page.get_by_role("heading", name="Mairie d'Oyonnax")).to_be_visible()
    assert "code=" not in page.url and "state=" not in page.url
    person.check("espace-commune-proconnect")
    token = session_in(page)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = requests.get(stack.state["api_url"] + "/me", headers=headers, timeout=30).json()
    assert me["email"] == "secretariat@mairie-oyonnax.example.fr" and me["commune"]["name"] == "Oyonnax"

    # « Mes sessions » lists this one, opened with ProConnect.
    page.get_by_role("link", name="Mes sessions").first.click()
    expect(page).to_have_url(re.compile(r"/sessions\.html$"))
    table = page.get_by_role("table", name="Mes sessions ouvertes")
    expect(table.get_by_role("cell", name=re.compile(r"\(cet appareil\) — ProConnect$"))).to_be_visible()
    person.check("mes-sessions")

    # « Se déconnecter » ends the portal's session, then ProConnect's (its end-of-session page), and comes back.
    page.get_by_role("button", name="Se déconnecter").first.click()
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    assert "id_token_hint=" in page.url
    assert requests.get(stack.state["api_url"] + "/me", headers=headers, timeout=30).status_code == 401
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(re.compile(r"/connexion\.html\?deconnexion=proconnect"))
    expect(page.get_by_text("Vous êtes déconnecté du portail et de ProConnect.")).to_be_visible()
    assert session_in(page) is None


def test_an_identity_of_another_commune_or_an_unregistered_one_is_refused_in_french(site, stack):
    person = site("proconnect-refus")
    page = sign_in_with_proconnect(person, "agent-autre-commune")
    expect(page).to_have_url(re.compile(r"/proconnect\.html$"))
    alert = page.locator("#alerte-proconnect")
    expect(alert.get_by_role("heading", name="Connexion refusée")).to_be_visible()
    expect(alert).to_contain_text("rattaché à une autre commune")
    assert session_in(page) is None
    person.check("proconnect-autre-commune")

    page = sign_in_with_proconnect(person, "agent-bourg-en-bresse")
    expect(alert).to_contain_text("La commune Bourg-en-Bresse n'est pas encore inscrite au portail")
    expect(alert).to_contain_text("Démarrer l'inscription")
    assert session_in(page) is None
    page.get_by_role("link", name="Retour à la page de connexion").click()
    expect(page).to_have_url(re.compile(r"/connexion\.html$"))


def provider_callback(authorization_url: str, identity: str) -> dict:
    """What the browser does at the local provider: choose the identity; the query it is sent back with."""
    answer = requests.post(authorization_url, data={"sub": identity}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    location = urlparse(answer.headers["Location"])
    assert location.path.endswith("/proconnect.html")
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_over_http_a_replayed_state_and_another_flow_s_nonce_open_no_session(stack):
    api = stack.state["api_url"]

    def authorize():
        return requests.post(api + "/proconnect/authorize", json={}, timeout=30).json()["authorization_url"]

    query = provider_callback(authorize(), "agent-oyonnax")
    first = requests.post(api + "/proconnect/sessions", json=query, timeout=30)
    assert first.status_code == 201 and first.json()["role"] == "commune" and first.json()["proconnect"] is True
    replayed = requests.post(api + "/proconnect/sessions", json=query, timeout=30)
    assert replayed.status_code == 400 and replayed.json()["code"] == "invalid_state"
    assert replayed.json()["message"].startswith("Cette connexion avec ProConnect a expiré ou a déjà servi")

    # A code obtained for one flow, brought back with another flow's state: this provider does not check PKCE, so it
    # hands over an ID token, whose nonce is the first flow's: refused.
    mine, other = authorize(), authorize()
    other_state = parse_qs(urlparse(other).query)["state"][0]
    parts = urlparse(mine)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"state": other_state}
    injected = provider_callback(parts._replace(query=urlencode(params)).geturl(), "agent-oyonnax")
    refused = requests.post(api + "/proconnect/sessions", json=injected, timeout=30)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_nonce"
    assert "aucune session n'a été ouverte" in refused.json()["message"]

    other_commune = requests.post(api + "/proconnect/sessions", timeout=30,
                                  json=provider_callback(authorize(), "agent-autre-commune"))
    assert other_commune.status_code == 403 and other_commune.json()["code"] == "other_commune"
    prefecture = requests.post(api + "/proconnect/sessions", timeout=30,
                               json=provider_callback(authorize(), "agent-prefecture-ain"))
    assert prefecture.status_code == 401 and prefecture.json()["code"] == "otp_required"  # then its code
    from tests.helpers import otp

    secret = stack.state["operators"]["prefecture"]["totp_secret"]
    desk = requests.post(api + "/proconnect/sessions/second-factor", timeout=30,
                         json={"ticket": prefecture.json()["details"]["ticket"], "otp": otp(secret)})
    assert desk.status_code == 201 and desk.json()["role"] == "prefecture"
    assert stack.state["oidc_provider"]["url"].startswith("http://127.0.0.1:")
