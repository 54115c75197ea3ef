"""A zip's central directory, read without listing it. Pure.

``zipfile.ZipFile`` builds one ``ZipInfo`` per entry (about 480 bytes) before
anything can be asked, so a 52 MB zip of a million empty entries costs
about 480 MB wherever it is opened. Here the end-of-central-directory record
(and its ZIP64 counterpart) says how many entries the archive declares, and
the central directory is walked in chunks for the few names a caller wants,
keeping nothing per entry. The walk counts entries too, because ``zipfile``
trusts the directory's size, not the declared count, and a file may lie.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

_END = struct.Struct("<4s4H2LH")  # signature, disks, entries here and in all, size, offset, comment
_END_SIG = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")
_LOCATOR_SIG = b"PK\x06\x07"
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_SIG = b"PK\x06\x06"
_ENTRY = struct.Struct("<4s6H3L5H2L")  # a central directory entry's fixed part
_ENTRY_SIG = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s5H3L2H")
_LOCAL_SIG = b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF
_CHUNK = 64 * 1024
_ENCRYPTED = 0x1
_STORED, _DEFLATED = 0, 8
_ZIP64_EXTRA = 0x0001
_U32 = 0xFFFFFFFF
#: Compressed bytes :func:`read_small` reads at most.
_SMALL = 64 * 1024


class NotAZip(ValueError):
    """The file has no readable end record or central directory."""


@dataclass(frozen=True)
class Directory:
    """What the end records say: the declared entry count and where the central directory is."""

    entries: int
    start: int
    size: int
    #: Bytes before the archive (a self-extractor's stub): added to every offset inside it.
    shift: int


@dataclass(frozen=True)
class Member:
    """One central directory entry, as much as a caller needs to read a small member."""

    name: str
    method: int
    flags: int
    compressed_size: int
    file_size: int
    header_offset: int


def directory(path: Path) -> Directory:
    """The end records of the zip at ``path``; ZIP64's when present.

    Raises
    ------
    NotAZip
        When there is no end record, or its directory lies outside the file.
    """
    with path.open("rb") as f:
        size = f.seek(0, 2)
        tail_start = max(0, size - _END.size - _MAX_COMMENT)
        f.seek(tail_start)
        tail = f.read()
        at = len(tail) - _END.size if tail[-_END.size:][:4] == _END_SIG else tail.rfind(_END_SIG)
        if at < 0 or at + _END.size > len(tail):
            raise NotAZip("no end of central directory record")
        _, _, _, here, total, cd_size, cd_offset, _ = _END.unpack_from(tail, at)
        end_at = tail_start + at
        entries, records = max(here, total), end_at
        if end_at >= _LOCATOR.size + _END64.size:
            f.seek(end_at - _LOCATOR.size - _END64.size)
            block = f.read(_END64.size + _LOCATOR.size)
            if block[_END64.size:][:4] == _LOCATOR_SIG and block[:4] == _END64_SIG:
                fields = _END64.unpack_from(block)
                entries, cd_size, cd_offset = max(fields[6], fields[7]), fields[8], fields[9]
                records = end_at - _LOCATOR.size - _END64.size
    start = records - cd_size
    if start < 0:
        raise NotAZip("the central directory lies outside the file")
    return Directory(entries=entries, start=start, size=cd_size, shift=start - cd_offset)


def members(path: Path, wanted: frozenset[str], max_entries: int) -> dict[str, Member] | None:
    """The entries named in ``wanted``, or None when the archive has more than ``max_entries``.

    The declared count is checked first, then counted again while walking,
    which stops as soon as the count passes ``max_entries``.

    Raises
    ------
    NotAZip
        When the end record or an entry of the central directory is damaged.
    """
    found = directory(path)
    if found.entries > max_entries:
        return None
    keys = {name.encode(): name for name in wanted}
    out: dict[str, Member] = {}
    for count, (entry, raw_name, extra) in enumerate(_entries(path, found), start=1):
        if count > max_entries:
            return None
        if raw_name in keys:
            out[keys[raw_name]] = _member(keys[raw_name], entry, extra, found.shift)
    return out


def _entries(path: Path, found: Directory) -> Iterator[tuple[tuple[Any, ...], bytes, bytes]]:
    """Each central directory entry's fixed fields, name and extra field, read in chunks."""
    with path.open("rb") as f:
        f.seek(found.start)
        buffer, at, remaining = b"", 0, found.size
        while at < len(buffer) or remaining > 0:
            buffer, at, remaining = _ensure(f, buffer, at, remaining, _ENTRY.size)
            entry = _ENTRY.unpack_from(buffer, at)
            if entry[0] != _ENTRY_SIG:
                raise NotAZip("bad central directory entry")
            name_len, extra_len, comment_len = entry[10], entry[11], entry[12]
            length = _ENTRY.size + name_len + extra_len + comment_len
            buffer, at, remaining = _ensure(f, buffer, at, remaining, length)
            name_at, extra_at = at + _ENTRY.size, at + _ENTRY.size + name_len
            yield entry, buffer[name_at:extra_at], buffer[extra_at:extra_at + extra_len]
            at += length


def _ensure(f: BinaryIO, buffer: bytes, at: int, remaining: int, need: int) -> tuple[bytes, int, int]:
    """``buffer`` from ``at`` holding at least ``need`` bytes, reading on (at most ``remaining``)."""
    if len(buffer) - at >= need:
        return buffer, at, remaining
    buffer = buffer[at:]
    while len(buffer) < need:
        chunk = f.read(min(max(_CHUNK, need), remaining))
        if not chunk:
            raise NotAZip("the central directory ends inside an entry")
        buffer += chunk
        remaining -= len(chunk)
    return buffer, 0, remaining


def read_small(path: Path, member: Member, max_bytes: int) -> bytes | None:
    """A small stored or deflated member's first ``max_bytes`` bytes; None when it cannot be read so."""
    if member.flags & _ENCRYPTED or member.method not in (_STORED, _DEFLATED) \
            or member.compressed_size > _SMALL:
        return None
    with path.open("rb") as f:
        f.seek(member.header_offset)
        header = f.read(_LOCAL.size)
        if len(header) < _LOCAL.size or header[:4] != _LOCAL_SIG:
            return None
        name_len, extra_len = _LOCAL.unpack(header)[9:11]
        f.seek(member.header_offset + _LOCAL.size + name_len + extra_len)
        raw = f.read(member.compressed_size)
    if member.method == _STORED:
        return raw[:max_bytes]
    try:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, max_bytes)
    except zlib.error:
        return None


def _member(name: str, entry: tuple[Any, ...], extra: bytes, shift: int) -> Member:
    flags, method, compressed, size, offset = (int(entry[3]), int(entry[4]), int(entry[8]), int(entry[9]),
                                               int(entry[16]))
    if _U32 in (compressed, size, offset):  # the real values are in the ZIP64 extra field, in this order
        values = iter(_zip64_values(extra))
        size = next(values, size) if size == _U32 else size
        compressed = next(values, compressed) if compressed == _U32 else compressed
        offset = next(values, offset) if offset == _U32 else offset
    return Member(name=name, method=method, flags=flags, compressed_size=compressed, file_size=size,
                  header_offset=offset + shift)


def _zip64_values(extra: bytes) -> list[int]:
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        if kind == _ZIP64_EXTRA:
            data = extra[at + 4:at + 4 + length]
            return [v for (v,) in struct.iter_unpack("<Q", data[:len(data) // 8 * 8])]
        at += 4 + length
    return []
