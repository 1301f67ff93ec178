"""The API clients' rules (domain/api_clients.py), HTTP Basic client authentication (RFC 6749 §2.3.1) and scopes on
routes (api/routing.py), without AWS."""
import base64
import json
from types import SimpleNamespace
from urllib.parse import quote_plus

import pytest

from chalicelib.api import routing
from chalicelib.api.api_clients import basic_credentials
from chalicelib.domain import api_clients as rules
from chalicelib.domain.roles import COMMUNE, MANUFACTURER, MINISTRY, PREFECTURE, Principal
from chalicelib.errors import PortalError


def test_each_owner_acts_with_its_role_and_a_state_owner_only_reads():
    assert rules.role_of_owner(rules.commune_owner("210100533")) == COMMUNE
    assert rules.role_of_owner(rules.department_owner("01")) == PREFECTURE
    assert rules.role_of_owner(rules.NATIONAL) == MINISTRY
    assert rules.refused_scopes(rules.commune_owner("210100533"), rules.SCOPES) == []
    for owner in (rules.department_owner("2A"), rules.NATIONAL):
        assert rules.refused_scopes(owner, rules.SCOPES) == [rules.OFFICIALS_WRITE, rules.ORDERS_WRITE]
        assert rules.refused_scopes(owner, rules.READ_SCOPES) == []


def test_a_principal_s_owner_key():
    assert rules.owner_of(COMMUNE, "210100533", "01") == "commune#210100533"
    assert rules.owner_of(PREFECTURE, None, "74") == "department#74"
    assert rules.owner_of(MINISTRY, None, None) == rules.owner_of(MANUFACTURER, None, None) == "national"


@pytest.mark.parametrize("asked,granted", [
    (None, {"officials:read", "orders:read"}), ("", {"officials:read", "orders:read"}),
    ("orders:read", {"orders:read"}), ("  orders:read   officials:read ", {"orders:read", "officials:read"}),
    ("orders:write", None), ("orders:read orders:write", None), ("admin", None)])
def test_a_token_gets_the_scopes_asked_within_the_clients(asked, granted):
    result = rules.granted_scopes(asked, {"officials:read", "orders:read"})
    assert result == (None if granted is None else frozenset(granted))


def test_a_program_is_named_in_histories_by_its_label():
    assert rules.label("Mairie+") == "API : Mairie+" and rules.label("x").startswith(rules.API_LABEL_PREFIX)


def basic(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize("header,expected", [
    (basic("abc:s3cr3t"), ("abc", "s3cr3t")),
    (basic("abc:sec:ret"), ("abc", "sec:ret")),  # only the first colon separates
    (basic(f"{quote_plus('id é')}:{quote_plus('a+b/c=')}"), ("id é", "a+b/c=")),  # §2.3.1: form-urlencoded
    ("basic " + base64.b64encode(b"abc:def").decode(), ("abc", "def")),  # the scheme is case-insensitive
    (basic("abc:"), ("abc", "")),
    (None, None), ("", None), ("Basic", None), ("Bearer abc", None), ("Basic !!!notbase64", None),
    (basic("no-colon"), None), ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), None),
])
def test_http_basic_credentials(header, expected):
    assert basic_credentials(header) == expected


# --- scopes on routes ----------------------------------------------------------------------------------------------

def principal(scopes=None, client=True, role=COMMUNE):
    return Principal("API : Logiciel" if client else "agent@mairie.fr", role, "210100533", "01", "h",
                     client_id="c" * 32 if client else None, client_name="Logiciel" if client else None,
                     scopes=frozenset(scopes or ()) if client else None)


def request_with(header="Bearer x"):
    return SimpleNamespace(headers={"authorization": header}, context={"resourcePath": "/x"})


def spec(scope=None, roles=frozenset({COMMUNE})):
    return routing.Endpoint("/x", "GET", "x", "x", roles, 200, None, None, scope=scope)


@pytest.mark.parametrize("scopes,route_scope,allowed", [
    ({"officials:read"}, "officials:read", True), ({"orders:read"}, "officials:read", False),
    ({"officials:read", "orders:read"}, None, False), (set(), "orders:read", False)])
def test_a_program_needs_the_routes_scope(monkeypatch, scopes, route_scope, allowed):
    monkeypatch.setattr(routing.sessions, "authenticate_reading", lambda token, also: (principal(scopes), []))
    caller = []
    if allowed:
        assert routing._authorise(request_with(), spec(route_scope), [], caller)[0].client_id
    else:
        with pytest.raises(PortalError) as refused:
            routing._authorise(request_with(), spec(route_scope), [], caller)
        assert refused.value.status == 403 and refused.value.code == "insufficient_scope"
        assert (route_scope or "personnes connectées") in refused.value.message
    assert caller and caller[0].client_name == "Logiciel"  # known before the refusal: the audit names it


def test_a_persons_session_is_never_limited_by_scopes(monkeypatch):
    monkeypatch.setattr(routing.sessions, "authenticate_reading", lambda token, also: (principal(client=False), []))
    assert routing._authorise(request_with(), spec(None), [], [])[0].email == "agent@mairie.fr"
    assert routing._authorise(request_with(), spec("orders:write"), [], [])[0].email == "agent@mairie.fr"


def test_a_program_of_the_right_scope_but_the_wrong_role_is_forbidden(monkeypatch):
    monkeypatch.setattr(routing.sessions, "authenticate_reading",
                        lambda token, also: (principal({"orders:read"}), []))
    with pytest.raises(PortalError) as refused:
        routing._authorise(request_with(), spec("orders:read", frozenset({MANUFACTURER, MINISTRY})), [], [])
    assert refused.value.code == "forbidden"


def test_an_unknown_scope_on_a_route_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown scope"):
        routing.endpoint(None, "/y", "GET", summary="y", roles={COMMUNE}, scope="orders:delete")


def form_request(raw: bytes):
    return SimpleNamespace(raw_body=raw)


def test_a_form_body_is_parsed_and_a_repeated_parameter_refused():
    schema = {"type": "object", "properties": {"grant_type": {"type": "string"}}, "required": ["grant_type"]}
    assert routing._parse_form(form_request(b"grant_type=client_credentials&scope=a+b"), schema) == \
        {"grant_type": "client_credentials", "scope": "a b"}
    for raw in (b"grant_type=a&grant_type=b", b"scope=x", b"grant_type=%ff"):
        with pytest.raises(PortalError) as refused:
            routing._parse_form(form_request(raw), schema)
        body = refused.value.body()
        assert refused.value.status == 400 and body["error"] == body["code"] == "invalid_request", raw
        assert json.dumps(body)  # the RFC's fields and the portal's, all plain JSON
