"""The broken-PDF corpus (bench.broken_pdfs): every file ends as its case says, through the whole extractor.

Through :func:`extractor.extract.extract_file`, so detection, the sandbox and
the flags the extractor adds are part of what is checked. Speed is the
bench's business (``make bench``: slowest file and p99); here only outcomes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.broken_pdfs import BROKEN, Expected, object_streams, truncated
from common.schema.record import Extracted
from extractor.extract import NOTE_NO_TEXT_LAYER, Config, draw_preview, extract_file
from extractor.formats import pdfcheck
from extractor.formats.pdf import NOTE_PASSWORD
from extractor.formats.pdfcheck import REBUILT
from tests.helpers.files import build_pdf

CASES = [(name, False) for name in BROKEN] + [(name, True) for name in BROKEN]


@pytest.fixture(scope="module")
def config() -> Config:
    return Config()


def extracted(tmp_path: Path, name: str, cut: bool, config: Config) -> Extracted:
    data = BROKEN[name].make()
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(truncated(data) if cut else data)
    return extract_file(path, path.name, config)


@pytest.mark.parametrize(("name", "cut"), CASES, ids=[f"{n}{'-truncated' if c else ''}" for n, c in CASES])
def test_each_broken_pdf_ends_as_expected(tmp_path: Path, config: Config, name: str, cut: bool) -> None:
    expected: Expected = BROKEN[name].cut if cut else BROKEN[name].whole
    result = extracted(tmp_path, name, cut, config)
    assert (result.status.value, set(result.flags)) == (expected.status, set(expected.flags)), result.error
    if expected.pages is not None:
        assert result.metadata["pages"] == expected.pages
    if expected.status == "failed":
        assert result.error == "damaged PDF: its structure cannot be read"
        assert result.metadata["pdf_version"]
    if "damaged" in expected.flags:
        assert result.metadata["note"].startswith("damaged PDF, read after repair: ")
    if cut and expected.status == "processed":
        assert REBUILT in result.metadata["note"]


def test_the_damaged_table_keeps_the_depth_exiftool_lacked(tmp_path: Path, config: Config) -> None:
    """The intake case: 430 pages, title and author recovered, though every xref offset is wrong."""
    result = extracted(tmp_path, "damaged-xref", False, config)
    assert (result.metadata["pages"], result.metadata["title"], result.metadata["author"]) == (
        430, "Annual report", "Records Office")
    assert result.metadata["note"] == (
        "damaged PDF, read after repair: the cross-reference table points at the wrong places")
    assert result.metadata["has_text"] is True


def test_the_newest_revision_wins_in_an_incremental_update(tmp_path: Path, config: Config) -> None:
    assert extracted(tmp_path, "incremental-update", False, config).metadata["title"] == "Annual report, revised"


def test_a_password_protected_pdf_is_processed_with_what_can_be_read(tmp_path: Path, config: Config) -> None:
    result = extracted(tmp_path, "needs-password", False, config)
    assert result.error == ""
    assert dict(result.metadata) == {"pdf_version": "1.3", "encrypted": True, "pages": 7, "note": NOTE_PASSWORD}


def test_an_owner_password_alone_reads_everything(tmp_path: Path, config: Config) -> None:
    result = extracted(tmp_path, "owner-password-only", False, config)
    assert (result.metadata["title"], result.metadata["encrypted"], result.metadata["has_text"]) == (
        "Annual report", True, True)


PROBLEMS = {
    "damaged-xref": (pdfcheck.ENTRIES_WRONG,), "missing-xref": (pdfcheck.NO_STARTXREF,),
    "startxref-past-end": (pdfcheck.STARTXREF_OUTSIDE,), "missing-eof": (pdfcheck.NO_EOF,),
    "missing-trailer": (pdfcheck.NO_TRAILER,), "incremental-update": (), "wrong-prev": (pdfcheck.PREV_WRONG,),
    "prev-loop": (pdfcheck.PREV_LOOP,), "object-streams": (), "10000-pages": (),
    "10000-pages-flat-damaged": (pdfcheck.ENTRIES_WRONG,), "owner-password-only": (), "needs-password": (),
    "heavy-first-page": (),
}


@pytest.mark.parametrize("name", BROKEN)
def test_the_structure_check_names_each_damage(name: str) -> None:
    assert pdfcheck.problems(BROKEN[name].make()) == PROBLEMS[name]


def test_a_cut_copy_lacks_its_end_marker_and_table_pointer() -> None:
    assert pdfcheck.problems(truncated(BROKEN["missing-eof"].make())) == (pdfcheck.NO_EOF, pdfcheck.NO_STARTXREF)


def test_a_script_packed_in_an_object_stream_is_found(tmp_path: Path, config: Config) -> None:
    data = object_streams(b" /AA << /O << /S /JavaScript /JS (app.alert(1)) >> >>")
    assert b"/JavaScript" not in data  # only inside the deflated object stream
    assert pdfcheck.markers(data) == pdfcheck.Markers(script=True, metadata=False, form=False)
    assert pdfcheck.markers(object_streams()) == pdfcheck.Markers(script=False, metadata=False, form=False)
    path = tmp_path / "packed.pdf"
    path.write_bytes(data)
    assert "javascript" in extract_file(path, path.name, config).flags


def test_an_object_stream_that_cannot_be_unpacked_leaves_scripts_to_the_walk() -> None:
    data = re.sub(rb"(/Type /ObjStm[^>]*)/FlateDecode", rb"\1/LZWDecode", object_streams())
    assert b"/LZWDecode" in data
    assert pdfcheck.markers(data) is None


def test_a_heavy_first_page_costs_its_text_layer_and_preview_not_the_file(tmp_path: Path, config: Config) -> None:
    """Loading its page takes seconds in C, where no CPU budget reaches: the step's own deadline does."""
    result = extracted(tmp_path, "heavy-first-page", False, config)
    assert result.error == "" and result.metadata["title"] == "Site plan"
    assert "has_text" not in result.metadata
    assert result.metadata["note"] == NOTE_NO_TEXT_LAYER.format(
        reason=f"reading the file took longer than the {config.text_layer_seconds:g} s limit")
    assert draw_preview(tmp_path / "heavy-first-page.pdf", result, config) is None


def test_page_size_is_the_first_page_as_shown(tmp_path: Path, config: Config) -> None:
    """The crop box, turned by the page's rotation: what a viewer shows, read without loading the page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /CropBox [10 10 310 410] /Rotate 90 >>"]
    path = tmp_path / "turned.pdf"
    path.write_bytes(build_pdf(objects))
    result = extract_file(path, path.name, config)
    assert (result.metadata["page_width"], result.metadata["page_height"]) == (400.0, 300.0)
