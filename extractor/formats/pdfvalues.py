"""PDF values as DocPortal stores them (one line of clean text, dates in ISO 8601), and what pypdf found.

Shared by the PDFium side (:mod:`extractor.formats.pdf`) and the pypdf side
(:mod:`extractor.formats.pdfdetail`), which is imported only for files that
need it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

#: Longest string field kept; a title is never legitimately longer.
MAX_STRING = 1000

@dataclass(frozen=True)
class Detail:
    """What pypdf found; ``complete`` is False when its budget ran out or the file defeated it."""

    xmp: Mapping[str, str] = field(default_factory=dict)
    form_fields: int | None = None
    javascript: bool = False
    complete: bool = False


_PDF_DATE = re.compile(r"(?:D:)?\s*(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*"
                       r"(?:(Z)|([+-])(\d{2})(?:'?(\d{2}))?)?")


def clean(text: str) -> str | None:
    """One line of printable text, capped; None when nothing is left."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text[: MAX_STRING * 4]).split())
    return text[:MAX_STRING] or None


def iso(moment: datetime) -> str:
    """ISO 8601 to the second, with "Z" for UTC."""
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def pdf_date(value: str) -> str | None:
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
    return iso(moment)


def xmp_date(value: str) -> str | None:
    """An XMP (ISO 8601) date, normalised like PDF dates; None when invalid."""
    try:
        return iso(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None
