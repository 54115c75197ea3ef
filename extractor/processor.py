"""Process one S3 object: claim its item, read it, record the result.

This module holds the I/O; what a file *is* is decided in
:mod:`extractor.extract`, and every change of the file's item goes through
:mod:`common.filestore`. Clients are injected so tests choose where AWS is.

Errors fall in two kinds. A problem with the file itself (deleted, unreadable,
unparseable) is *permanent*: the item ends ``failed`` with a reason and the
message is done. Anything else (throttling, network, a service error) is
*transient*: it is noted on the item, propagates, and the message is retried;
on its last allowed delivery the item is marked ``failed`` before the
message goes to the dead-letter queue, so no file waits forever.

A delivery may also die without a word (out of memory, SIGKILL, the Lambda
timeout), leaving only its claim; the next claim counts it (``interrupted``).
The last allowed delivery never parses a file whose earlier claims were
interrupted: after it nothing would end the file, so it ends it ``failed``
at once, with a reason a person can read.

An image's or PDF's preview is drawn in the sandbox and stored as a PNG at a
key of its own per file version (:func:`common.schema.keys.thumbnail_key`)
before the result that names it is recorded, so an older delivery finishing
late never puts its picture where the newer version's record points. A
preview no record names any more (the version it showed was replaced, the
file expired, or was deleted while it was drawn) is deleted; one that cannot
be drawn or stored costs the file its preview, never its processing.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from common.catalogue import FileStatus
from common.filestore import Cancelled, Change, Contention, FileStore
from common.schema import lifecycle
from common.schema.keys import ORIGINAL_NAME_META, UploadKey, parse_upload_key, sequencer_order, thumbnail_key
from common.schema.record import Extracted, FileRecord, ObjectRef, utc_now
from extractor.events import ObjectCreated, parse_message
from extractor.extract import Config, draw_preview, extract_file

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
#: How often finishing re-reads a duplicate marker that changed under it.
_FINISH_ATTEMPTS = 5
#: How a processing item notes the transient error its last delivery met.
_RETRYING = "retrying after an error: "


class Outcome(StrEnum):
    """What handling one object came to."""

    PROCESSED = "processed"
    FAILED = "failed"
    EXPIRED = "expired"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Deps:
    """What processing needs from the outside world."""

    s3: Any
    ddb: Any
    table: str
    max_receive_count: int = 5
    config: Config = field(default_factory=Config)
    #: Timestamps; injected so tests can make runs comparable.
    now: Callable[[], str] = utc_now

    @property
    def files(self) -> FileStore:
        """The table's file items."""
        return FileStore(self.ddb, self.table)


def process_message(body: str, receive_count: int, deps: Deps, *, deadline: str = "") -> list[Outcome]:
    """Handle every object announced by one SQS message body.

    ``deadline`` is when this delivery has ended for sure (its Lambda's timeout,
    as an item timestamp); claims record it with ``receive_count``.

    Raises
    ------
    extractor.events.InvalidEvent
        When the message is not an object-created event (it is retried and
        ends in the dead-letter queue, where an operator can look at it).
    Exception
        Any transient error, so that the message is delivered again.
    """
    return [process_expiry(event, deps) if event.expired
            else process_object(event, receive_count, deps, deadline=deadline)
            for event in parse_message(body)]


def process_expiry(event: ObjectCreated, deps: Deps) -> Outcome:
    """Mark a file expired when the retention rule removed its object; keep its metadata.

    An expiry older (by sequencer) than what the item knows changes nothing,
    nor does one for a file never seen or deleted.

    Raises
    ------
    common.filestore.Contention
        When the item kept changing; the message is retried later.
    """
    try:
        ids = parse_upload_key(event.ref.bucket, event.ref.key)
    except ValueError:
        return Outcome.SKIPPED
    incoming = sequencer_order(event.ref.sequencer)

    def decide(old: FileRecord | None) -> FileRecord | None:
        if old is None or _foreign(old, ids, event.ref) or old.status is FileStatus.DELETED \
                or (old.sequencer and old.sequencer >= incoming):
            return None
        return lifecycle.expired(old, event.ref.sequencer, deps.now())

    change = deps.files.change(ids.file_id, decide)
    if change.after is None:
        return Outcome.SKIPPED
    _forget_preview(deps, change.before)
    return Outcome.EXPIRED


def process_object(event: ObjectCreated, receive_count: int, deps: Deps, *, deadline: str = "") -> Outcome:
    """Handle one object version; see the module docstring for error handling."""
    head_error: ClientError | None = None
    try:
        found = _head(deps.s3, event)
    except ClientError as e:  # claim first, so a last attempt can still end the item
        found, head_error = None, e
    key, head = found if found else (event.ref.key, {})
    ref = replace(event.ref, key=key)  # the key that exists identifies the file
    try:
        ids = parse_upload_key(ref.bucket, ref.key)
    except ValueError as e:
        logger.warning("ignoring object outside the uploads layout: %r", str(e))
        return Outcome.SKIPPED
    name = unquote(head.get("Metadata", {}).get(ORIGINAL_NAME_META, "")) or key.rsplit("/", 1)[-1]
    last = receive_count >= deps.max_receive_count
    if last:
        ended = _end_unfinished(deps, ids, ref, receive_count)
        if ended is not None:
            return ended
    claim = _claim(deps, ids, name, ref, receive_count, deadline)
    current = claim.after
    if current is None:
        before = claim.before
        if found is not None and before is not None and before.status is FileStatus.DELETED \
                and lifecycle.is_own_object(before, ref.bucket, ref.key, ids.owner):
            _remove_if_current(deps, ref)
        return Outcome.SKIPPED
    if claim.before is not None and claim.before.preview_key != _preview_key(current):
        _forget_preview(deps, claim.before)  # the version it showed is no longer the file's
    try:
        if head_error is not None:
            raise head_error
        if found is None:
            raise _Permanent("the file was deleted before it could be processed")
        result, preview_key = _extract(deps, ref, key, name, current)
    except _Permanent as e:
        return _finish(deps, current, _failure(ref, str(e)))
    except Exception as e:
        if last:
            _finish(deps, current, _failure(
                ref, f"processing failed {_times(receive_count)}; last error: {_describe_error(e)}"))
        else:
            _note(deps, current, e)
        raise
    return _finish(deps, current, result, preview_key)


def _end_unfinished(deps: Deps, ids: UploadKey, ref: ObjectRef, receive_count: int) -> Outcome | None:
    """On the last delivery, end a file whose earlier claims died without a word; None if none did.

    Such a claim means the process died (out of memory, killed, timed out)
    while it held the file. Parsing again could die again, and nothing would
    end the file after the last delivery, so it fails now, without being read.
    Claims that ended with a noted transient error get their last try.
    """
    old = deps.files.read(ids.file_id)
    if old is None or _foreign(old, ids, ref) or old.status is not FileStatus.PROCESSING \
            or old.rev != f"{sequencer_order(ref.sequencer)}#claimed":
        return None
    interrupted = (old.interrupted or 0) + (0 if old.reason else 1)
    if not interrupted:
        return None
    logger.warning("file %s: %d earlier deliveries died while holding it; ending it failed",
                   ids.file_id, interrupted)
    return _finish(deps, old, _failure(ref, f"processing was interrupted {_times(interrupted)}: the file may "
                                            "need more memory or time than the extractor has"))


def _note(deps: Deps, current: FileRecord, error: Exception) -> None:
    """Note a transient error on the claimed item: the attempt ended, it did not die. Best effort."""
    note = _RETRYING + _describe_error(error)
    try:
        deps.files.write(current, lifecycle.attempt_failed(current, note, deps.now()))
    except Exception:  # the original error matters more, and is raised by the caller
        logger.warning("could not note the error on file %s", current.file_id, exc_info=True)


def _times(n: int) -> str:
    return "1 time" if n == 1 else f"{n} times"


def _claim(deps: Deps, ids: UploadKey, name: str, ref: ObjectRef, delivery: int, deadline: str) -> Change:
    """Take the file for ``ref``; ``after`` is None for a duplicate or older event, or a deleted file."""
    incoming = sequencer_order(ref.sequencer)

    def decide(old: FileRecord | None) -> FileRecord | None:
        if old is not None and _foreign(old, ids, ref):
            return None  # never claimed, and its sequencer never compared: it belongs to another key
        if old is not None and old.status is FileStatus.DELETED:
            logger.info("event for deleted file %s ignored", ids.file_id)
            return None  # deletion is final: a late or newer event never brings a file back
        if old is not None and old.sequencer:
            if old.sequencer > incoming:
                logger.info("older event for %s ignored (sequencer %s)", ids.file_id, ref.sequencer)
                return None
            if old.sequencer == incoming and old.status.terminal:
                logger.info("duplicate event for %s ignored", ids.file_id)
                return None
        return lifecycle.claimed(old, ids.file_id, ids.owner, name, ref, deps.now(), delivery=delivery,
                                 deadline=deadline)

    return deps.files.change(ids.file_id, decide)


def _foreign(old: FileRecord, ids: UploadKey, ref: ObjectRef) -> bool:
    """True (and logged) when ``ref``'s object is not the file's own: its event is dropped."""
    if lifecycle.is_own_object(old, ref.bucket, ref.key, ids.owner):
        return False
    logger.warning("event for %r dropped: file %s is %s/%r", ref.key, ids.file_id, old.bucket, old.key)
    return True


def _remove_if_current(deps: Deps, ref: ObjectRef) -> None:
    """Delete ``ref``'s version of a deleted file when it is the key's current one.

    An upload that finished after its file was deleted put its object on top
    of the deletion: the file would be gone but its content still served.
    Versions the deletion already hid are left to the bucket's lifecycle rule.

    Raises
    ------
    botocore.exceptions.ClientError
        When S3 fails (the message is retried).
    """
    try:
        head = deps.s3.head_object(Bucket=ref.bucket, Key=ref.key)
    except ClientError as e:
        if aws_errors.is_missing(e):
            return  # a delete marker is current: nothing is served
        raise
    if ref.version_id and head.get("VersionId") == ref.version_id:
        logger.warning("object %r version %s outlived its deleted file; deleting it", ref.key, ref.version_id)
        deps.s3.delete_object(Bucket=ref.bucket, Key=ref.key, VersionId=ref.version_id)
    elif not ref.version_id and head.get("ETag", "").strip('"') == ref.etag:  # an unversioned bucket
        deps.s3.delete_object(Bucket=ref.bucket, Key=ref.key)


def _finish(deps: Deps, current: FileRecord, result: Extracted, preview_key: str = "") -> Outcome:
    """Record the result, unless another delivery has taken the file over meanwhile."""
    for _ in range(_FINISH_ATTEMPTS):
        seen: int | None = None
        duplicate = False
        if result.sha256 and not result.error:
            named = deps.files.duplicates(current.owner, result.sha256)
            seen, duplicate = len(named), bool(named - {current.file_id})
        final = lifecycle.finished(current, result, deps.now(), duplicate=duplicate, preview_key=preview_key)
        why = deps.files.write(current, final, marker_seen=seen)
        if why is Cancelled.OTHER:
            continue  # a copy of the same content finished meanwhile: decide the flag again
        if why is Cancelled.ITEM:
            logger.info("file %s was taken over by another delivery; result dropped", current.file_id)
            if preview_key:
                _drop_unclaimed_preview(deps, final)
            return Outcome.SKIPPED
        if result.error:
            logger.info("file %s failed: %r", current.file_id, result.error)
            return Outcome.FAILED
        return Outcome.PROCESSED
    raise Contention(f"file {current.file_id}: its duplicate marker kept changing")


def _failure(ref: ObjectRef, reason: str) -> Extracted:
    """A result for a file that could not be read at all."""
    return Extracted(size=ref.size, sha256="", mime_type="", format="", extension="", flags=(),
                     metadata={}, error=reason)


def _preview_key(record: FileRecord) -> str:
    """Where the preview of the record's version is stored, or "" when its key cannot have one."""
    try:
        return thumbnail_key(record.owner, record.file_id, record.sequencer)
    except ValueError:
        return ""


def _store_preview(deps: Deps, current: FileRecord, png: bytes) -> str:
    """Store the claimed version's preview; its key, or "" when S3 would not take it (logged)."""
    key = _preview_key(current)
    if not key:
        return ""
    try:
        deps.s3.put_object(Bucket=current.bucket, Key=key, Body=png, ContentType="image/png")
    except (ClientError, BotoCoreError) as e:
        logger.warning("the preview of file %s could not be stored: %s", current.file_id, e)
        return ""
    return key


def _drop_unclaimed_preview(deps: Deps, ours: FileRecord) -> None:
    """Delete the preview a dropped result named, unless the file is still that version.

    A delivery of the same version that took the file over stores the same
    picture at the same key; a newer version, or the file's deletion, leaves
    ours named by no record.
    """
    try:
        now = deps.files.read(ours.file_id)
    except (ClientError, BotoCoreError) as e:
        logger.warning("file %s could not be read to tidy its preview: %s", ours.file_id, e)
        return
    if now is None or now.status is FileStatus.DELETED or now.sequencer != ours.sequencer:
        _forget_preview(deps, ours)


def _forget_preview(deps: Deps, record: FileRecord | None) -> None:
    """Delete the record's stored preview, if any; best effort (logged), as nothing will show it."""
    if record is None or not record.preview_key:
        return
    try:
        deps.s3.delete_object(Bucket=record.bucket, Key=record.preview_key)
    except (ClientError, BotoCoreError) as e:
        logger.warning("the preview %s could not be deleted: %s", record.preview_key, e)


class _Permanent(Exception):
    """A problem with the file itself; retrying cannot help."""


def _head(s3: Any, event: ObjectCreated) -> tuple[str, dict[str, Any]] | None:
    """The object's key and HEAD response, or None when no candidate key exists."""
    for key in event.candidate_keys:
        try:
            return key, s3.head_object(**_object_args(event.ref, key))
        except ClientError as e:
            if not aws_errors.is_missing(e):
                raise
    return None


def _extract(deps: Deps, ref: ObjectRef, key: str, name: str, current: FileRecord) -> tuple[Extracted, str]:
    """Download the object once to a private temp file, hashing as it streams, then extract and draw.

    Returns the result and the key of the stored preview ("" for none).
    """
    try:
        body = deps.s3.get_object(**_object_args(ref, key))["Body"]
    except ClientError as e:
        if aws_errors.is_missing(e):
            raise _Permanent("the file was deleted before it could be processed") from e
        raise
    with tempfile.TemporaryDirectory(prefix="docportal-") as tmp:
        local = Path(tmp) / "object"
        digest = hashlib.sha256()
        size = 0
        with local.open("wb") as out:
            for chunk in body.iter_chunks(_CHUNK):
                digest.update(chunk)
                if size <= deps.config.max_parse_bytes:  # past that it is only hashed
                    out.write(chunk)
                size += len(chunk)
        result = extract_file(local, name, deps.config, digest=(size, digest.hexdigest()))
        png = draw_preview(local, result, deps.config)
    return result, _store_preview(deps, current, png) if png else ""


def _object_args(ref: ObjectRef, key: str) -> dict[str, str]:
    args = {"Bucket": ref.bucket, "Key": key}
    if ref.version_id:
        args["VersionId"] = ref.version_id
    return args


def _describe_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{aws_errors.code(error)} from AWS"
    return type(error).__name__
