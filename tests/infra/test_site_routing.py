"""The site's CloudFront Functions (infra/template.py), run in Node as CloudFront runs them: an address the site does
not have gets its « Page introuvable » with a 404, every address it has is left alone, and the API is untouched."""
import json
import shutil
import subprocess

import pytest

from infra.publish_site import NOT_FOUND_METADATA, NOT_FOUND_PAGE, known_paths
from infra.template import DISTRIBUTION_ID, site_function_id, site_routing_functions

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js runs the site's tests (make test installs it)")


def run(event_type: str, events: list[dict]) -> list[dict]:
    code = site_routing_functions()[event_type]
    harness = code + "\nconst events = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n" \
                     "process.stdout.write(JSON.stringify(events.map(handler)));\n"
    done = subprocess.run([NODE, "-e", harness], input=json.dumps(events), capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def viewer_request(uri: str) -> dict:
    return {"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "192.0.2.1"},
            "request": {"method": "GET", "uri": uri, "querystring": {"a": {"value": "1"}}, "headers": {},
                        "cookies": {}}}


def test_known_addresses_pass_and_unknown_ones_get_the_404_page():
    known = known_paths()
    assert "/index.html" in known and "/" + NOT_FOUND_PAGE in known and "/js/api.js" in known
    assert {"/bundle/dsfr.css", "/bundle/dsfr.js", "/js/constants.js", "/robots.txt", "/sitemap.xml"} <= set(known)
    passing = ["/", *known, "/vendor/dsfr/dsfr.min.css", "/vendor/dsfr/icons/system/check-line.svg"]
    unknown = ["/nulle-part.html", "/index.htm", "/js/", "/vendor/", "/vendor/dsfr/", "/a/b/c", "/INDEX.HTML",
               "/__proto__", "/constructor", "/api"]
    answers = run("viewer-request", [viewer_request(uri) for uri in passing + unknown])
    for uri, answer in zip(passing, answers[:len(passing)]):
        assert answer["uri"] == uri and answer["querystring"] == {"a": {"value": "1"}}, uri
    for uri, answer in zip(unknown, answers[len(passing):]):
        assert answer["uri"] == "/" + NOT_FOUND_PAGE and answer["querystring"] == {}, uri


def test_the_404_page_is_answered_with_status_404_and_other_answers_are_unchanged():
    (name, status), = NOT_FOUND_METADATA.items()
    marked = {"statusCode": 200, "statusDescription": "OK",
              "headers": {f"x-amz-meta-{name}": {"value": status}, "content-type": {"value": "text/html"}}}
    plain = {"statusCode": 200, "statusDescription": "OK", "headers": {"content-type": {"value": "text/css"}}}
    events = [{"version": "1.0", "context": {"eventType": "viewer-response"}, "request": {"uri": "/x"},
               "response": response} for response in (marked, plain)]
    page, other = run("viewer-response", events)
    assert page["statusCode"] == 404 and f"x-amz-meta-{name}" not in page["headers"]
    assert other == plain


def test_the_site_behaviour_runs_both_functions_and_the_api_behaviour_none(template):
    distribution = template["Resources"][DISTRIBUTION_ID]["Properties"]["DistributionConfig"]
    associations = distribution["DefaultCacheBehavior"]["FunctionAssociations"]
    assert {a["EventType"] for a in associations} == {"viewer-request", "viewer-response"}
    for association in associations:
        function = template["Resources"][site_function_id(association["EventType"])]
        assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
        assert len(function["Properties"]["FunctionCode"].encode()) < 10_240  # CloudFront Functions' size limit
    assert all("FunctionAssociations" not in behaviour for behaviour in distribution["CacheBehaviors"])
    assert "CustomErrorResponses" not in distribution  # they would replace the API's own 403 and 404 answers


def test_api_gateways_own_answers_are_the_portals_french_errors(template):
    responses = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"]
    for kind in ("MISSING_AUTHENTICATION_TOKEN", "INCOMPLETE_SIGNATURE"):
        assert responses[kind]["statusCode"] == "404"
        body = json.loads(responses[kind]["responseTemplates"]["application/json"])
        assert body["code"] == "route_not_found" and "n'existe pas" in body["message"]
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"):
        body = json.loads(responses[kind]["responseTemplates"]["application/json"])
        assert set(body) == {"code", "message"} and body["message"].isascii() is False
