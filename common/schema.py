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
status         :class:`FileStatus` (``expired``: object removed by retention;
               ``deleted``: removed by its owner or an admin)
reason         why a file failed, in words a business user understands
uploaded_at    ISO 8601 UTC; also ``started_at``, ``processed_at``, ``updated_at``
size           bytes
content_type   what the browser claimed at upload (never trusted)
tags           the uploader's labels (list of short lower-case strings), kept by every transition
notes          the uploader's free-text note (at most 1,000 characters), kept likewise
sha256         hex digest of the content
mime_type      detected from content
format         short family name (``pdf``, ``docx``, ``png``, ``text`` ...)
extension      lower-case extension of the original name, without the dot
flags          list of risk/quality flags (``empty``, ``type_mismatch`` ...)
metadata       map of format-specific fields
version_id     S3 version of the processed object (or ``null``)
etag           S3 ETag of the processed object
sequencer      S3 event sequencer, left-padded so string order is S3 order
rev            ``<sequencer>#claimed|finished|expired|deleted|retry|failed``: the write's step, for conditions
duration_ms    extraction time
=============  ==========================================================
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from hashlib import sha256
from typing import Any

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
    """Where a file is in its life; all but the first two are terminal."""

    UPLOADED = "uploaded"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"
    #: The object was removed by the retention rule; its metadata is kept.
    EXPIRED = "expired"
    #: Deleted by its owner or an admin: the object is removed, the item kept as a
    #: tombstone that counts nowhere and that the extractor never claims again.
    DELETED = "deleted"

    @property
    def terminal(self) -> bool:
        """True once nothing more will happen to the file on its own."""
        return self not in (FileStatus.UPLOADED, FileStatus.PROCESSING)


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
    #: The uploader's labels and note (portal.upload_policy normalises them);
    #: set at upload, carried over by every extractor transition.
    tags: tuple[str, ...] = ()
    notes: str = ""
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

@functools.cache
def _codecs() -> tuple[Any, Any]:
    """boto3's (de)serialiser, imported on first use: it costs a cold start 0.1 s."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


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
    serializer = _codecs()[0]
    return {k: serializer.serialize(_to_dynamo(v)) for k, v in values.items()}


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


def _number(text: str) -> int | float:
    """A DynamoDB number as the int or float it was written from (ints stay exact)."""
    try:
        return int(text)
    except ValueError:
        value = Decimal(text)
        return int(value) if value == value.to_integral_value() else float(value)


def plain_value(attribute: Mapping[str, Any]) -> Any:
    """One low-level attribute value as plain Python, in one pass.

    Exports decode every attribute of every row, and boto3's general
    deserialiser followed by a Decimal conversion costs twice as much.
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
    return _from_dynamo(_codecs()[1].deserialize(attribute))  # binary types


_RECORD_FIELDS = frozenset(f.name for f in fields(FileRecord))


def from_item(item: Mapping[str, Any]) -> FileRecord:
    """The :class:`FileRecord` stored in a DynamoDB item."""
    values = {k: plain_value(v) for k, v in item.items() if k in _RECORD_FIELDS}
    values["status"] = FileStatus(values["status"])
    values["flags"] = tuple(values.get("flags", ()))
    values["tags"] = tuple(values.get("tags", ()))
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


def query_owner_range(table: str, owner: str, start_day: str, end_day: str,
                      limit: int = 500) -> dict[str, Any]:
    """One owner's files uploaded from ``start_day`` to ``end_day`` (inclusive), oldest first, one page."""
    return {
        "TableName": table, "IndexName": OWNER_INDEX.name, "Limit": limit,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :start AND :end",
        "ExpressionAttributeNames": {"#pk": OWNER_INDEX.partition_key, "#sk": OWNER_INDEX.sort_key},
        "ExpressionAttributeValues": _serialize({":pk": f"OWNER#{owner}", ":start": start_day,
                                                 ":end": f"{end_day}~"}),
    }


def scan_files_range(table: str, start_day: str, end_day: str, limit: int = 500) -> dict[str, Any]:
    """Every owner's files uploaded from ``start_day`` to ``end_day`` (inclusive), one page of a scan."""
    return {
        "TableName": table, "Limit": limit,
        "FilterExpression": "begins_with(#pk, :file) AND #up BETWEEN :start AND :end",
        "ExpressionAttributeNames": {"#pk": PK, "#up": "uploaded_at"},
        "ExpressionAttributeValues": _serialize({":file": "FILE#", ":start": start_day,
                                                 ":end": f"{end_day}~"}),
    }


# --- transitions: one transaction per change of a file ------------------------
#
# Every change of a file item is a *transition* from the state that was read
# (``old``) to a new state: one transaction that puts the new item on the
# condition that the item still has the revision that was read, adds the
# difference of the two states' contributions to the aggregate items, and
# keeps the duplicate markers in step. A duplicate or concurrent delivery
# finds the revision changed and cancels the whole transaction, so no count
# is ever applied twice; an older event is recognised by its sequencer before
# anything is written.


def claimed(old: FileRecord | None, file_id: str, owner: str, name: str, ref: ObjectRef,
            now: str) -> FileRecord:
    """The file as it is while ``ref``'s object version is processed.

    Identity fields (owner, name, upload time, who uploaded, tags and notes)
    survive from the portal's item; results of an earlier version are dropped.
    """
    return FileRecord(
        file_id=file_id, owner=old.owner if old else owner, owner_email=old.owner_email if old else "",
        tags=old.tags if old else (), notes=old.notes if old else "",
        name=old.name if old else name, bucket=ref.bucket, key=ref.key, status=FileStatus.PROCESSING,
        uploaded_at=old.uploaded_at if old else now, updated_at=now, size=ref.size,
        content_type=old.content_type if old else "", version_id=ref.version_id, etag=ref.etag,
        sequencer=sequencer_order(ref.sequencer), started_at=now,
        rev=f"{sequencer_order(ref.sequencer)}#claimed",
    )


def finished(current: FileRecord, result: Extracted, now: str, *, duplicate: bool = False) -> FileRecord:
    """The file after extraction: processed, or failed with a reason."""
    flags = set(result.flags) | ({"duplicate"} if duplicate else set())
    return replace(
        current, status=result.status, reason=result.error, size=result.size, sha256=result.sha256,
        mime_type=result.mime_type, format=result.format, extension=result.extension,
        flags=tuple(sorted(flags)), metadata=dict(result.metadata), duration_ms=result.duration_ms,
        processed_at=now, updated_at=now, rev=f"{current.sequencer}#finished",
    )


def expired(current: FileRecord, sequencer: str, now: str) -> FileRecord:
    """The file after the retention rule removed its object: everything known is kept."""
    seq = sequencer_order(sequencer)
    return replace(current, status=FileStatus.EXPIRED, sequencer=seq, updated_at=now, rev=f"{seq}#expired")


def deleted(current: FileRecord, now: str) -> FileRecord:
    """The file after its owner or an admin deleted it: a tombstone that counts nowhere.

    Its ``rev`` changes, so an extraction in flight cannot finish over it; the
    extractor never claims a deleted item again, whatever event arrives later.
    """
    return replace(current, status=FileStatus.DELETED, updated_at=now, rev=f"{current.sequencer}#deleted")


def delete_request(table: str, current: FileRecord, now: str) -> dict[str, Any]:
    """The transaction deleting ``current``: its aggregate contribution and duplicate entry go back."""
    return transition(table, current, deleted(current, now))


def queued_for_retry(current: FileRecord, now: str) -> FileRecord:
    """A failed file sent back for processing: ``uploaded`` again, waiting for its new event.

    Not terminal, so the extractor claims it even for an event whose sequencer
    equals the failed one (moto's stand-in gives every event the same sequencer;
    on AWS the copy's event is newer anyway).
    """
    return replace(current, status=FileStatus.UPLOADED, reason="", updated_at=now,
                   rev=f"{current.sequencer}#retry")


def retry_abandoned(failed: FileRecord, now: str) -> FileRecord:
    """The failed file again, when it could not be sent back after all (the copy failed)."""
    return replace(failed, updated_at=now, rev=f"{failed.sequencer}#failed")


def retry_request(table: str, current: FileRecord, now: str) -> dict[str, Any]:
    """The transaction sending a failed file back: its failed contribution and duplicate entry go back."""
    return transition(table, current, queued_for_retry(current, now))


#: S3 user metadata recording when a failed file was last sent back for processing.
RETRIED_AT_META = "retried-at"


def retry_copy(record: FileRecord, metadata: Mapping[str, str], now: str) -> dict[str, Any]:
    """Keyword arguments for ``copy_object`` that make S3 announce a failed file again.

    The object is copied onto itself with a metadata change (S3 refuses a copy
    that changes nothing): a new version, and a new Object Created event with a
    newer sequencer, which the extractor claims as for any newer version.
    ``metadata`` is the object's current user metadata (original name, id).
    """
    source = {"Bucket": record.bucket, "Key": record.key}
    if record.version_id and record.version_id != "null":
        source["VersionId"] = record.version_id
    return {
        "Bucket": record.bucket, "Key": record.key, "CopySource": source,
        "MetadataDirective": "REPLACE", "ContentType": "application/octet-stream",
        "Metadata": {**metadata, RETRIED_AT_META: now},
    }


def transition(table: str, old: FileRecord | None, new: FileRecord,
               marker_seen: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``transact_write_items`` taking the item from ``old`` to ``new``.

    ``marker_seen`` is how many files the new content's duplicate marker named
    when ``new`` was decided; the transaction then also requires that it still
    does, so two copies finishing at once cannot both miss each other.
    """
    put: dict[str, Any] = {"TableName": table, "Item": to_item(new)}
    if old is None:
        put |= {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PK}}
    elif not old.rev:  # the portal's item, untouched by the extractor so far
        put |= {"ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(#rev)",
                "ExpressionAttributeNames": {"#pk": PK, "#rev": "rev"}}
    else:
        put |= {"ConditionExpression": "#rev = :rev", "ExpressionAttributeNames": {"#rev": "rev"},
                "ExpressionAttributeValues": _serialize({":rev": old.rev})}
    actions: list[dict[str, Any]] = [{"Put": put}]
    deltas: dict[tuple[str, str], dict[str, int]] = {}
    # An item without ``rev`` was written by the portal alone (``uploaded``, or
    # ``failed`` by :func:`mark_upload_failed`, which moves no counters): it
    # has contributed nothing, so nothing is taken back for it.
    counted_old = old if old is not None and old.rev else None
    for record, sign in ((counted_old, -1), (new, 1)):
        if record is None:
            continue
        for cell, counts in contributions(record).items():
            target = deltas.setdefault(cell, {})
            for name, value in counts.items():
                target[name] = target.get(name, 0) + sign * value
    for (pk, sk), counts in sorted(deltas.items()):
        counts = {k: v for k, v in sorted(counts.items()) if v}
        if counts:
            actions.append({"Update": _add_counts(table, pk, sk, counts)})
    old_marker = _marker(old)
    new_marker = _marker(new)
    if old_marker and old_marker != new_marker:
        actions.append({"Update": _marker_update(table, old_marker, old.file_id, "DELETE")})  # type: ignore[union-attr]
    if new_marker and new_marker != old_marker:
        update = _marker_update(table, new_marker, new.file_id, "ADD")
        if marker_seen is not None:
            update["ConditionExpression"] = (
                "attribute_not_exists(#files)" if marker_seen == 0 else "size(#files) = :seen")
            if marker_seen:
                update["ExpressionAttributeValues"][":seen"] = {"N": str(marker_seen)}
        actions.append({"Update": update})
    return {"TransactItems": actions}


def _add_counts(table: str, pk: str, sk: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """Add ``counts`` to a cell and count the write, so compaction can tell the cell changed."""
    counts = {**counts, CELL_WRITES: 1}
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = _serialize({f":c{i}": v for i, v in enumerate(counts.values())})
    return {
        "TableName": table, "Key": {PK: {"S": pk}, SK: {"S": sk}},
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
    }


# --- duplicate markers --------------------------------------------------------
# ``pk = DUP#<owner>#<sha256>``, ``sk = DUP``, ``files`` = string set of the
# owner's finished file ids with that content.


def _marker(record: FileRecord | None) -> str:
    if (record is None or not record.status.terminal or record.status is FileStatus.DELETED
            or not record.sha256):
        return ""
    return f"DUP#{record.owner}#{record.sha256}"


def duplicate_key(owner: str, sha256: str) -> dict[str, dict[str, str]]:
    """Key of the marker listing an owner's files with the same content."""
    return {PK: {"S": f"DUP#{owner}#{sha256}"}, SK: {"S": "DUP"}}


def marker_files(marker_item: Mapping[str, Any] | None) -> frozenset[str]:
    """The file ids a duplicate marker item names."""
    return frozenset((marker_item or {}).get("files", {}).get("SS", []))


def is_duplicate(marker_item: Mapping[str, Any] | None, file_id: str) -> bool:
    """True when the marker names another file than ``file_id``."""
    return bool(marker_files(marker_item) - {file_id})


def _marker_update(table: str, pk: str, file_id: str, action: str) -> dict[str, Any]:
    return {
        "TableName": table, "Key": {PK: {"S": pk}, SK: {"S": "DUP"}},
        "UpdateExpression": f"{action} #files :ids",
        "ExpressionAttributeNames": {"#files": "files"},
        "ExpressionAttributeValues": {":ids": {"SS": [file_id]}},
    }


# --- aggregates -----------------------------------------------------------------
#
# Pre-aggregated counters for the dashboards, so no view scans the files.
# Each finished file (processed or failed) adds its contribution to one item
# per grain; a file that is processed again (a newer S3 version) first takes
# its old contribution back. Counters are spread over AGG_SHARDS items per
# cell, chosen by file id, so concurrent transactions rarely touch the same
# item; a reader sums the shards. Items:
#
# ==============  ==================================  ============================
# pk              sk                                  cell
# ==============  ==================================  ============================
# AGG#DAY         <upload day>#s<shard>               all files of a day
# AGG#DAY_FORMAT  <upload day>#<format>#s<shard>      per day and format
# AGG#DAY_OWNER   <upload day>#<owner>#s<shard>       per day and uploader
# AGG#DAY_PEOPLE  <upload day>#<owner>#<kind>=<name>  per day, uploader and a name
#                 #s<shard>                           the document carries
# ==============  ==================================  ============================
#
# Counters (absent means 0): ``files``, ``bytes``, ``status_processed``,
# ``status_failed``, ``duration_ms`` (total extraction time), ``pages``
# (pages or slides) and ``paged_files``, ``latency_ms`` (total upload-to-
# finished time) and the histogram ``latency_le_<ms>`` / ``latency_gt_<ms>``,
# the histograms ``size_le_<bytes>`` / ``size_gt_<bytes>`` and (paged files)
# ``pages_le_<n>`` / ``pages_gt_<n>``,
# ``flag_<flag>``, ``reason_<reason>`` (failures by reason) and, on AGG#DAY
# only, ``format_<format>``. AGG#DAY_PEOPLE cells hold only ``files``: one per
# processed file whose metadata names an author (``author``, else ``artist``)
# or a producing application (``producer``, else ``creator``); ``kind`` is
# ``author`` or ``producer``. Their number grows with the distinct names, not
# with the files.
#
# Every cell also has ``writes``, which is not a counter: each update adds 1
# to it, so :mod:`common.compaction` can merge a cell's shards into shard 0
# only if none of them changed since it read them. Merging is exact because
# readers sum the shards of a cell whichever shards exist. A merged item
# holds its counters in ``packed``, one JSON object (``{"files": 12, ...}``),
# so reading a cell costs one attribute however many counters it has; later
# updates ADD numeric counters beside it, and readers
# (:func:`cell_counters`) sum both.

AGG_SHARDS = 8
#: Attribute of every aggregate cell that counts its updates (not a counter).
CELL_WRITES = "writes"
#: Attribute of a merged cell holding its counters as one JSON object (see below).
CELL_PACKED = "packed"
#: Attributes of an aggregate item that are not counters themselves.
CELL_META = frozenset({PK, SK, CELL_WRITES, CELL_PACKED})
AGG_GRAINS = ("DAY", "DAY_FORMAT", "DAY_OWNER", "DAY_PEOPLE")
LATENCY_BOUNDS_MS = (250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000)
SIZE_BOUNDS = (10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
PAGES_BOUNDS = (1, 5, 10, 50, 100)
#: Names counted on AGG#DAY_PEOPLE: kind -> the metadata fields tried, in order.
PEOPLE_FIELDS: Mapping[str, tuple[str, ...]] = {"author": ("author", "artist"),
                                                "producer": ("producer", "creator")}
_PEOPLE_NAME_CHARS = 120


def aggregate_shard(file_id: str) -> int:
    """The shard a file's contributions go to."""
    return int(file_id[:8], 16) % AGG_SHARDS if re.fullmatch(r"[0-9a-f]{8}.*", file_id) else 0


def _ms_between(start: str, end: str) -> int:
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return max(0, round((parse(end) - parse(start)).total_seconds() * 1000))


def reason_key(reason: str) -> str:
    """A failure reason as a counter name: its general part, before any detail."""
    return reason.split(":", 1)[0].strip()[:100]


def contributions(record: FileRecord) -> dict[tuple[str, str], dict[str, int]]:
    """What a file adds to each aggregate cell: nothing until it is finished, nor once deleted."""
    if not record.status.terminal or record.status is FileStatus.DELETED:
        return {}
    counts: dict[str, int] = {"files": 1, "bytes": record.size or 0, f"status_{record.status.value}": 1,
                              "duration_ms": record.duration_ms or 0}
    pages = record.metadata.get("pages", record.metadata.get("slides"))
    if isinstance(pages, int) and not isinstance(pages, bool):
        counts |= {"pages": pages, "paged_files": 1, histogram_counter("pages", pages, PAGES_BOUNDS): 1}
    if record.processed_at:
        latency = _ms_between(record.uploaded_at, record.processed_at)
        counts["latency_ms"] = latency
        counts[histogram_counter("latency", latency, LATENCY_BOUNDS_MS)] = 1
    if record.size is not None:
        counts[histogram_counter("size", record.size, SIZE_BOUNDS)] = 1
    for flag in record.flags:
        counts[f"flag_{flag}"] = 1
    if record.status is FileStatus.FAILED and record.reason:
        counts[f"reason_{reason_key(record.reason)}"] = 1
    day = record.uploaded_at[:10]
    shard = aggregate_shard(record.file_id)
    fmt = record.format or "unknown"
    cells = {
        aggregate_key("DAY", day, "", shard): counts | {f"format_{fmt}": 1},
        aggregate_key("DAY_FORMAT", day, fmt, shard): dict(counts),
        aggregate_key("DAY_OWNER", day, record.owner, shard): dict(counts),
    }
    if record.status is FileStatus.PROCESSED:
        for kind, name in document_people(record.metadata).items():
            cells[aggregate_key("DAY_PEOPLE", day, f"{record.owner}#{kind}={name}", shard)] = {"files": 1}
    return cells


def cell_counters(item: Mapping[str, Any]) -> dict[str, int]:
    """The counters of a low-level aggregate item: its packed ones plus its numeric attributes.

    Keys and ``writes`` are left out.

    Raises
    ------
    ValueError
        When ``packed`` is not a JSON object of integers.
    """
    packed = item.get(CELL_PACKED)
    counters: dict[str, int] = unpack_counters(packed["S"]) if packed else {}
    for name, value in item.items():
        if name not in CELL_META and "N" in value:
            counters[name] = counters.get(name, 0) + int(Decimal(value["N"]))
    return counters


def pack_counters(counters: Mapping[str, int]) -> dict[str, str]:
    """Counters as a merged cell's ``packed`` attribute (low-level form)."""
    return {"S": json.dumps(dict(sorted(counters.items())), separators=(",", ":"))}


def unpack_counters(text: str) -> dict[str, int]:
    """The counters of a ``packed`` attribute's text.

    Raises
    ------
    ValueError
        When the text is not a JSON object of integers.
    """
    try:
        counters = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"packed counters are not JSON: {e}") from e
    if not isinstance(counters, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in counters.values()):
        raise ValueError("packed counters must be a JSON object of integers")
    return counters


def aggregate_key(grain: str, day: str, dimension: str, shard: int) -> tuple[str, str]:
    """``(pk, sk)`` of one shard of a cell; the inverse of :func:`parse_aggregate_key`."""
    middle = f"#{dimension}" if grain != "DAY" else ""
    return f"AGG#{grain}", f"{day}{middle}#s{shard}"


def people_name(value: Any) -> str:
    """A name from metadata as a counter's key: whitespace folded, at most 120 characters."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:_PEOPLE_NAME_CHARS].strip()


def document_people(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The author and producing application a document names (kind -> name), where it names them."""
    found = {}
    for kind, keys in PEOPLE_FIELDS.items():
        name = next((n for n in (people_name(metadata.get(k)) for k in keys) if n), "")
        if name:
            found[kind] = name
    return found


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


# --- aggregate reads --------------------------------------------------------------
# A reader takes a grain's cells for a range of days with one Query on the
# grain's partition. Every aggregate sort key starts with the ISO day and a
# "#"; "~" sorts after "#", so ``sk BETWEEN <start> AND <end>~`` holds exactly
# the cells of the days from start to end, whatever follows the day.

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AGG_SK_END = "~"


def aggregate_range(grain: str, start_day: str, end_day: str) -> tuple[str, str, str]:
    """Partition key and inclusive sort-key bounds of a grain's cells, start to end day.

    Raises
    ------
    ValueError
        For an unknown grain, a day that is not ``YYYY-MM-DD``, or start after end.
    """
    if grain not in AGG_GRAINS:
        raise ValueError(f"unknown aggregate grain {grain!r}")
    for day in (start_day, end_day):
        if not _DAY_RE.match(day):
            raise ValueError(f"invalid day {day!r}")
        datetime.strptime(day, "%Y-%m-%d")  # a real calendar day, or ValueError
    if start_day > end_day:
        raise ValueError(f"start day {start_day} is after end day {end_day}")
    return f"AGG#{grain}", start_day, end_day + _AGG_SK_END


def parse_aggregate_key(pk: str, sk: str) -> tuple[str, str, str, int]:
    """``(grain, day, dimension, shard)`` of an aggregate item; dimension is "" on AGG#DAY.

    Raises
    ------
    ValueError
        When the keys are not those of an aggregate item.
    """
    grain = pk.removeprefix("AGG#")
    parts = sk.split("#")
    if (grain == pk or grain not in AGG_GRAINS or len(parts) < 2 or not _DAY_RE.match(parts[0])
            or not re.fullmatch(r"s\d+", parts[-1]) or (grain == "DAY") != (len(parts) == 2)):
        raise ValueError(f"not an aggregate key: {pk!r} {sk!r}")
    return grain, parts[0], "#".join(parts[1:-1]), int(parts[-1][1:])


def query_aggregates(table: str, grain: str, start_day: str, end_day: str,
                     limit: int | None = None) -> dict[str, Any]:
    """One page of a grain's cells from start to end day (inclusive), oldest first.

    Eventually consistent: the dashboards cache reads for seconds anyway, and it
    halves the read cost.
    """
    pk, low, high = aggregate_range(grain, start_day, end_day)
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
        "ExpressionAttributeValues": _serialize({":pk": pk, ":low": low, ":high": high}),
    }
    if limit is not None:
        request["Limit"] = limit
    return request


def histogram_counter(name: str, value: int, bounds: tuple[int, ...]) -> str:
    """The counter of histogram ``name`` that ``value`` falls in: ``<name>_le_<bound>`` or ``_gt_<max>``."""
    return next((f"{name}_le_{b}" for b in bounds if value <= b), f"{name}_gt_{bounds[-1]}")


def histogram_buckets(name: str, bounds: tuple[int, ...]) -> tuple[tuple[str, int], ...]:
    """A histogram's counters in order, each with its upper bound.

    The last, open bucket (``<name>_gt_<max>``) is given the largest bound:
    nothing more precise is known about the files in it.
    """
    return (*((f"{name}_le_{b}", b) for b in bounds), (f"{name}_gt_{bounds[-1]}", bounds[-1]))


def size_buckets() -> tuple[tuple[str, int], ...]:
    """The size histogram's counters in order, each with its upper bound in bytes."""
    return histogram_buckets("size", SIZE_BOUNDS)


def pages_buckets() -> tuple[tuple[str, int], ...]:
    """The pages (or slides) histogram's counters in order, each with its upper bound."""
    return histogram_buckets("pages", PAGES_BOUNDS)


def latency_buckets() -> tuple[tuple[str, int], ...]:
    """The latency histogram's counters in order, each with its upper bound in ms."""
    return histogram_buckets("latency", LATENCY_BOUNDS_MS)
