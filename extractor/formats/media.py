"""Read what an audio or video file says about itself: length, quality, title, frame size.

mutagen reads the stream headers and tags of every supported container. It
does not report a video's frame size, so MP4/MOV files are also walked box by
box (moov → trak → mdia/hdlr, tkhd) by a small walker that checks every
declared size against its parent and the file, reads only fixed-size headers,
and gives up after a bounded number of boxes, so a hostile file can neither
make it loop nor make it allocate. The walk also notices a file cut short.
"""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mutagen import File as MutagenFile
from mutagen import FileType, MutagenError
from mutagen.flac import FLAC
from mutagen.mp3 import MP3, MPEGInfo
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from extractor.formats import Limits, Parsed, ParseError, audiowalk

#: mutagen readers tried on audio; other formats it knows (APE, ASF, ...) are not asked.
_AUDIO = (MP3, WAVE, FLAC, OggVorbis, OggOpus, OggFLAC)
_KINDS = "MP3, WAV, FLAC, OGG, MP4 or MOV"
#: What mutagen and the walker's reads raise on damaged files (not MemoryError/RecursionError,
#: which the sandbox reports as what they are).
_DAMAGED = (MutagenError, OSError, EOFError, ValueError, struct.error, IndexError, KeyError,
            TypeError, ZeroDivisionError, OverflowError)
#: Tag keys holding the title and the artist: ID3, MP4, Vorbis comments.
_TITLE_KEYS = ("TIT2", "\xa9nam", "title")
_ARTIST_KEYS = ("TPE1", "\xa9ART", "artist")

#: Top-level box types that mark an ISO base media (MP4) or QuickTime (MOV) file.
_ISO_TOP = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"})
#: Boxes one walk may visit; real files have dozens, long fragmented ones thousands.
_MAX_BOXES = 100_000
#: Container nesting allowed before mutagen is kept away from a file; real files nest about 6 deep.
_MAX_DEPTH = 16
#: The boxes mutagen's MP4 reader descends into, and the header bytes it skips in them.
_MUTAGEN_CONTAINERS = frozenset({b"moov", b"udta", b"trak", b"mdia", b"meta", b"ilst", b"stbl", b"minf",
                                 b"moof", b"traf"})
_MUTAGEN_SKIP = {b"meta": 4}
_NO_STREAM = "damaged audio/video file: its stream headers cannot be read"
_CUT_SHORT = "it ends before its last part does (it may be truncated)"
_UNKNOWN_DURATION = {0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF}


class _Damaged(Exception):
    """The box structure contradicts itself or the file's size."""


class _Exhausted(Exception):
    """The walk visited as many boxes as it may."""


@dataclass
class _Movie:
    """What the box walk found in an MP4/MOV file."""

    has_moov: bool = False
    has_video: bool = False
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    #: Why the file is damaged, when a box runs past its parent or the file's end.
    damaged: str = ""


def parse_media(path: Path, limits: Limits) -> Parsed:
    """Stream properties and tags of an MP3, WAV, FLAC, OGG, MP4 or MOV file.

    Fields: duration_seconds, bitrate, sample_rate, channels, title, artist,
    and for MP4/MOV has_video plus the first video track's width/height.

    Raises
    ------
    ParseError
        When the file is not a readable file of those kinds, or is truncated
        (with the fields read before the problem).
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
    if len(head) == 8 and head[4:8] in _ISO_TOP:
        return _parse_movie(path, size)
    too_many = audiowalk.excess(path)
    if too_many is not None and too_many.tag_end:
        return _mp3_stream(path, too_many.tag_end)
    if too_many is not None:
        raise ParseError(f"audio not read: it has more than {too_many.limit:,} {too_many.what}, far "
                         "more than recorders and editors write")
    try:
        audio = MutagenFile(path, options=list(_AUDIO))
    except _DAMAGED as e:
        raise ParseError(_NO_STREAM) from e
    if audio is None:
        raise ParseError(f"damaged audio/video file: it is not a readable {_KINDS} file")
    return Parsed(metadata=_audio_fields(audio))


def _mp3_stream(path: Path, start: int) -> Parsed:
    """The stream fields of an MP3 whose ID3 tag is too costly to read, which a note says."""
    try:
        with path.open("rb") as f:
            info = MPEGInfo(f, start)
    except _DAMAGED as e:
        raise ParseError(_NO_STREAM) from e
    metadata = _stream_fields(info)
    metadata["note"] = (f"its ID3 tag was not read: it has more than {audiowalk.MAX_BLOCKS:,} frames "
                        "or is too costly to read")
    return Parsed(metadata=metadata)


def _parse_movie(path: Path, size: int) -> Parsed:
    """MP4/MOV fields: the box walk's frame size and duration, mutagen's audio and tags.

    mutagen may refuse a file the walk reads (old QuickTime layouts, video
    without audio), or be kept from one whose boxes it could not read safely,
    so the walk's fields stand on their own.
    """
    try:
        with path.open("rb") as f:
            movie = _walk_movie(f, size)
            safe = _safe_for_mutagen(f, size)
    except OSError as e:
        raise ParseError("damaged audio/video file: it cannot be read") from e
    metadata: dict[str, Any] = {}
    if safe:
        with contextlib.suppress(*_DAMAGED):  # the walk's findings decide whether the file is readable
            metadata.update(_audio_fields(MP4(path)))  # type: ignore[no-untyped-call]  # mutagen is untyped
    if movie.duration is not None:
        # The movie header's duration covers every track; mutagen's is the audio track's.
        metadata["duration_seconds"] = movie.duration
    if movie.has_moov:  # without the movie header nothing is known about the tracks
        metadata["has_video"] = movie.has_video
    if movie.has_video:
        metadata.pop("bitrate", None)  # mutagen's figure is the audio track's alone
        duration = metadata.get("duration_seconds")
        if duration:
            metadata["bitrate"] = round(size * 8 / duration)  # average over the whole file
    if movie.width and movie.height:
        metadata.update(width=movie.width, height=movie.height)
    if movie.damaged:
        raise ParseError(f"damaged audio/video file: {movie.damaged}", metadata=metadata)
    if not movie.has_moov:
        raise ParseError("damaged audio/video file: its movie header (moov box) is missing",
                         metadata=metadata)
    return Parsed(metadata=metadata)


def _audio_fields(audio: FileType) -> dict[str, Any]:
    """duration_seconds, bitrate, sample_rate, channels, title, artist from a mutagen file."""
    fields = _stream_fields(audio.info)
    tags = audio.tags
    if tags is not None:
        for name, keys in (("title", _TITLE_KEYS), ("artist", _ARTIST_KEYS)):
            if value := _tag(tags, keys):
                fields[name] = value
    return fields


def _stream_fields(info: Any) -> dict[str, Any]:
    """duration_seconds, bitrate, sample_rate, channels from a mutagen stream description."""
    fields: dict[str, Any] = {}
    length = getattr(info, "length", None)
    if isinstance(length, int | float) and math.isfinite(length) and length > 0:
        fields["duration_seconds"] = round(float(length), 3)
    for name, attribute in (("bitrate", "bitrate"), ("sample_rate", "sample_rate"), ("channels", "channels")):
        value = getattr(info, attribute, None)
        if isinstance(value, int | float) and math.isfinite(value) and value > 0:
            fields[name] = int(value)
    return fields


def _tag(tags: Any, keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` the tags carry, several values joined with "; "."""
    for key in keys:
        try:
            value = tags.get(key)
        except _DAMAGED:
            continue
        if value is None:
            continue
        values = getattr(value, "text", value)  # ID3 frames keep their values in .text
        if not isinstance(values, list | tuple):
            values = [values]
        texts = [t for v in values if (t := str(v).replace("\x00", "").strip())]
        if texts:
            return "; ".join(texts)
    return None


def _walk_movie(f: IO[bytes], size: int) -> _Movie:
    """The moov → trak → (tkhd, mdia → hdlr) facts of an MP4/MOV file, without trusting it.

    Running out of box budget ends the walk quietly with what it found: the
    budget bounds the effort, it is no evidence that the file is damaged.
    """
    movie = _Movie()
    budget = _Budget(_MAX_BOXES)
    try:
        for kind, start, end in _boxes(f, 0, size, budget, top=True):
            if kind == b"moov" and not movie.has_moov:
                movie.has_moov = True
                _read_moov(f, start, end, budget, movie)
    except _Damaged as e:
        movie.damaged = str(e)
    except _Exhausted:
        pass
    return movie


def _read_moov(f: IO[bytes], start: int, end: int, budget: _Budget, movie: _Movie) -> None:
    """Duration from mvhd; has_video and the first video track's size from the traks."""
    for kind, box_start, box_end in _boxes(f, start, end, budget):
        if kind == b"mvhd":
            movie.duration = _mvhd_duration(_read(f, box_start, box_end, 32))
        elif kind == b"trak":
            tkhd, handler = b"", b""
            for child, child_start, child_end in _boxes(f, box_start, box_end, budget):
                if child == b"tkhd":
                    tkhd = _read(f, child_start, child_end, 96)
                elif child == b"mdia":
                    for grandchild, g_start, g_end in _boxes(f, child_start, child_end, budget):
                        if grandchild == b"hdlr":
                            handler = _read(f, g_start, g_end, 12)[8:12]
            if handler == b"vide":
                if not movie.has_video:
                    movie.width, movie.height = _tkhd_size(tkhd)
                movie.has_video = True


def _safe_for_mutagen(f: IO[bytes], size: int) -> bool:
    """True when every box mutagen's MP4 reader descends into fits inside its parent.

    mutagen reads a box's payload with one ``read(declared size)``, which
    Python allocates up front, and recurses into containers without a depth
    limit. Checking its container tree first (same containers, same skipped
    ``meta`` header) bounds both by the file: a file that fails the check is
    not given to mutagen at all.
    """
    budget = _Budget(_MAX_BOXES)

    def visit(start: int, end: int, depth: int) -> None:
        for kind, box_start, box_end in _boxes(f, start, end, budget, top=depth == 0, exact=depth > 0):
            if kind in _MUTAGEN_CONTAINERS:
                if depth >= _MAX_DEPTH:
                    raise _Damaged("its boxes are nested too deeply")
                visit(box_start + _MUTAGEN_SKIP.get(kind, 0), box_end, depth + 1)

    try:
        visit(0, size, 0)
    except (_Damaged, _Exhausted):
        return False
    return True


class _Budget:
    """Boxes a walk may still visit."""

    def __init__(self, boxes: int) -> None:
        self.left = boxes

    def spend(self) -> None:
        """Count one box.

        Raises
        ------
        _Exhausted
            When the walk has visited as many boxes as it may.
        """
        self.left -= 1
        if self.left < 0:
            raise _Exhausted


def _boxes(f: IO[bytes], start: int, end: int, budget: _Budget, *, top: bool = False,
           exact: bool = False) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes between ``start`` and ``end``.

    Each declared size is checked against the enclosing box (and so the file)
    before it is used, and every box spends one unit of ``budget``. Fewer
    than 8 bytes left over are tolerated (QuickTime ends some lists with a
    4-byte zero) unless ``exact``.

    Raises
    ------
    _Damaged
        When a box runs past its parent or the file, or is smaller than its header.
    _Exhausted
        When ``budget`` runs out.
    """
    position = start
    while end - position >= 8:
        budget.spend()
        f.seek(position)
        header = f.read(8)
        if len(header) < 8:
            raise _Damaged(_CUT_SHORT)
        length, kind = struct.unpack(">I4s", header)
        header_length = 8
        if length == 1:  # 64-bit size follows the type
            large = f.read(8)
            if len(large) < 8:
                raise _Damaged(_CUT_SHORT)
            length = struct.unpack(">Q", large)[0]
            header_length = 16
        elif length == 0:  # the box runs to the end of its parent (or of the file)
            length = end - position
        if length < header_length:
            raise _Damaged("its structure is inconsistent (a part declares an impossible size)")
        if position + length > end:
            raise _Damaged(_CUT_SHORT if top
                           else "its structure is inconsistent (a part is larger than its container)")
        yield kind, position + header_length, position + length
        position += length
    if exact and position != end:
        raise _Damaged("its structure is inconsistent (a container ends inside a part)")


def _read(f: IO[bytes], start: int, end: int, limit: int) -> bytes:
    """At most ``limit`` bytes of a payload already checked to lie inside the file."""
    f.seek(start)
    return f.read(min(limit, end - start))


def _mvhd_duration(payload: bytes) -> float | None:
    """Seconds from mvhd's timescale and duration (version 0: 32-bit, version 1: 64-bit)."""
    if len(payload) >= 20 and payload[0] == 0:
        timescale, duration = struct.unpack_from(">II", payload, 12)
    elif len(payload) >= 32 and payload[0] == 1:
        timescale, duration = struct.unpack_from(">IQ", payload, 20)
    else:
        return None
    if not timescale or not duration or duration in _UNKNOWN_DURATION:
        return None
    seconds: float = round(duration / timescale, 3)
    return seconds


def _tkhd_size(payload: bytes) -> tuple[int | None, int | None]:
    """Width and height (16.16 fixed point) from the end of a version 0 or 1 tkhd."""
    offset = {0: 76, 1: 88}.get(payload[0]) if payload else None
    if offset is None or len(payload) < offset + 8:
        return None, None
    width, height = struct.unpack_from(">II", payload, offset)
    width, height = round(width / 65536), round(height / 65536)
    return (width, height) if width > 0 and height > 0 else (None, None)
