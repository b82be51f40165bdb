"""Browser tests: Debian's Chromium, driven by Playwright (async API), against Parley serving the built web apps.

- `browser`: Chromium from /usr/bin/chromium (Playwright never downloads a browser here), started
  with the flags this closed-network machine needs. One per test, like Parley itself.
- `web`: the `parley` fixture (every service, on a free port), once web/dist is built (`make web`;
  `make test` does it first). The ingress service serves the apps itself (services/ingress/app.py).
- `account` and `center`: the account's HTTP client, and a contact center that the web-chat widget reaches.
- `pages`: opens pages, each in its own browser context; records console errors and uncaught
  exceptions of every page, and any the test did not announce with `pages.expect_console_error`
  fails the test. `pages.screenshot(page, "label")` saves
  test-output/screenshots/<test>--<label>.png; a failing test gets a screenshot of each open page.

Tests that use `browser` are skipped, saying why, where /usr/bin/chromium is missing (`make browser`
installs it); the other tests here still run.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Error, Page, async_playwright

from services.ingress.web_apps import web_dist_directory
from tests.support.parley import RunningParley
from tests.support.web_chat_center import WebChatCenter, set_up_web_chat_center

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps calling Google's hosts, refused on this machine.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
HERE = Path(__file__).resolve().parent

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
                         "has_touch": True}
# Playwright's 30 s default hides a stuck page for too long; the pages here are small and local.
ACTION_TIMEOUT_MS = 10_000

PAGES_KEY = pytest.StashKey["Pages"]()
CALL_REPORT_KEY = pytest.StashKey[pytest.TestReport]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"browser tests need Chromium at {CHROMIUM}: run `make browser` "
                                   "(apt-get install chromium)")
    for item in items:
        if item.path.is_relative_to(HERE) and "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A test that passed still fails on a console error it did not expect."""
    result = yield
    pages = item.stash.get(PAGES_KEY, None)
    if pages is not None:
        pages.fail_on_unexpected_errors()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT_KEY] = report
    return report


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def account(web: RunningParley) -> AsyncIterator[httpx.AsyncClient]:
    """The account's own HTTP client (credentials), for what the test does behind the browser's back."""
    async with web.client() as client:
        yield client


@pytest.fixture
async def center(account: httpx.AsyncClient) -> WebChatCenter:
    """A contact center web chats reach: agents Alice and Bob, supervisor Sam, all Offline at first."""
    return await set_up_web_chat_center(account, agents=("alice", "bob"), supervisors=("sam",))


@pytest.fixture
async def web(parley: RunningParley) -> RunningParley:
    """Parley, whose ingress serves the web apps at /desk/, /supervisor/ and /webchat/ from web/dist."""
    dist = web_dist_directory(parley.settings)
    # Ingress would answer 503 on every page; one clear failure here says what to do.
    if not (dist / "desk" / "index.html").is_file():
        pytest.fail(f"web apps not built: run make web (looked in {dist})")
    return parley


@dataclass
class ConsoleError:
    page_url: str
    kind: str  # "console" or "exception"
    text: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.page_url}: {self.text}"


@dataclass
class Pages:
    browser: Browser
    base_url: str
    test_name: str
    errors: list[ConsoleError] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    reported: bool = False

    async def open(self, path: str, *, phone: bool = False, before: Callable[[Page], None] | None = None,
                   **context_options: Any) -> Page:
        """A new page in a fresh context (no shared storage), navigated to `path` on Parley.

        `before(page)` runs before the first request, e.g. to listen to all of the page's traffic."""
        options = {**(PHONE if phone else DESKTOP), **context_options}
        context = await self.browser.new_context(base_url=self.base_url, **options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.on("page", self._watch)
        self.contexts.append(context)
        page = await context.new_page()
        if before is not None:
            before(page)
        response = await page.goto(path)
        assert response is not None and response.ok, f"GET {path} answered {response and response.status}"
        return page

    def expect_console_error(self, pattern: str) -> None:
        """Console errors matching `pattern` are part of what this test provokes (e.g. a 401 response)."""
        self.expected.append(re.compile(pattern))

    async def screenshot(self, page: Page, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_file_name(self.test_name)}--{_file_name(label)}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    def unexpected_errors(self) -> list[ConsoleError]:
        return [error for error in self.errors if not any(pattern.search(error.text) for pattern in self.expected)]

    def fail_on_unexpected_errors(self) -> None:
        unexpected = self.unexpected_errors()
        if unexpected and not self.reported:
            self.reported = True
            pytest.fail("console errors in the browser:\n" + "\n".join(f"  {error}" for error in unexpected))

    def _watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(ConsoleError(page.url, "console", message.text))

        def on_exception(error: Error) -> None:
            self.errors.append(ConsoleError(page.url, "exception", error.stack or error.message))

        page.on("console", on_console)
        page.on("pageerror", on_exception)

    async def close(self, *, failed: bool) -> None:
        for context in self.contexts:
            if failed:
                for number, page in enumerate(context.pages):
                    await self.screenshot(page, f"failure-{self.contexts.index(context)}-{number}")
            await context.close()


@pytest.fixture
async def pages(browser: Browser, web: RunningParley, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    opened = Pages(browser=browser, base_url=web.base_url, test_name=request.node.name)
    request.node.stash[PAGES_KEY] = opened
    yield opened
    report = request.node.stash.get(CALL_REPORT_KEY, None)
    await opened.close(failed=report is None or report.failed)
    # Errors that came in after the test's last step fail it at teardown.
    opened.fail_on_unexpected_errors()


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")
