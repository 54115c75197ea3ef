"""Cached reads and the filter bar that the dashboard and export pages share.

Not a page itself (navigation does not list it); only pages import it. Every
cache is ``st.cache_data``, which all sessions of the process share, so each
is keyed by the verified user's id and roles, and the read by its days too.

The filter widgets are bound to the URL under one set of names (``range``,
``dates``, ``format``, ``owner``, ``status``) on both pages, so a dashboard
view's link to the export page carries its filters, and either can be shared.
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
from portal import analytics, dashboard_data
from portal.analytics import Filters, Viewer
from portal.tokens import User

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30
T = TypeVar("T")
UNAVAILABLE = "The figures cannot be loaded right now. Please try again in a minute."
#: The URL names of the shared filters, in the order the filter bar shows them.
FILTER_PARAMS = ("range", "dates", "format", "owner", "status")


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def read_cells(table: str, sub: str, roles: tuple[str, ...], start: str, end: str) -> dashboard_data.Loaded:
    """The cells this user may see for the days (keyed by table, user, roles and days)."""
    return dashboard_data.load(aws.client("dynamodb"), table, Viewer.from_groups(sub, roles), start, end)


@st.cache_data(ttl=300, show_spinner=False)
def uploader_emails(user_pool_id: str) -> dict[str, str]:
    """User id to e-mail, to name uploaders (only shown to analysts and admins)."""
    return dashboard_data.owner_emails(aws.client("cognito-idp"), user_pool_id)


def loading(read: Callable[..., T], *args: object, what: str = "Loading…") -> T:
    """Run a (cached) read under a spinner; on an AWS error say so and stop the page."""
    try:
        with st.spinner(what):
            return read(*args)
    except (ClientError, BotoCoreError):
        logger.exception("read failed: %s", getattr(read, "__name__", read))
        st.error(UNAVAILABLE)
        st.stop()
        raise  # st.stop() raises; this tells type checkers


def url_values(name: str) -> list[str]:
    """What a shared URL asks for, so a choice without files in the period is still offered."""
    return [v for v in st.query_params.get_all(name) if v]


def filter_params() -> dict[str, list[str]]:
    """The shared filters as the URL holds them, for a link that keeps them."""
    return {name: values for name in FILTER_PARAMS if (values := url_values(name))}


def filter_bar(user: User, settings: Settings) -> tuple[Filters, dashboard_data.Loaded]:
    """The period, format, uploader and status filters, and the cells of the period.

    Uploaders get no uploader or format choice: their reads hold only their own
    cells, whatever the URL says.
    """
    groups = tuple(sorted(user.groups))
    viewer = Viewer.of(user)
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
    loaded = loading(read_cells, settings.table, user.sub, groups, start, end, what="Loading the figures…")

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
            owner = st.selectbox("Uploader", ["", *owners],
                                 format_func=lambda s: emails.get(s, s) or "Everyone",
                                 key="owner", bind="query-params") or None
    else:
        with formats_col:
            st.caption("Showing your own files only.")
    return Filters(start, end, frozenset(chosen_formats), owner, status or "all"), loaded
