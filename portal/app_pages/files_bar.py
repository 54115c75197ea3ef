"""The Files page's filter bar, kept in the URL so any Files view can be shared. Not a page itself.

The URL is read through :func:`portal.files.links.parse` (pure, defensive):
what it cannot use is dropped and said, never raised, and only known
statuses, formats, flags, buckets and uploaders ever become a choice. The
widgets then show those filters, and every change is written back to the
URL in its canonical form (:func:`portal.files.links.to_params`), which the
dashboard's drill-through links use too. A URL changed from outside (a
link followed, a bookmark, Back) sets the widgets again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import streamlit as st

from common import aws
from common.catalogue import FORMAT_NAMES, QUALITY_FLAGS, RISK_FLAGS, FileStatus, Flag
from common.settings import Settings
from portal import navigation, text
from portal.access import NotAllowed, User
from portal.dashboard.labels import pages_bucket_label, size_bucket_label
from portal.files import explorer, links, saved, saved_views, views
from portal.files.explorer import FileFilters, InvalidFilter, SortKey
from portal.files.service import FileError

_ALL = "All uploaders"
#: What the page last wrote to the URL: a URL that differs was changed from outside.
_WRITTEN = "files_url_written"
_NOTES = "files_url_notes"
_W = "files_w_"  # widget keys


def _url_params() -> dict[str, list[str]]:
    return {name: values for name in links.PARAMS if (values := st.query_params.get_all(name))}


def _seed(f: FileFilters) -> None:
    """Set every widget to ``f``."""
    values: dict[str, Any] = {
        "q": f.text, "status": sorted(f.statuses), "format": sorted(f.formats), "flag": sorted(f.flags),
        "owner": f.owner or _ALL, "from": dt.date.fromisoformat(f.start_day) if f.start_day else None,
        "to": dt.date.fromisoformat(f.end_day) if f.end_day else None, "sort": f.sort, "reason": f.reason,
        "size": f.size_bucket, "pages": f.pages_bucket, "counted": f.counted,
        "tag": ", ".join(sorted(f.tags)), "tags": "all" if f.all_tags else "any",
    }
    for name, value in values.items():
        st.session_state[_W + name] = value


def _write(params: Mapping[str, list[str]]) -> None:
    for name in links.PARAMS:
        if name in params:
            st.query_params[name] = params[name]
        else:
            st.query_params.pop(name, None)
    st.session_state[_WRITTEN] = dict(params)


def file_filter_bar(everyone: bool, emails: Mapping[str, str]) -> tuple[FileFilters, int]:
    """The filters (and page size) the widgets show, read from the URL when it changed from outside.

    ``emails`` (sub -> e-mail) are the uploaders an analyst or admin may choose.
    """
    parsed = links.parse(_url_params(), owners=set(emails) if everyone else None)
    canonical = links.to_params(parsed.filters)
    if st.session_state.get(_WRITTEN) != _url_params():
        _seed(parsed.filters)
        st.session_state[_NOTES] = parsed.notes
        if canonical != _url_params():
            _write(canonical)  # the dropped values leave the URL too
        st.session_state[_WRITTEN] = _url_params()
    for note in st.session_state.get(_NOTES, ()):
        st.caption(f":material/info: {text.md_escape(note)}")
    with st.container(border=True):
        search = st.text_input("Search", placeholder="Name, title or author",
                               max_chars=explorer.MAX_SEARCH_LENGTH, key=_W + "q")
        c1, c2, c3, c4 = st.columns(4)
        statuses = c1.multiselect("Status", list(FileStatus), key=_W + "status",
                                  format_func=lambda s: views.status_badge(s).label)
        formats = c2.multiselect("Format", FORMAT_NAMES, key=_W + "format")
        flags = c3.multiselect("Flag", [f.value for f in (*RISK_FLAGS, *QUALITY_FLAGS)],
                               format_func=lambda f: Flag(f).label, key=_W + "flag")
        owner = None
        if everyone:
            by_email = sorted(emails.items(), key=lambda item: item[1])
            chosen_owner = c4.selectbox("Uploader", [_ALL, *(sub for sub, _ in by_email)],
                                        format_func=lambda sub: emails.get(sub, sub), key=_W + "owner")
            owner = None if chosen_owner == _ALL else chosen_owner
        d1, d2, d3, d4 = st.columns(4)
        start = d1.date_input("Uploaded from", format="YYYY-MM-DD", key=_W + "from")
        end = d2.date_input("Uploaded to", format="YYYY-MM-DD", key=_W + "to")
        sort = d3.selectbox("Sort", list(SortKey), format_func=lambda s: s.label, key=_W + "sort")
        page_size = d4.selectbox("Per page", explorer.PAGE_SIZES)
        e1, e2, e3, e4 = st.columns(4)
        reason = e1.text_input("Failure reason", max_chars=explorer.MAX_REASON_LENGTH, key=_W + "reason",
                               help="The general part of a failed file's reason, as the dashboard counts it.")
        size = e2.selectbox("Size", ["", *explorer.SIZE_BUCKETS], key=_W + "size",
                            format_func=lambda b: size_bucket_label(b) if b else "Any size")
        pages = e3.selectbox("Length", ["", *explorer.PAGES_BUCKETS], key=_W + "pages",
                             format_func=lambda b: pages_bucket_label(b) if b else "Any length")
        counted = e4.checkbox("Only files the dashboard counts", key=_W + "counted",
                              help="Finished by the extractor and not deleted: what the dashboard's "
                                   "figures count. An upload the portal could not store is left out.")
        f1, f2 = st.columns([3, 1])
        tag_text = f1.text_input("Tags", key=_W + "tag", placeholder="q3, board pack",
                                 help="Separated by commas; case does not matter.")
        match = f2.selectbox("Tags match", ["any", "all"], key=_W + "tags",
                             format_func=lambda m: "Any of them" if m == "any" else "All of them")
    try:
        filters = FileFilters(statuses=frozenset(statuses), formats=frozenset(formats),
                              flags=frozenset(flags),
                              start_day=start.isoformat() if isinstance(start, dt.date) else None,
                              end_day=end.isoformat() if isinstance(end, dt.date) else None, owner=owner,
                              text=search, sort=sort or SortKey.NEWEST, reason=reason, size_bucket=size or "",
                              pages_bucket=pages or "", counted=counted, tags=explorer.tag_filter(tag_text),
                              all_tags=match == "all")
    except InvalidFilter as e:
        st.error(text.md_escape(f"Please check the filters: {e}."))
        st.stop()
        raise  # st.stop() raises; this tells type checkers
    wanted = links.to_params(filters)
    if wanted != _url_params():
        st.session_state[_NOTES] = ()
        _write(wanted)
    return filters, int(page_size or explorer.PAGE_SIZES[0])


def saved_views_panel(user: User, settings: Settings, filters: FileFilters) -> None:
    """The user's saved views as links, and saving or deleting one (names escaped: users typed them)."""
    ddb = aws.client("dynamodb")
    with st.expander("Saved views", icon=":material/bookmarks:"):
        try:
            kept = saved_views.list_views(user=user, ddb=ddb, settings=settings)
        except (FileError, NotAllowed) as e:
            st.error(text.md_escape(str(e)))
            return
        for view in kept:
            st.page_link(navigation.page_path("files"), label=text.md_escape(view.name),
                         query_params=dict(view.params), icon=":material/bookmark:")
        if not kept:
            st.caption("No saved views yet: name these filters to find them again.")
        name_col, save_col = st.columns([3, 1], vertical_alignment="bottom")
        name = name_col.text_input("Name these filters", max_chars=saved.MAX_NAME, key="files_view_name")
        if save_col.button("Save view", icon=":material/bookmark_add:", key="files_view_save"):
            try:
                saved_views.save_view(user=user, ddb=ddb, settings=settings, name=name, filters=filters)
            except (saved.InvalidView, FileError, NotAllowed) as e:
                st.error(text.md_escape(str(e)))
            else:
                st.rerun()
        if kept:
            gone_col, delete_col = st.columns([3, 1], vertical_alignment="bottom")
            gone = gone_col.selectbox("Delete a saved view", [v.name for v in kept], key="files_view_gone")
            if delete_col.button("Delete view", icon=":material/bookmark_remove:", key="files_view_delete"):
                try:
                    saved_views.delete_view(user=user, ddb=ddb, settings=settings, name=gone or "")
                except (FileError, NotAllowed) as e:
                    st.error(text.md_escape(str(e)))
                else:
                    st.rerun()
