"""OpenDocument parser on ODT/ODS/ODP packages written here with the stdlib ``zipfile``."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from extractor.formats import Limits, MiB, ParseError
from extractor.formats.odf import NOTE_PROTECTED, parse_odf
from extractor.formats.xmlparts import UNSAFE_XML

LIMITS = Limits()
SMALL = Limits(max_unpacked_bytes=1 * MiB)

MIME = "application/vnd.oasis.opendocument."
NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
MANIFEST_NS = 'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
              for i in range(1, 10))
    + f']>\n<office:document-meta {NS}><office:meta><dc:title>&lol9;</dc:title></office:meta>'
      '</office:document-meta>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    f'<office:document-meta {NS}><office:meta><dc:title>&xxe;</dc:title></office:meta></office:document-meta>'
)


def meta_xml(inner: str) -> str:
    """A ``meta.xml`` whose ``office:meta`` holds ``inner``."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta {NS} office:version="1.3">'
            f"<office:meta>{inner}</office:meta></office:document-meta>")


def content_xml(body: str) -> str:
    """A ``content.xml`` whose ``office:body`` holds ``body``."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {NS}>'
            f"<office:automatic-styles/><office:body>{body}</office:body></office:document-content>")


def manifest_xml(media_type: str, encrypted: tuple[str, ...] = ()) -> str:
    """A manifest naming the package's media type, with ``encrypted`` members marked so."""
    entries = "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>'
        "</manifest:file-entry>" for name in encrypted)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest {MANIFEST_NS} manifest:version="1.3">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{media_type}"/>{entries}'
            "</manifest:manifest>")


def make_odf(path: Path, kind: str | None, members: dict[str, str | bytes], manifest: str | None = None) -> Path:
    """An OpenDocument zip: ``mimetype`` first and stored (when ``kind``), a manifest, then ``members``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if kind is not None:
            zf.writestr("mimetype", MIME + kind, compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest or manifest_xml(MIME + (kind or "text")))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


ODT_META = meta_xml(
    "<meta:generator>LibreOffice/25.2</meta:generator><dc:title>Annual Review</dc:title>"
    "<meta:initial-creator>Dana Scully</meta:initial-creator><dc:creator>Fox Mulder</dc:creator>"
    "<meta:creation-date>2026-01-02T03:04:05.120000000</meta:creation-date>"
    "<dc:date>2026-02-03T04:05:06+00:00</dc:date>"
    '<meta:document-statistic meta:table-count="2" meta:image-count="1" meta:page-count="4" '
    'meta:paragraph-count="30" meta:word-count="1234" meta:character-count="7000"/>')
ODT_CONTENT = content_xml("<office:text><text:p>Hello</text:p></office:text>")


def make_odt(path: Path, **members: str | bytes) -> Path:
    """A text document with known properties and statistics; ``members`` override or add parts."""
    return make_odf(path, "text", {"meta.xml": ODT_META, "content.xml": ODT_CONTENT, **members})


def sheets_content(names: tuple[str, ...]) -> str:
    """Spreadsheet content with one ``table:table`` per name (and distractors that are not sheets)."""
    tables = "".join(f'<table:table table:name="{n}"><table:table-row><table:table-cell/></table:table-row>'
                     "</table:table>" for n in names)
    return content_xml(f"<office:spreadsheet><table:calculation-settings/>{tables}"
                       "<table:named-expressions/></office:spreadsheet>")


def slides_content(count: int) -> str:
    """Presentation content with ``count`` slides, each with speaker notes."""
    pages = "".join(f'<draw:page draw:name="page{i}"><draw:frame/><presentation:notes>'
                    "<draw:page-thumbnail/></presentation:notes></draw:page>" for i in range(count))
    return content_xml(f"<office:presentation>{pages}<presentation:settings/></office:presentation>")


def test_odt_fields(tmp_path: Path) -> None:
    parsed = parse_odf(make_odt(tmp_path / "review.odt"), LIMITS)
    assert dict(parsed.metadata) == {
        "odf_type": "text", "title": "Annual Review", "author": "Dana Scully",
        "created": "2026-01-02T03:04:05.120000000", "modified": "2026-02-03T04:05:06Z",
        "pages": 4, "words": 1234,
    }
    assert parsed.flags == frozenset()


def test_odt_author_falls_back_to_creator(tmp_path: Path) -> None:
    meta = meta_xml("<dc:creator>Fox Mulder</dc:creator><dc:date>2026-02-03T04:05:06Z</dc:date>")
    parsed = parse_odf(make_odt(tmp_path / "memo.odt", **{"meta.xml": meta}), LIMITS)
    assert dict(parsed.metadata) == {"odf_type": "text", "author": "Fox Mulder",
                                     "modified": "2026-02-03T04:05:06Z"}


def test_ods_sheets_from_declared_table_count(tmp_path: Path) -> None:
    meta = meta_xml('<dc:title>Forecast</dc:title><meta:initial-creator>Eve</meta:initial-creator>'
                    '<meta:document-statistic meta:table-count="3" meta:cell-count="120" meta:page-count="9"/>')
    path = make_odf(tmp_path / "forecast.ods", "spreadsheet",
                    {"meta.xml": meta, "content.xml": sheets_content(("Q1", "Q2"))})
    assert dict(parse_odf(path, LIMITS).metadata) == {
        "odf_type": "spreadsheet", "title": "Forecast", "author": "Eve", "sheet_count": 3}


def test_ods_sheets_counted_in_content_without_statistics(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "plain.ods", "spreadsheet",
                    {"meta.xml": meta_xml("<dc:title>Plain</dc:title>"),
                     "content.xml": sheets_content(("North", "South", "East"))})
    assert dict(parse_odf(path, LIMITS).metadata) == {"odf_type": "spreadsheet", "title": "Plain", "sheet_count": 3}


def test_odp_slides_counted_in_content(tmp_path: Path) -> None:
    meta = meta_xml("<dc:title>Roadmap</dc:title><meta:creation-date>2026-05-06T07:08:09Z</meta:creation-date>"
                    '<meta:document-statistic meta:object-count="12" meta:page-count="40"/>')
    path = make_odf(tmp_path / "roadmap.odp", "presentation", {"meta.xml": meta, "content.xml": slides_content(5)})
    assert dict(parse_odf(path, LIMITS).metadata) == {
        "odf_type": "presentation", "title": "Roadmap", "created": "2026-05-06T07:08:09Z", "slides": 5}


def test_template_kind_and_missing_meta(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "deck.otp", "presentation-template", {"content.xml": slides_content(2)})
    assert dict(parse_odf(path, LIMITS).metadata) == {"odf_type": "presentation", "slides": 2}


def test_kind_from_manifest_when_mimetype_is_missing(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "nomime.ods", None, {"content.xml": sheets_content(("A", "B"))},
                    manifest=manifest_xml(MIME + "spreadsheet"))
    assert dict(parse_odf(path, LIMITS).metadata) == {"odf_type": "spreadsheet", "sheet_count": 2}


def test_other_opendocument_kinds_report_properties_only(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "drawing.odg", "graphics",
                    {"meta.xml": meta_xml("<dc:title>Floor plan</dc:title>"), "content.xml": content_xml("")})
    assert dict(parse_odf(path, LIMITS).metadata) == {"title": "Floor plan"}


def test_basic_macros_are_flagged(tmp_path: Path) -> None:
    path = make_odt(tmp_path / "macro.odt", **{"Basic/Standard/Module1.xml": "<script:module/>",
                                              "Basic/script-lc.xml": "<library:libraries/>"})
    assert parse_odf(path, LIMITS).flags == {"macros"}


def test_password_protected_odf_is_processed_with_its_readable_properties(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "secret.odt", "text",
                    {"meta.xml": ODT_META, "content.xml": b"\x8a\x13 encrypted bytes"},
                    manifest=manifest_xml(MIME + "text", encrypted=("content.xml", "styles.xml")))
    parsed = parse_odf(path, LIMITS)
    assert parsed.flags == {"password_protected"}
    assert parsed.metadata["note"] == NOTE_PROTECTED.format(what="document")
    assert (parsed.metadata["title"], parsed.metadata["pages"]) == ("Annual Review", 4)


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "xxe"])
def test_unsafe_meta_xml_is_refused(tmp_path: Path, hostile: str) -> None:
    with pytest.raises(ParseError) as e:
        parse_odf(make_odt(tmp_path / "evil.odt", **{"meta.xml": hostile}), LIMITS)
    assert e.value.reason == UNSAFE_XML


def test_unsafe_content_xml_is_refused_with_properties(tmp_path: Path) -> None:
    hostile = BILLION_LAUGHS.replace("office:document-meta", "office:document-content")
    path = make_odf(tmp_path / "evil.odp", "presentation",
                    {"meta.xml": meta_xml("<dc:title>Roadmap</dc:title>"), "content.xml": hostile})
    with pytest.raises(ParseError) as e:
        parse_odf(path, LIMITS)
    assert e.value.reason == UNSAFE_XML
    assert e.value.metadata == {"odf_type": "presentation", "title": "Roadmap"}


def test_unsafe_manifest_is_refused(tmp_path: Path) -> None:
    hostile = EXTERNAL_ENTITY.replace("office:document-meta", "manifest:manifest")
    with pytest.raises(ParseError) as e:
        parse_odf(make_odf(tmp_path / "evil.odt", "text", {"meta.xml": ODT_META}, manifest=hostile), LIMITS)
    assert e.value.reason == UNSAFE_XML


def test_zip_bomb_content_stops_at_the_limit(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "bomb.ods", "spreadsheet", {"meta.xml": meta_xml("<dc:title>Boom</dc:title>")})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("content.xml", "w") as member:
        for _ in range(4):
            member.write(bytes(MiB))
    assert path.stat().st_size < 100_000
    with pytest.raises(ParseError) as e:
        parse_odf(path, SMALL)
    assert e.value.reason == "spreadsheet expands beyond the 1 MiB limit (possible zip bomb)"
    assert e.value.metadata == {"odf_type": "spreadsheet", "title": "Boom"}


def test_missing_content_for_a_presentation_is_damaged(tmp_path: Path) -> None:
    path = make_odf(tmp_path / "empty.odp", "presentation", {"meta.xml": meta_xml("<dc:title>Hollow</dc:title>")})
    with pytest.raises(ParseError) as e:
        parse_odf(path, LIMITS)
    assert e.value.reason == "damaged presentation: content.xml is missing"
    assert e.value.metadata == {"odf_type": "presentation", "title": "Hollow"}


def test_damaged_and_foreign_files(tmp_path: Path) -> None:
    good = make_odt(tmp_path / "good.odt").read_bytes()
    truncated = tmp_path / "truncated.odt"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "garbage.odt"
    garbage.write_bytes(b"\x00" * 512)
    for path in (truncated, garbage):
        with pytest.raises(ParseError) as e:
            parse_odf(path, LIMITS)
        assert e.value.reason == "damaged document: it is not a readable zip container"
    foreign = tmp_path / "foreign.odt"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "just a zip")
    with pytest.raises(ParseError) as e:
        parse_odf(foreign, LIMITS)
    assert e.value.reason == "damaged document: it is not an OpenDocument file"
    broken = make_odt(tmp_path / "broken.odt", **{"meta.xml": "<office:document-meta><office:meta>"})
    with pytest.raises(ParseError) as e:
        parse_odf(broken, LIMITS)
    assert e.value.reason == "damaged document: meta.xml is not valid XML"
