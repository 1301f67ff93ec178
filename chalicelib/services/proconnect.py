"""« S'identifier avec ProConnect »: the OpenID Connect authorization code flow, for a static site and an API.

1. ``start()`` (``POST /proconnect/authorize``): a random ``state``, ``nonce`` and PKCE verifier; the state's digest
   keys a record that keeps the nonce and the verifier server-side for 10 minutes; the answer is the provider's
   authorization URL (the browser goes there; the verifier never leaves the server).
2. The provider sends the browser back to the site's ``proconnect.html`` with ``code`` and ``state``; the page posts
   them to ``finish()`` (``POST /proconnect/sessions``), which takes the state's record (a conditional delete: single
   use, even for two requests at the same instant), exchanges the code with the verifier and the client secret,
   checks the ID token (signature against the provider's published keys, issuer, audience, expiry, the nonce) and
   the userinfo (a signed JWT at ProConnect, plain JSON at some providers: both are read, a JWT only if its
   signature holds, and its ``sub`` must be the ID token's), then lets the domain decide who the identity may be
   (``domain/proconnect.py``). The first sign-in links the identity's ``sub`` to the account.
3. An account with a second factor also needs its code: the first answer is ``401 otp_required`` with a ticket (a
   record of 5 minutes holding what the provider proved), and the page posts the ticket and the code
   (``finish_with_code``, ``POST /proconnect/sessions/second-factor``).
4. ``log_out()``: the session ends and the answer gives the provider's ``end_session_endpoint`` with the ID token
   as ``id_token_hint``, where the browser goes to end its ProConnect session too.

authlib does the protocol's parts (PKCE challenge, authorization and token requests, the ID token's claims rules)
and joserfc (authlib's JOSE layer) the signatures; the HTTP calls go through urllib3, the client already deployed
with botocore (``docs/decisions.md``). authlib and joserfc are imported at the first sign-in, not with the app: they
would add a third of a second to every cold start of the API (``bench/coldstart.py``).
"""
import hashlib
import json
import logging
import secrets
import threading
import time
from datetime import timedelta
from urllib.parse import urlencode

import urllib3
from pynamodb.exceptions import DeleteError, UpdateError

from .. import aws, clock
from ..domain import proconnect as rules
from ..domain.changes import Refused
from ..domain.roles import Principal
from ..errors import PortalError
from ..settings import get_settings
from ..store.batch import Wanted, get_many
from ..store.tables import Account, Commune, Token, is_condition_failure
from . import second_factor, sessions

log = logging.getLogger(__name__)
audit = logging.getLogger("portal.audit")

FLOW_LIFETIME = timedelta(minutes=10)  # from the button to the callback
TICKET_LIFETIME = timedelta(minutes=5)  # from « otp_required » to the code
CALLBACK_PAGE = "proconnect.html"
LOGOUT_PAGE = "connexion.html?deconnexion=proconnect"
ALGORITHMS = ["RS256", "ES256", "PS256"]
PROVIDER_CACHE_SECONDS = 3600
TIMEOUT = urllib3.Timeout(connect=3, read=8)


# --- the provider -------------------------------------------------------------------------------------------------

def not_configured() -> PortalError:
    return PortalError(503, "proconnect_unavailable",
                       "La connexion avec ProConnect n'est pas disponible pour le moment. Utilisez votre adresse "
                       "e-mail et votre mot de passe.")


def provider_error() -> PortalError:
    return PortalError(502, "proconnect_unavailable",
                       "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes ou utilisez votre "
                       "adresse e-mail et votre mot de passe.")


_pool: urllib3.PoolManager | None = None
_cache: dict = {}  # discovery URL -> (fetched at, metadata, KeySet)
_cache_lock = threading.Lock()
_secret: dict = {}  # secret name -> client secret, read once per container


def http() -> urllib3.PoolManager:
    global _pool
    if _pool is None:
        _pool = urllib3.PoolManager(timeout=TIMEOUT, retries=urllib3.Retry(total=2, connect=2, read=0, redirect=0))
    return _pool


def _get_json(url: str) -> dict:
    try:
        response = http().request("GET", url, headers={"Accept": "application/json"})
    except urllib3.exceptions.HTTPError:
        log.warning("proconnect unreachable", exc_info=True)
        raise provider_error() from None
    if response.status != 200:
        log.warning("proconnect answered %s on %s", response.status, url)
        raise provider_error()
    try:
        return json.loads(response.data)
    except ValueError:
        raise provider_error() from None


def provider(refresh: bool = False) -> tuple:
    """The provider's metadata (discovery document) and its signing keys, fetched once an hour per container (again
    at once when a token names a key we do not have: the provider rotated its keys)."""
    url = get_settings().proconnect_discovery_url
    if not url or not get_settings().proconnect_client_id:
        raise not_configured()
    with _cache_lock:
        cached = _cache.get(url)
    if cached and not refresh and time.monotonic() - cached[0] < PROVIDER_CACHE_SECONDS:
        return cached[1], cached[2]
    metadata = _get_json(url)
    # cold start: joserfc.jwk 40-90 ms, only the ProConnect sign-in reads the provider's keys
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    try:
        keys = KeySet.import_key_set(_get_json(metadata["jwks_uri"]))
    except (KeyError, TypeError, ValueError, JoseError):
        log.warning("proconnect keys unreadable", exc_info=True)
        raise provider_error() from None
    with _cache_lock:
        _cache[url] = (time.monotonic(), metadata, keys)
    return metadata, keys


def client_secret() -> str:
    settings = get_settings()
    if settings.proconnect_client_secret:
        return settings.proconnect_client_secret
    name = settings.proconnect_secret_name
    if not name:
        raise not_configured()
    if name not in _secret:
        value = aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
        _secret[name] = value.strip()
    return _secret[name]


def redirect_uri() -> str:
    return f"{get_settings().site_url}/{CALLBACK_PAGE}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _flow_key(state: str) -> str:
    return f"proconnect#{_digest(state)}"


def _ticket_key(ticket: str) -> str:
    return f"proconnect-ticket#{_digest(ticket)}"


# --- 1. the way out -----------------------------------------------------------------------------------------------

def start() -> dict:
    # cold start: authlib.oauth2 11 ms, only the ProConnect sign-in needs it
    from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    metadata, _ = provider()
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    now = clock.now()
    Token(_flow_key(state), kind="proconnect", email="-", role="-", nonce=nonce, code_verifier=verifier,
          created_at=now, expires_at=now + FLOW_LIFETIME, purge_at=now + FLOW_LIFETIME).save()
    url = prepare_grant_uri(metadata["authorization_endpoint"], get_settings().proconnect_client_id, "code",
                            redirect_uri=redirect_uri(), scope=rules.SCOPES, state=state, nonce=nonce,
                            code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256",
                            acr_values="eidas1")
    return {"authorization_url": url, "expires_in": int(FLOW_LIFETIME.total_seconds())}


# --- 2. the way back ----------------------------------------------------------------------------------------------

def invalid_state() -> PortalError:
    return PortalError(400, "invalid_state",
                       "Cette connexion avec ProConnect a expiré ou a déjà servi. Cliquez à nouveau sur « S'identifier "
                       "avec ProConnect ».")


def invalid_id_token() -> PortalError:
    return PortalError(401, "invalid_id_token",
                       "La réponse de ProConnect n'a pas pu être vérifiée : aucune session n'a été ouverte. Cliquez à "
                       "nouveau sur « S'identifier avec ProConnect ».")


def invalid_nonce() -> PortalError:
    return PortalError(401, "invalid_nonce",
                       "La réponse de ProConnect ne correspond pas à cette connexion : aucune session n'a été ouverte. "
                       "Cliquez à nouveau sur « S'identifier avec ProConnect ».")


def _take(key: str, kind: str) -> Token:
    """The record of a flow or a ticket, deleted as it is taken: one use only."""
    (record,) = get_many([Wanted(Token, key)])
    if record is None or record.kind != kind or clock.now() >= record.expires_at:
        raise invalid_state()
    try:
        Token(key).delete(condition=Token.token_hash.exists())
    except DeleteError as error:
        if not is_condition_failure(error):
            raise
        raise invalid_state() from None  # taken by another request meanwhile
    return record


def _exchange(metadata: dict, code: str, verifier: str) -> dict:
    # cold start: authlib.oauth2 11 ms, only the ProConnect sign-in needs it
    from authlib.oauth2.rfc6749.parameters import prepare_token_request

    settings = get_settings()
    body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri(),
                                 code_verifier=verifier, client_id=settings.proconnect_client_id,
                                 client_secret=client_secret())
    try:
        response = http().request("POST", metadata["token_endpoint"], body=body,
                                  headers={"Content-Type": "application/x-www-form-urlencoded",
                                           "Accept": "application/json"})
    except urllib3.exceptions.HTTPError:
        log.warning("proconnect token endpoint unreachable", exc_info=True)
        raise provider_error() from None
    if response.status != 200:
        log.warning("proconnect refused the code: %s %s", response.status, response.data[:300])
        raise PortalError(400, "invalid_code", "ProConnect n'a pas accepté cette connexion (elle a peut-être déjà "
                                               "servi). Cliquez à nouveau sur « S'identifier avec ProConnect ».")
    try:
        tokens = json.loads(response.data)
        if not isinstance(tokens.get("id_token"), str) or not isinstance(tokens.get("access_token"), str):
            raise ValueError("no id_token or access_token")
    except (ValueError, AttributeError):
        raise invalid_id_token() from None
    return tokens


def _decode(token: str, keys):
    # cold start: joserfc.jwt 50-100 ms, only the ProConnect sign-in decodes a token
    from joserfc import jwt
    from joserfc.errors import JoseError

    try:
        return jwt.decode(token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError):
        return None


def _verified(token: str) -> object:
    """The token's signature checked against the provider's keys (fetched again once if it names another key)."""
    _, keys = provider()
    decoded = _decode(token, keys)
    if decoded is None:
        _, keys = provider(refresh=True)
        decoded = _decode(token, keys)
    if decoded is None:
        audit.warning("proconnect_bad_signature", extra={"event": "proconnect_bad_signature",
                                                         "at": clock.iso(clock.now())})
        raise invalid_id_token()
    return decoded


def check_id_token(id_token: str, nonce: str) -> dict:
    # cold start: authlib.oidc.core 50-130 ms, only the ProConnect sign-in checks an ID token
    from authlib.oidc.core import CodeIDToken
    from joserfc.errors import JoseError

    metadata, _ = provider()
    decoded = _verified(id_token)
    client_id = get_settings().proconnect_client_id
    claims = CodeIDToken(decoded.claims, decoded.header,
                         options={"iss": {"essential": True, "value": metadata["issuer"]},
                                  "aud": {"essential": True, "value": client_id}},
                         params={"client_id": client_id})
    try:
        claims.validate(now=int(clock.now().timestamp()), leeway=60)
    except (JoseError, ValueError, TypeError):
        raise invalid_id_token() from None
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
        audit.warning("proconnect_bad_nonce", extra={"event": "proconnect_bad_nonce", "at": clock.iso(clock.now())})
        raise invalid_nonce()
    return dict(claims)


def userinfo(metadata: dict, access_token: str, id_claims: dict) -> dict:
    try:
        response = http().request("GET", metadata["userinfo_endpoint"],
                                  headers={"Authorization": f"Bearer {access_token}",
                                           "Accept": "application/jwt, application/json"})
    except urllib3.exceptions.HTTPError:
        raise provider_error() from None
    if response.status != 200:
        raise provider_error()
    kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if kind == "application/jwt":
        decoded = _verified(response.data.decode("ascii", "replace").strip())
        claims = decoded.claims
        if claims.get("iss") not in (None, metadata["issuer"]) or (
                "aud" in claims and get_settings().proconnect_client_id not in (
                    claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])):
            raise invalid_id_token()
    else:
        try:
            claims = json.loads(response.data)
        except ValueError:
            raise provider_error() from None
    if not isinstance(claims, dict) or claims.get("sub") != id_claims.get("sub"):
        raise invalid_id_token()
    return claims


def finish(code: str, state: str, source_ip: str, device: str | None) -> dict:
    flow = _take(_flow_key(state), "proconnect")
    metadata, _ = provider()
    tokens = _exchange(metadata, code, flow.code_verifier)
    id_claims = check_id_token(tokens["id_token"], flow.nonce)
    identity = rules.identity_from_claims(userinfo(metadata, tokens["access_token"], id_claims))
    account, commune = get_many([Wanted(Account, identity.email),
                                 Wanted(Commune, rules.siren_of(identity.siret))])
    try:
        rules.authorise(identity, account, commune)
    except Refused as refused:
        audit.warning("proconnect_refused", extra={"event": "proconnect_refused", "by": identity.email,
                                                   "code": refused.code, "siret": identity.siret,
                                                   "source": source_ip, "at": clock.iso(clock.now())})
        raise PortalError(403, refused.code, refused.message) from None
    if account.proconnect_sub is None:
        _link(account, identity)
    if account.second_factor_at is not None:
        # The second factor is asked after ProConnect too: a ticket keeps what ProConnect proved for 5 minutes.
        ticket = secrets.token_urlsafe(32)
        now = clock.now()
        Token(_ticket_key(ticket), kind="proconnect-ticket", email=account.email, role=account.role,
              account_id=account.account_id, proconnect_id_token=tokens["id_token"], created_at=now,
              expires_at=now + TICKET_LIFETIME, purge_at=now + TICKET_LIFETIME).save()
        error = second_factor.otp_required()
        error.details = {"ticket": ticket}
        raise error
    return _open(account, tokens["id_token"], source_ip, device)


def finish_with_code(ticket: str, otp: str, source_ip: str, device: str | None) -> dict:
    """The second step for an account with a second factor: the ticket of ``finish`` and a code."""
    (record,) = get_many([Wanted(Token, _ticket_key(ticket))])
    if record is None or record.kind != "proconnect-ticket" or clock.now() >= record.expires_at:
        raise invalid_state()
    (account,) = get_many([Wanted(Account, record.email)])
    if account is None or account.account_id != record.account_id:
        raise invalid_state()
    second_factor.check_code(account, otp)  # a wrong code leaves the ticket for another try (limited per account)
    taken = _take(_ticket_key(ticket), "proconnect-ticket")
    return _open(account, taken.proconnect_id_token, source_ip, device)


def _link(account: Account, identity: rules.Identity) -> None:
    """The first ProConnect sign-in links the identity: on condition that no other was linked meanwhile."""
    try:
        account.update(actions=[Account.proconnect_sub.set(identity.sub),
                                Account.proconnect_siret.set(identity.siret)],
                       condition=Account.proconnect_sub.does_not_exist())
    except UpdateError as error:
        if not is_condition_failure(error):
            raise
        (account_now,) = get_many([Wanted(Account, account.email)])
        if account_now is None or account_now.proconnect_sub != identity.sub:
            raise PortalError(403, "other_identity", "Votre compte du portail est lié à une autre identité "
                                                     "ProConnect.") from None
    audit.info("proconnect_linked", extra={"event": "proconnect_linked", "by": account.email,
                                           "siret": identity.siret, "at": clock.iso(clock.now())})


def _open(account: Account, id_token: str, source_ip: str, device: str | None) -> dict:
    # ProConnect proved who the person is; an operator without a second factor yet can only enrol, as with a password.
    enrolment_only = account.second_factor_at is None and second_factor.rules.required(account.role)
    session = sessions.open_session(account, device=device, source_ip=source_ip, enrolment_only=enrolment_only,
                                    proconnect_id_token=id_token)
    audit.info("login", extra={"event": "login", "by": account.email, "role": account.role, "source": source_ip,
                               "method": "proconnect", "at": clock.iso(clock.now())})
    return session


# --- 4. logging out -----------------------------------------------------------------------------------------------

def log_out(principal: Principal) -> dict:
    """End this session; when it was opened with ProConnect, the address that ends the ProConnect session too."""
    (session,) = get_many([Wanted(Token, principal.token_hash)])
    sessions.log_out(principal)
    id_token = session.proconnect_id_token if session is not None else None
    if not id_token:
        return {"logout_url": None}
    try:
        metadata, _ = provider()
    except PortalError:
        return {"logout_url": None}  # the portal's session is ended whatever the provider's state
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return {"logout_url": None}
    query = urlencode({"id_token_hint": id_token, "state": secrets.token_urlsafe(16),
                       "post_logout_redirect_uri": f"{get_settings().site_url}/{LOGOUT_PAGE}"})
    return {"logout_url": f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"}
