"""The Upload page sends files from the browser straight to S3 (the moto server), never through the portal.

Against `make run`'s system in Debian's chromium: a batch with a refused file
stores the others; then a 50 MB PDF goes up while the portal process's memory
stays flat (issue 13: growth under 20 MB; measured with the pages already drawn
once, so their first allocations are not counted), the user leaves for My
files mid-upload and comes back to an honest summary.
"""

import pytest

from bench.portal_upload import MiB, PeakRss, rss
from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.browser import sign_in
from tests.helpers.files import padded_pdf, tiny_pdf

pytestmark = pytest.mark.browser


def open_upload(page) -> None:
    page.get_by_role("link", name="Upload").first.click()
    page.get_by_role("heading", name="Upload documents").wait_for()
    page.locator("input[type=file]").wait_for(state="attached")


def test_a_batch_with_a_refused_file_stores_the_others_and_says_which(page, system, tmp_path):
    sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
    open_upload(page)
    files = {"Minutes.pdf": tiny_pdf("Minutes"), "figures.csv": b"quarter,revenue\nQ1,10\n",
             "setup.exe": b"MZ\x90\x00"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    page.locator("input[type=file]").set_input_files([str(tmp_path / n) for n in files])
    page.get_by_role("button", name="Upload 3 file(s)").click()
    page.get_by_text("2 stored, 1 refused. Extraction has started.").wait_for()
    page.get_by_text("setup.exe: this type of file is not accepted").first.wait_for()
    page.get_by_role("link", name="Watch them on My files").click()
    page.get_by_text("all done.").wait_for(timeout=120_000)
    for name in ("Minutes.pdf", "figures.csv"):
        cell = page.locator("[id^=glide-cell-]").filter(has_text=name).first
        row_no = cell.get_attribute("id").rsplit("-", 1)[1]
        assert "processed" in " | ".join(page.locator(f"[id^=glide-cell-][id$='-{row_no}']").all_text_contents())
    assert not page.locator("[id^=glide-cell-]").filter(has_text="setup.exe").count()


def test_a_50_mb_file_goes_straight_to_s3_and_the_portal_stays_flat_even_when_the_user_wanders_off(
        page, system, tmp_path):
    sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_text("all done.").wait_for()  # the list the test above filled, drawn once (pandas, the grid)
    open_upload(page)  # both pages drawn once, so what they first allocate is not counted below
    big = tmp_path / "Annual report 2026.pdf"
    big.write_bytes(padded_pdf(50 * MiB))
    portal = system.child("portal")
    before = rss(portal)

    with PeakRss(portal) as memory:
        page.locator("input[type=file]").set_input_files(str(big))
        page.get_by_role("button", name="Upload 1 file(s)").click()
        sending = page.get_by_test_id("direct-upload-note").filter(has_text="Keep this tab open")
        sending.or_(page.get_by_text("1 stored. Extraction has started.")).first.wait_for()
        # Off to My files while the bytes may still be on their way; the upload carries on.
        page.get_by_role("link", name="My files").first.click()
        page.get_by_role("heading", name="My files").wait_for()
        open_upload(page)
        page.get_by_text("1 stored. Extraction has started.").wait_for(timeout=180_000)
        after = rss(portal)

    growth = memory.peak - before
    print(f"portal RSS {before / MiB:.1f} MB before, peak {memory.peak / MiB:.1f} MB, "
          f"{after / MiB:.1f} MB after: grew {growth / MiB:.1f} MB for a 50 MB upload")
    assert growth < 20 * MiB

    page.get_by_role("link", name="Watch them on My files").click()
    page.get_by_text("all done.").wait_for(timeout=180_000)  # the page refreshes itself until then
    cell = page.locator("[id^=glide-cell-]").filter(has_text="Annual report 2026.pdf").first
    row_no = cell.get_attribute("id").rsplit("-", 1)[1]
    text = " | ".join(page.locator(f"[id^=glide-cell-][id$='-{row_no}']").all_text_contents())
    assert "processed" in text
