"""Files stored through the portal's upload and finished by the extractor's own code, in moto."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence

from common import aws
from common.schema.keys import file_key
from common.schema.record import FileRecord, from_item
from common.settings import Settings
from extractor.processor import Deps, process_message
from portal.access import User
from portal.files.uploads import store_upload
from tests.helpers.events import eventbridge_body

_SEQUENCERS = itertools.count(0x9000)


def announce(stack: Settings, key: str) -> None:
    """Hand the extractor the Object Created event of the key's current version."""
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    head = s3.head_object(Bucket=stack.bucket, Key=key)
    body = eventbridge_body(stack.bucket, key, sequencer=f"{next(_SEQUENCERS):X}", size=head["ContentLength"],
                            etag=head["ETag"].strip('"'), version_id=head["VersionId"])
    process_message(body, 1, Deps(s3=s3, ddb=ddb, table=stack.table))


def stored(stack: Settings, user: User, name: str, data: bytes, *, tags: Sequence[str] = (), notes: str = "",
           process: bool = True) -> FileRecord:
    """Upload ``data`` as ``user`` (with tags and a note), then let the extractor finish it."""
    record = store_upload(user=user, name=name, body=io.BytesIO(data), content_type="", s3=aws.client("s3"),
                          ddb=aws.client("dynamodb"), settings=stack, tags=tags, notes=notes)
    if process:
        announce(stack, record.key)
    return read(stack, record.file_id)


def read(stack: Settings, file_id: str) -> FileRecord:
    """The file's item as it is now."""
    item = aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key(file_id), ConsistentRead=True)
    return from_item(item["Item"])
