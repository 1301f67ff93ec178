"""DynamoDB work of every API operation and S3/SQS handler, the journey of a commune with 40 officials, and login time.

    python -m bench.journey      # prints one JSON object (what bench.run reads)

Everything runs on the AWS emulation (moto, in-process) through ``chalice.test.Client``, as the integration tests do,
with botocore's events counting the DynamoDB calls (``bench.dynamodb``). The data are realistic: the reference
communes and préfectures of ``data/reference/``, and a directory where the demo commune (Bourg-en-Bresse) is a commune
nouvelle with 40 officials entitled to a card (its mayor, 14 deputies, 25 delegated mayors, one deputy being also a
delegated mayor) and 20 plain councillors, written with ``bench.generate_rne``.

The journey of the commune: register (activation code, password from the emailed link, log in); for each of the 40
officials, search the directory by name, register the official, start the photo upload, the photo trigger, look at
the official; list the officials; one order of 40 cards, looked at and submitted; the card maker lists the orders to
produce, starts production (the cards are drawn by the image function), looks at the order, ships it; the préfecture
lists what arrives, receives it, prints the receipt and hands the cards over; the commune looks at the order.
Afterwards every other route is called once, so that each API operation is measured.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .common import PROJECT_DIR, median

REFERENCE_DATA = PROJECT_DIR / "data" / "reference"
DEMO_SIREN = "210100533"
DEMO_INSEE = "01053"
OFFICIALS = 40
AGENT_EMAIL = "agent@mairie-bourg.fr"
AGENT_PASSWORD = "une tartine de comté au petit matin"
PREFECTURE_EMAIL = "guichet@ain.gouv.fr"
PREFECTURE_PASSWORD = "trois tampons bleus sur le registre"
LOGIN_ROUNDS = 15

# DynamoDB on-demand prices, eu-west-3 (Paris), standard table class, in US dollars per million request units.
# From knowledge, as in force after AWS halved on-demand prices on 1 November 2024 (us-east-1: 0.625 / 0.125);
# not read from AWS's price list in this run: check it before quoting a budget.
PRICE_DATE = "2024-11-01 (from knowledge, not checked against the AWS price list)"
PRICE_PER_MILLION_WRITE_UNITS = 0.7425
PRICE_PER_MILLION_READ_UNITS = 0.1485


@dataclass
class Request:
    phase: str
    route: str  # "METHOD /template" or "handler: kind"
    status: int
    calls: list
    page: bool = False  # a list route: its queries are pages

    @property
    def queries(self) -> int:
        return sum(1 for c in self.calls if c.operation == "Query")

    @property
    def non_page_calls(self) -> int:
        return len(self.calls) - (self.queries if self.page else 0)


# Routes that are not lists but read whole collections, each with queries: their queries are pages, as a list route's.
# The export of an official reads the directory rows of the person and the commune's orders (docs/orders.md).
COLLECTION_READS = {"GET /officials/{official_id}/export"}


@dataclass
class Run:
    recorder: object
    client: object
    settings: object
    requests: list = field(default_factory=list)
    phase: str = "setup"

    # --- HTTP ----------------------------------------------------------------------------------------------------

    def call(self, method: str, template: str, path: str | None = None, token: str | None = None,
             body: dict | None = None, expect: tuple = (200, 201, 202, 204), label: str | None = None):
        from chalicelib.api.routing import REGISTRY

        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        route = f"{method} {template}"
        with self.recorder.recording(route) as calls:
            response = self.client.http.request(method, path or template, headers=headers,
                                                body=json.dumps(body).encode() if body is not None else b"")
        if response.status_code not in expect:
            raise AssertionError(f"{route}: {response.status_code} {response.body[:500]!r}")
        spec = next((s for s in REGISTRY if s.method == method and s.path == template), None)
        page = bool(spec and spec.response_schema and set(spec.response_schema.get("properties", {})) == {"items",
                                                                                                          "next"})
        page = page or route in COLLECTION_READS
        self.requests.append(Request(self.phase, label or route, response.status_code, calls, page))
        return response.json_body if response.body else None

    # --- the handlers ----------------------------------------------------------------------------------------------

    def deliver(self, queue: str, handler: str) -> int:
        """Hand every queued message to the handler as Lambda would, each invocation measured on its own."""
        from chalicelib import aws

        sqs = aws.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        delivered = 0
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return delivered
            for message in messages:
                kind = _message_kind(message["Body"])
                event = self.client.events.generate_sqs_event([message["Body"]], queue_name=queue)
                with self.recorder.recording(f"{handler}: {kind}") as calls:
                    self.client.lambda_.invoke(handler, event)
                self.requests.append(Request(self.phase, f"{handler}: {kind}", 0, calls))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                delivered += 1

    def scheduled(self, handler: str, kind: str) -> dict:
        """A scheduled function's run, as EventBridge starts it, measured as one invocation."""
        event = self.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                     resources=[])
        with self.recorder.recording(f"{handler}: {kind}") as calls:
            result = self.client.lambda_.invoke(handler, event).payload
        self.requests.append(Request(self.phase, f"{handler}: {kind}", 0, calls))
        return result

    def photos(self) -> int:
        from chalicelib.store.queues import PHOTOS_QUEUE

        return self.deliver(PHOTOS_QUEUE, "process_photo_event")

    def imports(self) -> int:
        from chalicelib.store.queues import IMPORTS_QUEUE

        return self.deliver(IMPORTS_QUEUE, "import_reference_file")

    # --- steps -----------------------------------------------------------------------------------------------------

    def login(self, email: str, password: str, totp_secret: str | None = None) -> str:
        body = {"email": email, "password": password}
        if totp_secret:  # an operator: the code of their second factor
            from tests.helpers import otp

            body["otp"] = otp(totp_secret)
        return self.call("POST", "/sessions", body=body)["token"]

    def import_file(self, token: str, kind: str, content: bytes) -> None:
        from tests.helpers import post_file

        started = self.call("POST", "/admin/reference-imports", token=token, body={"kind": kind})
        post_file(started["upload"], content)
        self.imports()
        result = self.call("GET", "/admin/reference-imports/{import_id}",
                           f"/admin/reference-imports/{started['id']}", token)
        assert result["status"] == "done" and result["rejected"] == 0, result

    def password_from_mail(self, email: str, password: str) -> None:
        from tests.helpers import link_token, outbox_messages

        token = link_token(outbox_messages(Path(self.settings.outbox_dir), email)[-1])
        self.call("POST", "/password", body={"token": token, "password": password})


def _message_kind(body: str) -> str:
    """"render_cards", "recrop", ... for the API's messages; "S3 object created" (photos) or the reference file's kind
    (imports: incoming/imports/<id>/<kind>.csv) for S3 notifications."""
    from urllib.parse import unquote_plus

    try:
        message = json.loads(body)
    except ValueError:
        return "unreadable"
    if not isinstance(message, dict):
        return "unreadable"
    if message.get("action"):
        return message["action"]
    if message.get("event_id"):
        return "order event"  # the stats function's (services/dashboards.py)
    keys = [unquote_plus(r.get("s3", {}).get("object", {}).get("key", "")) for r in message.get("Records") or []]
    if keys and keys[0].startswith("incoming/imports/"):
        return f"{keys[0].rsplit('/', 1)[-1].removesuffix('.csv')} file"
    return "S3 object created"


def directory_file(officials: int = OFFICIALS) -> bytes:
    """The demo commune as a commune nouvelle: mayor, 14 deputies (the first also a delegated mayor), delegated mayors
    up to ``officials`` entitled persons, and 20 plain councillors; the other communes of the reference file too."""
    import random

    from . import generate_rne as g

    deputies = 14
    persons = [[g.MAYOR], [g.adjoint_label(1), g.DELEGATED_MAYOR]]
    persons += [[g.adjoint_label(rank)] for rank in range(2, deputies + 1)]
    persons += [[g.DELEGATED_MAYOR] for _ in range(officials - 1 - deputies)]
    persons += [[g.COUNCILLOR] for _ in range(20)]
    lines = [(g.BOM + g.CM_HEADER + "\n")]
    lines += g._commune_lines(random.Random(5), persons, g._place(DEMO_INSEE, "Bourg-en-Bresse"), "cm", 10_000)
    others = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    lines += [line + "\n" for line in others if f";{DEMO_INSEE};" not in line]
    return "".join(lines).encode("utf-8")


def scenario(run: Run) -> dict:
    from chalicelib.store.tables import Account
    from tests.helpers import MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET, create_operator, otp, post_file
    from tests.unit import photo_corpus as corpus

    # --- setup: the card maker loads the reference files -----------------------------------------------------------
    create_operator("operateur@fabricant.example.fr", "Olivia", "Opératrice", "manufacturer", None,
                    password=MANUFACTURER_PASSWORD)
    operator = run.login("operateur@fabricant.example.fr", MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET)
    for kind, name in (("communes", "communes.csv"), ("prefectures", "prefectures.csv")):
        run.import_file(operator, kind, (REFERENCE_DATA / name).read_bytes())
    run.import_file(operator, "rne_cm", directory_file())
    run.call("POST", "/admin/operators", token=operator, body={
        "email": PREFECTURE_EMAIL, "first_name": "Paula", "last_name": "Préfète", "role": "prefecture",
        "department_code": "01"})
    run.password_from_mail(PREFECTURE_EMAIL, PREFECTURE_PASSWORD)
    prefecture = run.login(PREFECTURE_EMAIL, PREFECTURE_PASSWORD)  # serves the second factor's enrolment only
    secret = run.call("POST", "/me/second-factor", token=prefecture)["secret"]
    run.call("POST", "/me/second-factor/confirm", token=prefecture, body={"otp": otp(secret)})
    code = run.call("POST", "/admin/communes/{siren}/activation-code", f"/admin/communes/{DEMO_SIREN}/activation-code",
                    operator)["activation_code"]

    # --- the journey ---------------------------------------------------------------------------------------------
    run.phase = "register"
    run.call("POST", "/registrations", body={"siren": DEMO_SIREN, "activation_code": code, "last_name": "Martin",
                                             "first_name": "Camille", "email": AGENT_EMAIL})
    run.password_from_mail(AGENT_EMAIL, AGENT_PASSWORD)
    agent = run.login(AGENT_EMAIL, AGENT_PASSWORD)

    run.phase = "officials"
    photo, crop = corpus.portrait_jpeg((700, 900)), corpus.full_crop((700, 900))
    entries = [e for e in run.call("GET", "/directory", token=agent)["items"] if e["eligible_functions"]]
    assert len(entries) == OFFICIALS, len(entries)
    ids = []
    for entry in entries:
        found = run.call("GET", "/directory", f"/directory?q={entry['last_name'].replace(' ', '+')}", agent)
        assert any(item["id"] == entry["id"] for item in found["items"])
        official = run.call("POST", "/officials", token=agent, body={
            "directory_id": entry["id"], "function": entry["eligible_functions"][0]["code"]})
        upload = run.call("POST", "/officials/{official_id}/photo-uploads",
                          f"/officials/{official['id']}/photo-uploads", agent, {"crop": crop})
        post_file(upload, photo, "photo.jpg")
        run.photos()
        seen = run.call("GET", "/officials/{official_id}", f"/officials/{official['id']}", agent)
        assert seen["photo"]["status"] == "ready", seen["photo"]
        ids.append(official["id"])
    assert len(run.call("GET", "/officials", token=agent)["items"]) == OFFICIALS

    run.phase = "order"
    order = run.call("POST", "/orders", token=agent, body={"official_ids": ids})
    order_path = f"/orders/{order['id']}"
    run.call("GET", "/orders/{order_id}", order_path, agent)
    run.call("POST", "/orders/{order_id}/submit", f"{order_path}/submit", agent, {"preview_acknowledged": True})

    run.phase = "back office"
    admin_path = f"/admin/orders/{order['id']}"
    listed = run.call("GET", "/admin/orders", "/admin/orders?status=en_preparation", operator)
    assert any(o["id"] == order["id"] for o in listed["items"])
    transition = "/admin/orders/{order_id}/transitions"
    run.call("POST", transition, f"{admin_path}/transitions", operator, {"to": "en_production"},
             label="POST /admin/orders/{order_id}/transitions (en_production)")
    run.photos()  # the cards are drawn
    run.call("GET", "/admin/orders/{order_id}", admin_path, operator)
    run.call("POST", transition, f"{admin_path}/transitions", operator, {"to": "en_livraison"},
             label="POST /admin/orders/{order_id}/transitions (en_livraison)")
    run.call("GET", "/admin/orders", "/admin/orders?status=en_livraison", prefecture)
    run.call("POST", transition, f"{admin_path}/transitions", prefecture, {"to": "livree"},
             label="POST /admin/orders/{order_id}/transitions (livree)")
    run.call("GET", "/admin/orders/{order_id}/receipt", f"{admin_path}/receipt", prefecture)
    # The mayor comes first, the others later: one card to a representative, then the rest with the order.
    first_card = run.call("GET", "/admin/orders/{order_id}", admin_path, prefecture)["cards"][0]["card_number"]
    run.call("POST", "/admin/cards/{number}/hand-over", f"/admin/cards/{first_card}/hand-over", prefecture,
             {"mode": "representant", "representative": {"last_name": "Lefèvre", "first_name": "Chantal",
                                                         "quality": "secrétaire de mairie"}})
    run.call("POST", transition, f"{admin_path}/transitions", prefecture, {"to": "remise"},
             label="POST /admin/orders/{order_id}/transitions (remise, 39 officials released)")
    final = run.call("GET", "/orders/{order_id}", order_path, agent)
    assert final["status"] == "remise", final["status"]

    # --- every other operation, once ------------------------------------------------------------------------------
    run.phase = "other"
    run.call("GET", "/health")
    run.call("GET", "/openapi.json")
    run.call("GET", "/me", token=agent)
    # A session used again after a while has its idle deadline pushed forward: one more write, at most once a minute
    # per session, whatever the request; measured here on its own.
    from unittest import mock

    from chalicelib import clock

    later = clock.now() + timedelta(minutes=2)
    with mock.patch.object(clock, "now", lambda: later):
        run.call("GET", "/me", token=agent, label="GET /me (after 2 idle minutes: the session's deadline pushed)")
    run.call("GET", "/agents", token=agent)
    run.call("GET", "/dashboard", token=agent)  # the commune's progress: its directory and officials partitions
    invited = run.call("POST", "/agents", token=agent, body={"email": "second@mairie-bourg.fr", "last_name": "Durand",
                                                             "first_name": "Alix"})
    run.call("DELETE", "/agents/{agent_id}", f"/agents/{invited['id']}", agent)
    run.call("POST", "/password-resets", body={"email": AGENT_EMAIL})
    run.call("POST", "/sessions", body={"email": AGENT_EMAIL, "password": "pas le bon mot de passe"}, expect=(401,),
             label="POST /sessions (wrong password)")
    both = next(e for e in entries if len(e["eligible_functions"]) > 1)
    other_function = both["eligible_functions"][1]["code"]
    official_id = next(i for i in ids if i == both["id"].split(".", 1)[1])
    run.call("PATCH", "/officials/{official_id}", f"/officials/{official_id}", agent, {"function": other_function})
    run.photos()  # the preview is redrawn
    run.call("PUT", "/officials/{official_id}/photo/crop", f"/officials/{official_id}/photo/crop", agent,
             {"crop": {"x": 10, "y": 10, "width": 680, "height": 874}})
    run.photos()  # the photo is re-cropped
    # Handed over before, their function changed: the new card replaces the one they hold (to be returned).
    second = run.call("POST", "/orders", token=agent,
                      body={"cards": [{"official_id": official_id, "reason": "changement_de_fonction"}]},
                      label="POST /orders (1 official, a replacement)")
    run.call("GET", "/orders", token=agent)
    run.call("POST", "/orders/{order_id}/cancel", f"/orders/{second['id']}/cancel", agent, {})
    run.call("GET", "/admin/reports/monthly", token=prefecture)
    # The dashboards: every move so far counted by the stats function, then read from the weekly counters.
    from chalicelib.store.queues import EXPORTS_QUEUE, STATS_QUEUE

    run.deliver(STATS_QUEUE, "count_order_events")
    run.call("GET", "/admin/dashboard", token=prefecture)
    run.call("GET", "/admin/dashboard", "/admin/dashboard?scope=national&weeks=52", operator,
             label="GET /admin/dashboard (national, 52 weeks)")
    run.call("GET", "/admin/communes-without-order", token=prefecture)
    run.call("GET", "/admin/cards-to-return", token=prefecture)
    returned = run.call("GET", "/cards", token=agent, label="GET /cards")["items"][0]["number"]
    run.call("GET", "/admin/cards", f"/admin/cards?number={returned}", prefecture, label="GET /admin/cards?number=")
    run.call("GET", "/admin/cards", "/admin/cards?status=remise", operator, label="GET /admin/cards?status=")
    # A program's sync: what changed since the start of the year (a filter on the commune's partition; a
    # département's index by last change).
    run.call("GET", "/orders", "/orders?updated_since=2020-01-01T00:00:00Z", agent, label="GET /orders?updated_since=")
    run.call("GET", "/admin/orders", "/admin/orders?updated_since=2020-01-01T00:00:00Z", prefecture,
             label="GET /admin/orders?updated_since=")
    run.call("GET", "/admin/cards", "/admin/cards?updated_since=2020-01-01T00:00:00Z", prefecture,
             label="GET /admin/cards?updated_since=")
    # Every list as a spreadsheet (docs/exports.md): reads the list's pages, writes the file to the bucket.
    for template, query, token in (("/exports/agents", "", agent), ("/exports/officials", "?format=xlsx", agent),
                                   ("/exports/orders", "", agent), ("/exports/cards", "", agent),
                                   ("/admin/exports/orders", "?status=remise&format=xlsx", operator),
                                   ("/admin/exports/cards", "?status=remise", operator),
                                   ("/admin/exports/cards-to-return", "", prefecture),
                                   ("/prefecture/exports/declarations", "", prefecture),
                                   ("/admin/exports/monthly-report", "", prefecture)):
        answer = run.call("GET", template, template + query, token)
        if "status" in answer:  # the card maker's national lists: written by their worker, then followed
            run.deliver(EXPORTS_QUEUE, "write_list_exports")
            followed = run.call("GET", "/admin/export-jobs/{export_id}", f"/admin/export-jobs/{answer['id']}", token)
            assert followed["status"] == "ready", followed
    run.call("POST", "/admin/activation-letters", token=operator, body={"department_code": "01"})
    run.call("GET", "/officials/{official_id}/export", f"/officials/{ids[-1]}/export", agent)
    run.call("DELETE", "/officials/{official_id}", f"/officials/{ids[-1]}", agent)
    # « Mes sessions » and the second factor's state; the card maker ends the préfecture's sessions (last use of them).
    run.call("GET", "/me/second-factor", token=prefecture)
    run.login(AGENT_EMAIL, AGENT_PASSWORD)  # a second device
    ended = next(s["id"] for s in run.call("GET", "/me/sessions", token=agent)["items"] if not s["current"])
    run.call("DELETE", "/me/sessions/{session_id}", f"/me/sessions/{ended}", agent)
    run.call("POST", "/admin/session-revocations", token=operator, body={"email": PREFECTURE_EMAIL})
    run.call("DELETE", "/sessions/current", token=agent)
    run.call("DELETE", "/sessions", token=run.login(AGENT_EMAIL, AGENT_PASSWORD))  # every session, every device
    # A month later, the hourly purge deletes the photos of the two closed orders (40 cards handed over, 1 cancelled).
    with mock.patch.object(clock, "now", lambda: later + timedelta(days=31)):
        purged = run.scheduled("purge_personal_data", "2 closed orders, 41 cards")
    # (the scheduled run also cancels the drafts over 7 days old: none here, the replacement was cancelled by hand)
    assert purged == {"orders": 2, "postponed": 0, "drafts_cancelled": 0}, purged

    password_hash = Account.get(AGENT_EMAIL).password_hash
    return {"password_hash": password_hash}


# --- login against one hash -----------------------------------------------------------------------------------------

def login_timing(run: Run, password_hash: str, rounds: int = LOGIN_ROUNDS) -> dict:
    from argon2 import PasswordHasher, extract_parameters

    from .common import interleaved

    parameters = extract_parameters(password_hash)
    bare = PasswordHasher(time_cost=parameters.time_cost, memory_cost=parameters.memory_cost,
                          parallelism=parameters.parallelism, hash_len=parameters.hash_len,
                          salt_len=parameters.salt_len, type=parameters.type)
    body = json.dumps({"email": AGENT_EMAIL, "password": AGENT_PASSWORD}).encode()
    headers = {"Content-Type": "application/json"}

    def login():
        response = run.client.http.request("POST", "/sessions", headers=headers, body=body)
        assert response.status_code == 201, response.body

    def verify():
        assert bare.verify(password_hash, AGENT_PASSWORD)

    with run.recorder.paused():
        times = interleaved({"login": login, "hash": verify}, rounds, warmup=1)
    login_ms, hash_ms = median(times["login"]) * 1000, median(times["hash"]) * 1000
    return {"login_ms": round(login_ms, 1), "hash_ms": round(hash_ms, 1), "runs": rounds,
            "login_vs_hash": login_ms / hash_ms,
            "argon2": {"type": parameters.type.name, "memory_kib": parameters.memory_cost,
                       "time_cost": parameters.time_cost, "parallelism": parameters.parallelism}}


# --- summaries ------------------------------------------------------------------------------------------------------

def _per_route(requests: list[Request]) -> list[dict]:
    from .dynamodb import breakdown, summarise

    routes: dict[str, list[Request]] = {}
    for request in requests:
        routes.setdefault(request.route, []).append(request)
    rows = []
    for route, group in routes.items():
        worst = max(group, key=lambda r: (r.non_page_calls, len(r.calls)))
        all_calls = [c for r in group for c in r.calls]
        summary = summarise(all_calls)
        rows.append({
            "route": route, "handler": not route.startswith(("GET ", "POST ", "PUT ", "PATCH ", "DELETE ")),
            "requests": len(group), "max_calls": max(len(r.calls) for r in group),
            "max_non_page_calls": worst.non_page_calls,
            "page_queries": max(r.queries for r in group) if worst.page else 0,
            "list": worst.page, "breakdown": breakdown(worst.calls),
            "read_units_per_request": round(summary["read_units"] / len(group), 2),
            "write_units_per_request": round(summary["write_units"] / len(group), 2),
        })
    return rows


def _journey(requests: list[Request]) -> dict:
    from .dynamodb import summarise

    phases = ("register", "officials", "order", "back office")
    journey = [r for r in requests if r.phase in phases]
    calls = [c for r in journey for c in r.calls]
    total = summarise(calls)
    cost = (total["read_units"] * PRICE_PER_MILLION_READ_UNITS
            + total["write_units"] * PRICE_PER_MILLION_WRITE_UNITS) / 1_000_000
    return {
        "officials": OFFICIALS,
        "requests": sum(1 for r in journey if r.status),
        "handler_invocations": sum(1 for r in journey if not r.status),
        **total,
        "by_phase": {phase: summarise([c for r in journey if r.phase == phase for c in r.calls]) for phase in phases},
        "cost_usd": cost,
        "cost_per_card_usd": cost / OFFICIALS,
        "calls_per_card": total["calls"] / OFFICIALS,
        "prices": {"date": PRICE_DATE, "region": "eu-west-3",
                   "usd_per_million_write_units": PRICE_PER_MILLION_WRITE_UNITS,
                   "usd_per_million_read_units": PRICE_PER_MILLION_READ_UNITS},
    }


def measure() -> dict:
    from .dynamodb import Recorder

    recorder = Recorder()
    recorder.install()
    with tempfile.TemporaryDirectory(prefix="bench-journey-") as tmp:
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-3",
                          AWS_REGION="eu-west-3", SITE_URL="https://site.test", OUTBOX_DIR=str(Path(tmp) / "outbox"),
                          # the stage's own values override the project's, as Chalice does (both may name one)
                          **{**config["environment_variables"], **config["stages"]["local"]["environment_variables"]})
        from moto import mock_aws

        from local.emulation import prepare_dynamodb

        prepare_dynamodb()
        with mock_aws():
            from chalice.test import Client

            from chalicelib.aws import reset_settings_and_clients
            from chalicelib.settings import get_settings
            from local.resources import create_resources

            reset_settings_and_clients()
            create_resources(get_settings())
            import app as app_module

            logging.disable(logging.INFO)  # the access log of hundreds of requests is not the figure

            started = time.perf_counter()
            with Client(app_module.app, stage_name="local", project_dir=str(PROJECT_DIR)) as client:
                run = Run(recorder, client, get_settings())
                found = scenario(run)
                scenario_seconds = time.perf_counter() - started
                login = login_timing(run, found["password_hash"])
    requests = run.requests
    routes = _per_route(requests)
    exercised = {r["route"].split(" (")[0] for r in routes}
    from chalicelib.api.routing import REGISTRY

    missing = [f"{s.method} {s.path}" for s in REGISTRY if f"{s.method} {s.path}" not in exercised]
    api = [r for r in routes if not r["handler"]]
    all_calls = [c for r in requests for c in r.calls]
    return {
        "routes": routes,
        "not_exercised": missing,
        "max_non_page_calls_per_request": max(r["max_non_page_calls"] for r in api),
        "requests_over_3": [r for r in api if r["max_non_page_calls"] > 3],
        "scans": sum(1 for c in all_calls if c.operation == "Scan"),
        "journey": _journey(requests),
        "login": login,
        "scenario_seconds": round(scenario_seconds, 1),
    }


def main() -> int:
    sys.setrecursionlimit(10_000)
    print(json.dumps(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
