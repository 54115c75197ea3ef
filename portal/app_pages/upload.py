"""Upload documents: the browser sends each file straight to S3; this page signs and then settles.

A batch goes: the component says which files were ``chosen`` → this page
checks each with the upload policy and signs a presigned POST for it as the
verified user (:func:`portal.files.direct.sign_batch`) → the component sends
the bytes to S3 and ``report``s → the page asks S3 what arrived
(:func:`portal.files.direct.settle_batch`) and shows the summary. The portal
process never holds a byte of an upload.

Leaving the page mid-batch: the uploads carry on (the component's JavaScript
runs in the tab, not in the element); coming back shows their progress and
then the summary. A batch whose report never comes can be settled by hand
("Check what has arrived"); files not yet arrived then read "not finished",
and My files shows them as "upload not finished" until they arrive or expire.
"""

import logging
import secrets
from collections.abc import Mapping

import streamlit as st

from common import aws
from common.settings import Settings
from portal import auth
from portal.access import NotAllowed
from portal.components.direct_upload import direct_upload
from portal.files.direct import Batch, settle_batch, sign_batch
from portal.files.direct_batch import Outcome, Row, Sent, headline, parse_chosen, parse_report
from portal.files.upload_policy import (
    MAX_NOTES_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    UploadPolicy,
    clean_notes,
    parse_tags,
)
from portal.text import md_escape, plain

logger = logging.getLogger(__name__)
_RESULTS = "upload_results"
_ROUND = "upload_round"
_NONCE = "upload_nonce"
_OPEN = "upload_open_batch"


user = auth.current_user()
settings = Settings.from_env()
policy = UploadPolicy.from_settings(settings)
st.title("Upload documents")
st.caption(f"Files go straight from your browser to private storage; their metadata is extracted in the "
           f"background. Up to {policy.max_mb} MB each. Accepted: {policy.allowed_text}.")
summary = st.container()

tags_text = st.text_input("Tags (optional)", key="upload-tags",
                          help=f"Up to {MAX_TAGS} short labels, separated by commas, each at most "
                               f"{MAX_TAG_CHARS} characters; they go with every file of this upload.")
notes_text = st.text_area("Notes (optional)", key="upload-notes", max_chars=MAX_NOTES_CHARS,
                          help="A note kept with every file of this upload.")
labels_problem = ""
try:
    tags, notes = parse_tags(tags_text), clean_notes(notes_text)
except ValueError as e:
    tags, notes, labels_problem = (), "", f"Please fix the tags or notes: {e}."
    st.error(md_escape(labels_problem))
if tags:
    st.caption("Tags: " + md_escape(", ".join(tags)))

round_ = st.session_state.setdefault(_ROUND, 0)
batch_id = f"{st.session_state.setdefault(_NONCE, secrets.token_hex(8))}-{round_}"
key = f"direct-upload-{round_}"
state = st.session_state.get(key) or {}
batch: Batch | None = st.session_state.get(_OPEN)
blocked = ""


def settle(batch: Batch, sent: Mapping[int, Sent] | None) -> None:
    """Record what became of ``batch`` and start a fresh round (new component, new batch id)."""
    rows = settle_batch(batch=batch, sent=sent, s3=aws.client("s3"), ddb=aws.client("dynamodb"),
                        settings=settings)
    st.session_state[_RESULTS] = rows
    st.session_state.pop(_OPEN, None)
    st.session_state[_ROUND] = round_ + 1


if batch is None or batch.id != batch_id:
    batch = None
    try:
        chosen = parse_chosen(state.get("chosen"), batch_id)
    except ValueError as e:
        chosen, blocked = None, f"Please choose again: {e}."
    if chosen and labels_problem:
        blocked = labels_problem
    elif chosen:
        try:
            batch = sign_batch(user=user, batch_id=batch_id, files=chosen, tags=tags, notes=notes,
                               s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=settings)
        except NotAllowed as e:
            blocked = str(e)
        else:
            st.session_state[_OPEN] = batch
            st.session_state.pop(_RESULTS, None)  # a new batch: the last one's summary is done with
if batch is not None:
    sent = parse_report(state.get("report"), batch_id)
    if sent is not None or not batch.signed:
        settle(batch, sent)
        batch = None
    elif st.button("Check what has arrived", help="Settle this upload now: files not yet in storage are "
                   "reported as not finished (they still count if they arrive later)."):
        settle(batch, None)
        batch = None

if batch is None:
    round_ = st.session_state[_ROUND]
    batch_id, key = f"{st.session_state[_NONCE]}-{round_}", f"direct-upload-{round_}"
direct_upload(key=key, data={
    "batch": batch_id, "accept": ",".join(sorted("." + e for e in policy.extensions)),
    "maxBytes": policy.max_bytes, "blocked": blocked,
    "forms": None if batch is None else batch.for_browser(),
    "refused": {} if batch is None else batch.refusals_for_browser(),
})
if blocked:
    st.warning(md_escape(blocked), icon=":material/block:")

results: tuple[Row, ...] = st.session_state.get(_RESULTS, ())
if results:
    with summary:
        stored = sum(1 for r in results if r.outcome is Outcome.STORED)
        said = headline(results) + (" Extraction has started." if stored else "")
        (st.success if stored == len(results) else st.info)(said)
        if stored or any(r.outcome is Outcome.UNFINISHED for r in results):
            st.page_link("app_pages/files.py", label="Watch them on My files", icon=":material/folder:")
        for row in results:
            if row.outcome is Outcome.FAILED:
                st.error(md_escape(row.details))
            elif row.outcome in (Outcome.REFUSED, Outcome.UNFINISHED):
                st.warning(md_escape(row.details), icon=":material/block:")
        st.dataframe([{"file": plain(r.name), "result": r.outcome.value, "details": plain(r.details)}
                      for r in results], hide_index=True,
                     column_config={"file": "File", "result": "Result", "details": "Details"})
