"""The back office's dashboard in a real browser, on the local stack: the préfecture of the Ain sees its own
département's charts and their tables, and the figures are those of the orders the test made (counted by the stack's
stats function, through its queue)."""
import re
from datetime import date, datetime, timezone

from playwright.sync_api import expect

from chalicelib.domain import stats
from tests.e2e.browser import browser, site  # noqa: F401 (fixtures)
from tests.e2e.test_local_stack_officials import Api, wait_for
from tests.e2e.test_site_back_office import log_in

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
          "décembre")


def make_orders(state) -> dict:
    """The demo's registered commune (Oyonnax, in the Ain) orders its two officials' cards: the card maker rejects
    the order; a second one for the same officials goes to the hand-over. Returns the photo assistant's checks on
    the cards sent (code -> cards: each official's photo sent twice)."""
    agent = Api(state["api_url"])
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    ids = wait_for(lambda: (lambda items: [o["id"] for o in items] if len(items) == 2 and all(
        o["photo"]["status"] == "ready" for o in items) else None)(agent("GET", "/officials", 200)["items"]))
    manufacturer, prefecture = Api(state["api_url"]), Api(state["api_url"])
    manufacturer.log_in_as(state["operators"]["manufacturer"])
    prefecture.log_in_as(state["operators"]["prefecture"])
    rejected = agent("POST", "/orders", 201, json={"official_ids": ids})
    agent("POST", f"/orders/{rejected['id']}/submit", 200, json={"preview_acknowledged": True})
    manufacturer("POST", f"/admin/orders/{rejected['id']}/transitions", 200,
                 json={"to": "rejetee", "reason": "Adresse de livraison illisible"})
    handed = agent("POST", "/orders", 201, json={"official_ids": ids})
    agent("POST", f"/orders/{handed['id']}/submit", 200, json={"preview_acknowledged": True})
    for api, to in ((manufacturer, "en_production"), (manufacturer, "en_livraison"), (prefecture, "livree"),
                    (prefecture, "remise")):
        api("POST", f"/admin/orders/{handed['id']}/transitions", 200, json={"to": to})
    # The stats function counts the seven moves off the requests' path: wait until the counters have them all.
    wait_for(lambda: sum(sum(series) for series in prefecture("GET", "/admin/dashboard?weeks=1", 200)[
        "orders"].values()) == 7)
    checks: dict[str, int] = {}
    for official in agent("GET", "/officials", 200)["items"]:
        for check in official["photo"].get("checks", []):
            checks[check["code"]] = checks.get(check["code"], 0) + 2
    return checks


def last_week_row(table):
    """The table's row of the current week (the last one)."""
    return table.get_by_role("row").last


def test_the_prefecture_sees_its_departments_charts_and_their_tables(site, stack):
    state = stack.state
    checks = make_orders(state)
    person = site("tableau-de-bord")
    prefecture = state["operators"]["prefecture"]
    page = log_in(person, prefecture["email"], prefecture["password"], prefecture["totp_secret"])
    expect(page).to_have_url(re.compile(r"/prefecture\.html$"))
    page.get_by_role("link", name=re.compile("Tableau de bord du département")).click()
    expect(page).to_have_url(re.compile(r"/tableau-de-bord-gestion\.html$"))
    expect(page.get_by_role("heading", name="Tableau de bord des demandes", level=1)).to_be_visible()
    # Its own département only: named, and no choice of another.
    expect(page.get_by_text("Demandes et cartes par semaine, délai de la demande à la remise, rejets : département 01"
                            ".")).to_be_visible()
    expect(page.get_by_label("Périmètre")).to_be_hidden()
    expect(page.get_by_label("Département")).to_be_hidden()

    # Four charts, each drawn (a canvas with pixels) and named, each followed by its table.
    for key, title in (("demandes", "Demandes par semaine et par statut"),
                       ("cartes", "Cartes par semaine et par statut"),
                       ("delais", "Délai de la demande à la remise"), ("rejets", "Rejets et leurs motifs"),
                       ("verifications", "Vérifications de l'assistant photo")):
        section = page.get_by_role("region", name=title)
        chart = section.get_by_role("img", name=re.compile(f"^{re.escape(title)}"))
        expect(chart).to_be_visible()
        assert page.evaluate(f"() => !!window.Chart && !!window.Chart.getChart(document.getElementById("
                             f"'graphique-{key}'))"), key
        expect(section.get_by_role("table", name=f"Données du graphique : {title}")).to_be_visible()

    # The figures: the orders the test made.
    orders = page.get_by_role("table", name="Données du graphique : Demandes par semaine et par statut")
    headers = orders.get_by_role("columnheader")
    expect(headers).to_have_text(["Semaine", "En préparation", "Annulée", "En production", "Rejetée", "En livraison",
                                  "Livrée en préfecture", "Remise partielle", "Remise à l'élu"])
    expect(orders.get_by_role("row")).to_have_count(13)  # the heading and 12 weeks
    this_week = last_week_row(orders)
    monday = date.fromisoformat(stats.week_of(datetime.now(timezone.utc)))
    expect(this_week.get_by_role("rowheader")).to_have_text(
        f"Semaine du {monday.day} {MONTHS[monday.month - 1]} {monday.year}")
    expect(this_week.get_by_role("cell")).to_have_text(["2", "0", "1", "1", "1", "1", "0", "1"])
    cards = page.get_by_role("table", name="Données du graphique : Cartes par semaine et par statut")
    expect(last_week_row(cards).get_by_role("cell")).to_have_text(["4", "0", "2", "2", "2", "2", "0", "2"])
    delays = page.get_by_role("table", name="Données du graphique : Délai de la demande à la remise")
    expect(delays.get_by_role("row").nth(1).get_by_role("rowheader")).to_have_text("0 jour")
    expect(delays.get_by_role("row").nth(1).get_by_role("cell")).to_have_text(["1"])
    expect(page.locator("#fait-envoyees")).to_have_text("2")
    expect(page.locator("#fait-remises")).to_have_text("1")
    expect(page.locator("#fait-mediane")).to_have_text("0 jour")
    expect(page.locator("#fait-p90")).to_have_text("0 jour")
    rejections = page.get_by_role("table", name="Données du graphique : Rejets et leurs motifs")
    expect(rejections.get_by_role("row").nth(1).get_by_role("cell")).to_have_text(
        ["1", "2 demandes envoyées", re.compile(r"^50\s?%$")])
    expect(rejections.get_by_role("row").nth(2).get_by_role("cell")).to_have_text(
        ["0", "4 cartes demandées", re.compile(r"^0\s?%$")])
    # The photo assistant's checks on the four cards sent, by reason (as the officials' photos carried them).
    verified = page.get_by_role("table", name="Données du graphique : Vérifications de l'assistant photo")
    expected = [stats.PHOTO_CHECK_LABELS[code] for code in stats.PHOTO_CHECK_LABELS if checks.get(code)]
    if expected:
        expect(verified.get_by_role("rowheader")).to_have_text(expected)
        expect(verified.get_by_role("row").nth(1).get_by_role("cell").first).to_have_text(
            str(checks[next(code for code in stats.PHOTO_CHECK_LABELS if checks.get(code))]))
    else:
        expect(verified.get_by_role("cell")).to_have_text(["Aucune donnée sur la période."])
    # The communes: Bourg-en-Bresse and Oyonnax are entitled; Oyonnax sent its orders, Bourg-en-Bresse (not yet
    # registered) none. No card to return yet.
    expect(page.locator("#fait-communes-eligibles")).to_have_text("2")
    expect(page.locator("#fait-communes-sans-demande")).to_have_text("1")
    expect(page.locator("#fait-a-restituer")).to_have_text("0")
    without = page.get_by_role("region", name="Communes sans demande").get_by_role(
        "table", name="Communes sans demande envoyée")
    expect(without.get_by_role("rowheader")).to_have_text(["Bourg-en-Bresse"])
    expect(without.get_by_role("row").nth(1).get_by_role("cell")).to_have_text(["01053", "Non"])
    person.check("prefecture")

    # A shorter period redraws the charts and the tables.
    page.get_by_label("Période").select_option(label="4 dernières semaines")
    page.get_by_role("button", name="Afficher").click()
    expect(orders.get_by_role("row")).to_have_count(5)
    expect(last_week_row(orders).get_by_role("cell")).to_have_text(["2", "0", "1", "1", "1", "1", "0", "1"])


def test_the_card_maker_chooses_the_nation_or_a_departement(site, stack):
    state = stack.state
    person = site("tableau-de-bord-fabricant")
    manufacturer = state["operators"]["manufacturer"]
    page = log_in(person, manufacturer["email"], manufacturer["password"], manufacturer["totp_secret"])
    expect(page).to_have_url(re.compile(r"/fabricant\.html$"))
    page.get_by_role("link", name=re.compile("Tableau de bord national")).click()
    expect(page.get_by_text("rejets : national.")).to_be_visible()
    expect(page.locator("#fait-communes-eligibles")).to_have_text("3")  # and Annecy, in the Haute-Savoie
    expect(page.locator("#fait-communes-sans-demande")).to_have_text("2")
    expect(page.get_by_role("heading", name="Communes sans demande")).to_be_hidden()  # a département's list only
    orders = page.get_by_role("table", name="Données du graphique : Demandes par semaine et par statut")
    expect(last_week_row(orders).get_by_role("cell").first).to_have_text("2")  # the orders of the test above
    page.get_by_label("Périmètre").select_option(label="Un département")
    page.get_by_label("Département").fill("38")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("rejets : département 38.")).to_be_visible()
    expect(last_week_row(orders).get_by_role("cell").first).to_have_text("0")
    expect(page.get_by_role("table", name="Données du graphique : Délai de la demande à la remise")
           .get_by_role("cell")).to_have_text(["Aucune donnée sur la période."])
    person.check("fabricant-isere")
    # A code that is no département: said next to the field.
    page.get_by_label("Département").fill("00")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", name="Le tableau de bord n'a pas pu être affiché")).to_be_visible()


def test_the_commune_sees_its_own_progress_on_its_home_page(site, stack):
    """After the orders of the first test: Oyonnax's two officials have their cards."""
    state = stack.state
    agent = Api(state["api_url"])
    agent.log_in(state["demo_agent"]["email"], state["demo_agent"]["password"])
    eligible = sum(1 for person in agent("GET", "/directory", 200)["items"] if person["eligible_functions"])
    person = site("tableau-de-bord-commune")
    page = log_in(person, state["demo_agent"]["email"], state["demo_agent"]["password"])
    expect(page).to_have_url(re.compile(r"/tableau-de-bord\.html$"))
    progress = page.get_by_role("region", name="Avancement de la commune")
    expect(progress.locator("dd")).to_have_text([str(eligible), "2", "2", "2"])
    person.check("avancement")
