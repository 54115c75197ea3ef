"""The dashboard page in AppTest, against the stack in moto (in-process).

The page runs inside the app's navigation (``tests/helpers/harness.py``), after ``st.session_state["docportal_user"]`` is set to the
:class:`portal.access.User` that ``portal.auth.require_user`` would have put
there after a verified sign-in (sign-in itself is tested in test_app.py).
Query parameters are set on the AppTest, as a shared URL would set them.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import replace

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.record import FileRecord
from portal.access import User
from portal.dashboard import analytics, charts
from portal.dashboard.filters import DashboardFilters
from portal.dashboard.labels import kpi_tiles
from tests.helpers.markup import PLOTLY_MARKUP, live_plotly_markup, shows
from tests.helpers.pages import page_as
from tests.helpers.records import OWNERS, RECENT_DAYS, make_records
from tests.helpers.recount import recount_kpis
from tests.helpers.tables import commit

DAYS = RECENT_DAYS
ME, OTHER = OWNERS[0], OWNERS[1]


def page(*groups: str, sub: str = ME, **params: str | list[str]) -> AppTest:
    user = User(sub=sub, email=f"{sub[:4]}@example.com", groups=frozenset(groups), expires_at=2**40)
    at = page_as(user, "dashboard", **params)
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected(records: list[FileRecord], f: DashboardFilters) -> dict[str, str]:
    return {t.label: t.value for t in kpi_tiles(recount_kpis(records, f))}


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def test_an_uploader_sees_their_own_numbers(files):
    at = page("uploaders")
    assert at.title[0].value == "Dashboard"
    mine = DashboardFilters(DAYS[0], DAYS[-1], owner=ME)
    assert shown(at) == expected(files, mine)
    assert int(shown(at)["Files"]) == sum(r.owner == ME for r in files) > 0
    assert "Uploader" not in [s.label for s in at.selectbox]
    assert charts.TITLES["uploaders"] not in chart_titles(at)
    assert charts.TITLES["uploads"] in chart_titles(at)


def test_an_uploader_cannot_see_another_uploader_through_the_url(files):
    at = page("uploaders", owner=OTHER, format="pdf")
    assert shown(at) == expected(files, DashboardFilters(DAYS[0], DAYS[-1], owner=ME))
    assert shown(at) != expected(files, DashboardFilters(DAYS[0], DAYS[-1], owner=OTHER))


def test_an_analyst_sees_everyone_and_can_pick_an_uploader(files):
    at = page("analysts")
    assert shown(at) == expected(files, DashboardFilters(DAYS[0], DAYS[-1]))
    assert shown(at)["Files"] == str(len(files))
    uploader = next(s for s in at.selectbox if s.label == "Uploader")
    assert set(uploader.options) >= {"Everyone"}
    assert len(uploader.options) == 1 + len({r.owner for r in files})
    assert charts.TITLES["uploaders"] in chart_titles(at)
    picked = page("analysts", owner=OTHER)
    assert shown(picked) == expected(files, DashboardFilters(DAYS[0], DAYS[-1], owner=OTHER))


def test_an_admin_filters_by_format_and_status_from_the_url(files):
    at = page("admins", format=["pdf", "docx"], status="Failed")  # the URL holds the labels shown
    f = DashboardFilters(DAYS[0], DAYS[-1], frozenset({"pdf", "docx"}), status="failed")
    assert shown(at) == expected(files, f)
    assert shown(at)["Volume"] == "—"
    assert analytics.NOTE_STATUS_PARTIAL in " ".join(c.value for c in at.caption)


def test_a_custom_range_from_the_url(files):
    at = page("analysts", range="Custom", dates=[DAYS[1], DAYS[1]])
    assert shown(at) == expected(files, DashboardFilters(DAYS[1], DAYS[1]))


def test_a_period_without_files_shows_the_empty_state(files):
    at = page("uploaders", sub="nobody-at-all")
    assert shown(at)["Files"] == "0"
    assert "No files in this period" in at.info[0].value
    assert not at.get("plotly_chart")


def test_url_formats_are_offered_only_when_files_have_them(files):
    at = page("analysts", format=["no-such-format", "pdf"])
    formats = next(m for m in at.multiselect if m.label == "Formats")
    assert "no-such-format" not in formats.options and formats.value == ["pdf"]
    assert shown(at) == expected(files, DashboardFilters(DAYS[0], DAYS[-1], frozenset({"pdf"})))


def test_stored_markup_reaches_no_chart_as_markup(files, stack):
    """A PDF's /Author and /Producer, a failure reason and a format holding markup: shown, not drawn."""
    link, bold = PLOTLY_MARKUP[0], PLOTLY_MARKUP[3]  # a reason is counted by its part before any ":"
    ddb = aws.client("dynamodb")
    hostile = replace(files[0], file_id="ff" * 16, status=FileStatus.FAILED, reason=bold, format=link,
                      metadata={"author": link, "producer": link, "pages": 2})
    for record in (replace(hostile, status=FileStatus.PROCESSED), replace(hostile, file_id="fe" * 16)):
        ddb.transact_write_items(**requests.transition(stack.table, None, record))
    st.cache_data.clear()
    at = page("analysts")
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert specs and not [s for spec in specs for s in live_plotly_markup(spec, (link, bold))]
    titles = {value: {json.loads(spec)["layout"]["title"]["text"] for spec in specs if shows(spec, value)}
              for value in (link, bold)}
    assert {charts.TITLES[n] for n in ("authors", "producers", "formats", "uploads")} <= titles[link]
    assert charts.TITLES["failures"] in titles[bold]


# --- drill-through: every figure's link opens a Files view whose total is that figure ---------------


def pool_user(stack, email: str) -> str:
    """A user of the stack's pool, so the Files page may offer them as uploader; returns their sub."""
    created = aws.client("cognito-idp").admin_create_user(
        UserPoolId=stack.user_pool_id, Username=email, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email}])
    return next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")


@pytest.fixture
def counted_files(stack):
    """Finished files of two pool users, each committed with the ``rev`` the extractor gives it."""
    st.cache_data.clear()
    owners = (pool_user(stack, "ann@example.com"), pool_user(stack, "bob@example.com"))
    records = [replace(r, sequencer=f"{i:016X}", rev=f"{i:016X}#finished")
               for i, r in enumerate(make_records(30, seed=30, days=RECENT_DAYS, owners=owners))]
    commit(stack.table, records)
    yield records
    st.cache_data.clear()


def files_total(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "match" in m.value).replace("\\", "")


def test_every_chart_and_tile_links_to_files_with_the_same_total(counted_files):
    at = page("analysts")
    kpis = [p for p in at.get("page_link") if p.proto.page.endswith("files") and "open these" in p.proto.label]
    assert [p.proto.label.split(":")[0] for p in kpis] == ["Files", "Processed", "Failures"]
    # uploads, formats, sizes, failures, flags, size and length buckets, uploaders: one list of links each
    charts_links = [e.get("page_link") for e in at.expander if e.label.startswith("Open these files")]
    assert len(charts_links) == 8 and all(charts_links)
    # The tiles, and the first and last link under each chart, opened as the browser would open them.
    checked = 0
    for link in [*kpis, *(link for found in charts_links for link in {found[0].proto.label: found[0],
                                                                       found[-1].proto.label: found[-1]}.values())]:
        query = urllib.parse.parse_qs(link.proto.query_string)
        figure = int(re.search(r"([\d,]+) files$", link.proto.label).group(1).replace(",", ""))
        files = page_as(User(sub="ana", email="ana@example.com", groups=frozenset({"analysts"}), expires_at=2**40),
                        "files", **query)
        assert not files.exception, files.exception
        assert not [c.value for c in files.caption if "left out" in c.value], link.proto.label
        total = files_total(files)
        shown_total = re.search(r"([\d,]+) files? match", total)
        assert shown_total and int(shown_total.group(1).replace(",", "")) == figure, (link.proto.label, total)
        checked += 1
    assert checked >= 10
