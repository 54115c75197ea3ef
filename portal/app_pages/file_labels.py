"""The chosen file's tags and note, edited in its detail. Not a page itself.

Shown only to whoever may change them (:func:`portal.access.may_label`), and
the service checks again. The form remembers the revision it was drawn
from, so an edit made over someone else's newer one is refused with a
message, not written over it.
"""

from __future__ import annotations

import streamlit as st

from common import aws
from common.schema.record import FileRecord
from common.settings import Settings
from portal import access, text
from portal.access import NotAllowed, User
from portal.app_pages import reads
from portal.files import actions
from portal.files.labels import InvalidLabels, LabelEdit
from portal.files.service import FileError
from portal.files.upload_policy import MAX_NOTES_CHARS, MAX_TAG_CHARS, MAX_TAGS
from portal.files.views import tags_text


def labels_form(user: User, record: FileRecord, settings: Settings, notice_key: str) -> None:
    """Tags and note of ``record`` in a form; saving writes them and reruns, noting it in ``notice_key``."""
    if not access.may_label(user, record):
        return
    with st.expander("Edit tags and note", icon=":material/sell:"), \
            st.form(f"labels-{record.file_id}-{record.rev}", border=False):
        tags = st.text_input("This file's tags", value=tags_text(record.tags),
                             key=f"labels-tags-{record.rev}",
                             help=f"Separated by commas; at most {MAX_TAGS}, each up to {MAX_TAG_CHARS} "
                                  "characters. Case does not matter.")
        notes = st.text_area("Note", value=record.notes, max_chars=MAX_NOTES_CHARS,
                             key=f"labels-notes-{record.rev}")
        if not st.form_submit_button("Save tags and note", icon=":material/save:"):
            return
    try:
        saved = actions.set_labels(user=user, ddb=aws.client("dynamodb"), settings=settings,
                                   file_id=record.file_id, edit=LabelEdit.of(tags=tags, notes=notes),
                                   seen=record.rev)
    except InvalidLabels as e:
        st.error(text.md_escape(f"Please fix the tags or note: {e}."))
        return
    except (FileError, NotAllowed) as e:
        st.error(text.md_escape(str(e)))
        return
    st.session_state[notice_key] = f"Tags and note of {saved.name} saved."
    reads.forget_files()
    st.rerun()
