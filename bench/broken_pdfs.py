"""Broken PDFs of our own: the damage real intake is full of, built byte by byte.

Scanners, office suites and broken generators write PDFs whose cross-reference
table is off, missing or cut short, whose trailer or ``%%EOF`` is gone, whose
incremental updates point nowhere, or whose page tree is huge. Viewers open
most of them by rebuilding the table; so must the extractor, quickly. Each
generator here is deterministic; :func:`generate` also writes a truncated copy
of each (the file cut short, as an interrupted transfer leaves it).

``BROKEN`` says what the extractor must make of each file and of its cut copy:
its status, the flags it must carry and the page count it must find.
"""

from __future__ import annotations

import io
import random
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_WORDS = ("invoice", "quarter", "budget", "report", "minutes", "contract", "annex", "delivery", "review",
          "policy", "summary", "forecast", "account", "region", "supplier", "audit")


class _Writer:
    """Objects laid out in order, with their offsets remembered for the cross-reference table."""

    def __init__(self, version: bytes = b"1.7") -> None:
        self.out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
        self.offsets: dict[int, int] = {}

    def add(self, number: int, body: bytes) -> None:
        self.offsets[number] = len(self.out)
        self.out += b"%d 0 obj\n" % number + body + b"\nendobj\n"

    def table(self, *, shift: int = 0, numbers: list[int] | None = None) -> int:
        """A classic xref table (offsets moved by ``shift`` to damage it); returns its offset."""
        start = len(self.out)
        numbers = sorted(self.offsets) if numbers is None else numbers
        if numbers == sorted(self.offsets):
            self.out += b"xref\n0 %d\n0000000000 65535 f \n" % (max(numbers) + 1)
            self.out += b"".join(b"%010d 00000 n \n" % (self.offsets[n] + shift) for n in numbers)
        else:  # an update section: one subsection per object
            self.out += b"xref\n" + b"".join(
                b"%d 1\n%010d 00000 n \n" % (n, self.offsets[n] + shift) for n in numbers)
        return start

    def trailer(self, xref: int, *, size: int, extra: bytes = b"", eof: bool = True) -> None:
        self.out += b"trailer\n<< /Size %d /Root 1 0 R /Info 2 0 R%s >>\n" % (size, extra)
        self.out += b"startxref\n%d\n" % xref
        if eof:
            self.out += b"%%EOF\n"

    def bytes(self) -> bytes:
        return bytes(self.out)


def _text(rng: random.Random, words: int) -> bytes:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).encode()


def _content(rng: random.Random, lines: int) -> bytes:
    """A page's content stream: ``lines`` lines of text, deflated as generators write them."""
    body = b"\n".join(b"BT /F1 10 Tf 50 %d Td (%s) Tj ET" % (780 - 12 * i, _text(rng, 9))
                      for i in range(lines))
    packed = zlib.compress(body, 6)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"


def _document(pages: int, *, lines: int = 40, seed: int = 1, version: bytes = b"1.7",
              title: bytes = b"Annual report", fanout: int = 0) -> _Writer:
    """Catalog (1), Info (2), font (3), page tree (4 ...), then pages and their contents.

    ``fanout`` > 0 builds a balanced page tree of that many kids per node
    (large documents); 0 puts every page directly under the root.
    """
    rng = random.Random(seed)
    w = _Writer(version)
    w.add(1, b"<< /Type /Catalog /Pages 4 0 R >>")
    w.add(2, b"<< /Title (%s) /Author (Records Office) /Producer (Broken Generator 2.1)"
             b" /CreationDate (D:20240105093000Z) >>" % title)
    w.add(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    next_number = 5
    leaves: list[int] = []
    page_numbers = list(range(next_number, next_number + 2 * pages, 2))
    next_number += 2 * pages
    # The page tree: lists of kids grouped by fanout until one root remains.
    level = page_numbers
    parents: dict[int, int] = {}
    nodes: list[tuple[int, list[int], int]] = []  # number, kids, leaf count
    counts = dict.fromkeys(page_numbers, 1)
    while fanout and len(level) > fanout:
        grouped = []
        for i in range(0, len(level), fanout):
            kids = level[i:i + fanout]
            number = next_number
            next_number += 1
            counts[number] = sum(counts[k] for k in kids)
            nodes.append((number, kids, counts[number]))
            parents.update(dict.fromkeys(kids, number))
            grouped.append(number)
        level = grouped
    parents.update(dict.fromkeys(level, 4))
    w.add(4, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in level), pages))
    for number, kids, count in nodes:
        w.add(number, b"<< /Type /Pages /Parent %d 0 R /Kids [%s] /Count %d >>" % (
            parents[number], b" ".join(b"%d 0 R" % k for k in kids), count))
    for number in page_numbers:
        w.add(number, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595.28 841.89] /Contents %d 0 R"
                      b" /Resources << /Font << /F1 3 0 R >> >> >>" % (parents[number], number + 1))
        w.add(number + 1, _content(rng, lines))
        leaves.append(number)
    return w


def _size(w: _Writer) -> int:
    return max(w.offsets) + 1


def damaged_xref() -> bytes:
    """The intake case that took 14.6 s: 430 pages, about 1.6 MB, every xref offset wrong."""
    w = _document(430, lines=170)
    w.trailer(w.table(shift=17), size=_size(w))
    return w.bytes()


def missing_xref() -> bytes:
    """No table and no ``startxref`` at all; only a trailer."""
    w = _document(40)
    w.out += b"trailer\n<< /Size %d /Root 1 0 R /Info 2 0 R >>\n%%%%EOF\n" % _size(w)
    return w.bytes()


def startxref_past_end() -> bytes:
    """``startxref`` points beyond the end of the file."""
    w = _document(40)
    w.table()
    w.trailer(len(w.out) * 3, size=_size(w))
    return w.bytes()


def missing_eof() -> bytes:
    """A correct table and trailer, but no ``%%EOF`` marker."""
    w = _document(40)
    w.trailer(w.table(), size=_size(w), eof=False)
    return w.bytes()


def missing_trailer() -> bytes:
    """A table with no trailer dictionary: the catalog must be found by its type."""
    w = _document(40)
    xref = w.table()
    w.out += b"startxref\n%d\n%%%%EOF\n" % xref
    return w.bytes()


def incremental_update() -> bytes:
    """A valid incremental update that replaces the Info dictionary (the new title wins)."""
    w = _document(12)
    first = w.table()
    w.trailer(first, size=_size(w))
    w.add(2, b"<< /Title (Annual report, revised) /Author (Records Office)"
             b" /Producer (Broken Generator 2.1) >>")
    w.trailer(w.table(numbers=[2]), size=_size(w), extra=b" /Prev %d" % first)
    return w.bytes()


def wrong_prev() -> bytes:
    """An update whose ``/Prev`` points into the middle of a page's content."""
    w = _document(40)
    first = w.table()
    w.trailer(first, size=_size(w))
    w.add(2, b"<< /Title (Revised) /Producer (Broken Generator 2.1) >>")
    w.trailer(w.table(numbers=[2]), size=_size(w), extra=b" /Prev %d" % (first // 2))
    return w.bytes()


def prev_loop() -> bytes:
    """Two update sections whose ``/Prev`` entries point at each other."""
    w = _document(40)
    w.trailer(w.table(), size=_size(w))
    w.add(2, b"<< /Title (Loop) >>")
    first = w.table(numbers=[2])
    w.trailer(first, size=_size(w), extra=b" /Prev 0000000000")
    placeholder = w.out.rindex(b"/Prev 0000000000") + len(b"/Prev ")
    second = w.table(numbers=[2])
    w.trailer(second, size=_size(w), extra=b" /Prev %d" % first)
    w.out[placeholder:placeholder + 10] = b"%010d" % second
    return w.bytes()


def object_streams(page_entries: bytes = b"") -> bytes:
    """PDF 1.5: pages packed in an object stream, indexed by a cross-reference stream.

    ``page_entries`` go into every page dictionary (inside the packed stream).
    """
    rng = random.Random(5)
    pages = 60
    w = _Writer(b"1.5")
    w.add(1, b"<< /Type /Catalog /Pages 4 0 R >>")
    w.add(2, b"<< /Title (Packed report) /Author (Records Office) >>")
    w.add(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_numbers = list(range(5, 5 + pages))
    content_numbers = list(range(5 + pages, 5 + 2 * pages))
    for content in content_numbers:
        w.add(content, _content(rng, 30))
    kids = b" ".join(b"%d 0 R" % p for p in page_numbers)
    packed = [(4, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages))]
    packed += [(p, b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
                   b" /Resources << /Font << /F1 3 0 R >> >>%s >>" % (c, page_entries))
               for p, c in zip(page_numbers, content_numbers, strict=True)]
    header, bodies = b"", b""
    for number, body in packed:
        header += b"%d %d " % (number, len(bodies))
        bodies += body + b"\n"
    stream_number = 5 + 2 * pages
    data = zlib.compress(header + bodies)
    w.add(stream_number, b"<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
          % (len(packed), len(header), len(data)) + data + b"\nendstream")
    xref_number = stream_number + 1
    xref_offset = len(w.out)
    w.offsets[xref_number] = xref_offset
    in_stream = {number: index for index, (number, _) in enumerate(packed)}
    rows = bytearray(b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff")
    for number in range(1, xref_number + 1):
        if number in in_stream:
            rows += b"\x02" + stream_number.to_bytes(4, "big") + in_stream[number].to_bytes(2, "big")
        else:
            rows += b"\x01" + w.offsets[number].to_bytes(4, "big") + b"\x00\x00"
    index = zlib.compress(bytes(rows))
    w.out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Info 2 0 R /Length %d"
              b" /Filter /FlateDecode >>\nstream\n" % (xref_number, xref_number + 1, len(index))
              + index + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_offset)
    return w.bytes()


def ten_thousand_pages() -> bytes:
    """10,000 pages in a balanced tree (fan-out 10), each with a short text line."""
    w = _document(10_000, lines=1, fanout=10)
    w.trailer(w.table(), size=_size(w))
    return w.bytes()


def ten_thousand_pages_flat() -> bytes:
    """10,000 pages as one flat /Kids array, with the xref damaged as well."""
    w = _document(10_000, lines=1)
    w.trailer(w.table(shift=3), size=_size(w))
    return w.bytes()


def heavy_first_page() -> bytes:
    """245 KB whose first page deflates to 100 MB of drawing: 7.7 s to load in PDFium, minutes to draw."""
    w = _Writer()
    w.add(1, b"<< /Type /Catalog /Pages 4 0 R >>")
    w.add(2, b"<< /Title (Site plan) /Producer (Broken Generator 2.1) >>")
    w.add(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    w.add(4, b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>")
    w.add(5, b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 595.28 841.89] /Contents 6 0 R >>")
    packed = zlib.compress(b"0 0 m 595 841 l S\n" * 5_600_000, 9)
    w.add(6, b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream")
    w.trailer(w.table(), size=_size(w))
    return w.bytes()


def owner_password_only() -> bytes:
    """Encrypted with an empty user password (only permissions locked): opens without a password."""
    return _encrypted(user="")


def needs_password() -> bytes:
    """Encrypted with a user password: nobody can open it without one."""
    return _encrypted(user="s3cret")


def _encrypted(user: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = _document(7)
    w.trailer(w.table(), size=_size(w))
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(w.bytes())))
    writer.encrypt(user_password=user, owner_password="owner", algorithm="AES-256")  # noqa: S106 - a test file
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Expected:
    """What the extractor must make of one broken PDF (``pages`` None: not asserted)."""

    status: str
    flags: frozenset[str]
    pages: int | None


@dataclass(frozen=True)
class Case:
    """A broken PDF, what the extractor must make of it, and of its truncated copy."""

    make: Callable[[], bytes]
    whole: Expected
    cut: Expected


_DAMAGED = frozenset({"damaged"})
_SOUND = frozenset[str]()
_ENCRYPTED = frozenset({"encrypted"})
_PROTECTED = frozenset({"password_protected"})
#: A copy cut short keeps its objects but loses the trailer; the catalog is found and the rest rebuilt
#: (encryption included: what was encrypted cannot be told any more, so no text layer is judged).
_CUT = Expected("processed", _DAMAGED, None)
BROKEN: dict[str, Case] = {
    "damaged-xref": Case(damaged_xref, Expected("processed", _DAMAGED, 430), _CUT),
    "missing-xref": Case(missing_xref, Expected("processed", _DAMAGED, 40), _CUT),
    "startxref-past-end": Case(startxref_past_end, Expected("processed", _DAMAGED, 40), _CUT),
    "missing-eof": Case(missing_eof, Expected("processed", _DAMAGED, 40), _CUT),
    "missing-trailer": Case(missing_trailer, Expected("processed", _DAMAGED, 40), _CUT),
    "incremental-update": Case(incremental_update, Expected("processed", _SOUND, 12), _CUT),
    "wrong-prev": Case(wrong_prev, Expected("processed", _DAMAGED, 40), _CUT),
    "prev-loop": Case(prev_loop, Expected("processed", _DAMAGED, 40), _CUT),
    # Cut short, the pages inside the object stream lose the index that says where they are.
    "object-streams": Case(object_streams, Expected("processed", _SOUND, 60),
                           Expected("failed", _SOUND, None)),
    "10000-pages": Case(ten_thousand_pages, Expected("processed", _SOUND, 10_000), _CUT),
    "10000-pages-flat-damaged": Case(ten_thousand_pages_flat, Expected("processed", _DAMAGED, 10_000), _CUT),
    # Its text layer is not judged in time (a note says so), and it gets no preview.
    "heavy-first-page": Case(heavy_first_page, Expected("processed", _SOUND, 1), _CUT),
    "owner-password-only": Case(owner_password_only, Expected("processed", _ENCRYPTED, 7), _CUT),
    "needs-password": Case(needs_password, Expected("processed", _PROTECTED, 7), _CUT),
}

#: Where truncated copies are cut, as a share of the file.
TRUNCATE_AT = 0.6


def truncated(data: bytes) -> bytes:
    """The first :data:`TRUNCATE_AT` of a file, as an interrupted transfer leaves it."""
    return data[: int(len(data) * TRUNCATE_AT)]


def generate(out: Path, *, truncate: bool = True) -> list[Path]:
    """Write every broken PDF (and a truncated copy of each) to ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, case in BROKEN.items():
        data = case.make()
        paths.append(out / f"broken-{name}.pdf")
        paths[-1].write_bytes(data)
        if truncate:
            paths.append(out / f"broken-{name}-truncated.pdf")
            paths[-1].write_bytes(truncated(data))
    return paths


def main() -> None:
    """``python -m bench.broken_pdfs DIR``: write the broken PDFs to DIR."""
    for path in generate(Path(sys.argv[1] if len(sys.argv) > 1 else "broken-pdfs")):
        print(f"{path.stat().st_size:>10,}  {path}")


if __name__ == "__main__":
    main()
