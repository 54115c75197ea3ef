"""Bulk actions' I/O: retry, delete, add or remove tags, and download many files as one ZIP streamed to S3.

Each file goes through the single-file action (:mod:`portal.files.actions`),
which re-reads it and checks the verified user against it, so a bulk action
can do nothing a file's own buttons could not. A file that cannot be done is
reported with the service's reason and left as it was; the others go on.

The ZIP is never held in memory: each original is read from S3 in chunks,
compressed into the ZIP as it comes, and the ZIP leaves in multipart parts as
they fill, into the user's export folder (kept a day, like exports), handed
out as a short-lived link. No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from common.catalogue import FileStatus
from common.settings import Settings
from portal import access
from portal.access import NotAllowed, User
from portal.export.service import EXPORT_PREFIX, LINK_SECONDS
from portal.files import actions, bulk, service
from portal.files.bulk import BulkAction, ManifestRow, Outcome, Report
from portal.files.labels import InvalidLabels, LabelEdit
from portal.files.service import FileError, FilesUnavailable

logger = logging.getLogger(__name__)

#: Bytes of each multipart part (S3's least is 5 MiB but for the last): the most the ZIP holds in memory.
PART_BYTES = 8 * 1024 * 1024
_READ_BYTES = 1024 * 1024


class ZipRefused(FileError):
    """No ZIP was made (too large, nothing to put in it); the message says why."""


def _each(plan: bulk.Plan, act: Callable[[str], Any]) -> list[Outcome]:
    """``act`` on every planned file, each on its own: a refusal is reported, the others go on."""
    outcomes = []
    for planned in plan.chosen:
        try:
            record = act(planned.file_id)
        except (FileError, NotAllowed, InvalidLabels) as e:
            outcomes.append(Outcome(planned.file_id, planned.name, False, str(e)))
        else:
            outcomes.append(Outcome(planned.file_id, record.name, True))
    return outcomes


def retry_many(*, user: User, s3: Any, ddb: Any, settings: Settings, plan: bulk.Plan) -> Report:
    """Send each planned failed file back for processing (:func:`actions.retry_file`); report every file."""
    tried = _each(plan, lambda file_id: actions.retry_file(
        user=user, s3=s3, ddb=ddb, settings=settings, file_id=file_id))
    return bulk.report(plan, tried)


def delete_many(*, user: User, s3: Any, ddb: Any, settings: Settings, plan: bulk.Plan) -> Report:
    """Delete each planned file (:func:`actions.delete_file`, counters corrected); report every file.

    A file deleted meanwhile by someone else is reported as such, not as deleted by this action.
    """
    def delete(file_id: str) -> Any:
        current = service.get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
        if current.status is FileStatus.DELETED:
            raise service.ActionRefused("It was deleted meanwhile.")
        return actions.delete_file(user=user, s3=s3, ddb=ddb, settings=settings, file_id=file_id)

    return bulk.report(plan, _each(plan, delete))


def label_many(*, user: User, ddb: Any, settings: Settings, plan: bulk.Plan, edit: LabelEdit) -> Report:
    """Add and remove tags on each planned file (:func:`actions.set_labels`, tag counters moved); report each.

    Each file's other tags and its note stay; a file the edit would take over
    the tag limit is reported with the rule's words and left as it was.
    """
    return bulk.report(plan, _each(plan, lambda file_id: actions.set_labels(
        user=user, ddb=ddb, settings=settings, file_id=file_id, edit=edit)))


# --- the ZIP --------------------------------------------------------------------------


class _MultipartSink(io.RawIOBase):
    """A write-only stream that sends what is written to S3 as multipart parts of ``part_bytes``."""

    def __init__(self, s3: Any, bucket: str, key: str, part_bytes: int, **extra: Any) -> None:
        self._s3, self._bucket, self._key, self._part_bytes = s3, bucket, key, part_bytes
        self._upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._written = 0
        #: The most bytes held at once: what the ZIP costs in memory.
        self.peak = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        size = len(data)
        self._buffer += data
        self._written += size
        self.peak = max(self.peak, len(self._buffer))
        while len(self._buffer) >= self._part_bytes:
            self._send(bytes(self._buffer[:self._part_bytes]))
            del self._buffer[:self._part_bytes]
        return size

    def _send(self, body: bytes) -> None:
        number = len(self._parts) + 1
        part = self._s3.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                    PartNumber=number, Body=body)
        self._parts.append({"PartNumber": number, "ETag": part["ETag"]})

    def complete(self) -> None:
        """Send the rest and put the parts together as one object."""
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._s3.complete_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                           MultipartUpload={"Parts": self._parts})

    def abort(self) -> None:
        """Drop the parts sent: no half ZIP is left behind (best effort, logged)."""
        try:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
        except (ClientError, BotoCoreError):
            logger.exception("could not abort the ZIP upload %s", self._key)


@dataclass(frozen=True)
class ZipResult:
    """The ZIP made: where it is, a link valid :data:`LINK_SECONDS`, and every file's outcome."""

    key: str
    link: str
    report: Report
    manifest: tuple[ManifestRow, ...]
    #: Bytes of originals put in the ZIP.
    included_bytes: int
    #: The most bytes the ZIP held in memory at once.
    peak_bytes: int


def zip_to_s3(*, user: User, s3: Any, ddb: Any, settings: Settings, plan: bulk.Plan,
              cap: int = bulk.ZIP_MAX_BYTES, part_bytes: int = PART_BYTES) -> ZipResult:
    """Stream the planned files, and a ``manifest.csv`` of every selected file, into one ZIP in S3.

    Each file is read again as the user (:func:`service.get_file`): one that is
    gone, no longer theirs to read or over the cap is left out, and the
    manifest and the report say why. The originals' sizes are checked against
    ``cap`` before anything is read, and the bytes read as they come.

    Raises
    ------
    ZipRefused
        When the files are over ``cap`` together, or none of them can be downloaded.
    portal.access.NotAllowed
        When the user's session ended.
    FilesUnavailable
        When S3 failed midway; the parts already sent are dropped.
    """
    access.require_current(user, time.time())
    if not plan.chosen:
        raise ZipRefused("None of the selected files can be downloaded.")
    too_big = bulk.size_refusal(plan.chosen, cap)
    if too_big:
        raise ZipRefused(too_big)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{EXPORT_PREFIX}{user.sub}/docportal-files-{stamp}-{uuid.uuid4().hex[:8]}.zip"
    try:
        sink = _MultipartSink(s3, settings.bucket, key, part_bytes, ContentType="application/zip",
                              ContentDisposition=f'attachment; filename="{key.rsplit("/", 1)[-1]}"')
    except (ClientError, BotoCoreError) as e:
        raise FilesUnavailable("The ZIP cannot be made right now. Please try again in a minute.") from e
    try:
        rows, outcomes, total = _write_zip(user, s3, ddb, settings, plan, sink, cap)
        sink.complete()
        link = s3.generate_presigned_url("get_object", Params={"Bucket": settings.bucket, "Key": key},
                                         ExpiresIn=LINK_SECONDS)
    except (ClientError, BotoCoreError) as e:
        sink.abort()
        logger.error("the ZIP %s failed: %s", key, e, exc_info=True)
        raise FilesUnavailable("The ZIP could not be made: S3 failed midway. Please try again.") from e
    except BaseException:
        sink.abort()
        raise
    logger.info("ZIP of %d file(s) made by %s", sum(o.done for o in outcomes), user.sub)
    return ZipResult(key, str(link), bulk.report(plan, outcomes), tuple(rows), total, sink.peak)


def _write_zip(user: User, s3: Any, ddb: Any, settings: Settings, plan: bulk.Plan, sink: _MultipartSink,
               cap: int) -> tuple[list[ManifestRow], list[Outcome], int]:
    names = bulk.ZipNames()
    rows: list[ManifestRow] = []
    outcomes: list[Outcome] = []
    total = 0
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for planned in plan.chosen:
            try:
                record = service.get_file(user=user, ddb=ddb, settings=settings, file_id=planned.file_id)
                why = bulk.refusal(BulkAction.DOWNLOAD, user, record)
                body, size = (None, 0) if why else _open(s3, settings, record)
            except (FileError, NotAllowed) as e:
                record, why, body, size = planned, str(e), None, 0
            if body is not None and total + size > cap:
                body.close()
                why = "the ZIP reached its size cap"
            if body is None or why:
                rows.append(ManifestRow(record.file_id, record.name, "", record.status, record.size,
                                        record.sha256, False, why))
                outcomes.append(Outcome(record.file_id, record.name, False, why))
                continue
            inside = names.take(record.name)
            digest = hashlib.sha256()
            info = zipfile.ZipInfo(inside, date_time=_zip_time(record.uploaded_at))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as entry:
                for chunk in _chunks(body, size):
                    digest.update(chunk)
                    entry.write(chunk)
            total += size
            rows.append(ManifestRow(record.file_id, record.name, inside, record.status, size,
                                    digest.hexdigest(), True))
            outcomes.append(Outcome(record.file_id, record.name, True))
        for left, why in plan.refused:
            rows.append(ManifestRow(left.file_id, left.name, "", left.status, left.size, left.sha256, False,
                                    why))
        manifest = zipfile.ZipInfo(bulk.MANIFEST_NAME, date_time=_zip_time(""))
        archive.writestr(manifest, bulk.manifest_csv(rows), compress_type=zipfile.ZIP_DEFLATED)
    return rows, outcomes, total


def _open(s3: Any, settings: Settings, record: Any) -> tuple[Any, int]:
    """The original's body and size; ``FileError`` (a reason) when it is gone or outside the bucket."""
    if record.bucket != settings.bucket or not record.key:
        raise service.NotFound("The original of this file is not in the portal's bucket.")
    try:
        got = s3.get_object(Bucket=record.bucket, Key=record.key)
    except ClientError as e:
        if aws_errors.is_missing(e):
            raise service.NotFound("The original of this file is no longer stored.") from e
        raise
    return got["Body"], int(got["ContentLength"])


def _chunks(body: Any, size: int) -> Iterable[bytes]:
    """The body's bytes, read a chunk at a time, never more than ``size`` of them."""
    left = size
    try:
        while left > 0:
            chunk = body.read(min(_READ_BYTES, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        body.close()


def _zip_time(stamp: str) -> tuple[int, int, int, int, int, int]:
    """A ZIP entry's time (ZIP's own format starts in 1980): the upload time, else now."""
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else dt.datetime.now(dt.UTC)
    except ValueError:
        when = dt.datetime.now(dt.UTC)
    when = max(when, dt.datetime(1980, 1, 1, tzinfo=dt.UTC))
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)
