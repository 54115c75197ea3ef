"""Previews drawn at extraction: an image's thumbnail, a PDF's first page, as PNG bytes. Pure.

Drawing decodes what anyone uploaded (Pillow decodes the pixels, PDFium is a
large C library), so these run only in the sandbox's worker
(:func:`extractor.sandbox.draw_isolated`: no environment, a memory cap, a
deadline, and a crash ends only the worker), and the caller checks the bytes
it gets back before storing them (:func:`extractor.extract.draw_preview`).
The portal shows the stored PNG and decodes nothing.

A decompression bomb is refused from the size its header declares, before
anything is decoded, with Pillow's own guard on as a second line. A PDF page
is scaled so its longer side is ``limits.preview_side``: the bitmap is never
larger than that square, whatever size the page declares. A file that cannot
be drawn raises :class:`~extractor.formats.ParseError` with a note a person
can read.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from extractor.formats import Limits, ParseError
from extractor.formats.images import pixel_limit, webp_size

#: Pillow plugins a thumbnail is drawn with (HEIC, and anything else, gets none).
_FORMATS = ("JPEG", "PNG", "TIFF", "GIF", "WEBP", "BMP")
#: What Pillow raises on an image it cannot decode (UnidentifiedImageError is an OSError).
_UNDRAWABLE = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError)
#: A page side, in PDF units, beyond any real page (the spec's maximum is 14,400).
MAX_PAGE_UNITS = 200_000.0

NOTE_TOO_LARGE = "the image has too many pixels to draw a preview safely"
NOTE_IMAGE = "the image could not be drawn"
NOTE_ENCRYPTED = "the PDF is password-protected"
NOTE_DAMAGED = "the PDF is damaged"
NOTE_NO_PAGES = "the PDF has no pages"
NOTE_PAGE_SIZE = "the first page declares a size no preview can show"


def draw_image(path: Path, limits: Limits) -> bytes:
    """The sandbox's entry for images: :func:`thumbnail` within ``limits``."""
    return thumbnail(path, limits.preview_side, min(limits.max_preview_pixels, limits.max_image_pixels))


def draw_pdf(path: Path, limits: Limits) -> bytes:
    """The sandbox's entry for PDFs: :func:`first_page` within ``limits``."""
    return first_page(path, limits.preview_side)


def thumbnail(path: Path, side: int, max_pixels: int) -> bytes:
    """A PNG of the image at most ``side`` pixels wide or high; only an animation's first frame.

    Raises
    ------
    ParseError
        When the image declares more than ``max_pixels`` pixels, or cannot be decoded.
    """
    declared = webp_size(path)
    if declared and declared[0] * declared[1] > max_pixels:
        raise ParseError(NOTE_TOO_LARGE)  # libwebp allocates its canvas while opening
    try:
        with pixel_limit(max_pixels), Image.open(path, formats=_FORMATS) as im:
            width, height = im.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise ParseError(NOTE_TOO_LARGE)
            im.draft("RGB", (side, side))  # JPEG decodes at a reduced scale: far cheaper
            im.thumbnail((side, side))
            return _png(im if im.mode in ("RGB", "RGBA", "L", "LA") else im.convert("RGBA"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ParseError(NOTE_TOO_LARGE) from e
    except _UNDRAWABLE as e:
        raise ParseError(NOTE_IMAGE) from e


def scale_for(width: float, height: float, side: int) -> float:
    """The factor that makes the page's longer side ``side`` pixels.

    Raises
    ------
    ParseError
        When the declared size is not finite and positive, beyond any real
        page, or so thin that the shorter side would be under one pixel.
    """
    if not all(math.isfinite(v) and 0 < v <= MAX_PAGE_UNITS for v in (width, height)):
        raise ParseError(NOTE_PAGE_SIZE)
    scale = side / max(width, height)
    if min(width, height) * scale < 1:
        raise ParseError(NOTE_PAGE_SIZE)
    return scale


def first_page(path: Path, side: int) -> bytes:
    """A PNG of the PDF's first page, its longer side ``side`` pixels.

    Raises
    ------
    ParseError
        For an encrypted, damaged or empty PDF, or an unusable page size.
    """
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as e:
        # PDFium's last error is the worker's, not the file's, when loading failed without setting one
        # (an empty page tree): only a password error is told apart.
        if getattr(e, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise ParseError(NOTE_ENCRYPTED) from e
        raise ParseError(NOTE_DAMAGED) from e
    try:
        if len(pdf) < 1:
            raise ParseError(NOTE_NO_PAGES)
        try:
            page = pdf[0]
        except pdfium.PdfiumError as e:
            raise ParseError(NOTE_DAMAGED) from e
        width, height = page.get_size()
        image = page.render(scale=scale_for(width, height, side), may_draw_forms=False).to_pil()
        if max(image.size) > side:  # the renderer rounds up: never hand back more than asked
            image.thumbnail((side, side))
        return _png(image)
    finally:
        pdf.close()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
