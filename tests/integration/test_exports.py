"""Every list as CSV and XLSX (docs/exports.md): the file read back with Python's ``csv`` (``;``, UTF-8 with BOM) and
with openpyxl has the rows of the JSON list route, every page of it, in the same order; the préfecture's files hold its
département only; a wrong format is a clean 400."""
import csv
import io
import json
from urllib.parse import urlencode

import openpyxl
import pytest
import requests

from chalicelib.printing.tables import MOMENT, NUMBER, moment
from tests.helpers import (MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET, auth, create_manufacturer,
                           deliver_s3_events, log_in, queued)
from tests.integration.test_cards import delivered, prefecture_of, world  # noqa: F401 (the fixture)

BOM = "\ufeff"


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 items: the lists of the test span several pages, as a national list does."""
    from chalicelib.store import repositories

    monkeypatch.setattr(repositories, "PAGE_SIZE", 2)


@pytest.fixture
def lists(client, world, small_pages):  # noqa: F811
    """Two orders of the commune delivered to the Ain's préfecture (three cards)."""
    first = delivered(client, world, world["ids"][:2])
    second = delivered(client, world, world["ids"][2:])
    return {**world, "orders": [first["id"], second["id"]]}


def every_item(client, token: str, path: str, query: dict) -> list[dict]:
    """The JSON list route's items, following its cursor through every page, as the page's « Afficher plus » does."""
    items, cursor = [], None
    while True:
        page_query = {**query, **({"cursor": cursor} if cursor else {})}
        response = client.http.get(f"{path}?{urlencode(page_query)}" if page_query else path, headers=auth(token))
        assert response.status_code == 200, response.json_body
        items += response.json_body["items"]
        cursor = response.json_body["next"]
        if not cursor:
            return items


def write_waiting_files(client) -> int:
    """Run the national lists' writer on what the API queued, as Lambda would."""
    from chalicelib.store.queues import EXPORTS_QUEUE

    return deliver_s3_events(client, queue=EXPORTS_QUEUE, handler="write_list_exports")


def ask(client, token: str, path: str, query: dict, file_format: str):
    return client.http.get(f"{path}?{urlencode({**query, 'format': file_format})}", headers=auth(token))


def download(client, token: str, path: str, query: dict, file_format: str) -> tuple[dict, bytes]:
    """The file a list's route gives: at once (200), or, for a national list (202), once the worker wrote it."""
    response = ask(client, token, path, query, file_format)
    assert response.status_code in (200, 202), response.json_body
    answer = response.json_body
    if response.status_code == 202:
        assert answer["status"] == "running" and answer["url"] is None
        assert response.headers["Location"] == f"../export-jobs/{answer['id']}"
        assert write_waiting_files(client) == 1
        followed = client.http.get(f"/admin/export-jobs/{answer['id']}", headers=auth(token))
        assert followed.status_code == 200, followed.json_body
        answer = followed.json_body
        assert answer["status"] == "ready" and answer["finished_at"], answer
    fetched = requests.get(answer["url"], timeout=30)
    assert fetched.status_code == 200
    assert f'filename="{answer["filename"]}"' in fetched.headers.get("Content-Disposition", "")
    return answer, fetched.content


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(BOM.encode("utf-8"))  # UTF-8 with its BOM
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def read_xlsx(content: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def expected(fields, items, file_format: str) -> list[list]:
    """The cells each item of the JSON list should give, as each format writes them."""
    rows = []
    for item in items:
        row = []
        for f in fields:
            value, kind = f.value(item), f.column.kind
            if file_format == "csv":
                row.append("" if value in (None, "") else f"{moment(value):%Y-%m-%d %H:%M}" if kind == MOMENT
                           else str(value))
            else:
                row.append(None if value in (None, "") else moment(value) if kind == MOMENT
                           else value if kind == NUMBER else str(value))
        rows.append(row)
    return rows


# the list route, its export route, whose token, the filters, the columns, the column that names a row on the page
# and the item's field it shows
CASES = {
    "commune: orders": ("/orders", "/exports/orders", "agent", {}, "ORDER_FIELDS", ("Demande", "id")),
    "commune: cards": ("/cards", "/exports/cards", "agent", {}, "CARD_FIELDS", ("Carte n°", "number")),
    "commune: cards filtered": ("/cards", "/exports/cards", "agent", {"status": "livree"}, "CARD_FIELDS",
                                ("Carte n°", "number")),
    "commune: officials": ("/officials", "/exports/officials", "agent", {}, "OFFICIAL_FIELDS", ("Nom", "last_name")),
    "commune: agents": ("/agents", "/exports/agents", "agent", {}, "AGENT_FIELDS", ("Adresse e-mail", "email")),
    "card maker: national orders": ("/admin/orders", "/admin/exports/orders", "operator", {"status": "livree"},
                                    "ADMIN_ORDER_FIELDS", ("Demande", "id")),
    "card maker: national registry": ("/admin/cards", "/admin/exports/cards", "operator", {"status": "livree"},
                                      "ADMIN_CARD_FIELDS", ("Carte n°", "number")),
    "préfecture: orders": ("/admin/orders", "/admin/exports/orders", "ain", {"status": "livree"},
                           "ADMIN_ORDER_FIELDS", ("Demande", "id")),
    "préfecture: registry": ("/admin/cards", "/admin/exports/cards", "ain", {"status": "livree"},
                             "ADMIN_CARD_FIELDS", ("Carte n°", "number")),
    "préfecture: cards to return": ("/admin/cards-to-return", "/admin/exports/cards-to-return", "ain", {},
                                    "ADMIN_CARD_FIELDS", ("Carte n°", "number")),
    "préfecture: declarations": ("/prefecture/declarations", "/prefecture/exports/declarations", "ain", {},
                                 "DECLARATION_FIELDS", ("Nom", "last_name")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_csv_and_the_xlsx_have_the_rows_of_the_list(client, lists, case):
    from chalicelib.api import exports as routes

    list_path, export_path, who, query, fields_name, key = CASES[case]
    fields = getattr(routes, fields_name)
    items = every_item(client, lists[who], list_path, query)
    headers = [f.column.header for f in fields]

    answer, content = download(client, lists[who], export_path, query, "csv")
    assert answer["format"] == "csv" and answer["filename"].endswith(".csv") and answer["rows"] == len(items)
    table = read_csv(content)
    assert table[0] == headers
    assert table[1:] == expected(fields, items, "csv")

    answer, content = download(client, lists[who], export_path, query, "xlsx")
    assert answer["format"] == "xlsx" and answer["rows"] == len(items)
    table = read_xlsx(content)
    assert table[0] == headers
    assert table[1:] == expected(fields, items, "xlsx")
    # the column that names each item shows the page's items, in the page's order
    header, field_name = key
    assert [row[headers.index(header)] for row in table[1:]] == [item[field_name] for item in items]


def test_the_lists_span_pages_and_are_what_the_test_made(client, lists):
    """Not vacuous: the lists above have rows on several pages, the ones the test created."""
    orders = every_item(client, lists["agent"], "/orders", {})
    assert sorted(o["id"] for o in orders) == sorted(lists["orders"])
    cards = every_item(client, lists["operator"], "/admin/cards", {"status": "livree"})
    assert len(cards) == 3  # two pages of 2
    answer, content = download(client, lists["operator"], "/admin/exports/cards", {"status": "livree"}, "csv")
    table = read_csv(content)
    assert answer["rows"] == 3 and len(table) == 4
    assert {row[0] for row in table[1:]} == {c["number"] for c in cards}
    assert table[0][:4] == ["Carte n°", "Commune", "SIREN", "Département"]
    assert {row[table[0].index("Statut")] for row in table[1:]} == {"Livrée en préfecture"}  # the label, as shown


def test_a_prefecture_exports_its_departement_only(client, lists):
    for query in ({"status": "livree"}, {"status": "livree", "department": "01"}):
        answer, _ = download(client, lists["savoie"], "/admin/exports/cards", query, "csv")
        assert answer["rows"] == 0  # the Haute-Savoie's préfecture: the Ain's cards are not in its file
        answer, content = download(client, lists["savoie"], "/admin/exports/orders", query, "csv")
        assert answer["rows"] == 0 and read_csv(content)[1:] == []


def test_the_monthly_report_has_the_communes_then_the_total(client, lists):
    page = client.http.get("/admin/reports/monthly", headers=auth(lists["ain"])).json_body
    answer, content = download(client, lists["ain"], "/admin/exports/monthly-report", {}, "csv")
    table = read_csv(content)
    assert table[0] == ["Commune", "SIREN", "Cartes commandées", "Cartes livrées", "Cartes remises", "Cartes rejetées"]
    assert table[1:-1] == [[r["commune_name"], r["siren"], str(r["ordered"]), str(r["delivered"]),
                            str(r["handed_over"]), str(r["rejected"])] for r in page["communes"]]
    totals = page["totals"]
    assert table[-1] == ["Total du département", "", str(totals["ordered"]), str(totals["delivered"]),
                         str(totals["handed_over"]), str(totals["rejected"])]
    assert totals["delivered"] == 3
    answer, content = download(client, lists["ain"], "/admin/exports/monthly-report", {}, "xlsx")
    assert read_xlsx(content)[-1] == ["Total du département", None, totals["ordered"], totals["delivered"],
                                      totals["handed_over"], totals["rejected"]]


@pytest.mark.parametrize("query", ["format=pdf", "format=", "status=inconnu"])
def test_a_wrong_format_or_filter_is_a_clean_400_and_writes_nothing(client, aws, lists, query):
    import boto3

    response = client.http.get(f"/exports/cards?{query}", headers=auth(lists["agent"]))
    if query == "format=":  # empty: the default, CSV
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.json_body
    assert response.json_body["code"] == "invalid_request"
    assert set(response.json_body["details"]) == ({"format"} if "format" in query else {"status"})
    listed = boto3.client("s3").list_objects_v2(Bucket=aws.data_bucket, Prefix="documents/exports/")
    assert listed.get("KeyCount", 0) == 0


def test_a_role_that_does_not_see_the_list_cannot_export_it(client, lists):
    assert client.http.get("/admin/exports/cards?status=livree", headers=auth(lists["agent"])).status_code == 403
    assert client.http.get("/exports/officials", headers=auth(lists["ain"])).status_code == 403
    assert client.http.get("/prefecture/exports/declarations", headers=auth(lists["operator"])).status_code == 403
    assert client.http.get("/exports/officials").status_code == 401


def test_a_list_too_long_for_one_call_stops_at_a_whole_page_and_says_so(client, lists, monkeypatch):
    from chalicelib.services import exports

    monkeypatch.setattr(exports, "TIME_BUDGET_SECONDS", 0.0)  # past the budget after the first page
    answer, content = download(client, lists["ain"], "/admin/exports/cards", {"status": "livree"}, "csv")
    assert answer["truncated"] is True and answer["rows"] == 2 and len(read_csv(content)) == 3  # one page of 2
    answer, _ = download(client, lists["agent"], "/exports/officials", {}, "csv")
    assert answer["truncated"] is False  # one page only: nothing left out
    # the worker's budget is its own: the national file is whole
    answer, _ = download(client, lists["operator"], "/admin/exports/cards", {"status": "livree"}, "csv")
    assert answer["truncated"] is False and answer["rows"] == 3
    monkeypatch.setattr(exports, "WORKER_BUDGET_SECONDS", 0.0)
    answer, content = download(client, lists["operator"], "/admin/exports/cards", {"status": "livree"}, "csv")
    assert answer["truncated"] is True and answer["rows"] == 2 and len(read_csv(content)) == 3


# --- national lists, written in the background ---------------------------------------------------------------------

def test_a_national_list_is_written_in_the_background_and_followed_by_its_owner_only(client, lists, monkeypatch):
    """The card maker's list of the whole country: 202 and where to follow it; the file comes with the worker; only
    who asked sees it; a département chosen is answered at once."""
    from chalicelib.services import exports

    monkeypatch.setattr(exports, "PROGRESS_EVERY_ROWS", 2)  # the count is written at each page of 2
    asked = ask(client, lists["operator"], "/admin/exports/cards", {"status": "livree"}, "xlsx")
    assert asked.status_code == 202
    job = asked.json_body
    assert job["list"] == "registre-des-cartes" and job["format"] == "xlsx" and job["rows"] == 0
    assert job["filename"] is None and job["failure"] is None
    follow = f"/admin/export-jobs/{job['id']}"
    assert client.http.get(follow, headers=auth(lists["operator"])).json_body["status"] == "running"
    # another operator, a préfecture, a commune: not theirs
    other = log_in(client, create_manufacturer("autre-operateur@fabricant.example.fr"), MANUFACTURER_PASSWORD,
                   OPERATOR_TOTP_SECRET)
    assert client.http.get(follow, headers=auth(other)).status_code == 404
    assert client.http.get(follow, headers=auth(lists["ain"])).status_code == 403
    assert client.http.get(follow, headers=auth(lists["agent"])).status_code == 403
    assert client.http.get("/admin/export-jobs/" + "0" * 32, headers=auth(lists["operator"])).status_code == 404
    assert client.http.get("/admin/export-jobs/nimporte-quoi", headers=auth(lists["operator"])).status_code == 404

    assert write_waiting_files(client) == 1
    ready = client.http.get(follow, headers=auth(lists["operator"])).json_body
    assert ready["status"] == "ready" and ready["rows"] == 3 and ready["filename"].endswith(".xlsx")
    cards = every_item(client, lists["operator"], "/admin/cards", {"status": "livree"})
    table = read_xlsx(requests.get(ready["url"], timeout=30).content)
    assert [row[0] for row in table[1:]] == [c["number"] for c in cards]
    # the queue gives a message twice: the file is not written again
    from chalicelib.store.queues import EXPORTS_QUEUE, send

    send(EXPORTS_QUEUE, {"export_id": job["id"]})
    assert write_waiting_files(client) == 1
    again = client.http.get(follow, headers=auth(lists["operator"])).json_body
    assert again["finished_at"] == ready["finished_at"] and again["filename"] == ready["filename"]
    # a département's list is answered at once
    assert ask(client, lists["operator"], "/admin/exports/cards", {"status": "livree", "department": "01"},
               "csv").status_code == 200


@pytest.mark.parametrize("path", ["/admin/exports/orders", "/admin/exports/cards"])
def test_a_national_list_the_list_route_refuses_is_refused_at_once_and_queues_nothing(client, aws, lists, path):
    """A national list is of one status: without it, 400 now (as the list route), no file asked for, nothing queued."""
    import boto3

    from chalicelib.store.queues import EXPORTS_QUEUE
    from chalicelib.store.tables import ListExport

    list_route = path.replace("/exports", "")
    assert client.http.get(list_route, headers=auth(lists["operator"])).status_code == 400
    refused = ask(client, lists["operator"], path, {}, "csv")
    assert refused.status_code == 400 and refused.json_body["code"] == "invalid_request", refused.json_body
    assert "statut" in refused.json_body["message"]
    assert queued(EXPORTS_QUEUE) == [] and list(ListExport.scan()) == []
    listed = boto3.client("s3").list_objects_v2(Bucket=aws.data_bucket, Prefix="documents/exports/")
    assert listed.get("KeyCount", 0) == 0


def test_a_worker_that_fails_is_retried_then_the_file_says_it_failed(client, lists, monkeypatch):
    from chalicelib import aws
    from chalicelib.services import exports
    from chalicelib.store.queues import EXPORTS_QUEUE

    job = ask(client, lists["operator"], "/admin/exports/orders", {"status": "livree"}, "csv").json_body
    assert [json.loads(body) for body in queued(EXPORTS_QUEUE)] == [{"export_id": job["id"]}]

    def broken(*args):
        raise RuntimeError("DynamoDB gone")

    # queued again by the worker itself, a minute later (not after SQS's 90-minute visibility timeout)
    assert exports.run_export(job["id"], broken) == "retrying"
    sqs = aws.client("sqs")
    waiting = sqs.get_queue_attributes(QueueUrl=aws.queue_url(EXPORTS_QUEUE), AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    assert (waiting["ApproximateNumberOfMessages"], waiting["ApproximateNumberOfMessagesDelayed"]) == ("0", "1")
    sqs.purge_queue(QueueUrl=aws.queue_url(EXPORTS_QUEUE))
    monkeypatch.setattr(exports, "RETRY_DELAY_SECONDS", 0)  # the test does not wait the minute
    for _ in range(exports.MAX_ATTEMPTS - 2):
        assert exports.run_export(job["id"], broken) == "retrying"
        assert [json.loads(body) for body in queued(EXPORTS_QUEUE)] == [{"export_id": job["id"]}]
        assert client.http.get(f"/admin/export-jobs/{job['id']}",
                               headers=auth(lists["operator"])).json_body["status"] == "running"
    assert exports.run_export(job["id"], broken) == "failed"
    assert queued(EXPORTS_QUEUE) == []
    failed = client.http.get(f"/admin/export-jobs/{job['id']}", headers=auth(lists["operator"])).json_body
    assert failed["status"] == "failed" and failed["url"] is None and "Demandez-le de nouveau" in failed["failure"]
    assert exports.run_export(job["id"], broken) == "finished already"
    # a retry that works: the next file is ready at its second attempt
    job = ask(client, lists["operator"], "/admin/exports/orders", {"status": "livree"}, "csv").json_body
    queued(EXPORTS_QUEUE)
    assert exports.run_export(job["id"], broken) == "retrying"
    assert write_waiting_files(client) == 1
    ready = client.http.get(f"/admin/export-jobs/{job['id']}", headers=auth(lists["operator"])).json_body
    assert ready["status"] == "ready" and ready["rows"] == 2


def test_a_file_whose_workers_all_died_is_shown_failed_and_never_started_late(client, lists):
    from datetime import timedelta

    from chalicelib import clock
    from chalicelib.services import exports
    from chalicelib.store.tables import ListExport

    job = ask(client, lists["operator"], "/admin/exports/orders", {"status": "livree"}, "csv").json_body
    follow = f"/admin/export-jobs/{job['id']}"
    ListExport(job["id"]).update(actions=[ListExport.created_at.set(clock.now() - timedelta(minutes=119))])
    assert client.http.get(follow, headers=auth(lists["operator"])).json_body["status"] == "running"
    # too late for a worker to finish before the page gives up on it: it does not start
    assert write_waiting_files(client) == 1
    shown = client.http.get(follow, headers=auth(lists["operator"])).json_body
    assert shown["status"] == "failed" and shown["finished_at"] and "Demandez-le de nouveau" in shown["failure"]
    # a file still running two hours after it was asked for shows failed
    job = ask(client, lists["operator"], "/admin/exports/orders", {"status": "livree"}, "csv").json_body
    ListExport(job["id"]).update(actions=[ListExport.created_at.set(clock.now() - exports.GIVEN_UP_AFTER
                                                                    - timedelta(seconds=1))])
    shown = client.http.get(f"/admin/export-jobs/{job['id']}", headers=auth(lists["operator"])).json_body
    assert shown["status"] == "failed" and shown["finished_at"] is None


def test_the_ministry_tool_follows_its_own_national_file(client, lists):
    from tests.integration.test_api_clients import bearer

    created = client.http.post("/admin/api-clients", headers={**auth(lists["operator"]),
                                                              "Content-Type": "application/json"},
                               body='{"name": "Ministère", "scopes": ["orders:read"], "national": true}').json_body
    token = bearer(client, created)
    answer, content = download(client, token, "/admin/exports/orders", {"status": "livree"}, "csv")
    assert answer["rows"] == 2 and len(read_csv(content)) == 3
    # the card maker's operator does not see the ministry's file
    job_id = answer["id"]
    assert client.http.get(f"/admin/export-jobs/{job_id}", headers=auth(lists["operator"])).status_code == 404
