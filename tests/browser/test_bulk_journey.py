"""Issue 16's journey in a real browser: from the failed files on the dashboard to a retry, and tags to a CSV.

Two files fail because the extractor reads at most 1 MB (`DOCPORTAL_MAX_PARSE_MB=1`);
the system is then restarted with the default limit, as an operator would
after raising it, and the owner follows the dashboard's "Failures" link to
exactly those files, selects both in the list, retries them and sees them
processed. Then the owner tags three files at once, the Files view filtered by
that tag lists exactly them, and the analyst's CSV export of that tag holds
the three files with their tags column.

The issue has an analyst retry; only owners and admins change files
(`portal/access.py`), so here it is the owner who retries.
"""

from __future__ import annotations

import csv
import io
import urllib.request

import pytest

from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.browser import sign_in, upload_files
from tests.helpers.system import System

pytestmark = pytest.mark.browser

#: Over the first run's 1 MB parse limit, under its 5 MB upload limit.
BIG = b"quarterly figures and words\n" * 40_000
FILES = {"big one.txt": BIG, "big two.txt": BIG + b"x", "small.txt": b"small and fine\n"}
LIMITED = {"DOCPORTAL_MAX_PARSE_MB": "1", "DOCPORTAL_UPLOAD_MAX_MB": "5"}
ROW_PX, FIRST_ROW_Y, MARKER_X = 35, 35 + 17, 12  # the data grid's rows, drawn on a canvas


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """`make run` whose extractor reads at most 1 MB; the test restarts it with the default."""
    running = System(tmp_path_factory.mktemp("system") / "state", env=LIMITED).start()
    holder = {"system": running}
    yield holder
    assert holder["system"].stop() == 0


@pytest.fixture
def page(browser, system):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"http://localhost:{system['system'].portal_port}")
    yield page
    context.close()


def tick_rows(page, count: int) -> None:
    """Tick the first ``count`` rows of the Files list, as a click on their checkboxes does."""
    grid = page.locator('[data-testid="stDataFrame"] canvas').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    for row in range(count):  # the grid's own layers lie over the canvas: click where a person would
        page.mouse.click(box["x"] + MARKER_X, box["y"] + FIRST_ROW_Y + row * ROW_PX)
    page.get_by_text(f"{count} selected", exact=True).wait_for()


def test_failed_files_from_the_dashboard_are_retried_and_tagged_files_are_exported(system, page, tmp_path):
    sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
    upload_files(page, "Upload", FILES, tmp_path)
    page.get_by_text(f"{len(FILES)} file(s), all done.").wait_for()

    # The operator raises the limit: the same state, ports and data, the default parse limit.
    first = system["system"]
    assert first.stop() == 0
    system["system"] = System(first.state, first.moto_port, first.portal_port, first.api_port,
                              env={"DOCPORTAL_UPLOAD_MAX_MB": "5"}).start()
    page.goto(f"http://localhost:{first.portal_port}/dashboard")
    dashboard = page.get_by_role("heading", name="Dashboard")
    dashboard.or_(page.get_by_label("E-mail")).wait_for()  # the lasting session, or signing in again
    if not dashboard.is_visible():
        sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    dashboard.wait_for()
    page.get_by_role("link", name="Failures: open these 2 files").click()
    page.get_by_text("2 files match these filters.").wait_for()
    assert "status=failed" in page.url

    tick_rows(page, 2)
    page.get_by_role("button", name="Retry failed (2)").click()
    page.get_by_text("2 files sent back for processing.").wait_for()
    page.goto(f"http://localhost:{first.portal_port}/")  # every file, no filter (the session lasts)
    page.get_by_text(f"{len(FILES)} file(s), all done.").wait_for()  # refreshes itself until then

    tick_rows(page, 3)
    page.get_by_label("Add tags").fill("Board Pack")
    page.get_by_role("button", name="Change tags (3)").click()
    page.get_by_text("3 files retagged.").wait_for()
    page.goto(f"http://localhost:{first.portal_port}/?tag=board+pack")
    page.get_by_text("3 files match these filters.").wait_for()

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("You have signed out.").wait_for()
    sign_in(page, "analyst@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="Files").wait_for()
    page.get_by_role("link", name="Export").first.click()
    page.get_by_role("heading", name="Export metadata").wait_for()
    columns = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Columns").locator("input")
    columns.fill("tags")
    columns.press("Enter")
    page.get_by_label("Tags", exact=True).fill("board pack")
    page.get_by_role("button", name="Prepare export").click()
    link = page.get_by_role("link", name="Download the CSV")
    link.wait_for()
    with urllib.request.urlopen(link.get_attribute("href")) as response:  # noqa: S310 - the stand-in's link
        rows = list(csv.DictReader(io.StringIO(response.read().decode("utf-8"))))
    assert sorted((r["name"], r["status"], r["tags"]) for r in rows) == [
        (name, "processed", "board pack") for name in sorted(FILES)]
