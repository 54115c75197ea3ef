"""What only pypdf reads of a PDF: the XMP packet, form fields and script actions.

PDFium (:mod:`extractor.formats.pdf`) reads the rest in C. pypdf is pure
Python: on a damaged file it rebuilds the cross-reference table by scanning
every object, which took 14.6 s on one 1.6 MB file. So everything here runs
under a CPU budget of its own (:func:`~extractor.formats.deadline.cpu_budget`)
and keeps what it found when the budget runs out. Walks over structures a file
controls (actions, fields, annotations) are iterative, cycle-safe and bounded,
because a hostile file can make them cyclic or huge.
"""

from __future__ import annotations

import logging
import re
import struct
import xml.etree.ElementTree as StdET
import zlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import defusedxml
import defusedxml.ElementTree as SafeET
from pypdf import PdfReader
from pypdf.errors import DependencyError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject, is_null_or_none

from extractor.formats.deadline import OutOfTime, cpu_budget
from extractor.formats.pdfvalues import Detail, clean, xmp_date

#: pypdf reports every repair as a warning: thousands of lines for one damaged file, in the function's log.
logging.getLogger("pypdf").setLevel(logging.ERROR)

#: What pypdf raises on damaged input besides its own errors; MemoryError is left to the sandbox.
READ_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError, DependencyError, ValueError, TypeError, LookupError, AttributeError, AssertionError,
    RuntimeError, OSError, ArithmeticError, RecursionError, zlib.error, struct.error,
)
#: Objects visited per walk (form fields, annotations, action chains).
_MAX_WALK = 10_000
#: Largest XMP packet parsed; real ones are a few KiB.
_MAX_XMP = 4 * 1024 * 1024

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

_T = TypeVar("_T")


def read_detail(path: Path, seconds: float, *, scripts: bool) -> Detail:
    """XMP fields, form field count and (with ``scripts``) script actions, within ``seconds`` of CPU time.

    Scripts are walked here only when the byte scan
    (:func:`extractor.formats.pdfcheck.has_script`) could not look at every
    object, e.g. in an encrypted file's object streams.
    """
    xmp: dict[str, str] = {}
    fields: int | None = None
    javascript = False
    try:
        with cpu_budget(seconds):
            reader = PdfReader(path, strict=False)
            if reader.is_encrypted and not _opens(reader):
                return Detail()
            root = reader.root_object
            xmp = _attempt(lambda: _xmp_fields(root)) or {}
            fields = _attempt(lambda: _form_field_count(root)) or 0
            javascript = scripts and bool(_attempt(lambda: _has_javascript(root)))
    except OutOfTime:
        return Detail(xmp, fields, javascript, complete=False)
    except READ_ERRORS:
        return Detail(xmp, fields, javascript, complete=False)
    return Detail(xmp, fields, javascript, complete=True)


def declared_pages(path: Path, seconds: float) -> int | None:
    """The page tree's /Count of a PDF that needs a password, within ``seconds`` of CPU time."""
    try:
        with cpu_budget(seconds):
            return _declared_page_count(PdfReader(path, strict=False))
    except OutOfTime:
        return None
    except READ_ERRORS:
        return None


def _opens(reader: PdfReader) -> bool:
    """True when the empty user password opens the file (owner-password-only protection)."""
    try:
        return bool(reader.decrypt(""))
    except READ_ERRORS:
        return False


def _attempt(read: Callable[[], _T]) -> _T | None:
    """``read()``, or None when the part of the file it reads is damaged."""
    try:
        return read()
    except READ_ERRORS:
        return None


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
    except READ_ERRORS:
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


def _value(owner: DictionaryObject, key: str) -> Any:
    """``owner[key]``, indirect references followed (may raise on a damaged file)."""
    return _resolve(owner.get(key))


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
            if date := xmp_date(value):
                out[name] = date
        elif not name.startswith("pdfa_") and (text := clean(value)):
            out[name] = text
    part = raw.get("pdfa_part", "").strip()
    conformance = raw.get("pdfa_conformance", "").strip().upper()
    if re.fullmatch(r"\d{1,2}", part) and re.fullmatch(r"[A-Z]?", conformance):
        out["pdfa"] = part + conformance
    return out



def _walk_fields(root: DictionaryObject) -> Iterator[DictionaryObject]:
    """Every node of the AcroForm field tree, each once, at most :data:`_MAX_WALK`."""
    form = _resolve(root.get("/AcroForm"))
    fields = _resolve(form.get("/Fields")) if isinstance(form, DictionaryObject) else None
    return _walk(list(fields)) if isinstance(fields, ArrayObject) else iter(())


def _walk(stack: list[Any]) -> Iterator[DictionaryObject]:
    """Every node of a tree linked by /Kids from the nodes in ``stack``, each once, at most :data:`_MAX_WALK`.

    The page tree is walked this way too, not through ``reader.pages``: pypdf
    flattens the whole tree first, which took 100 s for 10,000 pages of a
    file whose cross-reference table it had to rebuild.
    """
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack and visited < _MAX_WALK:
        ref = stack.pop()
        if isinstance(ref, IndirectObject):
            if (ref.idnum, ref.generation) in seen:
                continue
            seen.add((ref.idnum, ref.generation))
        node = _attempt(partial(_resolve, ref))
        visited += 1
        if isinstance(node, DictionaryObject):
            yield node
            kids = _attempt(partial(_value, node, "/Kids"))
            if isinstance(kids, ArrayObject):
                stack.extend(reversed(kids))


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


def _has_javascript(root: DictionaryObject) -> bool:
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
    for page in _walk([root.get("/Pages")]):
        budget -= 1
        if budget < 0:
            break
        if _attempt(partial(_has_javascript_actions, page)):
            return True
        annotations = _attempt(partial(_value, page, "/Annots"))
        if not isinstance(annotations, ArrayObject):
            continue
        for ref in annotations[: max(budget, 0)]:
            budget -= 1
            annotation = _attempt(partial(_resolve, ref))
            if isinstance(annotation, DictionaryObject) and _attempt(
                    partial(_has_javascript_actions, annotation)):
                return True
    return any(_attempt(partial(_has_javascript_actions, field)) for field in _walk_fields(root))
