"""How every API route is declared: roles admitted, request schema, success status, error mapping.

One decorator, ``endpoint``, wraps each view so that every route (1) authenticates the bearer token and checks the
role, (2) parses and validates the JSON body against the schema that the OpenAPI document also publishes, (3) turns a
``PortalError`` into ``{"code", "message"}`` and anything unexpected into a logged 500 without internals. The registry
it fills is what the OpenAPI document and the access-control tests are generated from, so a route cannot escape them.
The query string is checked the same way, against the parameters the route declares (``query=``) and the OpenAPI
document publishes: an undeclared parameter, a parameter given twice or a value outside its schema is a 400
``invalid_request`` before the view runs.

Programs call with a client's token (OAuth 2.0 client credentials, ``services/api_clients.py``): a route admits one
only if it declares the ``scope=`` the token was granted (else 403 ``insufficient_scope``; a person's session is never
limited by scopes), and each such call is one record of the audit log naming the client. One route takes a
form-encoded body rather than JSON (``form=True``): the token request, as RFC 6749 wants it.
"""
import functools
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple
from urllib.parse import parse_qs

from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError
from chalice import Response

from .. import clock
from ..domain import api_clients as client_rules
from ..domain.roles import ALL_ROLES, COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, Principal  # noqa: F401 (re-exported)
from ..domain.changes import Refused
from ..errors import PortalError, from_refusal, oauth_invalid_request
from ..services import sessions
from .middleware import viewer_address_trusted
from .validation import validate

log = logging.getLogger(__name__)

PUBLIC = frozenset()


class Call(NamedTuple):
    """What a view receives: who calls, the validated body, the query string, the caller's address."""

    principal: Principal | None
    body: dict
    query: dict
    source_ip: str
    headers: Any
    read_ahead: tuple = ()  # the records the endpoint's ``read_ahead`` named, read with the session (None: absent)


@dataclass
class Endpoint:
    path: str
    method: str
    operation_id: str
    summary: str
    roles: frozenset
    status: int
    request_schema: dict | None
    response_schema: dict | None
    errors: dict = field(default_factory=dict)  # status -> list of codes, documented in OpenAPI
    query: dict = field(default_factory=dict)  # name -> schema
    tag: str | None = None  # the OpenAPI group, when the rule of openapi.tag_of cannot tell it from the roles
    description: str | None = None  # for the OpenAPI document, in French (docstrings are for developers)
    # Open to a session that serves second-factor enrolment only (an operator who has not enrolled yet).
    during_enrolment: bool = False
    # The OAuth scope a program's token needs here (domain/api_clients.py); None: no program may call the route.
    scope: str | None = None
    form: bool = False  # the body is application/x-www-form-urlencoded (the token request), not JSON
    # The body of a 202 the view may answer instead (``Accepted``: work handed to a worker), documented beside the 200.
    accepted_schema: dict | None = None


class Accepted(NamedTuple):
    """What a view returns when the work goes on in the background: 202, the work's state, and where to follow it
    (``Location``, RFC 9110 §15.3.3)."""

    body: dict
    location: str


FORM = "application/x-www-form-urlencoded"
audit = logging.getLogger("portal.audit")

REGISTRY: list[Endpoint] = []


def endpoint(
    blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    roles=PUBLIC,
    status: int = 200,
    request: dict | None = None,
    response: dict | None = None,
    errors: dict | None = None,
    query: dict | None = None,
    tag: str | None = None,
    description: str | None = None,
    read_ahead: Callable[..., list] | None = None,
    during_enrolment: bool = False,
    scope: str | None = None,
    form: bool = False,
    accepted: dict | None = None,
):
    """Register ``view(call, **path_params)`` as a route; it returns the JSON-able body, or None for an empty 204.

    ``read_ahead(**path_params)``: the records (``store.repositories.Ref``) the URL names, read in the session's own
    BatchGetItem and handed to the view as ``call.read_ahead`` (entities, None for those that do not exist): a use
    case that must read the record before what it names (a card, then its order) saves a round trip.

    ``scope``: the OAuth scope that lets a program's token call the route (``insufficient_scope`` otherwise).
    ``form``: the body is form-encoded (``application/x-www-form-urlencoded``), parsed to a dict of strings.
    ``accepted``: the schema of the 202 the view answers when it returns ``Accepted`` (work left to a worker)."""
    roles = frozenset(roles)
    if scope is not None and scope not in client_rules.SCOPES:
        raise ValueError(f"{method} {path}: unknown scope {scope!r}")

    def decorator(view: Callable):
        spec = Endpoint(path, method, view.__name__, summary, roles, status, request, response, errors or {},
                        query or {}, tag, description, during_enrolment, scope, form, accepted)
        REGISTRY.append(spec)

        @functools.wraps(view)
        def chalice_view(**path_params):
            request_ = blueprint.current_request
            caller: list = []  # the principal, once known: a program's calls are audited whatever their outcome
            response = None
            try:
                refs = read_ahead(**path_params) if read_ahead and roles else []
                principal, found = _authorise(request_, spec, refs, caller)
                query = _parse_query(request_, spec.query)
                if method not in ("POST", "PUT", "PATCH"):
                    body = {}
                else:
                    body = _parse_form(request_, request) if form else _parse_body(request_, request)
                call = Call(principal, body, query, _source_ip(request_), request_.headers, tuple(found))
                result = view(call, **path_params)
                response = (json_response(202, result.body, {"Location": result.location})
                            if isinstance(result, Accepted) else json_response(status, result))
            except PortalError as error:
                response = error_response(error)
            except Refused as refused:
                response = error_response(from_refusal(refused, spec.errors))
            except Exception as error:  # noqa: BLE001 - the one place that turns surprises into clean answers
                if _is_transient(error):
                    log.warning("transient AWS failure", exc_info=True)
                    response = error_response(unavailable())
                else:
                    raise
            finally:
                if caller and caller[0].client_id is not None:
                    _audit_client_call(caller[0], request_, response.status_code if response else 500)
            return response

        # Chalice answers 415 itself to a body of another type than the route's (JSON unless said otherwise)
        blueprint.route(path, methods=[method], **({"content_types": [FORM]} if form else {}))(chalice_view)
        return view

    return decorator


def json_response(status: int, body: Any, headers: dict | None = None) -> Response:
    if status == 204 or body is None:
        return Response(body="", status_code=status, headers=headers or {})
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def error_response(error: PortalError) -> Response:
    return json_response(error.status, error.body(), error.headers)


def unavailable() -> PortalError:
    return PortalError(503, "service_unavailable",
                       "Le service est momentanément surchargé. Réessayez dans quelques secondes.",
                       headers={"Retry-After": "5"})


TRANSIENT_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling", "ThrottledException",
                   "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
                   "SlowDown", "TransactionConflictException", "TransactionInProgressException",
                   "InternalServerError", "InternalError", "ServiceUnavailable", "ServiceUnavailableException",
                   "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}


def _is_transient(error: Exception) -> bool:
    """A throttled or unavailable AWS call (possibly wrapped by PynamoDB): the client may simply retry."""
    cause = error
    for _ in range(3):
        if isinstance(cause, BotoConnectionError):
            return True
        if isinstance(cause, ClientError):
            status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            return cause.response.get("Error", {}).get("Code") in TRANSIENT_CODES or status >= 500
        code = getattr(cause, "cause_response_code", None)
        if code == "TransactionCanceledException":
            reasons = {r.code for r in (getattr(cause, "cancellation_reasons", None) or []) if r is not None}
            return bool(reasons & {"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"})
        if code:
            return code in TRANSIENT_CODES
        cause = getattr(cause, "cause", None) or cause.__cause__
        if cause is None:
            return False
    return False


def second_factor_required() -> PortalError:
    return PortalError(403, "second_factor_required",
                       "Activez d'abord votre double authentification (page « Double authentification ») : votre "
                       "profil l'exige pour accéder au portail.")


def insufficient_scope(scope: str | None) -> PortalError:
    if scope is None:
        return PortalError(403, "insufficient_scope", "Cette fonction est réservée aux personnes connectées : un "
                           "logiciel ne peut pas l'appeler avec son jeton d'accès.")
    return PortalError(403, "insufficient_scope", f"L'accès de ce logiciel n'a pas l'autorisation « {scope} » "
                       f"({client_rules.SCOPE_LABELS[scope]}) que demande cette fonction.",
                       details={"scope": scope})


def _audit_client_call(principal: Principal, request_, status: int) -> None:
    """One record per call of a program: who (its client's name and id, for whom), what, and how it ended."""
    audit.info("api_client_call", extra={
        "event": "api_client_call", "client_name": principal.client_name, "client_id": principal.client_id,
        "owner": client_rules.owner_of(principal.role, principal.siren, principal.department_code),
        "method": request_.method, "path": _called_path(request_),
        "status": status, "at": _now_iso()})


def _called_path(request_) -> str:
    """The path called, its parameters filled in (the audit log names the official or order a program touched)."""
    path = request_.path
    for name, value in (request_.uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    return path


def _authorise(request_, spec: Endpoint, refs: list, caller: list) -> tuple[Principal | None, list]:
    """The caller and the records ``refs`` names; ``caller`` receives the principal as soon as it is known."""
    roles, during_enrolment = spec.roles, spec.during_enrolment
    if not roles:
        return None, []
    header = request_.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise sessions.unauthenticated()
    principal, items = sessions.authenticate_reading(token.strip(),
                                                     [ref.repository.wanted(ref.key) for ref in refs])
    found = [None if item is None else ref.repository.to_entity(item) for ref, item in zip(refs, items)]
    caller.append(principal)
    if principal.client_id is not None and (spec.scope is None or spec.scope not in (principal.scopes or ())):
        raise insufficient_scope(spec.scope)
    if principal.role not in roles:
        logging.getLogger("portal.audit").warning(
            "forbidden", extra={"event": "forbidden", "by": principal.email, "role": principal.role,
                                "path": request_.context.get("resourcePath"), "at": _now_iso()})
        raise PortalError(403, "forbidden", "Votre profil ne donne pas accès à cette fonction.")
    if principal.enrolment_only and not during_enrolment:
        raise second_factor_required()
    return principal, found


def _parse_body(request_, schema: dict | None) -> dict:
    raw = request_.raw_body or b""
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PortalError(400, "invalid_json", "Le corps de la requête n'est pas un JSON valide.") from None
    if schema is not None:
        validate(data, schema)
    return data if isinstance(data, dict) else {}


def _parse_form(request_, schema: dict | None) -> dict:
    """A form-encoded body as ``{name: value}``. A parameter given twice is refused (RFC 6749 §3.2); a failure is an
    OAuth ``invalid_request`` (the one form route is the token endpoint, whose errors its clients read)."""
    try:
        pairs = parse_qs((request_.raw_body or b"").decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                         errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise oauth_invalid_request("Le corps de la requête doit être encodé comme un formulaire "
                              "(application/x-www-form-urlencoded, UTF-8).") from None
    repeated = sorted(name for name, values in pairs.items() if len(values) > 1)
    if repeated:
        raise oauth_invalid_request(f"Le paramètre « {repeated[0]} » ne peut être donné qu'une fois.")
    data = {name: values[0] for name, values in pairs.items()}
    if schema is not None:
        try:
            validate(data, schema)
        except PortalError as error:
            raise oauth_invalid_request(error.message) from None
    return data


def query_schema(parameters: dict) -> dict:
    """The query string as one JSON object: the route's parameters, each a string of its schema, nothing else."""
    return {"type": "object", "properties": parameters, "additionalProperties": False}


def _parse_query(request_, parameters: dict) -> dict:
    raw = request_.query_params or {}
    repeated = [name for name in raw if hasattr(raw, "getlist") and len(raw.getlist(name)) > 1]
    if repeated:
        raise PortalError(400, "invalid_request", "Certains paramètres de l'adresse sont invalides.",
                          details={repeated[0]: "Ce paramètre ne peut être donné qu'une fois."})
    # an empty value of a parameter that has a default (``?format=``) is that default: the parameter is left out
    query = {name: value for name, value in dict(raw).items()
             if value != "" or "default" not in parameters.get(name, {})}
    if query:
        validate(query, query_schema(parameters), "Certains paramètres de l'adresse sont invalides.")
    return query


def _now_iso() -> str:
    return clock.iso(clock.now())


def _source_ip(request_) -> str:
    """The caller's address. Behind CloudFront, API Gateway sees the edge's address; the distribution forwards the
    viewer's as ``CloudFront-Viewer-Address: <ip>:<port>``, believed only on a request that carries the stage's origin
    secret (the middleware refuses the others on deployed stages). Where no secret is set (locally), the header is
    never believed: the address is the connection's."""
    viewer = request_.headers.get("cloudfront-viewer-address")
    if viewer and viewer_address_trusted(request_.headers):
        return viewer.rsplit(":", 1)[0].strip("[]")
    identity = (request_.context or {}).get("identity") or {}
    return identity.get("sourceIp") or "unknown"
