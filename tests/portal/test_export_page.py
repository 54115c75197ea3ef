"""The export page in AppTest, inside the app's navigation, against the stack in moto (in-process).

The page shares the dashboard's URL-bound filter bar: what a dashboard view
filters is what its "Export these files" link exports.
"""

from __future__ import annotations

import csv
import io
import urllib.parse

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from common import aws, schema
from common.schema import FileRecord
from portal import navigation
from portal.tokens import User
from tests.portal.pages import page_as
from tests.portal.test_dashboard import DAYS, ME
from tests.unit.test_analytics import make_records

ANALYST = User(sub="analyst-x", email="an@example.com", groups=frozenset({"analysts"}), expires_at=2**40)
UPLOADER = User(sub=ME, email="me@example.com", groups=frozenset({"uploaders"}), expires_at=2**40)


@pytest.fixture
def files(stack) -> list[FileRecord]:
    st.cache_data.clear()
    records = make_records(40, seed=7, days=DAYS)
    ddb = aws.client("dynamodb")
    for record in records:
        ddb.transact_write_items(**schema.transition(stack.table, None, record))
    yield records
    st.cache_data.clear()


def exported_rows(bucket: str) -> list[dict[str, str]]:
    s3 = aws.client("s3")
    (obj,) = s3.list_objects_v2(Bucket=bucket, Prefix="exports/")["Contents"]
    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def test_the_dashboard_links_analysts_to_an_export_of_the_same_view(files):
    at = page_as(ANALYST, "dashboard", format="pdf", status="Failed")
    assert not at.exception, at.exception
    (link,) = [p for p in at.get("page_link") if p.value == "Export these files as CSV"]
    query = urllib.parse.parse_qs(link.proto.query_string)
    assert (query["format"], query["status"]) == (["pdf"], ["Failed"])
    assert link.proto.page.endswith("export")


def test_uploaders_get_no_export_link(files):
    at = page_as(UPLOADER, "dashboard")
    assert not at.exception, at.exception
    assert not [p for p in at.get("page_link") if p.value == "Export these files as CSV"]


def test_an_analyst_exports_exactly_the_filtered_files(files, stack):
    at = page_as(ANALYST, "export", format="pdf", status="Failed")
    assert not at.exception, at.exception
    assert "formats pdf" in at.caption[0].value and "status failed" in at.caption[0].value
    next(b for b in at.button if b.label == "Prepare export").click()
    at.run()
    assert not at.exception, at.exception
    assert [b for b in at.get("link_button") if b.proto.label == "Download the CSV"]
    rows = exported_rows(stack.bucket)
    wanted = [r for r in files if r.format == "pdf" and r.status.value == "failed"]
    assert wanted, "the generated files include failed PDFs"
    assert sorted(r["sha256"] for r in rows) == sorted(r.sha256 for r in wanted)
    assert {r["format"] for r in rows} == {"pdf"} and {r["status"] for r in rows} == {"failed"}


def test_an_uploader_who_opens_the_export_page_is_refused(files):
    # Navigation never offers the page to an uploader; run its script directly, as a forged request would.
    at = AppTest.from_file(navigation.page_path("export"), default_timeout=60)
    at.session_state["docportal_user"] = UPLOADER
    at.run()
    assert not at.exception, at.exception
    assert "export" not in [name for name, _, _ in navigation.entries(UPLOADER)]
    assert "Exports are for analysts and admins" in at.warning[0].value
    assert not [b for b in at.button if b.label == "Prepare export"]
