"""« Télécharger (CSV) » and « Télécharger (XLSX) » under the lists, in a real browser on the local stack: the file
the browser saves has the rows the page shows (the demo commune's officials; the card maker's orders of a status, a
national list whose file the worker writes while the page follows it)."""
import csv
import io
import re

import openpyxl
import requests
from playwright.sync_api import expect

from tests.e2e.browser import browser, enter_code, site  # noqa: F401 (fixtures)


def log_in(person, account, home):
    page = person.open("/connexion.html")
    page.get_by_label("Adresse électronique").fill(account["email"])
    page.get_by_label("Mot de passe", exact=True).fill(account["password"])
    page.get_by_role("button", name="Connexion").click()
    enter_code(page, account.get("totp_secret"))  # an operator: the code of their second factor
    expect(page).to_have_url(re.compile(rf"/{home}"))
    return page


def saved(page, link_name: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(rf"^{re.escape(link_name)}")).first.click()
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def test_the_communes_officials_download_as_the_page_lists_them(site, stack):
    person = site("exports-commune")
    page = log_in(person, stack.state["demo_agent"], "tableau-de-bord.html")
    page = person.open("/elus.html")
    rows = page.locator("#liste-elus tr")
    expect(rows.first).to_be_visible()
    shown = [re.sub(r"\s+", " ", t).strip() for t in rows.locator("th").all_inner_texts()]
    person.check("telechargements")

    name, content = saved(page, "Télécharger (CSV)")
    assert re.fullmatch(r"elus-\d{4}-\d{2}-\d{2}\.csv", name)
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert table[0][:3] == ["Nom", "Prénom", "Fonction"]
    assert len(table) - 1 == len(shown)
    for row, text in zip(table[1:], shown):
        assert text.startswith(f"{row[0]} {row[1]}"), (row, text)  # the page's order, the page's names
    expect(page.get_by_role("status").filter(has_text=name)).to_be_visible()

    name, content = saved(page, "Télécharger (XLSX)")
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    assert [r[:2] for r in sheet.iter_rows(min_row=2, values_only=True)] == [tuple(r[:2]) for r in table[1:]]


def submitted_order(stack) -> str:
    """An order of the demo commune's officials whose photos are ready, sent to the card maker (over HTTP)."""
    api, agent = stack.state["api_url"], stack.state["demo_agent"]
    session = requests.Session()
    token = session.post(f"{api}/sessions", json={"email": agent["email"], "password": agent["password"]},
                         timeout=30).json()["token"]
    session.headers["Authorization"] = f"Bearer {token}"
    ready = [o["id"] for o in session.get(f"{api}/officials", timeout=30).json()["items"]
             if o["photo"]["ready"] and not o["card_in_progress"]]
    order = session.post(f"{api}/orders", json={"official_ids": ready}, timeout=30)
    assert order.status_code == 201, order.text
    submitted = session.post(f"{api}/orders/{order.json()['id']}/submit", json={"preview_acknowledged": True},
                             timeout=30)
    assert submitted.status_code == 200, submitted.text
    return order.json()["id"]


def test_the_card_makers_orders_of_a_status_download_with_the_filter_shown(site, stack):
    order_id = submitted_order(stack)
    person = site("exports-fabricant")
    log_in(person, stack.state["operators"]["manufacturer"], "fabricant.html")
    page = person.open("/fabricant-demandes.html?statut=en_preparation")
    expect(page.locator(f'#liste-demandes tr[data-demande="{order_id}"]')).to_be_visible()
    shown = page.locator("#liste-demandes tr[data-demande]").evaluate_all(
        "rows => rows.map(row => row.dataset.demande)")
    followed = []  # a national list: its file is written by the worker, the page follows it
    page.on("response", lambda r: followed.append(r.status) if "/admin/export-jobs/" in r.url else None)
    name, content = saved(page, "Télécharger (CSV)")
    assert followed and set(followed) == {200}
    expect(page.get_by_role("status").filter(has_text=name)).to_be_visible()
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert table[0][:4] == ["Commune", "SIREN", "Département", "Demande"]
    assert [row[3] for row in table[1:]] == shown and order_id in shown
    assert {row[table[0].index("Statut de la demande")] for row in table[1:]} <= {"En préparation"}
