"""PDF parser on files written by pypdf's PdfWriter or built object by object here.

Hand-built files give exact control over what pypdf's writer cannot produce:
a text layer, form fields, an XMP packet, script actions and cyclic page trees.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from extractor.formats import Limits, Parsed, ParseError
from extractor.formats.pdf import NOTE_PASSWORD, parse_pdf, text_layer
from tests.helpers.files import build_pdf

LIMITS = Limits()

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
ONE_PAGE = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
RESOURCES = b"/Resources << /Font << /F1 5 0 R >> >>"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    """A stream object's body."""
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_page(text: bytes = b"Quarterly report", extra: bytes = b"",
              mediabox: bytes = b"[0 0 595.28 841.89]") -> list[bytes]:
    """Objects 1-5 of a one-page PDF whose page shows ``text``; ``extra`` goes into the page."""
    content = b"BT /F1 24 Tf 72 720 Td (" + text + b") Tj ET"
    return [CATALOG, ONE_PAGE,
            b"<< /Type /Page /Parent 2 0 R /MediaBox " + mediabox + b" /Contents 4 0 R "
            + RESOURCES + extra + b" >>",
            stream(content), FONT]


def with_catalog(objects: list[bytes], entries: bytes) -> list[bytes]:
    """``objects`` with extra entries in the catalog (object 1)."""
    return [objects[0][:-2] + entries + b" >>", *objects[1:]]


def written(writer: PdfWriter) -> bytes:
    """What ``writer`` produces."""
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def parse(tmp_path: Path, data: bytes) -> Parsed:
    """parse_pdf, then text_layer (the two steps the extractor runs), on ``data`` saved as a file."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    parsed, text = parse_pdf(path, LIMITS), text_layer(path, LIMITS)
    return Parsed(metadata={**parsed.metadata, **text.metadata}, flags=parsed.flags | text.flags)


XMP = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" pdfaid:part="2"
     pdfaid:conformance="b"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

XMP_ONLY = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
     xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Annual  report</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>Ana Lima</rdf:li><rdf:li>Bo Chen</rdf:li></rdf:Seq></dc:creator>
   <pdf:Producer>Typesetter 9</pdf:Producer>
   <xmp:CreatorTool>Writer 2</xmp:CreatorTool>
   <xmp:CreateDate>2026-03-04T05:06:07+02:00</xmp:CreateDate>
   <xmp:ModifyDate>2026-03-05T00:00:00Z</xmp:ModifyDate>
   <pdfaid:part>3</pdfaid:part><pdfaid:conformance>U</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
          b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>')


def full_pdf() -> bytes:
    """One text page, an Info dictionary, an XMP packet and two form fields (one with a widget)."""
    objects = text_page(extra=b" /Annots [9 0 R]")
    objects = with_catalog(objects, b" /Metadata 6 0 R /AcroForm << /Fields [7 0 R 8 0 R] >>")
    objects += [
        stream(XMP, b" /Type /Metadata /Subtype /XML"),
        b"<< /FT /Tx /T (name) /V (Ana) /Kids [9 0 R] >>",
        b"<< /FT /Btn /T (agree) >>",
        b"<< /Type /Annot /Subtype /Widget /Parent 7 0 R /Rect [0 0 10 10] /P 3 0 R >>",
        b"<< /Title (Q1 Report) /Author (Ana Lima) /Subject (Sales) /Keywords (sales, q1)"
        b" /Creator (Writer) /Producer (pdfTeX) /CreationDate (D:20260102030405+01'00')"
        b" /ModDate (D:20260203040506Z) >>",
    ]
    return build_pdf(objects, info=10)


def test_every_field_of_a_text_pdf(tmp_path: Path) -> None:
    parsed = parse(tmp_path, full_pdf())
    assert dict(parsed.metadata) == {
        "pdf_version": "1.7", "encrypted": False, "pages": 1,
        "title": "Q1 Report", "author": "Ana Lima", "subject": "Sales", "keywords": "sales, q1",
        "creator": "Writer", "producer": "pdfTeX",
        "created": "2026-01-02T03:04:05+01:00", "modified": "2026-02-03T04:05:06Z",
        "pdfa": "2B", "page_width": 595.28, "page_height": 841.89, "has_text": True, "form_fields": 2,
    }
    assert parsed.flags == frozenset()


def test_xmp_fills_fields_the_info_dictionary_lacks(tmp_path: Path) -> None:
    objects = [*with_catalog(text_page(), b" /Metadata 6 0 R"), stream(XMP_ONLY)]
    parsed = parse(tmp_path, build_pdf(objects))
    assert {k: parsed.metadata.get(k) for k in ("title", "author", "creator", "producer", "created",
                                                 "modified", "pdfa")} == {
        "title": "Annual report", "author": "Ana Lima; Bo Chen", "creator": "Writer 2",
        "producer": "Typesetter 9", "created": "2026-03-04T05:06:07+02:00",
        "modified": "2026-03-05T00:00:00Z", "pdfa": "3U"}
    assert "subject" not in parsed.metadata


def test_xmp_with_entities_is_ignored_not_expanded(tmp_path: Path) -> None:
    objects = [*with_catalog(text_page(), b" /Metadata 6 0 R"), stream(LAUGHS)]
    parsed = parse(tmp_path, build_pdf(objects))
    assert parsed.metadata["pages"] == 1
    assert "pdfa" not in parsed.metadata


@pytest.mark.parametrize(("raw", "iso"), [
    (b"D:20260102030405+01'00'", "2026-01-02T03:04:05+01:00"),
    (b"D:20260102030405-05'30", "2026-01-02T03:04:05-05:30"),
    (b"D:20260102030405Z00'00'", "2026-01-02T03:04:05Z"),
    (b"D:20260102030405+00'00'", "2026-01-02T03:04:05Z"),
    (b"D:20260102", "2026-01-02T00:00:00"),
    (b"20260102030405", "2026-01-02T03:04:05"),
    (b"D:2026", "2026-01-01T00:00:00"),
    (b"D:20261340000000Z", None),
    (b"yesterday", None),
])
def test_pdf_dates_become_iso_8601(tmp_path: Path, raw: bytes, iso: str | None) -> None:
    objects = [*text_page(), b"<< /CreationDate (" + raw + b") >>"]
    parsed = parse(tmp_path, build_pdf(objects, info=6))
    assert parsed.metadata.get("created") == iso


def test_blank_pages_are_a_scan_without_text_layer(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": "Scan 7", "/Author": " "})
    parsed = parse(tmp_path, written(writer))
    assert dict(parsed.metadata) == {
        "pdf_version": "1.3", "encrypted": False, "pages": 2, "title": "Scan 7", "producer": "pypdf",
        "page_width": 612.0, "page_height": 792.0, "has_text": False, "form_fields": 0}
    assert parsed.flags == {"scanned"}


def test_a_user_password_is_protected_not_failed(tmp_path: Path) -> None:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=100, height=100)
    writer.add_metadata({"/Title": "Secret plan"})
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="AES-256")
    parsed = parse(tmp_path, written(writer))
    assert parsed.flags == {"password_protected"}
    assert dict(parsed.metadata) == {"pdf_version": "1.3", "encrypted": True, "pages": 3, "note": NOTE_PASSWORD}


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_an_owner_password_alone_still_opens(tmp_path: Path, algorithm: str) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=200)
    writer.add_metadata({"/Title": "Price list"})
    writer.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
    parsed = parse(tmp_path, written(writer))
    assert parsed.metadata["encrypted"] is True
    assert (parsed.metadata["title"], parsed.metadata["pages"]) == ("Price list", 1)
    assert (parsed.metadata["page_width"], parsed.metadata["page_height"]) == (100.0, 200.0)
    assert parsed.flags == {"encrypted", "scanned"}


def test_document_javascript_is_flagged(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.add_open_action(JavaScript("app.alert('hi');"))
    assert "javascript" in parse(tmp_path, written(writer)).flags


@pytest.mark.parametrize("entries", [
    b" /OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
    b" /OpenAction 6 0 R",
    b" /AA << /WC << /S /JavaScript /JS (x) >> >>",
    b" /OpenAction << /S /URI /URI (https://example.com) /Next [<< /S /GoTo /D [3 0 R /Fit] >> 6 0 R] >>",
])
def test_catalog_script_actions_are_flagged(tmp_path: Path, entries: bytes) -> None:
    objects = [*with_catalog(text_page(), entries), b"<< /S /JavaScript /JS (app.alert(2)) >>"]
    assert parse(tmp_path, build_pdf(objects)).flags == {"javascript"}


def test_annotation_script_is_flagged(tmp_path: Path) -> None:
    objects = [*text_page(extra=b" /Annots [6 0 R]"),
               b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /JavaScript /JS 7 0 R >> >>",
               stream(b"app.launchURL('https://example.com');")]
    assert parse(tmp_path, build_pdf(objects)).flags == {"javascript"}


def test_cyclic_action_chains_and_destinations_are_not_scripts(tmp_path: Path) -> None:
    objects = [*with_catalog(text_page(extra=b" /Annots [6 0 R]"), b" /OpenAction [3 0 R /Fit]"),
               b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A 7 0 R >>",
               b"<< /S /URI /URI (https://example.com) /Next 7 0 R >>"]
    parsed = parse(tmp_path, build_pdf(objects))
    assert parsed.flags == frozenset()
    assert parsed.metadata["has_text"] is True


@pytest.mark.timeout(30)
@pytest.mark.parametrize("tree", [
    # The only /Pages node lists itself.
    [CATALOG, b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"],
    # A child /Pages node points back to its parent, next to a real page.
    [CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
     b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 1 >>",
     b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] >>"],
    # A three-node cycle.
    [CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"<< /Type /Pages /Kids [4 0 R] >>",
     b"<< /Type /Pages /Kids [2 0 R] >>"],
])
def test_a_cyclic_page_tree_ends_in_a_parse_error(tmp_path: Path, tree: list[bytes]) -> None:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, build_pdf(tree))
    assert caught.value.reason == "damaged PDF: its pages cannot be listed"
    assert caught.value.metadata == {"pdf_version": "1.7", "encrypted": False}


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75, 0.95])
def test_a_truncated_pdf_parses_leniently_or_fails_cleanly(tmp_path: Path, fraction: float) -> None:
    data = full_pdf()
    try:
        parsed = parse(tmp_path, data[: int(len(data) * fraction)])
    except ParseError as e:
        assert e.reason.startswith("damaged PDF: ")
        assert e.metadata["pdf_version"] == "1.7"
    else:
        assert parsed.metadata["pdf_version"] == "1.7"


def test_a_pdf_with_a_broken_xref_offset_is_still_read(tmp_path: Path) -> None:
    data = full_pdf()
    start = data.rindex(b"startxref\n") + len(b"startxref\n")
    broken = data[:start] + b"999" + data[data.index(b"\n", start):]
    assert parse(tmp_path, broken).metadata["title"] == "Q1 Report"


def test_not_a_pdf_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        parse(tmp_path, b"this is not a PDF at all\n" * 20)
    assert caught.value.reason == "damaged PDF: its structure cannot be read"
    assert caught.value.metadata == {}


def test_long_and_unprintable_titles_are_cleaned(tmp_path: Path) -> None:
    objects = [*text_page(), b"<< /Title (A\\nB\\tC\\000D  " + b"x" * 3000 + b") >>"]
    title = parse(tmp_path, build_pdf(objects, info=6)).metadata["title"]
    assert title == ("A B C D " + "x" * 3000)[:1000]


@pytest.mark.parametrize(("fields", "count"), [
    # A parent field whose named children are the real fields.
    ([b"<< /T (address) /Kids [8 0 R 9 0 R] >>", b"<< /FT /Tx /T (street) /Parent 7 0 R >>",
      b"<< /FT /Tx /T (city) /Parent 7 0 R >>"], 2),
    # A field tree whose /Kids loop back to an ancestor.
    ([b"<< /T (loop) /Kids [8 0 R] >>", b"<< /FT /Tx /T (inner) /Kids [7 0 R] >>", b"<< >>"], 0),
])
def test_form_fields_count_terminal_fields(tmp_path: Path, fields: list[bytes], count: int) -> None:
    objects = [*with_catalog(text_page(), b" /AcroForm << /Fields [7 0 R] >>"), b"<< >>", *fields]
    assert parse(tmp_path, build_pdf(objects)).metadata["form_fields"] == count


def test_values_are_json_serialisable(tmp_path: Path) -> None:
    metadata = dict(parse(tmp_path, full_pdf()).metadata)
    assert json.loads(json.dumps(metadata)) == metadata
