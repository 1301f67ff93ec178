"""The site's pages as scripts/build_site.py renders them from site-src/: one frame for all (one header, the same
footer), the header variant and main-menu item each page expects, nothing the site's CSP forbids (inline scripts,
style attributes, event handlers), and the same bytes on every build.
"""
import importlib.util
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import PROJECT_DIR

_spec = importlib.util.spec_from_file_location("build_site", PROJECT_DIR / "scripts" / "build_site.py")
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)

# The commune's pages and their item of the main menu; the other pages have no main menu.
ACTIVE = {"tableau-de-bord.html": "tableau-de-bord.html", "elus.html": "elus.html", "elu-nouveau.html": "elus.html",
          "elu-declaration.html": "elus.html",
          "demandes.html": "demandes.html", "demande.html": "demandes.html",
          "demande-nouvelle.html": "demandes.html", "cartes.html": "cartes.html", "agents.html": "agents.html"}
# Where the service's name in the header leads: the home of the page's space.
HOME = {**{page: "tableau-de-bord.html" for page in ACTIVE},
        "fabricant.html": "fabricant.html", "fabricant-demandes.html": "fabricant.html",
        "gestion-demande.html": "fabricant.html", "prefecture.html": "prefecture.html",
        "prefecture-cartes.html": "prefecture.html",
        # « Mes sessions » serves every role: its script points the link at the person's own home
        "sessions.html": "index.html"}
MENU = ["tableau-de-bord.html", "elus.html", "demandes.html", "cartes.html", "agents.html"]
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
    assert set(ACTIVE) | set(HOME) <= set(sources)


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
    if name in ACTIVE:
        assert menu == MENU and current == [ACTIVE[name]]
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
