"""Safe XML streaming and value cleaning shared by the Office Open XML and OpenDocument parsers. Pure.

Both formats are zips of XML parts. Every part is parsed as a stream with
DTDs refused, so an entity bomb or an external entity never expands and a
large part costs little memory; the values read are cleaned so that a garbage
statistic or an overlong title never becomes a column value.

Parts that describe the package (relationships, properties, the list of
sheets or slides) are small and read with :func:`iter_xml`, at most
:data:`MAX_ELEMENTS` elements of each. Parts whose elements are counted
(a document's body, a sheet, an OpenDocument's content) may inflate to
hundreds of megabytes from a few: :func:`scan_xml` reads them with bare expat
callbacks, several times faster, and their parsers count over the first
:data:`MAX_SCANNED_BYTES` only, saying so in a ``note``.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree.ElementTree import Element
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as SafeET

from extractor.formats import Limits, MiB, ParseError
from extractor.formats.safezip import SafeZip

#: Why a file with a DTD or entity declarations is refused, for a business user.
UNSAFE_XML = "unsafe XML in document: entities or DTDs are not allowed"

#: Longest text value kept (titles, names), so one field cannot bloat a record.
MAX_TEXT_CHARS = 1000
#: Elements of a package-describing part read; real ones have tens to a few thousand.
MAX_ELEMENTS = 100_000
#: Bytes of XML counted in a file's counted parts: about 800 pages of text or 300,000 cells,
#: half a second of scanning.
MAX_SCANNED_BYTES = 8 * MiB

_UNSAFE = (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden)
_ISO_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?"
                       r"([Zz]|[+-]\d{2}:?\d{2})?")
_UTC_SUFFIXES = ("+00:00", "+0000", "z")
_COUNT = re.compile(r"[0-9]{1,15}")


def iter_xml(data: bytes, limits: Limits, what: str, name: str) -> Iterator[tuple[str, Element, int]]:
    """Stream ``(event, element, depth)`` for each start and end tag of an XML part.

    Parsing is incremental and each element is detached from its parent once its
    ``end`` event has been handled, so memory stays flat however long the part
    is. Read an element's text and attributes at its ``end`` event; children are
    gone by then. The root has depth 1. The stream ends after
    :data:`MAX_ELEMENTS` elements: nothing a parser reports lies beyond that.

    Raises
    ------
    ParseError
        When the part declares a DTD or entities (they could expand without bound
        or reach outside the file), nests deeper than ``limits.max_depth``, or is
        not well-formed.
    """
    stack: list[Element] = []
    started = itertools.count(1)
    try:
        for event, elem in SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if next(started) > MAX_ELEMENTS:
                    return
                stack.append(elem)
                if len(stack) > limits.max_depth:
                    raise too_deep(what, name, limits)
                yield event, elem, len(stack)
            else:
                yield event, elem, len(stack)
                stack.pop()
                if stack:
                    stack[-1].remove(elem)
    except _UNSAFE as e:
        raise ParseError(UNSAFE_XML) from e
    except (SafeET.ParseError, ValueError, LookupError) as e:
        raise ParseError(f"damaged {what}: {name} is not valid XML") from e


def read_counted(zf: SafeZip, name: str, budget: int = MAX_SCANNED_BYTES) -> tuple[bytes, bool]:
    """The first ``budget`` bytes of a counted part, and whether that is all of it."""
    data = zf.read(name, max_bytes=budget + 1)
    return data[:budget], len(data) <= budget


def scan_xml(data: bytes, what: str, name: str, handlers: dict[str, Callable[..., None]], *,
             complete: bool = True) -> None:
    """Run expat over ``data`` with ``handlers`` (e.g. ``{"StartElementHandler": ...}``).

    Tags arrive as ``namespace}local`` (:func:`expat_tags` spells them), text in
    runs as long as expat's buffer. The handlers keep their own depth and check
    it against ``limits.max_depth``. ``complete=False`` takes ``data`` as the
    start of a longer part: ending inside an element is then no damage.

    Raises
    ------
    ParseError
        When the part declares a DTD or entities, or is not well-formed.
    """
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.buffer_text = True
    for handler, function in handlers.items():
        setattr(parser, handler, function)
    try:
        parser.Parse(data, complete)
    except expat.ExpatError as e:
        raise ParseError(f"damaged {what}: {name} is not valid XML") from e


def expat_tags(tags: frozenset[str]) -> frozenset[str]:
    """Clark-notation tags (``{namespace}local``) as :func:`scan_xml` spells them."""
    return frozenset(tag.lstrip("{") for tag in tags)


def too_deep(what: str, name: str, limits: Limits) -> ParseError:
    """The error for a part nested deeper than ``limits.max_depth``."""
    return ParseError(f"{what} is nested too deeply: {name} goes beyond {limits.max_depth} levels")


def _refuse(*_: Any) -> Any:
    raise ParseError(UNSAFE_XML)


def clean_text(value: str | None) -> str | None:
    """``value`` stripped and capped at :data:`MAX_TEXT_CHARS`, or None when blank.

    Absent and empty values are both left out of the metadata, so callers only
    store what a file really says.
    """
    if value is None:
        return None
    value = value.strip()
    return value[:MAX_TEXT_CHARS] or None


def iso_date(value: str | None) -> str | None:
    """An ISO 8601 date as found, with a UTC offset written as ``Z``; None if not a date.

    Files state dates in several equivalent UTC spellings; one spelling keeps the
    column sortable. Times without an offset stay as they are (local, unknown zone).
    """
    text = clean_text(value)
    if text is None or not _ISO_DATE.fullmatch(text):
        return None
    for suffix in _UTC_SUFFIXES:
        if text.endswith(suffix):
            return text[: -len(suffix)] + "Z"
    return text


def count_value(value: str | None) -> int | None:
    """A non-negative integer written in a file, or None when it is not one.

    Declared counts are reported as the file states them, but only when they are
    plain numbers, so a garbage statistic never becomes a column value.
    """
    text = (value or "").strip()
    return int(text) if _COUNT.fullmatch(text) else None


def with_partial(error: ParseError, metadata: dict[str, Any], flags: frozenset[str]) -> ParseError:
    """``error`` carrying what was read before it, so a failure still reports it."""
    return ParseError(error.reason, metadata={**metadata, **error.metadata}, flags=flags | error.flags)
