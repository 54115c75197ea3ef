"""A file as one item: :class:`FileRecord`, and the codec between records and items. Pure.

Item layout
-----------
=============  ==========================================================
attribute      meaning
=============  ==========================================================
pk, sk         ``FILE#<file_id>``, ``FILE`` (:mod:`common.schema.keys`)
gsi1pk         ``OWNER#<owner sub>`` (index ``by_owner``)
gsi1sk         ``<uploaded_at>#<file_id>``, newest last
gsi2pk         ``UPLOADS#<shard>`` (index ``by_upload_time``; shard from the file id)
gsi2sk         ``<uploaded_at>#<file_id>``, newest last
file_id        32 hex characters, generated at upload
owner          Cognito ``sub`` of the uploader
owner_email    uploader's e-mail, for people to read
name           original file name, as the user's browser sent it
bucket, key    where the object is; key = ``uploads/<owner>/<file_id><.ext>``
status         :class:`~common.catalogue.FileStatus` (``expired``: object removed by
               retention; ``deleted``: removed by its owner or an admin)
reason         why a file failed, in words a business user understands
uploaded_at    ISO 8601 UTC; also ``started_at``, ``processed_at``, ``updated_at``
size           bytes
content_type   what the browser claimed at upload (never trusted)
tags           the uploader's labels (list of short lower-case strings), kept by every transition
notes          the uploader's free-text note (at most 1,000 characters), kept likewise
tags_counted   true once the counters count the item's tags (AGG#DAY_TAG cells): every
               transition sets it; items written before tags were counted lack it, so
               taking their contribution back takes back no tag they never added
sha256         hex digest of the content
mime_type      detected from content
format         short family name (``pdf``, ``docx``, ``png``, ``text`` ...; catalogue.FORMATS)
extension      lower-case extension of the original name, without the dot
flags          list of risk/quality flags (catalogue.Flag)
metadata       map of format-specific fields (catalogue.METADATA_FIELDS)
version_id     S3 version of the processed object (or ``null``)
etag           S3 ETag of the processed object
sequencer      S3 event sequencer, left-padded so string order is S3 order
rev            ``<sequencer>#claimed|finished|expired|deleted|retry|failed``: the write's step, for conditions
duration_ms    extraction time
interrupted    claims of this object version that ended without a word (the process died); absent for none
delivery       SQS receive count of the delivery that claimed the current version
deadline       ISO 8601 UTC time by which that delivery has ended, finished or not (its
               Lambda's timeout): past it, a file still ``processing`` waits for a retry
preview_key    S3 key of the PNG preview drawn at extraction,
               ``thumbnails/<owner>/<file_id>/<sequencer>.png``; absent when the file has none
=============  ==========================================================

The codec writes DynamoDB's low-level attribute values itself (no boto3 in
this pure module) and exactly as boto3's serialiser would: numbers within
DynamoDB's 38 digits, floats through their shortest decimal text.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from common.catalogue import FileStatus
from common.schema.keys import file_key, owner_keys, upload_keys


@dataclass(frozen=True)
class FileRecord:
    """One uploaded file as the portal shows it and the extractor writes it."""

    file_id: str
    owner: str
    name: str
    bucket: str
    key: str
    status: FileStatus
    uploaded_at: str
    updated_at: str
    owner_email: str = ""
    #: The uploader's labels and note (portal.files.upload_policy normalises them);
    #: set at upload, carried over by every extractor transition.
    tags: tuple[str, ...] = ()
    notes: str = ""
    #: Whether the counters hold this state's tags (see the item layout); set by every transition.
    #: Bookkeeping of the store, not part of the file: records equal whatever it says.
    tags_counted: bool = field(default=False, compare=False)
    size: int | None = None
    content_type: str = ""
    reason: str = ""
    sha256: str = ""
    mime_type: str = ""
    format: str = ""
    extension: str = ""
    flags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    version_id: str = ""
    etag: str = ""
    sequencer: str = ""
    started_at: str = ""
    processed_at: str = ""
    duration_ms: int | None = None
    #: Which step of which event wrote the item: ``<sequencer>#claimed`` or
    #: ``<sequencer>#finished``. Transitions are conditioned on it; being derived
    #: from the event, not counted, it ends the same whatever the delivery order.
    rev: str = ""
    #: Claims of this object version that ended without a word: the process
    #: died (out of memory, killed, timed out). The last delivery reads it.
    interrupted: int | None = None
    #: The delivery (SQS receive count) that claimed this version, and the time by which it
    #: has ended for sure (its Lambda's timeout): past that, ``processing`` means "waits for a retry".
    delivery: int | None = None
    deadline: str = ""
    #: Where the preview the extractor drew of this version is stored (a PNG), or "" for none.
    #: The portal shows that PNG as it is: it never decodes an upload itself.
    preview_key: str = ""
    #: Epoch seconds after which DynamoDB's TTL removes the item: set only while ``pending``
    #: (every later state is a new item without it), so only an unused upload link expires.
    expires_at: int | None = None


@dataclass(frozen=True)
class ObjectRef:
    """What an S3 event says about one object version."""

    bucket: str
    key: str
    size: int
    etag: str
    version_id: str
    sequencer: str


@dataclass(frozen=True)
class Extracted:
    """What extraction found; ``error`` is empty when the file was processed."""

    size: int
    sha256: str
    mime_type: str
    format: str
    extension: str
    flags: tuple[str, ...]
    metadata: Mapping[str, Any]
    error: str = ""
    duration_ms: int = 0

    @property
    def status(self) -> FileStatus:
        """``failed`` when something could not be read, else ``processed``."""
        return FileStatus.FAILED if self.error else FileStatus.PROCESSED


def utc_now() -> str:
    """Current time as ISO 8601 UTC with milliseconds, sortable as a string."""
    return to_timestamp(datetime.now(UTC))


def to_timestamp(moment: datetime) -> str:
    """Format an aware datetime the way items store times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- the codec ---------------------------------------------------------------------

#: DynamoDB's number limits, as boto3 applies them: 38 significant digits, and no rounding.
_NUMBERS = decimal.Context(Emin=-128, Emax=126, prec=38,
                           traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded,
                                  decimal.Underflow])


def _number_text(value: int | float | Decimal) -> str:
    number = _NUMBERS.create_decimal(Decimal(str(value)) if isinstance(value, float) else value)
    if not number.is_finite():
        raise TypeError(f"DynamoDB cannot store the number {value!r}")
    return str(number)


def attribute(value: Any) -> dict[str, Any]:
    """``value`` as one low-level DynamoDB attribute value.

    Raises
    ------
    TypeError
        For a value DynamoDB cannot store (an object, a non-finite number).
    decimal.Inexact
        For a number with more digits than DynamoDB keeps.
    """
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _number_text(value)}
    if isinstance(value, str):
        return {"S": str(value)}  # an enum member is stored as its value
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, set | frozenset):
        if value and all(isinstance(v, str) for v in value):
            return {"SS": [str(v) for v in value]}
        if value and all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in value):
            return {"NS": [_number_text(v) for v in value]}
        raise TypeError("DynamoDB sets hold strings or numbers, and at least one")
    if isinstance(value, Mapping):
        return {"M": {str(k): attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [attribute(v) for v in value]}
    raise TypeError(f"DynamoDB cannot store a {type(value).__name__}")


def attributes(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each value of ``values`` as a low-level attribute value, under the same name."""
    return {name: attribute(value) for name, value in values.items()}


def _number(text: str) -> int | float:
    """A DynamoDB number as the int or float it was written from (ints stay exact)."""
    try:
        return int(text)
    except ValueError:
        value = Decimal(text)
        return int(value) if value == value.to_integral_value() else float(value)


def plain_value(attribute: Mapping[str, Any]) -> Any:
    """One low-level attribute value as plain Python, in one pass.

    Exports decode every attribute of every row: this costs half what a
    general deserialiser followed by a Decimal conversion does.
    """
    ((kind, value),) = attribute.items()
    if kind == "S" or kind == "BOOL":
        return value
    if kind == "N":
        return _number(value)
    if kind == "M":
        return {k: plain_value(v) for k, v in value.items()}
    if kind == "L":
        return [plain_value(v) for v in value]
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {_number(v) for v in value}
    if kind == "B":
        return bytes(value)
    if kind == "BS":
        return {bytes(v) for v in value}
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


RECORD_FIELDS = frozenset(f.name for f in fields(FileRecord))


def to_item(record: FileRecord) -> dict[str, Any]:
    """The DynamoDB item (low-level attribute values) for ``record``."""
    values: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if value in ("", None, (), {}) or value is False:
            continue
        values[f.name] = value
    values.update(owner_keys(record.owner, record.uploaded_at, record.file_id))
    values.update(upload_keys(record.uploaded_at, record.file_id))
    return {**file_key(record.file_id), **attributes(values)}


def from_item(item: Mapping[str, Any]) -> FileRecord:
    """The :class:`FileRecord` stored in a DynamoDB item."""
    values = {k: plain_value(v) for k, v in item.items() if k in RECORD_FIELDS}
    values["status"] = FileStatus(values["status"])
    values["flags"] = tuple(values.get("flags", ()))
    values["tags"] = tuple(values.get("tags", ()))
    return FileRecord(**values)


def marker_files(marker_item: Mapping[str, Any] | None) -> frozenset[str]:
    """The file ids a duplicate marker item names."""
    return frozenset((marker_item or {}).get("files", {}).get("SS", []))


def is_duplicate(marker_item: Mapping[str, Any] | None, file_id: str) -> bool:
    """True when the marker names another file than ``file_id``."""
    return bool(marker_files(marker_item) - {file_id})
