"""Headers and browser security: the API's answers (every one of them is also checked in the isolation matrix), the
site's pages as the local site server serves them (the same headers production's CloudFront policy is generated
from), HSTS and the bucket's CORS in the production template.
"""
import re
from http.client import HTTPConnection

import pytest

from tests.conftest import PROJECT_DIR
from tests.security.test_isolation_matrix import HOSTILE_ORIGIN, header_problems

SITE = PROJECT_DIR / "site"
# Listed from their sources (site-src/pages/): the served pages are built from them (`make site`), so one not built
# fails here instead of being left out.
PAGES = sorted(p.name for p in (PROJECT_DIR / "site-src" / "pages").glob("*.html"))


def lambda_event(method: str, path: str, headers: dict) -> dict:
    """What API Gateway hands the function (chalice's test client cannot send OPTIONS)."""
    return {"requestContext": {"httpMethod": method, "resourcePath": path, "path": path,
                               "identity": {"sourceIp": "203.0.113.9"}},
            "headers": {k.lower(): v for k, v in headers.items()}, "pathParameters": {}, "stageVariables": {},
            "multiValueQueryStringParameters": None, "body": None, "isBase64Encoded": False}


def test_the_api_sends_no_cors_headers_even_to_a_preflight_from_a_hostile_or_null_origin(world):
    import app as app_module

    for origin in (HOSTILE_ORIGIN, "null", "https://site.test"):
        for method, path in (("OPTIONS", "/me"), ("OPTIONS", "/sessions"), ("GET", "/me"), ("GET", "/health")):
            headers = {"Origin": origin, "Access-Control-Request-Method": "POST",
                       "Access-Control-Request-Headers": "authorization,content-type",
                       "Authorization": f"Bearer {world.A.token}"}
            if method == "GET":
                answer = world.client.http.request(method, path, headers=headers, body=b"").headers
            else:
                answer = app_module.app(lambda_event(method, path, headers), None).get("headers") or {}
            assert not [h for h in answer if h.lower().startswith("access-control-")], (method, path, answer)


@pytest.mark.parametrize("kind", ["405", "415", "400", "500"])
def test_answers_the_framework_or_a_crash_produce_have_the_same_headers_and_shape(world, monkeypatch, kind):
    client = world.client
    if kind == "405":
        response = client.http.request("PUT", "/health", headers={"Content-Type": "application/json"}, body=b"{}")
    elif kind == "415":
        response = client.http.post("/sessions", headers={"Content-Type": "text/plain"}, body=b"x")
    elif kind == "400":
        response = client.http.post("/sessions", headers={"Content-Type": "application/json"}, body=b"{")
    else:
        from chalicelib.services import accounts

        def crash(principal):
            raise RuntimeError("secret internal detail /var/task/chalicelib")

        monkeypatch.setattr(accounts, "describe_me", crash)
        response = client.http.get("/me", headers={"Authorization": f"Bearer {world.A.token}"})
    assert response.status_code == int(kind)
    assert set(response.json_body) == {"code", "message"} or set(response.json_body) == {"code", "message", "details"}
    assert "Traceback" not in response.body.decode() and "secret internal" not in response.body.decode()
    assert not header_problems(response)


def test_transient_aws_failures_answer_503_with_retry_after(world):
    from tests.security.faults import inject

    with inject(0):
        response = world.client.http.get("/me", headers={"Authorization": f"Bearer {world.A.token}"})
    assert response.status_code == 503 and response.json_body["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert not header_problems(response)


@pytest.fixture(scope="module")
def site():
    import socket

    from local.site_server import start_site_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_site_server(SITE, "127.0.0.1", port, "http://127.0.0.1:9", "http://127.0.0.1:9")
    yield port
    server.shutdown()


def fetch(port: int, path: str):
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def csp_directives(value: str) -> dict[str, list[str]]:
    directives = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_a_strict_csp_no_framing_no_referrer_nosniff(site, page):
    status, headers, body = fetch(site, f"/{page}?token=secret-from-an-email")
    assert status == 200
    csp = csp_directives(headers["content-security-policy"])
    for directive in ("script-src", "default-src", "style-src"):
        assert csp.get(directive) == ["'self'"], (directive, csp.get(directive))
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert not any("unsafe" in source or source == "*" for sources in csp.values() for source in sources)
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert not [h for h in headers if h.startswith("access-control-")]


@pytest.mark.parametrize("page", PAGES)
def test_no_page_has_inline_script_or_event_handler(page):
    html = (SITE / page).read_text()
    inline = [m.group(0)[:80] for m in re.finditer(r"<script\b(?![^>]*\bsrc=)[^>]*>", html)]
    handlers = re.findall(r"\son[a-z]+\s*=", html)
    assert not inline and not handlers and "javascript:" not in html


def test_scripts_never_write_html_from_data():
    sinks = []
    for script in (SITE / "js").rglob("*.js"):
        text = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            if sink in text:
                sinks.append(f"{script.relative_to(SITE)}: {sink}")
    assert not sinks


def test_the_site_keeps_no_personal_data_in_local_storage():
    assert not [s for s in (SITE / "js").rglob("*.js") if "localStorage" in s.read_text()]


def test_production_sends_hsts_for_two_years_with_subdomains_on_the_site_and_the_api():
    from infra.project import load_stage
    from infra.template import response_headers_config, site_resources

    stage = load_stage("prod")
    hsts = response_headers_config(stage)["SecurityHeadersConfig"]["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 365 * 24 * 3600 and hsts["IncludeSubdomains"] and hsts["Override"]
    distribution = site_resources(stage)["SiteDistribution"]["Properties"]["DistributionConfig"]
    behaviours = [distribution["DefaultCacheBehavior"]] + distribution["CacheBehaviors"]
    assert all(b.get("ResponseHeadersPolicyId") == {"Ref": "SiteHeadersPolicy"} for b in behaviours)
    assert all(b["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only") for b in behaviours)


def test_the_bucket_accepts_cross_origin_posts_from_the_site_only():
    from infra.project import load_stage
    from infra.template import data_bucket_resources

    stage = load_stage("prod")
    text = repr(data_bucket_resources(stage))
    rules = re.findall(r"'AllowedOrigins': \[([^\]]*)\]", text)
    assert rules and all(stage.site_url in r and "*" not in r and "null" not in r for r in rules)
