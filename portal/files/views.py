"""How files are shown: table rows, status and flag badges, a file's grouped detail and preview. Pure.

No AWS and no Streamlit: the Files page shows what these functions shape.
Metadata fields are grouped and labelled as :mod:`common.catalogue` says.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from common.catalogue import (
    FIELD_GROUPS,
    FIELDS_BY_NAME,
    METADATA_FIELD_NAMES,
    PREVIEW_FORMATS,
    PREVIEW_MAX_BYTES,
    RISK_FLAGS,
    FileStatus,
    Flag,
    flag_label,
)
from common.schema.record import FileRecord, to_timestamp
from portal.text import STATUS_LABELS, human_size, local_time, plain

OTHER_GROUP = FIELD_GROUPS[-1]
_DATE_FIELDS = frozenset(f for f in METADATA_FIELD_NAMES if FIELDS_BY_NAME[f].group == "Dates")


@dataclass(frozen=True)
class Badge:
    """A short label with a colour (Streamlit's badge colours)."""

    label: str
    color: str


_STATUS_COLOURS = {
    FileStatus.PENDING: "gray", FileStatus.UPLOADED: "gray", FileStatus.PROCESSING: "blue",
    FileStatus.PROCESSED: "green",
    FileStatus.FAILED: "red", FileStatus.EXPIRED: "violet", FileStatus.DELETED: "gray",
}


def status_badge(status: FileStatus) -> Badge:
    """The badge of a status."""
    return Badge(STATUS_LABELS[status], _STATUS_COLOURS[status])


#: A file still ``processing`` after the delivery that claimed it has ended (its deadline
#: passed): the process died, and SQS delivers the file again once its visibility timeout ends.
WAITING = Badge("⏸ waiting for a retry", "orange")
#: The same after the last delivery: the message is in the dead-letter queue.
STALLED = Badge("⚠ stalled", "red")


def pending_note(record: FileRecord) -> str:
    """Why a ``pending`` file shows no results yet, and when its entry goes if its file never comes."""
    gone = ""
    if record.expires_at:
        gone = " after " + to_timestamp(dt.datetime.fromtimestamp(record.expires_at, dt.UTC))
    return (f"upload not finished: its file has not arrived (a browser or script is still sending it, or "
            f"stopped). Unless it arrives, "
            f"this entry is removed by itself{gone}")


def state(record: FileRecord, now: dt.datetime | None = None, deliveries: int = 5) -> tuple[Badge, str]:
    """The status badge and the note a person reads for ``record`` at ``now``.

    A claim records its delivery and that delivery's deadline; a file still
    ``processing`` past it is not being worked on, and says so (with the
    delivery count, ``deliveries`` being the queue's maximum) instead of
    "processing" for the minutes until SQS delivers it again.
    """
    note = record.reason
    if record.status is FileStatus.PENDING:
        return status_badge(record.status), pending_note(record)
    if record.status is not FileStatus.PROCESSING or now is None or not record.deadline \
            or record.deadline >= to_timestamp(now):
        return status_badge(record.status), note
    if record.delivery is not None and record.delivery >= deliveries:
        return STALLED, note or (f"processing was interrupted on its last try (delivery {record.delivery} of"
                                 f" {deliveries}); its message is in the dead-letter queue for an admin")
    count = f" (delivery {record.delivery} of {deliveries})" if record.delivery else ""
    return WAITING, note or f"processing was interrupted{count}; it is retried automatically"


def flag_badges(flags: Iterable[str]) -> tuple[Badge, ...]:
    """Risk flags first (orange, ⚠), then quality notes (gray, •)."""
    flags = set(flags)
    risks = [Badge(f"⚠ {f.label}", "orange") for f in RISK_FLAGS if f in flags]
    others = sorted(flags - set(RISK_FLAGS))
    return (*risks, *(Badge(f"• {flag_label(f)}", "gray") for f in others))


#: Hex digits of the SHA-256 the table shows, so a row fits a laptop screen.
SHORT_HASH = 12


def file_rows(records: Iterable[FileRecord], tz: dt.tzinfo, *,
              uploaders: Mapping[str, str] | None = None, now: dt.datetime | None = None,
              deliveries: int = 5) -> list[dict[str, str]]:
    """One row per file for the table; with ``uploaders`` (sub to e-mail) an Uploader column too.

    ``now`` and ``deliveries`` (the queue's maximum receive count) tell a file
    waiting for a retry from one in work (:func:`state`).
    """
    rows = []
    for r in records:
        badge, note = state(r, now, deliveries)
        row = {
            "Name": r.name,
            "Status": badge.label,
            "Flags": "  ".join(b.label for b in flag_badges(r.flags)) or "—",
            "Tags": tags_text(r.tags) or "—",
            "Type": r.format or "—",
            "Size": human_size(r.size),
            "Uploaded": local_time(r.uploaded_at, tz),
        }
        if uploaders is not None:
            row["Uploader"] = r.owner_email or uploaders.get(r.owner, r.owner)
        # The first 12 hex digits tell files apart; the whole digest is in the file's detail.
        row["SHA-256"] = f"{r.sha256[:SHORT_HASH]}…" if r.sha256 else "—"
        row["Note"] = note or "—"
        rows.append({column: plain(value) for column, value in row.items()})  # no control or bidi character
    return rows


def tags_text(tags: Iterable[str]) -> str:
    """A file's tags as one line, in the order they were given."""
    return ", ".join(tags)


def in_flight(records: Iterable[FileRecord]) -> int:
    """How many files are not yet in a terminal state."""
    return sum(not r.status.terminal for r in records)


# --- the detail view --------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One titled block of the detail view: label and readable value pairs."""

    title: str
    rows: tuple[tuple[str, str], ...]


_MAX_VALUE_CHARS = 500


def field_label(name: str) -> str:
    """A metadata field's name as a person reads it."""
    field = FIELDS_BY_NAME.get(name)
    return field.title if field else name.replace("_", " ").capitalize()


def _number(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{seconds:.1f} s"


def readable(name: str, value: Any, tz: dt.tzinfo) -> str:
    """One metadata value as text: dates in ``tz``, sizes human, numbers grouped, lists joined."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and math.isfinite(value):
        if name == "uncompressed_bytes":
            return human_size(int(value))
        if name == "duration_seconds":
            return _duration(float(value))
        if name == "bitrate":
            return f"{value / 1000:,.0f} kbit/s"
        if name == "sample_rate":
            return f"{value / 1000:g} kHz"
        return _number(value)
    if isinstance(value, str):
        text = local_time(value, tz) if name in _DATE_FIELDS else value
    elif isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
        text = ", ".join(_number(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
                         for v in value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS - 1] + "…"


def gps_point(record: FileRecord) -> tuple[float, float] | None:
    """The file's (latitude, longitude) when both are present and on Earth."""
    lat, lon = record.metadata.get("gps_latitude"), record.metadata.get("gps_longitude")
    if not all(_finite(v) for v in (lat, lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # type: ignore[operator]
        return None
    return float(lat), float(lon)  # type: ignore[arg-type]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def detail_groups(record: FileRecord, tz: dt.tzinfo, uploader: str = "") -> tuple[Group, ...]:
    """Everything known about a file, grouped: the file itself, processing, then its metadata.

    Format fields follow the catalogue's order, in the catalogue's groups;
    fields outside it are shown under "Other" so nothing the extractor found
    is hidden. Empty groups are left out.
    """
    file_rows_ = [("Name", record.name), ("Status", STATUS_LABELS[record.status])]
    if record.reason:
        file_rows_.append(("Reason", record.reason))
    file_rows_ += [
        ("Size", human_size(record.size)), ("Format", record.format or "—"),
        ("Detected type", record.mime_type or "—"), ("Extension", record.extension or "—"),
        ("Type claimed at upload", record.content_type or "—"), ("SHA-256", record.sha256 or "—"),
        ("Flags", ", ".join(b.label for b in flag_badges(record.flags)) or "none"),
        ("Tags", tags_text(record.tags) or "none"), ("Note", " ".join(record.notes.split()) or "—"),
        ("Uploader", uploader or record.owner_email or record.owner), ("File id", record.file_id),
    ]
    processing = [("Uploaded", local_time(record.uploaded_at, tz))]
    if record.started_at:
        processing.append(("Processing started", local_time(record.started_at, tz)))
    if record.processed_at:
        processing.append(("Finished", local_time(record.processed_at, tz)))
    processing.append(("Last change", local_time(record.updated_at, tz)))
    if record.duration_ms is not None:
        processing.append(("Extraction time", f"{record.duration_ms / 1000:.2f} s"))
    groups: dict[str, list[tuple[str, str]]] = {title: [] for title in FIELD_GROUPS}
    known = [name for name in METADATA_FIELD_NAMES if name in record.metadata]
    extra = sorted(k for k in record.metadata if k not in FIELDS_BY_NAME)
    for name in (*known, *extra):
        value = readable(name, record.metadata[name], tz)
        field = FIELDS_BY_NAME.get(name)
        groups[field.group if field else OTHER_GROUP].append((field_label(name), value))
    out = [("File", file_rows_), ("Processing", processing)]
    out += [(title, rows) for title, rows in groups.items() if rows]
    # Names, reasons and metadata come from users and their files: no control or direction character.
    return tuple(Group(title, tuple((plain(label), plain(value)) for label, value in rows))
                 for title, rows in out)


# --- the preview ----------------------------------------------------------

NOTE_ENCRYPTED = "This PDF is password-protected, so no preview can be made."


def preview_note(record: FileRecord) -> str:
    """Why a file shows no preview, or "" when the extractor stored one to show.

    A PDF flagged password-protected needs a password nobody gave (files
    processed before that flag existed failed as "encrypted"); one that opens
    without a password (only editing is restricted) is previewed like any other.
    """
    if record.status in (FileStatus.DELETED, FileStatus.EXPIRED):
        return "The file is no longer stored."
    if record.preview_key:
        return ""
    pdf = record.format == "pdf"
    if pdf and (Flag.PASSWORD_PROTECTED in record.flags or (record.status is FileStatus.FAILED and (
            Flag.ENCRYPTED in record.flags or record.reason.lower().startswith("encrypted")))):
        return NOTE_ENCRYPTED
    if record.format not in PREVIEW_FORMATS:
        return "No preview for this type of file."
    if record.size is not None and record.size > PREVIEW_MAX_BYTES:
        return f"No preview for {'PDFs' if pdf else 'images'} over {human_size(PREVIEW_MAX_BYTES)}."
    if record.status is FileStatus.FAILED:
        return "No preview: the file could not be processed."
    if record.status is not FileStatus.PROCESSED:
        return "A preview is shown once the file is processed."
    return missing_preview_note(record)


def missing_preview_note(record: FileRecord) -> str:
    """What a processed image or PDF without a preview shows instead (it could not be drawn, or read)."""
    return f"No preview could be made for this {'PDF' if record.format == 'pdf' else 'image'}."


def png_data_url(png: bytes) -> str:
    """A stored preview as a ``data:`` URL: the browser draws it, and nothing in the portal opens it."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --- downloads ------------------------------------------------------------


_UNSAFE_NAME = re.compile(r'[^A-Za-z0-9 ._()+,=@\[\]-]')


def content_disposition(name: str) -> str:
    """A ``Content-Disposition`` that saves the file under its original name, safely.

    RFC 6266: an ASCII fallback without quotes, backslashes or control
    characters, plus the name UTF-8 percent-encoded (RFC 5987), where control and
    direction characters are ``�``: an override would disguise ``.exe`` as ``.pdf``.
    """
    base = plain(name).replace("\\", "/").rsplit("/", 1)[-1].strip() or "download"
    fallback = _UNSAFE_NAME.sub("_", base)[:150] or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


def total_line(files: int, complete: bool, looked_at: int) -> str:
    """A view's total in words; "at least" when counting stopped after ``looked_at`` items."""
    if not complete:
        return (f"At least {files:,} files match these filters "
                f"(counting stopped after {looked_at:,} files looked at).")
    return f"{files:,} file{'' if files == 1 else 's'} match{'es' if files == 1 else ''} these filters."
