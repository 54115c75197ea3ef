"""Export file metadata as CSV (analysts and admins)."""

import datetime as dt

import streamlit as st

from common import aws
from common.settings import Settings
from portal import auth
from portal.csv_shape import COMMON_COLUMNS, DEFAULT_COLUMNS, METADATA_COLUMNS, UnknownColumn
from portal.export import STATUSES, ExportRequest, Progress, csv_chunks, export_to_s3, may_export

user = auth.current_user()
st.title("Export metadata")
if not may_export(user):  # navigation hides the page too, but the check that counts is here
    st.warning("Exports are for analysts and admins. Please ask an admin for access.")
    st.stop()

settings = Settings.from_env()
today = dt.datetime.now(dt.UTC).date()
with st.form("export"):
    left, right = st.columns(2)
    period = left.date_input("Uploaded between", (today - dt.timedelta(days=30), today), max_value=today)
    status = right.selectbox("Status", STATUSES)
    formats = left.text_input("Formats (comma-separated, empty for all)", placeholder="pdf, docx")
    owner = right.text_input("Uploader id (empty for everyone)")
    columns = st.multiselect("Columns", [*COMMON_COLUMNS, *METADATA_COLUMNS], default=list(DEFAULT_COLUMNS))
    bom = st.checkbox("Start with a byte-order mark (for Excel)", value=False)
    submitted = st.form_submit_button("Prepare export", type="primary")

if submitted:
    start, end = (period if isinstance(period, tuple) and len(period) == 2 else (period, period))
    try:
        request = ExportRequest(
            start_day=str(start), end_day=str(end), owner=owner.strip() or None, status=status,
            formats=frozenset(f.strip().lower() for f in formats.split(",") if f.strip()),
            columns=tuple(columns), bom=bom)
    except (ValueError, UnknownColumn) as e:
        st.error(f"Please check the form: {e}")
        st.stop()
    status_box = st.status("Exporting…", expanded=True)
    counter = status_box.empty()
    progress = Progress(on_page=lambda rows: counter.write(f"{rows:,} rows written…"))
    chunks = csv_chunks(aws.client("dynamodb"), settings.table, request, user, progress)
    key, link = export_to_s3(aws.client("s3"), settings.bucket, user, chunks)
    counter.write(f"{progress.rows:,} rows written.")
    status_box.update(label=f"Export ready: {progress.rows:,} file(s)", state="complete")
    st.link_button("Download the CSV", link, type="primary", icon=":material/download:")
    st.caption("The link works for 15 minutes.")
