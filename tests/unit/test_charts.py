"""Dashboard charts (pure): the figures carry the series' numbers, titles and colours."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go
import pytest

from common.schema.aggregates import latency_buckets
from portal.dashboard import analytics, cells, charts
from portal.dashboard.filters import DashboardFilters
from portal.dashboard.labels import bucket_label
from tests.helpers.markup import PLOTLY_MARKUP, live_plotly_markup, shows
from tests.helpers.records import DAYS, OWNERS, aggregate_items, day_of, format_of, make_records
from tests.helpers.recount import selected

RECORDS = make_records()
FRAME = analytics.aggregate_frame(aggregate_items(RECORDS))
FULL = DashboardFilters(DAYS[0], DAYS[-1])
EMPTY = analytics.aggregate_frame([])
OWNER = DashboardFilters(DAYS[0], DAYS[-1], owner=OWNERS[0])


def title(fig: go.Figure) -> str:
    return fig.layout.title.text


def is_empty_state(fig: go.Figure) -> bool:
    notes = [a.text for a in fig.layout.annotations]
    messages = {charts.EMPTY_MESSAGE, *charts.EMPTY_MESSAGES.values()}
    return len(notes) == 1 and notes[0] in messages and not fig.data and fig.layout.xaxis.visible is False


def builders(series: dict[str, cells.Series]) -> dict[str, go.Figure]:
    return {
        "uploads": charts.uploads(series["uploads"].frame, (DAYS[0], DAYS[-1])),
        "formats": charts.formats(series["formats"].frame),
        "pages": charts.pages(series["pages"].frame),
        "latency": charts.latency(series["latency"].frame, (DAYS[0], DAYS[-1])),
        "failures": charts.failures(series["failures"].frame),
        "flags": charts.flags(series["flags"].frame),
        "uploaders": charts.uploaders(series["uploaders"].frame),
        "sizes": charts.sizes(series["sizes"].frame),
    }


def all_series(frame, f: DashboardFilters) -> dict[str, cells.Series]:
    return {"uploads": analytics.uploads_over_time(frame, f), "formats": analytics.format_mix(frame, f),
            "pages": analytics.pages_distribution(frame, f), "latency": analytics.latency_trend(frame, f),
            "failures": analytics.failures_by_reason(frame, f), "flags": analytics.risk_flags(frame, f),
            "uploaders": analytics.top_uploaders(frame, f), "sizes": analytics.size_per_format(frame, f)}


def test_every_chart_has_its_title_and_data():
    figures = builders(all_series(FRAME, FULL))
    for name, fig in figures.items():
        assert title(fig) == charts.TITLES[name]
        assert fig.data, name
        assert not is_empty_state(fig)
    assert figures["uploads"].layout.xaxis.title.text == "Upload day"
    assert figures["uploads"].layout.yaxis.title.text == "Files"
    assert figures["sizes"].layout.yaxis.title.text == "Mean size"
    assert figures["latency"].layout.yaxis.title.text == "Share of files"
    assert figures["latency"].layout.yaxis2.title.text == "Mean latency (s)"


def test_uploads_are_stacked_one_trace_per_format_and_sum_to_the_files():
    fig = charts.uploads(analytics.uploads_over_time(FRAME, FULL).frame, (DAYS[0], DAYS[-1]))
    assert fig.layout.barmode == "stack"
    by_format = {trace.name: trace for trace in fig.data}
    assert set(by_format) == {format_of(r) for r in RECORDS}
    want = Counter((format_of(r), day_of(r)) for r in RECORDS)
    for fmt, trace in by_format.items():
        assert dict(zip(trace.x, trace.y, strict=True)) == {d: n for (f, d), n in want.items() if f == fmt}
        assert trace.marker.color == charts.format_colour(fmt)
    assert sum(sum(t.y) for t in fig.data) == len(RECORDS)


def test_a_format_has_one_colour_everywhere():
    mix = charts.formats(analytics.format_mix(FRAME, FULL).frame)
    sizes = charts.sizes(analytics.size_per_format(FRAME, FULL).frame)
    pie = dict(zip(mix.data[0].labels, mix.data[0].marker.colors, strict=True))
    bars = dict(zip(sizes.data[0].x, sizes.data[0].marker.color, strict=True))
    assert pie == bars == {fmt: charts.format_colour(fmt) for fmt in pie}
    assert charts.format_colour("pdf") == charts.FORMAT_COLOURS["pdf"]
    assert charts.format_colour("brand-new") == charts.format_colour("brand-new")  # stable, not hash()-salted
    assert charts.format_colour("brand-new").startswith("#")


def test_format_mix_shows_the_files_per_format():
    fig = charts.formats(analytics.format_mix(FRAME, FULL).frame)
    want = Counter(format_of(r) for r in RECORDS)
    assert dict(zip(fig.data[0].labels, fig.data[0].values, strict=True)) == dict(want)


def test_latency_chart_has_every_bucket_and_the_mean():
    frame = analytics.latency_trend(FRAME, FULL).frame
    fig = charts.latency(frame, (DAYS[0], DAYS[-1]))
    names = [t.name for t in fig.data]
    assert names == [bucket_label(n) for n, _ in latency_buckets()] + ["mean"]
    for day_index in range(len(frame)):
        assert sum(t.y[day_index] for t in fig.data[:-1]) == pytest.approx(1.0)
    assert list(fig.data[-1].y) == pytest.approx(list(frame["mean_latency_ms"] / 1000))


def test_horizontal_bars_put_the_largest_on_top_and_name_uploaders():
    frame = analytics.top_uploaders(FRAME, FULL).frame
    names = {owner: f"user{i}@example.com" for i, owner in enumerate(OWNERS)}
    fig = charts.uploaders(frame, names)
    bars = fig.data[0]
    assert bars.orientation == "h"
    assert list(bars.y) == [names[o] for o in frame["owner"]][::-1]
    assert list(bars.x) == list(frame["files"])[::-1]
    assert sum(bars.x) == len(RECORDS)
    failures = charts.failures(analytics.failures_by_reason(FRAME, FULL).frame)
    assert sum(failures.data[0].x) == sum(r.status.value == "failed" for r in RECORDS)


def test_pages_chart_plots_pages_per_document():
    frame = analytics.pages_distribution(FRAME, FULL).frame
    fig = charts.pages(frame)
    assert list(fig.data[0].x) == list(frame["format"])
    assert list(fig.data[0].y) == pytest.approx(list(frame["pages_per_file"]))


@pytest.mark.parametrize("f", [FULL, DashboardFilters("2027-01-01", "2027-01-31"), OWNER], ids=["empty read", "no files",
                                                                                       "one uploader"])
def test_no_data_gives_the_empty_state(f):
    frame = EMPTY if f is FULL else FRAME
    figures = builders(all_series(frame, f))
    if f is OWNER:  # one uploader's counters are not split by format: only the format mix is empty
        assert [name for name, fig in figures.items() if is_empty_state(fig)] == ["formats"]
        assert [t.name for t in figures["uploads"].data] == [analytics.ALL_FORMATS]
        assert sum(sum(t.y) for t in figures["uploads"].data) == len(selected(RECORDS, f))
        return
    for name, fig in figures.items():
        assert is_empty_state(fig), name
        assert title(fig) == charts.TITLES[name]


def test_the_empty_state_is_centred():
    fig = charts.empty_figure("Anything")
    note = fig.layout.annotations[0]
    assert (note.x, note.y, note.xref, note.yref, note.showarrow) == (0.5, 0.5, "paper", "paper", False)
    assert charts.empty_figure("Anything", "Not available").layout.annotations[0].text == "Not available"


def test_time_axes_span_the_whole_period():
    fig = charts.uploads(analytics.uploads_over_time(FRAME, FULL).frame, ("2026-11-01", "2026-11-30"))
    start, end = fig.layout.xaxis.range
    assert str(start).startswith("2026-10-31") and str(end).startswith("2026-11-30")
    assert charts.uploads(analytics.uploads_over_time(FRAME, FULL).frame).layout.xaxis.range is None


def test_day_bars_are_most_of_a_day_wide_even_for_a_single_day():
    frame = pd.DataFrame({"day": ["2026-11-30"], "format": ["pdf"], "files": [3]})
    fig = charts.uploads(frame, ("2026-11-01", "2026-11-30"))
    (bar,) = fig.data
    assert bar.width == charts.DAY_BAR_MS == round(0.8 * 86_400_000)


def test_flags_are_named_in_words():
    fig = charts.flags(pd.DataFrame({"flag": ["password_protected", "damaged", "from_a_newer_version"],
                                     "files": [3, 2, 1]}))
    assert set(fig.data[0].y) == {"password protected", "damaged", "from a newer version"}


def test_charts_of_what_may_rightly_be_absent_say_what_is_absent():
    assert charts.failures(pd.DataFrame(columns=["reason", "failures"])).layout.annotations[0].text == (
        "No failures in this period")
    assert charts.flags(pd.DataFrame(columns=["flag", "files"])).layout.annotations[0].text == (
        "No flagged files in this period")
    assert charts.uploaders(pd.DataFrame(columns=["owner", "files"])).layout.annotations[0].text == (
        charts.EMPTY_MESSAGE)


def test_size_and_name_charts_draw_their_series():
    sizes = analytics.size_distribution(FRAME, DashboardFilters(DAYS[0], DAYS[-1])).frame
    fig = charts.size_distribution(sizes)
    (bar,) = fig.data
    assert list(bar.x) == list(sizes["bucket"]) and list(bar.y) == list(sizes["files"])
    assert title(fig) == "File sizes"
    authors = analytics.top_names(FRAME, DashboardFilters(DAYS[0], DAYS[-1]), "author").frame
    fig = charts.names(authors, "authors")
    assert title(fig) == "Top authors" and list(fig.data[0].y) == list(authors["name"])[::-1]  # largest on top
    empty = charts.names(authors.iloc[0:0], "producers")
    assert empty.layout.annotations[0].text == charts.EMPTY_MESSAGES["producers"]
    assert is_empty_state(charts.size_distribution(sizes.iloc[0:0]))


def test_the_document_length_chart_draws_its_buckets():
    series = analytics.pages_histogram(FRAME, DashboardFilters(DAYS[0], DAYS[-1])).frame
    fig = charts.pages_histogram(series)
    assert title(fig) == "Document length" and list(fig.data[0].y) == list(series["files"])
    assert charts.pages_histogram(series.iloc[0:0]).layout.annotations[0].text == "No paged documents in this period"


# --- stored values are shown, never rendered as markup --------------------------------------

def hostile_figures(value: str) -> dict[str, go.Figure]:
    """Every chart, fed ``value`` wherever a stored value reaches it: formats, reasons, flags, names."""
    return {
        "uploads": charts.uploads(pd.DataFrame({"day": ["2026-11-30"], "format": [value], "files": [3]})),
        "formats": charts.formats(pd.DataFrame({"format": [value, "pdf"], "files": [3, 1]})),
        "pages": charts.pages(pd.DataFrame({"format": [value], "pages_per_file": [2.0], "pages": [6],
                                            "paged_files": [3]})),
        "sizes": charts.sizes(pd.DataFrame({"format": [value], "mean_bytes": [10.0], "bytes": [30],
                                            "files": [3]})),
        "failures": charts.failures(pd.DataFrame({"reason": [value], "failures": [2]})),
        "flags": charts.flags(pd.DataFrame({"flag": [value], "files": [2]})),
        "tags": charts.tags(pd.DataFrame({"tag": [value], "files": [2]})),
        "tags_over_time": charts.tags_over_time(pd.DataFrame({"day": ["2026-11-30"], "tag": [value], "files": [2]})),
        "uploaders": charts.uploaders(pd.DataFrame({"owner": ["sub-1", value], "files": [2, 1]}),
                                      {"sub-1": value}),
        "authors": charts.names(pd.DataFrame({"name": [value], "files": [2]}), "authors"),
        "producers": charts.names(pd.DataFrame({"name": [value], "files": [2]}), "producers"),
    }


@pytest.mark.parametrize("value", PLOTLY_MARKUP)
def test_stored_values_reach_no_chart_as_markup_but_are_shown(value):
    for name, fig in hostile_figures(value).items():
        assert live_plotly_markup(fig, (value,)) == [], name
        assert shows(fig, value), name


def test_stored_values_stay_out_of_hover_templates():
    """A template is plotly's markup and placeholders: a value in it would be both."""
    for name, fig in hostile_figures("%{x}<b>fmt</b>").items():
        for trace in fig.data:
            assert "fmt" not in (trace.hovertemplate or ""), name


def test_tag_charts_draw_their_series_and_say_when_nothing_is_tagged():
    top = pd.DataFrame({"tag": ["q3", "legal"], "files": [5, 2]})
    assert title(charts.tags(top)) == "Top tags" and list(charts.tags(top).data[0].y) == ["legal", "q3"]
    over = pd.DataFrame({"day": ["2026-11-29", "2026-11-30", "2026-11-30"], "tag": ["q3", "q3", "legal"],
                         "files": [1, 4, 2]})
    fig = charts.tags_over_time(over, ("2026-11-01", "2026-11-30"))
    assert [(t.name, list(t.y)) for t in fig.data] == [("q3", [1, 4]), ("legal", [2])]
    for empty in (charts.tags(top.iloc[0:0]), charts.tags_over_time(over.iloc[0:0])):
        assert empty.layout.annotations[0].text == "No tagged files in this period"


def test_plain_values_are_shown_as_they_are():
    fig = charts.names(pd.DataFrame({"name": ["Ann Lee", "R&D"], "files": [2, 1]}), "authors")
    assert list(fig.data[0].y) == ["R&amp;D", "Ann Lee"]  # plotly draws the entity as "&"
    mix = charts.formats(pd.DataFrame({"format": ["pdf"], "files": [1]}))
    assert list(mix.data[0].labels) == ["pdf"] and mix.data[0].marker.colors == (charts.format_colour("pdf"),)
