"""Browser tests of the site: Playwright (sync API) driving Debian's Chromium against the real local stack.

A test works as a person would: it opens pages, clicks what is shown, types in fields found by their label, reads what
the page shows, and reads its emails in the stack's outbox. Every page a test looks at is also checked with axe-core
(no serious or critical violation) and saved as a screenshot in var/screenshots/ (not committed).

Import the fixtures into a test module: ``from tests.e2e.browser import browser, site  # noqa: F401``.
"""
import email
import email.policy
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from local.demo import REFERENCE_DATA  # noqa: F401 (re-exported for the browser tests)

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SITE = PROJECT_DIR / "site"
SITE_SOURCES = PROJECT_DIR / "site-src"
AXE = SITE / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_DIR / "var" / "screenshots"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")  # module, like the stack: one Playwright at a time
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `bash scripts/install-browser.sh` (or `make browser`).")
    if not AXE.exists():
        pytest.fail("site/vendor is missing: run `bash scripts/install-site-deps.sh`.")
    newest_source = max(p.stat().st_mtime for p in SITE_SOURCES.rglob("*.html"))
    stale = sorted(p.name for p in (SITE_SOURCES / "pages").glob("*.html") if not (SITE / p.name).exists()
                   or (SITE / p.name).stat().st_mtime < newest_source)
    if stale:
        pytest.fail(f"site/ pages missing or older than site-src/ ({', '.join(stale)}): run `make site`.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Person:
    """One person's browser (own cookies and sessionStorage) on the site."""

    def __init__(self, browser: Browser, site_url: str, prefix: str):
        self.site_url = site_url
        self.prefix = prefix
        self.context = browser.new_context(base_url=site_url, locale="fr-FR", timezone_id="Europe/Paris",
                                           viewport={"width": 1280, "height": 900})
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        self._shots = 0
        for old in SCREENSHOTS.glob(f"{prefix}-[0-9][0-9]-*.png"):
            old.unlink()

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # The pages of another origin (the OpenID Connect provider's sign-in page) are not the site's to answer for.
        if url and not url.startswith(self.site_url) and not self.page.url.startswith(self.site_url):
            return
        # An API answering 4xx is logged by Chromium as "Failed to load resource": that is the test's business.
        if "/api/" in url and message.text.startswith("Failed to load resource"):
            return
        self.problems.append(f"console: {message.text} ({url})")

    def open(self, path: str = "/") -> Page:
        self.page.goto(path)
        return self.page

    def check(self, step: str) -> None:
        """Axe-core finds no serious or critical violation on the page as it is now; a screenshot is saved."""
        page = self.page
        page.wait_for_load_state("load")
        self._shots += 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{self._shots:02d}-{step}.png"), full_page=True)
        violations = audit(page)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"accessibility violations on {page.url} ({step}):\n" + "\n".join(
            f"- {v['impact']} {v['id']}: {v['help']} -> {v['nodes']}" for v in serious)

    def close(self) -> None:
        self.context.close()


def audit(page: Page) -> list[dict]:
    """Run axe-core in the page. The pages' CSP (script-src 'self') refuses an injected <script> element, so axe's
    source is evaluated through the DevTools protocol, which the CSP does not govern."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    return page.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}));
    }""")


def enter_code(page: Page, totp_secret: str | None) -> None:
    """After « Connexion » with an operator's password: the page asks for the second factor's code; type the one an
    authenticator app shows now."""
    if not totp_secret:
        return
    from tests.helpers import otp

    field = page.get_by_label("Code de double authentification")
    expect(field).to_be_visible()
    field.fill(otp(totp_secret))
    page.get_by_role("button", name="Connexion").click()


@pytest.fixture
def site(browser, stack):
    """``site("name")`` opens a new person's browser on the stack's site; checked for console errors at the end."""
    people: list[Person] = []

    def open_person(prefix: str) -> Person:
        person = Person(browser, stack.state["site_url"], prefix)
        people.append(person)
        return person

    yield open_person
    problems = [p for person in people for p in person.problems]
    for person in people:
        try:  # the page as the test left it: what it showed when a step failed
            person.page.screenshot(path=str(SCREENSHOTS / f"{person.prefix}-99-derniere-page.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a closed page has nothing to show
            pass
        person.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


class Outbox:
    """The emails the stack sent (one .eml file each)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def _messages(self):
        paths = sorted(self.directory.glob("*.eml"), key=lambda path: (path.stat().st_mtime_ns, path.name))
        for path in paths:
            yield path, email.message_from_bytes(path.read_bytes(), policy=email.policy.default)

    def seen(self) -> set[str]:
        return {path.name for path in self.directory.glob("*.eml")}

    def wait_for(self, to: str, seen: set[str] | None = None, timeout: float = 15) -> email.message.EmailMessage:
        """The newest email to ``to`` (that was not already in ``seen``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [message for path, message in self._messages()
                     if message["To"] == to and (seen is None or path.name not in seen)]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"no email for {to} in {self.directory}")


def link_in(message: email.message.EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+?\?token=[A-Za-z0-9_.\-]+", text).group(0)


def choose_file(page: Page, button: str, path: str | Path) -> None:
    """Click the button that opens the file chooser (« Parcourir ») and pick ``path`` in it, as a person does."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=button).click()
    chooser.value.set_files(str(path))


def portrait_jpeg(portrait: str = "grace", canvas: tuple[int, int] = (700, 900), head: float = 600) -> bytes:
    """A photo of a face (from the photo assistant's labelled set: real portraits shipped in registry packages) on a
    plain light background, the head ``head`` pixels high, the eyes at 45 % of the height: the cropper's default
    frame on a 700 x 900 photo then holds the face as the ID norm wants it."""
    from tests.unit import assistant_set

    placement = assistant_set.Placement(portrait, head, (canvas[0] / 2, canvas[1] * 0.45))
    return assistant_set.jpeg(assistant_set.Sample(f"{portrait}-{canvas}-{head}", canvas=canvas, heads=(placement,)))
