"""Plotly figures for the dashboard's series. Pure: no AWS, no Streamlit.

Each builder takes the frame of one :mod:`portal.analytics` series and
returns a figure with a title and labelled axes, or the empty-state figure
when there is nothing to draw. A format has the same colour in every chart
and every session, so people learn to read the colours.

Plotly draws a subset of HTML in labels, ticks, legends and hover text, and
formats, failure reasons, flags, tags, authors, producers and e-mails are stored
values that users and their files chose: every one goes through
:func:`portal.text.plot_escape` on its way into a figure (:func:`_shown`),
and none is ever part of a hover template, which is plotly's markup and
placeholders; templates name the trace instead (``%{fullData.name}``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from common.catalogue import flag_label
from portal.dashboard import analytics
from portal.dashboard.labels import bucket_label
from portal.text import human_size, plot_escape

EMPTY_MESSAGE = "No files in this period"
#: Charts of things that may rightly be absent say what is absent, not that files are.
EMPTY_MESSAGES: Mapping[str, str] = {
    "failures": "No failures in this period",
    "flags": "No flagged files in this period",
    "tags": "No tagged files in this period",
    "tags_over_time": "No tagged files in this period",
    "pages": "No paged documents in this period",
    "pages_histogram": "No paged documents in this period",
    "authors": "No document in this period names its author",
    "producers": "No document in this period names the application that made it",
}
HEIGHT = 320
#: Bars on a day axis are 80% of a day wide. Plotly otherwise sizes them from the
#: gaps between the data's own days, and one day of data becomes a hairline.
DAY_BAR_MS = 69_120_000  # 0.8 × 24 h in ms

TITLES: Mapping[str, str] = {
    "uploads": "Uploads per day",
    "formats": "Format mix",
    "pages": "Pages per document",
    "latency": "Latency, upload to finished",
    "failures": "Failures by reason",
    "flags": "Risk flags",
    "tags": "Top tags",
    "tags_over_time": "Files per tag over time",
    "uploaders": "Top uploaders",
    "sizes": "Mean file size per format",
    "size_distribution": "File sizes",
    "pages_histogram": "Document length",
    "authors": "Top authors",
    "producers": "Top producing applications",
}

#: Fixed colours for the common families; kin formats share a hue family.
FORMAT_COLOURS: Mapping[str, str] = {
    "pdf": "#d62728", "docx": "#1f77b4", "docm": "#aec7e8", "xlsx": "#2ca02c", "xlsm": "#98df8a",
    "pptx": "#ff7f0e", "pptm": "#ffbb78", "odt": "#17becf", "ods": "#bcbd22", "odp": "#e377c2",
    "jpg": "#9467bd", "png": "#8c564b", "tif": "#c5b0d5", "gif": "#c49c94", "webp": "#f7b6d2",
    "heic": "#dbdb8d", "bmp": "#9edae5", "text": "#7f7f7f", "csv": "#393b79", "tsv": "#5254a3",
    "json": "#637939", "xml": "#8c6d31", "html": "#843c39", "markdown": "#7b4173", "eml": "#3182bd",
    "zip": "#e6550d", "unknown": "#c7c7c7", "empty": "#e0e0e0", analytics.ALL_FORMATS: "#4c78a8",
}
#: For any other format: picked by a stable hash of its name (not Python's salted hash()).
_SPARE_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                  "#666666", "#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#b15928")
#: Latency buckets from fast (green) to slow (red).
_LATENCY_COLOURS = ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#ffffbf", "#fee08b", "#fdae61",
                    "#f46d43", "#d73027", "#a50026")


def format_colour(fmt: str) -> str:
    """The colour of a format, the same in every chart."""
    if fmt in FORMAT_COLOURS:
        return FORMAT_COLOURS[fmt]
    return _SPARE_COLOURS[zlib.crc32(fmt.encode()) % len(_SPARE_COLOURS)]


def _shown(values: Iterable[str]) -> list[str]:
    """Stored values as a figure draws them: as written, never as markup."""
    return [plot_escape(v) for v in values]


def _layout(fig: go.Figure, title: str, x: str, y: str, *, legend: bool = False) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"}, height=HEIGHT,
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        xaxis_title=x, yaxis_title=y,
    )
    return fig


def empty_figure(title: str, message: str = EMPTY_MESSAGE) -> go.Figure:
    """A titled figure with ``message`` centred and no axes: the empty state."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 16})
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"}, height=HEIGHT,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def _day_range(fig: go.Figure, days: Sequence[str] | None) -> None:
    """Show every day of the period, with half a day of room for the bars at either end."""
    if days:
        start, end = (pd.Timestamp(d) for d in days)
        fig.update_xaxes(type="date", range=[start - pd.Timedelta(hours=12), end + pd.Timedelta(hours=12)])


def uploads(frame: pd.DataFrame, days: Sequence[str] | None = None) -> go.Figure:
    """Stacked bars of files per day, one colour per format (series: uploads_over_time)."""
    if frame.empty:
        return empty_figure(TITLES["uploads"])
    fig = go.Figure()
    totals = frame.groupby("format")["files"].sum().sort_values(ascending=False, kind="stable")
    for fmt in totals.index:
        rows = frame[frame["format"] == fmt]
        fig.add_bar(x=rows["day"], y=rows["files"], name=plot_escape(fmt), marker_color=format_colour(fmt),
                    width=DAY_BAR_MS,
                    hovertemplate="%{x|%d %b %Y}: %{y:,} files<extra>%{fullData.name}</extra>")
    fig.update_layout(barmode="stack")
    _day_range(fig, days)
    return _layout(fig, TITLES["uploads"], "Upload day", "Files", legend=True)


def formats(frame: pd.DataFrame) -> go.Figure:
    """A donut of files per format (series: format_mix)."""
    if frame.empty:
        return empty_figure(TITLES["formats"])
    fig = go.Figure(go.Pie(labels=_shown(frame["format"]), values=frame["files"], hole=0.5, sort=False,
                           marker={"colors": [format_colour(f) for f in frame["format"]]},
                           textinfo="label+percent",
                           hovertemplate="%{label}: %{value:,} files<extra></extra>"))
    return _layout(fig, TITLES["formats"], "", "")


def pages(frame: pd.DataFrame) -> go.Figure:
    """Mean pages (or slides) per document, per format (series: pages_distribution)."""
    if frame.empty:
        return empty_figure(TITLES["pages"], EMPTY_MESSAGES["pages"])
    fig = go.Figure(go.Bar(
        x=_shown(frame["format"]), y=frame["pages_per_file"],
        marker_color=[format_colour(f) for f in frame["format"]], customdata=frame[["pages", "paged_files"]],
        hovertemplate="%{x}: %{y:.1f} pages per document<br>%{customdata[0]:,} pages in "
                      "%{customdata[1]:,} documents<extra></extra>"))
    return _layout(fig, TITLES["pages"], "Format", "Pages per document")


def latency(frame: pd.DataFrame, days: Sequence[str] | None = None) -> go.Figure:
    """Share of files per latency bucket (stacked) and the mean latency line (series: latency_trend)."""
    if frame.empty:
        return empty_figure(TITLES["latency"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for (name, _), colour in zip(analytics.LATENCY_BUCKETS, _LATENCY_COLOURS, strict=True):
        label = bucket_label(name)
        fig.add_trace(go.Bar(x=frame["day"], y=frame[f"share_{name}"], name=label, marker_color=colour,
                             width=DAY_BAR_MS,
                             hovertemplate="%{x|%d %b}: %{y:.0%}<extra>%{fullData.name}</extra>"),
                      secondary_y=False)
    fig.add_trace(go.Scatter(x=frame["day"], y=frame["mean_latency_ms"] / 1000, name="mean",
                             mode="lines+markers", line={"color": "#222222", "width": 2},
                             hovertemplate="%{x|%d %b}: mean %{y:.1f} s<extra></extra>"), secondary_y=True)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Share of files", tickformat=".0%", range=[0, 1], secondary_y=False)
    fig.update_yaxes(title_text="Mean latency (s)", rangemode="tozero", showgrid=False, tickmode="auto",
                     secondary_y=True)
    _day_range(fig, days)
    _layout(fig, TITLES["latency"], "", "Share of files", legend=True)  # the day axis speaks for itself
    # Eleven entries: below the plot, fastest first, so they cover neither the title nor the bars.
    fig.update_layout(yaxis_title="Share of files", height=HEIGHT + 60, margin={"b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0,
                              "traceorder": "normal", "font": {"size": 11}})
    return fig


def _horizontal(frame: pd.DataFrame, label: str, value: str, title: str, x: str, y: str,
                colour: str, names: Mapping[str, str] | None = None, empty: str = EMPTY_MESSAGE) -> go.Figure:
    """Horizontal bars, largest on top."""
    if frame.empty:
        return empty_figure(title, empty)
    shown = _shown(names.get(v, v) if names else v for v in frame[label])
    fig = go.Figure(go.Bar(x=frame[value][::-1], y=shown[::-1], orientation="h", marker_color=colour,
                           hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_yaxes(automargin=True)
    return _layout(fig, title, x, y)


def failures(frame: pd.DataFrame) -> go.Figure:
    """Failed files per reason (series: failures_by_reason)."""
    return _horizontal(frame, "reason", "failures", TITLES["failures"], "Failed files", "", "#d62728",
                       empty=EMPTY_MESSAGES["failures"])


def flags(frame: pd.DataFrame) -> go.Figure:
    """Files per risk or quality flag (series: risk_flags), in words: ``password protected``."""
    frame = frame.assign(flag=frame["flag"].map(flag_label))
    return _horizontal(frame, "flag", "files", TITLES["flags"], "Files", "", "#ff7f0e",
                       empty=EMPTY_MESSAGES["flags"])


def tags(frame: pd.DataFrame) -> go.Figure:
    """Files per tag, most first (series: top_tags)."""
    return _horizontal(frame, "tag", "files", TITLES["tags"], "Files", "", "#72b7b2",
                       empty=EMPTY_MESSAGES["tags"])


def tags_over_time(frame: pd.DataFrame, days: Sequence[str] | None = None) -> go.Figure:
    """Files per upload day, a line per top tag (series: tags_over_time); a tag's colour follows its name."""
    if frame.empty:
        return empty_figure(TITLES["tags_over_time"], EMPTY_MESSAGES["tags_over_time"])
    fig = go.Figure()
    for tag in dict.fromkeys(frame["tag"]):
        rows = frame[frame["tag"] == tag]
        fig.add_scatter(x=rows["day"], y=rows["files"], name=plot_escape(tag), mode="lines+markers",
                        line_color=format_colour(f"tag:{tag}"),
                        hovertemplate="%{x|%d %b %Y}: %{y:,} files<extra>%{fullData.name}</extra>")
    _day_range(fig, days)
    return _layout(fig, TITLES["tags_over_time"], "Upload day", "Files", legend=True)


def uploaders(frame: pd.DataFrame, names: Mapping[str, str] | None = None) -> go.Figure:
    """Files per uploader, most first; ``names`` maps user ids to e-mails (series: top_uploaders)."""
    return _horizontal(frame, "owner", "files", TITLES["uploaders"], "Files", "", "#4c78a8", names)


def sizes(frame: pd.DataFrame) -> go.Figure:
    """Mean file size per format (series: size_per_format); the counters keep no size histogram."""
    if frame.empty:
        return empty_figure(TITLES["sizes"])
    fig = go.Figure(go.Bar(
        x=_shown(frame["format"]), y=frame["mean_bytes"],
        marker_color=[format_colour(f) for f in frame["format"]],
        customdata=[[human_size(round(m)), human_size(int(b)), int(n)]
                    for m, b, n in zip(frame["mean_bytes"], frame["bytes"], frame["files"], strict=True)],
        hovertemplate="%{x}: mean %{customdata[0]}<br>%{customdata[1]} in %{customdata[2]:,} files"
                      "<extra></extra>"))
    fig.update_yaxes(tickformat="~s", ticksuffix="B")
    return _layout(fig, TITLES["sizes"], "Format", "Mean size")


def _buckets(frame: pd.DataFrame, name: str, x: str, colour: str) -> go.Figure:
    """Files per histogram bucket, in bucket order."""
    if frame.empty:
        return empty_figure(TITLES[name], EMPTY_MESSAGES.get(name, EMPTY_MESSAGE))
    fig = go.Figure(go.Bar(x=frame["bucket"], y=frame["files"], marker_color=colour,
                           hovertemplate="%{x}: %{y:,} files<extra></extra>"))
    fig.update_xaxes(type="category")
    return _layout(fig, TITLES[name], x, "Files")


def size_distribution(frame: pd.DataFrame) -> go.Figure:
    """Files per size bucket, smallest first (series: size_distribution)."""
    return _buckets(frame, "size_distribution", "File size", "#4c78a8")


def pages_histogram(frame: pd.DataFrame) -> go.Figure:
    """Paged documents per length bucket, shortest first (series: pages_histogram)."""
    return _buckets(frame, "pages_histogram", "Pages or slides", "#e45756")


def names(frame: pd.DataFrame, kind: str) -> go.Figure:
    """Files per author (``kind="authors"``) or producing application (``"producers"``), most first."""
    colour = "#54a24b" if kind == "authors" else "#b279a2"
    return _horizontal(frame, "name", "files", TITLES[kind], "Files", "", colour, empty=EMPTY_MESSAGES[kind])
