"""The Files explorer: filter, search, sort and page through files; details, download, retry, delete.

Uploaders see their own files ("My files"); analysts (read-only) and admins
everyone's ("Files"). What a user may read or change is decided in
:mod:`portal.files.service` from the verified user on every call, never by
what this page shows or hides; a file chosen through the URL (``?file=<id>``)
goes through the same checks. Cached reads (:mod:`portal.app_pages.reads`)
are keyed by the user. The list and the chosen file refresh by themselves
while any file shown is in flight, except while rows are selected: then the
list holds still (the rows last drawn are kept), so a selected row stays the
file that was ticked, and the bulk actions (:mod:`portal.app_pages.files_bulk`)
act on those files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from common import aws
from common.schema.keys import is_file_id
from common.schema.record import FileRecord
from common.settings import Settings
from portal import access, auth, text
from portal.access import NotAllowed, User
from portal.app_pages import reads
from portal.app_pages.file_labels import labels_form
from portal.app_pages.files_bar import file_filter_bar, saved_views_panel
from portal.app_pages.files_bulk import bulk_panel, last_report
from portal.files import actions, explorer, service, views
from portal.files.explorer import FileFilters, Pager
from portal.files.service import FileError, FilePage

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 2
_LIVE = "files_live"
_PAGE_RUN = "files_page_run"
_PAGER = "files_pager"
_SHOWN_FILTERS = "files_filters_key"
_CONFIRM = "files_confirm_delete"
_PICK = "files_detail_pick"
_NOTICE = "files_notice"
#: The list's widget generation: a new one (new page, filters or files changed) starts with nothing selected.
_GENERATION = "files_list_generation"
#: The rows last drawn: a selection's row numbers point into these.
_DRAWN = "files_list_drawn"
_SINGLE = "files_list_single"
#: What a file action may refuse with; both messages are written for people.
_REFUSED = (FileError, NotAllowed)

user = auth.current_user()
settings = Settings.from_env()
everyone = access.sees_everyone(user)
tz = text.zone(st.context.timezone)


def who(viewer: User) -> tuple[str, reads.UserKey]:
    """The cache key of ``viewer``'s reads: the table and whose read it is."""
    return settings.table, reads.user_key(viewer)


# --- the filter bar -----------------------------------------------------------------

st.title("Files" if everyone else "My files")
notice = st.session_state.pop(_NOTICE, None)
if notice:
    st.success(text.md_escape(notice))

emails = reads.uploader_emails(settings.user_pool_id, reads.user_key(user)) if everyone else {}
filters, page_size = file_filter_bar(everyone, emails)
saved_views_panel(user, settings, filters)

try:
    total = reads.loading(reads.file_count, *who(user), filters.key(), what="Counting the files…")
    line = views.total_line(total.files, total.complete, service.MAX_COUNTED)
    st.markdown(f":material/filter_list: {text.md_escape(line)}")
except _REFUSED as e:
    st.error(text.md_escape(str(e)))
    st.stop()

def new_list() -> None:
    """The list is drawn as a new widget: nothing selected, rows read afresh."""
    st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1
    st.session_state.pop(_DRAWN, None)


if st.session_state.get(_SHOWN_FILTERS) != (filters.key(), page_size):
    st.session_state[_SHOWN_FILTERS] = (filters.key(), page_size)
    st.session_state[_PAGER] = Pager()  # other filters: back to the first page
    new_list()


def go_forward(token: str) -> None:
    st.session_state[_PAGER] = st.session_state[_PAGER].forward(token)
    new_list()


def go_back() -> None:
    st.session_state[_PAGER] = st.session_state[_PAGER].back()
    new_list()


def files_changed() -> None:
    """After a bulk change: forget every read, select nothing, draw the whole page again (totals too)."""
    reads.forget_files()
    new_list()
    st.rerun()


def list_key() -> str:
    return f"files_list_{st.session_state.get(_GENERATION, 0)}"


def selected_rows() -> list[int]:
    """The row numbers selected in the list as last drawn."""
    state = st.session_state.get(list_key())
    return list(state["selection"]["rows"]) if state else []


def choose(file_id: str | None) -> None:
    st.session_state.pop(_CONFIRM, None)
    if file_id:
        st.query_params["file"] = file_id
    else:
        st.query_params.pop("file", None)


# --- the list and the detail, refreshing while files are in flight ------------------


#: Whether this run's fragment refreshes itself; a fragment cannot change its own timer.
_timer_on = st.session_state.get(_LIVE, True)


@st.fragment(run_every=REFRESH_SECONDS if _timer_on else None)
def explorer_view(filters: FileFilters, page_size: int) -> None:
    """List one page, show the chosen file; switch auto-refresh on or off as files start or finish.

    A fragment's rerun skips the entry script and this page's top, so the user
    is taken again here, checked with Cognito when that is due: every refresh
    and every action acts as the user is now.
    """
    viewer = auth.current_user()
    everyone = access.sees_everyone(viewer)
    emails = reads.uploader_emails(settings.user_pool_id, reads.user_key(viewer)) if everyone else {}
    pager: Pager = st.session_state[_PAGER]
    drawn: FilePage | None = st.session_state.get(_DRAWN)
    if drawn is not None and selected_rows():
        page = drawn  # rows are selected: the list holds still, so each selected row stays the file it was
    else:
        try:
            try:
                page = reads.file_page(*who(viewer), filters.key(), pager.current, page_size)
            except explorer.BadPageToken:
                st.session_state[_PAGER] = pager = Pager()
                st.info("The list was reset to its first page.")
                page = reads.file_page(*who(viewer), filters.key(), None, page_size)
        except _REFUSED as e:
            st.error(text.md_escape(str(e)))
            return
        st.session_state[_DRAWN] = page
    records = list(page.records)
    unfiltered = filters.key() == FileFilters(sort=filters.sort).key()
    picked: list[FileRecord] = []
    last_report(st.session_state.get(_GENERATION, 0))
    if not records and pager.number == 1 and page.next_token is None:
        if unfiltered:
            st.info("No files yet. Upload some on the Upload page.")
            with contextlib.suppress(StreamlitPageNotFoundError):  # outside the app's navigation (tests)
                st.page_link("app_pages/upload.py", label="Upload files", icon=":material/upload:")
        else:
            st.info("No files match these filters.")
    elif records:
        pending = views.in_flight(records)
        picked = [records[i] for i in selected_rows() if 0 <= i < len(records)]
        if picked:
            st.caption(f"{len(picked)} selected: the list holds still until nothing is selected.")
        elif pending:
            st.caption(f"{pending} file(s) in progress; this list refreshes by itself.")
        else:
            st.caption(f"{len(records)} file(s), all done.")
        rows = views.file_rows(records, tz, uploaders=emails if everyone else None,
                               now=dt.datetime.now(dt.UTC), deliveries=settings.max_receive_count)
        frame = pd.DataFrame(rows)
        frame["Size"] = [r.size for r in records]  # a number, so the column sorts by size
        st.dataframe(frame, key=list_key(), on_select="rerun", selection_mode="multi-row", hide_index=True,
                     width="stretch", column_config={"Size": st.column_config.NumberColumn(format="bytes")})
        if picked:
            bulk_panel(viewer, picked, settings, changed=files_changed)
    if not records and page.next_token:
        st.caption(f"No match among the {page.examined} files looked at; press Next to search further.")
    elif page.next_token and len(records) < page_size:
        st.caption(f"{page.examined} files looked at to fill this page; press Next to search further.")
    prev_col, where, next_col = st.columns([1, 2, 1])
    prev_col.button("Previous", icon=":material/chevron_left:", disabled=not pager.has_previous,
                    on_click=go_back, key="files_previous")
    where.caption(f"Page {pager.number}")
    next_col.button("Next", icon=":material/chevron_right:", disabled=page.next_token is None,
                    on_click=go_forward, args=(page.next_token,), key="files_next")

    # The widget's choice is what is shown; a link (?file=<id>) chooses on arrival, through the same checks.
    # (Reading the choice back from the URL lost a pick made while the list refreshed itself.)
    url_file = st.query_params.get("file")
    if url_file and not is_file_id(url_file):
        url_file = None  # only a file id ever becomes a choice; anything else in the URL is ignored
    if st.session_state.get(_PICK) is None:
        st.session_state[_PICK] = url_file  # None: nothing chosen yet, not the first file
    single = picked[0].file_id if len(picked) == 1 else None
    if single != st.session_state.get(_SINGLE):
        st.session_state[_SINGLE] = single
        if single:  # one row selected: its detail opens, as choosing it below would
            st.session_state[_PICK] = single
            choose(single)
    wanted = st.session_state.get(_PICK)
    ids = [r.file_id for r in records]
    names = {r.file_id: r.name for r in records}
    options = ids if wanted in ids or not wanted else [*ids, wanted]
    if options:
        wanted = st.selectbox("Show details of", options, key=_PICK, placeholder="Choose a file",
                              format_func=lambda i: f"{names.get(i, 'file')} ({i[:8]})",
                              on_change=lambda: choose(st.session_state[_PICK]))
    shown = detail(viewer, wanted, emails) if wanted else None
    live = (views.in_flight(records) > 0 or bool(shown and not shown.status.terminal)) and not picked
    st.session_state[_LIVE] = live
    # A new timer needs a run of the whole page. Not at the end of the page's own run, though:
    # Streamlit folds pending reruns into the latest, so this rerun would undo a navigation
    # click made while the page was drawing. A timer no longer needed stops at its next tick.
    if live != _timer_on and (live or not st.session_state.get(_PAGE_RUN)):
        st.rerun()


def detail(viewer: User, file_id: str, emails: dict[str, str]) -> FileRecord | None:
    """The chosen file: badges, actions allowed to this user, preview, map and grouped metadata."""
    try:
        record = reads.file(*who(viewer), file_id)
    except _REFUSED as e:
        st.warning(text.md_escape(str(e)))
        return None
    with st.container(border=True):
        st.subheader(text.md_escape(record.name))
        status, note = views.state(record, dt.datetime.now(dt.UTC), settings.max_receive_count)
        badges = [status, *views.flag_badges(record.flags)]
        cols = st.columns(len(badges) + 4)
        for col, badge in zip(cols, badges, strict=False):
            with col:
                st.badge(text.md_escape(badge.label), color=badge.color)  # type: ignore[arg-type]
        if note:
            st.warning(text.md_escape(f"Reason: {note}"))
        action_buttons(viewer, record)
        labels_form(viewer, record, settings, _NOTICE)
        picture, location = st.columns(2)
        with picture:
            note = views.preview_note(record)
            image = None
            if not note:
                try:
                    image = reads.preview(*who(viewer), record.file_id, record.preview_key)
                except _REFUSED as e:
                    note = str(e)
            if image:  # the browser draws it: the portal never decodes a preview
                caption = "First page" if record.format == "pdf" else "Preview"
                st.image(views.png_data_url(image), caption=caption)
            else:
                st.caption(note or views.missing_preview_note(record))  # the portal's own words
        point = views.gps_point(record)
        if point:
            with location:
                st.map(pd.DataFrame({"lat": [point[0]], "lon": [point[1]]}), zoom=11, height=260)
                st.caption(f"Where it was taken: {point[0]:.5f}, {point[1]:.5f}")
        uploader = emails.get(record.owner, "") if access.sees_everyone(viewer) else viewer.email
        for group in views.detail_groups(record, tz, uploader=uploader):
            st.markdown(f"**{text.md_escape(group.title)}**")
            st.table({"Field": [text.md_escape(k) for k, _ in group.rows],
                      "Value": [text.md_escape(v) for _, v in group.rows]}, hide_index=True)
    return record


def action_buttons(user: User, record: FileRecord) -> None:
    """Download, retry and delete, each shown only when this user may do it (the service checks again)."""
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    download, retry, delete = st.columns(3)
    if access.may_download(user, record):
        try:
            url = service.download_url(user=user, s3=s3, ddb=ddb, settings=settings, file_id=record.file_id)
            download.link_button("Download original", url, icon=":material/download:")
            download.caption("The link works for 5 minutes.")
        except _REFUSED as e:
            download.caption(text.md_escape(str(e)))
    if access.may_retry(user, record) and retry.button("Retry processing", icon=":material/refresh:",
                                                         key=f"retry-{record.file_id}"):
        try:
            actions.retry_file(user=user, s3=s3, ddb=ddb, settings=settings, file_id=record.file_id)
        except _REFUSED as e:
            st.error(text.md_escape(str(e)))
        else:
            st.session_state[_LIVE] = True  # it is in flight again
            new_list()
            st.session_state[_NOTICE] = (f"{record.name} was sent back for processing; "
                                         "its status updates by itself.")
            reads.forget_files()
            st.rerun()
    if not access.may_delete(user, record):
        return
    if st.session_state.get(_CONFIRM) != record.file_id:
        delete.button("Delete", icon=":material/delete:", key=f"delete-{record.file_id}",
                      on_click=st.session_state.__setitem__, args=(_CONFIRM, record.file_id))
        return
    st.warning(text.md_escape(f"Delete {record.name}? The original is removed and cannot be restored; "
                                  "its metadata is kept, marked deleted."))
    yes, no, _ = st.columns([1, 1, 2])
    if yes.button("Yes, delete", type="primary", key=f"confirm-{record.file_id}"):
        st.session_state.pop(_CONFIRM, None)
        try:
            actions.delete_file(user=user, s3=s3, ddb=ddb, settings=settings, file_id=record.file_id)
        except _REFUSED as e:
            st.error(text.md_escape(str(e)))
        else:
            st.session_state[_NOTICE] = f"{record.name} was deleted."
            st.query_params.pop("file", None)
            st.session_state.pop(_PICK, None)
            new_list()
            reads.forget_files()
            st.rerun()
    no.button("Cancel", key=f"cancel-{record.file_id}", on_click=st.session_state.pop, args=(_CONFIRM, None))


st.session_state[_PAGE_RUN] = True  # the fragment's own reruns see False
try:
    explorer_view(filters, page_size)
finally:
    st.session_state[_PAGE_RUN] = False
