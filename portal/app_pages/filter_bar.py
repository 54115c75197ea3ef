"""The filter bar the dashboard and export pages share. Not a page itself.

The filter widgets are bound to the URL under one set of names (``range``,
``dates``, ``format``, ``owner``, ``status``) on both pages, so a dashboard
view's link to the export page carries its filters, and either can be shared.
The cells of the period are read through :mod:`portal.app_pages.reads`,
keyed by the verified user.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from common.settings import Settings
from portal import access
from portal.access import User
from portal.app_pages import reads
from portal.dashboard import analytics, data
from portal.dashboard import filters as periods
from portal.dashboard.filters import DashboardFilters

#: The URL names of the shared filters, in the order the filter bar shows them.
FILTER_PARAMS = ("range", "dates", "format", "owner", "status")


def url_values(name: str) -> list[str]:
    """What the URL holds for filter ``name``, to pass on to a link that keeps the filters.

    Never offered as a choice: anyone can write a URL, so the choices are only
    what is stored (the filter widgets drop a URL value that is not one).
    """
    return [v for v in st.query_params.get_all(name) if v]


def filter_params() -> dict[str, list[str]]:
    """The shared filters as the URL holds them, for a link that keeps them."""
    return {name: values for name in FILTER_PARAMS if (values := url_values(name))}


def filter_bar(user: User, settings: Settings) -> tuple[DashboardFilters, data.Loaded]:
    """The period, format, uploader and status filters, and the cells of the period.

    Uploaders get no uploader or format choice: their reads hold only their own
    cells, whatever the URL says.
    """
    today = dt.datetime.now(dt.UTC).date()
    period_col, formats_col, owner_col, status_col = st.columns([2, 4, 3, 2])
    with period_col:
        preset = st.selectbox("Period", periods.PRESETS,
                              index=periods.PRESETS.index(periods.DEFAULT_PRESET),
                              format_func=lambda preset: periods.PRESET_LABELS[preset], key="range",
                              bind="query-params")
        picked: tuple[dt.date, ...] = ()
        if preset == "custom":
            picked = tuple(st.date_input(
                "Upload days", value=(today - dt.timedelta(days=29), today), max_value=today,
                key="dates", bind="query-params"))
    with status_col:
        status = st.selectbox("Status", periods.STATUSES, format_func=str.capitalize, key="status",
                              bind="query-params")
    start, end = periods.preset_range(preset or periods.DEFAULT_PRESET, today, picked)
    loaded = reads.loading(reads.cells, settings.table, reads.user_key(user), start, end,
                           what="Loading the figures…")

    chosen_formats: list[str] = []
    owner: str | None = None
    if access.sees_everyone(user):
        with formats_col:
            # Only formats with files in the period: the widget drops any other a shared URL names.
            formats = analytics.dimensions(loaded.frame, "DAY_FORMAT")
            chosen_formats = st.multiselect("Formats", formats, placeholder="All formats", key="format",
                                            bind="query-params")
        with owner_col:
            emails = reads.uploader_emails(settings.user_pool_id, reads.user_key(user))
            # Every known user and everyone with files in the period; the URL names them by e-mail.
            owners = sorted({*analytics.dimensions(loaded.frame, "DAY_OWNER"), *emails},
                            key=lambda sub: (emails.get(sub, "~" + sub), sub))
            owner = st.selectbox("Uploader", ["", *owners],
                                 format_func=lambda s: emails.get(s, s) or "Everyone",
                                 key="owner", bind="query-params") or None
    else:
        with formats_col:
            st.caption("Showing your own files only.")
    return DashboardFilters(start, end, frozenset(chosen_formats), owner, status or "all"), loaded
