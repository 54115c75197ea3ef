"""A reproducible, seeded corpus of realistic business files in every supported format.

The same seed gives the same files (byte for byte, except the time stamps
that zip-based writers put in and the e-mail's random MIME boundary), so
benchmark figures of two runs are comparable and a load test can be replayed. Files are written with
the libraries people's own tools use (python-docx, openpyxl, python-pptx,
Pillow, soundfile, pypdf), not faked headers.

By default files stay small (0.2 KB to a few MB) so a corpus is made in
seconds; ``large`` adds files of exact sizes (up to 50 MB) in the formats
whose bulk can be made cheaply (random samples, pixels, attachments, rows).
``hostile`` writes files that are hostile on purpose (bombs, entity
expansion, deep nesting, a million zip entries): the pipeline must fail exactly these, each with a
reason, and nothing else.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import struct
import wave
import zipfile
import zlib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from bench import broken_pdfs

WORDS = (
    "invoice", "quarterly", "revenue", "contract", "supplier", "delivery", "budget", "forecast",
    "audit", "payroll", "customer", "shipment", "warehouse", "compliance", "policy", "meeting",
    "minutes", "project", "milestone", "risk",
)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _pdf(rng: random.Random, scale: int) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for _ in range(rng.randint(1, 4 * scale)):
        page = writer.add_blank_page(612, 792)
        lines = [f"BT /F1 11 Tf 72 {720 - 14 * i} Td ({_sentence(rng, 8)}) Tj ET" for i in range(30)]
        stream = DecodedStreamObject()
        stream.set_data("\n".join(lines).encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    writer.add_metadata({"/Title": _sentence(rng, 3), "/Author": rng.choice(["Ana", "Ben", "Chloé"]),
                         "/Producer": "DocPortal corpus"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx(rng: random.Random, scale: int) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = _sentence(rng, 3)
    document.core_properties.author = rng.choice(["Ana", "Ben", "Chloé"])
    for _ in range(rng.randint(5, 40 * scale)):
        document.add_paragraph(_sentence(rng, rng.randint(5, 30)))
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).text = "total"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _xlsx(rng: random.Random, scale: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Ledger"
    for r in range(1, rng.randint(10, 200 * scale)):
        sheet.append([f"item {r}", rng.randint(1, 999), rng.random() * 100])
    sheet["E1"] = "=SUM(B:B)"
    book.create_sheet("Notes")["A1"] = _sentence(rng, 5)
    book.properties.title = _sentence(rng, 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pptx(rng: random.Random, scale: int) -> bytes:
    import pptx

    deck = pptx.Presentation()
    for _ in range(rng.randint(2, 8 * scale)):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = _sentence(rng, 3)
        slide.notes_slide.notes_text_frame.text = _sentence(rng, 6)
    deck.core_properties.title = _sentence(rng, 3)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _image(kind: str) -> Callable[[random.Random, int], bytes]:
    def make(rng: random.Random, scale: int) -> bytes:
        from PIL import Image

        size = (rng.randint(64, 640 * scale), rng.randint(64, 480 * scale))
        image = Image.new("RGB", size, tuple(rng.randint(0, 255) for _ in range(3)))
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "DocCam", "Model 7"  # Make, Model
        out = io.BytesIO()
        image.save(out, format=kind, **({"exif": exif} if kind in ("JPEG", "WEBP", "PNG") else {}))
        return out.getvalue()
    return make


def _csv(rng: random.Random, scale: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "account", "amount", "memo"])
    for i in range(rng.randint(10, 2000 * scale)):
        writer.writerow([f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", rng.randint(1000, 9999),
                         f"{rng.random() * 1000:.2f}", _sentence(rng, 4)])
    return out.getvalue().encode()


def _json(rng: random.Random, scale: int) -> bytes:
    return json.dumps({"orders": [{"id": i, "total": rng.random(), "note": _sentence(rng, 4)}
                                  for i in range(rng.randint(5, 500 * scale))]}).encode()


def _text(rng: random.Random, scale: int) -> bytes:
    return "\n".join(_sentence(rng, rng.randint(4, 20)) for _ in range(rng.randint(10, 800 * scale))).encode()


def _eml(rng: random.Random, scale: int) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "billing@example.com", "ap@example.org"
    message["Subject"] = _sentence(rng, 4)
    message["Date"] = "Mon, 02 Nov 2026 10:00:00 +0000"
    message.set_content(_sentence(rng, 40))
    message.add_attachment(_csv(rng, 1), maintype="text", subtype="csv", filename="lines.csv")
    return bytes(message)


def _wav_of(frames: bytes) -> bytes:
    """A mono 16-bit 8 kHz WAV file holding ``frames``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(frames)
    return out.getvalue()


def _wav(rng: random.Random, scale: int) -> bytes:
    return _wav_of(bytes(rng.getrandbits(8) for _ in range(16000 * scale)))


def _zip(rng: random.Random, scale: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(rng.randint(2, 10 * scale)):
            z.writestr(f"docs/file{i}.txt", _text(rng, 1))
    return out.getvalue()


#: extension -> generator(rng, scale); scale grows the file.
GENERATORS: dict[str, Callable[[random.Random, int], bytes]] = {
    "pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "pptx": _pptx, "jpg": _image("JPEG"), "png": _image("PNG"),
    "gif": _image("GIF"), "webp": _image("WEBP"), "tif": _image("TIFF"), "bmp": _image("BMP"),
    "csv": _csv, "json": _json, "txt": _text, "md": _text, "eml": _eml, "wav": _wav, "zip": _zip,
}


MB = 1_000_000
#: Exact sizes of the ``--large`` tier: 1 KB to 50 MB.
LARGE_SIZES = (1_000, 100_000, MB, 5 * MB, 20 * MB, 50 * MB)


def _rows_to(block: bytes, header: bytes, size: int) -> bytes:
    """``header`` then whole copies of ``block`` and a cut one, ``size`` bytes in all."""
    body = header + block * ((size - len(header)) // len(block) + 1)
    cut = body[:size]
    return cut[:cut.rfind(b"\n") + 1] if b"\n" in cut[len(header):] else cut


def _sized_csv(rng: random.Random, size: int) -> bytes:
    text = _csv(rng, 1)
    header, _, block = text.partition(b"\n")
    return _rows_to(block, header + b"\n", size).ljust(size, b" ")


def _sized_text(rng: random.Random, size: int) -> bytes:
    return _rows_to(_text(rng, 1) + b"\n", b"", size).ljust(size, b" ")


def _sized_wav(rng: random.Random, size: int) -> bytes:
    return _wav_of(rng.randbytes(max(2, (size - 44) // 2 * 2)))


def _sized_zip(rng: random.Random, size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("docs/readme.txt", _sentence(rng, 12))
        z.writestr("data/blob.bin", rng.randbytes(max(0, size - 300)))
    return out.getvalue()


def _sized_bmp(rng: random.Random, size: int) -> bytes:
    from PIL import Image

    width = 1000 if size > 300_000 else 16
    height = max(1, (size - 54) // (width * 3))
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="BMP")
    return out.getvalue()


def _sized_pdf(rng: random.Random, size: int) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(rng, 1))))
    writer.add_attachment("appendix.bin", rng.randbytes(max(0, size - 4_000)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


#: extension -> generator(rng, bytes) for files of a given size, made in O(size).
SIZED: dict[str, Callable[[random.Random, int], bytes]] = {
    "csv": _sized_csv, "txt": _sized_text, "wav": _sized_wav, "zip": _sized_zip, "bmp": _sized_bmp,
    "pdf": _sized_pdf,
}


#: An XML external entity that would read a local file.
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'


def billion_laughs() -> bytes:
    """Nine levels of nested entities: 10^9 "lol"s if expanded."""
    entities = b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                        for i in range(1, 10))
    return b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' + entities + b"]><lolz>&lol9;</lolz>"


def png_bomb() -> bytes:
    """A PNG whose header declares 60,000 x 60,000 pixels over a tiny data stream."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


def zip_bomb_docx() -> bytes:
    """A DOCX whose document part inflates to 16 MiB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as member:
            for _ in range(16):
                member.write(b"\x00" * 2**20)
    return out.getvalue()


def million_entries_zip(entries: int = 1_000_000) -> bytes:
    """A zip of ``entries`` empty stored files (52 bytes of central directory each, 52 MB for a million).

    Listing it the way ``zipfile`` does costs about 480 bytes of memory per
    entry. Every entry points at the one local header there is (only the
    listing matters) and the end records are ZIP64's, as the count needs.
    """
    names = [b"%06x" % i for i in range(entries)]
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 10, 0, 0, 0, 0, 0, 0, 0, len(names[0]), 0) + names[0]
    central = b"".join(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 10, 0, 0, 0, 0, 0, 0, 0,
                                   len(name), 0, 0, 0, 0, 0, 0) + name for name in names)
    end64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, len(central),
                        len(local))
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(local) + len(central), 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return local + central + end64 + locator + end


#: name -> content of files that are hostile on purpose; each must end ``failed``.
HOSTILE: dict[str, Callable[[], bytes]] = {
    "hostile-laughs.xml": billion_laughs,
    "hostile-xxe.xml": lambda: XXE,
    "hostile-bomb.png": png_bomb,
    "hostile-bomb.docx": zip_bomb_docx,
    "hostile-nested.json": lambda: b"[" * 200_000 + b"]" * 200_000,
    "hostile-entries.zip": million_entries_zip,
}


def generate(out: Path, count: int, seed: int = 7, max_scale: int = 3, large: tuple[int, ...] = (),
             hostile: bool = False, broken: bool = False) -> list[Path]:
    """Write ``count`` files into ``out``, cycling through every format; returns their paths.

    ``large`` adds one file per given size, cycling through :data:`SIZED`;
    ``hostile`` adds every file of :data:`HOSTILE`; ``broken`` every PDF of
    :data:`bench.broken_pdfs.BROKEN` and its truncated copy. They come after
    the ``count`` files, so they do not change those.
    """
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    kinds = sorted(GENERATORS)
    paths = []
    for i in range(count):
        ext = kinds[i % len(kinds)]
        path = out / f"{i:05d}-{ext}-{dt.date(2026, 1, 1) + dt.timedelta(days=i % 300)}.{ext}"
        path.write_bytes(GENERATORS[ext](rng, rng.randint(1, max_scale)))
        paths.append(path)
    paths += sized(out, large, seed)
    if hostile:
        for name, make in HOSTILE.items():
            (out / name).write_bytes(make())
            paths.append(out / name)
    if broken:
        paths += broken_pdfs.generate(out)
    return paths


def sized(out: Path, sizes: tuple[int, ...], seed: int = 7, kinds: tuple[str, ...] = ()) -> list[Path]:
    """One file of each size in ``sizes``, cycling through ``kinds`` (default: every sized format)."""
    rng = random.Random(seed * 1_000_003 + len(sizes))
    kinds = kinds or tuple(sorted(SIZED))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, size in enumerate(sizes):
        ext = kinds[i % len(kinds)]
        path = out / f"sized-{i:04d}-{size}.{ext}"
        path.write_bytes(SIZED[ext](rng, size))
        paths.append(path)
    return paths


def main() -> None:
    """``python -m bench.corpus OUT --count N --seed S``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=170)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--large", action="store_true", help=f"add files of {LARGE_SIZES} bytes")
    parser.add_argument("--hostile", action="store_true", help="add the files hostile on purpose")
    parser.add_argument("--broken", action="store_true",
                        help="add the broken PDFs and their truncated copies")
    args = parser.parse_args()
    paths = generate(args.out, args.count, args.seed, large=LARGE_SIZES if args.large else (),
                     hostile=args.hostile, broken=args.broken)
    print(f"{len(paths)} files, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
