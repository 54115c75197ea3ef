"""Walks over the metadata of MP3, FLAC and WAV files that decode nothing. Pure.

mutagen reads every ID3 frame, FLAC metadata block and RIFF chunk with a few
Python calls, and copies the rest of an ID3 tag once per frame, so a 5 MB
file of a million empty blocks keeps it busy for minutes. These walks read a
few bytes per block, stop once a file has more than a real one ever does,
and say what it has too many of.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: ID3 frames, FLAC metadata blocks or WAV chunks a file may have and still be given to mutagen;
#: real files have tens.
MAX_BLOCKS = 10_000
#: Vorbis comments a FLAC file may declare (a real one has tens).
MAX_COMMENTS = 100_000
#: Bytes mutagen may copy while reading an ID3 tag (the rest of the tag, once per frame).
MAX_ID3_COPY = 512 * 1024 * 1024
_FLAC_LAST = 0x80
_FLAC_COMMENT = 4


@dataclass(frozen=True)
class Excess:
    """What a file has too many of for mutagen to read in time."""

    #: "ID3 frames", "metadata blocks", "Vorbis comments" or "chunks".
    what: str
    #: How many of them a file may have.
    limit: int = MAX_BLOCKS
    #: For an ID3 tag, where the audio after it starts: its stream can still be read.
    tag_end: int = 0


def excess(path: Path) -> Excess | None:
    """What an MP3 (its leading ID3 tag), FLAC or WAV file has too many of; None when it is fine."""
    with path.open("rb") as f:
        head = f.read(12)
        if head[:3] == b"ID3" and len(head) >= 10:
            return _id3(f, head, 0)
        if head[:4] == b"fLaC":
            return _flac(f)
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return _riff(f, f.seek(0, 2))
    return None


def _syncsafe(raw: bytes) -> int:
    return (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | (raw[3] & 0x7F)


def _id3(f: BinaryIO, head: bytes, start: int) -> Excess | None:
    """Too many frames in the ID3v2.3/2.4 tag at ``start``, or more than :data:`MAX_ID3_COPY` to copy."""
    version, flags, end = head[3], head[5], start + 10 + _syncsafe(head[6:10])
    if version not in (3, 4):
        return None
    offset = start + 10
    if flags & 0x40:  # an extended header: its size counts itself in 2.4, not in 2.3
        f.seek(start + 10)
        raw = f.read(4)
        if len(raw) < 4:
            return None
        offset += _syncsafe(raw) if version == 4 else int.from_bytes(raw, "big") + 4
    frames = copied = 0
    while offset + 10 <= end:
        f.seek(offset)
        header = f.read(10)
        if len(header) < 10 or not header[:4].strip(b"\x00"):
            break
        frames += 1
        copied += end - offset
        if frames > MAX_BLOCKS or copied > MAX_ID3_COPY:
            return Excess("ID3 frames", tag_end=end)
        size = _syncsafe(header[4:8]) if version == 4 else int.from_bytes(header[4:8], "big")
        offset += 10 + size
    return None


def _flac(f: BinaryIO) -> Excess | None:
    """More than :data:`MAX_BLOCKS` metadata blocks, or a comment block declaring too many comments."""
    position = 4
    for _ in range(MAX_BLOCKS):
        f.seek(position)
        header = f.read(4)
        if len(header) < 4:
            return None
        length = int.from_bytes(header[1:4], "big")
        if header[0] & 0x7F == _FLAC_COMMENT and _comments(f) > MAX_COMMENTS:
            return Excess("Vorbis comments", MAX_COMMENTS)
        if header[0] & _FLAC_LAST:
            return None
        position += 4 + length
    return Excess("metadata blocks")


def _comments(f: BinaryIO) -> int:
    """The comment count a Vorbis comment block declares (the file is at the block's start)."""
    vendor = f.read(4)
    if len(vendor) < 4:
        return 0
    f.seek(int.from_bytes(vendor, "little"), 1)
    count = f.read(4)
    return int.from_bytes(count, "little") if len(count) == 4 else 0


def _riff(f: BinaryIO, end: int) -> Excess | None:
    """More than :data:`MAX_BLOCKS` chunks, counting those inside top-level LIST chunks too, or an
    ID3 chunk whose tag is too costly (mutagen reads it as it reads an MP3's)."""
    seen = 0

    def walk(start: int, stop: int, top: bool) -> Excess | None:
        nonlocal seen
        position = start
        while position + 8 <= stop:
            f.seek(position)
            header = f.read(8)
            if len(header) < 8:
                return None
            seen += 1
            if seen > MAX_BLOCKS:
                return Excess("chunks")
            size = int.from_bytes(header[4:8], "little")
            found = None
            if top and header[:4] == b"LIST":
                found = walk(position + 12, min(stop, position + 8 + size), False)
            elif top and header[:4].lower() == b"id3 " and len(tag := f.read(10)) == 10 and tag[:3] == b"ID3":
                found = _id3(f, tag, position + 8)
            if found is not None:
                return Excess(found.what)  # no stream follows a WAV's tag: the file is refused
            position += 8 + size + (size & 1)
        return None

    return walk(12, end, True)
