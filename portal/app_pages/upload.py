"""Upload documents: many at once, each checked first, with its own progress and result."""

import logging
from typing import Any

import streamlit as st

from common import aws
from common.settings import Settings
from portal import auth, upload_guard
from portal.access import NotAllowed
from portal.files.upload_policy import (
    MAX_NOTES_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    ByteProgress,
    UploadPolicy,
    clean_notes,
    parse_tags,
)
from portal.files.uploads import UploadError, store_upload
from portal.text import md_escape, plain

logger = logging.getLogger(__name__)
_RESULTS = "upload_results"
_ROUND = "upload_round"


user = auth.current_user()
settings = Settings.from_env()
st.title("Upload documents")
policy = UploadPolicy.from_settings(settings, server_limit_mb=st.get_option("server.maxUploadSize"))

st.caption(f"Files are stored privately; their metadata is extracted in the background. "
           f"Up to {policy.max_mb} MB each. Accepted: {policy.allowed_text}.")

results = st.session_state.pop(_RESULTS, None)
if results:
    done = sum(1 for r in results if r["result"] == "✓ uploaded")
    if done:
        st.success(f"{done} file(s) uploaded. Extraction has started.")
        st.page_link("app_pages/files.py", label="Watch them on My files", icon=":material/folder:")
    for row in results:
        if row["result"] == "✗ failed":
            st.error(md_escape(row["details"]))
        elif row["result"] == "⊘ refused":
            st.warning(md_escape(row["details"]), icon=":material/block:")
    st.dataframe([{k: plain(v) for k, v in row.items()} for row in results], hide_index=True,
                 column_config={"file": "File", "result": "Result", "details": "Details"})

round_ = st.session_state.setdefault(_ROUND, 0)
chosen = st.file_uploader("Choose files, or drag and drop them here", accept_multiple_files=True,
                          key=f"uploader-{round_}", max_upload_size=policy.max_mb)
tags_text = st.text_input("Tags (optional)", key=f"tags-{round_}",
                          help=f"Up to {MAX_TAGS} short labels, separated by commas, each at most "
                               f"{MAX_TAG_CHARS} characters; they go with every file of this upload.")
notes_text = st.text_area("Notes (optional)", key=f"notes-{round_}", max_chars=MAX_NOTES_CHARS,
                          help="A note kept with every file of this upload.")

try:
    tags, notes = parse_tags(tags_text), clean_notes(notes_text)
except ValueError as e:
    st.error(f"Please fix the tags or notes: {md_escape(str(e))}.")
    st.stop()
if tags:
    st.caption("Tags: " + md_escape(", ".join(tags)))

chosen = chosen or []
verdicts = [policy.check(f.name, f.size) for f in chosen]
for verdict in verdicts:
    if not verdict.accepted:
        st.warning(md_escape(verdict.message), icon=":material/block:")
accepted = [f for f, v in zip(chosen, verdicts, strict=True) if v.accepted]

if accepted and st.button(f"Upload {len(accepted)} file(s)", type="primary"):
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    rows = []
    for f, verdict in zip(chosen, verdicts, strict=True):
        if not verdict.accepted:
            rows.append({"file": f.name, "result": "⊘ refused", "details": verdict.message})
            continue
        bar = st.progress(0.0, text=f"{md_escape(f.name)}: starting…")
        counter = ByteProgress(f.size)

        def show(sent: int, bar: Any = bar, counter: ByteProgress = counter, name: str = f.name) -> None:
            fraction = counter.add(sent)
            if fraction is not None:
                bar.progress(fraction, text=f"{md_escape(name)}: {fraction:.0%}")

        try:
            f.seek(0)
            store_upload(user=user, name=f.name, body=f, content_type=f.type or "", s3=s3, ddb=ddb,
                         settings=settings, tags=tags, notes=notes, progress=show)
        except (UploadError, NotAllowed) as e:
            rows.append({"file": f.name, "result": "✗ failed", "details": str(e)})
            bar.progress(counter.fraction, text=f"{md_escape(f.name)}: failed")
        except Exception:  # never a traceback for the user; the log has it
            logger.exception("upload of %r failed", f.name)
            rows.append({"file": f.name, "result": "✗ failed",
                         "details": f"{f.name}: something went wrong; please upload the file again."})
        else:
            rows.append({"file": f.name, "result": "✓ uploaded", "details": ""})
            bar.progress(1.0, text=f"{md_escape(f.name)}: uploaded")
    st.session_state[_RESULTS] = rows
    upload_guard.release(chosen)  # this round's files leave the server's memory
    st.session_state[_ROUND] = round_ + 1  # a fresh, empty uploader, tags and notes
    st.rerun()
