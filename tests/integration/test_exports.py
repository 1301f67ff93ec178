"""Every list as CSV and XLSX (docs/exports.md): the file read back with Python's ``csv`` (``;``, UTF-8 with BOM) and
with openpyxl has the rows of the JSON list route, every page of it, in the same order; the préfecture's files hold its
département only; a wrong format is a clean 400."""
import csv
import io
from urllib.parse import urlencode

import openpyxl
import pytest
import requests

from chalicelib.printing.tables import MOMENT, NUMBER, moment
from tests.helpers import auth
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


def download(client, token: str, path: str, query: dict, file_format: str) -> tuple[dict, bytes]:
    response = client.http.get(f"{path}?{urlencode({**query, 'format': file_format})}", headers=auth(token))
    assert response.status_code == 200, response.json_body
    answer = response.json_body
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
    answer, content = download(client, lists["operator"], "/admin/exports/cards", {"status": "livree"}, "csv")
    assert answer["truncated"] is True and answer["rows"] == 2 and len(read_csv(content)) == 3  # one page of 2
    answer, _ = download(client, lists["agent"], "/exports/officials", {}, "csv")
    assert answer["truncated"] is False  # one page only: nothing left out
