"""Text, CSV, JSON, XML and HTML parsers on files written by the tests."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from extractor.formats import Limits, Parsed, ParseError
from extractor.formats import text as text_module
from extractor.formats.text import (
    UNDECODABLE,
    UNSAFE_XML,
    parse_csv,
    parse_html,
    parse_json,
    parse_text,
    parse_xml,
)

LIMITS = Limits()

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
              for i in range(1, 10))
    + "]>\n<lolz>&lol9;</lolz>"
)
EXTERNAL_ENTITY = ('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                   "<r>&xxe;</r>")
DTD_ONLY = '<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "http://example.invalid/r.dtd">\n<r/>'


def write(tmp_path: Path, data: bytes | str, name: str = "file.txt") -> Path:
    """``data`` saved under ``name`` (text is written as UTF-8)."""
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def run(parser: Callable[[Path, Limits], Parsed], tmp_path: Path, data: bytes | str,
        limits: Limits = LIMITS) -> Parsed:
    """``parser`` on ``data`` saved as a file."""
    return parser(write(tmp_path, data), limits)


# --- encoding and counts ----------------------------------------------------------------------------


def test_plain_text_counts(tmp_path: Path) -> None:
    parsed = run(parse_text, tmp_path, "Hello  world\nsecond line here\n\n")
    assert dict(parsed.metadata) == {"encoding": "utf-8", "lines": 3, "words": 5, "characters": 31}
    assert parsed.flags == frozenset()


def test_markdown_is_text(tmp_path: Path) -> None:
    parsed = run(parse_text, tmp_path, "# Título\n\n- uno\n- dos")
    assert dict(parsed.metadata) == {"encoding": "utf-8", "lines": 4, "words": 6, "characters": 21}


@pytest.mark.parametrize(("data", "lines"), [
    ("", 0), ("one", 1), ("one\n", 1), ("a\r\nb\rc\nd", 4), ("a\r\n\r\n", 2), ("\n\n\n", 3),
])
def test_line_endings_lf_crlf_and_cr(tmp_path: Path, data: str, lines: int) -> None:
    assert run(parse_text, tmp_path, data).metadata["lines"] == lines


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_counts_do_not_depend_on_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  chunk: int) -> None:
    data = "alpha beta\r\ngamma\r\n\r\ndelta  epsilon\rzeta\n"
    expected = run(parse_text, tmp_path, data).metadata
    monkeypatch.setattr(text_module, "_CHUNK", chunk)
    assert run(parse_text, tmp_path, data).metadata == expected == {
        "encoding": "utf-8", "lines": 5, "words": 6, "characters": 41}


def test_counts_stop_at_max_text_bytes(tmp_path: Path) -> None:
    parsed = run(parse_text, tmp_path, "word " * 1000, Limits(max_text_bytes=52))
    assert dict(parsed.metadata) == {"encoding": "utf-8", "lines": 1, "words": 11, "characters": 52}


def test_a_cap_inside_a_multibyte_character_is_not_an_error(tmp_path: Path) -> None:
    parsed = run(parse_text, tmp_path, "é" * 100, Limits(max_text_bytes=51))
    assert dict(parsed.metadata) == {"encoding": "utf-8", "lines": 1, "words": 1, "characters": 26}


def test_utf8_bom_is_reported_and_not_counted(tmp_path: Path) -> None:
    parsed = run(parse_text, tmp_path, "\ufeffname,amount\n".encode())
    assert dict(parsed.metadata) == {"encoding": "utf-8-sig", "lines": 1, "words": 1, "characters": 12}


def test_utf16_with_bom(tmp_path: Path) -> None:
    parsed = run(parse_text, tmp_path, "Grüße aus Köln\n".encode("utf-16"))
    assert dict(parsed.metadata) == {"encoding": "utf-16", "lines": 1, "words": 3, "characters": 15}


def test_latin1_text_is_detected(tmp_path: Path) -> None:
    data = "Café crème brûlée, naïve façade.\nÀ bientôt!\n".encode("latin-1")
    assert dict(run(parse_text, tmp_path, data).metadata) == {
        "encoding": "iso8859-1", "lines": 2, "words": 7, "characters": 44}


def test_windows_1252_text_is_detected(tmp_path: Path) -> None:
    data = "Prix : 12 € – déjà payé\n".encode("cp1252")
    assert run(parse_text, tmp_path, data).metadata["encoding"] == "cp1252"


def test_cyrillic_is_not_mistaken_for_western_text(tmp_path: Path) -> None:
    data = "Привет, мир! Это проверка кодировки.\n".encode("cp1251")
    assert run(parse_text, tmp_path, data).metadata["encoding"] == "cp1251"


def test_a_legacy_character_after_the_sample_switches_encoding(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "_SAMPLE", 16)
    data = b"plain ascii words come first here, then " + "Müller".encode("latin-1")
    assert dict(run(parse_text, tmp_path, data).metadata) == {
        "encoding": "iso8859-1", "lines": 1, "words": 8, "characters": 46}


@pytest.mark.parametrize("data", [
    random.Random(7).randbytes(4096),
    bytes(range(256)) * 4,
    b"looks like text\x00but has NUL bytes\x00" * 10,
])
def test_binary_is_not_text(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        run(parse_text, tmp_path, data)
    assert caught.value.reason == UNDECODABLE


def test_every_text_parser_refuses_binary(tmp_path: Path) -> None:
    data = random.Random(3).randbytes(2048)
    for parser in (parse_csv, parse_json, parse_xml, parse_html):
        with pytest.raises(ParseError, match=r"^the text's encoding could not be recognised$"):
            run(parser, tmp_path, data)


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_with_quoted_newlines(tmp_path: Path) -> None:
    data = 'name,amount,note\nAlice,3,"two\nlines"\nBob,4,"say ""hi"", then go"\n'
    assert dict(run(parse_csv, tmp_path, data).metadata) == {
        "encoding": "utf-8", "lines": 4, "words": 7, "characters": 65,
        "delimiter": ",", "columns": 3, "header": ["name", "amount", "note"], "rows": 2}


def test_semicolon_csv_in_latin1(tmp_path: Path) -> None:
    data = "Name;Betrag;Ort\nMüller;3,50;Köln\nSchmidt;4,00;Bonn\n".encode("latin-1")
    assert dict(run(parse_csv, tmp_path, data).metadata) == {
        "encoding": "iso8859-1", "lines": 3, "words": 3, "characters": 51,
        "delimiter": ";", "columns": 3, "header": ["Name", "Betrag", "Ort"], "rows": 2}


def test_tsv(tmp_path: Path) -> None:
    data = "id\tname\tvalue\n1\tAna Lima\t2.5\n2\tBo\t3.5\n"
    parsed = run(parse_csv, tmp_path, data)
    assert {k: parsed.metadata[k] for k in ("delimiter", "columns", "header", "rows")} == {
        "delimiter": "\t", "columns": 3, "header": ["id", "name", "value"], "rows": 2}


def test_pipe_delimited(tmp_path: Path) -> None:
    parsed = run(parse_csv, tmp_path, "sku|qty\nA-1|2\nB-2|5\nC-3|1\n")
    assert (parsed.metadata["delimiter"], parsed.metadata["header"], parsed.metadata["rows"]) == (
        "|", ["sku", "qty"], 3)


def test_numeric_first_row_is_data(tmp_path: Path) -> None:
    parsed = run(parse_csv, tmp_path, "1,2,3\n4,5,6\n\n7,8,9\n")
    assert "header" not in parsed.metadata
    assert (parsed.metadata["columns"], parsed.metadata["rows"]) == (3, 3)


def test_sniffer_finds_a_header_with_an_empty_corner(tmp_path: Path) -> None:
    parsed = run(parse_csv, tmp_path, ",Q1,Q2\nNorth,1,2\nSouth,3,4\n")
    assert (parsed.metadata["header"], parsed.metadata["rows"]) == (["", "Q1", "Q2"], 2)


def test_delimiter_falls_back_to_counting_when_the_sniffer_gives_up(tmp_path: Path) -> None:
    parsed = run(parse_csv, tmp_path, "a;b;c\n1;2\n3;4;5;6\n")
    assert (parsed.metadata["delimiter"], parsed.metadata["columns"], parsed.metadata["rows"]) == (";", 3, 2)


def test_blank_rows_are_not_counted(tmp_path: Path) -> None:
    parsed = run(parse_csv, tmp_path, "city,zip\n\nBern,3000\n,\n  \nBasel,4000\n")
    assert (parsed.metadata["header"], parsed.metadata["rows"]) == (["city", "zip"], 2)


def test_an_empty_csv_has_only_common_fields(tmp_path: Path) -> None:
    assert dict(run(parse_csv, tmp_path, "").metadata) == {
        "encoding": "utf-8", "lines": 0, "words": 0, "characters": 0, "delimiter": ","}


def test_an_unclosed_quote_is_a_parse_error_with_partial_metadata(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        run(parse_csv, tmp_path, 'id,note\n1,"never closed\n' + "x" * 200_000)
    assert caught.value.reason.startswith("damaged CSV: a field is longer than ")
    assert caught.value.metadata["delimiter"] == ","


def test_a_wide_header_is_capped_but_columns_are_exact(tmp_path: Path) -> None:
    data = ",".join(f"col{i}" for i in range(300)) + "\n" + ",".join("1" * 300) + "\n"
    parsed = run(parse_csv, tmp_path, data)
    assert parsed.metadata["columns"] == 300
    assert parsed.metadata["header"] == [f"col{i}" for i in range(200)]


# --- JSON --------------------------------------------------------------------------------------------


def test_json_object_keys(tmp_path: Path) -> None:
    data = json.dumps({f"k{i}": i for i in range(60)})
    parsed = run(parse_json, tmp_path, data)
    assert parsed.metadata["json_type"] == "object"
    assert parsed.metadata["top_level_keys"] == [f"k{i}" for i in range(50)]
    assert "items" not in parsed.metadata


def test_json_array_items(tmp_path: Path) -> None:
    parsed = run(parse_json, tmp_path, '[{"a": [1, 2]}, "x", null]\n')
    assert dict(parsed.metadata) == {"encoding": "utf-8", "lines": 1, "words": 5, "characters": 27,
                                     "json_type": "array", "items": 3}


@pytest.mark.parametrize(("data", "kind"), [
    ('"text"', "string"), ("42", "number"), ("-1.5e3", "number"), ("true", "boolean"), ("false", "boolean"),
    ("null", "null"), ("{}", "object"), (" []", "array"),
])
def test_json_scalar_and_empty_types(tmp_path: Path, data: str, kind: str) -> None:
    parsed = run(parse_json, tmp_path, data)
    assert parsed.metadata["json_type"] == kind
    assert parsed.metadata.get("items", 0) == 0
    assert parsed.metadata.get("top_level_keys", []) == []


def test_json_with_bom(tmp_path: Path) -> None:
    parsed = run(parse_json, tmp_path, '\ufeff{"a": 1}'.encode())
    assert (parsed.metadata["encoding"], parsed.metadata["top_level_keys"]) == ("utf-8-sig", ["a"])


def test_deeply_nested_json_is_refused_without_recursion(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        run(parse_json, tmp_path, "[" * 200_000)
    assert caught.value.reason == "JSON nested deeper than 256 levels"
    assert caught.value.metadata["characters"] == 200_000


def test_depth_limit_is_exact(tmp_path: Path) -> None:
    assert run(parse_json, tmp_path, "[" * 256 + "]" * 256).metadata["items"] == 1
    with pytest.raises(ParseError, match=r"^JSON nested deeper than 256 levels$"):
        run(parse_json, tmp_path, "[" * 128 + "{" + '"a":' + "[" * 128 + "]" * 128 + "}" + "]" * 128)


def test_brackets_inside_strings_do_not_nest(tmp_path: Path) -> None:
    data = json.dumps(["[" * 1000, '\\"{' * 500, "\\", "]]"])
    assert run(parse_json, tmp_path, data).metadata["items"] == 4


def test_escapes_split_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "_CHUNK", 3)
    data = json.dumps({"a\\": '"[[[', "b": "\\\\[" * 50})
    assert run(parse_json, tmp_path, data).metadata["top_level_keys"] == ["a\\", "b"]
    monkeypatch.setattr(text_module, "_CHUNK", 2)
    with pytest.raises(ParseError, match="nested deeper"):
        run(parse_json, tmp_path, '["\\\\"' + ", [" * 300)


@pytest.mark.parametrize(("data", "reason"), [
    ('{"a": 1,}', "damaged JSON: Expecting property name enclosed in double quotes at line 1, column 9"),
    ("", "damaged JSON: the file holds no value"),
    ("[1] [2]", "damaged JSON: Extra data at line 1, column 5"),
    ("1" * 5000, "damaged JSON: a value cannot be read"),
])
def test_invalid_json_is_a_parse_error(tmp_path: Path, data: str, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        run(parse_json, tmp_path, data)
    assert caught.value.reason == reason
    assert caught.value.metadata["encoding"] == "utf-8"


# --- XML ---------------------------------------------------------------------------------------------


def test_xml_root_element_without_namespace(tmp_path: Path) -> None:
    data = '<?xml version="1.0" encoding="UTF-8"?>\n<inv:Invoice xmlns:inv="urn:x"><inv:Line n="1"/></inv:Invoice>\n'
    assert dict(run(parse_xml, tmp_path, data).metadata) == {
        "encoding": "utf-8", "lines": 2, "words": 6, "characters": 102, "root_element": "Invoice"}


def test_xml_declared_latin1(tmp_path: Path) -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><Kunde>Müller aus Köln</Kunde>'.encode("latin-1")
    parsed = run(parse_xml, tmp_path, data)
    assert (parsed.metadata["encoding"], parsed.metadata["root_element"]) == ("iso8859-1", "Kunde")


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY])
def test_xml_with_a_dtd_is_refused(tmp_path: Path, data: str) -> None:
    with pytest.raises(ParseError) as caught:
        run(parse_xml, tmp_path, data)
    assert caught.value.reason == UNSAFE_XML


def test_deeply_nested_xml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        run(parse_xml, tmp_path, "<a>" * 10_000 + "</a>" * 10_000)
    assert caught.value.reason == "XML nested deeper than 256 levels"
    assert caught.value.metadata["root_element"] == "a"


def test_malformed_xml_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        run(parse_xml, tmp_path, "<r><a></r>")
    assert caught.value.reason == "damaged XML: mismatched tag: line 1, column 8"


def test_a_capped_xml_file_keeps_its_root(tmp_path: Path) -> None:
    parsed = run(parse_xml, tmp_path, "<feed>" + "<entry>x</entry>" * 100 + "</feed>", Limits(max_text_bytes=100))
    assert parsed.metadata["root_element"] == "feed"


# --- HTML --------------------------------------------------------------------------------------------


def test_html_title_and_lang(tmp_path: Path) -> None:
    data = ('<!doctype html>\n<html lang="de-CH"><head><meta charset="utf-8">'
            "<title>  Rechnung &amp; Lieferschein\n 2026 </title></head><body><title>not this</title></body></html>")
    parsed = run(parse_html, tmp_path, data)
    assert (parsed.metadata["title"], parsed.metadata["lang"]) == ("Rechnung & Lieferschein 2026", "de-CH")
    assert parsed.metadata["encoding"] == "utf-8"


def test_html_without_title_or_lang(tmp_path: Path) -> None:
    parsed = run(parse_html, tmp_path, "<html><body><p>Hi</p><title> </title></body></html>")
    assert "title" not in parsed.metadata
    assert "lang" not in parsed.metadata


def test_html_title_beyond_the_prefix_is_not_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "_HTML_PREFIX", 100)
    parsed = run(parse_html, tmp_path, "<html>" + " " * 200 + "<title>late</title></html>")
    assert "title" not in parsed.metadata
