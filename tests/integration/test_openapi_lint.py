"""/openapi.json as publishers' tools take it: Spectral's ``spectral:oas`` rules without an error or a warning, every
operation grouped, described and with its examples, each example valid against its schema."""
import json
import subprocess

import pytest

from tests.conftest import PROJECT_DIR

SPECTRAL_DIR = PROJECT_DIR / "tools" / "spectral"
SPECTRAL = SPECTRAL_DIR / "node_modules" / ".bin" / "spectral"


@pytest.fixture
def served(client):
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    return response.json_body


@pytest.fixture(scope="module")
def spectral():
    """Spectral as pinned in tools/spectral (installed the first time, as make does): the test fails, never skips,
    when it cannot run."""
    if not SPECTRAL.exists():
        subprocess.run(["bash", str(PROJECT_DIR / "scripts" / "install-spectral.sh")], check=True, timeout=300)
    return SPECTRAL


def test_spectral_oas_ruleset_finds_nothing_in_the_served_document(served, spectral, tmp_path):
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(served, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run([str(spectral), "lint", "--ruleset", str(PROJECT_DIR / ".spectral.yaml"), "--format", "json",
                          "--fail-severity", "hint", "--quiet", str(path)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.stdout.strip(), f"spectral did not run: {run.stderr}"
    problems = json.loads(run.stdout)
    assert [(p["code"], ".".join(map(str, p["path"])), p["message"]) for p in problems] == []
    assert run.returncode == 0, run.stderr


def test_spectral_does_see_a_broken_document(spectral, tmp_path):
    """The lint above can fail: an operation without tags nor description and no servers are reported."""
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/x": {"get": {"operationId": "x", "responses": {"200": {"description": "OK"}}}}}}))
    run = subprocess.run([str(spectral), "lint", "--ruleset", str(PROJECT_DIR / ".spectral.yaml"), "--format", "json",
                          "--quiet", str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    codes = {p["code"] for p in json.loads(run.stdout)}
    assert {"operation-tags", "operation-description", "oas3-api-servers", "info-contact"} <= codes


def test_every_operation_has_a_tag_a_description_and_its_examples(served):
    tags = {t["name"] for t in served["tags"]}
    missing = []
    for path, item in served["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert len(operation["tags"]) == 1 and operation["tags"][0] in tags, where
            assert operation["description"].strip(), where
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body:
                missing.append(f"{where}: request body")
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if status.startswith("2") and content is not None and "example" not in content:
                    missing.append(f"{where}: {status} response")
    assert missing == [], ("add an example for the schema of each in chalicelib/api/examples.py (by its name in "
                           "chalicelib/api/schemas.py)")


def test_examples_are_valid_against_their_schemas(served):
    from jsonschema import Draft202012Validator

    checked = 0
    for path, item in served["paths"].items():
        for method, operation in item.items():
            bodies = [operation.get("requestBody", {}).get("content", {}).get("application/json")]
            bodies += [r.get("content", {}).get("application/json") for r in operation["responses"].values()]
            for body in filter(None, bodies):
                if "example" in body:
                    schema = {**body["schema"], "components": served["components"]}  # for its $refs
                    errors = [e.message for e in Draft202012Validator(schema).iter_errors(body["example"])]
                    assert errors == [], f"{method.upper()} {path}: {errors}"
                    checked += 1
    assert checked > 60


def test_tags_follow_the_roles_and_a_route_the_rule_cannot_place_is_told_what_to_add():
    from chalicelib.api.openapi import tag_of
    from chalicelib.api.routing import ALL_ROLES, COMMUNE, MANUFACTURER, PREFECTURE, Endpoint

    def spec(roles, tag=None):
        return Endpoint("/x", "GET", "x", "x", frozenset(roles), 200, None, None, tag=tag)

    assert tag_of(spec(())) == "Public"
    assert tag_of(spec(ALL_ROLES)) == "Public"
    assert tag_of(spec({COMMUNE})) == "Commune"
    assert tag_of(spec({PREFECTURE, MANUFACTURER})) == "Back office"
    assert tag_of(spec({COMMUNE, PREFECTURE}, tag="Programmes")) == "Programmes"
    with pytest.raises(ValueError, match="tag=") as refused:
        tag_of(spec({COMMUNE, PREFECTURE}))
    assert "Commune" in str(refused.value)
    with pytest.raises(ValueError, match="unknown"):
        tag_of(spec({COMMUNE}, tag="Divers"))


def test_responses_name_their_models_once_in_components(served):
    """A generated client gets one model per kind (Order, Card…), not one per operation."""
    schemas = served["components"]["schemas"]
    assert {"Order", "Card", "Official", "Error"} <= set(schemas)
    listed = served["paths"]["/officials"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Official"}
    text = json.dumps(served)
    assert all(f'"#/components/schemas/{name}"' in text for name in schemas)  # none unused


def test_the_served_document_names_its_server_and_contact(served):
    assert served["servers"] == [{"url": "https://site.test/api", "description": served["servers"][0]["description"]}]
    assert served["info"]["contact"]["url"] == "https://site.test"
    assert set(served["components"]["securitySchemes"]) == {"bearer", "oauth2"}


def test_programs_see_the_oauth2_scheme_and_each_operations_scope(served):
    from chalicelib.domain.api_clients import SCOPES

    flow = served["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token" and list(flow["scopes"]) == list(SCOPES)
    assert all(flow["scopes"].values())  # a French description for each
    officials = served["paths"]["/officials"]["get"]["security"]
    assert officials == [{"bearer": []}, {"oauth2": ["officials:read"]}]
    assert served["paths"]["/agents"]["get"]["security"] == [{"bearer": []}]  # no program on account routes
    token = served["paths"]["/oauth/token"]["post"]
    assert list(token["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]
    assert token["security"] == []
