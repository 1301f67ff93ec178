"""Least privilege: one role per function, no wildcard action or resource, and each role allows exactly enough.

"Enough" is checked by running the portal's journeys on the emulation and evaluating every AWS call each function makes
against that function's generated policy: a use case that starts calling a new operation, table, index, prefix or
queue fails here until `infra/access.py` grants it.
"""
import json
from datetime import timedelta
from unittest import mock

import pytest

from chalicelib import clock
from infra import checks
from infra.project import deployable_stages
from tests.conftest import REFERENCE_DATA
from tests.helpers import (OPERATOR_TOTP_SECRET, auth, commune_with_ready_officials, deliver_photo_events,
                           deliver_s3_events, import_file, load_reference_data, log_in, post_file, post_json,
                           register_official, transition, upload_photo)
from tests.infra import aws_calls
from tests.unit import photo_corpus as corpus


def statements(template: dict, stage, function: str) -> list[dict]:
    role = checks.function_roles(template, stage)[function]
    return checks.role_statements(role, template)


def actions_of(template, stage, function) -> set[str]:
    found = set()
    for statement in statements(template, stage, function):
        found.update([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    return found


def test_each_function_has_its_own_role_with_no_wildcard(template, stage):
    assert checks.least_privilege_problems(template, stage) == []
    roles = checks.function_roles(template, stage)
    assert len({id(r) for r in roles.values()}) == len(stage.functions) >= 3


def test_only_the_api_the_notices_and_the_mails_functions_send_mail_and_only_from_the_stage_sender(template, stage):
    for function in stage.functions:
        mail = [s for s in statements(template, stage, function.name)
                if any(a.startswith("ses:") for a in s["Action"])]
        if function.name not in ("api_handler", "tell_communes", "send_account_mails"):
            assert mail == [], function.name
            continue
        assert len(mail) == 1 and mail[0]["Action"] == ["ses:SendRawEmail"]
        assert mail[0]["Resource"] == f"arn:aws:ses:eu-west-3:{checks.FAKE_ACCOUNT}:identity/{stage.mail_domain}"
        assert mail[0]["Condition"] == {"StringEquals": {"ses:FromAddress": stage.mail_sender}}


def test_queues_are_read_only_by_their_consumer_and_written_only_by_who_hands_work_over(template, stage):
    from chalicelib.store.queues import (EXPORTS_QUEUE, MAILS_QUEUE, NOTICES_QUEUE, PHOTOS_QUEUE, STATS_QUEUE,
                                         SYNCS_QUEUE, WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_EVENTS_QUEUE)

    senders = {"api_handler": {PHOTOS_QUEUE, SYNCS_QUEUE, NOTICES_QUEUE, MAILS_QUEUE, STATS_QUEUE,
                               WEBHOOK_EVENTS_QUEUE, EXPORTS_QUEUE},
               "sync_reference_files": {SYNCS_QUEUE},
               "import_reference_file": {NOTICES_QUEUE, WEBHOOK_EVENTS_QUEUE},
               "process_photo_event": {WEBHOOK_EVENTS_QUEUE},
               # the fan-out queues each delivery's first attempt; the delivery function its next ones
               "fan_out_webhook_events": {WEBHOOK_DELIVERIES_QUEUE},
               "deliver_webhooks": {WEBHOOK_DELIVERIES_QUEUE},
               "write_list_exports": {EXPORTS_QUEUE}}  # a failed attempt, queued again

    for function in stage.functions:
        for statement in statements(template, stage, function.name):
            sqs = [a for a in statement["Action"] if a.startswith("sqs:")]
            if not sqs:
                continue
            queue = statement["Resource"].rsplit(":", 1)[-1]
            if "sqs:ReceiveMessage" in sqs:
                assert queue == function.queue and set(sqs) == {"sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                                "sqs:GetQueueAttributes"}
            else:
                assert queue in senders.get(function.name, ()), (function.name, queue)
                assert set(sqs) == {"sqs:GetQueueUrl", "sqs:SendMessage"}


def test_the_import_function_reads_reference_files_only(template, stage):
    from chalicelib.store.files import IMPORTS_PREFIX

    s3 = [s for s in statements(template, stage, "import_reference_file") if s["Action"][0].startswith("s3:")]
    assert s3 == [{"Sid": s3[0]["Sid"], "Effect": "Allow", "Action": ["s3:GetObject"],
                   "Resource": f"arn:aws:s3:::{stage.data_bucket}/{IMPORTS_PREFIX}*"}]


def test_no_function_may_scan_or_administer_anything(template, stage):
    forbidden = ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:CreateTable", "dynamodb:UpdateTable",
                 "s3:PutBucketPolicy", "s3:DeleteBucket", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "iam:")
    for function in stage.functions:
        granted = actions_of(template, stage, function.name)
        assert not [a for a in granted if a.startswith(forbidden)], function.name
        # Secrets Manager: reading the secrets the function's entry names, nothing else (below).
        assert not [a for a in granted if a.split(":")[0] not in ("logs", "dynamodb", "s3", "sqs", "ses",
                                                                  "secretsmanager")]
        assert {a for a in granted if a.startswith("secretsmanager:")} <= {"secretsmanager:GetSecretValue"}


def test_only_the_api_reads_proconnect_s_secret_and_no_other(template, stage):
    for function in stage.functions:
        readers = [s for s in statements(template, stage, function.name)
                   if any(a.startswith("secretsmanager:") for a in s["Action"])]
        if function.name != "api_handler":
            assert not readers, function.name
            continue
        [statement] = readers
        assert statement["Action"] == ["secretsmanager:GetSecretValue"]
        name = stage.environment["PROCONNECT_SECRET_NAME"]
        assert statement["Resource"].endswith(f":secret:{name}-??????"), statement["Resource"]


# --- enough: the journeys ---------------------------------------------------------------------------------------

def run_journeys(client, settings) -> None:
    """Most of what the portal does, through its API and its event handlers, as in the integration tests."""
    from tests.helpers import create_operator

    operator = load_reference_data(client, REFERENCE_DATA)  # reference imports: API + import function
    agent, ids = commune_with_ready_officials(client, settings, operator, REFERENCE_DATA)  # directory, photos
    from chalicelib.store.queues import NOTICES_QUEUE

    # the commune's first look at the directory, asked at its registration (the notices function)
    assert deliver_s3_events(client, queue=NOTICES_QUEUE, handler="tell_communes") == 1
    for path in ("/me", "/directory", "/officials", f"/officials/{ids[0]}", "/agents", "/openapi.json"):
        assert client.http.get(path, headers=auth(agent)).status_code == 200, path
    for official_id in ids:  # a change of function re-draws the preview (API -> photos queue -> image function)
        official = client.http.get(f"/officials/{official_id}", headers=auth(agent)).json_body
        other = [f["code"] for f in official["eligible_functions"] if f["code"] != official["function"]]
        if other:
            response = client.http.patch(f"/officials/{official_id}", headers=auth(agent),
                                         body=json.dumps({"function": other[0]}))
            assert response.status_code == 200, response.json_body
    crop = corpus.full_crop((700, 900))
    response = client.http.put(f"/officials/{ids[0]}/photo/crop", headers=auth(agent), body=json.dumps({"crop": crop}))
    assert response.status_code == 202, response.json_body
    deliver_photo_events(client)
    # An official registered, photographed, sent a second photo not yet processed, then removed with their photos.
    extra = register_official(client, agent, "FONTAINE", "adjoint").json_body
    upload_photo(client, agent, extra["id"], corpus.small_jpeg((700, 900)), crop)
    upload_photo(client, agent, extra["id"], corpus.small_jpeg((700, 900)), crop, deliver=False)
    assert client.http.delete(f"/officials/{extra['id']}", headers=auth(agent)).status_code == 204
    deliver_photo_events(client)  # the late event of the removed official's upload
    # Agents.
    invited = post_json(client, "/agents", {"email": "second@mairie-bourg.fr", "last_name": "Durand",
                                            "first_name": "Alix"}, agent)
    assert invited.status_code == 201, invited.json_body
    assert client.http.delete(f"/agents/{invited.json_body['id']}", headers=auth(agent)).status_code == 204
    # An order, from the commune to the hand-over, with the cards drawn by the image function.
    prefecture_password = "le guichet des élus de l'Ain"
    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password=prefecture_password)
    prefecture = log_in(client, "guichet@ain.gouv.fr", prefecture_password, OPERATOR_TOTP_SECRET)
    run_sign_in_journeys(client, settings, operator, agent)
    run_api_client_journeys(client, operator, agent)
    order = post_json(client, "/orders", {"official_ids": ids}, agent)
    assert order.status_code == 201, order.json_body
    order_id = order.json_body["id"]
    from chalicelib import aws as containers

    containers._queue_urls.clear()  # the API is another container than the image function (both tell the webhooks)
    assert post_json(client, f"/orders/{order_id}/submit", {"preview_acknowledged": True}, agent).status_code == 200
    assert transition(client, operator, order_id, "en_production").status_code == 200
    deliver_photo_events(client)
    for token, target in ((operator, "en_livraison"), (prefecture, "livree"), (prefecture, "remise")):
        assert transition(client, token, order_id, target).status_code == 200, target
    # An official not yet in the directory: declared with the procès-verbal (checked by the image function), then
    # validated by the préfecture, which lists its département's declarations.
    declared = post_json(client, "/officials/declarations", {
        "last_name": "Roussel", "first_name": "Inès", "sex": "F", "birth_date": "1980-05-02",
        "election_date": "2026-03-22", "function": "adjoint"}, agent)
    assert declared.status_code == 201, declared.json_body
    post_file(declared.json_body["proof_upload"], b"%PDF-1.4\n%%EOF\n", "pv.pdf")
    deliver_photo_events(client)
    assert client.http.get("/prefecture/declarations", headers=auth(prefecture)).status_code == 200
    declared_id = declared.json_body["official"]["id"]
    review = post_json(client, f"/prefecture/declarations/210100533/{declared_id}/review", {"decision": "validate"},
                       prefecture)
    assert review.status_code == 200, review.json_body
    # The order's moves counted by the stats function, read by the dashboards.
    from chalicelib.store.queues import STATS_QUEUE

    assert deliver_s3_events(client, queue=STATS_QUEUE, handler="count_order_events") == 5
    for token, path in ((prefecture, "/admin/dashboard"), (operator, "/admin/dashboard?scope=national&weeks=4")):
        assert client.http.get(path, headers=auth(token)).json_body["orders"]["remise"][-1] == 1, path
    for token, path in ((agent, "/orders"), (agent, f"/orders/{order_id}"), (operator, f"/admin/orders/{order_id}"),
                        (operator, "/admin/orders?status=remise"), (operator, "/admin/orders?department=01"),
                        (prefecture, "/admin/orders?status=remise"), (prefecture, f"/admin/orders/{order_id}/receipt"),
                        (prefecture, "/admin/reports/monthly"),
                        # a program's sync: the département's changes since an instant (its index by last change)
                        (prefecture, "/admin/orders?updated_since=2026-01-01T00:00:00Z"),
                        (prefecture, "/admin/cards?updated_since=2026-01-01T00:00:00Z")):
        assert client.http.get(path, headers=auth(token)).status_code == 200, path
    # A newer directory without GIRAUD: their rows end, their delivered card is to be returned.
    lines = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_text(encoding="utf-8-sig").splitlines()
    newer = "\n".join(line for line in lines if "GIRAUD" not in line) + "\n"
    from chalicelib import aws as aws_clients

    aws_clients._queue_urls.clear()  # the import function is another container than the API: its own look-up
    assert import_file(client, operator, "rne_cm", newer.encode("utf-8-sig"))["status"] == "done"
    to_return = client.http.get("/admin/cards-to-return", headers=auth(prefecture)).json_body["items"]
    assert [c["order_id"] for c in to_return] == [order_id]
    # The card registry: the commune's cards, the registry search, the signed receipt, a loss, the destruction.
    number = to_return[0]["number"]
    for token, path in ((agent, "/cards"), (agent, f"/cards/{number}"), (prefecture, f"/admin/cards?number={number}"),
                        (operator, "/admin/cards?status=a_restituer"), (prefecture, f"/admin/cards/{number}"),
                        (prefecture, f"/admin/cards/{number}/hand-over-receipt")):
        assert client.http.get(path, headers=auth(token)).status_code == 200, path
    # The lists as spreadsheets: written to the bucket, handed out by presigned GET (services/exports.py).
    for token, path, rows in ((agent, "/exports/cards?format=xlsx", len(ids)),
                              (prefecture, "/admin/exports/cards-to-return", 1)):
        exported = client.http.get(path, headers=auth(token))
        assert exported.status_code == 200 and exported.json_body["rows"] == rows, (path, exported.json_body)
    # The card maker's national lists: written by their worker, then followed.
    from chalicelib.store.queues import EXPORTS_QUEUE

    national = [client.http.get(path, headers=auth(operator)).json_body["id"]
                for path in ("/admin/exports/orders?status=remise&format=xlsx", "/admin/exports/cards?status=a_restituer")]
    # the first worker fails (DynamoDB unavailable): it queues the file again for later
    from chalicelib.services import exports as export_service

    from tests.helpers import queued

    bodies = queued(EXPORTS_QUEUE)
    assert len(bodies) == 2
    aws_clients._queue_urls.clear()  # the writer is another container than the API: its own look-up
    with mock.patch("chalicelib.events.exports.national_table", side_effect=RuntimeError("unavailable")), \
            mock.patch.object(export_service, "RETRY_DELAY_SECONDS", 0):
        for body in bodies:
            client.lambda_.invoke("write_list_exports", client.events.generate_sqs_event([body],
                                                                                         queue_name=EXPORTS_QUEUE))
    assert deliver_s3_events(client, queue=EXPORTS_QUEUE, handler="write_list_exports") == 2
    for export_id in national:
        followed = client.http.get(f"/admin/export-jobs/{export_id}", headers=auth(operator)).json_body
        assert followed["status"] == "ready" and followed["rows"] == 1, followed
    for scan in (b"%PDF-1.4 recepisse signe", b"\xff\xd8\xff\xe0 recepisse mieux numerise"):  # the second replaces it
        upload = post_json(client, f"/admin/cards/{number}/receipt-uploads", {}, prefecture)
        assert upload.status_code == 201, upload.json_body
        assert post_file(upload.json_body, scan, "recepisse").status_code == 204
        attached = post_json(client, f"/admin/cards/{number}/receipt", {"upload_id": upload.json_body["upload_id"]},
                             prefecture)
        assert attached.status_code == 200, attached.json_body
    declared = post_json(client, f"/cards/{number}/declarations", {"kind": "perte", "date": "2026-11-30",
                                                                    "circumstances": "Perdue en déplacement"}, agent)
    assert declared.status_code == 201, declared.json_body
    assert post_json(client, f"/admin/cards/{number}/destroy", {}, prefecture).status_code == 200
    assert post_json(client, f"/admin/cards/{number}/undo", {}, prefecture).json_body["status"] == "perdue"
    # The commune is told (the notices function), reads the notice in its space and marks it read.
    assert deliver_s3_events(client, queue=NOTICES_QUEUE, handler="tell_communes") == 1
    [notice] = client.http.get("/directory-notices", headers=auth(agent)).json_body["items"]
    assert client.http.post(f"/directory-notices/{notice['id']}/read", headers=auth(agent)).status_code == 204
    letters = post_json(client, "/admin/activation-letters", {"department_code": "01"}, operator)
    assert letters.status_code == 201, letters.json_body
    code = client.http.post("/admin/communes/210102836/activation-code", headers=auth(operator))
    assert code.status_code == 201, code.json_body
    # Sessions and passwords: a failed login (rate-limit counters), a reset link, a logout.
    assert post_json(client, "/sessions", {"email": "agent@mairie-bourg.fr", "password": "faux"}).status_code == 401
    assert post_json(client, "/password-resets", {"email": "agent@mairie-bourg.fr"}).status_code == 202
    # Wrong activation codes for a commune not yet registered, enough for its préfecture to be told (a minute apart
    # every few, so that the per-commune slowdown lets them through).
    for n in range(20):
        moment = clock.now() + timedelta(minutes=n // 5)
        with mock.patch.object(clock, "now", lambda moment=moment: moment):
            wrong = post_json(client, "/registrations", {"siren": "210102836", "activation_code": f"AAAA-BBBB-{n:04d}",
                                                         "last_name": "Devin", "first_name": "Eve",
                                                         "email": "devin@exemple.fr"})
            assert wrong.status_code == 403, wrong.json_body
    from chalicelib.store.queues import MAILS_QUEUE

    # the reset link and the alerts, written and sent by the mails function
    assert deliver_s3_events(client, queue=MAILS_QUEUE, handler="send_account_mails") == 2
    later = clock.now() + timedelta(minutes=2)  # a session used again after a while is extended
    with mock.patch.object(clock, "now", lambda: later):
        assert client.http.get("/me", headers=auth(agent)).status_code == 200
    assert client.http.delete("/sessions/current", headers=auth(agent)).status_code == 204
    # The RNE from data.gouv.fr: the daily sync and the back office's button (the worker downloads and hands the
    # files to the import), then a broken download (the upload aborted).
    run_syncs(client, operator)
    # Three months on, the daily pass flags the declared official the directory still does not list.
    with mock.patch.object(clock, "now", lambda: later + timedelta(days=91)):
        client.lambda_.invoke("sync_reference_files", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    # A month after the hand-over, the scheduled purge deletes the order's photos and cards.
    with mock.patch.object(clock, "now", lambda: later + timedelta(days=31)):
        purged = client.lambda_.invoke("purge_personal_data", client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert purged.payload["orders"] == 1, purged.payload
    run_webhook_journeys(client)


def run_webhook_journeys(client) -> None:
    """A commune's program with a webhook for every event: the fan-out of what the journeys above queued (an event
    fanned out twice, as SQS may), then the attempts to a receiver that fails the first POST."""
    from chalicelib import aws as aws_clients
    from chalicelib.domain import api_clients, webhooks
    from tests.helpers import DEMO_SIREN
    from tests.helpers import queued
    from tests.integration.test_webhooks import api_client, deliver_until_quiet, fan_out, webhook
    from tests.webhook_receiver import Receiver

    aws_clients._queue_urls.clear()  # the webhooks' functions are other containers: their own look-ups
    with Receiver(answers=(500,)) as receiver:
        program = api_client(api_clients.commune_owner(DEMO_SIREN))
        webhook(program, receiver.url, events=webhooks.EVENTS)
        from chalicelib.store.queues import WEBHOOK_EVENTS_QUEUE

        from chalicelib.events.webhooks import events_of

        bodies = queued(WEBHOOK_EVENTS_QUEUE)
        events = [event for body in bodies for event in events_of(body)]
        assert {event["type"] for event in events} == set(webhooks.EVENTS)
        fan_out(client, bodies + bodies[:1])
        aws_clients._queue_urls.clear()
        deliver_until_quiet(client)
        assert len(receiver.delivered()) == len(events) and receiver.received[0].answered == 500


def local_secret_name(settings) -> str:
    return f"{settings.table_prefix}proconnect"


def run_api_client_journeys(client, operator: str, agent: str) -> None:
    """A commune's API client: created, listed, a token refused then given, a call with it, its webhooks, revoked; a
    préfecture's client created, listed and revoked by the card maker."""
    import base64

    created = post_json(client, "/api-clients", {"name": "Logiciel", "scopes": ["officials:read"]}, agent).json_body
    assert client.http.get("/api-clients", headers=auth(agent)).status_code == 200
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for secret, status in (("faux", 401), (created["client_secret"], 200)):
        basic = base64.b64encode(f"{created['client_id']}:{secret}".encode()).decode()
        response = client.http.post("/oauth/token", headers={**form, "Authorization": f"Basic {basic}"},
                                    body=b"grant_type=client_credentials")
        assert response.status_code == status, response.json_body
    assert client.http.get("/officials", headers=auth(response.json_body["access_token"])).status_code == 200
    # its webhooks: registered, listed, their (empty) delivery log, one deleted
    hooks = f"/api-clients/{created['client_id']}/webhooks"
    hook = post_json(client, hooks, {"url": "https://editeur.example.fr/webhooks", "events": ["photo.checked"]},
                     agent)
    assert hook.status_code == 201, hook.json_body
    assert client.http.get(hooks, headers=auth(agent)).status_code == 200
    assert client.http.get(f"{hooks}/{hook.json_body['id']}/deliveries", headers=auth(agent)).status_code == 200
    assert client.http.delete(f"{hooks}/{hook.json_body['id']}", headers=auth(agent)).status_code == 204
    assert client.http.delete(f"/api-clients/{created['client_id']}", headers=auth(agent)).status_code == 204
    state = post_json(client, "/admin/api-clients", {"name": "Suivi", "scopes": ["orders:read"],
                                                     "department_code": "01"}, operator)
    assert state.status_code == 201, state.json_body
    assert client.http.get("/admin/api-clients?department_code=01", headers=auth(operator)).status_code == 200
    assert client.http.delete(f"/admin/api-clients/{state.json_body['client_id']}",
                              headers=auth(operator)).status_code == 204


def run_sign_in_journeys(client, settings, operator: str, agent: str) -> None:
    """The second factor's enrolment, « Mes sessions », the card maker ending an operator's sessions, and a ProConnect
    sign-in whose client secret is read from Secrets Manager (against a provider of the test's own)."""
    import os

    from chalicelib.services.accounts import create_operator as without_second_factor
    from chalicelib.settings import get_settings
    from tests.helpers import otp
    from tests.oidc_stub import CLIENT_ID, CLIENT_SECRET, OidcStub

    without_second_factor("guichet@jura.gouv.fr", "Jules", "Jura", "prefecture", "74", password="le guichet du Jura")
    jura = log_in(client, "guichet@jura.gouv.fr", "le guichet du Jura")
    secret = post_json(client, "/me/second-factor", {}, jura).json_body["secret"]
    assert post_json(client, "/me/second-factor/confirm", {"otp": otp(secret)}, jura).status_code == 200
    assert post_json(client, "/sessions", {"email": "guichet@jura.gouv.fr", "password": "le guichet du Jura",
                                           "otp": otp(secret)}).status_code == 201
    other = log_in(client, "guichet@jura.gouv.fr", "le guichet du Jura", secret)
    items = client.http.get("/me/sessions", headers=auth(jura)).json_body["items"]
    ended = next(item["id"] for item in items if not item["current"])
    assert client.http.delete(f"/me/sessions/{ended}", headers=auth(jura)).status_code == 204
    assert post_json(client, "/admin/session-revocations", {"email": "guichet@jura.gouv.fr"}, operator) \
        .status_code == 204
    assert client.http.get("/me", headers=auth(other)).status_code == 401

    name = local_secret_name(settings)
    import boto3  # the operator's step of docs/deploy.md, outside any function

    boto3.client("secretsmanager", region_name=settings.region).create_secret(Name=name, SecretString=CLIENT_SECRET)
    with OidcStub() as provider:
        os.environ.update(PROCONNECT_DISCOVERY_URL=provider.discovery_url, PROCONNECT_CLIENT_ID=CLIENT_ID,
                          PROCONNECT_SECRET_NAME=name)
        get_settings.cache_clear()
        try:
            provider.identities["bourg"] = {"email": "agent@mairie-bourg.fr", "siret": "21010053300011"}
            url = post_json(client, "/proconnect/authorize", {}).json_body["authorization_url"]
            signed_in = post_json(client, "/proconnect/sessions", provider.authorize(url, "bourg"))
            assert signed_in.status_code == 201, signed_in.json_body
            assert post_json(client, "/proconnect/logout", {}, signed_in.json_body["token"]).json_body["logout_url"]
        finally:
            for variable in ("PROCONNECT_DISCOVERY_URL", "PROCONNECT_CLIENT_ID", "PROCONNECT_SECRET_NAME"):
                os.environ.pop(variable, None)
    get_settings.cache_clear()


def run_syncs(client, operator: str) -> None:
    from chalicelib.settings import get_settings
    from chalicelib.store.queues import SYNCS_QUEUE
    from local.fake_datagouv import FakeDataGouv, serve_reference_files

    fake = FakeDataGouv(get_settings().datagouv_dataset).start()
    try:
        with mock.patch.dict("os.environ", {"DATAGOUV_URL": fake.url}):
            get_settings.cache_clear()
            ids = dict(get_settings().datagouv_resources)
            serve_reference_files(fake, ids, REFERENCE_DATA)
            event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                    resources=[])
            assert client.lambda_.invoke("sync_reference_files", event).payload["status"] == "running"
            deliver_s3_events(client, queue=SYNCS_QUEUE, handler="run_reference_sync")
            deliver_s3_events(client)
            fake.publish(ids["rne_maires"], "elus-maire-mai.csv",
                         (REFERENCE_DATA / "elus-maires-mai.csv").read_bytes() + b"\n")
            fake.break_next_download(ids["rne_maires"], "corrupt")
            from chalicelib import aws

            aws._queue_urls.clear()  # the API is another container than the scheduled function: its own look-up
            started = post_json(client, "/admin/reference-syncs", {}, operator)
            assert started.status_code == 202, started.json_body
            deliver_s3_events(client, queue=SYNCS_QUEUE, handler="run_reference_sync")
            for path in ("/admin/reference-syncs/latest", f"/admin/reference-syncs/{started.json_body['id']}"):
                assert client.http.get(path, headers=auth(operator)).json_body["status"] == "failed", path
    finally:
        fake.stop()
        get_settings.cache_clear()


@pytest.fixture
def journeys(client, aws):
    with aws_calls.recording() as recorder:
        run_journeys(client, aws)
    return recorder.requests, aws


# Granted for the Lambda service itself (logging, polling the function's queue), never called by the code.
RUNTIME_ONLY = ("logs:CreateLogStream", "logs:PutLogEvents", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                "sqs:GetQueueAttributes")


def _as_stage(request: aws_calls.Request, settings, stage) -> aws_calls.Request:
    """The emulation runs the local stage: the same request on the given stage's tables, bucket and sender."""
    resource = request.resource.replace(f":table/{settings.table_prefix}", f":table/{stage.table_prefix}")
    resource = resource.replace(f":::{settings.data_bucket}", f":::{stage.data_bucket}")
    resource = resource.replace(f":secret:{local_secret_name(settings)}-",
                                f":secret:{stage.environment['PROCONNECT_SECRET_NAME']}-")
    context = dict(request.context)
    if request.action.startswith("ses:"):
        resource = resource.replace(f"identity/{settings.mail_sender.split('@')[1]}", f"identity/{stage.mail_domain}")
        if "ses:FromAddress" in context:
            context["ses:FromAddress"] = stage.mail_sender
    return aws_calls.Request(request.function, request.action, resource, context, request.operation)


def test_the_policies_allow_what_the_journeys_do_and_nothing_more(packaged, journeys):
    """Every AWS call each function makes is allowed by its own policy; every permission granted (but those the
    Lambda service uses) is used by some call. Keep the journeys covering what the code does."""
    requests, settings = journeys
    functions = {r.function for r in requests}
    assert {"api_handler", "import_reference_file", "process_photo_event", "purge_personal_data",
            "sync_reference_files", "run_reference_sync", "tell_communes", "send_account_mails",
            "fan_out_webhook_events", "deliver_webhooks"} <= functions
    for stage_name in deployable_stages():
        stage, template = packaged[stage_name]["stage"], packaged[stage_name]["template"]
        assert functions <= {f.name for f in stage.functions}
        refused = sorted({str(request) for request in (_as_stage(r, settings, stage) for r in requests)
                          if not aws_calls.allowed(statements(template, stage, request.function), request)})
        assert not refused, f"{stage_name}: refused by the generated policies (grant them in infra/access.py):\n" + \
            "\n".join(refused)

        unused = []
        as_stage = [_as_stage(r, settings, stage) for r in requests]
        for function in stage.functions:
            for statement in statements(template, stage, function.name):
                for action in statement["Action"]:
                    single = dict(statement, Action=[action])
                    if action not in RUNTIME_ONLY and not any(
                            r.function == function.name and aws_calls.allowed([single], r) for r in as_stage):
                        unused.append(f"{function.name}: {action} on {statement['Resource']}")
        assert not unused, f"{stage_name}: granted but used by no journey:\n" + "\n".join(unused)
