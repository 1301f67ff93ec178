"""A small OpenID Connect provider for the tests, signing with its own RSA key, whose answers a test can spoil: a
tampered or foreign-signed ID token, another nonce, userinfo as a signed JWT (as ProConnect) or as JSON.

It checks what a real provider checks of the portal: the PKCE verifier against the challenge of the authorization
request (S256), the client id and secret, the redirect address, and that a code is used once. It serves on a free port
of 127.0.0.1 and stops with the test (``with OidcStub() as stub``).
"""
import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "client-de-test"
CLIENT_SECRET = "secret-de-test"


class OidcStub:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "cle-du-fournisseur"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "cle-du-fournisseur"})  # same kid, not published
        self.identities: dict[str, dict] = {}  # sub -> claims
        self.codes: dict[str, dict] = {}  # code -> what the authorization request said
        self.id_token_mode = "good"  # good | tampered | foreign_key | other_nonce | expired | other_audience
        self.userinfo_mode = "jwt"  # jwt | json
        self.token_requests: list[dict] = []
        self.end_session_calls = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-stub", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def __enter__(self) -> "OidcStub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what the browser does at the provider ---------------------------------------------------------------------

    def authorize(self, authorization_url: str, sub: str) -> dict:
        """The person signs in as ``sub``: the query the provider sends back to the redirect address."""
        query = {k: v[0] for k, v in parse_qs(urlparse(authorization_url).query).items()}
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID, query
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43, query
        assert set(query["scope"].split()) == {"openid", "email", "given_name", "usual_name", "siret"}, query
        code = secrets.token_urlsafe(24)
        self.codes[code] = {**query, "sub": sub}
        return {"code": code, "state": query["state"]}

    # --- tokens ----------------------------------------------------------------------------------------------------

    def sign(self, claims: dict, key=None) -> str:
        return jwt.encode({"alg": "RS256", "kid": "cle-du-fournisseur"}, claims, key or self.key)

    def id_token(self, request: dict) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "sub": request["sub"], "aud": CLIENT_ID, "iat": now, "exp": now + 60,
                  "nonce": request.get("nonce"), "acr": "eidas1"}
        mode = self.id_token_mode
        if mode == "other_nonce":
            claims["nonce"] = "un-autre-nonce"
        if mode == "expired":
            claims["exp"] = now - 600
        if mode == "other_audience":
            claims["aud"] = "un-autre-client"
        token = self.sign(claims, self.other_key if mode == "foreign_key" else None)
        if mode == "tampered":  # another sub in the payload, the original signature kept
            header, payload, signature = token.split(".")
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            data["sub"] = "quelqu-un-d-autre"
            payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
            token = f"{header}.{payload}.{signature}"
        return token


def _handler(stub: OidcStub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body, content_type: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            path = urlparse(self.path).path
            if path == "/.well-known/openid-configuration":
                base = stub.url
                return self._send(200, {
                    "issuer": base, "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token", "userinfo_endpoint": f"{base}/userinfo",
                    "jwks_uri": f"{base}/jwks", "end_session_endpoint": f"{base}/session/end",
                    "id_token_signing_alg_values_supported": ["RS256"]})
            if path == "/jwks":
                return self._send(200, KeySet([stub.key]).as_dict(private=False))
            if path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                request = next((r for r in stub.codes.values() if r.get("access_token") == token), None)
                if request is None:
                    return self._send(401, {"error": "invalid_token"})
                claims = {"sub": request["sub"], **stub.identities[request["sub"]]}
                if stub.userinfo_mode == "json":
                    return self._send(200, claims)
                now = int(time.time())
                return self._send(200, stub.sign({**claims, "iss": stub.url, "aud": CLIENT_ID, "iat": now}),
                                  "application/jwt")
            return self._send(404, {"error": "not_found"})

        def do_POST(self):  # noqa: N802
            if urlparse(self.path).path != "/token":
                return self._send(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            stub.token_requests.append(form)
            request = stub.codes.get(form.get("code", ""))
            if request is None or request.get("used"):
                return self._send(400, {"error": "invalid_grant"})
            request["used"] = True
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            if challenge.rstrip(b"=").decode() != request["code_challenge"]:
                return self._send(400, {"error": "invalid_grant", "error_description": "PKCE"})
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET) \
                    or form.get("redirect_uri") != request["redirect_uri"]:
                return self._send(401, {"error": "invalid_client"})
            request["access_token"] = secrets.token_urlsafe(24)
            return self._send(200, {"access_token": request["access_token"], "token_type": "Bearer",
                                    "expires_in": 60, "id_token": stub.id_token(request)})

    return Handler

