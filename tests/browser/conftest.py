"""Browser-test fixtures: the app on a real port, and Debian's Chromium driven by Playwright.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium.
Nothing in this folder is ever skipped: a missing browser is a failure.
"""

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A fixed locale and zone keep formatted text stable whatever the machine says.
CONTEXT_OPTIONS = {"locale": "en-US", "timezone_id": "UTC"}

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test in this folder carries the ``browser`` marker (``-m "not browser"`` skips them)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_server(live_server_url):
    """The test's app served over HTTP on a free port (see tests/conftest.py); its base URL."""
    return live_server_url


@pytest.fixture
def new_context(browser):
    """A factory for isolated browser contexts (own cookies), all closed after the test.

    ``new_context(java_script_enabled=False)`` gives a browser with JavaScript off.
    """
    contexts = []

    def factory(**options):
        context = browser.new_context(**{**CONTEXT_OPTIONS, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh context with JavaScript on."""
    return new_context().new_page()


@pytest.fixture
def nojs_page(new_context):
    """A page in a fresh context with JavaScript off."""
    return new_context(java_script_enabled=False).new_page()
