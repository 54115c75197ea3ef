"""The DynamoDB item schema shared by the portal and the extractor.

One table holds every file as one item. This module is the only place that
knows attribute names, key formats and the shape of the S3 object keys; the
portal and the extractor build their requests through it.

Item layout
-----------
=============  ==========================================================
attribute      meaning
=============  ==========================================================
pk             ``FILE#<file_id>``
sk             ``FILE``
gsi1pk         ``OWNER#<owner sub>`` (index ``by_owner``)
gsi1sk         ``<uploaded_at>#<file_id>``, newest last
file_id        32 hex characters, generated at upload
owner          Cognito ``sub`` of the uploader
owner_email    uploader's e-mail, for people to read
name           original file name, as the user's browser sent it
bucket, key    where the object is; key = ``uploads/<owner>/<file_id><.ext>``
status         :class:`FileStatus`
reason         why a file failed, in words a business user understands
uploaded_at    ISO 8601 UTC; also ``started_at``, ``processed_at``, ``updated_at``
size           bytes
content_type   what the browser claimed at upload (never trusted)
sha256         hex digest of the content
mime_type      detected from content
format         short family name (``pdf``, ``docx``, ``png``, ``text`` ...)
extension      lower-case extension of the original name, without the dot
flags          list of risk/quality flags (``empty``, ``type_mismatch`` ...)
metadata       map of format-specific fields
version_id     S3 version of the processed object (or ``null``)
etag           S3 ETag of the processed object
sequencer      S3 event sequencer, left-padded so string order is S3 order
duration_ms    extraction time
=============  ==========================================================
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from hashlib import sha256
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

# --- keys and indexes -------------------------------------------------------

PK = "pk"
SK = "sk"
FILE_SK = "FILE"


@dataclass(frozen=True)
class Index:
    """A global secondary index: name and key attributes (both strings)."""

    name: str
    partition_key: str
    sort_key: str


OWNER_INDEX = Index("by_owner", "gsi1pk", "gsi1sk")
#: Every index the table must have; the template test checks it has exactly these.
INDEXES: tuple[Index, ...] = (OWNER_INDEX,)

#: Objects under this prefix are uploads; the EventBridge rule matches it too.
UPLOAD_PREFIX = "uploads/"
#: S3 user metadata holding the original file name, URL-quoted (metadata is ASCII).
ORIGINAL_NAME_META = "original-name"
_OWNER_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_FILE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_EXT_RE = re.compile(r"^[a-z0-9]{1,10}$")
#: Sequencers are hex strings of varying length; S3 says compare them padded.
_SEQUENCER_WIDTH = 64


class FileStatus(StrEnum):
    """Where a file is in its life; the last two are terminal."""

    UPLOADED = "uploaded"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """True once nothing more will happen to the file on its own."""
        return self in (FileStatus.PROCESSED, FileStatus.FAILED)


# --- records ----------------------------------------------------------------


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
    """What extraction found; written onto the item when a file is processed."""

    size: int
    sha256: str
    mime_type: str
    format: str
    extension: str
    flags: tuple[str, ...]
    metadata: Mapping[str, Any]
    duration_ms: int


# --- pure helpers -----------------------------------------------------------


def utc_now() -> str:
    """Current time as ISO 8601 UTC with milliseconds, sortable as a string."""
    return to_timestamp(datetime.now(UTC))


def to_timestamp(moment: datetime) -> str:
    """Format an aware datetime the way items store times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_file_id() -> str:
    """A fresh, unguessable file id."""
    return uuid.uuid4().hex


def safe_extension(name: str) -> str:
    """The lower-case extension of ``name`` if it is plain ASCII, else ``""``."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in base.strip("."):
        return ""
    ext = base.rsplit(".", 1)[-1].lower()
    return ext if _EXT_RE.match(ext) else ""


def upload_key(owner: str, file_id: str, name: str) -> str:
    """The S3 key for a new upload. The user's file name is never part of the path.

    Raises
    ------
    ValueError
        When ``owner`` or ``file_id`` is not of the expected form.
    """
    if not _OWNER_RE.match(owner):
        raise ValueError(f"invalid owner id {owner!r}")
    if not _FILE_ID_RE.match(file_id):
        raise ValueError(f"invalid file id {file_id!r}")
    ext = safe_extension(name)
    return f"{UPLOAD_PREFIX}{owner}/{file_id}" + (f".{ext}" if ext else "")


@dataclass(frozen=True)
class UploadKey:
    """Owner and file id recovered from an object key."""

    owner: str
    file_id: str


def parse_upload_key(bucket: str, key: str) -> UploadKey:
    """Find owner and file id for an object key.

    Keys the portal made carry both. An object put there by other means still
    gets a stable id derived from bucket and key, so it is tracked too.

    Raises
    ------
    ValueError
        When the key is not under :data:`UPLOAD_PREFIX` with an owner segment.
    """
    if not key.startswith(UPLOAD_PREFIX):
        raise ValueError(f"object key {key!r} is outside {UPLOAD_PREFIX!r}")
    parts = key[len(UPLOAD_PREFIX):].split("/")
    if len(parts) < 2 or not _OWNER_RE.match(parts[0]) or not parts[-1]:
        raise ValueError(f"object key {key!r} has no owner folder")
    stem = parts[-1].split(".", 1)[0]
    if len(parts) == 2 and _FILE_ID_RE.match(stem):
        return UploadKey(parts[0], stem)
    return UploadKey(parts[0], sha256(f"{bucket}/{key}".encode()).hexdigest()[:32])


def sequencer_order(sequencer: str) -> str:
    """Make S3 sequencers comparable as strings, as S3 documents it.

    Two sequencers of the same key are compared after left-padding the shorter
    with zeros; padding both to one width lets DynamoDB compare them directly.
    """
    seq = sequencer.strip().upper()
    if not seq or not re.fullmatch(r"[0-9A-F]+", seq) or len(seq) > _SEQUENCER_WIDTH:
        raise ValueError(f"invalid S3 sequencer {sequencer!r}")
    return seq.rjust(_SEQUENCER_WIDTH, "0")


# --- item (de)serialisation -------------------------------------------------

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def file_key(file_id: str) -> dict[str, dict[str, str]]:
    """The primary key of a file's item."""
    return {PK: {"S": f"FILE#{file_id}"}, SK: {"S": FILE_SK}}


def _owner_keys(owner: str, uploaded_at: str, file_id: str) -> dict[str, str]:
    return {
        OWNER_INDEX.partition_key: f"OWNER#{owner}",
        OWNER_INDEX.sort_key: f"{uploaded_at}#{file_id}",
    }


def _to_dynamo(value: Any) -> Any:
    """Floats become Decimals and tuples lists, as DynamoDB needs."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def _serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in values.items()}


def to_item(record: FileRecord) -> dict[str, Any]:
    """The DynamoDB item (low-level attribute values) for ``record``."""
    values: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if value in ("", None, (), {}):
            continue
        values[f.name] = str(value) if f.name == "status" else value
    values.update(_owner_keys(record.owner, record.uploaded_at, record.file_id))
    return {**file_key(record.file_id), **_serialize(values)}


def from_item(item: Mapping[str, Any]) -> FileRecord:
    """The :class:`FileRecord` stored in a DynamoDB item."""
    plain = {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}
    known = {f.name for f in fields(FileRecord)}
    values = {k: v for k, v in plain.items() if k in known}
    values["status"] = FileStatus(values["status"])
    values["flags"] = tuple(values.get("flags", ()))
    return FileRecord(**values)


# --- requests ---------------------------------------------------------------
# Each function returns keyword arguments for a DynamoDB client call, so the
# callers never spell attribute names or conditions themselves.


def put_new_file(table: str, record: FileRecord) -> dict[str, Any]:
    """Create the item of a new upload; fails if the id is already taken."""
    return {
        "TableName": table,
        "Item": to_item(record),
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": PK},
    }


_RESULT_FIELDS = (
    "reason", "sha256", "mime_type", "format", "extension", "flags",
    "metadata", "processed_at", "duration_ms",
)


def claim_file(
    table: str, file_id: str, owner: str, name: str, ref: ObjectRef, now: str
) -> dict[str, Any]:
    """Mark a file ``processing`` for the object version in ``ref``.

    The condition admits the claim when the item is new, when it has seen no
    event yet, when this event is newer (by sequencer) than the last one, or
    when it is the same event and the file is not yet in a terminal state (a
    retry after a crash). A duplicate of a finished event, or an older event,
    fails the condition and is dropped by the caller.
    """
    seq = sequencer_order(ref.sequencer)
    names = {
        "#status": "status", "#seq": "sequencer", "#pk": PK,
        "#bucket": "bucket", "#key": "key", "#size": "size", "#version": "version_id",
        "#etag": "etag", "#started": "started_at", "#updated": "updated_at",
        "#owner": "owner", "#name": "name", "#uploaded": "uploaded_at", "#file_id": "file_id",
        "#g1pk": OWNER_INDEX.partition_key, "#g1sk": OWNER_INDEX.sort_key,
    }
    remove = []
    for i, attr in enumerate(_RESULT_FIELDS):
        names[f"#r{i}"] = attr
        remove.append(f"#r{i}")
    owner_keys = _owner_keys(owner, now, file_id)
    values = _serialize({
        ":processing": FileStatus.PROCESSING.value,
        ":uploaded": FileStatus.UPLOADED.value,
        ":seq": seq, ":bucket": ref.bucket, ":key": ref.key, ":size": ref.size,
        ":version": ref.version_id, ":etag": ref.etag, ":now": now,
        ":owner": owner, ":name": name, ":file_id": file_id,
        ":g1pk": owner_keys[OWNER_INDEX.partition_key],
        ":g1sk": owner_keys[OWNER_INDEX.sort_key],
    })
    return {
        "TableName": table,
        "Key": file_key(file_id),
        "UpdateExpression": (
            "SET #status = :processing, #seq = :seq, #bucket = :bucket, #key = :key,"
            " #size = :size, #version = :version, #etag = :etag, #started = :now,"
            " #updated = :now, #owner = if_not_exists(#owner, :owner),"
            " #name = if_not_exists(#name, :name), #uploaded = if_not_exists(#uploaded, :now),"
            " #file_id = if_not_exists(#file_id, :file_id),"
            " #g1pk = if_not_exists(#g1pk, :g1pk), #g1sk = if_not_exists(#g1sk, :g1sk)"
            " REMOVE " + ", ".join(remove)
        ),
        "ConditionExpression": (
            "attribute_not_exists(#pk) OR attribute_not_exists(#seq) OR #seq < :seq"
            " OR (#seq = :seq AND #status IN (:uploaded, :processing))"
        ),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
    }


def complete_file(
    table: str, file_id: str, sequencer: str, result: Extracted, now: str
) -> dict[str, Any]:
    """Record a successful extraction, unless a newer event has taken over."""
    attrs = {
        "status": FileStatus.PROCESSED.value, "size": result.size, "sha256": result.sha256,
        "mime_type": result.mime_type, "format": result.format, "extension": result.extension,
        "flags": list(result.flags), "metadata": dict(result.metadata),
        "duration_ms": result.duration_ms, "processed_at": now, "updated_at": now,
    }
    return _finish(table, file_id, sequencer, attrs)


def fail_file(table: str, file_id: str, sequencer: str, reason: str, now: str) -> dict[str, Any]:
    """Record that a file could not be processed, and why."""
    attrs = {
        "status": FileStatus.FAILED.value, "reason": reason,
        "processed_at": now, "updated_at": now,
    }
    return _finish(table, file_id, sequencer, attrs)


def _finish(table: str, file_id: str, sequencer: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    names = {f"#a{i}": name for i, name in enumerate(attrs)}
    sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(attrs)))
    values = _serialize({f":a{i}": v for i, v in enumerate(attrs.values())})
    values.update(_serialize({
        ":seq": sequencer_order(sequencer), ":processing": FileStatus.PROCESSING.value,
    }))
    names.update({"#seq": "sequencer", "#status": "status"})
    return {
        "TableName": table,
        "Key": file_key(file_id),
        "UpdateExpression": f"SET {sets}",
        "ConditionExpression": "#seq = :seq AND #status = :processing",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def mark_upload_failed(table: str, file_id: str, reason: str, now: str) -> dict[str, Any]:
    """The portal could not store the object: end the item instead of leaving it waiting."""
    return {
        "TableName": table,
        "Key": file_key(file_id),
        "UpdateExpression": "SET #status = :failed, #reason = :reason, #updated = :now",
        "ConditionExpression": "#status = :uploaded",
        "ExpressionAttributeNames": {"#status": "status", "#reason": "reason", "#updated": "updated_at"},
        "ExpressionAttributeValues": _serialize({
            ":failed": FileStatus.FAILED.value, ":uploaded": FileStatus.UPLOADED.value,
            ":reason": reason, ":now": now,
        }),
    }


def query_owner_files(table: str, owner: str, limit: int = 100) -> dict[str, Any]:
    """The newest files of one owner, newest first, one page."""
    return {
        "TableName": table,
        "IndexName": OWNER_INDEX.name,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": OWNER_INDEX.partition_key},
        "ExpressionAttributeValues": _serialize({":pk": f"OWNER#{owner}"}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
