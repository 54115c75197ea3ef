"""The signed-in user's files, refreshing itself while any is in flight."""

import streamlit as st

from common import aws
from common.settings import Settings
from portal import auth, views
from portal.files import list_own_files

REFRESH_SECONDS = 2
_LIVE = "my_files_live"

user = auth.current_user()
settings = Settings.from_env()

st.title("My files")


@st.fragment(run_every=REFRESH_SECONDS if st.session_state.get(_LIVE, True) else None)
def files_view() -> None:
    """Render the table; switch auto-refresh on or off as files start or finish."""
    records = list_own_files(user=user, ddb=aws.client("dynamodb"), settings=settings)
    if not records:
        st.info("No files yet. Upload some on the Upload page.")
        st.page_link("app_pages/upload.py", label="Upload files", icon=":material/upload:")
    else:
        pending = views.in_flight(records)
        if pending:
            st.caption(f"{pending} file(s) in progress; this list refreshes by itself.")
        else:
            st.caption(f"{len(records)} file(s), all done.")
        st.table(views.file_rows(records))
        with st.expander("Metadata of a file"):
            chosen = st.selectbox("File", records, format_func=lambda r: f"{r.name} ({r.file_id[:8]})")
            if chosen is not None:
                st.json({"status": chosen.status.value, "size": chosen.size, "sha256": chosen.sha256,
                         "mime_type": chosen.mime_type, "format": chosen.format,
                         "extension": chosen.extension, "flags": list(chosen.flags),
                         "reason": chosen.reason, "metadata": dict(chosen.metadata)})
    live = views.in_flight(records) > 0
    if live != st.session_state.get(_LIVE, True):
        st.session_state[_LIVE] = live
        st.rerun()


files_view()
