"""parse_media on audio and video files written here (stdlib, soundfile, mutagen, or by hand)."""

from __future__ import annotations

import json
import struct
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TIT2, TPE1
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from extractor.formats import Limits, ParseError, media
from extractor.formats.media import parse_media

# --- ISO base media (MP4/MOV) boxes, built by hand -------------------------------------------

MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, *children: bytes) -> bytes:
    payload = b"".join(children)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 7]), payload)


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    times = (struct.pack(">IIII", 0, 0, timescale, duration) if version == 0
             else struct.pack(">QQIQ", 0, 0, timescale, duration))
    rest = struct.pack(">IH10x", 0x10000, 0x100) + MATRIX + bytes(24) + struct.pack(">I", 3)
    return full_box(b"mvhd", version, times + rest)


def tkhd(width: int, height: int, track_id: int, version: int = 0) -> bytes:
    ids = (struct.pack(">IIIII", 0, 0, track_id, 0, 0) if version == 0
           else struct.pack(">QQIIQ", 0, 0, track_id, 0, 0))
    rest = bytes(8) + struct.pack(">hhhH", 0, 0, 0, 0) + MATRIX + struct.pack(">II", width << 16, height << 16)
    return full_box(b"tkhd", version, ids + rest)


def mdhd(timescale: int, duration: int) -> bytes:
    return full_box(b"mdhd", 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))


def hdlr(handler: bytes) -> bytes:
    return full_box(b"hdlr", 0, struct.pack(">I4s12x", 0, handler) + b"handler\x00")


def stsd(entry: bytes) -> bytes:
    return box(b"minf", box(b"stbl", full_box(b"stsd", 0, struct.pack(">I", 1) + entry)))


def video_trak(width: int, height: int, version: int = 0) -> bytes:
    entry = box(b"avc1", bytes(6), struct.pack(">H", 1), bytes(16), struct.pack(">HH", width, height),
                struct.pack(">III", 0x480000, 0x480000, 0), struct.pack(">H", 1), bytes(32),
                struct.pack(">Hh", 24, -1))
    return box(b"trak", tkhd(width, height, 1, version),
               box(b"mdia", mdhd(25, 125), hdlr(b"vide"), stsd(entry)))


AAC_RATE_INDEX = {96000: 0, 88200: 1, 64000: 2, 48000: 3, 44100: 4, 32000: 5}


def esds(bitrate: int, sample_rate: int, channels: int) -> bytes:
    """An AAC-LC elementary stream descriptor: average bitrate and AudioSpecificConfig."""
    audio_config = (2 << 11) | (AAC_RATE_INDEX[sample_rate] << 7) | (channels << 3)
    specific = bytes([0x05, 2]) + struct.pack(">H", audio_config)
    config = bytes([0x04, 13 + len(specific), 0x40, 0x15]) + bytes(3) + struct.pack(">II", bitrate, bitrate)
    descriptor = (bytes([0x03, 3 + len(config) + len(specific) + 3, 0, 1, 0]) + config + specific
                  + bytes([0x06, 1, 2]))
    return full_box(b"esds", 0, descriptor)


def audio_trak(sample_rate: int, channels: int, seconds: int) -> bytes:
    entry = box(b"mp4a", bytes(6), struct.pack(">H", 1), bytes(8),
                struct.pack(">HHHHI", channels, 16, 0, 0, sample_rate << 16),
                esds(96000, sample_rate, channels))
    return box(b"trak", tkhd(0, 0, 2),
               box(b"mdia", mdhd(sample_rate, sample_rate * seconds), hdlr(b"soun"), stsd(entry)))


def ilst(title: str, artist: str) -> bytes:
    def item(kind: bytes, text: str) -> bytes:
        return box(kind, box(b"data", struct.pack(">II", 1, 0), text.encode()))
    meta = full_box(b"meta", 0, hdlr(b"mdir") + box(b"ilst", item(b"\xa9nam", title), item(b"\xa9ART", artist)))
    return box(b"udta", meta)


FTYP_MP4 = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2mp41")
FTYP_MOV = box(b"ftyp", b"qt  ", struct.pack(">I", 0x200), b"qt  ")
MDAT = box(b"mdat", bytes(1000))


def write(path: Path, *parts: bytes) -> Path:
    path.write_bytes(b"".join(parts))
    return path


def _assert_json(metadata: object) -> None:
    assert json.loads(json.dumps(metadata)) == metadata


# --- audio ------------------------------------------------------------------------------------


def test_wav_stream_properties_and_id3_tags(tmp_path: Path) -> None:
    path = tmp_path / "memo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(2 * 4000))
    assert parse_media(path, Limits()).metadata == {
        "duration_seconds": 0.5, "bitrate": 128000, "sample_rate": 8000, "channels": 1}

    tagged = WAVE(path)
    tagged.add_tags()
    tagged.tags.add(TIT2(encoding=3, text="Board memo"))
    tagged.tags.add(TPE1(encoding=3, text="Finance"))
    tagged.save()
    metadata = parse_media(path, Limits()).metadata
    assert (metadata["title"], metadata["artist"]) == ("Board memo", "Finance")


def test_flac_written_by_soundfile_with_vorbis_comments(tmp_path: Path) -> None:
    path = tmp_path / "take.flac"
    soundfile.write(path, np.zeros((22050, 2), dtype="int16"), 44100, format="FLAC")
    tags = FLAC(path)
    tags["title"] = "Take one"
    tags["artist"] = ["Ann", "Bob"]
    tags.save()
    parsed = parse_media(path, Limits())
    bitrate = parsed.metadata.pop("bitrate")
    assert isinstance(bitrate, int) and bitrate > 0  # depends on the encoder's compression
    assert parsed.metadata == {"duration_seconds": 0.5, "sample_rate": 44100, "channels": 2,
                               "title": "Take one", "artist": "Ann; Bob"}
    assert parsed.flags == frozenset()


def test_ogg_vorbis_written_by_soundfile_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "voice.ogg"
    soundfile.write(path, np.zeros(44100, dtype="float32"), 44100, format="OGG", subtype="VORBIS")
    tags = OggVorbis(path)
    tags["title"] = "Voicemail"
    tags["artist"] = "Reception"
    tags.save()
    metadata = dict(parse_media(path, Limits()).metadata)
    assert isinstance(metadata.pop("bitrate"), int)
    assert metadata == {"duration_seconds": 1.0, "sample_rate": 44100, "channels": 1,
                        "title": "Voicemail", "artist": "Reception"}


def _mp3_frames(count: int) -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo, no padding: 417-byte frames, silent payload.
    return (b"\xff\xfb\x90\x00" + bytes(413)) * count


def test_mp3_frames_with_id3v2_tag(tmp_path: Path) -> None:
    path = write(tmp_path / "song.mp3", _mp3_frames(16))
    assert parse_media(path, Limits()).metadata == {
        "duration_seconds": 0.417, "bitrate": 128000, "sample_rate": 44100, "channels": 2}

    tags = ID3()
    tags.add(TIT2(encoding=3, text="Quarterly call"))
    tags.add(TPE1(encoding=3, text=["CEO", "CFO"]))
    tags.save(path)
    parsed = parse_media(path, Limits())
    assert parsed.metadata == {"duration_seconds": 0.417, "bitrate": 128000, "sample_rate": 44100,
                               "channels": 2, "title": "Quarterly call", "artist": "CEO; CFO"}
    _assert_json(parsed.metadata)


# --- video ------------------------------------------------------------------------------------


def test_mp4_with_video_and_audio_tracks_and_tags(tmp_path: Path) -> None:
    moov = box(b"moov", mvhd(1000, 5500), video_trak(1920, 1080), audio_trak(48000, 2, 5),
               ilst("Product demo", "Marketing"))
    path = write(tmp_path / "demo.mp4", FTYP_MP4, moov, MDAT)
    size = path.stat().st_size
    parsed = parse_media(path, Limits())
    assert parsed.metadata == {
        "duration_seconds": 5.5, "bitrate": round(size * 8 / 5.5), "sample_rate": 48000, "channels": 2,
        "title": "Product demo", "artist": "Marketing", "has_video": True, "width": 1920, "height": 1080,
    }
    _assert_json(parsed.metadata)


def test_mov_video_only_with_version_1_boxes(tmp_path: Path) -> None:
    moov = box(b"moov", mvhd(600, 1800, version=1), video_trak(1280, 720, version=1))
    path = write(tmp_path / "clip.mov", FTYP_MOV, MDAT, moov)
    size = path.stat().st_size
    assert parse_media(path, Limits()).metadata == {
        "duration_seconds": 3.0, "bitrate": round(size * 8 / 3.0), "has_video": True,
        "width": 1280, "height": 720}


def test_old_quicktime_without_ftyp_is_walked(tmp_path: Path) -> None:
    moov = box(b"moov", mvhd(600, 300), video_trak(640, 480))
    path = write(tmp_path / "old.mov", box(b"wide"), MDAT, moov)
    metadata = parse_media(path, Limits()).metadata
    assert (metadata["width"], metadata["height"], metadata["has_video"]) == (640, 480, True)
    assert metadata["duration_seconds"] == 0.5


def test_first_video_track_gives_the_size(tmp_path: Path) -> None:
    moov = box(b"moov", mvhd(1000, 1000), audio_trak(44100, 1, 1), video_trak(720, 576), video_trak(320, 240))
    path = write(tmp_path / "two.mp4", FTYP_MP4, moov, MDAT)
    metadata = parse_media(path, Limits()).metadata
    assert (metadata["width"], metadata["height"]) == (720, 576)


def test_audio_only_mp4_has_no_video(tmp_path: Path) -> None:
    moov = box(b"moov", mvhd(1000, 2000), audio_trak(44100, 2, 2))
    path = write(tmp_path / "voice.m4a", box(b"ftyp", b"M4A ", bytes(4), b"M4A isom"), moov, MDAT)
    assert parse_media(path, Limits()).metadata == {
        "duration_seconds": 2.0, "bitrate": 96000, "sample_rate": 44100, "channels": 2, "has_video": False}


def test_mp4_cut_short_in_mdat_is_damaged_but_keeps_what_moov_said(tmp_path: Path) -> None:
    moov = box(b"moov", mvhd(1000, 4000), video_trak(1920, 1080))
    path = write(tmp_path / "cut.mp4", FTYP_MP4, moov, MDAT[:500])
    with pytest.raises(ParseError) as raised:
        parse_media(path, Limits())
    assert raised.value.reason == (
        "damaged audio/video file: it ends before its last part does (it may be truncated)")
    assert raised.value.metadata["width"] == 1920
    assert raised.value.metadata["duration_seconds"] == 4.0


def test_box_larger_than_its_container_is_damaged(tmp_path: Path) -> None:
    huge = struct.pack(">I4s", 0x7FFFFFFF, b"trak")  # declares 2 GiB inside a tiny moov
    path = write(tmp_path / "liar.mp4", FTYP_MP4, box(b"moov", mvhd(1000, 1000), huge))
    with pytest.raises(ParseError, match=r"^damaged audio/video file: "):
        parse_media(path, Limits())


def test_64_bit_box_size_beyond_the_file_is_damaged_not_allocated(tmp_path: Path) -> None:
    large = struct.pack(">I4sQ", 1, b"mdat", 2**62)
    path = write(tmp_path / "large.mp4", FTYP_MP4, large, bytes(64))
    with pytest.raises(ParseError) as raised:
        parse_media(path, Limits())
    assert raised.value.reason == (
        "damaged audio/video file: it ends before its last part does (it may be truncated)")
    assert raised.value.metadata == {}


def test_box_smaller_than_its_header_is_damaged(tmp_path: Path) -> None:
    path = write(tmp_path / "tiny.mp4", FTYP_MP4, struct.pack(">I4s", 4, b"moov"), bytes(16))
    with pytest.raises(ParseError, match=r"^damaged audio/video file: "):
        parse_media(path, Limits())


def _mutagen_must_not_run(path: Path) -> None:
    raise AssertionError(f"mutagen was given {path.name}")


def test_walk_is_bounded_by_a_box_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "_MAX_BOXES", 50)
    monkeypatch.setattr(media, "MP4", _mutagen_must_not_run)
    moov = box(b"moov", mvhd(1000, 1000), *(box(b"free") for _ in range(100)), video_trak(640, 480))
    path = write(tmp_path / "many.mp4", FTYP_MP4, moov)
    # The walk stops after its budget with what it found; the box count is no proof of damage.
    assert parse_media(path, Limits()).metadata == {"duration_seconds": 1.0, "has_video": False}


def test_boxes_mutagen_would_read_past_their_container_keep_mutagen_away(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "MP4", _mutagen_must_not_run)
    lying_item = struct.pack(">I4s", 0x7FFFFFF0, b"\xa9nam") + b"x" * 16  # 2 GiB declared inside ilst
    udta = box(b"udta", full_box(b"meta", 0, hdlr(b"mdir") + box(b"ilst", lying_item)))
    moov = box(b"moov", mvhd(1000, 2000), video_trak(640, 480), udta)
    path = write(tmp_path / "tags.mp4", FTYP_MP4, moov, MDAT)
    size = path.stat().st_size
    assert parse_media(path, Limits()).metadata == {
        "duration_seconds": 2.0, "bitrate": round(size * 8 / 2.0), "has_video": True,
        "width": 640, "height": 480}


def test_deeply_nested_containers_keep_mutagen_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "MP4", _mutagen_must_not_run)
    nested = box(b"udta")
    for _ in range(2000):
        nested = box(b"udta", nested)
    path = write(tmp_path / "deep.mp4", FTYP_MP4, box(b"moov", mvhd(1000, 1000), nested))
    assert parse_media(path, Limits()).metadata == {"duration_seconds": 1.0, "has_video": False}


def test_mp4_without_moov_is_damaged(tmp_path: Path) -> None:
    path = write(tmp_path / "nomoov.mp4", FTYP_MP4, MDAT)
    with pytest.raises(ParseError, match=r"^damaged audio/video file: .*moov"):
        parse_media(path, Limits())


# --- damaged audio ----------------------------------------------------------------------------


def test_garbage_is_damaged(tmp_path: Path) -> None:
    for name in ("noise.mp3", "noise.bin"):
        path = write(tmp_path / name, b"definitely not audio " * 50)
        with pytest.raises(ParseError, match=r"^damaged audio/video file: "):
            parse_media(path, Limits())


def test_truncated_wav_and_flac_are_damaged(tmp_path: Path) -> None:
    wav = tmp_path / "cut.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(800))
    wav.write_bytes(wav.read_bytes()[:30])
    flac = tmp_path / "cut.flac"
    soundfile.write(flac, np.zeros(1000, dtype="int16"), 8000, format="FLAC")
    flac.write_bytes(flac.read_bytes()[:20])
    for path in (wav, flac):
        with pytest.raises(ParseError, match=r"^damaged audio/video file: "):
            parse_media(path, Limits())


def test_empty_file_is_damaged(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.mp3", b"")
    with pytest.raises(ParseError, match=r"^damaged audio/video file: "):
        parse_media(path, Limits())
