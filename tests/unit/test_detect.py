"""Content detection: magic bytes, container structure, text kinds, mismatches."""

import zipfile

import pytest

from common.catalogue import type_mismatch
from extractor.detect import detect
from tests.helpers.files import declaring, tiny_pdf, tiny_png, zipped


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("members", "fmt"), [
    ({"[Content_Types].xml": b"", "word/document.xml": b""}, "docx"),
    ({"[Content_Types].xml": b"", "word/document.xml": b"", "word/vbaProject.bin": b""}, "docm"),
    ({"[Content_Types].xml": b"", "xl/workbook.xml": b""}, "xlsx"),
    ({"[Content_Types].xml": b"", "xl/workbook.xml": b"", "xl/vbaProject.bin": b""}, "xlsm"),
    ({"[Content_Types].xml": b"", "ppt/presentation.xml": b""}, "pptx"),
    ({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b""}, "odt"),
    ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}, "ods"),
    ({"mimetype": b"application/vnd.oasis.opendocument.presentation"}, "odp"),
    ({"mimetype": b"application/epub+zip"}, "epub"),
    ({"notes.txt": b"hello"}, "zip"),
])
def test_zip_containers_are_told_apart_by_their_members(tmp_path, members, fmt):
    assert detect(write(tmp_path, "f", zipped(members))).format == fmt


@pytest.mark.parametrize(("data", "fmt", "mime"), [
    (tiny_pdf(), "pdf", "application/pdf"),
    (b"junk before\n" + tiny_pdf(), "pdf", "application/pdf"),
    (tiny_png(), "png", "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, "jpg", "image/jpeg"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic", "image/heic"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "mov", "video/quicktime"),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "mp4", "video/mp4"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32, "wav", "audio/wav"),
    (b"fLaC" + b"\x00" * 40, "flac", "audio/flac"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "ole", "application/x-ole-storage"),
    (b"", "empty", "application/x-empty"),
    (bytes(range(256)) * 8, "unknown", "application/octet-stream"),
])
def test_binary_formats_from_magic(tmp_path, data, fmt, mime):
    detected = detect(write(tmp_path, "f", data))
    assert (detected.format, detected.mime_type) == (fmt, mime)


@pytest.mark.parametrize(("text", "extension", "fmt"), [
    ("just some words\n", "", "text"),
    ("# Title\n\nsome *markdown*\n", "md", "markdown"),
    ("a,b,c\n1,2,3\n4,5,6\n", "", "csv"),
    ("a;b\n1;2\n3;4\n", "txt", "csv"),
    ("a\tb\n1\t2\n3\t4\n", "", "tsv"),
    ("name\n", "csv", "csv"),
    ('{"a": [1, 2]}', "", "json"),
    ("[1, 2, 3]", "", "json"),
    ("[see note] in text", "", "text"),
    ('<?xml version="1.0"?><root/>', "", "xml"),
    ("<!DOCTYPE html><html><title>x</title></html>", "", "html"),
    ("From: a@example.com\nTo: b@example.com\nSubject: hi\nDate: Mon, 1 Jan 2026 10:00:00 +0000\n\nbody\n",
     "", "eml"),
    ("\ufeffbom text\n", "", "text"),
])
def test_text_kinds(tmp_path, text, extension, fmt):
    assert detect(write(tmp_path, "f", text.encode("utf-8")), extension).format == fmt


def test_latin1_text_is_text_not_binary(tmp_path):
    data = ("Café résumé naïve, déjà vu à l'été.\nÇa va très bien\nOù, quand, comment ?\n" * 10).encode("latin-1")
    assert detect(write(tmp_path, "f", data)).format == "text"


def test_utf16_with_bom_is_text(tmp_path):
    assert detect(write(tmp_path, "f", "hello world\n".encode("utf-16"))).format == "text"


def test_a_damaged_zip_is_still_a_zip(tmp_path):
    assert detect(write(tmp_path, "f", b"PK\x03\x04" + b"\x00" * 50)).format == "zip"


DOCX = {"[Content_Types].xml": b"", "word/document.xml": b"<w:document/>"}
PADDING = {f"media/{i}.png": b"" for i in range(30)}


def _never_list(*args, **kwargs):
    raise AssertionError("detection listed the whole zip with zipfile.ZipFile")


@pytest.mark.parametrize(("members", "compression", "fmt"), [
    (DOCX | PADDING, zipfile.ZIP_STORED, "docx"),
    ({"mimetype": b"application/vnd.oasis.opendocument.text"}, zipfile.ZIP_DEFLATED, "odt"),
    ({"mimetype": b"application/epub+zip", **PADDING}, zipfile.ZIP_STORED, "epub"),
])
def test_zip_kinds_are_found_without_listing_the_archive(tmp_path, monkeypatch, members, compression, fmt):
    path = write(tmp_path, "f", zipped(members, compression))
    monkeypatch.setattr(zipfile, "ZipFile", _never_list)
    assert detect(path).format == fmt


def test_more_entries_than_the_member_cap_make_a_plain_zip(tmp_path):
    path = write(tmp_path, "f", zipped(DOCX | PADDING))  # 32 entries
    assert detect(path, max_members=100).format == "docx"
    assert detect(path, max_members=10).format == "zip"  # the zip parser refuses it, with the count


def test_entries_are_counted_even_when_the_end_record_declares_fewer(tmp_path):
    path = write(tmp_path, "f", declaring(zipped(PADDING | DOCX), 2))
    assert detect(path, max_members=10).format == "zip"


def test_a_zip64_end_record_declaring_a_million_entries_is_a_plain_zip(tmp_path):
    path = write(tmp_path, "f", declaring(zipped(DOCX), 1_000_000, zip64=True))
    assert detect(path).format == "zip"


@pytest.mark.parametrize(("extension", "fmt", "expected"), [
    ("pdf", "pdf", False), ("docx", "pdf", True), ("jpeg", "jpg", False), ("txt", "csv", False),
    ("csv", "json", True), ("", "pdf", False), ("weird", "pdf", False), ("pdf", "unknown", False),
    ("png", "empty", False), ("xlsx", "xlsm", True), ("xlsm", "xlsx", False),
])
def test_mismatch(extension, fmt, expected):
    assert type_mismatch(extension, fmt) is expected
