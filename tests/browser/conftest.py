"""The browser, the running system (`make run`) and a signed-out page, for the browser journeys."""

from __future__ import annotations

import os

import pytest

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS
from tests.helpers.system import System


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing at /usr/bin/chromium; .ci/run installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    running = System(tmp_path_factory.mktemp("system") / "state").start()
    yield running
    assert running.stop() == 0


@pytest.fixture
def page(browser, system):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"http://localhost:{system.portal_port}")
    yield page
    context.close()
