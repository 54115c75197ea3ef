"""The uploader's journey in a real browser (Debian's chromium) against `make run`'s system."""

import hashlib
import re

import pytest

from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.browser import choose, sign_in
from tests.helpers.files import tiny_pdf

pytestmark = pytest.mark.browser

def file_id_of(system, name: str) -> str:
    """The id of the file with ``name``, read from the running stack's table."""
    import boto3

    settings = system.settings
    ddb = boto3.client("dynamodb", endpoint_url=settings["endpoint_url"], region_name=settings["region"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    items = ddb.scan(TableName=settings["table"], FilterExpression="#n = :n",
                     ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": name}})
    (item,) = items["Items"]
    return item["file_id"]["S"]


def test_uploader_signs_in_uploads_a_pdf_and_sees_it_processed(page, system, tmp_path):
    sign_in(page, "uploader@example.com", "Not-the-password-1")
    page.get_by_text("Incorrect e-mail or password.").wait_for()

    sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
    page.get_by_text("No files yet").wait_for()

    data = tiny_pdf("Quarterly report")
    pdf = tmp_path / "Quarterly report (final).pdf"
    pdf.write_bytes(data)
    page.get_by_role("link", name="Upload").first.click()
    page.get_by_role("heading", name="Upload documents").wait_for()
    page.locator("input[type=file]").set_input_files(str(pdf))
    page.get_by_role("button", name="Upload 1 file(s)").click()
    page.get_by_text("1 stored. Extraction has started.").wait_for()

    page.get_by_role("link", name="Watch them on My files").click()
    page.get_by_text("1 file(s), all done.").wait_for()  # the page refreshes itself until then
    # The list is a data grid: its rows are an accessible table behind the canvas.
    name_cell = page.locator("[id^=glide-cell-]").filter(has_text="Quarterly report (final).pdf").first
    row_no = name_cell.get_attribute("id").rsplit("-", 1)[1]  # glide-cell-<column>-<row>
    text = " | ".join(page.locator(f"[id^=glide-cell-][id$='-{row_no}']").all_text_contents())
    assert "processed" in text
    digest = hashlib.sha256(data).hexdigest()
    assert digest[:12] in text and digest not in text  # the table shows the start, the detail all of it
    assert re.search(rf"\b{len(data)} B\b", text) or re.search(rf"\| {len(data)} \|", text)
    file_id = file_id_of(system, "Quarterly report (final).pdf")
    choose(page, page.get_by_test_id("stSelectbox").filter(has_text="Show details of"),
           f"Quarterly report (final).pdf ({file_id[:8]})")
    page.get_by_role("heading", name="Quarterly report (final).pdf").wait_for()
    page.get_by_role("cell", name=digest).wait_for()

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_label("E-mail").wait_for()
    page.get_by_text("You have signed out.").wait_for()
    # The previous page's elements fade out once the sign-in run has finished: poll, don't race.
    from playwright.sync_api import expect

    expect(page.get_by_text("Quarterly report (final).pdf")).to_have_count(0)
