"""The OpenAPI 3.1 document, built from the route registry so that it always matches the routes.

Publishers' tools take it as it is: Spectral's ``spectral:oas`` rules pass without a warning
(``tests/integration/test_openapi_lint.py``) and a Python client generated from it works
(``tests/integration/test_openapi_client.py``). What each operation carries comes from its route's declaration, by
rules, so that a new route is documented like the others or fails a test that says what to add:

- its **tag** from its roles (``tag_of``), or the ``tag=`` given to ``endpoint`` when the roles do not tell;
- its **description**: the route's ``description=`` (French, for people: docstrings are for developers), then who
  may call it;
- its **examples**: request and success bodies from ``examples.py``, by the schema's name in ``schemas.py``.
"""
import re
from functools import lru_cache

from chalice import Blueprint

from ..settings import get_settings
from . import examples as ex, schemas as s
from ..domain import api_clients as client_rules, webhooks as rules
from .routing import ALL_ROLES, COMMUNE, FORM, MANUFACTURER, MINISTRY, PREFECTURE, REGISTRY, endpoint

docs = Blueprint(__name__)

STATUS_TEXT = {200: "OK", 201: "Créé", 202: "Accepté", 204: "Sans contenu"}
ROLE_NAMES = {COMMUNE: "agent de commune", MANUFACTURER: "fabricant", PREFECTURE: "agent de préfecture",
              MINISTRY: "ministère (logiciel en lecture nationale)"}

# The groups of operations, in the order tools show them.
COMMUNE_TAG, BACK_OFFICE_TAG, PUBLIC_TAG, PROGRAMS_TAG = "Commune", "Back office", "Public", "Programmes"
TAGS = [
    {"name": COMMUNE_TAG, "description": "Ce que fait l'agent d'une mairie : ses élus et leurs photos, les "
                                         "demandes de cartes, les cartes de la commune, les agents de la mairie."},
    {"name": BACK_OFFICE_TAG, "description": "Le fabricant des cartes et les préfectures : fichiers de référence, "
                                             "demandes à faire avancer, registre des cartes, déclarations d'élus."},
    {"name": PUBLIC_TAG, "description": "Inscription d'une commune, mots de passe, connexion et session : sans "
                                        "connexion, ou pour toute personne connectée."},
    {"name": PROGRAMS_TAG, "description": "Pour les logiciels plutôt que pour les personnes : ce document, l'état "
                                          "du service, les jetons d'accès et les webhooks (voir la section "
                                          "`webhooks` pour ce que reçoit le logiciel)."},
]
_TAG_NAMES = {t["name"] for t in TAGS}


def tag_of(spec) -> str:
    """The group of an operation: given by its route, or told by who may call it."""
    if spec.tag is not None:
        if spec.tag not in _TAG_NAMES:
            raise ValueError(f"{spec.method} {spec.path}: tag {spec.tag!r} unknown; use one of {sorted(_TAG_NAMES)} "
                             "(or add it to TAGS in chalicelib/api/openapi.py)")
        return spec.tag
    if not spec.roles or spec.roles == ALL_ROLES:
        return PUBLIC_TAG
    if spec.roles == {COMMUNE}:
        return COMMUNE_TAG
    if COMMUNE not in spec.roles:
        return BACK_OFFICE_TAG
    raise ValueError(f"{spec.method} {spec.path}: its roles {sorted(spec.roles)} do not tell its OpenAPI group; "
                     f"give endpoint(..., tag=...) one of {sorted(_TAG_NAMES)}")


def description_of(spec) -> str:
    if not spec.roles:
        access = "Sans connexion."
    elif spec.roles == ALL_ROLES:
        access = "Pour toute personne connectée (jeton de session)."
    else:
        access = "Réservé à : " + ", ".join(ROLE_NAMES[r] for r in sorted(spec.roles)) + "."
    if spec.scope:
        access += f" Un logiciel y accède avec un jeton d'accès portant l'autorisation `{spec.scope}`."
    if "cursor" in spec.query:
        access += (" Liste paginée : pour la page suivante, rappelez la même adresse avec `cursor` égal au `next` de "
                   "la réponse (`next` vaut `null` à la dernière page).")
    if "updated_since" in spec.query:
        access += (" Avec `updated_since`, seulement les éléments dont `updated_at` est strictement postérieur ; une "
                   "page peut alors être vide sans être la dernière : suivez `next` jusqu'à `null`.")
    return f"{spec.description}\n\n{access}" if spec.description else access


_SCHEMA_NAMES = {id(value): name for name, value in vars(s).items() if isinstance(value, dict) and name.isupper()}


def example_of(schema: dict | None):
    """The example of a body's schema (``examples.py``), a page of items from its item's; None when there is none."""
    if schema is None:
        return None
    name = _SCHEMA_NAMES.get(id(schema))
    if name in ex.EXAMPLES:
        return ex.EXAMPLES[name]
    properties = schema.get("properties")
    if properties == {}:
        return {}
    if properties is not None and set(properties) == {"items", "next"} and "items" in properties.get("items", {}):
        item = example_of(properties["items"]["items"])
        return None if item is None else {"items": [item], "next": None}
    return None


def _component_name(constant: str) -> str:
    return "".join(part.capitalize() for part in constant.split("_"))


def _by_reference(schema, components: dict):
    """A response schema with every named object schema of ``schemas.py`` as a ``$ref`` to ``components/schemas``, so
    that generated clients get one model per kind (``Order``, ``Card``…). Request bodies stay inline: they are what
    the routes validate against, as published."""
    if isinstance(schema, list):
        return [_by_reference(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    name = _SCHEMA_NAMES.get(id(schema))
    if name is not None and schema.get("type") == "object":
        component = _component_name(name)
        if component not in components:
            components[component] = None  # taken before recursing: a schema that holds itself ends
            components[component] = {k: _by_reference(v, components) for k, v in schema.items()}
        return {"$ref": f"#/components/schemas/{component}"}
    return {k: _by_reference(v, components) for k, v in schema.items()}


def _with_example(media: dict, schema: dict | None) -> dict:
    example = example_of(schema)
    return media if example is None else {**media, "example": example}


@lru_cache(maxsize=1)
def document() -> dict:
    paths: dict = {}
    components = {"Error": s.ERROR, "OAuthError": s.OAUTH_ERROR}
    for spec in REGISTRY:
        operation = {
            "operationId": spec.operation_id,
            "summary": spec.summary,
            "description": description_of(spec),
            "tags": [tag_of(spec)],
            "responses": _responses(spec, components),
        }
        if spec.roles:
            operation["security"] = [{"bearer": []}] + ([{"oauth2": [spec.scope]}] if spec.scope else [])
            operation["x-roles"] = sorted(spec.roles)
        else:
            operation["security"] = []
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in re.findall(r"{(\w+)}", spec.path)
        ]
        parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                       for name, schema in spec.query.items()]
        if parameters:
            operation["parameters"] = parameters
        if spec.request_schema is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {FORM if spec.form else "application/json":
                            _with_example({"schema": spec.request_schema}, spec.request_schema)},
            }
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portail des cartes d'identité des élus",
            "version": "1.0.0",
            "description": "API du portail de commande des cartes d'identité des maires, adjoints et maires "
                           "délégués. "
                           "Les erreurs ont toujours la forme `{\"code\", \"message\"}` : un code stable pour les "
                           "programmes, un message en français pour les personnes.",
            "contact": {"name": "Équipe du portail des cartes d'identité des élus"},
        },
        "tags": TAGS,
        "paths": paths,
        "webhooks": _webhooks(components),
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "Jeton de session d'une personne : `POST /sessions` (adresse e-mail et mot de passe) "
                               "le donne, à envoyer dans `Authorization: Bearer <jeton>`."},
                "oauth2": {
                    "type": "oauth2",
                    "description": "Jeton d'accès d'un logiciel (OAuth 2.0, « client credentials ») : l'accès créé "
                                   "par la commune (`POST /api-clients`) donne un identifiant et un secret, que le "
                                   "logiciel échange contre un jeton d'une heure (`POST /oauth/token`), à envoyer "
                                   "dans `Authorization: Bearer <jeton>`.",
                    "flows": {"clientCredentials": {
                        "tokenUrl": "/oauth/token",
                        "scopes": {scope: client_rules.SCOPE_LABELS[scope] for scope in client_rules.SCOPES}}}}},
            "schemas": dict(sorted(components.items())),
        },
    }


def _webhooks(components: dict) -> dict:
    """What the portal POSTs to a program's webhook, one entry per event type (OpenAPI 3.1 ``webhooks``)."""
    headers = [
        {"name": rules.SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": "`t=<heure Unix de l'envoi>,v1=<HMAC-SHA256 hexadécimal>` : le HMAC, avec le secret du "
                        "webhook, de `<t>.<corps>` (le corps tel que reçu, octet pour octet). Refusez un `t` à plus "
                        "de 5 minutes de votre horloge.", "example": "t=1772442900,v1=3b1f0c…"},
        {"name": rules.EVENT_ID_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": "L'identifiant de l'événement (le même à chaque nouvel essai) : ignorez un événement déjà "
                        "traité.", "example": "5d41402abc4b2a76b9719d911017c592"},
        {"name": rules.EVENT_TYPE_HEADER, "in": "header", "required": True, "schema": s.WEBHOOK_EVENT_TYPE,
         "description": "Le type de l'événement.", "example": rules.ORDER_STATUS_CHANGED},
        {"name": rules.DELIVERY_ID_HEADER, "in": "header", "required": True, "schema": {"type": "string"},
         "description": "L'envoi, tel que le journal des envois le nomme.", "example": "1772442900000-5d41402abc4b2a76"},
    ]
    body = _by_reference(s.WEBHOOK_EVENT, components)
    return {event: {"post": {
        "operationId": "webhook_" + event.replace(".", "_"),
        "summary": rules.EVENT_LABELS[event],
        "description": f"Envoyé à chaque webhook abonné à `{event}` (autorisation `{rules.EVENT_SCOPES[event]}` "
                       "requise pour l'accès). Répondez 2xx en moins de 5 secondes ; sinon l'envoi est refait "
                       "après environ 1, 3, 9, 27 minutes… (8 essais sur environ 18 heures).",
        "tags": [PROGRAMS_TAG],
        "security": [],
        "parameters": headers,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": body, "example": {**ex.EXAMPLES["WEBHOOK_EVENT"], "type": event,
                                        "data": ex.WEBHOOK_EVENT_DATA[event]}}}},
        "responses": {"200": {"description": "Reçu : tout statut 2xx vaut remise."}},
    }} for event in rules.EVENTS}


def served_document() -> dict:
    """The document as served by a stage: its API's address (the site's ``/api``) and the site as contact."""
    site = get_settings().site_url
    base = document()
    return {**base, "info": {**base["info"], "contact": {**base["info"]["contact"], "url": site}},
            "servers": [{"url": f"{site}/api", "description": "L'API du portail, à l'adresse de son site"}]}


def _responses(spec, components: dict) -> dict:
    success: dict = {"description": STATUS_TEXT.get(spec.status, "OK")}
    if spec.status != 204:
        schema = _by_reference(spec.response_schema or {"type": "object"}, components)
        success["content"] = {"application/json": _with_example({"schema": schema}, spec.response_schema)}
    responses = {str(spec.status): success}
    if spec.accepted_schema:
        schema = _by_reference(spec.accepted_schema, components)
        responses["202"] = {"description": STATUS_TEXT.get(202, "Accepted"),
                            "headers": {"Location": {"description": "Où suivre le travail commencé.",
                                                     "schema": {"type": "string"}}},
                            "content": {"application/json": _with_example({"schema": schema}, spec.accepted_schema)}}
    error_schema = "OAuthError" if spec.form else "Error"  # the token endpoint's errors carry RFC 6749's fields too
    error = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{error_schema}"}}}}
    statuses = {status: list(codes) for status, codes in spec.errors.items()}
    statuses.setdefault(400, []).append("invalid_request") if spec.request_schema or spec.query else None
    if spec.method in ("POST", "PUT", "PATCH"):
        statuses.setdefault(415, ["unsupported_media_type"])
        statuses.setdefault(400, []).append("invalid_request" if spec.form else "invalid_json")
    if spec.roles:
        statuses.setdefault(401, ["unauthenticated"])
        # a program's token without the route's scope (or on a route no program may call)
        statuses.setdefault(403, ["forbidden"]).append("insufficient_scope")
    for status, codes in sorted(statuses.items()):
        codes = sorted(set(codes))
        plain = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        # Chalice itself answers a wrong Content-Type (415), in the portal's plain shape
        responses[str(status)] = {"description": "Erreur : " + ", ".join(codes), **(plain if status == 415 else error)}
    return responses


@endpoint(docs, "/openapi.json", "GET", summary="Ce document OpenAPI", tag=PROGRAMS_TAG,
          response=s.OPENAPI_DOCUMENT,
          description="La description de toute l'API au format OpenAPI 3.1, produite à partir des routes "
                      "elles-mêmes.")
def openapi(call):
    return served_document()
