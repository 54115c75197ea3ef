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

import datetime as dt
import logging
from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError

from common import aws
from common.settings import Settings
from portal import analytics, auth, charts, dashboard_data
from portal.analytics import Dashboard, Filters, Viewer

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30
T = TypeVar("T")
UNAVAILABLE = "The dashboard cannot be loaded right now. Please try again in a minute."

user = auth.current_user()
settings = Settings.from_env()
viewer = Viewer.of(user)
groups = tuple(sorted(user.groups))


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def read_cells(table: str, sub: str, roles: tuple[str, ...], start: str, end: str) -> dashboard_data.Loaded:
    """The cells this user may see for the days (keyed by table, user, roles and days)."""
    return dashboard_data.load(aws.client("dynamodb"), table, Viewer.from_groups(sub, roles), start, end)


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def compute(table: str, sub: str, roles: tuple[str, ...], filters_key: tuple) -> Dashboard:
    """This user's dashboard for the filters (keyed by table, user, roles and every filter)."""
    filters = Filters.from_key(filters_key)
    loaded = read_cells(table, sub, roles, filters.start, filters.end)
    return analytics.build_dashboard(loaded.frame, filters, Viewer.from_groups(sub, roles))


@st.cache_data(ttl=300, show_spinner=False)
def uploader_emails(user_pool_id: str) -> dict[str, str]:
    """User id to e-mail, to name uploaders (analysts and admins only)."""
    return dashboard_data.owner_emails(aws.client("cognito-idp"), user_pool_id)


def loading(read: Callable[..., T], *args: object) -> T:
    """Run a (cached) read under a spinner; on an AWS error say so and stop the page."""
    try:
        with st.spinner("Loading the dashboard…"):
            return read(*args)
    except (ClientError, BotoCoreError):
        logger.exception("dashboard read failed")
        st.error(UNAVAILABLE)
        st.stop()
        raise  # st.stop() raises; this tells type checkers


def url_values(name: str) -> list[str]:
    """What a shared URL asks for, so a choice without files in the period is still offered."""
    return [v for v in st.query_params.get_all(name) if v]


st.title("Dashboard")
today = dt.datetime.now(dt.UTC).date()
period_col, formats_col, owner_col, status_col = st.columns([2, 4, 3, 2])

with period_col:
    preset = st.selectbox("Period", analytics.PRESETS,
                          index=analytics.PRESETS.index(analytics.DEFAULT_PRESET),
                          format_func=analytics.PRESET_LABELS.get, key="range", bind="query-params")
    picked: tuple[dt.date, ...] = ()
    if preset == "custom":
        picked = tuple(st.date_input(
            "Upload days", value=(today - dt.timedelta(days=29), today), max_value=today,
            key="dates", bind="query-params"))
with status_col:
    status = st.selectbox("Status", analytics.STATUSES, format_func=str.capitalize, key="status",
                          bind="query-params")
start, end = analytics.preset_range(preset or analytics.DEFAULT_PRESET, today, picked)

loaded = loading(read_cells, settings.table, user.sub, groups, start, end)

chosen_formats: list[str] = []
owner: str | None = None
if viewer.sees_everyone:
    with formats_col:
        formats = sorted({*analytics.dimensions(loaded.frame, "DAY_FORMAT"), *url_values("format")})
        chosen_formats = st.multiselect("Formats", formats, placeholder="All formats", key="format",
                                        bind="query-params")
    with owner_col:
        emails = uploader_emails(settings.user_pool_id)
        # Every known user and everyone with files in the period; the URL names them by e-mail.
        owners = sorted({*analytics.dimensions(loaded.frame, "DAY_OWNER"), *emails},
                        key=lambda sub: (emails.get(sub, "~" + sub), sub))
        owner = st.selectbox("Uploader", ["", *owners], format_func=lambda s: emails.get(s, s) or "Everyone",
                             key="owner", bind="query-params") or None
else:
    with formats_col:
        st.caption("Showing your own files only.")

filters = Filters(start, end, frozenset(chosen_formats), owner, status or "all")
board = loading(compute, settings.table, user.sub, groups, filters.key())

for note in board.notes:
    st.caption(f":material/info: {note}")

tiles = analytics.kpi_tiles(board.kpis)
for row in (tiles[:4], tiles[4:]):
    for column, tile in zip(st.columns(4), row, strict=False):
        column.metric(tile.label, tile.value, help=tile.help, border=True)

if board.kpis.files == 0:
    st.info("No files in this period. Choose a longer period or fewer filters.", icon=":material/insights:")
    st.stop()


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
if board.format_split:
    grid.append(("pages", charts.pages(board.pages.frame)))
if board.uploaders is not None:
    names = uploader_emails(settings.user_pool_id)
    grid.append(("uploaders", charts.uploaders(board.uploaders.frame, names)))
for i in range(0, len(grid), 2):
    for column, (name, figure) in zip(st.columns(2), grid[i:i + 2], strict=False):
        with column:
            show(name, figure)
