"""The filter bar the dashboard and export pages share. Not a page itself.

The filters live in the URL under one set of names (``range``, ``dates``,
``format``, ``owner``, ``status``) on both pages, so a dashboard view's link
to the export page carries its filters, and either can be shared. The URL
holds what the widgets show: the range's and status's labels, the uploader's
e-mail. The widgets are mirrored to the URL by hand, not with Streamlit's
``bind="query-params"``: on a page change Streamlit strips from the new
page's URL every name a bound widget of the old page used, and the Files
view's filters share three of these names, so the dashboard's drill links
arrived without their status, format and uploader.
The cells of the period are read through :mod:`portal.app_pages.reads`,
keyed by the verified user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

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


#: What the bar last wrote to the URL: a URL that differs was changed from outside (a link, Back).
_WRITTEN = "filter_bar_url_written"


def _url_params() -> dict[str, list[str]]:
    url = {name: [v for v in st.query_params.get_all(name) if v] for name in FILTER_PARAMS}
    return {name: values for name, values in url.items() if values}


def filter_params() -> dict[str, list[str]]:
    """The shared filters as the URL holds them, for a link that keeps them."""
    return _url_params()


def _seed(key: str, value: object, fresh: bool) -> None:
    """Give widget ``key`` the URL's value when the URL changed from outside or the widget is new here."""
    if fresh or key not in st.session_state:
        st.session_state[key] = value


def _one(url: Mapping[str, list[str]], name: str, labels: Mapping[str, str], default: str) -> str:
    """The choice whose label the URL names; ``default`` for none or one that is not a choice."""
    wanted = url.get(name, [])
    by_label = {label: value for value, label in labels.items()}
    return by_label.get(wanted[0], default) if len(wanted) == 1 else default


def _days(url: Mapping[str, list[str]], today: dt.date) -> tuple[dt.date, ...]:
    """The custom range's days the URL names: one or two ISO days, none after today."""
    try:
        days = tuple(dt.date.fromisoformat(v) for v in url.get("dates", []))
    except ValueError:
        return ()
    return days if 1 <= len(days) <= 2 and all(d <= today for d in days) else ()


def _write(wanted: Mapping[str, Sequence[str]]) -> None:
    """Make the URL's filter names say ``wanted`` (other names are left alone)."""
    for name in FILTER_PARAMS:
        if name in wanted:
            if st.query_params.get_all(name) != list(wanted[name]):
                st.query_params[name] = list(wanted[name])
        elif name in st.query_params:
            del st.query_params[name]
    st.session_state[_WRITTEN] = {k: list(v) for k, v in wanted.items()}


def filter_bar(user: User, settings: Settings) -> tuple[DashboardFilters, data.Loaded]:
    """The period, format, uploader and status filters, and the cells of the period.

    Uploaders get no uploader or format choice: their reads hold only their own
    cells, whatever the URL says.
    """
    today = dt.datetime.now(dt.UTC).date()
    url = _url_params()
    fresh = st.session_state.get(_WRITTEN) != url
    status_labels = {s: s.capitalize() for s in periods.STATUSES}
    _seed("range", _one(url, "range", periods.PRESET_LABELS, periods.DEFAULT_PRESET), fresh)
    _seed("dates", _days(url, today) or (today - dt.timedelta(days=29), today), fresh)
    _seed("status", _one(url, "status", status_labels, "all"), fresh)
    period_col, formats_col, owner_col, status_col = st.columns([2, 4, 3, 2])
    with period_col:
        preset = st.selectbox("Period", periods.PRESETS,
                              format_func=lambda preset: periods.PRESET_LABELS[preset], key="range")
        picked: tuple[dt.date, ...] = ()
        if preset == "custom":
            chosen = st.date_input("Upload days", max_value=today, key="dates")  # a range, seeded above
            picked = tuple(chosen) if isinstance(chosen, tuple) else (chosen,) if chosen else ()
    with status_col:
        status = st.selectbox("Status", periods.STATUSES, format_func=status_labels.__getitem__, key="status")
    start, end = periods.preset_range(preset or periods.DEFAULT_PRESET, today, picked)
    loaded = reads.loading(reads.cells, settings.table, reads.user_key(user), start, end,
                           what="Loading the figures…")

    chosen_formats: list[str] = []
    owner: str | None = None
    owner_labels: dict[str, str] = {}
    if access.sees_everyone(user):
        with formats_col:
            # Only formats with files in the period: any other a shared URL names is dropped.
            formats = analytics.dimensions(loaded.frame, "DAY_FORMAT")
            _seed("format", [f for f in url.get("format", []) if f in formats], fresh)
            st.session_state["format"] = [f for f in st.session_state["format"] if f in formats]
            chosen_formats = st.multiselect("Formats", formats, placeholder="All formats", key="format")
        with owner_col:
            emails = reads.uploader_emails(settings.user_pool_id, reads.user_key(user))
            # Every known user and everyone with files in the period; the URL names them by e-mail.
            owners = sorted({*analytics.dimensions(loaded.frame, "DAY_OWNER"), *emails},
                            key=lambda sub: (emails.get(sub, "~" + sub), sub))
            owner_labels = {sub: emails.get(sub, sub) for sub in owners}
            _seed("owner", _one(url, "owner", owner_labels, ""), fresh)
            if st.session_state["owner"] not in owner_labels:
                st.session_state["owner"] = ""
            owner = st.selectbox("Uploader", ["", *owners], key="owner",
                                 format_func=lambda s: owner_labels.get(s) or "Everyone") or None
    else:
        with formats_col:
            st.caption("Showing your own files only.")
    shown = {"range": [periods.PRESET_LABELS[preset]] if preset != periods.DEFAULT_PRESET else [],
             "dates": [d.isoformat() for d in picked] if preset == "custom" else [],
             "format": list(chosen_formats), "owner": [owner_labels[owner]] if owner else [],
             "status": [status_labels[status]] if status != "all" else []}
    _write({name: values for name, values in shown.items() if values})
    return DashboardFilters(start, end, frozenset(chosen_formats), owner, status or "all"), loaded
