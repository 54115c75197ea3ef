"""Files of real formats, built by hand by the tests themselves."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib


def tiny_pdf(text: str = "Hello DocPortal") -> bytes:
    """A valid one-page PDF with a text layer, built by hand."""
    return build_pdf(_one_page(text))


def padded_pdf(size: int, text: str = "Large report") -> bytes:
    """A valid one-page PDF of about ``size`` bytes: the page of :func:`tiny_pdf` and an unused stream of noise."""
    noise = os.urandom(max(0, size - 1000))
    return build_pdf([*_one_page(text), b"<< /Length %d >>\nstream\n" % len(noise) + noise + b"\nendstream"])


def _one_page(text: str) -> list[bytes]:
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def build_pdf(objects: list[bytes], *, version: bytes = b"1.7", info: int | None = None) -> bytes:
    """A PDF whose object n is ``objects[n - 1]``, with a correct xref; the catalog is object 1."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    info_ref = b" /Info %d 0 R" % info if info else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, info_ref, xref)
    return bytes(out)


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` but carries almost no data: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip holding ``members`` in this order, as ``zipfile`` writes it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def declaring(archive: bytes, entries: int, *, zip64: bool = False) -> bytes:
    """``archive`` (a zip without a comment) whose end records declare ``entries`` entries.

    With ``zip64`` the count is in ZIP64 end records and the classic one says
    0xFFFF, as writers do past 65,535 entries. The central directory is unchanged.
    """
    end = archive[-22:]
    signature, disk, cd_disk, _, _, size, offset, comment = struct.unpack("<4s4H2LH", end)
    assert signature == b"PK\x05\x06" and comment == 0
    body = archive[:-22]
    if not zip64:
        count = min(entries, 0xFFFF)
        return body + struct.pack("<4s4H2LH", signature, disk, cd_disk, count, count, size, offset, 0)
    end64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    return body + end64 + locator + struct.pack("<4s4H2LH", signature, 0, 0, 0xFFFF, 0xFFFF, size, offset, 0)
