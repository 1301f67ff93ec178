"""What every route shares: JSON only, one error shape in French, the OpenAPI document in step with the routes."""
import json

import pytest


def test_a_non_json_body_gets_415_in_the_portal_error_shape(client):
    response = client.http.post("/sessions", headers={"Content-Type": "text/plain"}, body=b"email=x")
    assert response.status_code == 415
    assert response.json_body["code"] == "unsupported_media_type"
    assert "JSON" in response.json_body["message"]


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"[1, 2", b'{"email": }'])
def test_malformed_json_gets_400(client, body):
    response = client.http.post("/sessions", headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 400
    assert response.json_body["code"] == "invalid_json"


def test_missing_and_unknown_fields_are_reported_per_field_in_french(client):
    response = client.http.post("/registrations", headers={"Content-Type": "application/json"},
                                body=json.dumps({"siren": "210100533", "status": "admin"}))
    assert response.status_code == 400
    assert response.json_body["code"] == "invalid_request"
    details = response.json_body["details"]
    assert details["activation_code"] == "Ce champ est obligatoire."
    assert details["status"] == "Ce champ n'est pas accepté."


@pytest.mark.parametrize("body", [[], "texte", 42, None, {"email": 5, "password": ["x"]}])
def test_wrong_json_types_get_400_never_500(client, body):
    response = client.http.post("/sessions", headers={"Content-Type": "application/json"}, body=json.dumps(body))
    assert response.status_code == 400
    assert response.json_body["code"] == "invalid_request"


def test_wrong_method_gets_405_in_the_portal_error_shape(client):
    response = client.http.put("/health", headers={"Content-Type": "application/json"}, body=b"{}")
    assert response.status_code == 405
    assert response.json_body["code"] == "method_not_allowed"


def test_openapi_document_is_valid_3_1_and_matches_the_routes(client, app):
    from openapi_spec_validator import validate

    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json_body
    assert document["openapi"].startswith("3.1")
    validate(document)
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routed = {(path, method) for path, entries in app.routes.items() for method in entries}
    assert documented == routed


def test_every_route_says_which_roles_it_admits(app):
    from chalicelib.api.routing import REGISTRY

    declared = {(e.path, e.method) for e in REGISTRY}
    routed = {(path, method) for path, entries in app.routes.items() for method in entries}
    assert routed == declared  # no route registered outside the `endpoint` decorator


def test_api_contract_routes_are_all_present(app):
    contract = {("/health", "GET"), ("/registrations", "POST"), ("/password", "POST"), ("/password-resets", "POST"),
                ("/sessions", "POST"), ("/sessions/current", "DELETE"), ("/me", "GET"), ("/agents", "GET"),
                ("/agents", "POST"), ("/agents/{agent_id}", "DELETE"), ("/admin/reference-imports", "POST"),
                ("/admin/reference-imports/{import_id}", "GET"), ("/admin/operators", "POST"),
                ("/admin/communes/{siren}/activation-code", "POST")}
    routed = {(path, method) for path, entries in app.routes.items() for method in entries}
    assert contract <= routed
