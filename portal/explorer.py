"""The Files explorer's logic: filters, search, sorting, paging, rows, detail. Pure.

No AWS and no Streamlit here: :mod:`portal.files` reads pages of items and
applies :func:`matches`; the page shows what :func:`file_rows` and
:func:`detail_groups` shape. Who may do what is decided by the policy
functions below, which :mod:`portal.files` enforces on every access.

Paging is by DynamoDB keys: a page token is the key of the last item a page
looked at, wrapped with a fingerprint of the viewer and the filters, so a
token made for one view is refused by another (and can never widen what a
user may read: the partition queried is always decided on the server).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.schema import FileRecord, FileStatus
from portal.csv_shape import METADATA_COLUMNS
from portal.pdf_preview import NOTE_ENCRYPTED
from portal.tokens import Role, User
from portal.views import STATUS_LABELS, human_size

#: Formats the extractor reports (``format`` of a record), for the filter.
KNOWN_FORMATS: tuple[str, ...] = (
    "pdf", "docx", "docm", "xlsx", "xlsm", "pptx", "pptm", "odt", "ods", "odp", "epub", "ole",
    "jpg", "png", "tif", "gif", "webp", "bmp", "heic", "mp3", "wav", "flac", "ogg", "mp4", "mov",
    "zip", "eml", "csv", "tsv", "json", "xml", "html", "markdown", "text", "empty", "unknown",
)
#: Flags the extractor raises; the first four are risks, the others notes on quality.
RISK_FLAGS: tuple[str, ...] = ("encrypted", "javascript", "macros", "type_mismatch")
QUALITY_FLAGS: tuple[str, ...] = ("gps", "scanned", "duplicate", "empty")
KNOWN_FLAGS: tuple[str, ...] = RISK_FLAGS + QUALITY_FLAGS

PAGE_SIZES: tuple[int, ...] = (25, 50, 100)
MAX_PAGE_SIZE = max(PAGE_SIZES)
MAX_SEARCH_LENGTH = 200
#: Page tokens are short; anything longer is not one of ours.
MAX_TOKEN_LENGTH = 2048
_KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Formats Pillow decodes safely for a thumbnail.
PREVIEW_FORMATS = frozenset({"jpg", "png", "gif", "webp", "bmp", "tif"})
#: PDFs get their first page, drawn by :mod:`portal.pdf_preview` in a capped child process.
PDF_FORMAT = "pdf"
#: Largest file (image or PDF) read for a preview.
PREVIEW_MAX_BYTES = 20 * 1024 * 1024
PREVIEW_MAX_PIXELS = 40_000_000
THUMBNAIL_SIDE = 480


class SortKey(StrEnum):
    """How a list is ordered. Upload time is the index order; the others sort one page."""

    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"
    SIZE = "size"
    STATUS = "status"

    @property
    def label(self) -> str:
        """What the sort menu shows."""
        return {"newest": "Newest first", "oldest": "Oldest first", "name": "Name (this page)",
                "size": "Largest first (this page)", "status": "Status (this page)"}[self.value]


class InvalidFilter(ValueError):
    """A filter a person got wrong; the message says what to change."""


@dataclass(frozen=True)
class Filters:
    """What the explorer shows: which files, found how, in which order.

    An empty set means "any". Deleted files are hidden unless asked for by status.
    ``owner`` (an uploader's ``sub``) is for analysts and admins; uploaders only
    ever see their own files whatever it says.
    """

    statuses: frozenset[FileStatus] = frozenset()
    formats: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    start_day: str | None = None
    end_day: str | None = None
    owner: str | None = None
    text: str = ""
    sort: SortKey = SortKey.NEWEST

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "statuses", frozenset(FileStatus(s) for s in self.statuses))
            object.__setattr__(self, "sort", SortKey(self.sort))
        except ValueError as e:
            raise InvalidFilter(f"unknown status or sort order: {e}") from e
        object.__setattr__(self, "formats", frozenset(f.strip().lower() for f in self.formats if f.strip()))
        object.__setattr__(self, "flags", frozenset(self.flags))
        object.__setattr__(self, "owner", self.owner or None)
        text = " ".join(self.text.split())
        if len(text) > MAX_SEARCH_LENGTH:
            raise InvalidFilter(f"the search text is longer than {MAX_SEARCH_LENGTH} characters")
        object.__setattr__(self, "text", text)
        for day in (self.start_day, self.end_day):
            if day is not None and not _is_day(day):
                raise InvalidFilter(f"{day!r} is not a date (YYYY-MM-DD)")
        if self.start_day and self.end_day and self.start_day > self.end_day:
            raise InvalidFilter(f"the period starts ({self.start_day}) after it ends ({self.end_day})")

    @property
    def newest_first(self) -> bool:
        """Direction of the index read: every order but "oldest" starts from the newest."""
        return self.sort is not SortKey.OLDEST

    @property
    def day_range(self) -> tuple[str, str]:
        """Inclusive upload-day bounds for the schema's range requests; open ends reach everything."""
        return self.start_day or "0000-01-01", self.end_day or "9999-12-31"

    def key(self) -> tuple[Any, ...]:
        """A hashable, stable form (for caches and token fingerprints)."""
        return (tuple(sorted(s.value for s in self.statuses)), tuple(sorted(self.formats)),
                tuple(sorted(self.flags)), self.start_day, self.end_day, self.owner, self.text,
                self.sort.value)

    @classmethod
    def from_key(cls, key: Sequence[Any]) -> Filters:
        """The filters :meth:`key` was made from."""
        statuses, formats, flags, start, end, owner, text, sort = key
        return cls(frozenset(statuses), frozenset(formats), frozenset(flags), start, end, owner, text,
                   SortKey(sort))


def _is_day(text: str) -> bool:
    if not _DAY_RE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- who may do what ------------------------------------------------------------


def sees_everyone(user: User) -> bool:
    """Analysts (read-only) and admins see every user's files."""
    return user.has(Role.ANALYSTS) or user.has(Role.ADMINS)


def may_view(user: User, record: FileRecord) -> bool:
    """Owners see their files, analysts and admins everyone's; a user without a role nothing."""
    return bool(user.roles) and (record.owner == user.sub or sees_everyone(user))


def may_change(user: User, record: FileRecord) -> bool:
    """Only the owner or an admin changes a file; analysts read others' files only."""
    return bool(user.roles) and (record.owner == user.sub or user.has(Role.ADMINS))


def may_retry(user: User, record: FileRecord) -> bool:
    """A failed file can be sent back for processing by whoever may change it."""
    return record.status is FileStatus.FAILED and may_change(user, record)


def may_delete(user: User, record: FileRecord) -> bool:
    """Any file not yet deleted can be deleted by whoever may change it."""
    return record.status is not FileStatus.DELETED and may_change(user, record)


def may_download(user: User, record: FileRecord) -> bool:
    """The original can be fetched while its object exists."""
    return (record.status not in (FileStatus.DELETED, FileStatus.EXPIRED) and bool(record.key)
            and may_view(user, record))


# --- matching and ordering --------------------------------------------------------


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return " ".join(_text_of(v) for v in value)
    return "" if value is None else str(value)


def matches(record: FileRecord, filters: Filters) -> bool:
    """True when ``record`` passes every filter; the text search is case-insensitive.

    The text is looked for in the file name and the document's title and author.
    """
    if filters.statuses:
        if record.status not in filters.statuses:
            return False
    elif record.status is FileStatus.DELETED:
        return False
    if filters.formats and (record.format or "unknown") not in filters.formats:
        return False
    if filters.flags and not filters.flags & set(record.flags):
        return False
    day = record.uploaded_at[:10]
    if (filters.start_day and day < filters.start_day) or (filters.end_day and day > filters.end_day):
        return False
    if filters.owner and record.owner != filters.owner:
        return False
    if filters.text:
        needle = filters.text.casefold()
        haystack = " \n ".join((record.name, _text_of(record.metadata.get("title")),
                                _text_of(record.metadata.get("author"))))
        if needle not in haystack.casefold():
            return False
    return True


_STATUS_ORDER = {s: i for i, s in enumerate(FileStatus)}


def sort_records(records: Iterable[FileRecord], sort: SortKey) -> list[FileRecord]:
    """One page in the chosen order (ties by upload time, newest first)."""
    items = sorted(records, key=lambda r: (r.uploaded_at, r.file_id), reverse=sort is not SortKey.OLDEST)
    if sort is SortKey.NAME:
        items.sort(key=lambda r: r.name.casefold())
    elif sort is SortKey.SIZE:
        items.sort(key=lambda r: -1 if r.size is None else r.size, reverse=True)
    elif sort is SortKey.STATUS:
        items.sort(key=lambda r: _STATUS_ORDER[r.status])
    return items


# --- page tokens ------------------------------------------------------------------


class BadPageToken(ValueError):
    """A page token that is damaged or belongs to another view."""


def fingerprint(scope: str, filters: Filters) -> str:
    """What a token is bound to: the viewer's scope (user, roles) and every filter."""
    return hashlib.sha256(json.dumps([scope, list(filters.key())], default=list).encode()).hexdigest()[:16]


def encode_token(key: Mapping[str, Any], bound_to: str) -> str:
    """An opaque, URL-safe token for the page after ``key`` (a DynamoDB key)."""
    raw = json.dumps({"k": key, "f": bound_to}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, bound_to: str) -> dict[str, Any]:
    """The DynamoDB key in ``token``.

    Raises
    ------
    BadPageToken
        When the token is malformed, holds anything but string key attributes,
        or was made for another user or other filters.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise BadPageToken("the page token is empty or too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as e:
        raise BadPageToken("the page token is damaged") from e
    if not isinstance(data, dict) or data.get("f") != bound_to:
        raise BadPageToken("the page token belongs to another view")
    key = data.get("k")
    if (not isinstance(key, dict) or not key or not set(key) <= _KEY_ATTRIBUTES
            or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
                       for v in key.values())):
        raise BadPageToken("the page token holds no valid key")
    return key


@dataclass(frozen=True)
class Pager:
    """Where a person is in a list: the tokens of the pages visited, first page first."""

    tokens: tuple[str | None, ...] = (None,)

    @property
    def current(self) -> str | None:
        """The token of the page shown (None: the first)."""
        return self.tokens[-1]

    @property
    def number(self) -> int:
        """The page shown, from 1."""
        return len(self.tokens)

    @property
    def has_previous(self) -> bool:
        """True past the first page."""
        return len(self.tokens) > 1

    def forward(self, token: str) -> Pager:
        """The pager on the next page."""
        return Pager((*self.tokens, token))

    def back(self) -> Pager:
        """The pager on the previous page (the first stays the first)."""
        return Pager(self.tokens[:-1]) if self.has_previous else self


# --- shaping for people ---------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """A short label with a colour (Streamlit's badge colours)."""

    label: str
    color: str


_STATUS_COLOURS = {
    FileStatus.UPLOADED: "gray", FileStatus.PROCESSING: "blue", FileStatus.PROCESSED: "green",
    FileStatus.FAILED: "red", FileStatus.EXPIRED: "violet", FileStatus.DELETED: "gray",
}


def status_badge(status: FileStatus) -> Badge:
    """The badge of a status."""
    return Badge(STATUS_LABELS[status], _STATUS_COLOURS[status])


def flag_badges(flags: Iterable[str]) -> tuple[Badge, ...]:
    """Risk flags first (orange, ⚠), then quality notes (gray, •)."""
    flags = set(flags)
    risks = [Badge(f"⚠ {f.replace('_', ' ')}", "orange") for f in RISK_FLAGS if f in flags]
    others = sorted(flags - set(RISK_FLAGS))
    return (*risks, *(Badge(f"• {f.replace('_', ' ')}", "gray") for f in others))


def zone(name: str | None) -> dt.tzinfo:
    """The time zone called ``name`` (a browser's IANA name), UTC when unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.UTC


def local_time(value: str, tz: dt.tzinfo) -> str:
    """An ISO timestamp in ``tz``, to the minute; a time without zone is shown as written.

    Text that is not a timestamp is returned unchanged, so nothing is hidden.
    """
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M") if len(value) > 10 else moment.strftime("%Y-%m-%d")
    moment = moment.astimezone(tz)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".rstrip()


#: Hex digits of the SHA-256 the table shows, so a row fits a laptop screen.
SHORT_HASH = 12


def file_rows(records: Iterable[FileRecord], tz: dt.tzinfo, *,
              uploaders: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """One row per file for the table; with ``uploaders`` (sub to e-mail) an Uploader column too."""
    rows = []
    for r in records:
        row = {
            "Name": r.name,
            "Status": status_badge(r.status).label,
            "Flags": "  ".join(b.label for b in flag_badges(r.flags)) or "—",
            "Type": r.format or "—",
            "Size": human_size(r.size),
            "Uploaded": local_time(r.uploaded_at, tz),
        }
        if uploaders is not None:
            row["Uploader"] = r.owner_email or uploaders.get(r.owner, r.owner)
        # The first 12 hex digits tell files apart; the whole digest is in the file's detail.
        row["SHA-256"] = f"{r.sha256[:SHORT_HASH]}…" if r.sha256 else "—"
        row["Note"] = r.reason or "—"
        rows.append(row)
    return rows


def in_flight(records: Iterable[FileRecord]) -> int:
    """How many files are not yet in a terminal state."""
    return sum(not r.status.terminal for r in records)


# --- the detail view --------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One titled block of the detail view: label and readable value pairs."""

    title: str
    rows: tuple[tuple[str, str], ...]


#: Which group each catalogued metadata field goes to, in the catalogue's order.
_FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "Document": ("title", "author", "subject", "keywords", "creator", "producer", "last_modified_by",
                 "revision", "lang", "pages", "words", "characters", "word_count", "paragraphs", "tables",
                 "images", "pdf_version", "encrypted", "page_width", "page_height", "has_text",
                 "form_fields", "pdfa", "sheets", "sheet_count", "cells", "has_formulas", "slides",
                 "has_notes", "odf_type"),
    "Dates": ("created", "modified", "taken_at", "date"),
    "Image": ("width", "height", "mode", "dpi", "frames", "camera_make", "camera_model", "orientation"),
    "Location": ("gps_latitude", "gps_longitude"),
    "Audio and video": ("duration_seconds", "bitrate", "sample_rate", "channels", "has_video", "artist"),
    "Text and data": ("encoding", "lines", "delimiter", "header", "columns", "rows", "json_type",
                      "root_element", "top_level_keys", "items"),
    "Archive and e-mail": ("entries", "uncompressed_bytes", "member_types", "encrypted_entries",
                           "nested_archives", "from", "to", "cc", "attachments", "attachment_count"),
    "Other": ("note",),
}
FIELD_GROUP = {name: group for group, names in _FIELD_GROUPS.items() for name in names}
_DATE_FIELDS = frozenset(_FIELD_GROUPS["Dates"])
_LABELS = {
    "pdf_version": "PDF version", "pdfa": "PDF/A", "dpi": "DPI", "odf_type": "ODF type",
    "gps_latitude": "Latitude", "gps_longitude": "Longitude", "cc": "Cc", "lang": "Language",
    "json_type": "JSON type", "duration_seconds": "Duration", "taken_at": "Taken",
    "has_text": "Has a text layer",
}
_MAX_VALUE_CHARS = 500


def field_label(name: str) -> str:
    """A metadata field's name as a person reads it."""
    return _LABELS.get(name) or name.replace("_", " ").capitalize()


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

    Format fields follow the export catalogue's order; fields outside it are
    shown under "Other" so nothing the extractor found is hidden. Empty groups
    are left out.
    """
    file_rows_ = [("Name", record.name), ("Status", STATUS_LABELS[record.status])]
    if record.reason:
        file_rows_.append(("Reason", record.reason))
    file_rows_ += [
        ("Size", human_size(record.size)), ("Format", record.format or "—"),
        ("Detected type", record.mime_type or "—"), ("Extension", record.extension or "—"),
        ("Type claimed at upload", record.content_type or "—"), ("SHA-256", record.sha256 or "—"),
        ("Flags", ", ".join(b.label for b in flag_badges(record.flags)) or "none"),
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
    groups: dict[str, list[tuple[str, str]]] = {title: [] for title in _FIELD_GROUPS}
    catalogue = [c for c in METADATA_COLUMNS if c in record.metadata]
    extra = sorted(k for k in record.metadata if k not in set(METADATA_COLUMNS))
    for name in (*catalogue, *extra):
        value = readable(name, record.metadata[name], tz)
        groups[FIELD_GROUP.get(name, "Other")].append((field_label(name), value))
    out = [Group("File", tuple(file_rows_)), Group("Processing", tuple(processing))]
    out += [Group(title, tuple(rows)) for title, rows in groups.items() if rows]
    return tuple(out)


# --- downloads and previews -------------------------------------------------------


_UNSAFE_NAME = re.compile(r'[^A-Za-z0-9 ._()+,=@\[\]-]')


def content_disposition(name: str) -> str:
    """A ``Content-Disposition`` that saves the file under its original name, safely.

    RFC 6266: an ASCII fallback without quotes, backslashes or control
    characters, plus the exact name UTF-8 percent-encoded (RFC 5987).
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "download"
    fallback = _UNSAFE_NAME.sub("_", base)[:150] or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


def preview_note(record: FileRecord) -> str:
    """Why a file gets no preview, or "" when it may get one (an image's thumbnail, a PDF's first page).

    A PDF the extractor failed on as encrypted needs a password nobody gave,
    so it is not sent to the renderer; one that opens without a password
    (only editing is restricted) is processed and previewed like any other.
    """
    if record.status in (FileStatus.DELETED, FileStatus.EXPIRED):
        return "The file is no longer stored."
    pdf = record.format == PDF_FORMAT
    if pdf and record.status is FileStatus.FAILED and (
            "encrypted" in record.flags or record.reason.lower().startswith("encrypted")):
        return NOTE_ENCRYPTED
    if not pdf and record.format not in PREVIEW_FORMATS:
        return "No preview for this type of file."
    if record.size is not None and record.size > PREVIEW_MAX_BYTES:
        return f"No preview for {'PDFs' if pdf else 'images'} over {human_size(PREVIEW_MAX_BYTES)}."
    if record.status is FileStatus.FAILED:
        return "No preview: the file could not be processed."
    if record.status is not FileStatus.PROCESSED:
        return "A preview is shown once the file is processed."
    return ""


def thumbnail(data: bytes, side: int = THUMBNAIL_SIDE, max_pixels: int = PREVIEW_MAX_PIXELS) -> bytes | None:
    """A PNG thumbnail of an image, at most ``side`` pixels wide or high; None if it cannot be made.

    The declared pixel count is checked before anything is decoded, so a
    decompression bomb is refused from its header; Pillow's own bomb check
    stays on as a second guard. Only the first frame of an animation is used.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                return None
            im.draft("RGB", (side, side))  # JPEG decodes at a reduced scale: far cheaper
            im.thumbnail((side, side))
            if im.mode not in ("RGB", "RGBA", "L", "LA"):
                im = im.convert("RGBA")
            out = io.BytesIO()
            im.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError,
            EOFError):
        return None


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md_escape(text: str) -> str:
    """``text`` shown literally where Streamlit renders Markdown (tables, headings, badges).

    File names, titles and authors come from users and their files; unescaped,
    ``[x](https://…)`` would become a link and ``![x](…)`` fetch a remote image.
    CommonMark lets every ASCII punctuation character be backslash-escaped,
    which also defuses Streamlit's ``:color[…]`` and ``:material/…:`` directives.
    """
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))
