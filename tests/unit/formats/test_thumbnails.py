"""Previews drawn at extraction: thumbnails that refuse bombs, PDFs' first pages, and the checks around them."""

from __future__ import annotations

import io
import math
import struct
import time
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from extractor import extract
from extractor.extract import Config, draw_preview, extract_file, plausible_png
from extractor.formats import Limits, ParseError
from extractor.formats import thumbnails as th
from extractor.sandbox import Budget, MiB
from tests.helpers.files import build_pdf, png_header_only, tiny_pdf, tiny_png
from tests.helpers.tasks import hogs_memory, loops_forever

SIDE = Limits().preview_side


def pdf_with(content: bytes, media_box: bytes = b"0 0 612 792", extra: bytes = b"") -> bytes:
    """A one-page PDF drawing ``content`` (a content stream), built by hand."""
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [" + media_box + b"] /Contents 4 0 R " + extra + b">>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])


def encrypted(user_password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tiny_pdf("secret numbers"))))
    writer.encrypt(user_password=user_password, owner_password="owner-only", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def file_of(tmp_path):
    def write(data: bytes, name: str = "f") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path
    return write


def image_of(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


# --- images ---------------------------------------------------------------------------------


def test_a_thumbnail_is_a_small_png(file_of):
    assert image_of(th.thumbnail(file_of(tiny_png(1000, 500)), 100, 10**6)).size == (100, 50)
    assert image_of(th.draw_image(file_of(tiny_png(40, 30)), Limits())).size == (40, 30), "never enlarged"


def test_bombs_and_garbage_get_no_thumbnail(file_of):
    # The declared size is checked before decoding: one pixel over the cap and there is no thumbnail.
    assert th.thumbnail(file_of(tiny_png(100, 100)), SIDE, 10_000)
    with pytest.raises(ParseError, match="too many pixels"):
        th.thumbnail(file_of(tiny_png(100, 100)), SIDE, 9_999)
    with pytest.raises(ParseError, match="too many pixels"):
        th.draw_image(file_of(png_header_only(7_000, 7_000)), Limits())  # over the preview cap
    with pytest.raises(ParseError, match="too many pixels"):
        th.draw_image(file_of(png_header_only(100_000, 100_000)), Limits())
    for data in (b"not an image", tiny_png(10, 10)[:40]):
        with pytest.raises(ParseError, match="could not be drawn"):
            th.draw_image(file_of(data), Limits())


def test_a_webp_bomb_is_refused_before_libwebp_allocates(file_of):
    # A VP8X header declaring 16384 x 16384: libwebp would allocate the canvas on open.
    vp8x = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8X" + struct.pack("<I", 10) + b"\x00" * 4 \
        + (16383).to_bytes(3, "little") * 2
    with pytest.raises(ParseError, match="too many pixels"):
        th.draw_image(file_of(vp8x), Limits())


# --- PDFs -----------------------------------------------------------------------------------


def test_the_first_page_is_drawn_with_its_longer_side_the_preview_side(file_of):
    black_corner = pdf_with(b"0 0 0 rg 0 0 200 100 re f", b"0 0 400 200")  # lower-left quarter, landscape
    image = image_of(th.first_page(file_of(black_corner), SIDE)).convert("RGB")
    assert image.size == (SIDE, SIDE // 2)
    # PDF's origin is the lower left: the square is in the image's lower-left quarter.
    assert image.getpixel((SIDE // 8, SIDE * 3 // 8)) == (0, 0, 0)
    assert image.getpixel((SIDE * 7 // 8, SIDE // 8)) == (255, 255, 255)


def test_a_text_page_is_not_blank_and_portrait_stays_portrait(file_of):
    image = image_of(th.draw_pdf(file_of(tiny_pdf("Hello DocPortal")), Limits()))
    assert image.size == (math.ceil(612 * SIDE / 792), SIDE)
    darkest, lightest = image.convert("L").getextrema()
    assert lightest == 255 and darkest < 64, "the text was drawn"


def test_a_rotated_page_is_shown_as_a_reader_would(file_of):
    assert image_of(th.first_page(file_of(pdf_with(b"", b"0 0 400 200", b"/Rotate 90 ")), 100)).size == (50, 100)


def test_a_page_made_by_pdfium_itself_is_drawn(file_of):
    doc = pdfium.PdfDocument.new()
    doc.new_page(300, 300)
    out = io.BytesIO()
    doc.save(out)
    assert image_of(th.first_page(file_of(out.getvalue()), 64)).size == (64, 64)


def test_a_pdf_that_opens_without_a_password_is_drawn_even_if_encrypted(file_of):
    assert th.draw_pdf(file_of(encrypted("", "AES-256")), Limits())


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_a_password_protected_pdf_is_refused(file_of, algorithm):
    with pytest.raises(ParseError, match="password-protected"):
        th.draw_pdf(file_of(encrypted("secret", algorithm)), Limits())


@pytest.mark.parametrize("data", [
    b"", b"not a pdf at all", tiny_pdf()[:200], b"%PDF-1.7\n" + b"\x00" * 5000,
    tiny_pdf().replace(b"/Kids [3 0 R]", b"/Kids [9 0 R]"),  # the page it lists does not exist
    tiny_pdf().replace(b"/Kids [3 0 R] /Count 1", b"/Kids [] /Count 0"),  # PDFium calls it malformed
], ids=["empty", "garbage", "truncated", "zeros", "missing-page", "empty-tree"])
def test_a_damaged_pdf_is_refused(file_of, data):
    with pytest.raises(ParseError, match="damaged"):
        th.draw_pdf(file_of(data), Limits())


def test_a_pdf_without_pages_is_refused(file_of):
    out = io.BytesIO()
    pdfium.PdfDocument.new().save(out)
    with pytest.raises(ParseError, match="damaged"):  # PDFium will not load an empty page tree
        th.draw_pdf(file_of(out.getvalue()), Limits())


@pytest.mark.parametrize("size", [(0, 100), (-612, 792), (math.nan, 792), (math.inf, 792), (612, 300_000),
                                  (1, 20_000)])
def test_page_sizes_that_would_give_an_absurd_bitmap_are_refused(size):
    with pytest.raises(ParseError, match="size"):
        th.scale_for(*size, 480)


def test_the_scale_keeps_the_bitmap_within_the_side_for_any_real_page():
    for width, height in ((612, 792), (14_400, 14_400), (14_400, 30), (3, 3)):
        assert max(width, height) * th.scale_for(width, height, 480) == pytest.approx(480)


# --- drawing at extraction, in the sandbox ---------------------------------------------------


CONFIG = Config(budget=Budget(memory_bytes=256 * MiB, seconds=20))


def extracted(path: Path, name: str, config: Config = CONFIG):
    return extract_file(path, name, config)


def test_processed_images_and_pdfs_are_drawn_in_the_sandbox(file_of):
    for data, name, size in ((tiny_png(40, 30), "a.png", (40, 30)), (tiny_pdf(), "a.pdf", (371, 480))):
        path = file_of(data, name)
        png = draw_preview(path, extracted(path, name), CONFIG)
        assert image_of(png).size == size


def test_what_gets_no_preview_is_not_drawn(file_of, monkeypatch):
    monkeypatch.setattr(extract, "draw_isolated", lambda *a, **k: pytest.fail("drawn"))
    text = file_of(b"plain words", "a.txt")
    assert draw_preview(text, extracted(text, "a.txt"), CONFIG) is None
    pdf = file_of(tiny_pdf(), "a.pdf")
    result = extracted(pdf, "a.pdf")
    assert draw_preview(pdf, replace(result, error="damaged PDF"), CONFIG) is None  # failed files
    assert draw_preview(pdf, replace(result, size=21 * MiB), CONFIG) is None  # over PREVIEW_MAX_BYTES


def test_a_drawing_past_its_deadline_or_over_the_memory_cap_gives_none(file_of, monkeypatch):
    path = file_of(tiny_pdf(), "a.pdf")
    result = extracted(path, "a.pdf")
    drawer_for = extract.drawer_for
    monkeypatch.setattr(extract, "drawer_for", lambda fmt: loops_forever)
    started = time.monotonic()
    assert draw_preview(path, result, replace(CONFIG, preview_seconds=0.5)) is None
    assert time.monotonic() - started < 5, "the preview's own deadline, not the parse budget's 20 s"
    monkeypatch.setattr(extract, "drawer_for", lambda fmt: hogs_memory)
    assert draw_preview(path, result, CONFIG) is None
    monkeypatch.setattr(extract, "drawer_for", drawer_for)
    assert draw_preview(path, result, CONFIG) is not None, "and the next drawing works"


def test_only_a_png_of_at_most_the_side_squared_is_plausible():
    assert plausible_png(tiny_png(480, 1), 480) and plausible_png(tiny_png(1, 480), 480)
    assert not plausible_png(tiny_png(481, 1), 480)
    assert not plausible_png(png_header_only(100_000, 100_000), 480)
    assert not plausible_png(png_header_only(0, 10), 480)
    assert not plausible_png(b"<html>" + tiny_png(10, 10), 480)
    assert not plausible_png(tiny_png(10, 10)[:20], 480)
    assert not plausible_png(tiny_png(10, 10) + b"\x00" * (480 * 480 * 4 + 64 * 1024), 480)
