"""`.venv/bin/python scripts/build_site.py [--out DIR]`: renders the site's pages from site-src/ into site/ (or DIR).

Each site-src/pages/<page>.html extends site-src/layout.html (the DSFR frame: head, skip links, header, footer, with
site-src/partials/) and holds only what is its own: its title, its header variant and active menu item, its scripts
and its main content. The output is site/<page>.html, one file per page and nothing else; those files are build
products, not committed (.gitignore), built by `make run`, `make test`, `make security` and by infra/publish_site.py.

Autoescaping is on and undefined variables fail the build (StrictUndefined). Every page is rendered before any is
written, so a broken template writes nothing; the output depends on the sources only (same bytes on every run).
"""
import argparse
import sys
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PROJECT_DIR = Path(__file__).resolve().parents[1]
SOURCE_DIR = PROJECT_DIR / "site-src"
OUTPUT_DIR = PROJECT_DIR / "site"


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


def render_all(source_dir: Path = SOURCE_DIR) -> dict[str, str]:
    """Page file name -> its HTML."""
    env = environment(source_dir)
    pages = {}
    for name in page_names(source_dir):
        try:
            pages[name] = env.get_template(f"pages/{name}").render()
        except Exception as error:
            raise SystemExit(f"site-src/pages/{name}: {type(error).__name__}: {error}") from error
    return pages


def build(output_dir: Path = OUTPUT_DIR, source_dir: Path = SOURCE_DIR) -> list[Path]:
    pages = render_all(source_dir)
    if not pages:
        raise SystemExit(f"{source_dir / 'pages'} holds no page")
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, html in pages.items():
        path = output_dir / name
        path.write_bytes(html.encode("utf-8"))
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Render site-src/pages/*.html into site/.")
    parser.add_argument("--out", type=Path, default=OUTPUT_DIR, help="output folder (default: site/)")
    args = parser.parse_args(argv)
    written = build(args.out)
    print(f"{len(written)} pages written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
