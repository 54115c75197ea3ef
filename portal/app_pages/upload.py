"""Upload one or more documents."""

import streamlit as st

from common import aws
from common.settings import Settings
from portal import auth
from portal.files import UploadError, store_upload

user = auth.current_user()
settings = Settings.from_env()

st.title("Upload documents")
st.caption("Files are stored privately; their metadata is extracted in the background.")

summary = st.session_state.pop("upload_summary", None)
if summary:
    done, failed = summary
    if done:
        st.success(f"{done} file(s) uploaded. Extraction has started.")
        st.page_link("app_pages/my_files.py", label="Watch them on My files", icon=":material/folder:")
    for message in failed:
        st.error(message)

round_ = st.session_state.setdefault("upload_round", 0)
chosen = st.file_uploader("Choose files", accept_multiple_files=True, key=f"uploader-{round_}")

if chosen and st.button(f"Upload {len(chosen)} file(s)", type="primary"):
    progress = st.progress(0.0, text="Starting…")
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    done, failed = 0, []
    for i, f in enumerate(chosen, start=1):
        progress.progress((i - 1) / len(chosen), text=f"Uploading {f.name} ({i} of {len(chosen)})")
        try:
            store_upload(user=user, name=f.name, body=f, content_type=f.type or "",
                         s3=s3, ddb=ddb, settings=settings)
            done += 1
        except UploadError as e:
            failed.append(str(e))
    progress.progress(1.0, text="Done")
    st.session_state["upload_summary"] = (done, failed)
    st.session_state["upload_round"] = round_ + 1  # a fresh, empty uploader
    st.rerun()
