"""Whether and how a file gets a preview: an image's thumbnail or a PDF's first page. Pure.

:func:`preview_note` says why a file gets none; :func:`thumbnail` draws an
image's, refusing decompression bombs from their header. PDFs are drawn by
:mod:`portal.files.pdf_preview` in a capped child process.
"""

from __future__ import annotations

import io

from common.catalogue import FileStatus, Flag
from common.schema.record import FileRecord
from portal.files.pdf_preview import NOTE_ENCRYPTED
from portal.text import human_size

#: Formats Pillow decodes safely for a thumbnail.
PREVIEW_FORMATS = frozenset({"jpg", "png", "gif", "webp", "bmp", "tif"})
#: PDFs get their first page, drawn by :mod:`portal.files.pdf_preview` in a capped child process.
PDF_FORMAT = "pdf"
#: Largest file (image or PDF) read for a preview.
PREVIEW_MAX_BYTES = 20 * 1024 * 1024
PREVIEW_MAX_PIXELS = 40_000_000
THUMBNAIL_SIDE = 480


def preview_note(record: FileRecord) -> str:
    """Why a file gets no preview, or "" when it may get one (an image's thumbnail, a PDF's first page).

    A PDF the extractor failed on as encrypted needs a password nobody gave,
    so it is not sent to the renderer; one that opens without a password
    (only editing is restricted) is processed and previewed like any other.
    """
    if record.status in (FileStatus.DELETED, FileStatus.EXPIRED):
        return "The file is no longer stored."
    pdf = record.format == PDF_FORMAT
    if pdf and record.status is FileStatus.FAILED and (
            Flag.ENCRYPTED in record.flags or record.reason.lower().startswith("encrypted")):
        return NOTE_ENCRYPTED
    if not pdf and record.format not in PREVIEW_FORMATS:
        return "No preview for this type of file."
    if record.size is not None and record.size > PREVIEW_MAX_BYTES:
        return f"No preview for {'PDFs' if pdf else 'images'} over {human_size(PREVIEW_MAX_BYTES)}."
    if record.status is FileStatus.FAILED:
        return "No preview: the file could not be processed."
    if record.status is not FileStatus.PROCESSED:
        return "A preview is shown once the file is processed."
    return ""


def thumbnail(data: bytes, side: int = THUMBNAIL_SIDE, max_pixels: int = PREVIEW_MAX_PIXELS) -> bytes | None:
    """A PNG thumbnail of an image, at most ``side`` pixels wide or high; None if it cannot be made.

    The declared pixel count is checked before anything is decoded, so a
    decompression bomb is refused from its header; Pillow's own bomb check
    stays on as a second guard. Only the first frame of an animation is used.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                return None
            im.draft("RGB", (side, side))  # JPEG decodes at a reduced scale: far cheaper
            im.thumbnail((side, side))
            shown: Image.Image = im if im.mode in ("RGB", "RGBA", "L", "LA") else im.convert("RGBA")
            out = io.BytesIO()
            shown.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError,
            EOFError):
        return None
