"""How every API route is declared: roles admitted, request schema, success status, error mapping.

One decorator, ``endpoint``, wraps each view so that every route (1) authenticates the bearer token and checks the
role, (2) parses and validates the JSON body against the schema that the OpenAPI document also publishes, (3) turns a
``PortalError`` into ``{"code", "message"}`` and anything unexpected into a logged 500 without internals. The registry
it fills is what the OpenAPI document and the access-control tests are generated from, so a route cannot escape them.
The query string is checked the same way, against the parameters the route declares (``query=``) and the OpenAPI
document publishes: an undeclared parameter, a parameter given twice or a value outside its schema is a 400
``invalid_request`` before the view runs.
"""
import functools
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError
from chalice import Response

from .. import clock
from ..domain.roles import ALL_ROLES, COMMUNE, MANUFACTURER, PREFECTURE, Principal  # noqa: F401 (re-exported)
from ..domain.changes import Refused
from ..errors import PortalError, from_refusal
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
):
    """Register ``view(call, **path_params)`` as a route; it returns the JSON-able body, or None for an empty 204.

    ``read_ahead(**path_params)``: the records (``store.repositories.Ref``) the URL names, read in the session's own
    BatchGetItem and handed to the view as ``call.read_ahead`` (entities, None for those that do not exist): a use
    case that must read the record before what it names (a card, then its order) saves a round trip."""
    roles = frozenset(roles)

    def decorator(view: Callable):
        spec = Endpoint(path, method, view.__name__, summary, roles, status, request, response, errors or {},
                        query or {}, tag, description, during_enrolment)
        REGISTRY.append(spec)

        @functools.wraps(view)
        def chalice_view(**path_params):
            request_ = blueprint.current_request
            try:
                refs = read_ahead(**path_params) if read_ahead and roles else []
                principal, found = _authorise(request_, roles, refs, during_enrolment)
                query = _parse_query(request_, spec.query)
                body = _parse_body(request_, request) if method in ("POST", "PUT", "PATCH") else {}
                call = Call(principal, body, query, _source_ip(request_), request_.headers, tuple(found))
                result = view(call, **path_params)
                return json_response(status, result)
            except PortalError as error:
                return error_response(error)
            except Refused as refused:
                return error_response(from_refusal(refused, spec.errors))
            except Exception as error:  # noqa: BLE001 - the one place that turns surprises into clean answers
                if _is_transient(error):
                    log.warning("transient AWS failure", exc_info=True)
                    return error_response(unavailable())
                raise

        blueprint.route(path, methods=[method])(chalice_view)
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


def _authorise(request_, roles: frozenset, refs: list, during_enrolment: bool = False
               ) -> tuple[Principal | None, list]:
    if not roles:
        return None, []
    header = request_.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise sessions.unauthenticated()
    principal, items = sessions.authenticate_reading(token.strip(),
                                                     [ref.repository.wanted(ref.key) for ref in refs])
    found = [None if item is None else ref.repository.to_entity(item) for ref, item in zip(refs, items)]
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
