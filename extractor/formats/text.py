"""Plain text, Markdown, CSV/TSV, JSON, XML and HTML.

Every text format reports its encoding and line, word and character counts.
The encoding is decided once from a bounded sample; the counts come from
streaming the decoded file in chunks, never from holding it whole, and stop
after ``limits.max_text_bytes`` (counts of a larger file cover its start).
Format-specific fields read as little as they need: a CSV is streamed row by
row, JSON nesting is checked without recursion before :mod:`json` sees it,
XML goes through bare expat with DTDs refused, and HTML is read from a
bounded prefix.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from charset_normalizer import from_bytes

from extractor.formats import Limits, MiB, Parsed, ParseError, jsondepth

UNDECODABLE = "the text's encoding could not be recognised"
UNSAFE_XML = "unsafe XML: entities or DTDs are not allowed"

#: Bytes at the start of a file that decide its encoding.
_SAMPLE = 64 * 1024
#: Characters of a CSV given to csv.Sniffer, whose regexes slow down on long samples.
_SNIFF = 8 * 1024
#: Characters decoded per streaming step.
_CHUNK = 1024 * 1024
#: JSON files up to this size are parsed in full for their top-level fields...
_JSON_PARSE_MAX = 64 * MiB
#: ... unless they hold more arrays and objects than this, which take json a second to build
#: and free (a real 5 MB file has tens of thousands).
_JSON_MAX_CONTAINERS = 500_000
#: Characters of an HTML file searched for <title> and <html lang>.
_HTML_PREFIX = 256 * 1024
_MAX_KEYS = 50
_MAX_COLUMNS = 200
_MAX_NAME = 200
_MAX_TITLE = 1000

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: Non-letters Western European text uses; anything else in Windows-1252 suggests another encoding.
_WESTERN_SYMBOLS = frozenset("€‚„…†‡‰‹‘’“”•–—™›¡¢£¥¦§¨©«¬\xad®¯°±²´µ¶·¸º»¼½¾¿×÷\xa0")
_DELIMITERS = ",;\t|"
_JSON_TYPES = {"{": "object", "[": "array", '"': "string", "t": "boolean", "f": "boolean", "n": "null"}


def parse_text(path: Path, limits: Limits) -> Parsed:
    """Encoding and counts of plain text or Markdown, which have no other structure to report.

    Raises
    ------
    ParseError
        When no encoding decodes the file (it is not text).
    """
    metadata, _ = _load(path, limits)
    return Parsed(metadata=metadata)


def parse_csv(path: Path, limits: Limits) -> Parsed:
    """Delimiter, header, column and row counts of a CSV or TSV file.

    The delimiter comes from csv.Sniffer on a sample, else from counting
    candidates in the first line. Rows are counted by the csv module, so quoted
    fields may contain newlines; blank rows are not counted.

    Raises
    ------
    ParseError
        When the file is not text, or a field runs past the csv module's field
        size limit (typically a quote that is never closed).
    """
    metadata, source = _load(path, limits)
    with source.open() as f:
        sample = f.read(_SNIFF)
    if len(sample) == _SNIFF and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    delimiter = _delimiter(sample)
    metadata["delimiter"] = delimiter
    first: list[str] | None = None
    rows = 0
    try:
        with source.open() as f:
            for row in csv.reader(f, delimiter=delimiter):
                if not any(cell.strip() for cell in row):
                    continue
                if first is None:
                    first = row
                rows += 1
    except csv.Error as e:
        raise ParseError(f"damaged CSV: a field is longer than {csv.field_size_limit()} characters "
                         "or a quote is never closed", metadata=metadata) from e
    if first is None:
        return Parsed(metadata=metadata)
    metadata["columns"] = len(first)
    if _looks_like_header(first) or _sniffed_header(sample):
        metadata["header"] = [cell.strip()[:_MAX_NAME] for cell in first[:_MAX_COLUMNS]]
        rows -= 1
    metadata["rows"] = rows
    return Parsed(metadata=metadata)


def parse_json(path: Path, limits: Limits) -> Parsed:
    """Top-level type of a JSON document, with its first keys or its length.

    Nesting is measured first (:mod:`extractor.formats.jsondepth`), because
    :mod:`json` recurses and a file of 100k ``[`` would exhaust the stack. Files above
    :data:`_JSON_PARSE_MAX`, or of more than :data:`_JSON_MAX_CONTAINERS`
    arrays and objects, are only scanned, so they report ``json_type`` alone.

    Raises
    ------
    ParseError
        When the file is not text, nests deeper than ``limits.max_depth`` or is not valid JSON.
    """
    metadata, source = _load(path, limits)
    with source.open() as f:
        scan = jsondepth.check(f, limits.max_depth, metadata, _CHUNK)
    if scan.first is None:
        raise ParseError("damaged JSON: the file holds no value", metadata=metadata)
    if source.capped or path.stat().st_size > _JSON_PARSE_MAX or scan.brackets > 2 * _JSON_MAX_CONTAINERS:
        metadata["json_type"] = _JSON_TYPES.get(scan.first, "number")
        if scan.brackets > 2 * _JSON_MAX_CONTAINERS:
            metadata["note"] = (f"only its type was read: it holds more than {_JSON_MAX_CONTAINERS:,} arrays "
                                "and objects")
        return Parsed(metadata=metadata)
    with source.open() as f:
        text = f.read()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"damaged JSON: {e.msg} at line {e.lineno}, column {e.colno}",
                         metadata=metadata) from e
    except (ValueError, RecursionError) as e:  # e.g. an integer too long to convert
        raise ParseError("damaged JSON: a value cannot be read", metadata=metadata) from e
    del text
    metadata["json_type"] = _json_type(value)
    if isinstance(value, dict):
        metadata["top_level_keys"] = [key[:_MAX_NAME] for key in list(value)[:_MAX_KEYS]]
    elif isinstance(value, list):
        metadata["items"] = len(value)
    return Parsed(metadata=metadata)


def parse_xml(path: Path, limits: Limits) -> Parsed:
    """The root element of an XML document, checked to be well-formed.

    Any DTD is refused (it is the vehicle of entity bombs and external
    entities), and so is nesting deeper than ``limits.max_depth``. It is a bare
    expat scan that keeps nothing but the depth: ElementTree built an element
    per tag, three times the time for a file of a million empty elements.

    Raises
    ------
    ParseError
        When the file is not text, has a DTD or entities, nests too deep or is not well-formed.
    """
    metadata, source = _load(path, limits)
    depth = 0

    def root(tag: str, attributes: list[str]) -> None:
        metadata["root_element"] = _local_name(tag)
        parser.StartElementHandler = start
        start(tag, attributes)

    def start(_: str, __: list[str]) -> None:
        nonlocal depth
        depth += 1
        if depth > limits.max_depth:
            raise ParseError(f"XML nested deeper than {limits.max_depth} levels", metadata=metadata)

    def end(_: str) -> None:
        nonlocal depth
        depth -= 1

    def refuse(*_: Any) -> Any:
        raise ParseError(UNSAFE_XML, metadata=metadata)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = parser.ExternalEntityRefHandler = refuse
    parser.ordered_attributes = True  # a list is cheaper than a dict, and no handler reads them
    parser.StartElementHandler, parser.EndElementHandler = root, end
    try:
        with source.open_binary() as f:
            while chunk := f.read(_CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as e:
        if not (source.capped and "root_element" in metadata):  # a capped file is cut, not damaged
            raise ParseError(f"damaged XML: {e}", metadata=metadata) from e
    return Parsed(metadata=metadata)


def parse_html(path: Path, limits: Limits) -> Parsed:
    """The title and declared language of an HTML page, from its first characters.

    The prefix is fed once and the parser never closed: closing parses every
    construct left open (a comment or tag that never ends) once more to the end
    of the text, for each of them, which takes CPython's parser before 3.11.13
    minutes for a page of unclosed comments; it would only add the text after
    the last complete construct. Markup the standard library's parser gives up
    on (it raises AssertionError for ``<![`` without a name) ends the reading
    with what was found before it.

    Raises
    ------
    ParseError
        When the file is not text.
    """
    metadata, source = _load(path, limits)
    with source.open() as f:
        prefix = f.read(_HTML_PREFIX)
    parser = _HeadParser()
    with contextlib.suppress(AssertionError):
        parser.feed(prefix)
    if title := " ".join(parser.title_text()[: _MAX_TITLE * 4].split())[:_MAX_TITLE]:
        metadata["title"] = title
    if parser.lang and (lang := parser.lang.strip()[:_MAX_NAME]):
        metadata["lang"] = lang
    return Parsed(metadata=metadata)


# --- decoding and counting -------------------------------------------------------------------------


class _Capped(io.RawIOBase):
    """A binary file that ends after ``cap`` bytes, so no reader goes past the limit."""

    def __init__(self, path: Path, cap: int) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._left = cap

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        read = self._file.readinto(view[: min(len(view), self._left)])
        self._left -= read
        return read

    def close(self) -> None:
        self._file.close()
        super().close()


@dataclass(frozen=True)
class _Source:
    """How to read a text file: its encoding, error handling and byte cap."""

    path: Path
    encoding: str
    errors: str
    cap: int
    capped: bool

    def open_binary(self) -> IO[bytes]:
        """The file's bytes, up to the cap."""
        return io.BufferedReader(_Capped(self.path, self.cap))

    def open(self) -> IO[str]:
        """The file's text, up to the cap, with line endings untouched (as csv needs)."""
        return io.TextIOWrapper(self.open_binary(), encoding=self.encoding, errors=self.errors, newline="")


def _load(path: Path, limits: Limits) -> tuple[dict[str, Any], _Source]:
    """Encoding and counts of a text file, and how to read it again.

    A file whose sample decodes but whose later bytes do not (a legacy
    character after the first 64 KiB) is re-detected from the failing bytes
    and counted once more with undecodable bytes replaced.

    Raises
    ------
    ParseError
        When no encoding fits the sample.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        sample = f.read(_SAMPLE)
    encoding = _detect(sample, truncated=size > len(sample))
    if encoding is None:
        raise ParseError(UNDECODABLE)
    capped = size > limits.max_text_bytes
    # A cap can cut a multi-byte character, which must not fail the count.
    source = _Source(path, encoding, "replace" if capped else "strict", limits.max_text_bytes, capped)
    try:
        counts = _count(source)
    except UnicodeDecodeError as e:
        window = e.object[max(0, e.start - _SAMPLE // 2): e.start + _SAMPLE // 2]
        better = _detect(bytes(window), truncated=True) if isinstance(e.object, bytes | bytearray) else None
        source = replace(source, encoding=better or encoding, errors="replace")
        counts = _count(source)
    return {"encoding": source.encoding, **counts}, source


def _detect(sample: bytes, truncated: bool) -> str | None:
    """The encoding of a sample: BOM, else UTF-8 if valid, else Western European, else charset-normalizer.

    Names are Python's canonical codec names (``utf-8``, ``cp1252``...), so
    they can be used to decode the file again.
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if b"\x00" not in sample:  # NUL bytes mean binary, unless the text is UTF-16/32
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=not truncated)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        if western := _western(sample):
            return western
    best = from_bytes(sample).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name
    if b"\x00" in sample and not name.startswith(("utf-16", "utf-32")):
        return None
    return name


def _western(sample: bytes) -> str | None:
    """``iso8859-1`` or ``cp1252`` when the sample reads as Western European text, else None.

    charset-normalizer often mistakes short French or German text for Central
    European or Asian encodings, while Windows-1252 is what spreadsheet and
    office exports in Western Europe actually use. The sample qualifies when
    every non-ASCII character is a letter or usual symbol and accented letters
    are at most half of the letters (Cyrillic or Greek bytes read in Windows-1252
    are mostly accented letters). Without the bytes Windows-1252 adds
    (0x80-0x9F), the file is reported as Latin-1, which then decodes it the same.
    """
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = accented = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            accented += ch > "\x7f"
        elif (ch > "\x7f" and ch not in _WESTERN_SYMBOLS) or (ch < " " and ch not in "\t\n\r\f"):
            return None
    if not accented or accented * 2 > letters:
        return None
    return "cp1252" if re.search(rb"[\x80-\x9f]", sample) else "iso8859-1"


def _count(source: _Source) -> dict[str, int]:
    """Lines, words and characters, streamed chunk by chunk.

    Lines end with LF, CRLF or CR; a last line without an ending still counts.
    Words are runs of non-whitespace.
    """
    lines = words = characters = 0
    last = ""
    with source.open() as f:
        while chunk := f.read(_CHUNK):
            characters += len(chunk)
            lines += chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")
            if last == "\r" and chunk[0] == "\n":
                lines -= 1  # a CRLF split across chunks
            words += len(chunk.split())  # the runs of non-whitespace \S+ finds, ten times faster
            if last and not last.isspace() and not chunk[0].isspace():
                words -= 1  # a word split across chunks
            last = chunk[-1]
    if last and last not in "\r\n":
        lines += 1
    return {"lines": lines, "words": words, "characters": characters}


# --- CSV ---------------------------------------------------------------------------------------------


def _delimiter(sample: str) -> str:
    """The delimiter csv.Sniffer finds among , ; tab |, else the one most frequent in the first line."""
    try:
        found = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
        if found in _DELIMITERS:
            return found
    except csv.Error:
        pass
    first_line = sample.splitlines()[0] if sample else ""
    best = max(_DELIMITERS, key=first_line.count)  # ties go to the earlier candidate
    return best if first_line.count(best) else ","


def _looks_like_header(row: list[str]) -> bool:
    """Every cell named: non-empty, unique, and containing a letter (data is often numeric)."""
    cells = [cell.strip() for cell in row]
    return (all(cells) and len(set(cells)) == len(cells)
            and all(any(ch.isalpha() for ch in cell) for cell in cells))


def _sniffed_header(sample: str) -> bool:
    """csv.Sniffer's opinion that the first row is a header (it compares types and lengths by column)."""
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return False


# --- JSON and XML ---------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _local_name(tag: str) -> str:
    """An element name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


# --- HTML --------------------------------------------------------------------------------------------


class _HeadParser(HTMLParser):
    """Collects the first <title>'s text and the <html> element's lang attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self._title: list[str] = []
        self._size = 0
        self._state = "before"  # before, inside, after the first <title>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html" and self.lang is None:
            self.lang = next((value for name, value in attrs if name == "lang" and value), None)
        elif tag == "title" and self._state == "before":
            self._state = "inside"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._state == "inside":
            self._state = "after"

    def handle_data(self, data: str) -> None:
        if self._state == "inside" and self._size < _MAX_TITLE * 4:
            self._title.append(data)
            self._size += len(data)

    def title_text(self) -> str:
        """The title's text as written (whitespace not yet collapsed)."""
        return "".join(self._title)

