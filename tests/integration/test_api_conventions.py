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
                ("/admin/communes/{siren}/activation-code", "POST"), ("/admin/reference-syncs", "POST"),
                ("/admin/reference-syncs/latest", "GET"), ("/admin/reference-syncs/{sync_id}", "GET")}
    routed = {(path, method) for path, entries in app.routes.items() for method in entries}
    assert contract <= routed


@pytest.fixture
def behind_cloudfront(monkeypatch):
    """A deployed stage: CloudFront adds the origin secret to every API request."""
    from chalicelib.aws import reset_settings_and_clients

    monkeypatch.setenv("ORIGIN_SECRET", "secret-de-l-origine-0123456789")
    reset_settings_and_clients()
    yield "secret-de-l-origine-0123456789"
    monkeypatch.delenv("ORIGIN_SECRET")
    reset_settings_and_clients()


def test_deployed_the_api_answers_only_requests_that_came_through_cloudfront(client, behind_cloudfront):
    direct = client.http.get("/health")
    assert direct.status_code == 403 and direct.json_body["code"] == "direct_access_refused"
    assert "site" in direct.json_body["message"]
    forged = client.http.get("/health", headers={"X-Origin-Verify": "secret-de-l-origine-012345678"})
    assert forged.status_code == 403
    assert client.http.get("/health", headers={"X-Origin-Verify": behind_cloudfront}).status_code == 200


def test_the_viewer_address_is_believed_only_from_cloudfront(aws, behind_cloudfront):
    from chalicelib.api.routing import _source_ip

    class Request:
        def __init__(self, headers):
            self.headers = headers
            self.context = {"identity": {"sourceIp": "130.176.0.1"}}  # a CloudFront edge

    viewer = {"cloudfront-viewer-address": "203.0.113.9:51234"}
    assert _source_ip(Request({**viewer, "x-origin-verify": behind_cloudfront})) == "203.0.113.9"
    assert _source_ip(Request({**viewer, "x-origin-verify": "deviné"})) == "130.176.0.1"
    assert _source_ip(Request(viewer)) == "130.176.0.1"


def test_locally_nothing_stands_in_front_of_the_api(client):
    assert client.http.get("/health").status_code == 200


def test_locally_a_forged_viewer_address_is_not_believed(aws):
    """No origin secret (the local stack, the tests): nothing in front of the API sets CloudFront-Viewer-Address, so a
    client that writes it does not choose the address its limits are counted under."""
    from chalicelib.api.routing import _source_ip

    class Request:
        headers = {"cloudfront-viewer-address": "198.51.100.7:443"}
        context = {"identity": {"sourceIp": "127.0.0.1"}}

    assert _source_ip(Request()) == "127.0.0.1"


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "2026-13", "2026-00", "1999-12", "2026-1", "mars"])
def test_a_month_outside_the_published_schema_answers_400_never_500(client, operator, month):
    response = client.http.get(f"/admin/reports/monthly?month={month}&department=01",
                               headers={"Authorization": f"Bearer {operator}"})
    assert response.status_code == 400, response.json_body
    assert response.json_body["code"] == "invalid_request"
    assert response.json_body["details"] == {"month": "Format invalide."}


def test_a_month_inside_the_schema_is_answered(client, operator):
    response = client.http.get("/admin/reports/monthly?month=2099-12&department=01",
                               headers={"Authorization": f"Bearer {operator}"})
    assert response.status_code == 200 and response.json_body["month"] == "2099-12"


@pytest.mark.parametrize("query, field", [("status=egaree", "status"), ("department=00", "department"),
                                          ("cursor=" + "x" * 2001, "cursor"), ("admin=1", "admin")])
def test_every_query_parameter_is_checked_against_the_routes_schema(client, operator, query, field):
    response = client.http.get(f"/admin/cards?{query}", headers={"Authorization": f"Bearer {operator}"})
    assert response.status_code == 400, response.json_body
    assert response.json_body["code"] == "invalid_request" and field in response.json_body["details"]


def test_a_query_parameter_given_twice_is_refused(client, operator):
    response = client.http.get("/admin/reports/monthly?month=2026-01&month=2026-02&department=01",
                               headers={"Authorization": f"Bearer {operator}"})
    assert response.status_code == 400 and response.json_body["details"] == {
        "month": "Ce paramètre ne peut être donné qu'une fois."}


def test_the_openapi_document_publishes_each_routes_query_parameters_and_their_400(client):
    from chalicelib.api.routing import REGISTRY

    document = client.http.get("/openapi.json").json_body
    for spec in REGISTRY:
        operation = document["paths"][spec.path][spec.method.lower()]
        published = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert published == spec.query, spec.path
        if spec.query:
            assert "invalid_request" in operation["responses"]["400"]["description"], spec.path
