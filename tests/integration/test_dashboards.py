"""Dashboards: each order move is handed to the stats function through its queue, counted once per event whatever
SQS redelivers, and the back office's dashboard reads the weekly counters (national, or a département)."""
import json
from datetime import timedelta

import pytest

from chalicelib import aws as aws_clients, clock
from chalicelib.domain import stats
from chalicelib.store.queues import STATS_QUEUE
from tests.conftest import REFERENCE_DATA
from tests.dynamodb_calls import count_dynamodb_calls
from tests.helpers import (MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET, auth, create_operator, deliver_s3_events,
                           import_file, log_in, post_json, transition)

PREFECTURE_PASSWORD = "le guichet des élus de l'Ain"


@pytest.fixture
def prefecture(client, operator):
    create_operator("guichet@ain.gouv.fr", "Paula", "Préfète", "prefecture", "01", password=PREFECTURE_PASSWORD)
    return log_in(client, "guichet@ain.gouv.fr", PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)


def submitted(client, agent, official_ids):
    order = post_json(client, "/orders", {"official_ids": official_ids}, agent).json_body
    response = post_json(client, f"/orders/{order['id']}/submit", {"preview_acknowledged": True}, agent)
    assert response.status_code == 200, response.json_body
    return response.json_body


def count_events(client) -> int:
    return deliver_s3_events(client, queue=STATS_QUEUE, handler="count_order_events")


def dashboard(client, token, **query):
    path = "/admin/dashboard" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.http.get(path, headers=auth(token))


def test_the_moves_of_the_week_are_counted_once_and_read_without_a_scan(client, commune, operator, prefecture,
                                                                         monkeypatch):
    agent, (marchand, giraud) = commune
    handed = submitted(client, agent, [marchand, giraud])
    for to in ("en_production", "en_livraison"):
        assert transition(client, operator, handed["id"], to).status_code == 200
    assert transition(client, prefecture, handed["id"], "livree").status_code == 200
    later = clock.now() + timedelta(days=3)  # handed over three days after the submission, in the same week or next
    monkeypatch.setattr(clock, "now", lambda: later)
    # the sessions went idle meanwhile
    prefecture = log_in(client, "guichet@ain.gouv.fr", PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)
    operator = log_in(client, "operateur@fabricant.example.fr", MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET)
    assert transition(client, prefecture, handed["id"], "remise").status_code == 200
    # 5 moves, each one message on the stats queue; nothing counted yet (off the request's path)
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=STATS_QUEUE)["QueueUrl"]
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not messages:
            break
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(bodies) == 5
    # SQS delivers at least once: every message twice, counted once
    for body in bodies + bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert count_events(client) == 10

    weeks = stats.last_weeks(later, 2)
    with count_dynamodb_calls() as calls:
        national = dashboard(client, operator, scope="national", weeks=2)
    assert national.status_code == 200, national.json_body
    # the session, then the weeks' two items and the communes' in one BatchGetItem, and the registry's cards to
    # return counted by one query of its index (Select=COUNT): no scan, no query of the orders
    assert "Scan" not in calls and calls.count("Query") == 1 and calls.count("BatchGetItem") <= 2, calls
    body = national.json_body
    assert body["weeks"] == weeks and body["scope"] == "national"
    for status, cards in (("en_preparation", 2), ("en_production", 2), ("en_livraison", 2), ("livree", 2),
                          ("remise", 2)):
        assert sum(body["orders"][status]) == 1, status
        assert sum(body["cards"][status]) == cards, status
    assert sum(body["orders"]["rejetee"]) == 0
    assert body["delay"]["handed_over"] == 1
    assert body["delay"]["median_days"] == body["delay"]["p90_days"] == 3
    assert body["delay"]["histogram"] == [{"days": 3, "orders": 1}]
    # the département's counters say the same; the préfecture reads its own
    ain = dashboard(client, prefecture, weeks=2).json_body
    assert ain["scope"] == "department" and ain["department_code"] == "01"
    assert {k: ain[k] for k in ("orders", "cards", "delay")} == {k: body[k] for k in ("orders", "cards", "delay")}
    assert dashboard(client, operator, scope="department", department="01", weeks=2).json_body["orders"] == \
        body["orders"]


def test_rejections_and_refused_photos_give_the_rates(client, commune, operator, prefecture):
    agent, (marchand, giraud) = commune
    order = submitted(client, agent, [marchand, giraud])
    refused = post_json(client, f"/admin/orders/{order['id']}/cards/{giraud}/reject-photo",
                        {"reason": "Photo floue"}, operator)
    assert refused.status_code == 200, refused.json_body
    assert transition(client, operator, order["id"], "rejetee", "Adresse illisible").status_code == 200
    assert count_events(client) == 3  # submitted, one photo refused, rejected
    body = dashboard(client, prefecture).json_body
    assert len(body["weeks"]) == stats.DEFAULT_WEEKS
    assert body["orders"]["rejetee"][-1] == 1 and body["cards"]["rejetee"][-1] == 1  # the one card left
    rates = {r["reason"]: (r["count"], r["out_of"], r["rate"]) for r in body["rejections"]}
    assert rates == {stats.ORDER_REJECTED: (1, 1, 1.0), stats.PHOTO_REFUSED: (1, 2, 0.5)}
    assert body["delay"] == {"handed_over": 0, "median_days": None, "p90_days": None,
                             "max_days": stats.MAX_DELAY_DAYS, "histogram": []}


def test_a_prefecture_sees_its_own_department_only_and_bad_parameters_are_refused(client, commune, operator,
                                                                                  prefecture):
    agent, ids = commune
    submitted(client, agent, ids)
    count_events(client)
    create_operator("guichet@isere.gouv.fr", "Iris", "Isère", "prefecture", "38", password=PREFECTURE_PASSWORD)
    isere = log_in(client, "guichet@isere.gouv.fr", PREFECTURE_PASSWORD, OPERATOR_TOTP_SECRET)
    asked_for_ain = dashboard(client, isere, scope="department", department="01").json_body
    assert asked_for_ain["department_code"] == "38" and sum(asked_for_ain["orders"]["en_preparation"]) == 0
    assert sum(dashboard(client, isere, scope="national").json_body["orders"]["en_preparation"]) == 0
    assert sum(dashboard(client, operator).json_body["orders"]["en_preparation"]) == 1  # national by default
    for query, field in (({"weeks": 0}, "weeks"), ({"weeks": 53}, "weeks"), ({"weeks": "douze"}, "weeks"),
                         ({"scope": "monde"}, "scope"), ({"scope": "department"}, "department"),
                         ({"scope": "department", "department": "00"}, "department")):
        refused = dashboard(client, operator, **query)
        assert refused.status_code == 400 and refused.json_body["code"] == "invalid_request", query
        assert field in refused.json_body["details"], query
    assert dashboard(client, agent).status_code == 403


def test_a_malformed_event_is_dropped_and_the_others_of_the_batch_counted(client, aws, app):
    sqs = aws_clients.client("sqs")
    url = sqs.get_queue_url(QueueName=STATS_QUEUE)["QueueUrl"]
    good = {"event_id": "x-1#2#en_preparation#t", "department_code": "01", "week": "2026-11-30",
            "counts": {"orders_en_preparation": 1, "cards_en_preparation": 3}}
    for body in ("pas du json", json.dumps({**good, "counts": {"orders en prep; DROP": 1}}),
                 json.dumps({**good, "counts": {"orders_en_preparation": True}}), json.dumps(good)):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert count_events(client) == 4
    from chalicelib.store import stats as counters

    assert counters.read("dept#01", ["2026-11-30", "2026-12-07"])[0] == [
        {"orders_en_preparation": 1, "cards_en_preparation": 3}, None]


def test_a_commune_sees_its_own_progress_from_its_own_partitions(client, commune, operator, prefecture):
    agent, (marchand, giraud) = commune
    before = client.http.get("/dashboard", headers=auth(agent))
    assert before.status_code == 200, before.json_body
    eligible = before.json_body["eligible"]
    directory = client.http.get("/directory", headers=auth(agent)).json_body["items"]
    assert eligible == sum(1 for person in directory if person["eligible_functions"]) and eligible >= 2
    assert before.json_body == {"eligible": eligible, "registered": 2, "ordered": 0, "handed_over": 0}
    order = submitted(client, agent, [marchand])
    assert client.http.get("/dashboard", headers=auth(agent)).json_body["ordered"] == 1
    for token, to in ((operator, "en_production"), (operator, "en_livraison"), (prefecture, "livree"),
                      (prefecture, "remise")):
        assert transition(client, token, order["id"], to).status_code == 200
    with count_dynamodb_calls() as calls:
        after = client.http.get("/dashboard", headers=auth(agent)).json_body
    assert after == {"eligible": eligible, "registered": 2, "ordered": 1, "handed_over": 1}
    assert "Scan" not in calls and calls.count("Query") == 2, calls  # the directory's partition, the officials'
    assert client.http.get("/dashboard", headers=auth(prefecture)).status_code == 403


def test_communes_without_an_order_and_cards_to_return(client, commune, operator, prefecture):
    """The sample directory entitles Bourg-en-Bresse and Oyonnax (Ain) and Annecy (Haute-Savoie). Bourg-en-Bresse's
    first order sent counts it once, whatever SQS redelivers; a card whose holder left the directory is to return."""
    from chalicelib.store import stats as counters

    agent, (marchand, giraud) = commune
    def without_order(token, query=""):
        return client.http.get("/admin/communes-without-order" + query, headers=auth(token))

    before = dashboard(client, prefecture).json_body
    assert before["communes"] == {"eligible": 2, "ordered": 0, "without_order": 2}
    listed = without_order(prefecture, "?department=74").json_body  # a préfecture's own département, whatever it asks
    assert [(c["name"], c["insee_code"], c["registered"]) for c in listed["items"]] == [
        ("Bourg-en-Bresse", "01053", True), ("Oyonnax", "01283", False)] and listed["next"] is None
    assert [c["name"] for c in without_order(operator, "?department=74").json_body["items"]] == ["Annecy"]
    refused = without_order(operator)
    assert refused.status_code == 400 and refused.json_body["code"] == "invalid_request"
    assert without_order(agent).status_code == 403
    national = dashboard(client, operator, scope="national").json_body
    assert national["communes"] == {"eligible": 3, "ordered": 0, "without_order": 3}
    assert national["cards_to_return"] == 0

    # The photo assistant's verdict on MARCHAND's photo: a warning (the assistant itself is tested apart; the
    # corpus' portraits carry none), which the card sent keeps and the dashboard charts.
    from chalicelib.store.tables import Official

    tilted = {"code": "face_tilted", "level": "warning", "message": "La tête semble inclinée."}
    Official("210100533", marchand).update(actions=[Official.photo_checks.set([tilted])])
    order = submitted(client, agent, [marchand, giraud])
    assert count_events(client) == 1
    assert counters.first_order("210100533", "01", clock.now()) is False  # a redelivery: counted once
    checks = dashboard(client, prefecture).json_body["photo_checks"]
    assert [(c["code"], c["count"], c["out_of"], c["rate"]) for c in checks if c["count"]] == [
        ("face_tilted", 1, 2, 0.5)]
    after = dashboard(client, prefecture).json_body
    assert after["communes"] == {"eligible": 2, "ordered": 1, "without_order": 1}
    assert [c["name"] for c in without_order(prefecture).json_body["items"]] == ["Oyonnax"]
    assert dashboard(client, operator, scope="national").json_body["communes"]["without_order"] == 2

    for token, to in ((operator, "en_production"), (operator, "en_livraison"), (prefecture, "livree"),
                      (prefecture, "remise")):
        assert transition(client, token, order["id"], to).status_code == 200
    # A newer councillors' file without GIRAUD: their card is to return. Without the mayors' rows of Oyonnax in it,
    # Oyonnax stays eligible through the mayors' file (either file entitles a commune).
    lines = (REFERENCE_DATA / "elus-conseillers-municipaux-cm.csv").read_text(encoding="utf-8-sig").splitlines()
    newer = "\n".join(line for line in lines if "GIRAUD" not in line and "Oyonnax" not in line) + "\n"
    aws_clients._queue_urls.clear()
    assert import_file(client, operator, "rne_cm", newer.encode("utf-8-sig"))["status"] == "done"
    ain = dashboard(client, prefecture).json_body
    assert ain["cards_to_return"] == 1 and ain["communes"]["eligible"] == 2
    assert dashboard(client, operator, scope="national").json_body["cards_to_return"] == 1
    assert dashboard(client, operator, scope="department", department="74").json_body["cards_to_return"] == 0
