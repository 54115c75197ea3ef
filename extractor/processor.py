"""Process one S3 object: claim its item, read it, record the result.

This module holds the I/O; what a file *is* is decided in
:mod:`extractor.metadata`, and every item request comes from
:mod:`common.schema`. Clients are injected so tests choose where AWS is.

Errors fall in two kinds. A problem with the file itself (deleted, unreadable,
unparseable) is *permanent*: the item ends ``failed`` with a reason and the
message is done. Anything else (throttling, network, a service error) is
*transient*: it propagates, the message is retried, and on its last allowed
delivery the item is marked ``failed`` before the message goes to the
dead-letter queue, so no file waits forever.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from common import schema
from common.schema import Extracted, ObjectRef
from extractor.events import ObjectCreated, parse_message
from extractor.metadata import HEAD_BYTES, describe

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}


class Outcome(StrEnum):
    """What handling one object came to."""

    PROCESSED = "processed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Deps:
    """What processing needs from the outside world."""

    s3: Any
    ddb: Any
    table: str
    max_receive_count: int = 5


def process_message(body: str, receive_count: int, deps: Deps) -> list[Outcome]:
    """Handle every object announced by one SQS message body.

    Raises
    ------
    extractor.events.InvalidEvent
        When the message is not an object-created event (it is retried and
        ends in the dead-letter queue, where an operator can look at it).
    Exception
        Any transient error, so that the message is delivered again.
    """
    return [process_object(event, receive_count, deps) for event in parse_message(body)]


def process_object(event: ObjectCreated, receive_count: int, deps: Deps) -> Outcome:
    """Handle one object version; see the module docstring for error handling."""
    head_error: ClientError | None = None
    try:
        found = _head(deps.s3, event)
    except ClientError as e:  # claim first, so a last attempt can still end the item
        found, head_error = None, e
    key, head = found if found else (event.ref.key, {})
    ref = replace(event.ref, key=key)  # the key that exists identifies the file
    try:
        ids = schema.parse_upload_key(ref.bucket, ref.key)
    except ValueError as e:
        logger.warning("ignoring object outside the uploads layout: %s", e)
        return Outcome.SKIPPED
    name = unquote(head.get("Metadata", {}).get(schema.ORIGINAL_NAME_META, "")) or key.rsplit("/", 1)[-1]
    claimed = _update(deps.ddb, schema.claim_file(
        deps.table, ids.file_id, ids.owner, name, ref, schema.utc_now()))
    if not claimed:
        logger.info("duplicate or superseded event for %s (sequencer %s)", ids.file_id, ref.sequencer)
        return Outcome.SKIPPED
    try:
        if head_error is not None:
            raise head_error
        if found is None:
            raise _Permanent("the file was deleted before it could be processed")
        result = _extract(deps.s3, ref, key, name)
    except _Permanent as e:
        return _fail(deps, ids.file_id, ref, str(e))
    except Exception as e:
        if receive_count >= deps.max_receive_count:
            _fail(deps, ids.file_id, ref,
                  f"processing failed {receive_count} times; last error: {_describe_error(e)}")
        raise
    if _update(deps.ddb, schema.complete_file(
            deps.table, ids.file_id, ref.sequencer, result, schema.utc_now())):
        return Outcome.PROCESSED
    return Outcome.SKIPPED


class _Permanent(Exception):
    """A problem with the file itself; retrying cannot help."""


def _head(s3: Any, event: ObjectCreated) -> tuple[str, dict[str, Any]] | None:
    """The object's key and HEAD response, or None when no candidate key exists."""
    for key in event.candidate_keys:
        try:
            return key, s3.head_object(**_object_args(event.ref, key))
        except ClientError as e:
            if _error_code(e) not in _MISSING:
                raise
    return None


def _extract(s3: Any, ref: ObjectRef, key: str, name: str) -> Extracted:
    """Stream the object once: hash it, measure it, and describe its head."""
    started = time.perf_counter()
    try:
        body = s3.get_object(**_object_args(ref, key))["Body"]
    except ClientError as e:
        if _error_code(e) in _MISSING:
            raise _Permanent("the file was deleted before it could be processed") from e
        raise
    digest = hashlib.sha256()
    size = 0
    head = bytearray()
    for chunk in body.iter_chunks(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
    extension = schema.safe_extension(name)
    try:
        found = describe(bytes(head), size, name, extension)
    except Exception as e:  # a parser bug must not hold the file hostage
        logger.exception("metadata extraction failed for %s", key)
        raise _Permanent(f"the file's metadata could not be read ({type(e).__name__})") from e
    return Extracted(
        size=size, sha256=digest.hexdigest(), mime_type=found.mime_type, format=found.format,
        extension=extension, flags=found.flags, metadata=found.metadata,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


def _fail(deps: Deps, file_id: str, ref: ObjectRef, reason: str) -> Outcome:
    logger.info("file %s failed: %s", file_id, reason)
    if _update(deps.ddb, schema.fail_file(deps.table, file_id, ref.sequencer, reason, schema.utc_now())):
        return Outcome.FAILED
    return Outcome.SKIPPED


def _update(ddb: Any, request: dict[str, Any]) -> bool:
    """Run a conditional update; False when its condition did not hold."""
    try:
        ddb.update_item(**request)
    except ClientError as e:
        if _error_code(e) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _object_args(ref: ObjectRef, key: str) -> dict[str, str]:
    args = {"Bucket": ref.bucket, "Key": key}
    if ref.version_id:
        args["VersionId"] = ref.version_id
    return args


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _describe_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{_error_code(error)} from AWS"
    return type(error).__name__
