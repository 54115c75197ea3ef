"""Zip parser on archives written with the stdlib zipfile, some patched byte by byte."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from extractor.formats import Limits, MiB, Parsed, ParseError
from extractor.formats.archive import parse_zip

LIMITS = Limits()


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding ``members`` in order; names ending in / are directories."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def mark_encrypted(data: bytes, name: str) -> bytes:
    """``data`` with the "encrypted" flag bit set on member ``name``, in its local and central headers."""
    out = bytearray(data)
    # (signature, offset of the flag bits, offset of the name length, offset of the name)
    for signature, flags_at, length_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            (length,) = struct.unpack_from("<H", out, start + length_at)
            if out[start + name_at: start + name_at + length] == name.encode():
                out[start + flags_at] |= 0x1
            start += len(signature)
    return bytes(out)


def parse(tmp_path: Path, data: bytes, limits: Limits = LIMITS) -> Parsed:
    """parse_zip on ``data`` saved as a file."""
    path = tmp_path / "archive.zip"
    path.write_bytes(data)
    return parse_zip(path, limits)


def test_every_field_with_a_nested_archive_and_an_encrypted_entry(tmp_path: Path) -> None:
    inner = make_zip({"deep.txt": b"deep"})
    data = make_zip({
        "docs/": b"",
        "docs/Q1.PDF": b"%PDF" * 100,
        "docs/q2.pdf": b"%PDF" * 50,
        "docs/notes.txt": b"hello",
        "README": b"read me",
        "backup/inner.zip": inner,
        "backup/logs.tar.gz": b"\x1f\x8b" + b"\x00" * 30,
        "secret.xlsx": b"PK" + b"\x00" * 40,
    })
    data = mark_encrypted(data, "secret.xlsx")
    parsed = parse(tmp_path, data)
    assert dict(parsed.metadata) == {
        "entries": 8,
        "uncompressed_bytes": 400 + 200 + 5 + 7 + len(inner) + 32 + 42,
        "member_types": {"pdf": 2, "(none)": 1, "gz": 1, "txt": 1, "xlsx": 1, "zip": 1},
        "encrypted_entries": 1,
        "nested_archives": 2,
    }
    assert parsed.flags == {"encrypted"}


def test_a_plain_archive_has_no_flags(tmp_path: Path) -> None:
    parsed = parse(tmp_path, make_zip({"a.csv": b"x,y\n", "b.CSV": b"1,2\n"}))
    assert dict(parsed.metadata) == {"entries": 2, "uncompressed_bytes": 8, "member_types": {"csv": 2},
                                     "encrypted_entries": 0, "nested_archives": 0}
    assert parsed.flags == frozenset()


def test_many_members_and_the_top_20_types(tmp_path: Path) -> None:
    members = {f"f{i:04d}.{chr(ord('a') + i % 25)}x": b"" for i in range(1000)}
    members.update({f"extra{i}.ax": b"1" for i in range(5)})
    parsed = parse(tmp_path, make_zip(members, zipfile.ZIP_STORED))
    assert parsed.metadata["entries"] == 1005
    assert parsed.metadata["uncompressed_bytes"] == 5
    types = parsed.metadata["member_types"]
    assert list(types.items())[:2] == [("ax", 45), ("bx", 40)]
    assert len(types) == 20
    assert list(types) == ["ax"] + [f"{chr(ord('b') + i)}x" for i in range(19)]


def test_declared_sizes_are_summed_without_decompressing(tmp_path: Path) -> None:
    data = make_zip({"zeros.bin": bytes(16 * MiB)})  # deflates to ~16 KiB
    parsed = parse(tmp_path, data, Limits(max_unpacked_bytes=1 * MiB))
    assert parsed.metadata["uncompressed_bytes"] == 16 * MiB


def test_an_empty_archive(tmp_path: Path) -> None:
    assert dict(parse(tmp_path, make_zip({})).metadata) == {
        "entries": 0, "uncompressed_bytes": 0, "encrypted_entries": 0, "nested_archives": 0}


@pytest.mark.parametrize(("name", "extension"), [
    (".bashrc", "(none)"), ("Makefile", "(none)"), ("x/y.TXT", "txt"), ("a.b.c.JSON", "json"),
    ("report v2.final draft", "(none)"), ("win\\path\\file.docx", "docx"), ("trailing.", "(none)"),
    ("data." + "x" * 40, "(none)"),
])
def test_extensions(tmp_path: Path, name: str, extension: str) -> None:
    assert parse(tmp_path, make_zip({name: b"1"})).metadata["member_types"] == {extension: 1}


def test_more_members_than_allowed_is_refused(tmp_path: Path) -> None:
    data = make_zip({f"{i}.txt": b"" for i in range(11)})
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, data, Limits(max_members=10))
    assert caught.value.reason == "zip archive has 11 entries, more than the 10 allowed"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_archive_is_a_parse_error(tmp_path: Path, damage: str) -> None:
    data = make_zip({"a.txt": b"hello" * 100, "b.txt": b"world" * 100})
    damaged = {"truncated": data[: len(data) // 2], "garbage": bytes(range(256)) * 4, "empty": b""}[damage]
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, damaged)
    assert caught.value.reason == "damaged zip archive: it is not a readable zip container"
