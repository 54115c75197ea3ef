"""Issue 4's journey in a real browser (Debian's chromium) against `make run`'s system.

The uploader signs in, uploads several files at once, watches them all reach
``processed``, sees them on the dashboard and follows its Files tile to the
same files on My files (issue 16's drill-through); then the analyst exports CSV and the
downloaded file's rows and columns are exactly those files and the chosen columns.
"""

from __future__ import annotations

import csv
import hashlib
import io
import urllib.request

import pytest
from playwright.sync_api import expect

from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal.export.csv_shape import DEFAULT_COLUMNS
from tests.helpers.browser import sign_in, upload_files
from tests.helpers.files import tiny_pdf, tiny_png

pytestmark = pytest.mark.browser

FILES = {
    "Board minutes.pdf": tiny_pdf("Board minutes"),
    "=SUM(A1).csv": b"region,revenue\nnorth,10\nsouth,20\n",  # a name a spreadsheet would run
    "site photo.png": tiny_png(4, 3),
    "notes.txt": b"Quarterly notes\nwith two lines\n",
}


def metric(tab, label: str):
    return tab.get_by_test_id("stMetric").filter(has_text=label)


def test_upload_several_watch_dashboard_then_analyst_exports_csv(page, tmp_path):
    sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
    upload_files(page, "Upload", FILES, tmp_path)
    page.get_by_text(f"{len(FILES)} file(s), all done.").wait_for()  # refreshes itself until then
    for name in FILES:
        expect(page.get_by_text(name).first).to_be_visible()

    page.get_by_role("link", name="Dashboard").first.click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    expect(metric(page, "Files")).to_contain_text(str(len(FILES)))
    expect(metric(page, "Processed")).to_contain_text("100")
    expect(page.locator(".js-plotly-plot").first).to_be_visible()

    # Drill-through: the tile's link opens My files on exactly those files, its total the tile's figure.
    page.get_by_role("link", name=f"Files: open these {len(FILES)} files").click()
    page.get_by_role("heading", name="My files").wait_for()
    page.get_by_text(f"{len(FILES)} files match these filters.").wait_for()
    assert "counted=1" in page.url and "from=" in page.url  # a view that can be shared

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You have signed out.").wait_for()

    sign_in(page, "analyst@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("link", name="Export").first.click()
    page.get_by_role("heading", name="Export metadata").wait_for()
    page.get_by_role("button", name="Prepare export").click()
    link = page.get_by_role("link", name="Download the CSV")
    link.wait_for()
    href = link.get_attribute("href")
    with urllib.request.urlopen(href) as response:  # noqa: S310 - the presigned link, from the stand-in
        text = response.read().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(DEFAULT_COLUMNS)
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert sorted(r["name"] for r in records) == sorted(
        "'" + n if n.startswith("=") else n for n in FILES)  # neutralised, as OWASP says
    by_hash = {r["sha256"]: r for r in records}
    for data in FILES.values():
        row = by_hash[hashlib.sha256(data).hexdigest()]
        assert (row["status"], row["owner_email"], row["size"]) == ("processed", "uploader@example.com",
                                                                   str(len(data)))
    assert by_hash[hashlib.sha256(FILES["Board minutes.pdf"]).hexdigest()]["pages"] == "1"
