"""`.venv/bin/python scripts/build_site.py [--out DIR] [--site-url URL]`: renders the site's pages from site-src/ into
site/ (or DIR), with what they load that is built rather than written:

- ``bundle/dsfr.css`` and ``bundle/dsfr.js``: only the parts of the DSFR (installed in site/vendor/dsfr by
  scripts/install-site-deps.sh) that the site uses: its core, the components whose classes the pages and scripts name,
  the colour utilities and the icons they name, one rule each (docs/performance.md, "Site weight and Lighthouse");
- ``js/constants.js``: the statuses, labels and limits the scripts show, written from chalicelib/domain/ and the
  services' limits, so that the JavaScript never copies them;
- ``robots.txt`` and ``sitemap.xml``: the public pages, under the site's address (``--site-url``, or SITE_URL).

The pages' own sentences get French punctuation's no-break spaces at build time (``typeset``, the rule of
``chalicelib/domain/french.punctuate``): the sources keep plain spaces, easy to type and to search.

Each site-src/pages/<page>.html extends site-src/layout.html (the DSFR frame: head, skip links, header, footer, with
site-src/partials/) and holds only what is its own: its title, its header variant and active menu item, its scripts
and its main content. The pages are site/<page>.html, one file per page; they and the files above are build
products, not committed (.gitignore), built by `make site` (and `run`, `test`, `security`, `lighthouse`) and by
infra/publish_site.py (docs/site.md).

Autoescaping is on and undefined variables fail the build (StrictUndefined). Everything is rendered before anything is
written, so a broken template writes nothing; the output depends on the sources only (same bytes on every run).
"""
import argparse
import json
import os
import posixpath
import re
import sys
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PROJECT_DIR = Path(__file__).resolve().parents[1]
SOURCE_DIR = PROJECT_DIR / "site-src"
OUTPUT_DIR = PROJECT_DIR / "site"
DSFR_DIR = OUTPUT_DIR / "vendor" / "dsfr"
# The local stack's address (local/stack.py's first choice); production passes its own (infra/publish_site.py).
DEFAULT_SITE_URL = "http://127.0.0.1:8001"
# The pages anyone may open and a search engine may list; the others need a session or a link from an email.
PUBLIC_PAGES = ("index.html", "inscription.html", "connexion.html", "mentions-legales.html",
                "donnees-personnelles.html", "accessibilite.html", "gestion-des-cookies.html", "aide.html")
# The files the build writes besides the pages (infra/publish_site.py tells CloudFront they exist).
GENERATED_FILES = ("bundle/dsfr.css", "bundle/dsfr.js", "js/constants.js", "robots.txt", "sitemap.xml")
# DSFR classes the DSFR's own scripts add or that the pages name in a way a scan cannot see (none today).
DSFR_EXTRA_CLASSES: frozenset[str] = frozenset()
if str(PROJECT_DIR) not in sys.path:  # run as a script: chalicelib is imported for the constants
    sys.path.insert(0, str(PROJECT_DIR))


def fail(message: str):
    """For the templates: `{{ fail("...") }}` stops the build with a message (e.g. an unknown menu item)."""
    raise ValueError(message)


def environment(source_dir: Path = SOURCE_DIR) -> Environment:
    env = Environment(loader=FileSystemLoader(source_dir), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["fail"] = fail
    env.globals["base"] = ""  # pages link relative to the site's root; the 404 page, served anywhere, sets "/"
    return env


def page_names(source_dir: Path = SOURCE_DIR) -> list[str]:
    return sorted(p.name for p in (source_dir / "pages").glob("*.html"))


# A comment or a tag; the text between two of them is what a person reads.
_MARKUP = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)")
# Elements whose content is not sentences: left as written.
_NOT_TEXT = frozenset({"script", "style", "pre", "code", "textarea"})
# The attributes a person reads or hears: a tooltip, an accessible name, a description.
_READ_ATTRIBUTES = re.compile(r'(\s(?:title|aria-label|alt|placeholder|content)=")([^"]*)(")')


def typeset(html: str) -> str:
    """``html`` with the no-break spaces of French punctuation in the text between tags and in the attributes a person
    reads (never elsewhere in a tag, in a comment, a script, a style or code)."""
    from chalicelib.domain.french import punctuate

    parts, inside, position = [], None, 0
    for markup in _MARKUP.finditer(html):
        text = html[position:markup.start()]
        parts.append(text if inside else punctuate(text))
        name = _TAG_NAME.match(markup.group(0))
        parts.append(_READ_ATTRIBUTES.sub(lambda a: a.group(1) + punctuate(a.group(2)) + a.group(3), markup.group(0))
                     if name else markup.group(0))
        if name:
            tag, closing = name.group(1).lower(), markup.group(0).startswith("</")
            if inside is None and not closing and tag in _NOT_TEXT:
                inside = tag
            elif closing and tag == inside:
                inside = None
        position = markup.end()
    rest = html[position:]
    parts.append(rest if inside else punctuate(rest))
    return "".join(parts)


def render_all(source_dir: Path = SOURCE_DIR) -> dict[str, str]:
    """Page file name -> its HTML."""
    env = environment(source_dir)
    pages = {}
    for name in page_names(source_dir):
        try:
            pages[name] = typeset(env.get_template(f"pages/{name}").render())
        except Exception as error:
            raise SystemExit(f"site-src/pages/{name}: {type(error).__name__}: {error}") from error
    return pages


# --- constants ----------------------------------------------------------------------------------------------------

def constants() -> dict:
    """What the scripts show that the Python decides: statuses and their labels, function labels, upload limits."""
    from chalicelib.domain import api_clients, cards, codes, functions, officials, orders, webhooks
    from chalicelib.imaging import card, photo
    from chalicelib.services import cards as card_service, declarations, officials as official_service

    dead_ends = (orders.REJETEE, orders.ANNULEE)  # listed last, after the lifecycle's straight line
    order_statuses = [s for s in orders.STATUSES if s not in dead_ends] + list(dead_ends)
    return {
        "ORDER_STATUSES": [[s, orders.LABELS[s]] for s in order_statuses],
        "CARD_STATUSES": [[s, cards.LABELS[s]] for s in cards.STATUSES],
        "REPLACEMENT_REASONS": [[r, cards.REASON_LABELS[r]] for r in cards.REASONS if r in cards.REPLACES_VALID_CARD],
        "FUNCTION_LABELS": {f: {"M": functions.function_label(f, "M"), "F": functions.function_label(f, "F")}
                            for f in functions.FUNCTIONS},
        "DECLARATION_STATUSES": [officials.AWAITING_PROOF, officials.PENDING, officials.VALIDATED, officials.REFUSED],
        "MAX_CARDS_PER_ORDER": orders.MAX_CARDS,
        "MAX_PHOTO_BYTES": official_service.MAX_PHOTO_BYTES,
        "MAX_PROOF_BYTES": declarations.MAX_PROOF_BYTES,
        "MAX_RECEIPT_BYTES": card_service.MAX_RECEIPT_BYTES,
        "PHOTO_SIZE": {"width": photo.OUTPUT_SIZE[0], "height": photo.OUTPUT_SIZE[1]},
        "CARD_PREVIEW_SIZE": {"width": card.PREVIEW_SIZE[0], "height": card.PREVIEW_SIZE[1]},
        "PHOTO_ASPECT_TOLERANCE": photo.ASPECT_TOLERANCE,
        # « Accès pour les logiciels »: the scopes a commune may grant, with their labels
        "API_SCOPES": [[scope, api_clients.SCOPE_LABELS[scope]] for scope in api_clients.SCOPES],
        # « Outils de l'État »: the scopes the card maker may grant a préfecture's or the ministry's tools (read only)
        "STATE_API_SCOPES": [[scope, api_clients.SCOPE_LABELS[scope]] for scope in api_clients.READ_SCOPES],
        # the one rule of a département's code (domain/codes.py), for the fields that ask for one
        "DEPARTMENT_CODE": codes.DEPARTMENT_CODE.pattern,
        # the events a client's webhook may be told of, with their labels (domain/webhooks.py)
        "WEBHOOK_EVENTS": [[event, webhooks.EVENT_LABELS[event]] for event in webhooks.EVENTS],
    }


def constants_js() -> str:
    lines = ["// Written by scripts/build_site.py from chalicelib/ (the domain's statuses and labels, the services' limits):",
             "// not committed, never edited. Change the Python and rebuild (make site).", ""]
    for name, value in constants().items():
        text = json.dumps(value, ensure_ascii=False)
        lines.append(f"export const {name} = {'Object.freeze(' + text + ')' if isinstance(value, (list, dict)) else text};")
    return "\n".join(lines) + "\n"


# --- the DSFR, only what the site uses --------------------------------------------------------------------------------

CLASS = re.compile(r"\bfr-[A-Za-z0-9_-]*[A-Za-z0-9]")
SELECTOR_START = re.compile(r"(?:^|[{},])\.(fr-[A-Za-z0-9_-]*[A-Za-z0-9])")
URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")


def used_classes(source_dir: Path = SOURCE_DIR, site_dir: Path = OUTPUT_DIR) -> set[str]:
    """Every ``fr-…`` name the pages' sources, the site's scripts and its own CSS write."""
    files = [*source_dir.rglob("*.html"), *(site_dir / "js").rglob("*.js"), *(site_dir / "css").rglob("*.css")]
    return {m for path in files for m in CLASS.findall(path.read_text(encoding="utf-8"))} | DSFR_EXTRA_CLASSES


def _rules(css: str) -> list[tuple[str, str]]:
    """Top-level (prelude, body) pairs of minified CSS; comments dropped. At-rules keep their inner text as body."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, depth, start, prelude = [], 0, 0, ""
    for i, char in enumerate(css):
        if char == "{":
            if depth == 0:
                prelude, start = css[start:i].strip(), i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                out.append((prelude, css[start:i]))
                start = i + 1
        elif char == ";" and depth == 0:  # @charset / @import
            start = i + 1
    return out


def _only_used(css: str, used: set[str]) -> str:
    """The rules of a utility stylesheet whose selectors name only classes the site uses (@media kept around them)."""
    kept = []
    for prelude, body in _rules(css):
        if prelude.startswith("@"):
            inner = _only_used(body, used)
            if inner:
                kept.append(f"{prelude}{{{inner}}}")
            continue
        selectors = [s for s in prelude.split(",") if set(CLASS.findall(s)) <= used]
        if selectors:
            kept.append(f"{','.join(selectors)}{{{body}}}")
    return "".join(kept)


def _relocated(css: str, source: Path, dsfr_dir: Path, into: str) -> str:
    """``url(…)`` rewritten from the file's folder in the DSFR to the bundle's folder (``into``, from the site root)."""
    folder = posixpath.join("vendor/dsfr", source.parent.relative_to(dsfr_dir).as_posix())

    def move(match):
        target = match.group(2)
        if target.startswith(("data:", "/", "http:", "https:", "#")):
            return match.group(0)
        return f"url({posixpath.relpath(posixpath.normpath(posixpath.join(folder, target)), into)})"
    return URL.sub(move, css)


def _components(dsfr_dir: Path, used: set[str]) -> list[str]:
    """The DSFR components that own a class the site uses. A component's stylesheet also names others' classes (the
    header styles the buttons in it): a class belongs to the component whose selectors most often start with it."""
    counts: dict[str, dict[str, int]] = {}
    for folder in sorted(p for p in (dsfr_dir / "component").iterdir() if p.is_dir()):
        css = folder / f"{folder.name}.main.min.css"
        if css.exists():
            for name in SELECTOR_START.findall(css.read_text(encoding="utf-8")):
                counts.setdefault(name, {}).setdefault(folder.name, 0)
                counts[name][folder.name] += 1
    owners = {name: max(by.items(), key=lambda item: (item[1], item[0]))[0] for name, by in counts.items()}
    return sorted({owners[name] for name in used if name in owners})


def dsfr_bundle(dsfr_dir: Path = DSFR_DIR, used: set[str] | None = None) -> dict[str, str]:
    """``bundle/dsfr.css`` and ``bundle/dsfr.js``: the DSFR's core, the used components whole (their scripts add
    classes no scan sees), and of the colour utilities and icons only the rules naming used classes."""
    used = used_classes() if used is None else used
    if not (dsfr_dir / "core" / "core.main.min.css").exists():
        raise SystemExit(f"{dsfr_dir} is missing: run `bash scripts/install-site-deps.sh` (make does it first)")
    components = _components(dsfr_dir, used)
    parts, prints = [], []
    sheets = [dsfr_dir / "core" / "core"] + [dsfr_dir / "component" / c / c for c in components]
    for stem in sheets:
        main = stem.with_name(stem.name + ".main.min.css")
        parts.append(_relocated(main.read_text(encoding="utf-8"), main, dsfr_dir, "bundle"))
        printed = stem.with_name(stem.name + ".print.min.css")
        if printed.exists():
            prints.append(_relocated(printed.read_text(encoding="utf-8"), printed, dsfr_dir, "bundle"))
    utilities = [dsfr_dir / "utility" / "colors" / "colors.main.min.css",
                 *sorted((dsfr_dir / "utility" / "icons").glob("icons-*/icons-*.main.min.css"))]
    for sheet in utilities:
        parts.append(_relocated(_only_used(sheet.read_text(encoding="utf-8"), used), sheet, dsfr_dir, "bundle"))
    header = ("/*! DSFR (SPDX-License-Identifier: Etalab-2.0, see vendor/dsfr/LICENSE.md), only the parts this site uses: "
              f"core, {', '.join(components)}, colours and icons. Written by scripts/build_site.py. */\n")
    css = header + "\n".join(p.split("*/", 1)[-1] if p.lstrip().startswith("/*") else p for p in parts + prints)
    scripts = [dsfr_dir / "core" / "core.module.min.js"] + [
        dsfr_dir / "component" / c / f"{c}.module.min.js" for c in components
        if (dsfr_dir / "component" / c / f"{c}.module.min.js").exists()]
    # Each file is a module without import or export; a block keeps its top-level names to itself in one module.
    js = header + "".join(f"{{\n{path.read_text(encoding='utf-8')}\n}}\n" for path in scripts)
    return {"bundle/dsfr.css": css, "bundle/dsfr.js": js}


# --- robots.txt and sitemap.xml -------------------------------------------------------------------------------------

def crawl_files(site_url: str) -> dict[str, str]:
    site_url = site_url.rstrip("/")
    robots = ("# The public pages may be listed; the rest needs a session or an emailed link.\nUser-agent: *\n"
              + "Allow: /$\n" + "".join(f"Allow: /{p}\n" for p in PUBLIC_PAGES)
              + f"Disallow: /\n\nSitemap: {site_url}/sitemap.xml\n")
    urls = "".join(f"  <url><loc>{site_url}/{'' if p == 'index.html' else p}</loc></url>\n" for p in PUBLIC_PAGES)
    sitemap = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n")
    return {"robots.txt": robots, "sitemap.xml": sitemap}


def build(output_dir: Path = OUTPUT_DIR, source_dir: Path = SOURCE_DIR, site_url: str | None = None,
          dsfr_dir: Path = DSFR_DIR) -> list[Path]:
    """Writes the pages, then the bundles, constants and crawl files; returns the pages' paths."""
    pages = render_all(source_dir)
    if not pages:
        raise SystemExit(f"{source_dir / 'pages'} holds no page")
    extra = {**dsfr_bundle(dsfr_dir, used_classes(source_dir)), "js/constants.js": constants_js(),
             **crawl_files(site_url or os.environ.get("SITE_URL") or DEFAULT_SITE_URL)}
    assert sorted(extra) == sorted(GENERATED_FILES), sorted(extra)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, html in pages.items():
        path = output_dir / name
        path.write_bytes(html.encode("utf-8"))
        written.append(path)
    for name, text in extra.items():
        path = output_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Render site-src/pages/*.html into site/.")
    parser.add_argument("--out", type=Path, default=OUTPUT_DIR, help="output folder (default: site/)")
    parser.add_argument("--site-url", help=f"the site's address for sitemap.xml (default: SITE_URL or {DEFAULT_SITE_URL})")
    args = parser.parse_args(argv)
    written = build(args.out, site_url=args.site_url)
    print(f"{len(written)} pages, bundle/dsfr.css, bundle/dsfr.js, js/constants.js, robots.txt and sitemap.xml "
          f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
