"""The OpenAPI 3.1 document, built from the route registry so that it always matches the routes."""
import re
from functools import lru_cache

from chalice import Blueprint

from . import schemas as s
from .routing import REGISTRY, endpoint

docs = Blueprint(__name__)

STATUS_TEXT = {200: "OK", 201: "Créé", 202: "Accepté", 204: "Sans contenu"}
ROLE_NAMES = {"commune": "agent de commune", "manufacturer": "fabricant", "prefecture": "agent de préfecture"}


@lru_cache(maxsize=1)
def document() -> dict:
    paths: dict = {}
    for spec in REGISTRY:
        operation = {
            "operationId": spec.operation_id,
            "summary": spec.summary,
            "responses": _responses(spec),
        }
        if spec.roles:
            operation["security"] = [{"bearer": []}]
            operation["x-roles"] = sorted(spec.roles)
            operation["description"] = "Réservé à : " + ", ".join(ROLE_NAMES[r] for r in sorted(spec.roles)) + "."
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
                "content": {"application/json": {"schema": spec.request_schema}},
            }
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Portail des cartes d'identité des élus",
            "version": "1.0.0",
            "description": "API du portail de commande des cartes d'identité des maires, adjoints et maires délégués.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": s.ERROR},
        },
    }


def _responses(spec) -> dict:
    success: dict = {"description": STATUS_TEXT.get(spec.status, "OK")}
    if spec.status != 204:
        success["content"] = {"application/json": {"schema": spec.response_schema or {"type": "object"}}}
    responses = {str(spec.status): success}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    statuses = dict(spec.errors)
    statuses = {status: list(codes) for status, codes in statuses.items()}
    statuses.setdefault(400, []).append("invalid_request") if spec.request_schema or spec.query else None
    if spec.method in ("POST", "PUT", "PATCH"):
        statuses.setdefault(415, ["unsupported_media_type"])
        statuses.setdefault(400, []).append("invalid_json")
    if spec.roles:
        statuses.setdefault(401, ["unauthenticated"])
        statuses.setdefault(403, ["forbidden"])
    for status, codes in sorted(statuses.items()):
        codes = sorted(set(codes))
        responses[str(status)] = {"description": "Erreur : " + ", ".join(codes), **error}
    return responses


@endpoint(docs, "/openapi.json", "GET", summary="Ce document OpenAPI")
def openapi(call):
    return document()
