"""« S'identifier avec ProConnect » through the API, against a provider of the test's own (tests/oidc_stub.py) that
signs with its own key and can spoil its answers: the flow, the domain's authorisation of the identity, and every
refusal without a session (the real flow in a browser against the local stack's provider: tests/e2e/)."""
import pytest

from tests.helpers import OPERATOR_TOTP_SECRET, auth, create_operator, otp, other_commune_agent, post_json, \
    registered_agent
from tests.oidc_stub import CLIENT_ID, CLIENT_SECRET, OidcStub

BOURG_AGENT = "agent@mairie-bourg.fr"
BOURG_SIRET = "21010053300011"  # the demo commune of the tests (210100533), registered by `agent`
LYON_SIRET = "21690123100019"
OYONNAX_SIRET = "21010283600017"  # in the reference file, not registered in these tests
STATE_SIRET = "17010001400019"


@pytest.fixture
def provider(aws, monkeypatch):
    with OidcStub() as stub:
        monkeypatch.setenv("PROCONNECT_DISCOVERY_URL", stub.discovery_url)
        monkeypatch.setenv("PROCONNECT_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("PROCONNECT_CLIENT_SECRET", CLIENT_SECRET)
        from chalicelib.settings import get_settings

        get_settings.cache_clear()
        stub.identities["bourg"] = {"email": BOURG_AGENT, "given_name": "Camille", "usual_name": "Martin",
                                    "siret": BOURG_SIRET}
        yield stub
        get_settings.cache_clear()


@pytest.fixture
def agent(client, aws, operator):
    return registered_agent(client, aws, operator)


def sessions_of(email: str) -> int:
    from chalicelib.store.tables import Account, Token

    account = Account.get(email)
    return sum(1 for t in Token.by_account.query(account.account_id) if t.kind == "session")


def start(client) -> str:
    response = post_json(client, "/proconnect/authorize", {})
    assert response.status_code == 201, response.json_body
    return response.json_body["authorization_url"]


def finish(client, query: dict):
    return post_json(client, "/proconnect/sessions", query)


def sign_in(client, provider, sub: str):
    return finish(client, provider.authorize(start(client), sub))


def test_a_commune_agent_signs_in_the_identity_is_linked_and_the_state_serves_once(client, provider, agent):
    url = start(client)
    assert url.startswith(provider.url + "/authorize?")
    assert "redirect_uri=https%3A%2F%2Fsite.test%2Fproconnect.html" in url
    query = provider.authorize(url, "bourg")
    before = sessions_of(BOURG_AGENT)
    response = finish(client, query)
    assert response.status_code == 201, response.json_body
    assert response.json_body["role"] == "commune" and response.json_body["proconnect"] is True
    me = client.http.get("/me", headers=auth(response.json_body["token"])).json_body
    assert me["email"] == BOURG_AGENT and me["commune"]["siren"] == "210100533"
    assert sessions_of(BOURG_AGENT) == before + 1
    # PKCE: the provider got the verifier of the challenge (it refuses the code otherwise), and the client secret.
    assert provider.token_requests[-1]["code_verifier"] and provider.token_requests[-1]["client_secret"]
    from chalicelib.store.tables import Account

    assert Account.get(BOURG_AGENT).proconnect_sub == "bourg"

    replayed = finish(client, query)
    assert replayed.status_code == 400 and replayed.json_body["code"] == "invalid_state"
    assert "a déjà servi" in replayed.json_body["message"]
    forged = finish(client, {"code": query["code"], "state": "un-state-invente"})
    assert forged.status_code == 400 and forged.json_body["code"] == "invalid_state"
    assert sessions_of(BOURG_AGENT) == before + 1


@pytest.mark.parametrize("mode", ["tampered", "foreign_key", "expired", "other_audience"])
def test_an_id_token_that_does_not_hold_opens_no_session(client, provider, agent, mode):
    provider.id_token_mode = mode
    before = sessions_of(BOURG_AGENT)
    response = sign_in(client, provider, "bourg")
    assert response.status_code == 401 and response.json_body["code"] == "invalid_id_token", response.json_body
    assert response.json_body["message"].startswith("La réponse de ProConnect n'a pas pu être vérifiée")
    assert sessions_of(BOURG_AGENT) == before


def test_a_wrong_nonce_opens_no_session(client, provider, agent):
    provider.id_token_mode = "other_nonce"
    before = sessions_of(BOURG_AGENT)
    response = sign_in(client, provider, "bourg")
    assert response.status_code == 401 and response.json_body["code"] == "invalid_nonce"
    assert "ne correspond pas à cette connexion" in response.json_body["message"]
    assert sessions_of(BOURG_AGENT) == before


def test_a_code_of_another_flow_is_refused(client, provider, agent):
    """The attacker's code (obtained for their own flow) injected into the victim's callback: a provider that checks
    PKCE refuses it (the victim's verifier is not the attacker's); one that does not would issue an ID token with the
    attacker's nonce, refused as such (the local stack's provider: tests/e2e/test_site_proconnect.py)."""
    before = sessions_of(BOURG_AGENT)
    attacker = provider.authorize(start(client), "bourg")
    victim_state = provider.authorize(start(client), "bourg")["state"]
    response = finish(client, {"code": attacker["code"], "state": victim_state})
    assert response.status_code == 400 and response.json_body["code"] == "invalid_code"
    assert sessions_of(BOURG_AGENT) == before


def test_a_signed_userinfo_is_checked_and_a_plain_json_one_is_read(client, provider, agent):
    provider.userinfo_mode = "json"
    assert sign_in(client, provider, "bourg").status_code == 201
    provider.userinfo_mode = "jwt"
    assert sign_in(client, provider, "bourg").status_code == 201
    # A userinfo JWT signed by another key is refused, even with a good ID token.
    good_sign = provider.sign
    provider.sign = lambda claims, key=None: good_sign(claims, provider.other_key if "siret" in claims else key)
    refused = sign_in(client, provider, "bourg")
    assert refused.status_code == 401 and refused.json_body["code"] == "invalid_id_token"


def test_identities_the_portal_does_not_authorise(client, aws, provider, agent, operator):
    other_commune_agent(client, aws, "216901231", "agent@mairie-lyon.fr", "traboules et bouchons du vieux quartier")
    cases = {
        # the Bourg agent's email, but Lyon's SIRET (a registered commune, not theirs)
        "autre-commune": ({"email": BOURG_AGENT, "siret": LYON_SIRET}, "other_commune"),
        # Lyon's agent's email with Bourg's SIRET
        "lyon-chez-bourg": ({"email": "agent@mairie-lyon.fr", "siret": BOURG_SIRET}, "other_commune"),
        # Bourg's SIRET, an email that is no agent's of Bourg
        "stagiaire": ({"email": "stagiaire@mairie-bourg.fr", "siret": BOURG_SIRET}, "not_an_agent"),
        "oyonnax": ({"email": "secretariat@mairie-oyonnax.fr", "siret": OYONNAX_SIRET}, "commune_not_registered"),
        "entreprise": ({"email": "contact@entreprise.fr", "siret": "35600000000048"}, "organisation_not_registered"),
        "etat-sans-compte": ({"email": "agent@prefecture.gouv.fr", "siret": STATE_SIRET},
                             "organisation_not_registered"),
        "sans-siret": ({"email": BOURG_AGENT}, "proconnect_incomplete_identity"),
    }
    before = sessions_of(BOURG_AGENT)
    for sub, (claims, code) in cases.items():
        provider.identities[sub] = claims
        response = sign_in(client, provider, sub)
        assert response.status_code == 403 and response.json_body["code"] == code, (sub, response.json_body)
    assert sessions_of(BOURG_AGENT) == before
    provider.identities["oyonnax-again"] = cases["oyonnax"][0]
    message = sign_in(client, provider, "oyonnax-again").json_body["message"]
    assert "Oyonnax n'est pas encore inscrite" in message and "Démarrer l'inscription" in message




def test_a_linked_account_refuses_another_identity(client, provider, agent):
    assert sign_in(client, provider, "bourg").status_code == 201
    provider.identities["intrus"] = {"email": BOURG_AGENT, "siret": BOURG_SIRET}
    response = sign_in(client, provider, "intrus")
    assert response.status_code == 403 and response.json_body["code"] == "other_identity"


def test_a_prefecture_agent_signs_in_with_proconnect_then_their_code(client, provider, operator):
    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password="le guichet de l'Ain")
    provider.identities["ain"] = {"email": "guichet@ain.gouv.fr", "siret": STATE_SIRET}
    first = sign_in(client, provider, "ain")
    assert first.status_code == 401 and first.json_body["code"] == "otp_required", first.json_body
    ticket = first.json_body["details"]["ticket"]
    assert sessions_of("guichet@ain.gouv.fr") == 0
    wrong = post_json(client, "/proconnect/sessions/second-factor", {"ticket": ticket, "otp": "000000"})
    assert wrong.status_code == 401 and wrong.json_body["code"] == "invalid_otp"
    session = post_json(client, "/proconnect/sessions/second-factor", {"ticket": ticket, "otp": otp(OPERATOR_TOTP_SECRET)})
    assert session.status_code == 201 and session.json_body["role"] == "prefecture"
    again = post_json(client, "/proconnect/sessions/second-factor", {"ticket": ticket, "otp": otp(OPERATOR_TOTP_SECRET)})
    assert again.status_code == 400 and again.json_body["code"] == "invalid_state"
    token = session.json_body["token"]
    assert client.http.get("/me", headers=auth(token)).json_body["department_code"] == "01"


def test_the_card_maker_cannot_sign_in_with_proconnect(client, provider, operator):
    provider.identities["fabricant"] = {"email": "operateur@fabricant.example.fr", "siret": "55210055400013"}
    response = sign_in(client, provider, "fabricant")
    assert response.status_code == 403 and response.json_body["code"] == "organisation_not_registered"


def test_logging_out_ends_the_session_and_gives_the_provider_s_end_of_session(client, provider, agent):
    token = sign_in(client, provider, "bourg").json_body["token"]
    response = post_json(client, "/proconnect/logout", {}, token)
    assert response.status_code == 200
    url = response.json_body["logout_url"]
    assert url.startswith(provider.url + "/session/end?") and "id_token_hint=" in url
    assert "post_logout_redirect_uri=https%3A%2F%2Fsite.test%2Fconnexion.html" in url
    assert client.http.get("/me", headers=auth(token)).status_code == 401
    # A password session has no provider session to end.
    from tests.helpers import AGENT_PASSWORD, log_in

    password_session = log_in(client, BOURG_AGENT, AGENT_PASSWORD)
    assert post_json(client, "/proconnect/logout", {}, password_session).json_body == {"logout_url": None}


def test_without_settings_the_button_is_said_unavailable(client, aws):
    response = post_json(client, "/proconnect/authorize", {})
    assert response.status_code == 503 and response.json_body["code"] == "proconnect_unavailable"
    assert "mot de passe" in response.json_body["message"]


def test_the_bodies_are_code_and_state_or_ticket_and_code(client, provider):
    for body in ({"code": "x"}, {"state": "x"}, {"ticket": "x"}, {"code": "x", "state": "y", "otp": "1"}, {}):
        response = post_json(client, "/proconnect/sessions", body)
        assert response.status_code == 400, (body, response.json_body)
    for body in ({"ticket": "x"}, {"otp": "123456"}, {"ticket": "x", "otp": "123456", "code": "y"}):
        response = post_json(client, "/proconnect/sessions/second-factor", body)
        assert response.status_code == 400, (body, response.json_body)
    unknown = post_json(client, "/proconnect/sessions/second-factor", {"ticket": "x", "otp": "123456"})
    assert unknown.status_code == 400 and unknown.json_body["code"] == "invalid_state"
