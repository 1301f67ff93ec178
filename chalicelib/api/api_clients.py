"""Access for programs: a commune's API clients, the préfectures' and the ministry's (created by the card maker), and
the OAuth 2.0 token endpoint their programs call (RFC 6749 §4.4, client credentials)."""
import base64
import binascii
from urllib.parse import unquote_plus

from chalice import Blueprint

from ..domain import api_clients as rules
from ..services import api_clients
from . import schemas as s
from .routing import COMMUNE, MANUFACTURER, endpoint

clients = Blueprint(__name__)

PROGRAMS = "Programmes"
CLIENT_ERRORS = {400: ["invalid_name", "invalid_scope"], 409: ["too_many_clients"]}


@endpoint(clients, "/api-clients", "POST", roles={COMMUNE}, status=201, summary="Créer un accès pour un logiciel",
          request=s.API_CLIENT_NEW, response=s.API_CLIENT_CREATED, errors=CLIENT_ERRORS,
          description="Un accès pour le logiciel d'un éditeur (état civil, gestion du conseil municipal) : son nom, "
                      "ses autorisations. Le secret (`client_secret`) n'est donné qu'une fois, dans cette réponse : "
                      "seule son empreinte est gardée. Le logiciel l'échange contre un jeton d'une heure "
                      "(`POST /oauth/token`).")
def create_client(call):
    return api_clients.create_for_commune(call.principal, call.body["name"], call.body["scopes"])


@endpoint(clients, "/api-clients", "GET", roles={COMMUNE}, summary="Les accès pour les logiciels de ma commune",
          response=s.page_of(s.API_CLIENT), description="Du plus ancien au plus récent, les accès révoqués compris "
                                                         "(marqués) ; jamais le secret.")
def list_clients(call):
    return api_clients.list_for_owner(rules.commune_owner(call.principal.siren))


@endpoint(clients, "/api-clients/{client_id}", "DELETE", roles={COMMUNE}, status=204,
          summary="Révoquer un accès (ses jetons cessent aussitôt de fonctionner)", errors={404: ["not_found"]})
def revoke_client(call, client_id):
    owner = rules.commune_owner(call.principal.siren)
    api_clients.revoke(call.principal, client_id, lambda client_owner: client_owner == owner)


# --- the card maker: the préfectures' and the ministry's tools -----------------------------------------------------

@endpoint(clients, "/admin/api-clients", "POST", roles={MANUFACTURER}, status=201,
          summary="Créer un accès en lecture pour un outil d'une préfecture ou du ministère",
          request=s.STATE_CLIENT_NEW, response=s.API_CLIENT_CREATED,
          errors={**CLIENT_ERRORS, 400: ["invalid_name", "invalid_scope", "invalid_request"],
                  422: ["unknown_department"]},
          description="Lecture seule (`officials:read`, `orders:read`) : pour un département (`department_code`), "
                      "le jeton agit comme la préfecture de ce département ; pour le ministère (`national: true`), "
                      "il lit les demandes et les cartes de toute la France.")
def create_state_client(call):
    b = call.body
    return api_clients.create_for_state(call.principal, b["name"], b["scopes"], b.get("department_code"),
                                        bool(b.get("national")))


@endpoint(clients, "/admin/api-clients", "GET", roles={MANUFACTURER},
          summary="Les accès des outils d'une préfecture (department_code) ou du ministère (sans paramètre)",
          response=s.page_of(s.API_CLIENT), query={"department_code": s.DEPARTMENT})
def list_state_clients(call):
    department = call.query.get("department_code")
    return api_clients.list_for_owner(rules.department_owner(department) if department else rules.NATIONAL)


@endpoint(clients, "/admin/api-clients/{client_id}", "DELETE", roles={MANUFACTURER}, status=204,
          summary="Révoquer l'accès d'un outil d'une préfecture ou du ministère", errors={404: ["not_found"]})
def revoke_state_client(call, client_id):
    api_clients.revoke(call.principal, client_id, lambda owner: not owner.startswith("commune#"))


# --- the token endpoint ---------------------------------------------------------------------------------------------

def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from ``Authorization: Basic …`` (RFC 7617), each form-urlencoded as RFC 6749
    §2.3.1 wants; None when the header is absent or not a well-formed Basic credential."""
    scheme, _, encoded = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


@endpoint(clients, "/oauth/token", "POST", summary="Obtenir un jeton d'accès pour un logiciel (OAuth 2.0)",
          request=s.TOKEN_REQUEST, response=s.TOKEN, tag=PROGRAMS, form=True,
          errors={400: ["invalid_request", "unsupported_grant_type", "invalid_scope"], 401: ["invalid_client"],
                  429: ["too_many_attempts"]},
          description="OAuth 2.0, autorisation « client credentials » (RFC 6749 §4.4) : corps "
                      "`application/x-www-form-urlencoded` avec `grant_type=client_credentials` et, au choix, "
                      "`scope` (autorisations séparées par des espaces, parmi celles de l'accès) ; le logiciel "
                      "s'authentifie en HTTP Basic (`client_id:client_secret`). Le jeton vaut une heure, pour la "
                      "commune (ou la préfecture, le ministère) de l'accès et ses autorisations : "
                      "`Authorization: Bearer <access_token>`. Les erreurs portent `error` et `error_description` "
                      "(RFC 6749 §5.2) en plus de `code` et `message`.")
def token(call):
    credentials = basic_credentials(call.headers.get("authorization"))
    if credentials is None:
        raise api_clients.invalid_client()
    client_id, secret = credentials
    if call.body.get("client_id") not in (None, client_id):
        raise api_clients.invalid_request("Le client_id du corps diffère de celui de l'authentification.")
    return api_clients.issue_token(client_id, secret, call.body.get("grant_type"), call.body.get("scope"),
                                   call.source_ip)
