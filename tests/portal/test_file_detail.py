"""The Files page's detail of one file in AppTest: its metadata, its preview (or why none), its map.

The page file runs alone (see test_dashboard.py) with a verified
:class:`portal.access.User` in ``st.session_state["docportal_user"]``; files are
stored by :func:`portal.files.uploads.store_upload` and processed by the extractor's
own code, so the page reads what production writes.
"""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.keys import thumbnail_key, upload_key
from common.schema.record import FileRecord
from extractor import extract
from portal.access import NotAllowed, User
from portal.dashboard import analytics, data
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.files import service, views
from tests.helpers.files import tiny_pdf, tiny_png
from tests.helpers.files_page import page, select, texts, upload
from tests.helpers.pages import detail_values


def test_the_detail_groups_metadata_and_shows_a_preview(stack, people, world):
    at = page(people["ann"])
    select(at, "Show details of").select(world["ann_png"].file_id).run()
    assert not at.exception
    assert at.query_params["file"] == world["ann_png"].file_id  # a link to this view
    groups = [m.value for m in at.markdown if m.value.startswith("**")]
    assert groups[:3] == ["**File**", "**Processing**", "**Image**"]
    values = detail_values(at)
    assert (values["Width"], values["Height"], values["Size"]) == ("40", "30", f"{len(tiny_png(40, 30))} B")
    assert at.get("image"), "an image gets a thumbnail"
    (link,) = at.get("link_button")
    assert world["ann_png"].key in link.proto.url and "X-Amz-Expires=300" in link.proto.url
    select(at, "Show details of").select(world["ann_pdf"].file_id).run()  # a second choice replaces the first
    assert detail_values(at)["Name"] == "Q3 [draft] report.pdf"
    assert at.query_params["file"] == world["ann_pdf"].file_id
    pdf = page(people["ann"], file=world["ann_pdf"].file_id)
    assert image_captions(pdf) == ["First page"], "a PDF shows its first page"
    assert detail_values(pdf)["Pages"] == "1"


# --- previews -------------------------------------------------------------------------


def image_captions(at: AppTest) -> list[str]:
    """The captions of the images the page shows."""
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def encrypted_pdf(password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tiny_pdf("locked numbers"))))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stored_as_processed_pdf(stack, user: User, preview: bytes | None = None) -> FileRecord:
    """A PDF whose item says processed, with ``preview`` stored as its preview (None: it has none)."""
    file_id = "cd" * 16
    key = upload_key(user.sub, file_id, "odd.pdf")
    aws.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=tiny_pdf())
    record = FileRecord(file_id=file_id, owner=user.sub, owner_email=user.email, name="odd.pdf", bucket=stack.bucket,
                        key=key, status=FileStatus.PROCESSED, uploaded_at="2026-11-22T10:00:00.000Z",
                        updated_at="2026-11-22T10:00:01.000Z", size=len(tiny_pdf()), format="pdf",
                        sequencer="0" * 63 + "1", rev="0" * 63 + "1#finished")
    if preview is not None:
        record = replace(record, preview_key=thumbnail_key(user.sub, file_id, record.sequencer))
        aws.client("s3").put_object(Bucket=stack.bucket, Key=record.preview_key, Body=preview)
    aws.client("dynamodb").transact_write_items(**requests.transition(stack.table, None, record))
    return record


def preview_of(stack, user: User, record: FileRecord) -> bytes | None:
    return service.preview_bytes(user=user, s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack,
                               file_id=record.file_id)


def test_a_processed_pdf_is_previewed_by_its_first_page(stack, people, world):
    from PIL import Image

    png = preview_of(stack, people["ann"], world["ann_pdf"])
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size == (371, 480), "a US Letter page, portrait"
        assert im.convert("L").getextrema()[0] < 64, "its text is drawn"
    assert preview_of(stack, people["ana"], world["ann_pdf"]) == png, "an analyst sees the same page"
    with pytest.raises(NotAllowed):
        preview_of(stack, people["bob"], world["ann_pdf"])


def test_a_password_protected_pdf_gets_a_note_and_no_preview(stack, people):
    record = upload(stack, people["ann"], "locked.pdf", encrypted_pdf("secret"))
    # Protected is not failed: the dashboard's failures mean that something went wrong.
    assert record.status is FileStatus.PROCESSED and record.flags == ("password_protected",)
    assert record.metadata["pages"] == 1 and record.metadata["note"].startswith("password-protected PDF")
    day = record.uploaded_at[:10]
    frame = data.load(aws.client("dynamodb"), stack.table, Viewer(record.owner, sees_everyone=False), day, day).frame
    board = analytics.build_dashboard(frame, DashboardFilters(day, day), Viewer(record.owner, sees_everyone=False))
    assert (board.kpis.files, board.kpis.failures) == (1, 0)
    assert dict(zip(board.flags.frame["flag"], board.flags.frame["files"], strict=True)) == {"password_protected": 1}
    assert record.preview_key == ""
    assert views.preview_note(record) == views.NOTE_ENCRYPTED
    assert preview_of(stack, people["ann"], record) is None
    at = page(people["ann"], file=record.file_id)
    assert not image_captions(at) and views.NOTE_ENCRYPTED in texts(at)


def test_a_pdf_that_opens_without_a_password_is_previewed(stack, people):
    record = upload(stack, people["ann"], "restricted.pdf", encrypted_pdf(""))
    assert record.status is FileStatus.PROCESSED and "encrypted" in record.flags
    assert preview_of(stack, people["ann"], record).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_pdf_over_the_cap_gets_no_preview_and_says_why(stack, people, monkeypatch):
    monkeypatch.setattr(extract, "PREVIEW_MAX_BYTES", len(tiny_pdf("big")) - 1)
    monkeypatch.setattr(views, "PREVIEW_MAX_BYTES", len(tiny_pdf("big")) - 1)
    record = upload(stack, people["ann"], "big.pdf", tiny_pdf("big"))
    assert record.status is FileStatus.PROCESSED and record.preview_key == ""
    assert views.preview_note(record).startswith("No preview for PDFs over")
    assert preview_of(stack, people["ann"], record) is None


def test_a_pdf_without_a_preview_says_so_on_the_page(stack, people):
    record = stored_as_processed_pdf(stack, people["ann"])
    assert preview_of(stack, people["ann"], record) is None
    at = page(people["ann"], file=record.file_id)
    assert not image_captions(at) and "No preview could be made for this PDF." in texts(at)


def test_a_stored_preview_that_is_no_png_is_not_shown(stack, people):
    record = stored_as_processed_pdf(stack, people["ann"], preview=b"<script>alert(1)</script>")
    assert views.preview_note(record) == "" and preview_of(stack, people["ann"], record) is None
    at = page(people["ann"], file=record.file_id)
    assert not image_captions(at) and "No preview could be made for this PDF." in texts(at)


def test_a_preview_that_cannot_be_read_is_explained_not_raised(stack, people, world, monkeypatch):
    def unavailable(**kwargs):
        raise service.FilesUnavailable("Files cannot be previewed right now. Please try again in a minute.")

    monkeypatch.setattr(service, "preview_bytes", unavailable)
    at = page(people["ann"], file=world["ann_png"].file_id)
    assert not image_captions(at)
    assert "Files cannot be previewed right now. Please try again in a minute." in texts(at)
    assert detail_values(at)["Name"] == "photo.png", "the rest of the detail is shown"


def test_an_image_keeps_its_preview_caption(stack, people, world):
    assert image_captions(page(people["ann"], file=world["ann_png"].file_id)) == ["Preview"]


def test_a_file_with_gps_is_shown_on_a_map(stack, people):
    ann = people["ann"]
    record = FileRecord(file_id="ab" * 16, owner=ann.sub, owner_email=ann.email, name="trip.jpg", bucket=stack.bucket,
                        key=upload_key(ann.sub, "ab" * 16, "trip.jpg"), status=FileStatus.PROCESSED,
                        uploaded_at="2026-11-22T10:00:00.000Z", updated_at="2026-11-22T10:00:01.000Z",
                        format="jpg", flags=("gps",), metadata={"gps_latitude": 48.8584, "gps_longitude": 2.2945,
                                                               "taken_at": "2026-11-21T09:30:00"},
                        sequencer="0" * 63 + "1", rev="0" * 63 + "1#finished")
    aws.client("dynamodb").transact_write_items(**requests.transition(stack.table, None, record))
    at = page(ann, file=record.file_id)
    assert at.get("deck_gl_json_chart"), "st.map draws the point"
    assert "48.85840, 2.29450" in texts(at)
    assert detail_values(at)["Taken"] == "2026-11-21 09:30"
