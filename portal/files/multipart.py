"""Direct uploads in parts: start an S3 multipart upload for a registered file, complete it, or cancel it.

A file too large for one presigned POST (the API's ``POST /v1/uploads`` above
``DOCPORTAL_UPLOAD_MULTIPART_MB``) is registered ``pending`` with its declared
size, exactly as a form upload is, and an S3 multipart upload is started for
its own key with the metadata the extractor reads; the caller gets one
presigned ``UploadPart`` URL per part. A presigned part cannot limit its size,
so completing checks the parts S3 holds (ListParts) against the declared size
before asking S3 to assemble them, and the object's size (HeadObject) after;
an object of another size is removed. Only the file's owner completes or
cancels it, and only while it is ``pending``. Cancelling aborts the upload and
removes the item, as its TTL would: it never counted anywhere.

Clients and settings are passed in (pages and the API decide where AWS is);
no Streamlit here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from common.filestore import FileStore
from common.schema.record import FileRecord
from common.settings import Settings
from portal import access
from portal.access import User
from portal.files import service, upload_policy
from portal.files.uploads import UploadError, object_metadata, register_direct

logger = logging.getLogger(__name__)

#: Part links live an hour: a few hundred MB on a slow line take longer than a form's fifteen minutes.
PART_SECONDS = 3600
#: Parts named in one completion (S3's own limit on a multipart upload).
MAX_PARTS = upload_policy.MAX_PARTS
NOT_OWNER = "Only whoever started this upload may complete or cancel it."


class PartsMismatch(UploadError):
    """The parts sent do not make the declared file; nothing was assembled."""


@dataclass(frozen=True)
class Part:
    """One part as the caller sent it: its number and the ETag S3 answered its PUT with."""

    number: int
    etag: str


@dataclass(frozen=True)
class MultipartStarted:
    """A registered file, its S3 multipart upload and one presigned PUT per part (part 1 first)."""

    record: FileRecord
    upload_id: str
    part_size: int
    urls: tuple[str, ...]
    expires_in: int


def multipart_threshold(settings: Settings) -> int:
    """Direct uploads above this many bytes go in parts."""
    return settings.upload_multipart_mb * upload_policy.MiB


def start(*, user: User, name: str, size: int, content_type: str, s3: Any, ddb: Any, settings: Settings,
          tags: Sequence[str] = (), notes: str = "", expires_in: int = PART_SECONDS) -> MultipartStarted:
    """Register the file (``pending``, with its size) and start its multipart upload; the part links.

    Raises
    ------
    portal.access.NotAllowed, UploadError
        As :func:`portal.files.uploads.presign_upload`; nothing is left
        waiting when S3 refuses to start.
    """
    record = register_direct(user=user, name=name, size=size, content_type=content_type, ddb=ddb,
                             settings=settings, tags=tags, notes=notes, expires_in=expires_in)
    part_size, count = upload_policy.part_plan(size)
    try:
        upload_id = str(s3.create_multipart_upload(Bucket=settings.bucket, Key=record.key,
                                                   ContentType=content_type,
                                                   Metadata=object_metadata(record))["UploadId"])
        urls = tuple(s3.generate_presigned_url("upload_part", ExpiresIn=expires_in, Params={
            "Bucket": settings.bucket, "Key": record.key, "UploadId": upload_id, "PartNumber": number})
            for number in range(1, count + 1))
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not start the multipart upload of %s", record.file_id)
        FileStore(ddb, settings.table).drop_pending(record.file_id)
        raise UploadError(f"{name}: the upload could not be started; please try again.") from e
    return MultipartStarted(record, upload_id, part_size, urls, expires_in)


def complete(*, user: User, file_id: str, parts: Sequence[Part], s3: Any, ddb: Any,
             settings: Settings) -> FileRecord:
    """Assemble the file's parts into its object, if they make exactly the declared size.

    Raises
    ------
    portal.files.service.NotFound, portal.access.NotAllowed
        No such file; another's file (or a user who may not upload).
    portal.files.service.ActionRefused
        The file is not waiting for a multipart upload (completed, cancelled, a form upload).
    PartsMismatch
        A part is missing, unknown or named twice, or the parts' sizes do not
        add up to the declared size: nothing is assembled, and the upload
        stays open to send the right parts (or to cancel).
    UploadError
        S3 refused to assemble them, or the object came out another size (it is removed).
    """
    record = _own_pending(user, ddb, settings, file_id)
    upload_id = _upload_id(s3, settings, record)
    held = {p["PartNumber"]: p for p in _listed_parts(s3, settings, record.key, upload_id)}
    _check_parts(parts, held, record)
    try:
        s3.complete_multipart_upload(Bucket=settings.bucket, Key=record.key, UploadId=upload_id,
                                     MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag}
                                                                for p in parts]})
        head = s3.head_object(Bucket=settings.bucket, Key=record.key)
    except ClientError as e:
        raise UploadError(f"S3 refused to assemble the parts: {aws_errors.message(e)}.") from e
    except BotoCoreError as e:
        raise service.FilesUnavailable("S3 could not be reached; please try again.") from e
    if head["ContentLength"] != record.size:
        stored = int(head["ContentLength"])
        logger.warning("%s came out %d bytes, not %s; removing it", file_id, stored, record.size)
        s3.delete_object(Bucket=settings.bucket, Key=record.key, VersionId=head.get("VersionId", "null"))
        FileStore(ddb, settings.table).drop_pending(file_id)
        raise UploadError(f"The stored file has {stored} bytes, not the {record.size} declared; it was "
                          "removed. Please upload it again.")
    return record


def abort(*, user: User, file_id: str, s3: Any, ddb: Any, settings: Settings) -> None:
    """Cancel the file's upload: abort any multipart upload of its key, and remove its ``pending`` item.

    Raises
    ------
    portal.files.service.NotFound, portal.access.NotAllowed, portal.files.service.ActionRefused
        As :func:`complete` (a file that is no longer ``pending`` cannot be cancelled).
    """
    record = _own_pending(user, ddb, settings, file_id)
    try:
        for upload in _uploads_of(s3, settings, record.key):
            s3.abort_multipart_upload(Bucket=settings.bucket, Key=record.key, UploadId=upload["UploadId"])
        dropped = FileStore(ddb, settings.table).drop_pending(file_id)
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not cancel the upload of %s", file_id)
        raise service.FilesUnavailable("The upload could not be cancelled; please try again.") from e
    if not dropped:
        raise service.ActionRefused("The file arrived meanwhile; delete it instead.")


def _own_pending(user: User, ddb: Any, settings: Settings, file_id: str) -> FileRecord:
    """The caller's own file, while it waits for its upload."""
    record = service.get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
    access.require(access.may_upload(user) and record.owner == user.sub, NOT_OWNER)
    if not access.may_finish_upload(user, record):
        raise service.ActionRefused(f"The file is {record.status.value}, no longer waiting for its upload.")
    return record


def _uploads_of(s3: Any, settings: Settings, key: str) -> Iterator[dict[str, Any]]:
    """The multipart uploads in progress for exactly ``key``."""
    pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=settings.bucket, Prefix=key)
    for page in pages:
        yield from (u for u in page.get("Uploads", []) if u["Key"] == key)


def _upload_id(s3: Any, settings: Settings, record: FileRecord) -> str:
    try:
        found = [u["UploadId"] for u in _uploads_of(s3, settings, record.key)]
    except (ClientError, BotoCoreError) as e:
        raise service.FilesUnavailable("S3 could not be reached; please try again.") from e
    if len(found) != 1:
        raise service.ActionRefused("The file has no upload in parts to complete (it was sent as a form, "
                                    "or cancelled).")
    return str(found[0])


def _listed_parts(s3: Any, settings: Settings, key: str, upload_id: str) -> Iterator[dict[str, Any]]:
    try:
        pages = s3.get_paginator("list_parts").paginate(Bucket=settings.bucket, Key=key, UploadId=upload_id)
        for page in pages:
            yield from page.get("Parts", [])
    except (ClientError, BotoCoreError) as e:
        raise service.FilesUnavailable("S3 could not be reached; please try again.") from e


def _check_parts(parts: Sequence[Part], held: dict[int, dict[str, Any]], record: FileRecord) -> None:
    """Refuse a completion S3 would assemble into anything but the declared file."""
    numbers = [p.number for p in parts]
    if not parts or numbers != sorted(set(numbers)):
        raise PartsMismatch("Name each part once, in ascending order of part number.")
    unknown = [p.number for p in parts
               if p.number not in held or _bare(held[p.number]["ETag"]) != _bare(p.etag)]
    if unknown:
        raise PartsMismatch(f"S3 holds no part {', '.join(map(str, unknown[:10]))} with that ETag: "
                            "send those parts again (or name the ETags their PUTs answered).")
    total = sum(int(held[n]["Size"]) for n in numbers)
    if total != record.size:
        raise PartsMismatch(f"The parts hold {total} bytes; the upload declared {record.size}. Send the "
                            "missing parts (or cancel the upload and start again).")


def _bare(etag: str) -> str:
    return etag.strip().strip('"')
