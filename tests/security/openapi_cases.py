"""Test cases generated from the project's own OpenAPI document (GET /openapi.json).

Every operation of the document is enumerated; its path parameters, query parameters and request body are filled from
the objects of a chosen tenant. A parameter or body field this module does not know makes the generation fail with a
message saying where to add it, so a new route (or a new parameter) cannot silently escape the isolation matrix or the
mass-assignment proof.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from tests.security.world import Tenant, World

# Roles of the matrix: who calls, and which tenants' objects they may see.
# ``program_A``: a program of commune A with a token of all four scopes (OAuth client credentials): it acts as
# commune A, on the operations that declare a scope only.
ROLES = ("anonymous", "commune_A", "commune_B", "manufacturer", "prefecture_01", "prefecture_74", "program_A")
ROLE_KIND = {"anonymous": None, "commune_A": "commune", "commune_B": "commune", "manufacturer": "manufacturer",
             "prefecture_01": "prefecture", "prefecture_74": "prefecture", "program_A": "commune"}
PROGRAMS = {"program_A"}


def sees(role: str, tenant: Tenant, operation: "Operation | None" = None) -> bool:
    """The access rule the portal promises (docs/accounts.md): a commune its own, a préfecture its département, the
    card maker everything; but a commune's API client and its webhooks are the commune's alone (and its program's):
    neither the card maker nor the préfecture sees them (docs/api-clients.md)."""
    if operation is not None and operation.path.startswith("/api-clients/"):
        return role in (f"commune_{tenant.key}", f"program_{tenant.key}")
    if role == "manufacturer":
        return True
    if role.startswith("commune_") or role.startswith("program_"):
        return role.endswith(f"_{tenant.key}")
    if role.startswith("prefecture_"):
        return role == f"prefecture_{tenant.department_code}"
    return False


# Path parameters: how to name an object of a tenant. None: not a tenant's object (the import of a reference file, a
# sync with data.gouv.fr).
PATH_OBJECTS = {
    "agent_id": lambda t: [t.agent_id],
    "official_id": lambda t: list(t.officials.values()),
    "order_id": lambda t: list(t.orders.values()),
    "number": lambda t: list(t.cards.values()),
    "siren": lambda t: [t.siren],
    "import_id": None,
    "sync_id": None,
    # an import's id: the route only ever reads and writes the caller's own commune (its session's SIREN)
    "notice_id": None,
    # one of the tenant's agent's sessions (its id is the SHA-256 its token is stored under)
    "session_id": lambda t: [__import__("hashlib").sha256(t.token.encode()).hexdigest()],
    # the tenant's API client (« Accès pour les logiciels »)
    "client_id": lambda t: [t.api_client],
    # that client's webhook
    "webhook_id": lambda t: [t.webhook],
    # a national list's file: no commune or préfecture asks for one; between the card maker's operators and the
    # ministry's tools, only who asked reads it (tests/integration/test_exports.py)
    "export_id": None,
}
# Body fields that designate another object, and how to aim them at a tenant.
BODY_REFERENCES = {
    "official_ids": lambda t: list(t.officials.values()),
    "directory_id": lambda t: next(iter(t.directory_ids.values())),
    "sirens": lambda t: [t.siren],
    "siren": lambda t: t.siren,
    "department_code": lambda t: t.department_code,
}
# Other body fields: a valid value (the schema decides whether it is valid; these only help the generator).
BODY_VALUES = {
    "email": "nouvelle.personne@exemple.fr", "password": "un mot de passe de test assez long",
    "token": "jeton-de-test", "activation_code": "AAAA-BBBB-CCCC", "first_name": "Test", "last_name": "Essai",
    "function": "adjoint", "crop": {"x": 0, "y": 0, "width": 700, "height": 900}, "preview_acknowledged": True,
    "to": "en_production", "reason": "contrôle", "kind": "communes", "role": "prefecture",
    "birth_date": "1980-05-02", "election_date": "2026-03-22", "sex": "F", "decision": "validate",
    "date": "2026-11-30", "circumstances": "Perdue lors d'un déplacement", "police_report": "PV-2026-001",
    "mode": "titulaire", "quality": "secrétaire de mairie", "upload_id": "abc123",
}
# Query parameters aimed at a tenant.
QUERY_REFERENCES = {
    "department": lambda t: t.department_code,
    "status": lambda t: "en_preparation",
    "cursor": lambda t: forged_cursor(t),
    "q": lambda t: next(iter(t.officials)),
    "month": lambda t: None,  # the current month (the world's orders were all moved this month)
    "official_id": lambda t: next(iter(t.officials.values())),
    "number": lambda t: next(iter(t.cards.values())),
    "format": lambda t: None,  # an export's file format: names no tenant (the default, CSV, is read for leaks)
    "scope": lambda t: None,  # national or department: the département is the tenant reference
    "weeks": lambda t: None,
    "department_code": lambda t: t.department_code,  # the card maker's list of a préfecture's API clients
    # an instant before the world was made: names no tenant, and every record of the lists is returned (read for leaks)
    "updated_since": lambda t: "2000-01-01T00:00:00Z",
}


class UnknownParameter(AssertionError):
    pass


@dataclass
class Operation:
    path: str
    method: str
    spec: dict

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def roles(self) -> set[str]:
        return set(self.spec.get("x-roles", []))

    @property
    def public(self) -> bool:
        return not self.spec.get("security")

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "path"]

    @property
    def query_params(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "query"]

    @property
    def request_schema(self) -> dict | None:
        """The JSON body's schema. The token endpoint's form body (RFC 6749: unknown parameters ignored) is not one:
        ``form_schema``."""
        body = self.spec.get("requestBody")
        return body["content"].get("application/json", {}).get("schema") if body else None

    @property
    def form_schema(self) -> dict | None:
        body = self.spec.get("requestBody")
        return body["content"].get("application/x-www-form-urlencoded", {}).get("schema") if body else None

    @property
    def scopes(self) -> list[str]:
        """The OAuth scopes a program's token may call the operation with (none: no program may)."""
        return [scope for requirement in self.spec.get("security", []) for scope in requirement.get("oauth2", [])]

    def admits(self, role: str) -> bool:
        if role in PROGRAMS and not self.public:
            return ROLE_KIND[role] in self.roles and bool(self.scopes)
        return self.public or ROLE_KIND[role] in self.roles

    def tenant_path_params(self) -> list[str]:
        found = []
        for name in self.path_params:
            if name not in PATH_OBJECTS:
                raise UnknownParameter(f"{self.label}: path parameter {name!r} unknown to the isolation matrix: add "
                                       "it to PATH_OBJECTS in tests/security/openapi_cases.py")
            if PATH_OBJECTS[name] is not None:
                found.append(name)
        return found

    def body_references(self) -> list[str]:
        schema = self.request_schema or {}
        return [name for name in schema.get("properties", {}) if name in BODY_REFERENCES]

    def tenant_query_params(self) -> list[str]:
        for name in self.query_params:
            if name not in QUERY_REFERENCES:
                raise UnknownParameter(f"{self.label}: query parameter {name!r} unknown to the isolation matrix: add "
                                       "it to QUERY_REFERENCES in tests/security/openapi_cases.py")
        return list(self.query_params)


def operations(document: dict) -> list[Operation]:
    return [Operation(path, method.upper(), spec) for path, item in document["paths"].items()
            for method, spec in item.items()]


def forged_cursor(tenant: Tenant) -> str:
    """A pagination cursor that points into the tenant's partitions, as an attacker would forge it."""
    order_id = next(iter(tenant.orders.values())).split("-", 1)[1]
    key = {"siren": {"S": tenant.siren}, "order_id": {"S": order_id},
           "department_code": {"S": tenant.department_code}, "status": {"S": "en_preparation"},
           "department_status": {"S": f"{tenant.department_code}#en_preparation"},
           "card_number": {"S": "2026-0000001"}}
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


# --- request bodies ------------------------------------------------------------------------------------------------

def valid_body(schema: dict, tenant: Tenant | None, label: str, optional: bool = True) -> dict:
    """A body that the schema accepts, with references aimed at ``tenant``; checked against the schema."""
    from jsonschema import Draft202012Validator

    body = _instance(schema, tenant, label, "", optional)
    errors = list(Draft202012Validator(schema).iter_errors(body))
    if errors:
        raise UnknownParameter(f"{label}: the generated body {body} is invalid ({errors[0].message}): add a value to "
                               "BODY_VALUES in tests/security/openapi_cases.py")
    return body


def _instance(schema: dict, tenant, label: str, name: str, optional: bool = True):
    if name in BODY_REFERENCES and tenant is not None:
        return BODY_REFERENCES[name](tenant)
    if name in BODY_VALUES and ("enum" not in schema or BODY_VALUES[name] in schema["enum"]):
        return BODY_VALUES[name]
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        properties = schema.get("properties", {})
        names = [n for n in properties if optional or n in schema.get("required", [])]
        if not optional:
            names = schema.get("required", [])
        # a schema that demands one field or the other (activation letters): the first reference is enough
        if "department_code" in names and "sirens" in names:
            names.remove("sirens")
        if "official_ids" in names and "cards" in names:  # an order: its officials, or its cards with reasons
            names.remove("cards")
        return {n: _instance(properties[n], tenant, label, n, optional) for n in names}
    if kind == "array":
        return [_instance(schema.get("items", {}), tenant, label, "", optional)] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    if kind == "string":
        if "pattern" in schema:
            raise UnknownParameter(f"{label}: field {name!r} has a pattern: add a value to BODY_VALUES")
        return "x" * max(1, schema.get("minLength", 1))
    raise UnknownParameter(f"{label}: field {name!r} of type {kind!r}: add a value to BODY_VALUES")


def object_schemas(schema: dict, path: str = ""):
    """Every object schema inside a request schema, with its JSON path (for the additionalProperties proof)."""
    if schema.get("type") == "object":
        yield path or "(corps)", schema
        for name, child in schema.get("properties", {}).items():
            yield from object_schemas(child, f"{path}.{name}" if path else name)
    if schema.get("type") == "array":
        yield from object_schemas(schema.get("items", {}), f"{path}[]")
    for key in ("oneOf", "anyOf", "allOf"):
        for child in schema.get(key, []):
            yield from object_schemas(child, path)


def fill_path(operation: Operation, values: dict) -> str:
    path = operation.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def own_path_values(operation: Operation, world: World, tenant: Tenant) -> dict:
    values = {}
    for name in operation.path_params:
        objects = PATH_OBJECTS.get(name)
        values[name] = world.import_id if objects is None else objects(tenant)[0]
    return values
