"""The portal's file I/O: store uploads, list files. No Streamlit here.

Clients and settings are passed in, so pages decide where AWS is and tests
can run this against moto.
"""

from __future__ import annotations

import logging
from typing import Any, BinaryIO
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from common import schema
from common.schema import FileRecord, FileStatus
from common.settings import Settings
from portal.tokens import User

logger = logging.getLogger(__name__)


class UploadError(RuntimeError):
    """An upload that did not complete; the message is for the user."""


def store_upload(
    *, user: User, name: str, body: BinaryIO, content_type: str,
    s3: Any, ddb: Any, settings: Settings,
) -> FileRecord:
    """Store one file and create its item (status ``uploaded``) before the object.

    The item comes first so that it exists when the extractor sees the event.
    If the object cannot be stored, the item is ended as ``failed`` with the
    reason, so nothing is left waiting.

    Raises
    ------
    UploadError
        When the file could not be stored; nothing half-done is left behind.
    """
    file_id = schema.new_file_id()
    now = schema.utc_now()
    record = FileRecord(
        file_id=file_id, owner=user.sub, owner_email=user.email, name=name,
        bucket=settings.bucket, key=schema.upload_key(user.sub, file_id, name),
        status=FileStatus.UPLOADED, uploaded_at=now, updated_at=now,
        content_type=content_type or "", extension=schema.safe_extension(name),
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
        })
    except (ClientError, BotoCoreError) as e:
        logger.exception("could not store %s", name)
        reason = "the upload did not complete; please upload the file again"
        try:
            ddb.update_item(**schema.mark_upload_failed(settings.table, file_id, reason, schema.utc_now()))
        except (ClientError, BotoCoreError):
            logger.exception("could not mark %s failed", file_id)
        raise UploadError(f"{name}: {reason}.") from e
    return record


def list_own_files(*, user: User, ddb: Any, settings: Settings, limit: int = 100) -> list[FileRecord]:
    """The user's newest files, newest first (one page of at most ``limit``)."""
    response = ddb.query(**schema.query_owner_files(settings.table, user.sub, limit))
    return [schema.from_item(item) for item in response.get("Items", [])]
