"""The hostile files of issue 3, through the real path: detect, parse isolated, record.

Each ends as a record (processed, or failed with a reason a person can read);
none raises, hangs or takes the process down.
"""

import os

import pytest

from bench.corpus import XXE, billion_laughs, png_bomb, zip_bomb_docx
from common.catalogue import FileStatus
from extractor.extract import Config, extract_file
from extractor.formats import Limits, MiB
from extractor.sandbox import Budget
from tests.helpers.files import tiny_pdf

CONFIG = Config(limits=Limits(max_unpacked_bytes=4 * MiB), budget=Budget(memory_bytes=256 * MiB, seconds=20))


def cyclic_pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",  # the tree contains itself
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


BILLION_LAUGHS = billion_laughs()


CASES = {
    "empty.pdf": (b"", FileStatus.PROCESSED, None),
    "random.bin": (os.urandom(4096) + b"\x00", FileStatus.PROCESSED, None),
    "truncated.pdf": (tiny_pdf()[:60], None, None),
    "cyclic.pdf": (cyclic_pdf(), None, None),
    "bomb.png": (png_bomb(), FileStatus.FAILED, "image is too large to decode safely (possible decompression bomb)"),
    "bomb.docx": (zip_bomb_docx(), FileStatus.FAILED, None),
    "laughs.xml": (BILLION_LAUGHS, FileStatus.FAILED, "unsafe XML: entities or DTDs are not allowed"),
    "xxe.xml": (XXE, FileStatus.FAILED, "unsafe XML: entities or DTDs are not allowed"),
    "nested.json": (b"[" * 200_000 + b"]" * 200_000, FileStatus.FAILED, None),
    "undecodable.txt": (b"ok \xff\xfe\xfa\xfb \x81\x8d\x8f\x90\x9d" * 50 + b"\x00\x01\x02", None, None),
    "invoice.docx": (tiny_pdf(), FileStatus.PROCESSED, None),
}


@pytest.mark.parametrize("name", CASES)
def test_every_hostile_file_gets_a_record(tmp_path, name):
    data, status, reason = CASES[name]
    path = tmp_path / name
    path.write_bytes(data)
    record = extract_file(path, name, CONFIG)
    assert record.size == len(data) and len(record.sha256) == 64
    if status is not None:
        assert record.status is status, record.error
    if reason is not None:
        assert record.error == reason
    if record.error:  # a sentence for a person: no traceback, no class name alone
        assert "Traceback" not in record.error and len(record.error) > 15


def test_the_zip_bomb_names_the_limit(tmp_path):
    path = tmp_path / "bomb.docx"
    path.write_bytes(zip_bomb_docx())
    assert "4 MiB" in extract_file(path, "bomb.docx", CONFIG).error


def test_the_deep_json_is_refused_for_its_depth(tmp_path):
    path = tmp_path / "nested.json"
    path.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    assert "nested" in extract_file(path, "nested.json", CONFIG).error


def test_a_mislabelled_file_is_flagged_and_still_read_for_what_it_is(tmp_path):
    path = tmp_path / "invoice.docx"
    path.write_bytes(tiny_pdf())
    record = extract_file(path, "invoice.docx", CONFIG)
    assert (record.format, record.flags, record.metadata["pages"]) == ("pdf", ("type_mismatch",), 1)


def test_empty_and_unknown_files_are_processed_with_a_note(tmp_path):
    (tmp_path / "e.pdf").write_bytes(b"")
    empty = extract_file(tmp_path / "e.pdf", "e.pdf", CONFIG)
    assert (empty.status, empty.flags, empty.metadata) == (FileStatus.PROCESSED, ("empty",), {"note": "the file is empty"})


def test_files_over_the_parse_limit_keep_size_and_checksum(tmp_path):
    path = tmp_path / "big.pdf"
    path.write_bytes(tiny_pdf() + b"\n" * 2 * MiB)
    record = extract_file(path, "big.pdf", Config(max_parse_bytes=1 * MiB))
    assert record.status is FileStatus.FAILED
    assert record.error == "file exceeds the 1 MiB parse limit: only its size and checksum were recorded"
    assert record.format == "pdf" and record.size == path.stat().st_size
