"""Changing stored files: retry, delete, tags and note. No Streamlit here.

Each action reads the item, checks the verified user against it
(:mod:`portal.access`), and changes it through :mod:`common.filestore` in one
transaction with its counters, conditioned on the revision read. Errors are
:mod:`portal.files.service`'s, so a page or the API tells them the same way.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from common.catalogue import FileStatus
from common.filestore import Cancelled, Change, Contention, FileStore
from common.schema import lifecycle, requests
from common.schema.keys import is_file_id
from common.schema.record import FileRecord, utc_now
from common.settings import Settings
from portal import access
from portal.access import User
from portal.files import service
from portal.files.labels import LabelEdit

logger = logging.getLogger(__name__)

#: Chooses a file's next state from the state read (:meth:`common.filestore.FileStore.change`).
Decide = Callable[[FileRecord | None], FileRecord | None]


def retry_file(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str) -> FileRecord:
    """Send a failed file back to the extractor; returns it as it now is (``uploaded``).

    One transaction takes the item back to ``uploaded`` (its failed
    contribution comes off the counters), conditioned on the revision read;
    then the object is copied onto itself with a metadata change, a new S3
    version whose Object Created event the extractor claims as for any newer
    version. Should the copy fail, the item is put back to ``failed``.

    Raises
    ------
    service.NotFound, portal.access.NotAllowed, service.FilesUnavailable
        As :func:`get_file`; NotAllowed too for an analyst and another's file.
    service.ActionRefused
        When the file has not failed (or changed meanwhile), or its original was never stored.
    """
    record = service.get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
    access.require(access.may_change(user, record), "Only the file's owner or an admin can retry it.")
    if record.status is not FileStatus.FAILED:
        raise service.ActionRefused("Only failed files can be retried.")
    not_stored = service.ActionRefused("This file's original is not stored; please upload it again.")
    if record.bucket != settings.bucket or not record.key:
        raise not_stored
    head_args = {"Bucket": record.bucket, "Key": record.key}
    if record.version_id and record.version_id != "null":
        head_args["VersionId"] = record.version_id
    try:
        head = s3.head_object(**head_args)
    except ClientError as e:
        if aws_errors.is_missing(e):
            raise not_stored from e
        raise service.unavailable("retried", e) from e
    except BotoCoreError as e:
        raise service.unavailable("retried", e) from e
    store = FileStore(ddb, settings.table)
    queued = lifecycle.queued_for_retry(record, utc_now())
    try:
        why = store.write(record, queued)
    except (ClientError, BotoCoreError) as e:
        raise service.unavailable("retried", e) from e
    if why is not None:
        raise service.ActionRefused("The file changed meanwhile; please look at it again.")
    try:
        s3.copy_object(**requests.retry_copy(record, head.get("Metadata", {}), queued.updated_at))
    except (ClientError, BotoCoreError) as e:
        _abandon_retry(store, queued, record)
        raise service.unavailable("retried", e) from e
    logger.info("file %s sent back for processing by %s", file_id, user.sub)
    return queued


def _abandon_retry(store: FileStore, queued: FileRecord, failed: FileRecord) -> None:
    """The copy did not happen: the file is ``failed`` again, counters included; best effort, logged."""
    try:
        why = store.write(queued, lifecycle.retry_abandoned(failed, utc_now()))
    except (ClientError, BotoCoreError):
        why = Cancelled.OTHER
    if why is not None:
        logger.error("could not put %s back to failed after a retry that did not start", failed.file_id)


def _change(ddb: Any, settings: Settings, file_id: str, decide: Decide, *, action: str,
            contention: service.FileError) -> Change:
    """:meth:`FileStore.change`, its failures told as the user's: ``contention`` when it kept changing."""
    try:
        return FileStore(ddb, settings.table).change(file_id, decide)
    except Contention as e:
        raise contention from e
    except (ClientError, BotoCoreError) as e:
        raise service.unavailable(action, e) from e


def delete_file(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str) -> FileRecord:
    """Delete a file: the item becomes ``deleted`` (aggregates corrected), then the object and its preview go.

    The item changes first, in one transaction with the aggregate counters and
    the duplicate marker, conditioned on the revision read (re-read and tried
    again if the extractor moved it meanwhile). That also stops an extraction
    in flight from finishing, and the extractor never claims a deleted file
    again. The object is then deleted: in the versioned bucket that is a delete
    marker (the current version disappears at once, so links stop working;
    the noncurrent versions are removed by the bucket's lifecycle rule), and
    so is the preview the item names. Deleting a deleted file deletes both
    again and changes nothing else.

    Raises
    ------
    service.NotFound, portal.access.NotAllowed, service.FilesUnavailable
        As :func:`get_file`; NotAllowed too for an analyst and another's file.
    """
    access.require_current(user, time.time())
    if not is_file_id(file_id):
        raise service.NotFound("There is no such file.")

    def decide(current: FileRecord | None) -> FileRecord | None:
        record = service.visible(user, current)
        access.require(access.may_change(user, record), "Only the file's owner or an admin can delete it.")
        return None if record.status is FileStatus.DELETED else lifecycle.deleted(record, utc_now())

    busy = service.FilesUnavailable("The file kept changing while it was being deleted; please try again.")
    change = _change(ddb, settings, file_id, decide, action="deleted", contention=busy)
    record = change.after or service.visible(user, change.before)
    if record.bucket == settings.bucket and record.key:
        try:
            s3.delete_object(Bucket=record.bucket, Key=record.key)
            if record.preview_key:
                s3.delete_object(Bucket=record.bucket, Key=record.preview_key)
        except (ClientError, BotoCoreError) as e:
            raise service.unavailable("deleted", e) from e
    logger.info("file %s deleted by %s", file_id, user.sub)
    return record



def set_labels(*, user: User, ddb: Any, settings: Settings, file_id: str, edit: LabelEdit,
               seen: str | None = None) -> FileRecord:
    """Change a finished file's tags and note (:class:`LabelEdit`: replace, add, remove); returns it.

    One transaction (:func:`common.schema.lifecycle.relabelled`) writes the item, all else
    kept, and moves the tag counters, conditioned on the revision read. ``seen`` is the
    ``rev`` the user edited (the detail's form): if the file changed since, nothing is
    written (:class:`service.FileChanged`). Without it (a bulk add or remove) the edit applies to
    the file as it is, read again if it changes under the write. No change, no write.

    Raises
    ------
    service.NotFound, portal.access.NotAllowed, service.FilesUnavailable
        As :func:`get_file`; NotAllowed too for an analyst and another's file.
    service.ActionRefused
        When the file is not finished (uploaded, processing), was deleted, or its upload never completed.
    service.FileChanged
        When the file's revision is no longer ``seen``.
    portal.files.labels.InvalidLabels
        When the file would hold more tags than the limit.
    """
    access.require_current(user, time.time())
    if not is_file_id(file_id):
        raise service.NotFound("There is no such file.")

    def decide(current: FileRecord | None) -> FileRecord | None:
        record = service.visible(user, current)
        access.require(access.may_change(user, record),
                       "Only the file's owner or an admin can change its tags and note.")
        if record.status is FileStatus.DELETED:
            raise service.ActionRefused("This file was deleted; its tags and note can no longer change.")
        if not lifecycle.labels_editable(record):
            raise service.ActionRefused("This upload never completed; please upload the file again."
                                if record.status.terminal else
                                "Tags and notes can change once the file is processed; please wait a moment.")
        if seen is not None and record.rev != seen:
            raise service.FileChanged("The file changed while you were editing it; please look at it again.")
        tags, notes = edit.apply(record.tags, record.notes)
        if (tags, notes) == (record.tags, record.notes):
            return None
        return lifecycle.relabelled(record, tags, notes, utc_now(), uuid.uuid4().hex[:12])

    busy = service.FileChanged("The file kept changing while its tags were changed; please try again.")
    change = _change(ddb, settings, file_id, decide, action="changed", contention=busy)
    logger.info("file %s labelled by %s", file_id, user.sub)
    return change.after or service.visible(user, change.before)
