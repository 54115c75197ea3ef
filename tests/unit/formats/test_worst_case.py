"""The worst-case files of issue 15 (bench.worstcase), each through the real path: detect, parse isolated.

Each must end as its expected record; where a parser bounds its work, the
bound shows: a note says what was left out, or a count stops at its cap.
Times are measured by ``python -m bench.worstcase``, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.worstcase import CASES, MAX_BYTES, write
from common.catalogue import FileStatus
from common.schema.record import Extracted
from extractor.extract import Config, extract_file
from extractor.formats import Limits, MiB, audiowalk, images, imagewalk, office, xmlparts

OK, FAILED = FileStatus.PROCESSED, FileStatus.FAILED
SCANNED = f"in the first {xmlparts.MAX_SCANNED_BYTES // MiB} MiB"
SHEETS = f"in the first {office.MAX_SHEET_BYTES // MiB} MiB"
BLOCKS = f"more than {imagewalk.MAX_METADATA_BLOCKS:,} metadata blocks come before its picture"
WORST = {"title": "Worst case"}
MAIL = {"from": "billing@example.com", "to": ["ap@example.org"], "date": "2026-11-02T10:00:00Z"}
MOVIE = {"duration_seconds": 60.0, "has_video": True}
SONG = {"duration_seconds": 0.521, "sample_rate": 44100, "channels": 2}
VORBIS = {"duration_seconds": 60.0, "sample_rate": 44100, "channels": 2, "title": "Worst case"}
PIXEL = {"width": 1, "height": 1}

#: Case -> its status, fields it must have, and what its note (or error, when failed) says; "" for none.
EXPECTED: dict[str, tuple[FileStatus, dict[str, Any], str]] = {
    "docx-body.docx": (OK, {**WORST, "tables": 0}, f"were counted {SCANNED} of the document's text only"),
    "docx-parts.docx": (OK, {**WORST, "images": 19_986}, ""),
    "docx-rels.docx": (OK, {**WORST, "paragraphs": 1, "word_count": 1}, ""),
    "xlsx-cells.xlsx": (OK, {**WORST, "sheet_count": 1}, f"looked for {SHEETS} of the sheets, and in at most"),
    "xlsx-strings.xlsx": (OK, {**WORST, "sheet_count": 1}, f"looked for {SHEETS} of the sheets, and in at most"),
    "xlsx-sheets.xlsx": (OK, {**WORST, "sheet_count": 9_000, "cells": 10 * office.MAX_SCANNED_SHEETS},
                         f"and in at most {office.MAX_SCANNED_SHEETS:,} sheets, only"),
    "pptx-slides.pptx": (OK, {**WORST, "slides": 6_000, "has_notes": True}, ""),
    "ods-content.ods": (OK, {**WORST, "odf_type": "spreadsheet"}, f"sheets were counted {SCANNED}"),
    "odp-pages.odp": (OK, {**WORST, "odf_type": "presentation"}, f"slides were counted {SCANNED}"),
    "png-text.png": (FAILED, {}, BLOCKS),
    "png-ztxt.png": (OK, {**PIXEL, "frames": 1}, ""),
    "png-chunks.png": (FAILED, {}, BLOCKS),
    "jpeg-exif.jpg": (OK, {**PIXEL, "camera_make": "DocCam", "camera_model": "Model 7"}, ""),
    "jpeg-segments.jpg": (FAILED, {}, BLOCKS),
    "jpeg-xmp.jpg": (OK, {**PIXEL, "frames": 1}, ""),
    "tiff-pages.tif": (OK, {**PIXEL, "frames": 43_000}, ""),
    "tiff-tags.tif": (OK, {**PIXEL, "frames": 1}, ""),
    "tiff-xmp.tif": (OK, {**PIXEL, "frames": 1}, ""),
    "gif-frames.gif": (OK, {**PIXEL, "frames": images.MAX_GIF_FRAMES},
                       f"frames counted up to {images.MAX_GIF_FRAMES:,}"),
    "webp-frames.webp": (OK, {**PIXEL, "frames": 99_000}, ""),
    "heic-images.heic": (OK, {"width": 8, "frames": 200, "camera_make": "DocCam"}, ""),
    "mp4-boxes.mp4": (OK, {**MOVIE, "width": 1280, "height": 720}, ""),
    "mp4-fragments.mp4": (OK, {**MOVIE, "width": 1280, "height": 720}, ""),
    "mp4-tracks.mp4": (OK, {**MOVIE, "width": 640, "height": 360}, ""),
    "mp4-deep.mp4": (OK, {**MOVIE, "width": 320, "height": 240}, ""),
    "mp4-tags.m4a": (OK, {**WORST, "has_video": False, "duration_seconds": 60.0}, ""),
    "mov-chain.mov": (OK, {**MOVIE, "width": 1280, "height": 720}, ""),
    "mp3-id3.mp3": (OK, SONG, "its ID3 tag was not read"),
    "mp3-empty.mp3": (OK, SONG, "its ID3 tag was not read"),
    "mp3-junk.mp3": (OK, {"sample_rate": 44100}, ""),
    "flac-blocks.flac": (FAILED, {}, f"more than {audiowalk.MAX_BLOCKS:,} metadata blocks"),
    "flac-comments.flac": (FAILED, {}, f"more than {audiowalk.MAX_COMMENTS:,} Vorbis comments"),
    "ogg-comments.ogg": (OK, VORBIS, ""),
    "ogg-pages.ogg": (OK, VORBIS, ""),
    "wav-chunks.wav": (FAILED, {}, f"more than {audiowalk.MAX_BLOCKS:,} chunks"),
    "wav-id3.wav": (FAILED, {}, f"more than {audiowalk.MAX_BLOCKS:,} ID3 frames"),
    "csv-columns.csv": (OK, {"columns": 200_000, "rows": 8}, ""),
    "csv-line.csv": (OK, {"columns": 1_660_001, "lines": 1}, ""),
    "text-words.txt": (OK, {"words": 2_500_000}, ""),
    "text-legacy.txt": (OK, {"encoding": "cp1251", "lines": 64_000}, ""),
    "json-keys.json": (OK, {"json_type": "object"}, ""),
    "json-brackets.json": (OK, {"json_type": "array"}, "only its type was read"),
    "json-deep.json": (OK, {"json_type": "array"}, "only its type was read"),
    "json-escapes.json": (OK, {"json_type": "array", "items": 1}, ""),
    "xml-elements.xml": (OK, {"root_element": "r"}, ""),
    "xml-deep.xml": (OK, {"root_element": "r"}, ""),
    "xml-attributes.xml": (OK, {"root_element": "r"}, ""),
    "html-comments.html": (OK, {**WORST, "lang": "en"}, ""),
    "html-attributes.html": (OK, {**WORST, "lang": "en"}, ""),
    "eml-parts.eml": (OK, MAIL, "attachments were counted in its first 10,000 MIME parts only"),
    "eml-deep.eml": (OK, MAIL, "its attachments were not looked for: its parts are nested too deeply"),
    "eml-lines.eml": (OK, MAIL, "its attachments were not looked for: it has more than 1,000,000 lines"),
    "eml-headers.eml": (OK, {**MAIL, "attachment_count": 0}, ""),
    "zip-entries.zip": (OK, {"entries": Limits().max_members}, ""),
    "zip-over.zip": (FAILED, {}, f"50000 entries, more than the {Limits().max_members} allowed"),
    "epub-entries.epub": (OK, {"entries": Limits().max_members}, ""),
}

#: Case -> a count that stops at a bound, and what it would be without one.
BOUNDED = {"docx-body.docx": ("paragraphs", 375_000), "xlsx-cells.xlsx": ("cells", 1_100_000),
           "xlsx-strings.xlsx": ("cells", 300_000), "xlsx-sheets.xlsx": ("cells", 90_000),
           "ods-content.ods": ("sheet_count", 95),
           "odp-pages.odp": ("slides", 200_000), "eml-parts.eml": ("attachment_count", 30_000)}


def extract(tmp_path: Path, name: str) -> Extracted:
    path = write(tmp_path, name)
    assert path.stat().st_size <= MAX_BYTES
    return extract_file(path, name, Config())


def test_every_case_has_its_expectation() -> None:
    assert set(EXPECTED) == set(CASES)


@pytest.mark.parametrize("name", EXPECTED)
def test_each_case_ends_as_expected(tmp_path: Path, name: str) -> None:
    status, fields, says = EXPECTED[name]
    record = extract(tmp_path, name)
    assert record.status is status, record.error
    assert record.flags == ()
    assert {key: record.metadata.get(key) for key in fields} == fields
    told = record.error if status is FAILED else record.metadata.get("note", "")
    assert (says in told) if says else not told, told
    if name in BOUNDED:
        field, whole = BOUNDED[name]
        assert 0 < record.metadata[field] < whole  # counted up to the bound only


def test_tiff_pages_are_counted_up_to_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "tiff-pages.tif")
    assert imagewalk.tiff_pages(path) == (43_000, False)  # the last page points back at the first
    monkeypatch.setattr(imagewalk, "MAX_PAGES", 1_000)
    assert imagewalk.tiff_pages(path) == (1_000, True)


@pytest.mark.parametrize(("name", "what"), [
    ("mp3-id3.mp3", "ID3 frames"), ("mp3-empty.mp3", "ID3 frames"), ("flac-blocks.flac", "metadata blocks"),
    ("flac-comments.flac", "Vorbis comments"), ("wav-chunks.wav", "chunks"), ("wav-id3.wav", "ID3 frames"),
])
def test_audio_walks_stop_at_their_bound(tmp_path: Path, name: str, what: str) -> None:
    found = audiowalk.excess(write(tmp_path, name))
    assert found is not None and found.what == what


@pytest.mark.parametrize("name", ["jpeg-segments.jpg", "png-text.png", "png-chunks.png"])
def test_image_walks_stop_just_past_their_bound(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name)
    walk = imagewalk.jpeg_walk(path) if name.endswith(".jpg") else imagewalk.png_walk(path)
    assert walk.metadata_blocks == imagewalk.MAX_METADATA_BLOCKS + 1
