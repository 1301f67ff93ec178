"""Tenant and role isolation, generated from the OpenAPI document: every operation x every role x the objects of the
other tenant.

For each operation of GET /openapi.json and each role (anonymous, agent of commune A, agent of commune B, card maker,
préfecture 01, préfecture 74):
- anonymous on a protected operation: 401;
- a role the operation does not admit (``x-roles``): 403;
- an admitted role naming an object it may not see (path parameter, body reference): 404 (or 422 listing the unknown
  ids), and the answer holds nothing of that tenant but what the request itself sent;
- an admitted role listing (GET) with query parameters aimed at the other tenant (its département, a forged cursor,
  its officials' names): nothing of that tenant in the answer (for an export, in the file it links to);
- an admitted role naming an object it may see, on a GET: neither 401, 403 nor 404 (the ids are real, the 404s above
  are not vacuous).
Every answer is also checked for the API's headers (no-store, nosniff, JSON with a charset, no CORS whatever the
Origin), and the whole matrix must leave the data exactly as it found it.
"""
import json
from collections import Counter as Tally
from urllib.parse import urlencode

from tests.security.conftest import record_figures
from tests.security.openapi_cases import (PATH_OBJECTS, QUERY_REFERENCES, ROLES, fill_path, operations,
                                          own_path_values, sees, valid_body)
from tests.security.world import difference, snapshot

HOSTILE_ORIGIN = "https://attaquant.example"
WITH_BODY = ("POST", "PUT", "PATCH")


def send(world, operation, role, path, query=None, body=None):
    headers = {"Origin": HOSTILE_ORIGIN}
    token = world.tokens.get(role)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    raw = b""
    if operation.method in WITH_BODY:
        headers["Content-Type"] = "application/json"
        raw = json.dumps(body if body is not None else {}).encode()
    url = path + ("?" + urlencode(query) if query else "")
    response = world.client.http.request(operation.method, url, headers=headers, body=raw)
    return response, url + " " + raw.decode()


def header_problems(response) -> list[str]:
    headers = {k.lower(): v for k, v in response.headers.items()}
    problems = []
    if headers.get("cache-control") != "no-store":
        problems.append(f"Cache-Control={headers.get('cache-control')!r}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("no nosniff")
    for name in headers:
        if name.startswith("access-control-"):
            problems.append(f"CORS header {name}: {headers[name]}")
    if response.body and not headers.get("content-type", "").startswith("application/json; charset=utf-8"):
        problems.append(f"Content-Type={headers.get('content-type')!r}")
    return problems


def exported_text(response) -> str:
    """An export's answer is a link to its file (services/exports.py): the file is what may leak, so it is read too."""
    body = response.json_body if response.status_code == 200 and response.body else None
    if not isinstance(body, dict) or not {"url", "format", "rows"} <= set(body):
        return ""
    import requests

    return requests.get(body["url"], timeout=30).content.decode("utf-8-sig", "replace")


def leaked(text: str, request_text: str, tenant) -> list[str]:
    return sorted(m for m in tenant.markers() if m in text and m not in request_text)


def id_variants(world, name: str, role: str, target) -> list[str]:
    ids = list(PATH_OBJECTS[name](target))
    own = {"commune_A": world.A, "commune_B": world.B}.get(role)
    if name == "order_id" and own is not None:
        # the other tenant's order number under my own SIREN, and mine under theirs
        ids += [f"{own.siren}-{order.split('-', 1)[1]}" for order in target.orders.values()]
        ids += [f"{target.siren}-{order.split('-', 1)[1]}" for order in own.orders.values()]
    return ids


def test_every_route_every_role_every_foreign_object(world):
    document = world.client.http.get("/openapi.json").json_body
    ops = operations(document)
    before = snapshot()
    cases, violations, header_violations, skipped = [], [], [], []
    outcome_tally = Tally()

    def check(operation, role, expected, response, request_text, note="", leak_tenants=()):
        status = response.status_code
        text = response.body.decode("utf-8", "replace") if response.body else ""
        text += exported_text(response)
        ok = status in expected
        leaks = [m for t in leak_tenants for m in leaked(text, request_text, t)]
        if expected in ({401}, {403}, {404}):
            body = response.json_body or {}
            if set(body) != {"code", "message"}:
                leaks.append(f"error body has {sorted(body)}")
        cases.append({"operation": operation.label, "role": role, "expected": sorted(expected), "status": status,
                      "note": note})
        outcome_tally[f"{min(expected)}" if len(expected) == 1 else "refused-or-filtered"] += 1
        if not ok or leaks:
            violations.append(f"{operation.label} as {role} {note}: got {status} (expected {sorted(expected)})"
                              + (f", leaked {leaks}" if leaks else "") + f" — {text[:200]}")
        for problem in header_problems(response):
            header_violations.append(f"{operation.label} as {role} {note}: {problem}")

    for operation in ops:
        tenant_params = operation.tenant_path_params()
        query_params = operation.tenant_query_params()
        references = operation.body_references()
        for role in ROLES:
            if operation.public:
                if operation.method == "GET":
                    response, request_text = send(world, operation, role, operation.path)
                    check(operation, role, {200}, response, request_text, "public",
                          leak_tenants=(world.A, world.B))
                else:
                    skipped.append(f"{operation.label} (public: nothing to isolate; abuse limits elsewhere)")
                continue
            if role == "anonymous" or not operation.admits(role):
                expected = {401} if role == "anonymous" else {403}
                path = fill_path(operation, own_path_values(operation, world, world.A))
                body = valid_body(operation.request_schema, world.A, operation.label) \
                    if operation.request_schema else None
                response, request_text = send(world, operation, role, path, body=body)
                check(operation, role, expected, response, request_text, "role", leak_tenants=(world.A, world.B))
                continue
            for target in (world.A, world.B):
                invisible = not sees(role, target, operation)
                if tenant_params:
                    name = tenant_params[0]
                    variants = id_variants(world, name, role, target) if invisible else \
                        PATH_OBJECTS[name](target)[:1]
                    for value in variants:
                        values = own_path_values(operation, world, target) | {name: value}
                        body = valid_body(operation.request_schema, target, operation.label) \
                            if operation.request_schema else None
                        path = fill_path(operation, values)
                        if invisible:
                            response, request_text = send(world, operation, role, path, body=body)
                            check(operation, role, {404}, response, request_text, f"{name}={value} of {target.key}",
                                  leak_tenants=(target,))
                        elif operation.method == "GET":
                            response, request_text = send(world, operation, role, path)
                            check(operation, role, {200, 409}, response, request_text,
                                  f"own {name} of {target.key} (control)")
                elif references and invisible:
                    body = valid_body(operation.request_schema, target, operation.label)
                    response, request_text = send(world, operation, role, operation.path, body=body)
                    check(operation, role, {403, 404, 422}, response, request_text,
                          f"body {references} of {target.key}", leak_tenants=(target,))
                elif operation.method == "GET" and invisible:
                    queries = [{}] + [{name: QUERY_REFERENCES[name](target)} for name in query_params
                                      if QUERY_REFERENCES[name](target) is not None]
                    if "status" in query_params and "department" in query_params:
                        queries.append({"status": "en_preparation", "department": target.department_code})
                    for query in queries:
                        response, request_text = send(world, operation, role, operation.path, query=query)
                        check(operation, role, {200, 400}, response, request_text, f"list {query} of {target.key}",
                              leak_tenants=(target,))
                elif not invisible and operation.method != "GET":
                    skipped.append(f"{operation.label} as {role} on its own objects (allowed; not an isolation case)")
    after = snapshot()
    changed = difference(before, after)
    covered = {c["operation"] for c in cases} | {s.split(" (")[0] for s in skipped}
    record_figures("isolation", {
        "operations": len(ops), "roles": len(ROLES), "cases": len(cases), "violations": violations,
        "header_violations": header_violations, "by_expected": dict(outcome_tally), "data_changed": changed,
        "uncovered": sorted({o.label for o in ops} - covered),
        "cases_per_role": dict(Tally(c["role"] for c in cases)),
    })
    assert {o.label for o in ops} <= covered, "operations missing from the matrix"
    assert not violations, "\n".join(violations)
    assert not header_violations, "\n".join(header_violations)
    assert not changed, f"the matrix changed data: {changed}"
