"""Item keys, the owner index, and the S3 object key layout. Pure.

================  ===========================  ================================
item              pk                           sk
================  ===========================  ================================
a file            ``FILE#<file_id>``           ``FILE``
duplicate marker  ``DUP#<owner>#<sha256>``     ``DUP``
aggregate cell    ``AGG#<grain>``              see :mod:`common.schema.aggregates`
saved views       ``USER#<user sub>``          ``VIEWS``
================  ===========================  ================================

A file item is also in the ``by_owner`` index: ``gsi1pk = OWNER#<owner sub>``,
``gsi1sk = <uploaded_at>#<file_id>`` (newest last), and in the ``by_upload_time``
index: ``gsi2pk = UPLOADS#<shard>``, ``gsi2sk = <uploaded_at>#<file_id>``, the shard
(``0`` to ``7``) a stable hash of the file id (see :data:`UPLOAD_SHARDS`). Only file
items carry these attributes, so aggregate cells and duplicate markers are in
neither index. Uploads live in S3 at
``uploads/<owner>/<file_id><.ext>``, and the preview the extractor drew of a file
version at ``thumbnails/<owner>/<file_id>/<sequencer>.png``: the user's file name is
never part of a key.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from hashlib import sha256

PK = "pk"
SK = "sk"
FILE_SK = "FILE"
DUPLICATE_SK = "DUP"
SAVED_VIEWS_SK = "VIEWS"


@dataclass(frozen=True)
class Index:
    """A global secondary index: name and key attributes (both strings)."""

    name: str
    partition_key: str
    sort_key: str


OWNER_INDEX = Index("by_owner", "gsi1pk", "gsi1sk")
#: Every file by upload time, over :data:`UPLOAD_SHARDS` partitions merged when read.
UPLOAD_INDEX = Index("by_upload_time", "gsi2pk", "gsi2sk")
#: Every index the table must have; the template test checks it has exactly these.
INDEXES: tuple[Index, ...] = (OWNER_INDEX, UPLOAD_INDEX)
#: Partitions the upload-time index spreads files over.
#:
#: Why shards: new files' sort keys all land at the end of the newest range,
#: and DynamoDB gives one partition key at most 1,000 write units a second.
#: Each file is written to the index about three times (``uploaded``,
#: ``processing``, ``processed``), a typical item is 1-2 KB, so one partition
#: takes about 160 files/s; eight take about 1,300 files/s, some 15 times the
#: 90 files/s the stack processes on AWS at its default concurrency
#: (docs/PERFORMANCE.md). Why not more: every page read queries every shard,
#: so shards cost read requests (and over-read items) on every view.
#:
#: Why no day in the partition key: the Files view's default has open ends,
#: and with a partition per day an open start means querying every day since
#: the first upload (eight queries per empty day). With the upload time in the
#: sort key any period is one ``BETWEEN`` per shard, and reads only its items.
UPLOAD_SHARDS = 8

#: Objects under this prefix are uploads; the EventBridge rule matches it too.
UPLOAD_PREFIX = "uploads/"
#: Previews (PNG) drawn at extraction live under this prefix, one per file version.
THUMBNAIL_PREFIX = "thumbnails/"
#: S3 user metadata holding the original file name, URL-quoted (metadata is ASCII).
ORIGINAL_NAME_META = "original-name"
#: S3 user metadata holding the file id the portal gave the upload.
FILE_ID_META = "file-id"
#: S3 user metadata recording when a failed file was last sent back for processing.
RETRIED_AT_META = "retried-at"

_OWNER_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_FILE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_EXT_RE = re.compile(r"^[a-z0-9]{1,10}$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Sequencers are hex strings of varying length; S3 says compare them padded.
_SEQUENCER_WIDTH = 64


def new_file_id() -> str:
    """A fresh, unguessable file id."""
    return uuid.uuid4().hex


def is_file_id(text: object) -> bool:
    """True for a file id as :func:`new_file_id` makes them (32 lower-case hex digits)."""
    return isinstance(text, str) and _FILE_ID_RE.match(text) is not None


def is_day(text: object) -> bool:
    """True for an ISO calendar day, ``YYYY-MM-DD``: the upload days keys and filters use."""
    if not isinstance(text, str) or not _DAY_RE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def file_key(file_id: str) -> dict[str, dict[str, str]]:
    """The primary key of a file's item."""
    return {PK: {"S": f"FILE#{file_id}"}, SK: {"S": FILE_SK}}


def saved_views_key(sub: str) -> dict[str, dict[str, str]]:
    """The key of the item holding a user's saved Files views (in no index)."""
    return {PK: {"S": f"USER#{sub}"}, SK: {"S": SAVED_VIEWS_SK}}


def owner_keys(owner: str, uploaded_at: str, file_id: str) -> dict[str, str]:
    """The owner index's key attributes of a file item."""
    return {
        OWNER_INDEX.partition_key: f"OWNER#{owner}",
        OWNER_INDEX.sort_key: upload_position(uploaded_at, file_id),
    }


def upload_shard(file_id: str) -> int:
    """The upload-time index shard of a file: stable (a hash of its id), evenly spread."""
    return int.from_bytes(sha256(file_id.encode()).digest()[:4], "big") % UPLOAD_SHARDS


def upload_partition(shard: int) -> str:
    """The upload-time index's partition key value of one shard."""
    if not 0 <= shard < UPLOAD_SHARDS:
        raise ValueError(f"no upload index shard {shard}")
    return f"UPLOADS#{shard}"


def upload_keys(uploaded_at: str, file_id: str) -> dict[str, str]:
    """The upload-time index's key attributes of a file item."""
    return {
        UPLOAD_INDEX.partition_key: upload_partition(upload_shard(file_id)),
        UPLOAD_INDEX.sort_key: upload_position(uploaded_at, file_id),
    }


def upload_position(uploaded_at: str, file_id: str) -> str:
    """Where a file sorts in both indexes: by upload time, ties by id (so every file has its own place)."""
    return f"{uploaded_at}#{file_id}"


def day_bounds(start_day: str, end_day: str) -> tuple[str, str]:
    """The sort-key bounds (inclusive) of files uploaded from ``start_day`` to ``end_day``."""
    return start_day, f"{end_day}~"  # "~" sorts after every time of day


def owner_partition(owner: str) -> str:
    """The owner index's partition key value of an owner's files."""
    return f"OWNER#{owner}"


def duplicate_pk(owner: str, sha256_hex: str) -> str:
    """Partition key of the marker listing an owner's finished files with one content."""
    return f"DUP#{owner}#{sha256_hex}"


def duplicate_key(owner: str, sha256_hex: str) -> dict[str, dict[str, str]]:
    """Key of the marker listing an owner's files with the same content."""
    return {PK: {"S": duplicate_pk(owner, sha256_hex)}, SK: {"S": DUPLICATE_SK}}


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
    if not is_file_id(file_id):
        raise ValueError(f"invalid file id {file_id!r}")
    ext = safe_extension(name)
    return f"{UPLOAD_PREFIX}{owner}/{file_id}" + (f".{ext}" if ext else "")


def thumbnail_key(owner: str, file_id: str, sequencer: str) -> str:
    """The S3 key of the preview of one version (by its S3 sequencer) of a file.

    Per version, so a delivery of an older version finishing late can never
    put its picture where the newer version's record points; two deliveries
    of the same version write the same picture to the same key.

    Raises
    ------
    ValueError
        When ``owner``, ``file_id`` or ``sequencer`` is not of the expected form.
    """
    if not _OWNER_RE.match(owner):
        raise ValueError(f"invalid owner id {owner!r}")
    if not is_file_id(file_id):
        raise ValueError(f"invalid file id {file_id!r}")
    return f"{THUMBNAIL_PREFIX}{owner}/{file_id}/{sequencer_order(sequencer)}.png"


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
    if len(parts) == 2 and is_file_id(stem):
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
