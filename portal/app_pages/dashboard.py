"""Analytics dashboard: KPIs and charts from the pre-aggregated counters.

The filters live in the URL (mirrored by :mod:`portal.app_pages.filter_bar`), so
a view can be shared; the URL holds what the widgets show, e.g.
``?range=90+days&format=pdf&owner=ann@example.com&status=Failed`` or
``?range=Custom&dates=2026-11-01&dates=2026-11-15``.

Every file count links to the Files view of exactly the files it counts
(:mod:`portal.dashboard.drill`): the tiles' links under the tiles, each
chart's under the chart (one link per bar, keyboard-reachable), the Files
view showing the same total for that link.

Who sees what is decided in :mod:`portal.dashboard.data` and
:func:`portal.dashboard.analytics.build_dashboard` from the verified user,
never by what this page shows or hides: an uploader's reads hold only their
own cells, whatever the URL says. The cached reads (:mod:`portal.app_pages.reads`)
are keyed by the user: the cells (30 s) by the days they cover too, the
computed dashboard by every filter.
"""

from __future__ import annotations

import streamlit as st

from common.settings import Settings
from portal import access, auth, navigation, text
from portal.app_pages import reads
from portal.app_pages.filter_bar import filter_bar, filter_params
from portal.dashboard import charts, drill
from portal.dashboard.labels import kpi_tiles

user = auth.current_user()
settings = Settings.from_env()

st.title("Dashboard")
filters, _ = filter_bar(user, settings)
board = reads.loading(reads.dashboard, settings.table, reads.user_key(user), filters.key(),
                      what="Loading the dashboard…")

for note in board.notes:
    st.caption(f":material/info: {note}")

tiles = kpi_tiles(board.kpis)
for row in (tiles[:4], tiles[4:]):
    for column, tile in zip(st.columns(4), row, strict=False):
        column.metric(tile.label, tile.value, help=tile.help, border=True)

FILES_PAGE = navigation.page_path("files")
everyone = access.sees_everyone(user)
drills = drill.links_for(board, everyone=everyone)
emails = reads.uploader_emails(settings.user_pool_id, reads.user_key(user)) if everyone else {}


def drill_links(name: str, names: dict[str, str] | None = None) -> None:
    """Links to the Files view of each figure of chart ``name`` (labels escaped: they are stored values)."""
    found = drills.get(name, ())
    if not found:
        return
    with st.expander(f"Open these files ({len(found)} link{'s' if len(found) != 1 else ''})",
                     icon=":material/folder_open:"):
        for link in found:
            label = (names or {}).get(link.label, link.label)
            st.page_link(FILES_PAGE, label=f"{text.md_escape(label)}: {link.figure:,} files",
                         query_params=dict(link.params))


for column, link in zip(st.columns(4), drills["kpis"], strict=False):
    column.page_link(FILES_PAGE, label=f"{link.label}: open these {link.figure:,} files",
                     query_params=dict(link.params), icon=":material/folder_open:")

if board.kpis.files == 0:
    st.info("No files in this period. Choose a longer period or fewer filters.", icon=":material/insights:")
    st.stop()

if access.may_export(user):
    st.page_link(navigation.page_path("export"), label="Export these files as CSV",
                 icon=":material/download:", query_params=filter_params())


def show(name: str, figure: object) -> None:
    """One chart, filling its column, and the links to the files behind it."""
    st.plotly_chart(figure, width="stretch", key=f"chart-{name}", config={"displaylogo": False})
    drill_links(name, emails if name == "uploaders" else None)


show("uploads", charts.uploads(board.uploads.frame, board.day_axis))
# One uploader's counters are not split by format: the per-format charts would be a single bar.
grid: list[tuple[str, object]] = []
if board.format_split:
    grid += [("formats", charts.formats(board.formats.frame)), ("sizes", charts.sizes(board.sizes.frame))]
grid += [
    ("latency", charts.latency(board.latency.frame, board.day_axis)),
    ("failures", charts.failures(board.failures.frame)),
    ("flags", charts.flags(board.flags.frame)),
    ("tags", charts.tags(board.tags.frame)),
    ("tags_over_time", charts.tags_over_time(board.tags_over_time.frame, board.day_axis)),
]
grid += [("size_distribution", charts.size_distribution(board.size_distribution.frame)),
         ("pages_histogram", charts.pages_histogram(board.pages_histogram.frame))]
if board.format_split:
    grid.append(("pages", charts.pages(board.pages.frame)))
grid += [("authors", charts.names(board.authors.frame, "authors")),
         ("producers", charts.names(board.producers.frame, "producers"))]
if board.uploaders is not None:
    grid.append(("uploaders", charts.uploaders(board.uploaders.frame, emails)))
for i in range(0, len(grid), 2):
    for column, (name, figure) in zip(st.columns(2), grid[i:i + 2], strict=False):
        with column:
            show(name, figure)
