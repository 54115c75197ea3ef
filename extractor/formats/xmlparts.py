"""Safe XML streaming and value cleaning shared by the Office Open XML and OpenDocument parsers. Pure.

Both formats are zips of XML parts. Every part is parsed as a stream with
defusedxml, DTDs refused, so an entity bomb or an external entity never
expands and a large part costs little memory; the values read are cleaned so
that a garbage statistic or an overlong title never becomes a column value.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as SafeET

from extractor.formats import Limits, ParseError

#: Why a file with a DTD or entity declarations is refused, for a business user.
UNSAFE_XML = "unsafe XML in document: entities or DTDs are not allowed"

#: Longest text value kept (titles, names), so one field cannot bloat a record.
MAX_TEXT_CHARS = 1000

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
    gone by then. The root has depth 1.

    Raises
    ------
    ParseError
        When the part declares a DTD or entities (they could expand without bound
        or reach outside the file), nests deeper than ``limits.max_depth``, or is
        not well-formed.
    """
    stack: list[Element] = []
    try:
        for event, elem in SafeET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(elem)
                if len(stack) > limits.max_depth:
                    raise ParseError(f"{what} is nested too deeply: {name} goes beyond "
                                     f"{limits.max_depth} levels")
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
