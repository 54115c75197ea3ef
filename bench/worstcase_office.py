"""Worst-case Office Open XML and OpenDocument files for :mod:`bench.worstcase`.

Each is a package a parser must walk at its most expensive per byte: parts by
the thousand, relationships by the hundred thousand, or parts that inflate to
tens of megabytes of tiny elements.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterable

from bench.corpus import WORDS

#: Zip members' time stamp, fixed so a case is the same bytes every time.
_WHEN = (2026, 1, 2, 3, 4, 5)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def zipped(members: Iterable[tuple[str, bytes | str]], *, deflate: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, _WHEN)
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            z.writestr(info, data)
    return out.getvalue()


# --- Office Open XML and OpenDocument -------------------------------------------------------------

_PKG = "http://schemas.openxmlformats.org/package/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
_CORE = (f'<cp:coreProperties xmlns:cp="{_PKG}/metadata/core-properties" '
         'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Worst case</dc:title>'
         "<dc:creator>DocPortal bench</dc:creator></cp:coreProperties>")


def _rel(rid: str, kind: str, target: str) -> str:
    return f'<Relationship Id="{rid}" Type="{_REL}/{kind}" Target="{target}"/>'


def _rels(inner: str) -> str:
    return f'<Relationships xmlns="{_PKG}/relationships">{inner}</Relationships>'


def _ooxml(main: str, body: str, *extra: tuple[str, bytes | str], package_rels: str = "") -> bytes:
    """An Office package: content types, package relationships, core properties, ``main`` and ``extra``."""
    core = (f'<Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/>')
    rels = _rels(_rel("rId1", "officeDocument", main) + core + package_rels)
    types = (f'<Types xmlns="{_PKG}/content-types"><Default Extension="xml" ContentType="application/xml"/>'
             "</Types>")
    return zipped([("[Content_Types].xml", types), ("_rels/.rels", rels), ("docProps/core.xml", _CORE),
                 (main, body), *extra])


def _document(paragraphs: Iterable[str]) -> str:
    return f"<w:document {_W}><w:body>{''.join(paragraphs)}</w:body></w:document>"


def docx_body() -> bytes:
    """A long report: 375,000 paragraphs of three short runs each (about 150 MB of XML)."""
    rng = random.Random(1)
    runs = [f"<w:r><w:t xml:space=\"preserve\">{_words(rng, 3)} </w:t></w:r>" for _ in range(997)]
    return _ooxml("word/document.xml", _document(
        f"<w:p>{runs[i % 997]}{runs[i * 7 % 997]}{runs[i * 13 % 997]}</w:p>" for i in range(375_000)))


def docx_parts() -> bytes:
    """19,990 parts (embedded pictures) under the 20,000-member cap, each related to the document."""
    images = [(f"word/media/image{i}.png", b"\x89PNG\r\n\x1a\n") for i in range(19_986)]
    rels = "".join(_rel(f"rId{i}", "image", name[5:]) for i, (name, _) in enumerate(images))
    blip = f'<a:blip xmlns:a="{_A}" xmlns:r="{_REL}" r:embed="rId{{}}"/>'
    body = _document(f"<w:p><w:r><w:drawing>{blip.format(i)}</w:drawing></w:r></w:p>" for i in range(2_000))
    return _ooxml("word/document.xml", body, *images, ("word/_rels/document.xml.rels", _rels(rels)))


def docx_rels() -> bytes:
    """Package relationships 400,000 long, and a chain of 5,000 parts each relating the next."""
    chain = [(f"customXml/item{i}.xml", "<r/>") for i in range(5_000)]
    chain += [(f"customXml/_rels/item{i}.xml.rels", _rels(_rel("rId1", "customXml", f"item{i + 1}.xml")))
              for i in range(4_999)]
    rels = "".join(_rel(f"rId{i + 3}", "customXml", f"customXml/item{i % 5_000}.xml") for i in range(400_000))
    return _ooxml("word/document.xml", _document(["<w:p><w:r><w:t>Hello</w:t></w:r></w:p>"]), *chain,
                  package_rels=rels)


def _workbook(sheets: int) -> tuple[tuple[str, str], tuple[str, str]]:
    names = "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}" xmlns:r="{_REL}"/>'
                    for i in range(1, sheets + 1))
    rels = "".join(_rel(f"rId{i}", "worksheet", f"worksheets/sheet{i}.xml") for i in range(1, sheets + 1))
    return (("xl/_rels/workbook.xml.rels", _rels(rels)),
            ("xl/workbook.xml", f"<workbook {_S}><sheets>{names}</sheets></workbook>"))


def _sheet(rows: Iterable[str]) -> str:
    return f"<worksheet {_S}><sheetData>{''.join(rows)}</sheetData></worksheet>"


def _column(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsx_cells() -> bytes:
    """One sheet of 1,100,000 tiny numeric cells, 20 to a row."""
    columns = [_column(c) for c in range(1, 21)]
    rows = (f'<row r="{r}">' + "".join(f'<c r="{col}{r}"><v>{(r * c) % 97}</v></c>'
                                       for c, col in enumerate(columns)) + "</row>"
            for r in range(1, 55_001))
    rels, book = _workbook(1)
    return _ooxml("xl/workbook.xml", book[1], rels, ("xl/worksheets/sheet1.xml", _sheet(rows)))


def xlsx_strings() -> bytes:
    """A 4 MB shared-strings table of 300,000 short texts, used by a sheet of 300,000 cells."""
    rng = random.Random(2)
    strings = "".join(f"<si><t>{_words(rng, 2)}</t></si>" for _ in range(300_000))
    rows = (f'<row r="{r}">' + "".join(f'<c r="{col}{r}" t="s"><v>{r * 3 + c}</v></c>'
                                       for c, col in enumerate("ABC")) + "</row>" for r in range(1, 100_001))
    rels, book = _workbook(1)
    return _ooxml("xl/workbook.xml", book[1], rels, ("xl/worksheets/sheet1.xml", _sheet(rows)),
                  ("xl/sharedStrings.xml", f'<sst {_S} count="300000">{strings}</sst>'))


def xlsx_sheets() -> bytes:
    """9,000 sheets of ten cells each."""
    rels, book = _workbook(9_000)
    sheet = _sheet(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 11))
    return _ooxml("xl/workbook.xml", book[1], rels,
                  *((f"xl/worksheets/sheet{i}.xml", sheet) for i in range(1, 9_001)))


def pptx_slides() -> bytes:
    """6,000 slides, each with its relationships and a notes page (18,000 parts)."""
    ids = "".join(f'<p:sldId id="{256 + i}" r:id="rId{i}" xmlns:r="{_REL}"/>' for i in range(1, 6_001))
    slide = f"<p:sld {_P}><p:cSld><p:spTree/></p:cSld></p:sld>"
    parts: list[tuple[str, bytes | str]] = []
    for i in range(1, 6_001):
        parts += [(f"ppt/slides/slide{i}.xml", slide),
                  (f"ppt/slides/_rels/slide{i}.xml.rels",
                   _rels(_rel("rId1", "notesSlide", f"../notesSlides/notesSlide{i}.xml"))),
                  (f"ppt/notesSlides/notesSlide{i}.xml", f"<p:notes {_P}/>")]
    deck = f"<p:presentation {_P}><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"
    return _ooxml("ppt/presentation.xml", deck, *parts)


_ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"')
_ODF_META = ('<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
             'xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>Worst case</dc:title>'
             "</office:meta></office:document-meta>")


def _odf(kind: str, body: str) -> bytes:
    return zipped([("mimetype", f"application/vnd.oasis.opendocument.{kind}"), ("meta.xml", _ODF_META),
                 ("content.xml", f"<office:document-content {_ODF_NS}><office:body>{body}</office:body>"
                                 "</office:document-content>")])


def ods_content() -> bytes:
    """A spreadsheet of 95 tables, 950,000 cells, whose meta.xml has no table count to trust."""
    def row(r: int) -> str:
        return "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="float" office:value="{r * c % 997}"><text:p>{r * c % 997}'
            "</text:p></table:table-cell>" for c in range(10)) + "</table:table-row>"
    tables = "".join(f'<table:table table:name="T{t}">' + "".join(row(t * 1_000 + r) for r in range(1_000))
                     + "</table:table>" for t in range(95))
    return _odf("spreadsheet", f"<office:spreadsheet>{tables}</office:spreadsheet>")


def odp_pages() -> bytes:
    """A presentation of 200,000 pages, counted in its content."""
    pages = "".join(f'<draw:page draw:name="p{i}"><draw:frame/></draw:page>' for i in range(200_000))
    return _odf("presentation", f"<office:presentation>{pages}</office:presentation>")

