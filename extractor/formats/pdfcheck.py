"""Is a PDF's file structure sound? And a last-resort repair when a reader cannot open it.

PDFium rebuilds a broken cross-reference table silently, so whether a file is
*damaged* is told here, from the bytes, the way a careful viewer checks them:
an end-of-file marker, a ``startxref`` that points at a cross-reference
section, every entry of a classic table pointing at the object it names, and a
chain of earlier revisions (``/Prev``) that ends. Everything is bounded: a
fixed tail is searched, at most :data:`MAX_ENTRIES` entries and
:data:`MAX_SECTIONS` sections are checked, and the regular expressions run
in C over a memory map, so a large file costs milliseconds.

:func:`with_trailer` is for files cut short or without a trailer: it finds the
catalog by its type and appends a trailer that points at it, which makes
PDFium rebuild the rest.
"""

from __future__ import annotations

import mmap
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Where readers look for the last ``%%EOF`` (Acrobat's 1,024 bytes).
EOF_WINDOW = 1024
#: Where the last ``startxref`` is looked for.
TAIL_WINDOW = 64 * 1024
#: Classic-table entries checked, and revisions followed, before the check stops (saying nothing).
MAX_ENTRIES = 200_000
MAX_SECTIONS = 1000
#: Catalog candidates tried by :func:`with_trailer`, and how far back its ``obj`` header may be.
_MAX_CATALOGS = 100
_HEADER_REACH = 2048

NO_EOF = "the end-of-file marker is missing"
NO_STARTXREF = "the pointer to the cross-reference table is missing"
STARTXREF_OUTSIDE = "the pointer to the cross-reference table points past the end of the file"
STARTXREF_WRONG = "the pointer to the cross-reference table points at something else"
ENTRIES_WRONG = "the cross-reference table points at the wrong places"
NO_TRAILER = "the trailer is missing"
PREV_WRONG = "an earlier revision's cross-reference section cannot be found"
PREV_LOOP = "the revisions' cross-reference sections refer to each other in a loop"
REBUILT = "the file is cut short or its structure is lost; it was rebuilt from what remains"

_STARTXREF = re.compile(rb"startxref\s*(\d{1,15})")
_OBJ_AT = re.compile(rb"\s*(\d{1,10})\s+(\d{1,5})\s+obj\b")
_XREF_AT = re.compile(rb"\s*xref\b")
_SUBSECTION = re.compile(rb"\s*(\d{1,10})\s+(\d{1,10})[ \t]*[\r\n]+")
_ENTRY = re.compile(rb"(\d{10})[ \t]+(\d{5})[ \t]+([nf])[ \t]*[\r\n]*")
#: Longest entry line accepted (the standard one is 20 bytes).
_ENTRY_MAX = 24
_TRAILER = re.compile(rb"\s*trailer\s*<<")
_PREV = re.compile(rb"/Prev\s+(\d{1,15})")
_XREF_STREAM = re.compile(rb"/Type\s*/XRef\b")
_CATALOG = re.compile(rb"/Type\s*/Catalog\b")
_OBJ_HEADERS = re.compile(rb"(\d{1,10})\s+(\d{1,5})\s+obj\b")


@contextmanager
def mapped(path: Path) -> Iterator[bytes | mmap.mmap]:
    """The file's bytes, memory-mapped (empty bytes for an empty file, which cannot be mapped)."""
    with path.open("rb") as f:
        if f.seek(0, 2) == 0:
            yield b""
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


def problems(data: bytes | mmap.mmap) -> tuple[str, ...]:
    """What is wrong with the file's structure, in words a person reads; empty when it is sound."""
    size = len(data)
    found: list[str] = []
    if data.rfind(b"%%EOF", max(0, size - EOF_WINDOW)) < 0:
        found.append(NO_EOF)
    tail = max(0, size - TAIL_WINDOW)
    at = data.rfind(b"startxref", tail)
    match = _STARTXREF.match(data, at) if at >= 0 else None
    if match is None:
        return (*found, NO_STARTXREF)
    first = int(match.group(1))
    if first >= size:
        return (*found, STARTXREF_OUTSIDE)
    offset: int | None = first
    sections = 0
    seen: set[int] = set()
    entries_left = MAX_ENTRIES
    while offset is not None and sections < MAX_SECTIONS:
        if offset in seen:
            found.append(PREV_LOOP)
            break
        seen.add(offset)
        sections += 1
        if offset >= size:
            found.append(PREV_WRONG)
            break
        if _XREF_AT.match(data, offset):
            wrong, trailer_at, entries_left = _check_table(data, offset, entries_left)
            if wrong:
                found.append(ENTRIES_WRONG)
            if trailer_at is None:
                found.append(NO_TRAILER)
                break
            offset = _prev(data, trailer_at)
        elif (obj := _OBJ_AT.match(data, offset)) and _XREF_STREAM.search(data, obj.end(), obj.end() + 2048):
            offset = _prev(data, obj.end())
        else:
            found.append(STARTXREF_WRONG if sections == 1 else PREV_WRONG)
            break
    return tuple(dict.fromkeys(found))


def _check_table(data: bytes | mmap.mmap, offset: int, budget: int) -> tuple[bool, int | None, int]:
    """Whether a classic table has entries pointing elsewhere; where its trailer starts; budget left.

    A subsection's entries are matched in one pass of C, and each object
    header is compared as bytes (``n g obj``, as writers lay it out) before
    the lenient pattern is tried: 20,000 entries take milliseconds.
    """
    match = _XREF_AT.match(data, offset)
    position = match.end() if match else offset
    wrong = False
    while (header := _SUBSECTION.match(data, position)) is not None:
        first, count = int(header.group(1)), int(header.group(2))
        position = header.end()
        chunk = data[position:position + count * _ENTRY_MAX]
        matched = end = 0
        for entry in _ENTRY.finditer(chunk):
            if matched == count or entry.start() != end:
                break
            number, matched, end = first + matched, matched + 1, entry.end()
            if wrong or entry.group(3) == b"f" or budget <= 0:  # one wrong entry is enough to tell
                continue
            budget -= 1
            target = int(entry.group(1))
            expected = b"%d %d obj" % (number, int(entry.group(2)))
            if data[target:target + len(expected)] != expected:
                obj = _OBJ_AT.match(data, target) if target < len(data) else None
                wrong = wrong or obj is None or int(obj.group(1)) != number
        if matched < count:
            return True, None, budget
        position += end
    trailer = _TRAILER.match(data, position)
    return wrong, (trailer.end() if trailer else None), budget


def _prev(data: bytes | mmap.mmap, start: int) -> int | None:
    """The ``/Prev`` offset of the trailer or stream dictionary starting at ``start``, or None.

    The dictionary ends where its stream or the ``startxref`` after it begins
    (at most 4 KiB on: real trailers take a few hundred bytes).
    """
    limit = start + 4096
    ends = [at for word in (b"stream", b"startxref") if (at := data.find(word, start, limit)) >= 0]
    match = _PREV.search(data, start, min(ends, default=limit))
    return int(match.group(1)) if match else None


def with_trailer(data: bytes | mmap.mmap) -> bytes | None:
    """The file with a trailer appended that points at its catalog; None when no catalog is found.

    The appended table lists nothing and its ``startxref`` is right, so a
    reader finds the trailer, sees no usable table and rebuilds one by scanning
    the objects, which is what viewers do with a file cut short.
    """
    for count, hit in enumerate(_CATALOG.finditer(data)):
        if count >= _MAX_CATALOGS:
            break
        start = max(0, hit.start() - _HEADER_REACH)
        headers = list(_OBJ_HEADERS.finditer(data, start, hit.start()))
        if not headers:
            continue
        number, generation = headers[-1].group(1), headers[-1].group(2)
        body = bytes(data)
        xref = len(body) + 1
        return body + (b"\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Root %s %s R >>\n"
                       b"startxref\n%d\n%%%%EOF\n" % (number, generation, xref))
    return None


#: What the scan looks for, as dictionaries show it: a script action (an action of type JavaScript,
#: or a /JS string or stream), an XMP packet and an interactive form.
_SCRIPT = re.compile(rb"/S\s*/JavaScript\b|/JS\s*(?:[(<\[]|\d+\s+\d+\s+R)")
_METADATA = re.compile(rb"/Metadata\b")
_FORM = re.compile(rb"/AcroForm\b")
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b")
_FLATE_ONLY = re.compile(rb"/Filter\s*(?:\[\s*)?/FlateDecode\s*\]?")
#: Object streams unpacked, and bytes they may unpack to in all, before the scan gives up.
MAX_OBJECT_STREAMS = 10_000
MAX_UNPACKED = 64 * 1024 * 1024


@dataclass(frozen=True)
class Markers:
    """Whether any object of the file is a script action, names an XMP packet, or holds a form."""

    script: bool
    metadata: bool
    form: bool


def markers(data: bytes | mmap.mmap) -> Markers | None:
    """What the file's objects hold; None when some objects could not be looked at.

    Dictionaries are plain text in a PDF, even in an encrypted one, except
    inside object streams, which are unpacked here (deflated ones, within
    :data:`MAX_UNPACKED`). A script action nothing points to still counts: the
    flag warns that the file carries scripts. This is a few passes of C over
    the bytes, where walking pages, annotations and fields with pypdf took
    seconds on large files; and a file without an XMP packet or a form needs
    no pypdf at all.
    """
    found = _markers(data)
    unpacked = 0
    for count, hit in enumerate(_OBJECT_STREAM.finditer(data)):
        if found.script and found.metadata and found.form:
            break
        if count >= MAX_OBJECT_STREAMS:
            return None
        start = data.find(b"stream", hit.end(), hit.end() + 4096)
        header = data[max(0, hit.start() - 4096):start] if start >= 0 else b""
        header = header[header.rfind(b"obj"):]
        if start < 0 or not _FLATE_ONLY.search(header) or b"/DecodeParms" in header:
            return None
        start += len(b"stream")
        start += 2 if data[start:start + 2] == b"\r\n" else 1
        end = data.find(b"endstream", start)
        if end < 0:
            end = len(data)
        inflate = zlib.decompressobj()
        try:
            body = inflate.decompress(data[start:end], MAX_UNPACKED - unpacked)
        except zlib.error:
            return None
        if inflate.unconsumed_tail:
            return None  # more than the scan may unpack
        unpacked += len(body)
        inner = _markers(body)
        found = Markers(script=found.script or inner.script, metadata=found.metadata or inner.metadata,
                        form=found.form or inner.form)
    return found


def _markers(data: bytes | mmap.mmap) -> Markers:
    return Markers(bool(_SCRIPT.search(data)), bool(_METADATA.search(data)), bool(_FORM.search(data)))
