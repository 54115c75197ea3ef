"""Read what an image says about itself: size, camera, time, place, title, author.

Only headers and metadata blocks are read, never the pixels: the fields do not
need them, so a 100-megapixel photo costs about what a thumbnail does and a
decompression bomb never gets the chance to expand. Files cut short are still
noticed by walking their structure (JPEG segments, PNG chunks, TIFF strips),
which reads bytes but decodes nothing.
"""

from __future__ import annotations

import functools
import math
import struct
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pillow_heif
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from PIL import GifImagePlugin, Image, UnidentifiedImageError

from common.catalogue import Flag
from extractor.formats import Limits, Parsed, ParseError, imagewalk

#: Pillow plugins allowed to open an upload; anything else (EPS, PSD, ...) is refused,
#: which keeps decoders nobody asked for out of reach of hostile files.
_FORMATS = ("JPEG", "PNG", "TIFF", "GIF", "WEBP", "BMP", "HEIF")
_KINDS = "JPEG, PNG, TIFF, GIF, WEBP, BMP or HEIC"
_BOMB = "image is too large to decode safely (possible decompression bomb)"
_TRUNCATED = "damaged image: the file ends before its picture data does (it may be truncated)"

#: What Pillow and its plugins raise on damaged headers (not MemoryError/RecursionError,
#: which the sandbox reports as what they are).
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError,
            TypeError, ZeroDivisionError, OverflowError)

_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_TAG_DESCRIPTION = 0x010E
_TAG_MAKE = 0x010F
_TAG_MODEL = 0x0110
_TAG_ORIENTATION = 0x0112
_TAG_ARTIST = 0x013B
_TAG_DATETIME_ORIGINAL = 0x9003
_BASE_TAGS = (_TAG_DESCRIPTION, _TAG_MAKE, _TAG_MODEL, _TAG_ORIENTATION, _TAG_ARTIST, _TAG_DATETIME_ORIGINAL)
_TIFF_OFFSETS = (273, 324)  # StripOffsets, TileOffsets
_TIFF_COUNTS = (279, 325)  # StripByteCounts, TileByteCounts
_TIFF_RESOLUTION = (282, 283)  # XResolution, YResolution

_NS_DC = "http://purl.org/dc/elements/1.1/"
_NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: A real XMP packet is a few KiB (JPEG caps it at 64 KiB); larger ones are not parsed.
_MAX_XMP = 4 * 1024 * 1024

#: Frames of an animated GIF counted: Pillow walks them one Python call each, and a real
#: animation has up to a few thousand.
MAX_GIF_FRAMES = 50_000
_TOO_MANY_BLOCKS = (f"image not read: more than {imagewalk.MAX_METADATA_BLOCKS:,} metadata blocks come "
                    "before its picture, far more than cameras and editors write")

#: Image.MAX_IMAGE_PIXELS is process-wide; calls in threads must not see each other's value.
_PIXEL_LIMIT_LOCK = threading.Lock()


@functools.cache
def _register_heif() -> None:
    """Teach Pillow HEIC once, on first use, so plain JPEG work never pays for it."""
    pillow_heif.register_heif_opener()


def parse_image(path: Path, limits: Limits) -> Parsed:
    """Header fields and metadata of a JPEG, PNG, TIFF, GIF, WEBP, BMP or HEIC image.

    Fields: width, height, mode, dpi, frames, camera_make, camera_model,
    taken_at, orientation, gps_latitude, gps_longitude, title, author; flag
    ``gps`` when the image records where it was taken.

    Raises
    ------
    ParseError
        When the image declares more pixels than ``limits.max_image_pixels``
        (with its declared width/height), or is damaged or truncated (with the
        fields read before the problem).
    """
    _register_heif()
    metadata: dict[str, Any] = {}
    flags: set[str] = set()
    image_format = ""
    walk = _walk(path)
    if walk is not None and walk.metadata_blocks > imagewalk.MAX_METADATA_BLOCKS:
        raise ParseError(_TOO_MANY_BLOCKS)
    with pixel_limit(limits.max_image_pixels):
        declared = webp_size(path)
        if declared and declared[0] * declared[1] > limits.max_image_pixels:
            # libwebp allocates its canvas while opening, so refuse before Pillow does.
            raise ParseError(_BOMB, metadata={"width": declared[0], "height": declared[1]})
        try:
            with Image.open(path, formats=_FORMATS) as im:
                image_format = im.format or ""
                metadata.update(width=im.width, height=im.height)
                _describe(im, path, metadata, flags)
                complete = _tiff_complete(im, path.stat().st_size) if image_format == "TIFF" else True
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            size: dict[str, Any] = ({k: metadata[k] for k in ("width", "height") if k in metadata}
                                    or _declared_size(path))
            raise ParseError(_BOMB, metadata=size) from e
        except UnidentifiedImageError as e:
            raise ParseError(f"damaged image: the file is not a readable {_KINDS} image") from e
        except _DAMAGED as e:
            raise ParseError("damaged image: its header or metadata cannot be read",
                             metadata=metadata, flags=flags) from e
    if walk is not None:
        complete = walk.complete
    if not complete:
        raise ParseError(_TRUNCATED, metadata=metadata, flags=flags)
    return Parsed(metadata=metadata, flags=frozenset(flags))


@contextmanager
def pixel_limit(limit: int) -> Iterator[None]:
    """Pillow's bomb guard at ``limit`` for one call, with its warning made an error.

    Pillow's other warnings are silenced: a damaged TIFF says "Tag data larger
    than file" once per tag, thousands of lines in the function's log.
    """
    with _PIXEL_LIMIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _declared_size(path: Path) -> dict[str, int]:
    """Width/height a refused image declares, re-read from its header alone.

    Pillow raises the bomb error before handing out the image object, so the
    header is opened again with the guard off. ``Image.open`` only parses
    headers (and WEBP, whose decoder allocates on open, never gets here).
    """
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path, formats=_FORMATS) as im:
            return {"width": im.width, "height": im.height}
    except (*_DAMAGED, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return {}
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def webp_size(path: Path) -> tuple[int, int] | None:
    """The canvas size a WEBP header declares, or None for other files."""
    with path.open("rb") as f:
        head = f.read(30)
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        return (int.from_bytes(head[26:28], "little") & 0x3FFF,
                int.from_bytes(head[28:30], "little") & 0x3FFF)
    return None


def _walk(path: Path) -> imagewalk.Walk | None:
    """The structure walk of a JPEG or PNG (by its first bytes), None for other images."""
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\xff\xd8"):
        return imagewalk.jpeg_walk(path)
    if head == b"\x89PNG\r\n\x1a\n":
        return imagewalk.png_walk(path)
    return None


def _frames(im: Image.Image, path: Path) -> tuple[int, str]:
    """Frames (pages) of an image, and a note when they were counted only up to a cap.

    Pillow counts TIFF pages and GIF frames by reading every one in Python:
    TIFF pages are counted by :func:`~extractor.formats.imagewalk.tiff_pages`
    instead, and GIF frames up to :data:`MAX_GIF_FRAMES` only.
    """
    if im.format == "TIFF":
        pages, capped = imagewalk.tiff_pages(path)
        return pages, f"pages counted up to {pages:,}" if capped else ""
    if isinstance(im, GifImagePlugin.GifImageFile):
        frames = 1
        try:
            while frames < MAX_GIF_FRAMES:
                im._seek(frames, False)  # what n_frames does, without decoding; public seek() decodes
                frames += 1
        except EOFError:
            return frames, ""
        finally:
            im.seek(0)
        return frames, f"frames counted up to {frames:,}"
    return int(getattr(im, "n_frames", 1) or 1), ""


def _describe(im: Image.Image, path: Path, metadata: dict[str, Any], flags: set[str]) -> None:
    """Fill ``metadata``/``flags`` from an opened image without decoding its pixels."""
    metadata["mode"] = im.mode
    dpi = _dpi(im.info.get("dpi"))
    tiff_tags = getattr(im, "tag_v2", None)
    if tiff_tags is not None and not all(t in tiff_tags for t in _TIFF_RESOLUTION):
        dpi = None  # Pillow reports 1 dpi for a TIFF that records no resolution at all
    if dpi:
        metadata["dpi"] = dpi
    metadata["frames"], note = _frames(im, path)
    if note:
        metadata["note"] = note

    exif = _exif_fields(im)
    xmp = _xmp_fields(_xmp_packet(im))
    text = {"title": _text(im.info.get("Title")), "author": _text(im.info.get("Author"))}
    for name in ("camera_make", "camera_model", "taken_at", "orientation"):
        if exif.get(name) is not None:
            metadata[name] = exif[name]
    for name in ("title", "author"):  # XMP is the richest and most deliberate, PNG text the least
        value = xmp.get(name) or exif.get(name) or text[name]
        if value:
            metadata[name] = value
    if "gps_latitude" in exif and "gps_longitude" in exif:
        metadata["gps_latitude"] = exif["gps_latitude"]
        metadata["gps_longitude"] = exif["gps_longitude"]
        flags.add(Flag.GPS)


def _dpi(value: Any) -> list[float] | None:
    """``[x, y]`` rounded to 2 decimals, or None when absent or meaningless (0, NaN)."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        return None
    numbers = [_number(v) for v in value]
    if any(n is None or n <= 0 for n in numbers):
        return None
    return [round(n, 2) for n in numbers if n is not None]


def _exif_fields(im: Image.Image) -> dict[str, Any]:
    """Camera, time, orientation, place and title/author from EXIF; {} when absent or unreadable."""
    if im.format == "PNG" and "exif" not in im.info:
        return {}  # PngImageFile.getexif() would decode the whole image to look for a late eXIf chunk
    try:
        exif = im.getexif()
        base = {tag: exif.get(tag) for tag in _BASE_TAGS}  # not all: a TIFF page can have 60,000 tags
        exif_ifd: Mapping[int, Any] = exif.get_ifd(_IFD_EXIF) if _IFD_EXIF in exif else {}
        gps: Mapping[int, Any] = exif.get_ifd(_IFD_GPS) if _IFD_GPS in exif else {}
    except _DAMAGED:
        return {}  # a broken EXIF block costs its fields, not the whole image
    fields: dict[str, Any] = {
        "camera_make": _text(base.get(_TAG_MAKE)),
        "camera_model": _text(base.get(_TAG_MODEL)),
        "taken_at": _iso_time(exif_ifd.get(_TAG_DATETIME_ORIGINAL) or base.get(_TAG_DATETIME_ORIGINAL)),
        "title": _text(base.get(_TAG_DESCRIPTION)),
        "author": _text(base.get(_TAG_ARTIST)),
    }
    orientation = base.get(_TAG_ORIENTATION)
    if isinstance(orientation, int) and 1 <= orientation <= 8:
        fields["orientation"] = orientation
    latitude = _degrees(gps.get(2), gps.get(1), 90.0)
    longitude = _degrees(gps.get(4), gps.get(3), 180.0)
    if latitude is not None and longitude is not None:
        fields.update(gps_latitude=latitude, gps_longitude=longitude)
    return {k: v for k, v in fields.items() if v not in (None, "")}


def _number(value: Any) -> float | None:
    """A finite float from an EXIF number or (numerator, denominator) pair, else None."""
    try:
        number = value[0] / value[1] if isinstance(value, tuple) and len(value) == 2 else float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _degrees(value: Any, ref: Any, limit: float) -> float | None:
    """Signed decimal degrees (6 decimals) from EXIF degrees/minutes/seconds and N/S/E/W."""
    if not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    parts = [_number(p) for p in value]
    if any(p is None or p < 0 for p in parts):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts) if p is not None)
    if degrees > limit:
        return None
    if (_text(ref) or "").upper().startswith(("S", "W")):
        degrees = -degrees
    return round(float(degrees), 6)


def _iso_time(value: Any) -> str | None:
    """EXIF "2026:01:02 03:04:05" as ISO 8601 "2026-01-02T03:04:05"; None when unset or invalid."""
    text = _text(value)
    if not text:
        return None
    for pattern in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text[:19], pattern).isoformat()
        except ValueError:
            continue
    return None


def _text(value: Any) -> str | None:
    """A metadata string without the NUL padding and blanks writers leave; None when empty."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    return str(value).replace("\x00", "").strip() or None


def _xmp_packet(im: Image.Image) -> bytes | None:
    """The raw XMP packet Pillow found (JPEG APP1, PNG iTXt, TIFF tag 700, WEBP/HEIC chunk)."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = im.info.get(key)
        if isinstance(value, str):
            value = value.encode("utf-8")
        if isinstance(value, bytes | bytearray) and value:
            return bytes(value)
    return None


def _xmp_fields(packet: bytes | None) -> dict[str, str]:
    """dc:title and dc:creator from an XMP packet.

    Parsed with defusedxml, DTDs and entities forbidden: a packet that tries
    them (billion laughs, external entities) is ignored, never expanded, and
    so is one that is not well-formed, because the rest of the image is fine.
    """
    if not packet or len(packet) > _MAX_XMP:
        return {}
    try:
        root = SafeElementTree.fromstring(packet.strip(b"\x00 \t\r\n"), forbid_dtd=True,
                                          forbid_entities=True, forbid_external=True)
    except (SafeElementTree.ParseError, DefusedXmlException, ValueError):
        return {}
    fields = {"title": _xmp_value(root, "title", join=False),
              "author": _xmp_value(root, "creator", join=True)}
    return {k: v for k, v in fields.items() if v}


def _xmp_value(root: Element, name: str, *, join: bool) -> str | None:
    """A Dublin Core property, in element (rdf:Alt/Seq/Bag or text) or attribute form.

    Language alternatives give their x-default (else first) entry; lists such
    as several creators are joined with "; " when ``join``.
    """
    tag = f"{{{_NS_DC}}}{name}"
    for element in root.iter(tag):
        items = list(element.iter(f"{{{_NS_RDF}}}li"))
        if not items:
            if value := _text(element.text):
                return value
            continue
        chosen = [li for li in items if li.get(_XML_LANG) == "x-default"] or items
        values = [v for li in chosen if (v := _text(li.text))]
        if values:
            return "; ".join(values) if join else values[0]
    for element in root.iter():
        if value := _text(element.get(tag)):
            return value
    return None


def _tiff_complete(im: Image.Image, size: int) -> bool:
    """False when the first page's strips or tiles lie past the end of the file."""
    tags = getattr(im, "tag_v2", None)
    if tags is None:
        return True
    try:
        for offsets_tag, counts_tag in zip(_TIFF_OFFSETS, _TIFF_COUNTS, strict=True):
            offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
            if offsets is None or counts is None:
                continue
            offsets = offsets if isinstance(offsets, tuple) else (offsets,)
            counts = counts if isinstance(counts, tuple) else (counts,)
            if any(int(o) + int(c) > size for o, c in zip(offsets, counts, strict=False)):
                return False
    except (TypeError, ValueError):
        return True
    return True
