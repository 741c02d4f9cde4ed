"""Browser tests' fixtures: Debian's Chromium driven by Playwright, no browser download.

A test module loads them with ``pytest_plugins = ["chromium"]`` (or imports both:
``from chromium import browser, page``) and asks for ``page``, or ``browser`` for contexts of
its own. Without /usr/bin/chromium the tests are skipped, unless REQUIRE_BROWSER=1 (CI), which
makes that a failure. When a test using ``page`` fails, a screenshot and the page's HTML go to
$BROWSER_ARTIFACTS (default: ``browser-artifacts`` in pytest's base temporary directory), and
their paths into the failure's report.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
REQUIRE_VARIABLE = "REQUIRE_BROWSER"
ARTIFACTS_VARIABLE = "BROWSER_ARTIFACTS"
TIMEOUT_MS = 10_000
PAGE_KEY = pytest.StashKey[tuple[Page, Path]]()
PLUGIN_NAME = "jwtauthtest-browser-artifacts"


def chromium_is_required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE) == "1"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, one per test module. (Not per session: while Playwright's sync API runs, its
    asyncio loop counts as running in this thread, so asyncio.run() would fail in later tests.)"""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if chromium_is_required():
            pytest.fail(f"{reason}; {REQUIRE_VARIABLE}=1 forbids skipping them")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or storage from other tests)."""
    plugins = request.config.pluginmanager
    if not plugins.has_plugin(PLUGIN_NAME):
        plugins.register(FailureArtifacts(), PLUGIN_NAME)
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    new_page = context.new_page()
    request.node.stash[PAGE_KEY] = (new_page, artifacts_dir(tmp_path_factory))
    yield new_page
    context.close()


def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get(ARTIFACTS_VARIABLE)
    return Path(configured) if configured else (
        tmp_path_factory.getbasetemp() / "browser-artifacts")


class FailureArtifacts:
    """A plugin, registered by the first ``page``: when a test with a page fails, keep what
    the page showed."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo) -> Iterator[None]:
        report = yield
        if report.failed and PAGE_KEY in item.stash:
            report.sections.append(("browser artifacts", save_artifacts(item)))
        return report


def save_artifacts(item: pytest.Item) -> str:
    """Save the page's screenshot and HTML; what to tell about them."""
    page, directory = item.stash[PAGE_KEY]
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / re.sub(r"[^\w.-]+", "_", item.nodeid)
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
        Path(f"{stem}.html").write_text(page.content())
    except Exception as error:  # noqa: BLE001  (a closed page must not hide the failure)
        return f"could not save the page ({page.url}): {error}"
    return f"the page at {page.url}:\nscreenshot {stem}.png\nHTML {stem}.html"
