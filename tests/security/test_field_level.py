"""Field-level access (ASVS 8.2.3, BOPLA), generated from the OpenAPI document.

Write side (mass assignment): every request schema refuses unknown fields at every level (``additionalProperties:
false``), and each write operation, called by a role it admits with an otherwise valid body, answers 400 naming the
slipped-in field (a status, a card number, a SIREN, a role...) before anything is read or written.
Read side: no answer carries an internal field (hashes, storage keys, the order holding an official), and the
original photo is handed out to the card maker only.
"""
import json

import pytest

from tests.security.conftest import record_figures
from tests.security.openapi_cases import (fill_path, object_schemas, operations, own_path_values, ROLE_KIND,
                                          valid_body)
from tests.security.world import difference, snapshot

# Fields a client must never be able to set: lifecycle, identity of the tenant, numbering, authorship, storage.
SLIPPED_FIELDS = ["status", "card_number", "siren", "commune", "department_code", "role", "id", "official_id",
                  "active_order_id", "photo_key", "history", "by_role", "created_at", "registered_at", "is_admin",
                  "__proto__"]
INTERNAL_FIELDS = {"password_hash", "activation_code_hash", "activation_code", "token_hash", "photo_key",
                   "original_key", "preview_key", "card_key", "processing_id", "active_order_id", "purge_at",
                   "idle_expires_at", "by"}
WITH_BODY = ("POST", "PUT", "PATCH")


def caller(operation) -> str | None:
    """A role the operation admits, on tenant A's side (anonymous for public operations)."""
    if operation.public:
        return None
    for role in ("commune_A", "manufacturer", "prefecture_01"):
        if ROLE_KIND[role] in operation.roles:
            return role
    raise AssertionError(f"{operation.label}: no test role for {operation.roles}")


def send(world, operation, role, body):
    headers = {"Content-Type": "application/json"}
    if role:
        headers["Authorization"] = f"Bearer {world.tokens[role]}"
    path = fill_path(operation, own_path_values(operation, world, world.A))
    return world.client.http.request(operation.method, path, headers=headers, body=json.dumps(body).encode())


def with_extra(body: dict, nested_path: str, name: str) -> dict:
    body = json.loads(json.dumps(body))
    target = body
    if nested_path != "(corps)":
        for part in nested_path.split("."):
            target = target[part.rstrip("[]")]
            if isinstance(target, list):
                target = target[0]
    target[name] = "valeur imposée"
    return body


def test_every_request_schema_refuses_unknown_fields_at_every_level(world):
    document = world.client.http.get("/openapi.json").json_body
    open_objects = []
    for operation in operations(document):
        if operation.request_schema:
            for path, schema in object_schemas(operation.request_schema):
                if schema.get("additionalProperties") is not False:
                    open_objects.append(f"{operation.label}: {path}")
    assert not open_objects


def test_every_write_operation_declares_a_request_schema(world):
    """Without a schema a body is parsed and silently ignored: refuse it like everywhere else (`request=s.obj({})`)."""
    document = world.client.http.get("/openapi.json").json_body
    missing = [o.label for o in operations(document)
               if o.method in WITH_BODY and not o.request_schema and not o.form_schema]
    assert not missing, f"write operations that accept any body: {missing}"


def test_mass_assignment_is_refused_per_operation_and_field(world):
    document = world.client.http.get("/openapi.json").json_body
    before = snapshot()
    tried, failures, per_operation = 0, [], {}
    for operation in operations(document):
        if not operation.request_schema:
            continue
        role = caller(operation)
        body = valid_body(operation.request_schema, world.A, operation.label)
        accepted = set(operation.request_schema.get("properties", {}))
        attempts = [("(corps)", name) for name in SLIPPED_FIELDS if name not in accepted]
        for path, schema in object_schemas(operation.request_schema):
            if path != "(corps)" and "[]" not in path and path.split(".")[0] in body:
                attempts.append((path, "status"))
        per_operation[operation.label] = len(attempts)
        for path, name in attempts:
            tried += 1
            response = send(world, operation, role, with_extra(body, path, name))
            details = (response.json_body or {}).get("details") or {}
            if response.status_code != 400 or response.json_body.get("code") != "invalid_request" \
                    or details.get(name) != "Ce champ n'est pas accepté.":
                failures.append(f"{operation.label} as {role}: {path}.{name} -> {response.status_code} "
                                f"{response.json_body}")
    changed = difference(before, snapshot())
    record_figures("mass_assignment", {"operations": len(per_operation), "attempts": tried, "failures": failures,
                                       "per_operation": per_operation})
    assert tried > 100
    assert not failures, "\n".join(failures)
    assert not changed


def test_the_same_valid_bodies_are_accepted_by_the_schema_alone(world):
    """Control for the test above: without the extra field, the body passes validation (no 400 invalid_request)."""
    document = world.client.http.get("/openapi.json").json_body
    for operation in operations(document):
        if operation.request_schema:
            body = valid_body(operation.request_schema, world.A, operation.label)
            from chalicelib.api.validation import validate

            validate(body, operation.request_schema)  # raises PortalError 400 if refused


def _walk_keys(value, found: set):
    if isinstance(value, dict):
        for key, child in value.items():
            found.add(key)
            _walk_keys(child, found)
    elif isinstance(value, list):
        for child in value:
            _walk_keys(child, found)
    return found


@pytest.mark.parametrize("role", ["commune_A", "manufacturer", "prefecture_01", "program_A"])
def test_no_answer_carries_an_internal_field_and_originals_go_to_the_card_maker_only(world, role):
    document = world.client.http.get("/openapi.json").json_body
    seen_keys, exposed = set(), []
    for operation in operations(document):
        if operation.method != "GET" or not operation.admits(role):
            continue
        path = fill_path(operation, own_path_values(operation, world, world.A))
        query = "?department=01&status=en_preparation" if "department" in operation.query_params else ""
        response = world.client.http.get(path + query, headers={"Authorization": f"Bearer {world.tokens[role]}"})
        if response.status_code == 200 and operation.path != "/openapi.json":
            keys = _walk_keys(response.json_body, set())
            seen_keys |= keys
            exposed += [f"{operation.label}: {k}" for k in keys & INTERNAL_FIELDS]
    assert not exposed
    if role == "manufacturer":
        assert "photo_url" in seen_keys
    else:
        assert "photo_url" not in seen_keys and "card_url" not in seen_keys
