"""Every page of the site, public and signed in, in a real browser at 360, 768 and 1280 px: its footer links to the
five pages every public site links to, axe finds no serious or critical violation, and nothing scrolls sideways
(``document.documentElement.scrollWidth <= clientWidth``), and at 1280 px no table is wider than its frame. The signed-in pages are shown with data in their tables: an
order of the demo town hall (Oyonnax), sent to production by the card maker. The site keeps no cookie and nothing in
localStorage (the page « Gestion des cookies » says so); robots.txt and sitemap.xml name the public pages."""
import json
import re
from urllib.parse import urljoin

import pytest
import requests
from playwright.sync_api import Page

from tests.e2e.browser import SCREENSHOTS, audit, browser  # noqa: F401 (fixtures)
from tests.helpers import otp

WIDTHS = (360, 768, 1280)
FOOTER_PAGES = {"accessibilite.html": "Accessibilité", "mentions-legales.html": "Mentions légales",
                "donnees-personnelles.html": "Données personnelles", "gestion-des-cookies.html": "Gestion des cookies",
                "aide.html": "Aide et contact"}
PUBLIC = ["index.html", "connexion.html", "inscription.html", "mot-de-passe-oublie.html", "mot-de-passe.html",
          "page-introuvable.html", *FOOTER_PAGES]


def api_session(stack, email: str, password: str, totp_secret: str | None = None) -> tuple[str, dict]:
    """A session's token and what the site keeps of it; ``totp_secret``: an operator's second factor."""
    body = {"email": email, "password": password}
    if totp_secret:  # an operator: the code their authenticator app shows now
        body["otp"] = otp(totp_secret)
    answer = requests.post(stack.state["api_url"] + "/sessions", json=body, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    return body["token"], {"token": body["token"], "role": body["role"], "expiresAt": body["expires_at"]}


@pytest.fixture(scope="module")
def signed_in(stack):
    """Sessions of the three roles, and an order of the demo town hall in production (its tables have rows)."""
    api = stack.state["api_url"]
    agent = stack.state["demo_agent"]
    operators = stack.state["operators"]
    token, commune = api_session(stack, agent["email"], agent["password"])
    headers = {"Authorization": f"Bearer {token}"}
    officials = requests.get(f"{api}/officials", headers=headers, timeout=30).json()["items"]
    order = requests.post(f"{api}/orders", headers=headers, timeout=30,
                          json={"official_ids": [o["id"] for o in officials if o["photo"]["ready"]]})
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    submitted = requests.post(f"{api}/orders/{order_id}/submit", headers=headers, timeout=30,
                              json={"preview_acknowledged": True})
    assert submitted.status_code == 200, submitted.text
    maker_token, manufacturer = api_session(stack, operators["manufacturer"]["email"],
                                            operators["manufacturer"]["password"],
                                            operators["manufacturer"]["totp_secret"])
    moved = requests.post(f"{api}/admin/orders/{order_id}/transitions", timeout=30, json={"to": "en_production"},
                          headers={"Authorization": f"Bearer {maker_token}"})
    assert moved.status_code == 200, moved.text
    _, prefecture = api_session(stack, operators["prefecture"]["email"], operators["prefecture"]["password"],
                                operators["prefecture"]["totp_secret"])
    official = officials[0]["id"]
    pages = {"commune": ["tableau-de-bord.html", "elus.html", "elu-nouveau.html", f"elu-nouveau.html?elu={official}",
                         "elu-declaration.html", "demandes.html", f"demande.html?id={order_id}",
                         "demande-nouvelle.html", "cartes.html", "agents.html", "logiciels.html"],
             "manufacturer": ["fabricant.html", "fabricant-demandes.html", "fabricant-logiciels.html",
                              f"gestion-demande.html?id={order_id}"],
             "prefecture": ["prefecture.html", "prefecture-cartes.html", f"gestion-demande.html?id={order_id}"]}
    return {"sessions": {"commune": commune, "manufacturer": manufacturer, "prefecture": prefecture},
            "pages": pages}


def settle(page: Page) -> None:
    """The page has loaded what its scripts ask the API for (or stopped trying)."""
    page.wait_for_load_state("load")
    try:
        page.wait_for_load_state("networkidle", timeout=10_000)
    except Exception:  # noqa: BLE001 - a page that polls never goes idle: what it shows by then is measured
        pass


def sweep(page: Page, path: str, problems: list[str], name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(path)
        settle(page)
        where = f"{path} at {width} px"
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if sizes[0] > sizes[1]:
            wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                               && e.getClientRects().length)
                .slice(-3).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
            problems.append(f"{where}: scrolls sideways ({sizes[0]} > {sizes[1]}): {wide}")
            page.screenshot(path=str(SCREENSHOTS / f"largeur-{name}-{width}.png"), full_page=True)
        if width == 1280:  # a laptop: every table fits, none scrolls in its frame (the « Fichiers » column was cut)
            cut = page.evaluate("""() => [...document.querySelectorAll('.fr-table__container')]
                .filter((c) => c.offsetParent && c.scrollWidth > c.clientWidth + 1)
                .map((c) => (c.querySelector('caption')?.textContent || '?').trim() + ' ' + c.scrollWidth + '>' + c.clientWidth)""")
            if cut:
                problems.append(f"{where}: tables wider than their frame: {cut}")
                page.screenshot(path=str(SCREENSHOTS / f"largeur-{name}-{width}.png"), full_page=True)
        if width == 360:
            page.screenshot(path=str(SCREENSHOTS / f"telephone-{name}.png"), full_page=True)
        links = page.locator("footer .fr-footer__bottom-link")
        found = {re.sub(r"^.*/", "", urljoin(page.url, links.nth(i).get_attribute("href"))): links.nth(i).inner_text()
                 for i in range(links.count())}
        for target, label in FOOTER_PAGES.items():
            if not found.get(target, "").startswith(label):
                problems.append(f"{where}: no footer link « {label} » to {target} ({found})")
        serious = [v for v in audit(page) if v["impact"] in ("serious", "critical")]
        problems += [f"{where}: axe {v['impact']} {v['id']}: {v['help']} -> {v['nodes']}" for v in serious]


def test_every_public_page_has_the_footer_links_passes_axe_and_never_scrolls_sideways(browser, stack):  # noqa: F811
    context = browser.new_context(base_url=stack.state["site_url"], locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in PUBLIC:
        sweep(page, "/" + path, problems, path.removesuffix(".html"))
    # A page of the public part is followed from the footer as a person does, and lands where it says.
    page.goto("/connexion.html")
    for target, label in FOOTER_PAGES.items():
        page.locator("footer").get_by_role("link", name=re.compile("^" + label)).click()
        page.wait_for_url(re.compile(re.escape(target) + "$"))
        if page.get_by_role("heading", level=1).inner_text().split(" ")[0] not in label + " Déclaration":
            problems.append(f"{target}: heading {page.get_by_role('heading', level=1).inner_text()!r}")
        page.go_back()
    context.close()
    assert not problems, "\n".join(problems)
    assert not errors, errors


@pytest.mark.parametrize("role", ["commune", "manufacturer", "prefecture"])
def test_every_signed_in_page_has_the_footer_links_passes_axe_and_never_scrolls_sideways(browser, stack, signed_in,  # noqa: F811
                                                                                         role):
    context = browser.new_context(base_url=stack.state["site_url"], locale="fr-FR", timezone_id="Europe/Paris")
    session = json.dumps(signed_in["sessions"][role])
    # Signed in as the log-in page leaves it (site/js/api.js keeps the session in sessionStorage).
    context.add_init_script(f"if (!sessionStorage.getItem('carteselus.session')) "
                            f"sessionStorage.setItem('carteselus.session', {json.dumps(session)});")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems: list[str] = []
    for path in signed_in["pages"][role]:
        sweep(page, "/" + path, problems, f"{role}-{re.sub(r'[^a-z0-9-]', '-', path)}")
        if path.split("?")[0] not in page.url:
            problems.append(f"{path}: left for {page.url}")
    stored = page.evaluate("() => [document.cookie, Object.keys(localStorage), Object.keys(sessionStorage)]")
    assert stored[0] == "" and stored[1] == [], f"the site stores more than it says: {stored}"
    assert set(stored[2]) <= {"carteselus.session", "carteselus.drafts", "carteselus.password-token"}, stored
    context.close()
    assert not problems, "\n".join(problems)
    assert not errors, errors


def test_robots_and_sitemap_name_the_public_pages(stack):
    site = stack.state["site_url"]
    robots = requests.get(f"{site}/robots.txt", timeout=10)
    assert robots.status_code == 200 and robots.headers["Content-Type"].startswith("text/plain")
    assert "Disallow: /\n" in robots.text and "Allow: /aide.html\n" in robots.text
    assert re.search(r"^Sitemap: https?://\S+/sitemap\.xml$", robots.text, re.M)
    sitemap = requests.get(f"{site}/sitemap.xml", timeout=10)
    assert sitemap.status_code == 200
    listed = re.findall(r"<loc>([^<]+)</loc>", sitemap.text)
    assert {loc.rsplit("/", 1)[1] for loc in listed} == {"", "inscription.html", "connexion.html", *FOOTER_PAGES}
    for loc in listed:  # each one is a page the site serves (the build's address, the stack's port may differ)
        assert requests.get(site + "/" + loc.rsplit("/", 1)[1], timeout=10).status_code == 200, loc


TAB_WALK = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const text = (node) => (node ? node.textContent.replace(/\\s+/g, ' ').trim() : '');
    const labelled = (e.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean)
        .map((id) => text(document.getElementById(id))).join(' ');
    const label = e.id ? text(document.querySelector(`label[for="${CSS.escape(e.id)}"]`)) : '';
    const name = (e.getAttribute('aria-label') || labelled || label || text(e) || e.getAttribute('title')
        || e.querySelector('img')?.alt || '').trim();
    const rect = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    // The DSFR draws some rings on a pseudo-element (a link that enlarges to its card or brand block: ::before).
    const drawn = (css) => (parseFloat(css.outlineWidth) > 0 && css.outlineStyle !== 'none') || css.boxShadow !== 'none';
    const ring = drawn(style) || drawn(getComputedStyle(e, '::before')) || drawn(getComputedStyle(e, '::after'));
    if (!e.dataset.tabWalk) e.dataset.tabWalk = String((window.tabWalkCount = (window.tabWalkCount || 0) + 1));
    return {tag: e.tagName, id: e.id, name, visible: rect.width > 0 && rect.height > 0, ring, key: e.dataset.tabWalk};
}"""


def tab_walk(page, limit: int = 200) -> list[dict]:
    """What the Tab key reaches, in order, from the top of the page until it comes back round."""
    # Tab goes on from the last focused place: a focused element put first in the page, then removed, starts it over.
    page.evaluate("""() => { const start = document.createElement('span'); start.tabIndex = -1;
        document.body.prepend(start); start.focus(); start.remove(); window.scrollTo(0, 0); }""")
    reached, seen = [], set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(TAB_WALK)
        if focused is None or focused["key"] in seen:
            break
        seen.add(focused["key"])
        reached.append(focused)
    return reached


def keyboard_problems(page, where: str) -> list[str]:
    problems = []
    positive = page.evaluate("() => [...document.querySelectorAll('[tabindex]')].filter((e) => e.tabIndex > 0).length")
    if positive:
        problems.append(f"{where}: {positive} element(s) with a positive tabindex (the order is the page's)")
    reached = tab_walk(page)
    if not reached or reached[0]["name"] != "Contenu":
        problems.append(f"{where}: the first stop of Tab is not the skip link « Contenu »: {reached[:1]}")
    for stop in reached:
        if not stop["name"]:
            problems.append(f"{where}: {stop['tag']}#{stop['id']} takes the focus without a name")
        if not stop["visible"]:
            problems.append(f"{where}: {stop['tag']}#{stop['id']} « {stop['name']} » takes the focus but is not shown")
        if not stop["ring"]:
            problems.append(f"{where}: {stop['tag']}#{stop['id']} « {stop['name']} » shows no focus ring")
    footer = [stop["name"] for stop in reached if stop["name"].startswith(tuple(FOOTER_PAGES.values()))]
    if len(footer) != len(FOOTER_PAGES):
        problems.append(f"{where}: the footer's five links are not all reached by Tab: {footer} "
                        f"({len(reached)} stops, the last ones: {[stop['name'] for stop in reached[-3:]]})")
    return problems


def test_the_keyboard_reaches_every_control_of_the_guide_with_a_name_and_a_visible_focus(browser, stack, signed_in):  # noqa: F811
    """The keyboard-only walk: on the pages of the guide, Tab starts at the skip link, reaches every control in the
    page's order, each with a name and a visible focus ring, down to the footer's links."""
    context = browser.new_context(base_url=stack.state["site_url"], locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    for path in ["index.html", "connexion.html", "inscription.html", "mot-de-passe-oublie.html", "aide.html"]:
        page.goto("/" + path)
        settle(page)
        problems += keyboard_problems(page, path)
    context.close()
    context = browser.new_context(base_url=stack.state["site_url"], locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.add_init_script(f"sessionStorage.setItem('carteselus.session', "
                            f"{json.dumps(json.dumps(signed_in['sessions']['commune']))});")
    page = context.new_page()
    for path in ["tableau-de-bord.html", "elus.html", "elu-nouveau.html", "demandes.html", "cartes.html"]:
        page.goto("/" + path)
        settle(page)
        problems += keyboard_problems(page, path)
    page.goto("/demande-nouvelle.html")
    settle(page)
    page.get_by_role("button", name="Créer").click()
    page.get_by_text("Étape 1 sur 3").wait_for()
    problems += keyboard_problems(page, "demande-nouvelle.html (étape 1)")
    context.close()
    assert not problems, "\n".join(problems)
