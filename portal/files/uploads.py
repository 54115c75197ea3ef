"""Store uploads: the item first (``uploaded``), then the object, in the user's own space.

An admin may delete the file as soon as its item exists, while the object is
still being sent; the object would then land on top of the deletion and stay.
So the item is read again once the object is stored, and a deleted file's
object is removed at once (the extractor does the same when its event comes).

Clients and settings are passed in, so pages decide where AWS is and tests
can run this against moto. No Streamlit here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from common.catalogue import FileStatus
from common.filestore import FileStore
from common.schema import requests
from common.schema.keys import FILE_ID_META, ORIGINAL_NAME_META, new_file_id, safe_extension, upload_key
from common.schema.record import FileRecord, utc_now
from common.settings import Settings
from portal import access
from portal.access import User
from portal.files import upload_policy

logger = logging.getLogger(__name__)


class UploadError(RuntimeError):
    """An upload that did not complete; the message is for the user."""


#: Objects above 8 MiB go up as multipart in 8 MiB parts, one part at a time and
#: on the caller's thread: the file (already in the portal's memory once) is
#: never copied whole, at most one part is held besides it, and the progress
#: callback runs where Streamlit can draw (it cannot from boto3's threads).
UPLOAD_TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024,
                                 use_threads=False)


def store_upload(
    *, user: User, name: str, body: BinaryIO, content_type: str,
    s3: Any, ddb: Any, settings: Settings,
    tags: Sequence[str] = (), notes: str = "",
    progress: Callable[[int], None] | None = None,
) -> FileRecord:
    """Store one file and create its item (status ``uploaded``) before the object.

    The item comes first so that it exists when the extractor sees the event.
    If the object cannot be stored, the item is ended as ``failed`` with the
    reason, so nothing is left waiting. ``tags`` and ``notes`` are normalised
    by :mod:`portal.files.upload_policy` and stored on the item; ``progress`` is
    called with each number of bytes sent (see :data:`UPLOAD_TRANSFER`).

    Raises
    ------
    portal.access.NotAllowed
        When ``user`` may not upload (has no DocPortal role) or their tokens expired.
    UploadError
        When the tags or notes are not acceptable (nothing is stored), the
        file could not be stored, or it was deleted while it was being sent;
        nothing half-done is left behind.
    """
    record = _register(user=user, name=name, content_type=content_type, ddb=ddb, settings=settings,
                       tags=tags, notes=notes)
    file_id = record.file_id
    try:
        s3.upload_fileobj(body, settings.bucket, record.key, ExtraArgs={
            "Metadata": {ORIGINAL_NAME_META: quote(name, safe=""), FILE_ID_META: file_id},
            "ContentType": "application/octet-stream",
        }, Callback=progress, Config=UPLOAD_TRANSFER)
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not store %r", name)
        end_upload_failed(ddb, settings, file_id)
        raise UploadError(f"{name}: {UPLOAD_FAILED_REASON}.") from e
    except BaseException:
        # Interrupted mid-transfer (the page was rerun or stopped, the process is
        # ending): the item must not wait for an object that will never come.
        logger.warning("upload of %s interrupted", file_id)
        end_upload_failed(ddb, settings, file_id)
        raise
    if _deleted_meanwhile(s3, ddb, settings, record):
        raise UploadError(f"{name} was deleted while it was being uploaded.")
    return record


def _register(*, user: User, name: str, content_type: str, ddb: Any, settings: Settings,
              tags: Sequence[str], notes: str, expires_at: int | None = None,
              size: int | None = None) -> FileRecord:
    """Check the user, tags and notes, then create the new file's item in their own space.

    ``uploaded`` for an object this process sends next; ``pending`` until
    ``expires_at`` (epoch seconds, the table's TTL) for one the caller sends,
    with its declared ``size`` (a multipart upload's completion checks it).

    Raises
    ------
    portal.access.NotAllowed, UploadError
        As :func:`store_upload`.
    """
    access.require(access.may_upload(user), "Only uploaders, analysts and admins may upload files.")
    access.require_current(user, time.time())
    try:
        clean_tags, clean_notes = upload_policy.parse_tags(tags), upload_policy.clean_notes(notes)
    except ValueError as e:
        raise UploadError(f"{name}: {e}.") from e
    file_id = new_file_id()
    now = utc_now()
    record = FileRecord(
        file_id=file_id, owner=user.sub, owner_email=user.email, name=name,
        bucket=settings.bucket, key=upload_key(user.sub, file_id, name),
        status=FileStatus.UPLOADED if expires_at is None else FileStatus.PENDING, uploaded_at=now,
        updated_at=now, content_type=content_type or "", extension=safe_extension(name),
        tags=clean_tags, notes=clean_notes, expires_at=expires_at, size=size,
    )
    try:
        ddb.put_item(**requests.put_new_file(settings.table, record))
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not create the item for %r", name)
        raise UploadError(f"{name} could not be registered; please try again.") from e
    return record


#: Presigned upload links live fifteen minutes: long enough to start a large upload, short if leaked.
PRESIGNED_SECONDS = 900
#: A ``pending`` item outlives its link by this long, so an upload started just before the link
#: expired still finds its item (its tags and notes) when it arrives.
PENDING_GRACE_SECONDS = 3600


@dataclass(frozen=True)
class PresignedUpload:
    """A file registered for a direct upload, and the form that stores its object (and no other)."""

    record: FileRecord
    url: str
    fields: Mapping[str, str]
    expires_in: int


def presign_upload(*, user: User, name: str, size: int, content_type: str, s3: Any, ddb: Any,
                   settings: Settings, tags: Sequence[str] = (), notes: str = "",
                   expires_in: int = PRESIGNED_SECONDS) -> PresignedUpload:
    """Register a file (``pending``) and sign a POST form that stores exactly its object, from the caller.

    The item is ``pending``: counted nowhere, and removed by the table's TTL
    :data:`PENDING_GRACE_SECONDS` after the link expires unless the object
    arrives, when the extractor claims it as it claims a portal upload.

    The form's policy limits it to the file's own key, exactly ``size``
    bytes, the declared content type and the metadata the extractor reads
    (the original name and the id), for ``expires_in`` seconds; S3 refuses
    any other use. The portal's own rules apply first: the user may upload,
    and the upload policy accepts the name and size.

    Raises
    ------
    portal.access.NotAllowed
        As :func:`store_upload`.
    UploadError
        When the policy refuses the file (type, size), the tags or notes are
        not acceptable, or the item could not be created; nothing is stored.
    """
    record = register_direct(user=user, name=name, size=size, content_type=content_type, ddb=ddb,
                             settings=settings, tags=tags, notes=notes, expires_in=expires_in)
    meta = {f"x-amz-meta-{k}": v for k, v in object_metadata(record).items()}
    fields = {"Content-Type": content_type, **meta}
    conditions: list[Any] = [{"Content-Type": content_type}, ["content-length-range", size, size],
                             *({k: v} for k, v in meta.items())]
    try:
        post = s3.generate_presigned_post(settings.bucket, record.key, Fields=fields, Conditions=conditions,
                                          ExpiresIn=expires_in)
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not sign the upload of %s", record.file_id)
        end_upload_failed(ddb, settings, record.file_id)
        raise UploadError(f"{name}: {UPLOAD_FAILED_REASON}.") from e
    return PresignedUpload(record, str(post["url"]), dict(post["fields"]), expires_in)


def register_direct(*, user: User, name: str, size: int, content_type: str, ddb: Any, settings: Settings,
                    tags: Sequence[str], notes: str, expires_in: int) -> FileRecord:
    """Check the file against the upload policy and register it ``pending`` for a direct upload.

    Raises
    ------
    portal.access.NotAllowed, UploadError
        As :func:`presign_upload`.
    """
    access.require(access.may_upload(user), "Only uploaders, analysts and admins may upload files.")
    verdict = upload_policy.UploadPolicy.from_settings(settings).check(name, size)
    if not verdict.accepted:
        raise UploadError(verdict.message + ".")
    return _register(user=user, name=name, content_type=content_type, ddb=ddb, settings=settings,
                     tags=tags, notes=notes, expires_at=int(time.time()) + expires_in + PENDING_GRACE_SECONDS,
                     size=size)


def object_metadata(record: FileRecord) -> dict[str, str]:
    """The user metadata the extractor reads from a file's object: its original name and its id."""
    return {ORIGINAL_NAME_META: quote(record.name, safe=""), FILE_ID_META: record.file_id}


def _deleted_meanwhile(s3: Any, ddb: Any, settings: Settings, record: FileRecord) -> bool:
    """True when the file was deleted while its object was sent; that object is then removed.

    Removed as :func:`portal.files.actions.delete_file` removes one (a delete
    marker; the version expires with the bucket's rule). When the item cannot
    be read or the object not removed, the extractor still removes the object
    on its event.
    """
    try:
        now = FileStore(ddb, settings.table).read(record.file_id)
    except (ClientError, BotoCoreError):
        logger.exception("could not read %s again after its upload", record.file_id)
        return False
    if now is None or now.status is not FileStatus.DELETED:
        return False
    logger.info("file %s was deleted while it was being uploaded; removing its object", record.file_id)
    try:
        s3.delete_object(Bucket=settings.bucket, Key=record.key)
    except (ClientError, BotoCoreError):
        logger.exception("could not remove the object of deleted file %s", record.file_id)
    return True


UPLOAD_FAILED_REASON = "the upload did not complete; please upload the file again"


def end_upload_failed(ddb: Any, settings: Settings, file_id: str, reason: str = UPLOAD_FAILED_REASON) -> None:
    """End an item whose object was not stored as ``failed`` with ``reason``; best effort, logged.

    Only an ``uploaded`` or ``pending`` item changes: an object that arrived after
    all has been claimed by the extractor, which then decides.
    """
    try:
        ddb.update_item(**requests.mark_upload_failed(settings.table, file_id, reason, utc_now()))
    except (ClientError, BotoCoreError):
        logger.exception("could not mark %s failed", file_id)
