"""Attacks by hostile images and PDFs on whatever draws their preview; each docstring names the attack.

Previews are drawn at extraction, in the sandbox's worker (no environment, a
memory cap, a deadline), and stored as PNGs; the portal only hands the stored
PNG to the browser and decodes nothing an uploader sent.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import signal
from pathlib import Path

import pytest

from common import aws
from common.catalogue import FileStatus
from common.schema.keys import THUMBNAIL_PREFIX, file_key
from common.schema.record import FileRecord, from_item
from extractor import extract
from extractor.formats import Limits
from extractor.processor import Deps, process_message
from portal.access import User
from portal.files import service
from portal.files.uploads import store_upload
from tests.helpers.env import ROOT
from tests.helpers.events import eventbridge_body
from tests.helpers.files import png_header_only, tiny_pdf, tiny_png
from tests.helpers.pages import signed_in_as

ANN = User(sub="aaaaaaaa-1111-4222-8333-000000000001", email="ann@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SEQUENCERS = itertools.count(0x7000)


def upload(stack, name: str, data: bytes) -> FileRecord:
    """Store ``data`` as the portal does and process it with the extractor's own code."""
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    record = store_upload(user=ANN, name=name, body=io.BytesIO(data), content_type="", s3=s3, ddb=ddb,
                          settings=stack)
    head = s3.head_object(Bucket=stack.bucket, Key=record.key)
    body = eventbridge_body(stack.bucket, record.key, sequencer=f"{next(_SEQUENCERS):X}",
                            size=head["ContentLength"], etag=head["ETag"].strip('"'), version_id=head["VersionId"])
    process_message(body, 1, Deps(s3=s3, ddb=ddb, table=stack.table))
    item = ddb.get_item(TableName=stack.table, Key=file_key(record.file_id), ConsistentRead=True)["Item"]
    return from_item(item)


def stored_previews(stack) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=THUMBNAIL_PREFIX)
    return [o["Key"] for o in listed.get("Contents", [])]


def refuse_to_decode(monkeypatch) -> None:
    """Pillow and PDFium fail the test if anything in this process asks them to open a file."""
    import PIL.Image
    import pypdfium2

    def refuse(*args, **kwargs):
        pytest.fail("the portal decoded an uploaded file")

    monkeypatch.setattr(PIL.Image, "open", refuse)
    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)


def test_the_portal_decodes_no_upload_to_show_its_preview(stack, monkeypatch):
    """Attack: an image or PDF crafted for a Pillow or PDFium bug is decoded inside the portal, which holds
    every user's session and the portal's AWS credentials, when anyone opens its detail."""
    image = upload(stack, "photo.png", tiny_png(40, 30))
    pdf = upload(stack, "report.pdf", tiny_pdf("quarter"))
    refuse_to_decode(monkeypatch)
    for record in (image, pdf):
        assert record.status is FileStatus.PROCESSED and record.preview_key
        stored = aws.client("s3").get_object(Bucket=stack.bucket, Key=record.preview_key)["Body"].read()
        shown = service.preview_bytes(user=ANN, s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack,
                                      file_id=record.file_id)
        assert shown == stored and shown.startswith(PNG_SIGNATURE)


def test_the_files_page_shows_the_stored_png_without_decoding_it(stack, monkeypatch):
    """Attack: the same file reaches Pillow through the page itself (Streamlit opens image bytes to size them)."""
    from streamlit.testing.v1 import AppTest

    record = upload(stack, "photo.png", tiny_png(40, 30))
    stored = aws.client("s3").get_object(Bucket=stack.bucket, Key=record.preview_key)["Body"].read()
    refuse_to_decode(monkeypatch)
    at = AppTest.from_file(str(ROOT / "portal" / "app_pages" / "files.py"), default_timeout=60)
    signed_in_as(at, ANN)
    at.query_params["file"] = record.file_id
    at.run()
    assert not at.exception, at.exception
    (shown,) = [img for element in at.get("image") for img in element.proto.imgs]
    assert shown.url == "data:image/png;base64," + base64.b64encode(stored).decode()


def test_a_decompression_bomb_gets_no_preview_and_its_file_is_still_processed(stack):
    """Attack: a 49-megapixel PNG of a few bytes makes whatever draws its thumbnail allocate 150 MB per copy."""
    record = upload(stack, "bomb.png", png_header_only(7_000, 7_000))
    assert record.status is FileStatus.PROCESSED, record.reason
    assert (record.metadata["width"], record.metadata["height"]) == (7_000, 7_000)
    assert record.preview_key == "" and stored_previews(stack) == []


def crashes_the_renderer(path: Path, limits: Limits) -> bytes:
    os.kill(os.getpid(), signal.SIGSEGV)
    raise AssertionError("unreachable")


def answers_a_huge_png(path: Path, limits: Limits) -> bytes:
    return png_header_only(100_000, 100_000)


def answers_html(path: Path, limits: Limits) -> bytes:
    return b"<script>alert(document.cookie)</script>"


def test_a_pdf_that_crashes_the_renderer_fails_only_its_preview(stack, monkeypatch):
    """Attack: a PDF crafted to crash PDFium takes down the process drawing it, with everything it was doing."""
    drawer_for = extract.drawer_for
    monkeypatch.setattr(extract, "drawer_for", lambda fmt: crashes_the_renderer)
    record = upload(stack, "crash.pdf", tiny_pdf("boom"))
    assert record.status is FileStatus.PROCESSED and record.metadata["pages"] == 1
    assert record.preview_key == "" and stored_previews(stack) == []
    monkeypatch.setattr(extract, "drawer_for", drawer_for)
    assert upload(stack, "next.pdf", tiny_pdf("next")).preview_key, "the next file is drawn as usual"


@pytest.mark.parametrize("drawer", [answers_a_huge_png, answers_html], ids=["huge png", "not a png"])
def test_a_taken_over_renderer_cannot_store_what_it_likes(stack, monkeypatch, drawer):
    """Attack: a file takes the renderer over and answers bytes that are no thumbnail (a page of script, or a
    PNG declaring ten billion pixels for whoever shows it), to have them stored and served as the preview."""
    monkeypatch.setattr(extract, "drawer_for", lambda fmt: drawer)
    record = upload(stack, "photo.png", tiny_png(40, 30))
    assert record.status is FileStatus.PROCESSED
    assert record.preview_key == "" and stored_previews(stack) == []
