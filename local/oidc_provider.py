"""The local stack's OpenID Connect provider, standing in for ProConnect: `oidc-provider-mock` (a real provider built
on authlib: discovery, RS256-signed ID tokens, JWKS, userinfo, end of session), on a free port, with demo identities.

Its sign-in page lists the demo identities as buttons (their ``sub``); any other ``sub`` typed there is an identity
with only an email. Differences from ProConnect, which the portal handles both ways: its userinfo is plain JSON where
ProConnect signs it as a JWT (``services/proconnect.py`` reads both, and a test checks the JWT path with a provider of
its own); it does not check PKCE's verifier (ProConnect does; the portal always sends it); it accepts any client id,
secret and redirect address.
"""
import os
import threading

# The mock refuses plain HTTP otherwise: the local stack has no TLS.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

CLIENT_ID = "portail-cartes-elus-local"
CLIENT_SECRET = "secret-local-du-fournisseur-proconnect"

# Invented SIRETs of real SIRENs: the communes' from data/reference/communes.csv; a State administration's starts
# with 1 (domain/proconnect.py).
OYONNAX_SIRET = "21010283600017"
BOURG_SIRET = "21010053300011"
PREFECTURE_AIN_SIRET = "17010001400019"

DEMO_IDENTITIES = {
    # the demo commune's agent (local/demo.py's REGISTERED): signs in and lands in Oyonnax's space
    "agent-oyonnax": {"email": "secretariat@mairie-oyonnax.example.fr", "given_name": "Sandrine",
                      "usual_name": "Mercier", "siret": OYONNAX_SIRET},
    # the Ain préfecture's agent (local/demo.py's PREFECTURE)
    "agent-prefecture-ain": {"email": "prefecture-ain@cartes-elus.example.fr", "given_name": "Pauline",
                             "usual_name": "Préfet", "siret": PREFECTURE_AIN_SIRET},
    # an agent of a commune that has not registered yet (Bourg-en-Bresse): told how to register
    "agent-bourg-en-bresse": {"email": "accueil@mairie-bourg-en-bresse.example.fr", "given_name": "Bruno",
                              "usual_name": "Bresse", "siret": BOURG_SIRET},
    # Oyonnax's agent's email, but Bourg-en-Bresse's SIRET: another commune's, refused
    "agent-autre-commune": {"email": "secretariat@mairie-oyonnax.example.fr", "given_name": "Sandrine",
                            "usual_name": "Mercier", "siret": BOURG_SIRET},
}


class LocalOidcProvider:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        import werkzeug.serving
        from oidc_provider_mock import app
        from oidc_provider_mock import User

        users = [User(sub=sub, claims=claims) for sub, claims in DEMO_IDENTITIES.items()]
        self._server = werkzeug.serving.make_server(host, port, app(require_nonce=True, user_claims=users),
                                                    threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def start(self) -> "LocalOidcProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def state_entry(provider: LocalOidcProvider) -> dict:
    """What ``var/local-stack.json`` says of the provider."""
    return {"url": provider.url, "discovery_url": provider.discovery_url, "client_id": CLIENT_ID,
            "identities": {sub: dict(claims) for sub, claims in DEMO_IDENTITIES.items()}}
