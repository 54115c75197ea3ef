"""The portal's file I/O: store uploads, list files. No Streamlit here.

Clients and settings are passed in, so pages decide where AWS is and tests
can run this against moto.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from common import schema
from common.schema import FileRecord, FileStatus
from common.settings import Settings
from portal import explorer, pdf_preview, upload_policy
from portal.tokens import User

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
    by :mod:`portal.upload_policy` and stored on the item; ``progress`` is
    called with each number of bytes sent (see :data:`UPLOAD_TRANSFER`).

    Raises
    ------
    PermissionError
        When ``user`` has no DocPortal role.
    UploadError
        When the tags or notes are not acceptable (nothing is stored), or the
        file could not be stored; nothing half-done is left behind.
    """
    if not user.roles:
        raise PermissionError("only uploaders, analysts and admins may upload files")
    try:
        clean_tags, clean_notes = upload_policy.parse_tags(tags), upload_policy.clean_notes(notes)
    except ValueError as e:
        raise UploadError(f"{name}: {e}.") from e
    file_id = schema.new_file_id()
    now = schema.utc_now()
    record = FileRecord(
        file_id=file_id, owner=user.sub, owner_email=user.email, name=name,
        bucket=settings.bucket, key=schema.upload_key(user.sub, file_id, name),
        status=FileStatus.UPLOADED, uploaded_at=now, updated_at=now,
        content_type=content_type or "", extension=schema.safe_extension(name),
        tags=clean_tags, notes=clean_notes,
    )
    try:
        ddb.put_item(**schema.put_new_file(settings.table, record))
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not create the item for %s", name)
        raise UploadError(f"{name} could not be registered; please try again.") from e
    try:
        s3.upload_fileobj(body, settings.bucket, record.key, ExtraArgs={
            "Metadata": {schema.ORIGINAL_NAME_META: quote(name, safe=""), "file-id": file_id},
            "ContentType": "application/octet-stream",
        }, Callback=progress, Config=UPLOAD_TRANSFER)
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not store %s", name)
        _end_upload_failed(ddb, settings, file_id)
        raise UploadError(f"{name}: {UPLOAD_FAILED_REASON}.") from e
    except BaseException:
        # Interrupted mid-transfer (the page was rerun or stopped, the process is
        # ending): the item must not wait for an object that will never come.
        logger.warning("upload of %s interrupted", file_id)
        _end_upload_failed(ddb, settings, file_id)
        raise
    return record


UPLOAD_FAILED_REASON = "the upload did not complete; please upload the file again"


def _end_upload_failed(ddb: Any, settings: Settings, file_id: str) -> None:
    """End an item whose object was not stored as ``failed``; best effort, logged."""
    try:
        ddb.update_item(**schema.mark_upload_failed(settings.table, file_id, UPLOAD_FAILED_REASON,
                                                    schema.utc_now()))
    except (ClientError, BotoCoreError):
        logger.exception("could not mark %s failed", file_id)


def list_own_files(*, user: User, ddb: Any, settings: Settings, limit: int = 100) -> list[FileRecord]:
    """The user's newest files, newest first (one page of at most ``limit``)."""
    response = ddb.query(**schema.query_owner_files(settings.table, user.sub, limit))
    return [schema.from_item(item) for item in response.get("Items", [])]


# --- the Files explorer -----------------------------------------------------------
# Every function below checks the verified user against the record it reads,
# whatever the page shows: uploaders reach only their own items and objects,
# analysts read everyone's, only owners and admins change anything. Object keys
# always come from the item, never from the caller.

#: Presigned download links live five minutes.
DOWNLOAD_SECONDS = 300
#: Items one page may look at, however few match: no view reads an unbounded list.
MAX_EXAMINED = 1000
_READ_CHUNK = 100
_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
_DELETE_ATTEMPTS = 5
_GONE = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}


class FileError(RuntimeError):
    """A file action that cannot be done; the message is for the user."""


class NotFound(FileError):
    """No such file (or its original is no longer stored)."""


class NotAllowed(FileError):
    """The user may not see, or may not change, this file."""


class ActionRefused(FileError):
    """The action does not apply to the file as it is (e.g. retrying a processed file)."""


class FilesUnavailable(FileError):
    """AWS could not be reached or refused; trying again later may help."""


@dataclass(frozen=True)
class FilePage:
    """One page of the explorer: the matching files and the token of the next page."""

    records: tuple[FileRecord, ...]
    next_token: str | None
    #: Items looked at to fill the page (at most :data:`MAX_EXAMINED`).
    examined: int


def _scope(user: User) -> str:
    return f"{user.sub}|{','.join(sorted(user.roles))}"


def _unavailable(action: str, e: Exception) -> FilesUnavailable:
    logger.error("%s failed: %s", action, e, exc_info=True)
    return FilesUnavailable(f"Files cannot be {action} right now. Please try again in a minute.")


def list_files(*, user: User, ddb: Any, settings: Settings, filters: explorer.Filters,
               page_token: str | None = None, page_size: int = 50,
               max_examined: int = MAX_EXAMINED) -> FilePage:
    """One bounded page of the files the user may see, filtered, searched and sorted.

    Uploaders read their own partition of the owner index only. Analysts and
    admins read one uploader's partition when one is chosen, else a bounded
    page of a table scan (whose order is the table's; sorting applies to the
    page). At most ``max_examined`` items are looked at, so a rare match can
    give a short page with a next token: the search continues from there.

    Raises
    ------
    NotAllowed
        For a user without a role, or an uploader asking for another uploader.
    explorer.BadPageToken
        For a token of another view (other user or filters) or a damaged one.
    FilesUnavailable
        When DynamoDB cannot be read.
    """
    if not user.roles:
        raise NotAllowed("Your account has no role yet; ask an admin for access.")
    owner = filters.owner
    if not explorer.sees_everyone(user):
        if owner not in (None, user.sub):
            raise NotAllowed("You can only see your own files.")
        owner = user.sub
    page_size = max(1, min(page_size, explorer.MAX_PAGE_SIZE))
    bound = explorer.fingerprint(_scope(user), filters)
    start, end = filters.day_range
    if owner:
        kwargs = schema.query_owner_range(settings.table, owner, start, end)
        kwargs["ScanIndexForward"] = not filters.newest_first
        key_names: tuple[str, ...] = (schema.PK, schema.SK, schema.OWNER_INDEX.partition_key,
                                      schema.OWNER_INDEX.sort_key)
        call = ddb.query
    else:
        kwargs = schema.scan_files_range(settings.table, start, end)
        key_names = (schema.PK, schema.SK)
        call = ddb.scan
    start_key = explorer.decode_token(page_token, bound) if page_token else None
    partition = kwargs["ExpressionAttributeValues"].get(":pk") if owner else None
    if start_key is not None and (set(start_key) != set(key_names) or (
            owner and start_key[schema.OWNER_INDEX.partition_key] != partition)):
        raise explorer.BadPageToken("the page token belongs to another view")
    found: list[FileRecord] = []
    examined = 0
    next_key: dict[str, Any] | None = None
    try:
        while True:
            kwargs["Limit"] = max(1, min(_READ_CHUNK, max_examined - examined))
            if start_key is not None:
                kwargs["ExclusiveStartKey"] = start_key
            response = call(**kwargs)
            items = response.get("Items", [])
            examined += int(response.get("ScannedCount", len(items)))
            last = response.get("LastEvaluatedKey")
            for i, item in enumerate(items):
                record = schema.from_item(item)
                if explorer.matches(record, filters) and explorer.may_view(user, record):
                    found.append(record)
                if len(found) == page_size:
                    more = i < len(items) - 1 or last is not None
                    next_key = {k: item[k] for k in key_names} if more else None
                    break
            else:
                next_key = last
                if last is not None and examined < max_examined:
                    start_key = last
                    continue
            break
    except (ClientError, BotoCoreError) as e:
        raise _unavailable("listed", e) from e
    token = explorer.encode_token(next_key, bound) if next_key else None
    return FilePage(tuple(explorer.sort_records(found, filters.sort)), token, examined)


def get_file(*, user: User, ddb: Any, settings: Settings, file_id: str) -> FileRecord:
    """The file ``file_id`` if the user may see it (deleted files too: their metadata is kept).

    Raises
    ------
    NotFound
        When no file has this id.
    NotAllowed
        When the file is another user's and the user is neither analyst nor admin.
    FilesUnavailable
        When DynamoDB cannot be read.
    """
    if not isinstance(file_id, str) or not _FILE_ID.match(file_id):
        raise NotFound("There is no such file.")
    try:
        item = ddb.get_item(TableName=settings.table, Key=schema.file_key(file_id),
                            ConsistentRead=True).get("Item")
    except (ClientError, BotoCoreError) as e:
        raise _unavailable("read", e) from e
    if not item:
        raise NotFound("There is no such file.")
    record = schema.from_item(item)
    if not explorer.may_view(user, record):
        raise NotAllowed("You may not see this file.")
    return record


def _stored(record: FileRecord, settings: Settings) -> None:
    """Refuse files whose original is gone, or that live outside the stack's bucket."""
    if record.status in (FileStatus.DELETED, FileStatus.EXPIRED) or not record.key:
        raise NotFound("The original of this file is no longer stored.")
    if record.bucket != settings.bucket:
        raise NotFound("The original of this file is not in the portal's bucket.")


def download_url(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str,
                 expires_in: int = DOWNLOAD_SECONDS) -> str:
    """A presigned GET of the original, valid five minutes, saving under the original name.

    The link names the current version of the key, so deleting the file also
    stops links already handed out.

    Raises
    ------
    NotFound, NotAllowed, FilesUnavailable
        As :func:`get_file`; NotFound too when the original is no longer stored.
    """
    record = get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
    if not explorer.may_download(user, record):
        raise NotFound("The original of this file is no longer stored.")
    _stored(record, settings)
    try:
        return s3.generate_presigned_url("get_object", ExpiresIn=expires_in, Params={
            "Bucket": record.bucket, "Key": record.key,
            "ResponseContentDisposition": explorer.content_disposition(record.name)})
    except (ClientError, BotoCoreError) as e:
        raise _unavailable("downloaded", e) from e


def preview_bytes(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str) -> bytes | None:
    """A PNG thumbnail of an image file or of a PDF's first page, or None when it has no preview.

    Only processed files of at most :data:`explorer.PREVIEW_MAX_BYTES` are
    read (with a ranged GET, so a larger object than the item says is never
    read whole); decompression bombs are refused by :func:`explorer.thumbnail`,
    and PDFs are drawn by :func:`pdf_preview.first_page` in a child process
    with a memory cap and a deadline, so a hostile PDF costs a few seconds at most.

    Raises
    ------
    NotFound, NotAllowed, FilesUnavailable
        As :func:`get_file`.
    """
    record = get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
    if explorer.preview_note(record) or record.bucket != settings.bucket:
        return None
    cap = explorer.PREVIEW_MAX_BYTES
    try:
        body = s3.get_object(Bucket=record.bucket, Key=record.key, Range=f"bytes=0-{cap}")["Body"]
        data = body.read(cap + 1)
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code", "")) in _GONE:
            return None
        raise _unavailable("previewed", e) from e
    except BotoCoreError as e:
        raise _unavailable("previewed", e) from e
    if len(data) > cap:
        return None
    if record.format == explorer.PDF_FORMAT:
        drawn = pdf_preview.first_page(data, side=explorer.THUMBNAIL_SIDE)
        if drawn.png is None:
            logger.info("no preview of PDF %s: %s", record.file_id, drawn.note)
        return drawn.png
    return explorer.thumbnail(data)


def retry_file(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str) -> FileRecord:
    """Send a failed file back to the extractor; returns it as it now is (``uploaded``).

    One transaction takes the item back to ``uploaded`` (its failed
    contribution comes off the counters), conditioned on the revision read;
    then the object is copied onto itself with a metadata change, a new S3
    version whose Object Created event the extractor claims as for any newer
    version. Should the copy fail, the item is put back to ``failed``.

    Raises
    ------
    NotFound, NotAllowed, FilesUnavailable
        As :func:`get_file`; NotAllowed too for an analyst and another's file.
    ActionRefused
        When the file has not failed (or changed meanwhile), or its original was never stored.
    """
    record = get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
    if not explorer.may_change(user, record):
        raise NotAllowed("Only the file's owner or an admin can retry it.")
    if record.status is not FileStatus.FAILED:
        raise ActionRefused("Only failed files can be retried.")
    not_stored = ActionRefused("This file's original is not stored; please upload it again.")
    if record.bucket != settings.bucket or not record.key:
        raise not_stored
    head_args = {"Bucket": record.bucket, "Key": record.key}
    if record.version_id and record.version_id != "null":
        head_args["VersionId"] = record.version_id
    try:
        head = s3.head_object(**head_args)
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code", "")) in _GONE:
            raise not_stored from e
        raise _unavailable("retried", e) from e
    except BotoCoreError as e:
        raise _unavailable("retried", e) from e
    now = schema.utc_now()
    try:
        ddb.transact_write_items(**schema.retry_request(settings.table, record, now))
    except ClientError as e:
        if str(e.response.get("Error", {}).get("Code", "")) == "TransactionCanceledException":
            raise ActionRefused("The file changed meanwhile; please look at it again.") from e
        raise _unavailable("retried", e) from e
    except BotoCoreError as e:
        raise _unavailable("retried", e) from e
    queued = schema.queued_for_retry(record, now)
    try:
        s3.copy_object(**schema.retry_copy(record, head.get("Metadata", {}), now))
    except (ClientError, BotoCoreError) as e:
        _abandon_retry(ddb, settings, queued, record)
        raise _unavailable("retried", e) from e
    logger.info("file %s sent back for processing by %s", file_id, user.sub)
    return queued


def _abandon_retry(ddb: Any, settings: Settings, queued: FileRecord, failed: FileRecord) -> None:
    """The copy did not happen: the file is ``failed`` again, counters included; best effort, logged."""
    try:
        ddb.transact_write_items(**schema.transition(settings.table, queued,
                                                     schema.retry_abandoned(failed, schema.utc_now())))
    except (ClientError, BotoCoreError):
        logger.exception("could not put %s back to failed after a retry that did not start", failed.file_id)


def delete_file(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str) -> FileRecord:
    """Delete a file: the item becomes ``deleted`` (aggregates corrected), then the object goes.

    The item changes first, in one transaction with the aggregate counters and
    the duplicate marker, conditioned on the revision read (re-read and tried
    again if the extractor moved it meanwhile). That also stops an extraction
    in flight from finishing, and the extractor never claims a deleted file
    again. The object is then deleted: in the versioned bucket that is a delete
    marker (the current version disappears at once, so links stop working;
    the noncurrent versions are removed by the bucket's lifecycle rule).
    Deleting a deleted file deletes the object again and changes nothing else.

    Raises
    ------
    NotFound, NotAllowed, FilesUnavailable
        As :func:`get_file`; NotAllowed too for an analyst and another's file.
    """
    for attempt in range(_DELETE_ATTEMPTS):
        record = get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
        if not explorer.may_change(user, record):
            raise NotAllowed("Only the file's owner or an admin can delete it.")
        if record.status is FileStatus.DELETED:
            break
        now = schema.utc_now()
        try:
            ddb.transact_write_items(**schema.delete_request(settings.table, record, now))
            record = schema.deleted(record, now)
            break
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            reasons = [r.get("Code", "None") for r in e.response.get("CancellationReasons", [])]
            if code != "TransactionCanceledException" or not (
                    "ConditionalCheckFailed" in reasons[:1] or "TransactionConflict" in reasons):
                raise _unavailable("deleted", e) from e
            time.sleep(0.05 * 2**attempt)  # the extractor moved it meanwhile: read again
        except BotoCoreError as e:
            raise _unavailable("deleted", e) from e
    else:
        raise FilesUnavailable("The file kept changing while it was being deleted; please try again.")
    if record.bucket == settings.bucket and record.key:
        try:
            s3.delete_object(Bucket=record.bucket, Key=record.key)
        except (ClientError, BotoCoreError) as e:
            raise _unavailable("deleted", e) from e
    logger.info("file %s deleted by %s", file_id, user.sub)
    return record
