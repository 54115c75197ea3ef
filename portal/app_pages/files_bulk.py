"""The Files page's actions on selected rows: ZIP download, retry the failed ones, delete, tags. Not a page.

Each button says how many of the selected files it applies to (planned by
:mod:`portal.files.bulk` from the access rules) and is disabled, with the
reason, when none; the services check every file again as the user is now.
What happened is reported file by file: done, or not and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from common import aws
from common.schema.record import FileRecord
from common.settings import Settings
from portal import text
from portal.access import NotAllowed, User
from portal.files import bulk, bulk_service
from portal.files.bulk import BulkAction, Report
from portal.files.labels import InvalidLabels, LabelEdit
from portal.files.service import FileError

_CONFIRM = "files_bulk_confirm"
_REPORT = "files_bulk_report"
#: What a bulk action may refuse with as a whole; both messages are written for people.
_REFUSED = (FileError, NotAllowed)


def show_report(report: Report) -> None:
    """The action's outcome: how many files were done, and each file that was not, with why."""
    (st.success if not report.not_done else st.warning)(text.md_escape(report.summary()))
    for line in report.reasons():
        st.caption(f":material/block: {text.md_escape(line)}")


def last_report(generation: int) -> None:
    """The report of the last change, shown with the list drawn after it until that list is replaced.

    (The redraws that follow a change, and the list's own refreshes, show it
    again; the next page, filters or change do not.)
    """
    kept = st.session_state.get(_REPORT)
    if isinstance(kept, Report):
        st.session_state[_REPORT] = kept = (generation, kept)
    if kept and kept[0] == generation:
        show_report(kept[1])
    else:
        st.session_state.pop(_REPORT, None)


def _help(plan: bulk.Plan) -> str | None:
    return None if plan.chosen or not plan.refused else f"Not for these files: {plan.refused[0][1]}."


def bulk_panel(user: User, picked: Sequence[FileRecord], settings: Settings, *,
               changed: Callable[[], None]) -> None:
    """The actions on ``picked``; ``changed`` runs after files changed (to forget reads and redraw)."""
    plans = {action: bulk.plan(action, user, picked) for action in BulkAction}
    ids = tuple(r.file_id for r in picked)
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    with st.container(border=True):
        st.markdown(f"**{len(picked)} selected**")
        get, retry, delete = st.columns(3)
        zipping = get.button(f"Download as ZIP ({len(plans[BulkAction.DOWNLOAD].chosen)})",
                             icon=":material/folder_zip:", key="files_bulk_zip",
                             disabled=not plans[BulkAction.DOWNLOAD].chosen,
                             help=_help(plans[BulkAction.DOWNLOAD]))
        retrying = retry.button(f"Retry failed ({len(plans[BulkAction.RETRY].chosen)})",
                                icon=":material/refresh:", key="files_bulk_retry",
                                disabled=not plans[BulkAction.RETRY].chosen,
                                help=_help(plans[BulkAction.RETRY]))
        removable = plans[BulkAction.DELETE].chosen
        delete.button(f"Delete ({len(removable)})", icon=":material/delete:", key="files_bulk_delete",
                      disabled=not removable, help=_help(plans[BulkAction.DELETE]),
                      on_click=st.session_state.__setitem__, args=(_CONFIRM, ids))
        if zipping:
            try:
                with st.spinner("Putting the files in a ZIP…"):
                    made = bulk_service.zip_to_s3(user=user, s3=s3, ddb=ddb, settings=settings,
                                                  plan=plans[BulkAction.DOWNLOAD])
            except _REFUSED as e:
                st.error(text.md_escape(str(e)))
            else:
                st.link_button("Save the ZIP", made.link, icon=":material/download:", type="primary")
                st.caption("The link works for 15 minutes; manifest.csv inside lists every selected file.")
                show_report(made.report)
        if retrying:
            _change(lambda: bulk_service.retry_many(user=user, s3=s3, ddb=ddb, settings=settings,
                                                    plan=plans[BulkAction.RETRY]), changed)
        if st.session_state.get(_CONFIRM) == ids and removable:
            st.warning(text.md_escape(bulk.confirmation(len(removable))))
            yes, no, _ = st.columns([1, 1, 2])
            if yes.button(f"Yes, delete {len(removable)}", type="primary", key="files_bulk_confirm_yes"):
                st.session_state.pop(_CONFIRM, None)
                _change(lambda: bulk_service.delete_many(user=user, s3=s3, ddb=ddb, settings=settings,
                                                         plan=plans[BulkAction.DELETE]), changed)
            no.button("Cancel", key="files_bulk_cancel", on_click=st.session_state.pop, args=(_CONFIRM, None))
        _tags_row(user, plans[BulkAction.LABEL], settings, changed)


def _tags_row(user: User, plan: bulk.Plan, settings: Settings, changed: Callable[[], None]) -> None:
    """Add and remove tags on the selected files the user may change; each file's other tags and note stay."""
    with st.form("files_bulk_tags", border=False):
        add_col, remove_col, go_col = st.columns([2, 2, 1], vertical_alignment="bottom")
        add = add_col.text_input("Add tags", placeholder="q3, legal", key="files_bulk_add")
        remove = remove_col.text_input("Remove tags", placeholder="draft", key="files_bulk_remove")
        tagging = go_col.form_submit_button(f"Change tags ({len(plan.chosen)})", icon=":material/sell:",
                                            disabled=not plan.chosen, help=_help(plan))
    if not tagging:
        return
    try:
        edit = LabelEdit.of(add=add, remove=remove)
    except InvalidLabels as e:
        st.error(text.md_escape(f"Nothing was changed: {e}."))
        return
    if not edit.add and not edit.remove:
        st.info("Type the tags to add or remove first (separate them with commas).")
        return
    _change(lambda: bulk_service.label_many(user=user, ddb=aws.client("dynamodb"), settings=settings,
                                            plan=plan, edit=edit), changed)


def _change(act: Callable[[], Report], changed: Callable[[], None]) -> None:
    """Run a bulk change, keep its report for the next drawing, and redraw."""
    st.session_state[_REPORT] = act()
    changed()
