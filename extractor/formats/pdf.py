"""PDF: document properties, page geometry, text layer and risky content.

pypdf reads the file in non-strict mode, so that the many slightly broken PDFs
business software produces still yield their metadata. Everything after the
page count is read best effort: a damaged font or annotation costs one field,
not the whole record. Walks over structures a file controls (actions, fields,
annotations) are iterative, cycle-safe and bounded, because a hostile file can
make them cyclic or huge.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as StdET
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import defusedxml
import defusedxml.ElementTree as SafeET
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PyPdfError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    is_null_or_none,
)

from common.catalogue import Flag
from extractor.formats import Limits, Parsed, ParseError

#: What pypdf raises on damaged input besides its own errors; MemoryError is left to the sandbox.
_READ_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError, DependencyError, ValueError, TypeError, LookupError, AttributeError, AssertionError,
    RuntimeError, OSError, ArithmeticError, zlib.error, struct.error,
)

#: Longest string field kept; a title is never legitimately longer.
_MAX_STRING = 1000
#: Pages whose text layer is looked at, and the non-space characters that prove one exists.
_TEXT_PAGES = 3
_TEXT_ENOUGH = 16
#: Objects visited per walk (form fields, annotations, action chains).
_MAX_WALK = 10_000
#: Largest XMP packet parsed; real ones are a few KiB.
_MAX_XMP = 4 * 1024 * 1024
#: Bytes of the file's start searched for the %PDF-x.y header.
_HEADER_WINDOW = 1024

_INFO_TEXT = {"/Title": "title", "/Author": "author", "/Subject": "subject", "/Keywords": "keywords",
              "/Creator": "creator", "/Producer": "producer"}
_INFO_DATES = {"/CreationDate": "created", "/ModDate": "modified"}

_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_PDF = "{http://ns.adobe.com/pdf/1.3/}"
_XMP = "{http://ns.adobe.com/xap/1.0/}"
_PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
#: XMP properties used when the Info dictionary lacks a field (PDF 2.0 deprecates Info).
_XMP_FIELDS = {f"{_DC}title": "title", f"{_DC}creator": "author", f"{_DC}description": "subject",
               f"{_PDF}Keywords": "keywords", f"{_XMP}CreatorTool": "creator", f"{_PDF}Producer": "producer",
               f"{_XMP}CreateDate": "created", f"{_XMP}ModifyDate": "modified",
               f"{_PDFAID}part": "pdfa_part", f"{_PDFAID}conformance": "pdfa_conformance"}

_HEADER = re.compile(rb"%PDF-(\d\.\d)")
_PDF_DATE = re.compile(r"(?:D:)?\s*(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*"
                       r"(?:(Z)|([+-])(\d{2})(?:'?(\d{2}))?)?")

_T = TypeVar("_T")


def parse_pdf(path: Path, limits: Limits) -> Parsed:
    """Properties, geometry, text layer and risk flags of a PDF.

    Parameters
    ----------
    path:
        The PDF on local disk.
    limits:
        Accepted for the parser contract; pypdf applies its own decompression
        and page-tree caps, and the walks here have fixed bounds.

    Raises
    ------
    ParseError
        When the PDF is encrypted with a password (with what its unencrypted
        structure reveals) or too damaged to list its pages.
    """
    metadata: dict[str, Any] = {}
    if version := _header_version(path):
        metadata["pdf_version"] = version
    try:
        reader = PdfReader(path, strict=False)
        encrypted = reader.is_encrypted
    except _READ_ERRORS as e:
        raise ParseError("damaged PDF: its structure cannot be read", metadata=metadata) from e
    metadata["encrypted"] = encrypted
    flags: set[str] = {Flag.ENCRYPTED} if encrypted else set()
    if encrypted and not _decrypts_without_password(reader):
        if (pages := _declared_page_count(reader)) is not None:
            metadata["pages"] = pages
        raise ParseError("encrypted PDF: metadata partially available", metadata=metadata, flags=flags)
    try:
        page_count = len(reader.pages)
        root = reader.root_object
    except _READ_ERRORS as e:
        raise ParseError("damaged PDF: its pages cannot be listed", metadata=metadata, flags=flags) from e
    metadata["pages"] = page_count

    info = _attempt(lambda: _info_fields(reader)) or {}
    xmp = _attempt(lambda: _xmp_fields(root)) or {}
    for name in (*_INFO_TEXT.values(), *_INFO_DATES.values()):
        if value := info.get(name) or xmp.get(name):
            metadata[name] = value
    if pdfa := xmp.get("pdfa"):
        metadata["pdfa"] = pdfa
    if page_count and (size := _attempt(lambda: _page_size(reader))):
        metadata["page_width"], metadata["page_height"] = size
    has_text = _has_text(reader, page_count)
    if has_text is not None:
        metadata["has_text"] = has_text
        if page_count and not has_text:
            flags.add(Flag.SCANNED)
    metadata["form_fields"] = _attempt(lambda: _form_field_count(root)) or 0
    if _attempt(lambda: _has_javascript(reader, root)):
        flags.add(Flag.JAVASCRIPT)
    return Parsed(metadata=metadata, flags=frozenset(flags))


def _attempt(read: Callable[[], _T]) -> _T | None:
    """``read()``, or None when the part of the file it reads is damaged."""
    try:
        return read()
    except _READ_ERRORS:
        return None


def _header_version(path: Path) -> str | None:
    """The version in the ``%PDF-x.y`` header, which readers tolerate after some junk."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEADER_WINDOW)
    except OSError:
        return None
    match = _HEADER.search(head)
    return match.group(1).decode("ascii") if match else None


def _decrypts_without_password(reader: PdfReader) -> bool:
    """True when the empty user password opens the file (owner-password-only protection)."""
    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except _READ_ERRORS:
        return False


def _declared_page_count(reader: PdfReader) -> int | None:
    """The page tree's /Count of a PDF that stays encrypted.

    The object structure of an encrypted PDF is plain; only strings and streams
    are encrypted. pypdf refuses every object until decryption, so its private
    override is lifted for this one integer, the way pypdf reads the XMP packet
    of files that do not encrypt it.
    """
    try:
        reader._override_encryption = True
        count = reader.trailer["/Root"]["/Pages"]["/Count"]  # type: ignore[index]
    except _READ_ERRORS:
        return None
    finally:
        reader._override_encryption = False
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return int(count)
    return None


def _resolve(obj: Any) -> Any:
    """The object an indirect reference points to (a few hops at most)."""
    for _ in range(8):
        if not isinstance(obj, IndirectObject):
            return obj
        obj = obj.get_object()
    return None


def _clean(text: str) -> str | None:
    """One line of printable text, capped; None when nothing is left."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text[: _MAX_STRING * 4]).split())
    return text[:_MAX_STRING] or None


def _info_value(owner: DictionaryObject, key: str) -> Any:
    """``owner[key]``, indirect references followed (may raise on a damaged file)."""
    return _resolve(owner.get(key))


def _info_text(owner: DictionaryObject, key: str) -> str | None:
    """``owner[key]`` as clean text (may raise on a damaged file)."""
    return _pdf_text(owner.get(key))


def _pdf_text(value: Any) -> str | None:
    """A PDF string's text; names, numbers and other objects are not text."""
    value = _resolve(value)
    if isinstance(value, ByteStringObject):
        return _clean(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, str) and not isinstance(value, NameObject):
        return _clean(str(value))
    return None


def _iso(moment: datetime) -> str:
    """ISO 8601 to the second, with "Z" for UTC."""
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _pdf_date(value: str) -> str | None:
    """A PDF date (``D:YYYYMMDDHHmmSSOHH'mm'``, trailing parts optional) in ISO 8601.

    Returns None for dates that do not exist, so that a date column only ever
    holds dates. A date without a zone stays without one (local time, unknown).
    """
    match = _PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zulu, sign, off_h, off_m = match.groups()
    try:
        zone = None
        if zulu:
            zone = UTC
        elif sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
            zone = timezone(-offset if sign == "-" else offset)
        moment = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=zone)
    except ValueError:
        return None
    return _iso(moment)


def _xmp_date(value: str) -> str | None:
    """An XMP (ISO 8601) date, normalised like PDF dates; None when invalid."""
    try:
        return _iso(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def _info_fields(reader: PdfReader) -> dict[str, str]:
    """Fields from the document Info dictionary."""
    info = _resolve(reader.trailer.get("/Info"))
    if not isinstance(info, DictionaryObject):
        return {}
    out: dict[str, str] = {}
    for key, name in _INFO_TEXT.items():
        if text := _attempt(partial(_info_text, info, key)):
            out[name] = text
    for key, name in _INFO_DATES.items():
        text = _attempt(partial(_info_text, info, key))
        if text and (date := _pdf_date(text)):
            out[name] = date
    return out


def _xmp_fields(root: DictionaryObject) -> dict[str, str]:
    """Fields from the XMP packet, parsed with DTDs and entities forbidden."""
    stream = _resolve(root.get("/Metadata"))
    if not isinstance(stream, StreamObject):
        return {}
    data = stream.get_data()
    if len(data) > _MAX_XMP:
        return {}
    try:
        tree = SafeET.fromstring(data, forbid_dtd=True)
    except (defusedxml.DefusedXmlException, StdET.ParseError, ValueError):
        return {}
    raw: dict[str, str] = {}
    for element in tree.iter():
        for attribute, value in element.attrib.items():
            if (name := _XMP_FIELDS.get(attribute)) and name not in raw:
                raw[name] = value
        if (name := _XMP_FIELDS.get(element.tag)) and name not in raw:
            items = [li.text or "" for li in element.iter(f"{_RDF}li")]
            raw[name] = "; ".join(i.strip() for i in items if i.strip()) if items else element.text or ""
    out: dict[str, str] = {}
    for name, value in raw.items():
        if name in ("created", "modified"):
            if date := _xmp_date(value):
                out[name] = date
        elif not name.startswith("pdfa_") and (text := _clean(value)):
            out[name] = text
    part = raw.get("pdfa_part", "").strip()
    conformance = raw.get("pdfa_conformance", "").strip().upper()
    if re.fullmatch(r"\d{1,2}", part) and re.fullmatch(r"[A-Z]?", conformance):
        out["pdfa"] = part + conformance
    return out


def _page_size(reader: PdfReader) -> tuple[float, float]:
    """Width and height in points of the first page's media box."""
    box = reader.pages[0].mediabox
    return round(abs(float(box.width)), 2), round(abs(float(box.height)), 2)


class _EnoughText(Exception):
    """Stops text extraction once a text layer is proven."""


def _has_text(reader: PdfReader, page_count: int) -> bool | None:
    """Whether the first pages carry a text layer; None when it cannot be told.

    Extraction stops as soon as a few non-space characters are seen, so that a
    huge page is never extracted in full just to answer yes.
    """
    found = 0
    failed = False

    def visit(text: str, *_: Any) -> None:
        nonlocal found
        found += sum(not ch.isspace() for ch in text)
        if found >= _TEXT_ENOUGH:
            raise _EnoughText

    for number in range(min(page_count, _TEXT_PAGES)):
        try:
            reader.pages[number].extract_text(visitor_text=visit)
        except _EnoughText:
            return True
        except _READ_ERRORS:
            failed = True
    if found:
        return True
    return None if failed else False


def _walk_fields(root: DictionaryObject) -> Iterator[DictionaryObject]:
    """Every node of the AcroForm field tree, each once, at most :data:`_MAX_WALK`."""
    form = _resolve(root.get("/AcroForm"))
    fields = _resolve(form.get("/Fields")) if isinstance(form, DictionaryObject) else None
    if not isinstance(fields, ArrayObject):
        return
    stack = list(fields)
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack and visited < _MAX_WALK:
        ref = stack.pop()
        if isinstance(ref, IndirectObject):
            if (ref.idnum, ref.generation) in seen:
                continue
            seen.add((ref.idnum, ref.generation))
        node = _resolve(ref)
        visited += 1
        if isinstance(node, DictionaryObject):
            yield node
            kids = _resolve(node.get("/Kids"))
            if isinstance(kids, ArrayObject):
                stack.extend(kids)


def _form_field_count(root: DictionaryObject) -> int:
    """Terminal form fields: named fields without named children (widgets are not fields)."""
    count = 0
    for node in _walk_fields(root):
        kids = _resolve(node.get("/Kids"))
        named_kids = isinstance(kids, ArrayObject) and any(
            isinstance(kid := _resolve(k), DictionaryObject) and "/T" in kid for k in kids[:_MAX_WALK])
        if not named_kids and ("/T" in node or "/FT" in node):
            count += 1
    return count


def _is_javascript_action(action: Any) -> bool:
    """True when an action, or any action chained after it by /Next, runs JavaScript."""
    stack = [action]
    seen: set[tuple[int, int]] = set()
    steps = 0
    while stack and steps < _MAX_WALK:
        item = stack.pop()
        steps += 1
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = _resolve(item)
        if isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, DictionaryObject):
            if _resolve(item.get("/S")) == "/JavaScript" or "/JS" in item:
                return True
            if "/Next" in item:
                stack.append(item.get("/Next"))
    return False


def _has_javascript_actions(owner: DictionaryObject) -> bool:
    """True when an object's /A action or any /AA trigger runs JavaScript."""
    action = _resolve(owner.get("/A"))
    if isinstance(action, DictionaryObject) and _is_javascript_action(action):
        return True
    triggers = _resolve(owner.get("/AA"))
    return isinstance(triggers, DictionaryObject) and any(
        _is_javascript_action(a) for a in list(triggers.values())[:_MAX_WALK])


def _has_javascript(reader: PdfReader, root: DictionaryObject) -> bool:
    """Document-level scripts, open actions, and page, annotation or field actions."""
    names = _resolve(root.get("/Names"))
    if isinstance(names, DictionaryObject) and not is_null_or_none(_resolve(names.get("/JavaScript"))):
        return True
    open_action = _resolve(root.get("/OpenAction"))  # an array here is a destination, not an action
    if isinstance(open_action, DictionaryObject) and _is_javascript_action(open_action):
        return True
    if _has_javascript_actions(root):
        return True
    budget = _MAX_WALK
    for page in reader.pages:
        budget -= 1
        if budget < 0:
            break
        if _attempt(partial(_has_javascript_actions, page)):
            return True
        annotations = _attempt(partial(_info_value, page, "/Annots"))
        if not isinstance(annotations, ArrayObject):
            continue
        for ref in annotations[: max(budget, 0)]:
            budget -= 1
            annotation = _attempt(partial(_resolve, ref))
            if isinstance(annotation, DictionaryObject) and _attempt(
                    partial(_has_javascript_actions, annotation)):
                return True
    return any(_attempt(partial(_has_javascript_actions, field)) for field in _walk_fields(root))
