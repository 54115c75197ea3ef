"""A PDF's first page as a PNG, drawn in a capped child process: real PDFs, hostile ones, limits."""

from __future__ import annotations

import io
import math

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from portal.files import pdf_preview
from portal.files.pdf_preview import Preview, Refused
from portal.files.preview import THUMBNAIL_SIDE
from tests.helpers.files import build_pdf, tiny_pdf


def pdf_with(content: bytes, media_box: bytes = b"0 0 612 792", extra: bytes = b"") -> bytes:
    """A one-page PDF drawing ``content`` (a content stream), built by hand."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [" + media_box + b"] /Contents 4 0 R " + extra + b">>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    return build_pdf(objects)


#: A black square over the page's lower-left quarter of a 400 x 200 landscape page.
BLACK_CORNER = pdf_with(b"0 0 0 rg 0 0 200 100 re f", b"0 0 400 200")


def encrypted(user_password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tiny_pdf("secret numbers"))))
    writer.encrypt(user_password=user_password, owner_password="owner-only", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_of(preview: Preview) -> Image.Image:
    assert preview.png is not None, preview.note
    image = Image.open(io.BytesIO(preview.png))
    image.load()
    assert image.format == "PNG"
    return image


# --- real pages -----------------------------------------------------------------------------


def test_the_first_page_is_drawn_with_its_longer_side_the_thumbnail_side():
    image = image_of(pdf_preview.first_page(BLACK_CORNER, side=THUMBNAIL_SIDE))
    assert image.size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE // 2)
    rgb = image.convert("RGB")
    # PDF's origin is the lower left: the square is in the image's lower-left quarter.
    assert rgb.getpixel((THUMBNAIL_SIDE // 8, THUMBNAIL_SIDE * 3 // 8)) == (0, 0, 0)
    assert rgb.getpixel((THUMBNAIL_SIDE * 7 // 8, THUMBNAIL_SIDE // 8)) == (255, 255, 255)


def test_a_text_page_is_not_blank_and_portrait_stays_portrait():
    image = image_of(pdf_preview.first_page(tiny_pdf("Hello DocPortal")))
    width, height = image.size
    assert height == pdf_preview.DEFAULT_SIDE and width == math.ceil(612 * pdf_preview.DEFAULT_SIDE / 792)
    darkest, lightest = image.convert("L").getextrema()
    assert lightest == 255 and darkest < 64, "the text was drawn"


def test_a_rotated_page_is_shown_as_a_reader_would():
    image = image_of(pdf_preview.first_page(pdf_with(b"", b"0 0 400 200", b"/Rotate 90 "), side=100))
    assert image.size == (50, 100)


def test_a_page_made_by_pdfium_itself_is_drawn():
    doc = pdfium.PdfDocument.new()
    doc.new_page(300, 300)
    out = io.BytesIO()
    doc.save(out)
    assert image_of(pdf_preview.first_page(out.getvalue(), side=64)).size == (64, 64)


def test_a_pdf_that_opens_without_a_password_is_drawn_even_if_encrypted():
    assert pdf_preview.first_page(encrypted("", "AES-256")).png is not None


# --- what is refused, with a note -------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_a_password_protected_pdf_gets_a_note(algorithm):
    assert pdf_preview.first_page(encrypted("secret", algorithm)) == Preview(None, pdf_preview.NOTE_ENCRYPTED)


@pytest.mark.parametrize("data", [
    b"", b"not a pdf at all", tiny_pdf()[:200], b"%PDF-1.7\n" + b"\x00" * 5000,
    tiny_pdf().replace(b"/Kids [3 0 R]", b"/Kids [9 0 R]"),  # the page it lists does not exist
    tiny_pdf().replace(b"/Kids [3 0 R] /Count 1", b"/Kids [] /Count 0"),  # PDFium calls it malformed
], ids=["empty", "garbage", "truncated", "zeros", "missing-page", "empty-tree"])
def test_a_damaged_pdf_gets_a_note(data):
    assert pdf_preview.first_page(data) == Preview(None, pdf_preview.NOTE_DAMAGED)


def test_a_pdf_without_pages_gets_a_note():
    out = io.BytesIO()
    pdfium.PdfDocument.new().save(out)
    assert pdf_preview.first_page(out.getvalue()) == Preview(None, pdf_preview.NOTE_NO_PAGES)


def test_a_page_too_thin_for_a_pixel_is_refused():
    thin = pdf_with(b"0 0 0 rg 0 0 1 20000 re f", b"0 0 1 20000")
    assert pdf_preview.first_page(thin) == Preview(None, pdf_preview.NOTE_PAGE_SIZE)


@pytest.mark.parametrize("size", [(0, 100), (-612, 792), (math.nan, 792), (math.inf, 792), (612, 300_000),
                                  (1, 20_000)])
def test_page_sizes_that_would_give_an_absurd_bitmap_are_refused(size):
    with pytest.raises(Refused):
        pdf_preview.scale_for(*size, 480)


def test_the_scale_keeps_the_bitmap_within_the_side_for_any_real_page():
    for width, height in ((612, 792), (14_400, 14_400), (14_400, 30), (3, 3)):
        scale = pdf_preview.scale_for(width, height, 480)
        assert max(width, height) * scale == pytest.approx(480)


# --- limits -----------------------------------------------------------------------------------


def test_a_drawing_past_the_deadline_gives_none():
    preview = pdf_preview.first_page(tiny_pdf(), timeout=0.01)
    assert preview.png is None and preview.note == "Drawing the first page took longer than 0.01 s."


def test_a_child_that_hangs_is_killed_at_the_deadline(tmp_path, monkeypatch):
    hang = tmp_path / "hang.py"
    hang.write_text("import time\ntime.sleep(120)\n")
    monkeypatch.setattr(pdf_preview, "_SCRIPT", hang)
    preview = pdf_preview.first_page(tiny_pdf(), timeout=1)
    assert preview.png is None and "took longer than 1 s" in preview.note


def test_a_drawing_over_the_memory_cap_gives_none():
    preview = pdf_preview.first_page(tiny_pdf(), memory_bytes=1024 * 1024)
    assert preview.png is None and "needs more than 1 MiB" in preview.note


def test_what_the_child_answers_must_look_like_a_png(tmp_path, monkeypatch):
    liar = tmp_path / "liar.py"
    liar.write_text("import sys\nsys.stdin.buffer.read()\nsys.stdout.write('<script>alert(1)</script>')\n")
    monkeypatch.setattr(pdf_preview, "_SCRIPT", liar)
    assert pdf_preview.first_page(tiny_pdf()) == Preview(None, pdf_preview.NOTE_CRASHED)


def test_a_child_that_crashes_gives_a_note(tmp_path, monkeypatch):
    crash = tmp_path / "crash.py"
    crash.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    monkeypatch.setattr(pdf_preview, "_SCRIPT", crash)
    assert pdf_preview.first_page(tiny_pdf()) == Preview(None, pdf_preview.NOTE_CRASHED)


def test_no_more_than_the_allowed_children_draw_at_once():
    held = [pdf_preview._SLOTS.acquire(timeout=5) for _ in range(pdf_preview.MAX_CONCURRENT)]
    try:
        assert all(held)
        assert pdf_preview.first_page(tiny_pdf(), timeout=0.05) == Preview(None, pdf_preview.NOTE_BUSY)
    finally:
        for _ in held:
            pdf_preview._SLOTS.release()
    assert pdf_preview.first_page(tiny_pdf()).png is not None, "the slots are free again"


def test_a_child_cannot_put_its_own_words_in_the_note(tmp_path, monkeypatch):
    liar = tmp_path / "liar.py"
    liar.write_text("import sys\nsys.stdin.buffer.read()\nsys.stderr.write('[click](https://e.test)')\nsys.exit(3)\n")
    monkeypatch.setattr(pdf_preview, "_SCRIPT", liar)
    assert pdf_preview.first_page(tiny_pdf()) == Preview(None, pdf_preview.NOTE_DAMAGED)
