"""Walks over an image's structure that decode nothing: JPEG segments, PNG chunks, TIFF pages. Pure.

They notice a file cut short, and they bound what Pillow is asked to do:
Pillow reads every JPEG segment and PNG chunk before the picture, and every
TIFF page when it counts them, one Python call each, which for a 5 MB file of
a million empty segments takes seconds. The walks read a few bytes per block
and trust a declared length only as a seek distance, never an allocation.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Metadata blocks (JPEG segments, PNG chunks) before the picture that a file may have and
#: still be given to Pillow; real ones have tens, a heavily tagged photo a few hundred.
MAX_METADATA_BLOCKS = 10_000
#: TIFF pages counted; a real multipage TIFF (a fax, a scanned file) has up to thousands.
MAX_PAGES = 100_000
#: PNG chunks walked in all, so a file of tiny chunks after its picture cannot keep the walk busy.
_MAX_CHUNKS = 100_000
_READ = 1024 * 1024
_PNG_START = 8


@dataclass(frozen=True)
class Walk:
    """What a walk over a JPEG's segments or a PNG's chunks found."""

    #: False when the file ends before its structure does (it was cut short).
    complete: bool
    #: Segments or chunks before the picture data, counted up to just past :data:`MAX_METADATA_BLOCKS`.
    metadata_blocks: int


def jpeg_walk(path: Path) -> Walk:
    """Whether a JPEG reaches its End Of Image marker, and how many segments precede its first scan.

    The segments before the first scan are skipped by their lengths (so an
    EXIF thumbnail's own markers are not mistaken for the image's); inside
    scan data 0xFF is always escaped, so the first FFD9 after it is the end.
    Anything the walk does not understand counts as complete: this check
    must never call a good photo damaged. The walk stops after
    :data:`MAX_METADATA_BLOCKS` segments.
    """
    size = path.stat().st_size
    segments = 0
    with path.open("rb") as f:
        if f.read(2) != b"\xff\xd8":
            return Walk(True, 0)
        position = 2
        while segments <= MAX_METADATA_BLOCKS:
            f.seek(position)
            marker = f.read(2)
            if len(marker) < 2:
                return Walk(False, segments)
            if marker[0] != 0xFF:
                return Walk(True, segments)
            segments += 1
            if marker[1] == 0xFF:  # fill byte before a marker
                position += 1
                continue
            if marker[1] == 0xD9:
                return Walk(True, segments)
            if 0xD0 <= marker[1] <= 0xD8 or marker[1] == 0x01:  # markers without a length
                position += 2
                continue
            length_bytes = f.read(2)
            if len(length_bytes) < 2:
                return Walk(False, segments)
            length = int.from_bytes(length_bytes, "big")
            if length < 2:
                return Walk(True, segments)
            position += 2 + length
            if position > size:
                return Walk(False, segments)
            if marker[1] == 0xDA:
                return Walk(_has_end_marker(f, position), segments)
        return Walk(True, segments)


def _has_end_marker(f: IO[bytes], position: int) -> bool:
    """True when FFD9 occurs at or after ``position``; reads in bounded chunks."""
    f.seek(position)
    previous = b""
    while chunk := f.read(_READ):
        if b"\xff\xd9" in previous + chunk:
            return True
        previous = chunk[-1:]
    return False


def png_walk(path: Path) -> Walk:
    """Whether a PNG's chunks reach IEND within the file, and how many precede its first IDAT.

    Chunks are skipped by their declared lengths, reading 8 bytes each. The
    walk stops once more than :data:`MAX_METADATA_BLOCKS` chunks came before
    the picture, or after :data:`_MAX_CHUNKS` in all (the file then counts
    as complete).
    """
    size = path.stat().st_size
    before_data: int | None = None
    with path.open("rb") as f:
        position = _PNG_START
        for count in range(_MAX_CHUNKS):
            if before_data is None and count > MAX_METADATA_BLOCKS:
                return Walk(True, count)
            f.seek(position)
            header = f.read(8)
            if len(header) < 8:
                return Walk(False, count if before_data is None else before_data)
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IDAT" and before_data is None:
                before_data = count
            if kind == b"IEND":
                return Walk(True, count if before_data is None else before_data)
            position += 12 + length
            if position > size:
                return Walk(False, count if before_data is None else before_data)
    return Walk(True, _MAX_CHUNKS if before_data is None else before_data)


def tiff_pages(path: Path) -> tuple[int, bool]:
    """Pages of a TIFF (or BigTIFF), counted as Pillow does, and whether the count stopped at the cap.

    Pillow counts by loading every page's tags; here each page costs two
    small reads: its entry count, then the offset of the next page. A chain
    that comes back to a page it has been through ends there, as in Pillow,
    and so does one that leaves the file. At most :data:`MAX_PAGES` are counted.
    """
    with path.open("rb") as f:
        head = f.read(16)
        order = "<" if head[:2] == b"II" else ">"
        big = len(head) >= 16 and struct.unpack_from(order + "H", head, 2)[0] == 43
        count_format, entry_size, offset_format = ("Q", 20, "Q") if big else ("H", 12, "I")
        count_size, offset_size = struct.calcsize(count_format), struct.calcsize(offset_format)
        offset = struct.unpack_from(order + offset_format, head, 8 if big else 4)[0]
        seen: set[int] = set()
        while offset and offset not in seen:
            if len(seen) == MAX_PAGES:
                return len(seen), True
            seen.add(offset)
            f.seek(offset)
            raw = f.read(count_size)
            if len(raw) < count_size:
                break
            f.seek(offset + count_size + struct.unpack(order + count_format, raw)[0] * entry_size)
            raw = f.read(offset_size)
            if len(raw) < offset_size:
                break
            offset = struct.unpack(order + offset_format, raw)[0]
    return max(len(seen), 1), False
