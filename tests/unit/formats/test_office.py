"""DOCX/XLSX/PPTX parsers on real files written by python-docx, openpyxl and python-pptx.

Hostile files (zip bombs, entity bombs, external entities, encrypted and
damaged files) are built with the stdlib ``zipfile`` so each stays a few KiB.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest
from docx.shared import Inches
from openpyxl.chart import BarChart, Reference
from PIL import Image

from extractor.extract import Config, extract_file
from extractor.formats import Limits, MiB, ParseError
from extractor.formats.office import NOTE_PROTECTED, parse_docx, parse_pptx, parse_xlsx
from extractor.formats.xmlparts import MAX_TEXT_CHARS, UNSAFE_XML

LIMITS = Limits()
SMALL = Limits(max_unpacked_bytes=1 * MiB)

CORE_NS = ('xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
W_NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml"')

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
              for i in range(1, 10))
    + ']>\n<cp:coreProperties {ns}><dc:title>&lol9;</dc:title></cp:coreProperties>'
).format(ns=CORE_NS)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    f'<cp:coreProperties {CORE_NS}><dc:title>&xxe;</dc:title></cp:coreProperties>'
)
DTD_ONLY = '<?xml version="1.0"?>\n<!DOCTYPE worksheet SYSTEM "http://example.invalid/x.dtd">\n<worksheet/>'


def core_xml(**fields: str) -> str:
    """A core-properties part with the given elements, e.g. ``title="Q1"`` -> ``dc:title``."""
    tags = {"title": "dc:title", "creator": "dc:creator", "lastModifiedBy": "cp:lastModifiedBy",
            "revision": "cp:revision", "created": "dcterms:created", "modified": "dcterms:modified"}
    body = "".join(f"<{tags[k]}>{v}</{tags[k]}>" for k, v in fields.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<cp:coreProperties {CORE_NS}>{body}</cp:coreProperties>'


def app_xml(**stats: str) -> str:
    """An extended-properties part with the given statistics, e.g. ``Pages="3"``."""
    body = "".join(f"<{k}>{v}</{k}>" for k, v in stats.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Properties xmlns="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/extended-properties">{body}</Properties>')


def rewrite(path: Path, replace: dict[str, str | bytes] | None = None, drop: tuple[str, ...] = ()) -> Path:
    """Rewrite the zip at ``path`` with members replaced, added (``replace``) or dropped."""
    replace = dict(replace or {})
    with zipfile.ZipFile(path) as src:
        items = [(i.filename, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in items:
            if name in drop:
                continue
            value = replace.pop(name, data)
            dst.writestr(name, value)
        for name, value in replace.items():
            dst.writestr(name, value)
    return path


def add_zeros(path: Path, name: str, mib: int) -> Path:
    """Append (or replace) member ``name`` holding ``mib`` MiB of zeros, streamed so the file stays tiny."""
    rewrite(path, drop=(name,))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w") as member:
        for _ in range(mib):
            member.write(bytes(MiB))
    return path


def png() -> io.BytesIO:
    """A tiny PNG picture."""
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    buf.seek(0)
    return buf


# --- DOCX ---------------------------------------------------------------------------------------

def make_docx(path: Path) -> Path:
    """A Word document with known properties, 3 text paragraphs, 1 table, 2 picture placements."""
    d = docx.Document()
    props = d.core_properties
    props.title, props.author, props.last_modified_by = "Quarterly Report", "Ada Lovelace", "Grace Hopper"
    props.revision = 7
    props.created = dt.datetime(2026, 1, 2, 3, 4, 5)
    props.modified = dt.datetime(2026, 2, 3, 4, 5, 6)
    d.add_paragraph("Hello world, this is")       # 4 words
    p = d.add_paragraph()
    p.add_run("split")                            # "split" + "word here" -> 2 words
    p.add_run("word here")
    d.add_paragraph("")                           # empty: not a paragraph with text
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "cell one"            # 2 words, 1 paragraph
    d.add_picture(png(), width=Inches(1))
    d.add_picture(png(), width=Inches(1))         # the same picture placed twice
    d.save(path)
    return rewrite(path, {"docProps/app.xml": app_xml(Pages="3", Words="120", Characters="700",
                                                      Paragraphs="9")})


def test_docx_fields(tmp_path: Path) -> None:
    parsed = parse_docx(make_docx(tmp_path / "report.docx"), LIMITS)
    assert dict(parsed.metadata) == {
        "title": "Quarterly Report", "author": "Ada Lovelace", "last_modified_by": "Grace Hopper",
        "revision": 7, "created": "2026-01-02T03:04:05Z", "modified": "2026-02-03T04:05:06Z",
        "pages": 3, "words": 120, "characters": 700,
        "paragraphs": 3, "tables": 1, "images": 2, "word_count": 8,
    }
    assert parsed.flags == frozenset()


def minimal_docx(path: Path, body: str, extra: dict[str, str | bytes] | None = None) -> Path:
    """A Word package with just a content-types part and ``body`` inside ``w:body``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                    'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        zf.writestr("word/document.xml", f"<w:document {W_NS}><w:body>{body}</w:body></w:document>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_docx_without_docprops_reports_what_exists(tmp_path: Path) -> None:
    path = rewrite(make_docx(tmp_path / "bare.docx"), drop=("docProps/core.xml", "docProps/app.xml"))
    assert dict(parse_docx(path, LIMITS).metadata) == {
        "paragraphs": 3, "tables": 1, "images": 2, "word_count": 8}


def test_docx_counts_words_across_runs_tabs_and_text_boxes_once(tmp_path: Path) -> None:
    body = (
        "<w:p><w:r><w:t>Net</w:t></w:r><w:r><w:t>work</w:t></w:r><w:r><w:tab/><w:t>costs</w:t></w:r>"
        "<w:r><w:t xml:space=\"preserve\"> rose </w:t></w:r><w:r><w:t>again</w:t></w:r></w:p>"  # 4
        "<w:p><w:r><w:t>one</w:t><w:br/><w:t>two</w:t></w:r></w:p>"  # 2
        "<w:p><w:r><w:t xml:space=\"preserve\">   </w:t></w:r></w:p>"  # blank: no paragraph
        "<w:p><w:r><mc:AlternateContent>"
        "<mc:Choice Requires=\"wps\"><w:txbxContent><w:p><w:r><w:t>boxed text</w:t></w:r></w:p>"
        "</w:txbxContent><a:blip/></mc:Choice>"
        "<mc:Fallback><w:pict><v:imagedata/><w:txbxContent><w:p><w:r><w:t>boxed text</w:t></w:r></w:p>"
        "<w:tbl/></w:txbxContent></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r></w:p>"  # 2 words, 1 picture, in a nested paragraph
        "<w:tbl><w:tr><w:tc><w:tbl><w:tr><w:tc><w:p><w:r><w:delText>gone</w:delText></w:r></w:p>"
        "</w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl>"  # 2 tables, deleted text not counted
        "<w:p><w:r><w:pict><v:imagedata/></w:pict></w:r></w:p>"  # a legacy picture
    )
    parsed = parse_docx(minimal_docx(tmp_path / "runs.docx", body), LIMITS)
    assert dict(parsed.metadata) == {"paragraphs": 3, "tables": 2, "images": 2, "word_count": 8}


def test_docx_images_count_stored_pictures_when_body_places_fewer(tmp_path: Path) -> None:
    media = {"word/media/image1.png": png().getvalue(), "word/media/logo.JPEG": b"\xff\xd8",
             "word/media/clip.mp4": b"\x00"}
    parsed = parse_docx(minimal_docx(tmp_path / "header.docx", "<w:p/>", media), LIMITS)
    assert parsed.metadata["images"] == 2


@pytest.mark.parametrize("extra", [
    {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"},
    {"[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                            '<Override PartName="/word/document.xml" ContentType="application/'
                            'vnd.ms-word.document.macroEnabled.main+xml"/></Types>'},
], ids=["vba-project", "macro-enabled-type"])
def test_docm_is_flagged_macros(tmp_path: Path, extra: dict[str, str | bytes]) -> None:
    path = rewrite(make_docx(tmp_path / "macro.docm"), extra)
    parsed = parse_docx(path, LIMITS)
    assert parsed.flags == {"macros"}
    assert parsed.metadata["title"] == "Quarterly Report"


def test_docx_zip_bomb_stops_at_the_limit_keeping_properties(tmp_path: Path) -> None:
    path = add_zeros(make_docx(tmp_path / "bomb.docx"), "word/document.xml", 4)
    assert path.stat().st_size < 100_000
    with pytest.raises(ParseError, match=r"beyond the 1 MiB limit \(possible zip bomb\)") as e:
        parse_docx(path, SMALL)
    assert e.value.metadata["title"] == "Quarterly Report"


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_docx_unsafe_core_xml_is_refused(tmp_path: Path, hostile: str) -> None:
    path = rewrite(make_docx(tmp_path / "evil.docx"), {"docProps/core.xml": hostile})
    with pytest.raises(ParseError) as e:
        parse_docx(path, LIMITS)
    assert e.value.reason == UNSAFE_XML
    assert e.value.metadata == {}


def test_docx_unsafe_document_xml_is_refused_with_properties(tmp_path: Path) -> None:
    path = rewrite(make_docx(tmp_path / "evil.docx"),
                   {"word/document.xml": BILLION_LAUGHS.replace("cp:coreProperties", "w:document")})
    with pytest.raises(ParseError) as e:
        parse_docx(path, LIMITS)
    assert e.value.reason == UNSAFE_XML
    assert e.value.metadata["author"] == "Ada Lovelace"


def test_docx_truncated_and_garbage_files_are_damaged(tmp_path: Path) -> None:
    good = make_docx(tmp_path / "good.docx").read_bytes()
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "garbage.docx"
    garbage.write_bytes(b"this is not a zip file at all" * 10)
    for path in (truncated, garbage):
        with pytest.raises(ParseError, match=r"^damaged document: it is not a readable zip container$"):
            parse_docx(path, LIMITS)


def test_docx_missing_main_part_and_bad_xml_are_damaged(tmp_path: Path) -> None:
    path = rewrite(make_docx(tmp_path / "nobody.docx"), drop=("word/document.xml",))
    with pytest.raises(ParseError, match=r"^damaged document: word/document.xml is missing$"):
        parse_docx(path, LIMITS)
    path = rewrite(make_docx(tmp_path / "broken.docx"), {"word/document.xml": "<w:document><w:body>"})
    with pytest.raises(ParseError, match=r"^damaged document: word/document.xml is not valid XML$"):
        parse_docx(path, LIMITS)


def test_docx_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    path = minimal_docx(tmp_path / "deep.docx", "<w:tbl>" * 20 + "</w:tbl>" * 20)
    with pytest.raises(ParseError, match=r"nested too deeply: word/document.xml goes beyond 10 levels"):
        parse_docx(path, Limits(max_depth=10))


def test_docx_main_part_found_through_package_relationships(tmp_path: Path) -> None:
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="/word/main.xml"/>'
            '<Relationship Id="r2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="props/core.xml"/></Relationships>')
    path = minimal_docx(tmp_path / "moved.docx", "", {
        "_rels/.rels": rels, "props/core.xml": core_xml(title="Moved"),
        "word/main.xml": f"<w:document {W_NS}><w:body><w:p><w:r><w:t>a b c</w:t></w:r></w:p></w:body></w:document>",
    })
    assert dict(parse_docx(path, LIMITS).metadata) == {
        "title": "Moved", "paragraphs": 1, "tables": 0, "images": 0, "word_count": 3}


PROTECTED = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600) + "EncryptedPackage".encode("utf-16-le")


@pytest.mark.parametrize(("name", "what"), [("secret.docx", "document"), ("secret.XLSX", "spreadsheet"),
                                            ("secret.pptm", "presentation")])
def test_password_protected_office_file_is_processed_not_failed(tmp_path: Path, name: str, what: str) -> None:
    """Through detection too: the CFB wrapper is the named kind, not a legacy file or a type mismatch."""
    path = tmp_path / name
    path.write_bytes(PROTECTED)
    result = extract_file(path, name, Config())
    assert (result.status.value, result.format, result.flags) == ("processed", name.rpartition(".")[2].lower(),
                                                                  ("password_protected",))
    assert dict(result.metadata) == {"note": NOTE_PROTECTED.format(what=what)}


def test_a_protected_package_under_another_name_is_a_legacy_office_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.bin"
    path.write_bytes(PROTECTED)
    assert extract_file(path, path.name, Config()).format == "ole"


def test_a_legacy_office_file_is_no_package(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.doc"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(ParseError, match=r"^damaged document") as e:
        parse_docx(legacy, LIMITS)
    assert e.value.flags == frozenset()


def test_core_properties_are_cleaned(tmp_path: Path) -> None:
    core = core_xml(title="  " + "T" * (MAX_TEXT_CHARS + 50) + " ", creator="   ", lastModifiedBy="",
                    revision="draft", created="2026-01-02T03:04:05+00:00", modified="last tuesday")
    path = rewrite(make_docx(tmp_path / "odd.docx"), {"docProps/core.xml": core,
                                                       "docProps/app.xml": app_xml(Pages="-1", Words="x")})
    meta = parse_docx(path, LIMITS).metadata
    assert meta["title"] == "T" * MAX_TEXT_CHARS
    assert meta["created"] == "2026-01-02T03:04:05Z"
    for absent in ("author", "last_modified_by", "revision", "modified", "pages", "words", "characters"):
        assert absent not in meta


# --- XLSX ---------------------------------------------------------------------------------------

XLSX_CORE = core_xml(title="Budget 2026", creator="Bob Builder", created="2026-03-04T05:06:07Z",
                     modified="2026-03-05T06:07:08Z")


def make_xlsx(path: Path, formulas: bool = True) -> Path:
    """A workbook with 3 sheets (one empty), 6 non-empty cells and, optionally, a formula."""
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Data"
    data["B2"], data["C3"], data["D20"] = 10, "=B2*2" if formulas else 20, "total"
    data["E5"] = ""  # an empty string is not content
    notes = wb.create_sheet("Notes")
    for row in (1, 2, 3):
        notes.cell(row=row, column=1, value=f"note {row}")
    wb.create_sheet("Empty")
    wb.save(path)
    return rewrite(path, {"docProps/core.xml": XLSX_CORE})


def test_xlsx_fields(tmp_path: Path) -> None:
    parsed = parse_xlsx(make_xlsx(tmp_path / "budget.xlsx"), LIMITS)
    assert dict(parsed.metadata) == {
        "title": "Budget 2026", "author": "Bob Builder",
        "created": "2026-03-04T05:06:07Z", "modified": "2026-03-05T06:07:08Z",
        "sheets": [{"name": "Data", "dimension": "B2:D20"}, {"name": "Notes", "dimension": "A1:A3"},
                   {"name": "Empty"}],
        "sheet_count": 3, "cells": 6, "has_formulas": True,
    }
    assert parsed.flags == frozenset()


def test_xlsx_without_formulas_or_docprops(tmp_path: Path) -> None:
    path = rewrite(make_xlsx(tmp_path / "plain.xlsx", formulas=False), drop=("docProps/core.xml",))
    meta = parse_xlsx(path, LIMITS).metadata
    assert meta["has_formulas"] is False
    assert meta["cells"] == 6
    assert "title" not in meta
    assert "author" not in meta


def test_xlsx_ignores_a_false_declared_dimension(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "liar.xlsx")
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet2.xml").decode()
    assert '<dimension ref="A1:A3"/>' in sheet
    path = rewrite(path, {"xl/worksheets/sheet2.xml": sheet.replace('ref="A1:A3"', 'ref="A1:XFD1048576"')})
    assert parse_xlsx(path, LIMITS).metadata["sheets"][1] == {"name": "Notes", "dimension": "A1:A3"}


def test_xlsx_chart_sheet_is_listed_without_a_dimension(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for i in range(1, 4):
        ws.append([i, i * 2])
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3))
    wb.create_chartsheet("Chart").add_chart(chart)
    wb.save(tmp_path / "chart.xlsx")
    meta = parse_xlsx(tmp_path / "chart.xlsx", LIMITS).metadata
    assert meta["sheets"] == [{"name": "Data", "dimension": "A1:B3"}, {"name": "Chart"}]
    assert (meta["sheet_count"], meta["cells"], meta["has_formulas"]) == (2, 6, False)


def test_xlsm_is_flagged_macros(tmp_path: Path) -> None:
    path = rewrite(make_xlsx(tmp_path / "macro.xlsm"), {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"})
    parsed = parse_xlsx(path, LIMITS)
    assert parsed.flags == {"macros"}
    assert parsed.metadata["sheet_count"] == 3


def test_xlsx_zip_bomb_in_a_sheet_stops_at_the_limit(tmp_path: Path) -> None:
    path = add_zeros(make_xlsx(tmp_path / "bomb.xlsx"), "xl/worksheets/sheet1.xml", 4)
    assert path.stat().st_size < 100_000
    with pytest.raises(ParseError, match=r"^spreadsheet expands beyond the 1 MiB limit \(possible zip bomb\)$"):
        parse_xlsx(path, SMALL)


def test_xlsx_bomb_in_a_member_the_fields_do_not_need_is_never_decompressed(tmp_path: Path) -> None:
    path = add_zeros(make_xlsx(tmp_path / "bomb.xlsx"), "xl/media/image1.png", 4)
    assert parse_xlsx(path, SMALL).metadata["sheet_count"] == 3


@pytest.mark.parametrize(("member", "hostile"), [
    ("docProps/core.xml", BILLION_LAUGHS),
    ("docProps/core.xml", EXTERNAL_ENTITY),
    ("xl/worksheets/sheet1.xml", BILLION_LAUGHS.replace("cp:coreProperties", "worksheet")),
    ("xl/worksheets/sheet1.xml", DTD_ONLY),
    ("xl/workbook.xml", EXTERNAL_ENTITY.replace("cp:coreProperties", "workbook")),
], ids=["core-laughs", "core-xxe", "sheet-laughs", "sheet-external-dtd", "workbook-xxe"])
def test_xlsx_unsafe_xml_is_refused(tmp_path: Path, member: str, hostile: str) -> None:
    path = rewrite(make_xlsx(tmp_path / "evil.xlsx"), {member: hostile})
    with pytest.raises(ParseError) as e:
        parse_xlsx(path, LIMITS)
    assert e.value.reason == UNSAFE_XML


def test_xlsx_damaged_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"\x00\x01 not a workbook")
    with pytest.raises(ParseError, match=r"^damaged spreadsheet: it is not a readable zip container$"):
        parse_xlsx(garbage, LIMITS)
    path = rewrite(make_xlsx(tmp_path / "nobook.xlsx"), drop=("xl/workbook.xml",))
    with pytest.raises(ParseError, match=r"^damaged spreadsheet: xl/workbook.xml is missing$") as e:
        parse_xlsx(path, LIMITS)
    assert e.value.metadata["title"] == "Budget 2026"
    path = rewrite(make_xlsx(tmp_path / "badsheet.xlsx"), {"xl/worksheets/sheet1.xml": "<worksheet><sheetData>"})
    with pytest.raises(ParseError, match=r"^damaged spreadsheet: xl/worksheets/sheet1.xml is not well-formed XML$"):
        parse_xlsx(path, LIMITS)


# --- PPTX ---------------------------------------------------------------------------------------

def make_pptx(path: Path, notes: bool = True) -> Path:
    """A 3-slide presentation with known properties; slide 2 has speaker notes if ``notes``."""
    prs = pptx.Presentation()
    props = prs.core_properties
    props.title, props.author = "Sales Kickoff", "Carol Danvers"
    props.created = dt.datetime(2026, 4, 5, 6, 7, 8)
    props.modified = dt.datetime(2026, 4, 6, 7, 8, 9)
    slides = [prs.slides.add_slide(prs.slide_layouts[1]) for _ in range(3)]
    slides[0].shapes.title.text = "Welcome"
    if notes:
        slides[1].notes_slide.notes_text_frame.text = "Remember the numbers"
    prs.save(path)
    return path


def test_pptx_fields(tmp_path: Path) -> None:
    parsed = parse_pptx(make_pptx(tmp_path / "deck.pptx"), LIMITS)
    meta = dict(parsed.metadata)
    assert meta.pop("last_modified_by") == "Steve Canny"  # python-pptx's template says so
    assert meta == {
        "title": "Sales Kickoff", "author": "Carol Danvers", "revision": 1,
        "created": "2026-04-05T06:07:08Z", "modified": "2026-04-06T07:08:09Z",
        "slides": 3, "has_notes": True,
    }
    assert parsed.flags == frozenset()


def test_pptx_without_notes_or_docprops(tmp_path: Path) -> None:
    path = rewrite(make_pptx(tmp_path / "plain.pptx", notes=False),
                   drop=("docProps/core.xml", "docProps/app.xml"))
    assert dict(parse_pptx(path, LIMITS).metadata) == {"slides": 3, "has_notes": False}


def test_pptx_counts_only_listed_slides(tmp_path: Path) -> None:
    path = make_pptx(tmp_path / "sections.pptx")
    with zipfile.ZipFile(path) as zf:
        pres = zf.read("ppt/presentation.xml").decode()
    sections = ('<p:extLst><p:ext uri="{521415D9-36F7-43E2-AB2F-B90AF26B5E84}"><p14:sectionLst '
                'xmlns:p14="http://schemas.microsoft.com/office/powerpoint/2010/main"><p14:section name="A" '
                'id="{00000000-0000-0000-0000-000000000001}"><p14:sldIdLst><p14:sldId id="256"/>'
                '<p14:sldId id="257"/></p14:sldIdLst></p14:section></p14:sectionLst></p:ext></p:extLst>')
    path = rewrite(path, {"ppt/presentation.xml": pres.replace("</p:presentation>", sections + "</p:presentation>"),
                          "ppt/slides/slide99.xml": "<p:sld/>"})
    assert parse_pptx(path, LIMITS).metadata["slides"] == 3


def test_pptm_is_flagged_macros(tmp_path: Path) -> None:
    path = rewrite(make_pptx(tmp_path / "macro.pptm"), {"ppt/vbaProject.bin": b"\xd0\xcf\x11\xe0 vba"})
    assert parse_pptx(path, LIMITS).flags == {"macros"}


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_pptx_unsafe_core_xml_is_refused(tmp_path: Path, hostile: str) -> None:
    path = rewrite(make_pptx(tmp_path / "evil.pptx"), {"docProps/core.xml": hostile})
    with pytest.raises(ParseError) as e:
        parse_pptx(path, LIMITS)
    assert e.value.reason == UNSAFE_XML


def test_pptx_damaged_files(tmp_path: Path) -> None:
    path = rewrite(make_pptx(tmp_path / "nopres.pptx"), drop=("ppt/presentation.xml",))
    with pytest.raises(ParseError, match=r"^damaged presentation: ppt/presentation.xml is missing$") as e:
        parse_pptx(path, LIMITS)
    assert e.value.metadata["title"] == "Sales Kickoff"
    path = add_zeros(make_pptx(tmp_path / "bomb.pptx"), "ppt/presentation.xml", 3)
    with pytest.raises(ParseError, match=r"^presentation expands beyond the 1 MiB limit"):
        parse_pptx(path, SMALL)
    garbage = tmp_path / "garbage.pptx"
    garbage.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ParseError, match=r"^damaged presentation: it is not a readable zip container$"):
        parse_pptx(garbage, LIMITS)
