"""The site's pages as scripts/build_site.py renders them from site-src/: one frame for all (one header, the same
footer), the header variant and main-menu item each page expects, nothing the site's CSP forbids (inline scripts,
style attributes, event handlers), and the same bytes on every build.
"""
import importlib.util
import json
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import PROJECT_DIR

_spec = importlib.util.spec_from_file_location("build_site", PROJECT_DIR / "scripts" / "build_site.py")
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)

# The commune's pages and their item of the main menu; the card maker's pages that have one (the back office's
# dashboard and an order's page, shared with the préfectures, have none); the other pages have no main menu.
ACTIVE = {"tableau-de-bord.html": "tableau-de-bord.html", "elus.html": "elus.html", "elu-nouveau.html": "elus.html",
          "elu-declaration.html": "elus.html",
          "demandes.html": "demandes.html", "demande.html": "demandes.html",
          "demande-nouvelle.html": "demandes.html", "cartes.html": "cartes.html", "agents.html": "agents.html",
          "logiciels.html": "logiciels.html"}
CARD_MAKER_ACTIVE = {"fabricant.html": "fabricant.html", "fabricant-demandes.html": "fabricant-demandes.html",
                     "fabricant-logiciels.html": "fabricant-logiciels.html"}
# Where the service's name in the header leads: the home of the page's space.
HOME = {**{page: "tableau-de-bord.html" for page in ACTIVE},
        "fabricant.html": "fabricant.html", "fabricant-demandes.html": "fabricant.html",
        "fabricant-logiciels.html": "fabricant.html",
        "gestion-demande.html": "fabricant.html", "tableau-de-bord-gestion.html": "fabricant.html",
        "prefecture.html": "prefecture.html",
        "prefecture-cartes.html": "prefecture.html",
        # « Mes sessions » serves every role: its script points the link at the person's own home
        "sessions.html": "index.html"}
MENU = ["tableau-de-bord.html", "elus.html", "demandes.html", "cartes.html", "agents.html", "logiciels.html"]
CARD_MAKER_MENU = ["fabricant.html", "fabricant-demandes.html", "fabricant-logiciels.html"]
# Served at any unknown address: its links start at the site's root.
SERVED_ANYWHERE = {"page-introuvable.html"}


def relative(name: str, html: str) -> str:
    """The page's links as the other pages write them (relative to the site's root folder)."""
    return re.sub(r'(href|src)="/(?!/)', r'\1="', html) if name in SERVED_ANYWHERE else html


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    written = build_site.build(out)
    return {path.name: path.read_text(encoding="utf-8") for path in written}


def test_one_page_per_source_and_nothing_else(built):
    sources = sorted(p.name for p in (PROJECT_DIR / "site-src" / "pages").glob("*.html"))
    assert sorted(built) == sources and len(sources) >= 17
    assert set(ACTIVE) | set(CARD_MAKER_ACTIVE) | set(HOME) <= set(sources)


def test_every_page_has_one_frame_and_the_same_footer(built):
    footers = set()
    for name, html in built.items():
        page = Page(html)
        frame = ("html", "head", "body", "header", "main", "footer", "title")
        assert [page.count(tag) for tag in frame] == [1] * len(frame), name
        assert html.startswith("<!doctype html>\n") and html.endswith("</body>\n</html>\n"), name
        assert re.search(r"<title>[^<]+ — Cartes d'identité des élus</title>", html), name
        footers.add(re.search(r"<footer\b.*</footer>", relative(name, html), re.S).group(0))
    assert len(footers) == 1


@pytest.mark.parametrize("name", sorted(build_site.page_names()))
def test_the_header_variant_and_active_menu_item(built, name):
    page = Page(relative(name, built[name]))
    title = "Accueil — Cartes d'identité des élus"
    service = [a["href"] for t, a in page.tags if t == "a" and a.get("title") == title]
    assert service == [HOME.get(name, "index.html")]
    current = [a.get("href") for t, a in page.tags if "aria-current" in a]
    menu = [a["href"] for t, a in page.tags if t == "a" and "fr-nav__link" in a.get("class", "")]
    signed_in = name in HOME
    assert page.count("button") >= (2 if signed_in else 0)
    assert bool([a for t, a in page.tags if a.get("data-action") == "logout"]) == signed_in
    if name in ACTIVE or name in CARD_MAKER_ACTIVE:
        expected_menu, active = (MENU, ACTIVE) if name in ACTIVE else (CARD_MAKER_MENU, CARD_MAKER_ACTIVE)
        assert menu == expected_menu and current == [active[name]]
        assert [a.get("href") for t, a in page.tags if t == "a" and a.get("href") == "#navigation"] == ["#navigation"]
    else:
        assert menu == [] and current == []
        assert not [a for t, a in page.tags if a.get("href") == "#navigation" or a.get("id") == "navigation"]


def test_the_page_served_anywhere_has_only_links_from_the_root(built):
    for name in SERVED_ANYWHERE:
        links = [a.get("href") or a.get("src") for t, a in Page(built[name]).tags if a.get("href") or a.get("src")]
        assert links and all(link.startswith(("/", "#", "https://")) for link in links), name


def test_no_page_has_what_the_csp_forbids(built):
    for name, html in built.items():
        page = Page(html)
        assert not [a for t, a in page.tags if t == "script" and "src" not in a], name
        assert not [a for t, a in page.tags if "style" in a], name
        assert not [k for t, a in page.tags for k in a if k.startswith("on")], name
        assert page.count("style") == 0 and "javascript:" not in html, name


def test_building_twice_gives_the_same_bytes(tmp_path):
    first = {p.name: p.read_bytes() for p in build_site.build(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in build_site.build(tmp_path / "b")}
    assert first == second


def test_a_missing_variable_or_an_unknown_menu_item_fails_the_build(tmp_path):
    import shutil

    source = tmp_path / "site-src"
    shutil.copytree(PROJECT_DIR / "site-src", source)
    page = source / "pages" / "elus.html"
    text = page.read_text()
    page.write_text(text.replace('{% set active = "elus" %}', '{% set active = "elu" %}'))
    with pytest.raises(SystemExit, match="unknown menu item elu"):
        build_site.build(tmp_path / "out", source)
    page.write_text(text.replace('{% set active = "elus" %}\n', ""))
    with pytest.raises(SystemExit, match="'active' is undefined"):
        build_site.build(tmp_path / "out", source)
    assert not (tmp_path / "out").exists()


def test_the_constants_the_scripts_show_are_the_pythons(built, tmp_path):
    """site/js/constants.js is written from chalicelib/: statuses, labels and limits are never copied by hand."""
    from chalicelib.domain import cards, functions, orders
    from chalicelib.services import officials

    build_site.build(tmp_path)
    text = (tmp_path / "js" / "constants.js").read_text(encoding="utf-8")
    values = {name: json.loads(value) for name, value in
              re.findall(r"^export const (\w+) = (?:Object\.freeze\()?(.*?)\)?;$", text, re.M)}
    assert dict(values["ORDER_STATUSES"]) == orders.LABELS and dict(values["CARD_STATUSES"]) == cards.LABELS
    assert values["ORDER_STATUSES"][0][0] == orders.BROUILLON and values["ORDER_STATUSES"][-2:] == [
        [orders.REJETEE, orders.LABELS[orders.REJETEE]], [orders.ANNULEE, orders.LABELS[orders.ANNULEE]]]
    assert {code for code, _ in values["REPLACEMENT_REASONS"]} == set(cards.REPLACES_VALID_CARD)
    assert values["FUNCTION_LABELS"]["adjoint"]["F"] == functions.function_label(functions.ADJOINT, "F")
    assert values["MAX_PHOTO_BYTES"] == officials.MAX_PHOTO_BYTES and values["MAX_CARDS_PER_ORDER"] == orders.MAX_CARDS
    from chalicelib.imaging import card, photo

    assert values["PHOTO_SIZE"] == dict(zip(("width", "height"), photo.OUTPUT_SIZE))
    assert values["CARD_PREVIEW_SIZE"] == dict(zip(("width", "height"), card.PREVIEW_SIZE))
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in (PROJECT_DIR / "site" / "js").rglob("*.js")
                        if p.name != "constants.js")
    assert "10 * 1024 * 1024" not in scripts and '"Livrée en préfecture"' not in scripts


def test_the_dsfr_bundle_holds_what_the_pages_use_and_not_the_rest(tmp_path):
    """bundle/dsfr.css: the core, the components the site names, only the icons it names; every url() it holds points
    to a file of the DSFR."""
    build_site.build(tmp_path)
    css = (tmp_path / "bundle" / "dsfr.css").read_text(encoding="utf-8")
    used = build_site.used_classes()
    icons = {name for name in re.findall(r"\.(fr-icon-[\w-]+)(?::|\{|,)", css)
             if not name.startswith(("fr-icon--",))}
    assert {"fr-icon-logout-box-r-line", "fr-icon-arrow-left-line"} <= icons <= used | {"fr-icon-theme-fill"}
    for component in ("header", "footer", "table", "button", "stepper", "modal"):
        assert f".fr-{'btn' if component == 'button' else component}" in css, component
    parts = re.search(r"only the parts this site uses: core, (.*?), colours and icons", css).group(1).split(", ")
    assert {"header", "footer", "table", "button", "stepper", "modal", "connect"} <= set(parts)  # connect: ProConnect
    assert not {"accordion", "tag", "quote", "tab", "consent", "share", "search"} & set(parts)
    assert len(css.encode()) < 600_000  # DSFR's dsfr.min.css + utility.min.css: 1,183 KB
    for target in {t.strip("'\"") for t in re.findall(r"url\(([^)]+)\)", css)}:
        if not target.startswith("data:"):
            assert (build_site.OUTPUT_DIR / "bundle" / target).resolve().is_file(), target
    assert "{\n" in (tmp_path / "bundle" / "dsfr.js").read_text(encoding="utf-8")
    pages = [p.read_text(encoding="utf-8") for p in tmp_path.glob("*.html")]
    assert all('href="bundle/dsfr.css"' in html or 'href="/bundle/dsfr.css"' in html for html in pages)
    assert not [html for html in pages if "dsfr.min.css" in html or "utility.min.css" in html]


# --- French punctuation ---------------------------------------------------------------------------------------------

class Sentences(HTMLParser):
    """The text a person reads: between tags outside scripts and styles, and the attributes read aloud or shown."""

    READ = ("title", "aria-label", "alt", "placeholder")

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skipping = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._skipping += tag in ("script", "style")
        self.texts += [value for name, value in attrs if name in self.READ and value]

    def handle_endtag(self, tag):
        self._skipping -= tag in ("script", "style") and self._skipping > 0

    def handle_data(self, data):
        if not self._skipping:
            self.texts.append(data)


def test_every_sentence_of_the_pages_has_the_no_break_spaces_of_french_punctuation(built):
    plain = {name: [text.strip() for text in Sentences(html).texts if re.search(r" [:;?!]|« | »", text)]
             for name, html in built.items() if name.endswith(".html")}
    assert {name: texts for name, texts in plain.items() if texts} == {}
    pages = "".join(html for name, html in built.items() if name.endswith(".html"))
    assert "\u00a0:" in pages and "\u202f?" in pages  # the rule was applied, not merely absent


def test_typesetting_leaves_tags_comments_scripts_and_code_as_written():
    html = ('<p title="Nom : Anne">Nom : « Anne » ; oui ?</p><!-- a : b --><script>if (a ? b : c) x();</script>'
            '<code>a : b</code><a href="x?y=1">Voir ?</a>')
    assert build_site.typeset(html) == (
        '<p title="Nom\u00a0: Anne">Nom\u00a0: «\u00a0Anne\u00a0»\u202f; oui\u202f?</p><!-- a : b -->'
        '<script>if (a ? b : c) x();</script><code>a : b</code><a href="x?y=1">Voir\u202f?</a>')
