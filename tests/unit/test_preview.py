"""Whether and how a file gets a preview (pure): notes, and thumbnails that refuse bombs."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace

from common.catalogue import FileStatus
from portal.files import preview
from tests.helpers.files import tiny_png
from tests.helpers.records import sample_record


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size but carries almost no data: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_a_thumbnail_is_a_small_png():
    from PIL import Image

    data = preview.thumbnail(tiny_png(1000, 500), side=100)
    with Image.open(io.BytesIO(data)) as im:
        assert (im.format, im.size) == ("PNG", (100, 50))


def test_bombs_and_garbage_get_no_thumbnail():
    # The declared size is checked before decoding: one pixel over the cap and there is no thumbnail.
    assert preview.thumbnail(tiny_png(100, 100), max_pixels=10_000) is not None
    assert preview.thumbnail(tiny_png(100, 100), max_pixels=9_999) is None
    assert preview.thumbnail(png_header_only(7_000, 7_000)) is None  # over the default cap
    assert preview.thumbnail(png_header_only(100_000, 100_000)) is None  # Pillow's own guard
    assert preview.thumbnail(b"not an image") is None
    assert preview.thumbnail(tiny_png(10, 10)[:40]) is None  # truncated


def test_preview_notes():
    png = sample_record(format="png", size=100)
    assert preview.preview_note(png) == ""
    assert preview.preview_note(replace(png, size=preview.PREVIEW_MAX_BYTES + 1)).startswith("No preview for images")
    assert preview.preview_note(replace(png, status=FileStatus.DELETED)) == "The file is no longer stored."
    assert preview.preview_note(replace(png, status=FileStatus.PROCESSING)).startswith("A preview is shown")
    assert preview.preview_note(sample_record(format="mp3")) == "No preview for this type of file."
    assert preview.preview_note(replace(png, status=FileStatus.FAILED)) == "No preview: the file could not be processed."


def test_pdf_preview_notes():
    pdf = sample_record()  # processed, 1,500 bytes
    assert preview.preview_note(pdf) == ""
    assert preview.preview_note(replace(pdf, size=preview.PREVIEW_MAX_BYTES)) == ""
    assert preview.preview_note(replace(pdf, size=preview.PREVIEW_MAX_BYTES + 1)).startswith("No preview for PDFs over")
    assert preview.preview_note(replace(pdf, status=FileStatus.EXPIRED)) == "The file is no longer stored."
    assert preview.preview_note(replace(pdf, status=FileStatus.UPLOADED)).startswith("A preview is shown")
    # What the extractor records for a PDF that needs a password to open.
    locked = replace(pdf, status=FileStatus.FAILED, flags=("encrypted",),
                     reason="encrypted PDF: metadata partially available")
    assert preview.preview_note(locked) == "This PDF is password-protected, so no preview can be made."
    assert preview.preview_note(replace(locked, flags=())) == preview.preview_note(locked)
    # Only editing restricted: it opened, was processed, and is drawn like any other.
    assert preview.preview_note(replace(pdf, flags=("encrypted",), metadata={"encrypted": True})) == ""
    damaged = replace(pdf, status=FileStatus.FAILED, reason="damaged PDF: its structure cannot be read")
    assert preview.preview_note(damaged) == "No preview: the file could not be processed."
