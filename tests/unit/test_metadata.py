import pytest

from extractor.metadata import describe
from tests.fixtures import tiny_pdf, tiny_png


def test_pdf_is_recognised_from_content():
    data = tiny_pdf()
    d = describe(data, len(data), "report.pdf", "pdf")
    assert (d.mime_type, d.format, d.flags) == ("application/pdf", "pdf", ())
    assert d.metadata["pdf_version"] == "1.7"


def test_png_is_recognised_from_content():
    data = tiny_png()
    d = describe(data, len(data), "x.png", "png")
    assert (d.mime_type, d.format) == ("image/png", "png")


def test_type_mismatch_is_flagged_when_the_name_lies():
    data = tiny_pdf()
    assert "type_mismatch" in describe(data, len(data), "invoice.docx", "docx").flags
    assert describe(data, len(data), "noext", "").flags == ()


def test_jpeg_aliases_do_not_count_as_mismatch():
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
    assert describe(head, len(head), "a.jpeg", "jpeg").flags == ()


def test_text_and_its_extensions():
    data = b"name,amount\nAlice,3\n"
    d = describe(data, len(data), "a.csv", "csv")
    assert (d.mime_type, d.format, d.flags) == ("text/plain", "text", ())
    assert d.metadata["encoding"] == "utf-8"
    assert describe(data, len(data), "a.png", "png").flags == ("type_mismatch",)


def test_text_cut_inside_a_multibyte_character_is_still_text():
    data = ("é" * 10).encode()[:-1]
    assert describe(data, len(data) + 100, "a.txt", "txt").format == "text"


def test_empty_file_is_flagged_not_failed():
    d = describe(b"", 0, "a.pdf", "pdf")
    assert d.flags == ("empty",)
    assert d.format == "empty"


@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"\x00\x01\x02"])
def test_unknown_content_keeps_the_common_fields_with_a_note(data):
    d = describe(data, len(data), "a.bin", "bin")
    assert (d.mime_type, d.format) == ("application/octet-stream", "unknown")
    assert "unrecognised" in d.metadata["note"]
