"""Export file metadata as CSV (analysts and admins).

The filter bar is the dashboard's, bound to the same URL names, so the
dashboard's "Export these files" link opens this page on the view's filters.
The rows come from the file items (:mod:`portal.export.service`), page by page, and
go to S3 as the CSV is written; the user gets a short-lived link.
"""

import logging

import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError

from common import aws
from common.settings import Settings
from portal import access, auth
from portal.app_pages.filter_bar import filter_bar
from portal.export.csv_shape import COMMON_COLUMNS, DEFAULT_COLUMNS, METADATA_COLUMNS, UnknownColumn
from portal.export.service import KEEP_DAYS, LINK_SECONDS, ExportRequest, Progress, csv_chunks, export_to_s3
from portal.files.explorer import tag_filter
from portal.text import md_escape

logger = logging.getLogger(__name__)

st.title("Export metadata")
user = auth.page_user(access.may_export,
                      "Exports are for analysts and admins. Please ask an admin for access.")

settings = Settings.from_env()
filters, _ = filter_bar(user, settings)
st.caption(f"Files uploaded from {filters.start} to {filters.end}"
           + (f", formats {', '.join(md_escape(f) for f in sorted(filters.formats))}" if filters.formats
              else ", every format")
           + (", one uploader" if filters.owner else ", every uploader")
           + ("" if filters.status == "all" else f", status {filters.status}") + ".")

with st.form("export"):
    columns = st.multiselect("Columns", [*COMMON_COLUMNS, *METADATA_COLUMNS], default=list(DEFAULT_COLUMNS),
                             help="Common fields first, then the format fields the extractor reports.")
    tag_col, match_col = st.columns([3, 1])
    tag_text = tag_col.text_input("Tags", placeholder="q3, board pack",
                                  help="Only files with these tags, separated by commas (any case).")
    match = match_col.selectbox("Tags match", ["any", "all"],
                                format_func=lambda m: "Any of them" if m == "any" else "All of them")
    bom = st.checkbox("Start with a byte-order mark (for Excel)", value=False)
    submitted = st.form_submit_button("Prepare export", type="primary")

if submitted:
    try:
        request = ExportRequest(start_day=filters.start, end_day=filters.end, owner=filters.owner,
                                status=filters.status, formats=filters.formats, columns=tuple(columns),
                                bom=bom, tags=tag_filter(tag_text), all_tags=match == "all")
    except (ValueError, UnknownColumn) as e:
        st.error(f"Please check the form: {md_escape(str(e))}")
        st.stop()
    status_box = st.status("Exporting…", expanded=True)
    counter = status_box.empty()
    progress = Progress(on_page=lambda rows: counter.write(f"{rows:,} rows written…"))
    try:
        chunks = csv_chunks(aws.client("dynamodb"), settings.table, request, user, progress)
        key, link = export_to_s3(aws.client("s3"), settings.bucket, user, chunks)
    except (ClientError, BotoCoreError):
        logger.exception("export failed after %s rows", progress.rows)
        status_box.update(label="The export did not complete", state="error")
        st.error("The export could not be written. Nothing was lost; please try again in a minute.")
        st.stop()
    counter.write(f"{progress.rows:,} rows written.")
    status_box.update(label=f"Export ready: {progress.rows:,} file(s)", state="complete")
    st.link_button("Download the CSV", link, type="primary", icon=":material/download:")
    st.caption(f"The link works for {LINK_SECONDS // 60} minutes, and the file is deleted after "
               f"{'a day' if KEEP_DAYS == 1 else f'{KEEP_DAYS} days'}: download it now.")
