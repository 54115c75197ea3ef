"""The export page in AppTest, inside the app's navigation, against the stack in moto (in-process).

The page shares the dashboard's URL-bound filter bar: what a dashboard view
filters is what its "Export these files" link exports.
"""

from __future__ import annotations

import csv
import io
import urllib.parse

from streamlit.testing.v1 import AppTest

from common import aws
from common.schema.record import FileRecord
from portal import navigation
from portal.access import User
from tests.helpers.pages import page_as, signed_in_as
from tests.helpers.records import OWNERS

ME = OWNERS[0]

ANALYST = User(sub="analyst-x", email="an@example.com", groups=frozenset({"analysts"}), expires_at=2**40)
UPLOADER = User(sub=ME, email="me@example.com", groups=frozenset({"uploaders"}), expires_at=2**40)


def exported_rows(bucket: str) -> list[dict[str, str]]:
    s3 = aws.client("s3")
    (obj,) = s3.list_objects_v2(Bucket=bucket, Prefix="exports/")["Contents"]
    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def failed_format(files: list[FileRecord]) -> str:
    """A format some of the generated files failed in."""
    return sorted(r.format for r in files if r.status.value == "failed" and r.format)[0]


def test_the_dashboard_links_analysts_to_an_export_of_the_same_view(files):
    fmt = failed_format(files)
    at = page_as(ANALYST, "dashboard", format=fmt, status="Failed")
    assert not at.exception, at.exception
    (link,) = [p for p in at.get("page_link") if p.value == "Export these files as CSV"]
    query = urllib.parse.parse_qs(link.proto.query_string)
    assert (query["format"], query["status"]) == ([fmt], ["Failed"])
    assert link.proto.page.endswith("export")


def test_uploaders_get_no_export_link(files):
    at = page_as(UPLOADER, "dashboard")
    assert not at.exception, at.exception
    assert not [p for p in at.get("page_link") if p.value == "Export these files as CSV"]


def test_an_analyst_exports_exactly_the_filtered_files(files, stack):
    fmt = failed_format(files)
    at = page_as(ANALYST, "export", format=fmt, status="Failed")
    assert not at.exception, at.exception
    assert f"formats {fmt}" in at.caption[0].value and "status failed" in at.caption[0].value
    next(b for b in at.button if b.label == "Prepare export").click()
    at.run()
    assert not at.exception, at.exception
    assert [b for b in at.get("link_button") if b.proto.label == "Download the CSV"]
    rows = exported_rows(stack.bucket)
    wanted = [r for r in files if r.format == fmt and r.status.value == "failed"]
    assert sorted(r["sha256"] for r in rows) == sorted(r.sha256 for r in wanted)
    assert {r["format"] for r in rows} == {fmt} and {r["status"] for r in rows} == {"failed"}


def test_an_uploader_who_opens_the_export_page_is_refused(files):
    # Navigation never offers the page to an uploader; run its script directly, as a forged request would.
    at = AppTest.from_file(navigation.page_path("export"), default_timeout=60)
    signed_in_as(at, UPLOADER)
    at.run()
    assert not at.exception, at.exception
    assert "export" not in [name for name, _, _ in navigation.entries(UPLOADER)]
    assert "Exports are for analysts and admins" in at.warning[0].value
    assert not [b for b in at.button if b.label == "Prepare export"]


def test_a_shared_link_offers_and_exports_only_stored_formats(files):
    """A ``?format=`` value with no file in the period is not offered, so not selected: every format
    is exported (the URL's value is dropped from the URL too)."""
    stored = sorted({r.format or "unknown" for r in files})
    at = page_as(ANALYST, "export", format=["[click](https://evil.test)", stored[0]])
    assert not at.exception, at.exception
    formats = next(m for m in at.multiselect if m.label == "Formats")
    assert set(formats.options) <= set(stored) and formats.value == [stored[0]]
    assert at.caption[0].value.startswith("Files uploaded from") and f"formats {stored[0]}," in at.caption[0].value
    assert "evil.test" not in " ".join(c.value for c in at.caption)
