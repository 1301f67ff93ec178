"""API clients: create, list and revoke them, and give their programs tokens (OAuth 2.0 client credentials).

A client's secret is 256 random bits, shown once at creation; only its SHA-256 is stored. A slow hash (Argon2, as for
passwords) protects low-entropy secrets against guessing from a stolen table; 256 random bits cannot be guessed, so a
fast hash loses nothing and keeps the token request cheap.

A token is ``<client id>.<secret>`` stored as a ``Token`` of kind ``client`` (``services/sessions.py`` reads it like a
session): revoking the client writes the revocation mark ``revoked#<client id>`` in the same transaction as the
client's ``revoked_at``, so every token it holds dies at once, and its secret gets no new one.
"""
import hmac
import logging
import secrets
from datetime import timedelta
from typing import Callable

from pynamodb.exceptions import TransactWriteError

from .. import clock
from ..domain import api_clients as rules
from ..domain.roles import Principal
from ..domain.secrets_codes import new_token, token_digest
from ..errors import OAuthError, PortalError, oauth_invalid_request as invalid_request
from ..store import counters
from ..store.batch import Wanted, get_many
from ..store.tables import ApiClient, Prefecture, Token, is_condition_failure, transaction
from . import limits
from .sessions import REVOCATION_LIFETIME, revocation_key

audit = logging.getLogger("portal.audit")


# --- errors of the token endpoint (RFC 6749 §5.2), with the portal's code and French message ---------------------

def invalid_client() -> OAuthError:
    # §5.2: a client that authenticated with HTTP Basic gets 401 and the scheme to use.
    return OAuthError(401, "invalid_client", "Identifiant ou secret du client incorrect, ou client révoqué.",
                      headers={"WWW-Authenticate": 'Basic realm="portail-cartes-elus", charset="UTF-8"'})


def unsupported_grant_type() -> OAuthError:
    return OAuthError(400, "unsupported_grant_type",
                      "Seul le type d'autorisation « client_credentials » est accepté (grant_type=client_credentials).")


def invalid_scope(asked: str) -> OAuthError:
    return OAuthError(400, "invalid_scope", f"Ce client n'a pas toutes les autorisations demandées (« {asked} »).")


def too_many_attempts(seconds: int) -> OAuthError:
    error = limits.too_many_attempts(seconds)
    return OAuthError(error.status, error.code, error.message, headers=error.headers)


# --- the clients ---------------------------------------------------------------------------------------------------

def create_for_commune(principal: Principal, name: str, scopes: list[str]) -> dict:
    """A commune's agent creates a client for its software publisher."""
    owner = rules.commune_owner(principal.siren)
    return _create(principal, owner, name, scopes, siren=principal.siren, insee_code=principal.insee_code,
                   commune_name=principal.commune_name, department_code=principal.department_code)


def create_for_state(principal: Principal, name: str, scopes: list[str], department_code: str | None,
                     national: bool) -> dict:
    """The card maker creates a read-only client for a préfecture's tools (one département) or the ministry's."""
    if bool(department_code) == bool(national):
        raise PortalError(400, "invalid_request", "Précisez soit un département (department_code), soit "
                          "national: true.", details={"department_code": "Un département, ou national: true."})
    if department_code:
        (prefecture,) = get_many([Wanted(Prefecture, department_code)])
        if prefecture is None:
            raise PortalError(422, "unknown_department", "Aucune préfecture n'est connue pour ce département.",
                              details={"department_code": "Département inconnu."})
        return _create(principal, rules.department_owner(department_code), name, scopes,
                       department_code=department_code)
    return _create(principal, rules.NATIONAL, name, scopes)


def _create(principal: Principal, owner: str, name: str, scopes: list[str], **attributes) -> dict:
    name = name.strip()
    if not name or any(ord(c) < 32 for c in name):
        raise PortalError(400, "invalid_name", "Donnez un nom au logiciel (sans caractère de contrôle).",
                          details={"name": "Nom requis."})
    refused = rules.refused_scopes(owner, scopes)
    if refused:
        raise PortalError(400, "invalid_scope", "Les outils d'une préfecture ou du ministère ne peuvent que lire : "
                          f"autorisation « {refused[0]} » non accordée.", details={"scopes": refused})
    if not scopes:
        raise PortalError(400, "invalid_scope", "Choisissez au moins une autorisation.",
                          details={"scopes": "Au moins une autorisation."})
    active = sum(1 for client in ApiClient.by_owner.query(owner) if client.revoked_at is None)
    if active >= rules.ACTIVE_CLIENTS_PER_OWNER:
        raise PortalError(409, "too_many_clients", f"{rules.ACTIVE_CLIENTS_PER_OWNER} accès pour les logiciels au "
                          "plus : révoquez d'abord un accès qui ne sert plus.")
    secret = new_token()
    client = ApiClient(secrets.token_hex(16), owner=owner, name=name, scopes=set(scopes),
                       secret_hash=token_digest(secret), created_at=clock.now(), created_by=principal.email,
                       **attributes)
    # 128 random bits never collide: a collision would fail the condition, a 500 worth looking into
    client.save(condition=ApiClient.client_id.does_not_exist())
    audit.info("api_client_created", extra={"event": "api_client_created", "by": principal.email, "owner": owner,
                                            "client_id": client.client_id, "client_name": name,
                                            "scopes": sorted(scopes), "at": clock.iso(clock.now())})
    return {**view(client), "client_secret": secret}


def view(client: ApiClient) -> dict:
    """What a list shows of a client: never its secret, nor its hash."""
    answer = {"client_id": client.client_id, "name": client.name, "scopes": sorted(client.scopes or ()),
              "created_at": clock.iso(client.created_at), "created_by": client.created_by,
              "revoked": client.revoked_at is not None,
              "revoked_at": clock.iso(client.revoked_at) if client.revoked_at else None}
    if not client.owner.startswith("commune#"):
        answer["owner"] = client.owner
    return answer


def owner_of(principal: Principal) -> str:
    return rules.owner_of(principal.role, principal.siren, principal.department_code)


def list_for_owner(owner: str) -> dict:
    """An owner's clients, oldest first, the revoked ones included (marked)."""
    return {"items": [view(client) for client in ApiClient.by_owner.query(owner)], "next": None}


def revoke(principal: Principal, client_id: str, owned: Callable[[str], bool]) -> None:
    """Revoke a client whose owner ``owned`` admits (404 for any other, as for one that does not exist): its
    ``revoked_at`` and its revocation mark in one transaction. Revoking a revoked client changes nothing."""
    (client,) = get_many([Wanted(ApiClient, client_id)]) if _well_formed(client_id) else (None,)
    if client is None or not owned(client.owner):
        raise PortalError(404, "not_found", "Cet accès n'existe pas.")
    if client.revoked_at is not None:
        return
    now = clock.now()
    try:
        with transaction() as writes:
            writes.update(client, actions=[ApiClient.revoked_at.set(now), ApiClient.revoked_by.set(principal.email)],
                          condition=ApiClient.revoked_at.does_not_exist() & (ApiClient.owner == client.owner))
            writes.save(Token(revocation_key(client_id), kind="revocation", account_id=client_id,
                              email=rules.label(client.name), role=rules.role_of_owner(client.owner), created_at=now,
                              expires_at=now + REVOCATION_LIFETIME, purge_at=now + REVOCATION_LIFETIME))
    except TransactWriteError as error:
        if not is_condition_failure(error):
            raise
        return  # revoked meanwhile by someone else: what was asked holds
    audit.info("api_client_revoked", extra={"event": "api_client_revoked", "by": principal.email,
                                            "owner": client.owner, "client_id": client_id,
                                            "client_name": client.name, "at": clock.iso(now)})


def _well_formed(client_id: str) -> bool:
    return len(client_id) == 32 and all(c in "0123456789abcdef" for c in client_id)


# --- tokens (RFC 6749 §4.4) ----------------------------------------------------------------------------------------

def failure_subject(client_id: str, source_ip: str) -> str:
    """The subject of ``limits.TOKEN_PAIR``: one client id from one source address. Any id that is not one (the
    caller's own text, of any length) counts as one subject: a DynamoDB key is 2 KB at most."""
    return f"{client_id if _well_formed(client_id) else 'malformed'}|{source_ip}"


def issue_token(client_id: str, secret: str, grant_type: str | None, scope: str | None, source_ip: str) -> dict:
    """A token for a client that authenticated with its secret: ``{access_token, token_type, expires_in, scope}``."""
    if not grant_type:
        raise invalid_request("Paramètre grant_type manquant (grant_type=client_credentials).")
    if grant_type != "client_credentials":
        raise unsupported_grant_type()
    pair = failure_subject(client_id, source_ip)
    source_count, pair_count, client = get_many([
        counters.wanted(limits.TOKEN_SOURCE, source_ip), counters.wanted(limits.TOKEN_PAIR, pair),
        Wanted(ApiClient, client_id if _well_formed(client_id) else "0" * 32)])  # the same read for any id
    waits = [s for limit, raw in ((limits.TOKEN_SOURCE, source_count), (limits.TOKEN_PAIR, pair_count))
             if (s := limits.retry_after(limit, raw))]
    if waits:
        raise too_many_attempts(max(waits))
    expected = client.secret_hash if client is not None else "0" * 64
    # compared in constant time, and the same work whether the client exists or not
    if not hmac.compare_digest(token_digest(secret), expected) or client.revoked_at is not None:
        with transaction() as writes:
            counters.count_in(writes, limits.TOKEN_PAIR, pair)
            counters.count_in(writes, limits.TOKEN_SOURCE, source_ip)
        audit.warning("api_token_refused", extra={"event": "api_token_refused", "client_id": client_id[:64],
                                                  "source": source_ip, "at": clock.iso(clock.now())})
        raise invalid_client()
    granted = rules.granted_scopes(scope, client.scopes or ())
    if granted is None:
        raise invalid_scope(scope)
    now = clock.now()
    lifetime = timedelta(seconds=rules.TOKEN_LIFETIME_SECONDS)
    token = f"{client_id}.{new_token()}"
    stored = Token(token_digest(token), kind="client", account_id=client_id, email=rules.label(client.name),
                   role=rules.role_of_owner(client.owner), siren=client.siren, department_code=client.department_code,
                   insee_code=client.insee_code, commune_name=client.commune_name, created_at=now,
                   expires_at=now + lifetime, purge_at=now + lifetime, client_name=client.name, scopes=set(granted))
    if pair_count is not None:
        with transaction() as writes:  # a success forgets this source's failures for the client, in the same write
            writes.save(stored)
            counters.clear_in(writes, limits.TOKEN_PAIR, pair)
    else:
        stored.save()
    audit.info("api_token_issued", extra={"event": "api_token_issued", "client_id": client_id,
                                          "client_name": client.name, "owner": client.owner,
                                          "scopes": sorted(granted), "source": source_ip, "at": clock.iso(now)})
    return {"access_token": token, "token_type": "Bearer", "expires_in": rules.TOKEN_LIFETIME_SECONDS,
            "scope": " ".join(s for s in rules.SCOPES if s in granted)}
