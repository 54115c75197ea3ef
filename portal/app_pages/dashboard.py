"""Analytics dashboard: KPIs and charts from the pre-aggregated counters.

The filters live in the URL (widgets bound with ``bind="query-params"``), so
a view can be shared; the URL holds what the widgets show, e.g.
``?range=90+days&format=pdf&owner=ann@example.com&status=Failed`` or
``?range=Custom&dates=2026-11-01&dates=2026-11-15``.

Who sees what is decided in :mod:`portal.dashboard_data` and
:func:`portal.analytics.build_dashboard` from the verified user, never by
what this page shows or hides: an uploader's reads hold only their own cells,
whatever the URL says. ``st.cache_data`` is shared by every session of the
process, so each cache is keyed by the user's id and roles: the read (30 s)
by the days it covers too, the computed dashboard by every filter.
"""

from __future__ import annotations

import streamlit as st

from common.settings import Settings
from portal import analytics, auth, charts, navigation
from portal.analytics import Dashboard, Filters, Viewer
from portal.app_pages import shared
from portal.export import may_export

user = auth.current_user()
settings = Settings.from_env()
groups = tuple(sorted(user.groups))


@st.cache_data(ttl=shared.CACHE_SECONDS, show_spinner=False)
def compute(table: str, sub: str, roles: tuple[str, ...], filters_key: tuple) -> Dashboard:
    """This user's dashboard for the filters (keyed by table, user, roles and every filter)."""
    filters = Filters.from_key(filters_key)
    loaded = shared.read_cells(table, sub, roles, filters.start, filters.end)
    return analytics.build_dashboard(loaded.frame, filters, Viewer.from_groups(sub, roles))


st.title("Dashboard")
filters, _ = shared.filter_bar(user, settings)
board = shared.loading(compute, settings.table, user.sub, groups, filters.key(),
                       what="Loading the dashboard…")

for note in board.notes:
    st.caption(f":material/info: {note}")

tiles = analytics.kpi_tiles(board.kpis)
for row in (tiles[:4], tiles[4:]):
    for column, tile in zip(st.columns(4), row, strict=False):
        column.metric(tile.label, tile.value, help=tile.help, border=True)

if board.kpis.files == 0:
    st.info("No files in this period. Choose a longer period or fewer filters.", icon=":material/insights:")
    st.stop()

if may_export(user):
    st.page_link(navigation.page_path("export"), label="Export these files as CSV",
                 icon=":material/download:", query_params=shared.filter_params())


def show(name: str, figure: object) -> None:
    """One chart, filling its column."""
    st.plotly_chart(figure, width="stretch", key=f"chart-{name}", config={"displaylogo": False})


show("uploads", charts.uploads(board.uploads.frame, board.day_axis))
# One uploader's counters are not split by format: the per-format charts would be a single bar.
grid: list[tuple[str, object]] = []
if board.format_split:
    grid += [("formats", charts.formats(board.formats.frame)), ("sizes", charts.sizes(board.sizes.frame))]
grid += [
    ("latency", charts.latency(board.latency.frame, board.day_axis)),
    ("failures", charts.failures(board.failures.frame)),
    ("flags", charts.flags(board.flags.frame)),
]
grid += [("size_distribution", charts.size_distribution(board.size_distribution.frame)),
         ("pages_histogram", charts.pages_histogram(board.pages_histogram.frame))]
if board.format_split:
    grid.append(("pages", charts.pages(board.pages.frame)))
grid += [("authors", charts.names(board.authors.frame, "authors")),
         ("producers", charts.names(board.producers.frame, "producers"))]
if board.uploaders is not None:
    names = shared.uploader_emails(settings.user_pool_id)
    grid.append(("uploaders", charts.uploaders(board.uploaders.frame, names)))
for i in range(0, len(grid), 2):
    for column, (name, figure) in zip(st.columns(2), grid[i:i + 2], strict=False):
        with column:
            show(name, figure)
