"""Files stored as the portal stores them and processed by the extractor's own code, against moto (in-process).

Items, counters and duplicate markers are exactly what production writes;
:func:`counters_and_recount` compares the stored counters with a recount.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from common import aws
from common.catalogue import FileStatus
from common.schema.aggregates import cell_counters, contributions
from common.schema.keys import file_key
from common.schema.record import FileRecord, from_item
from extractor.processor import Deps, process_message
from portal.access import User
from portal.files.uploads import store_upload
from tests.helpers.events import eventbridge_body

_SEQUENCERS = itertools.count(0x1000)


def deps(stack) -> Deps:
    return Deps(s3=aws.client("s3"), ddb=aws.client("dynamodb"), table=stack.table)


def event_for(stack, key: str, version_id: str | None = None) -> str:
    """The Object Created event S3 would send for the key's current (or given) version."""
    args = {"Bucket": stack.bucket, "Key": key} | ({"VersionId": version_id} if version_id else {})
    head = aws.client("s3").head_object(**args)
    return eventbridge_body(stack.bucket, key, sequencer=f"{next(_SEQUENCERS):X}",
                            size=head["ContentLength"], etag=head["ETag"].strip('"'),
                            version_id=head["VersionId"])


def upload(stack, user: User, name: str, data: bytes, *, process: bool = True, tags: Sequence[str] = (),
           notes: str = "") -> FileRecord:
    """``data`` stored for ``user`` (with ``tags`` and ``notes``) by the portal's upload, then (unless not
    ``process``) extracted."""
    record = store_upload(user=user, name=name, body=io.BytesIO(data), content_type="", s3=aws.client("s3"),
                          ddb=aws.client("dynamodb"), settings=stack, tags=tags, notes=notes)
    if process:
        announce(stack, record.key)
    return current(stack, record.file_id)


def announce(stack, key: str) -> None:
    """The extractor handles the Object Created event of the key's current version."""
    process_message(event_for(stack, key), 1, deps(stack))


def current(stack, file_id: str) -> FileRecord:
    item = aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key(file_id),
                                           ConsistentRead=True)["Item"]
    return from_item(item)


def fail_next_extraction(monkeypatch) -> None:
    """The next extraction fails (as an unreadable file does) until the monkeypatch is undone."""
    def boom(*args, **kwargs):
        raise RecursionError("deep")
    monkeypatch.setattr("extractor.extract.detect", boom)


def table_items(stack) -> Iterator[dict[str, Any]]:
    paginator = aws.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=stack.table, ConsistentRead=True):
        yield from page["Items"]


def counters_and_recount(stack) -> tuple[dict, dict]:
    """The aggregate counters as stored, and as recounted from the file items (zeros dropped)."""
    stored: dict[tuple[str, str], dict[str, int]] = {}
    recount: dict[tuple[str, str], dict[str, int]] = {}
    for item in table_items(stack):
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if pk.startswith("AGG#"):
            counts = {k: v for k, v in cell_counters(item).items() if v}
            if counts:
                stored[(pk, sk)] = counts
        elif pk.startswith("FILE#"):
            record = from_item(item)
            if not record.rev and record.status is FileStatus.FAILED:
                continue  # failed by the portal itself (upload did not complete): never counted
            for cell, counts in contributions(record).items():
                target = recount.setdefault(cell, {})
                for name, value in counts.items():
                    target[name] = target.get(name, 0) + value
    recount = {cell: {k: v for k, v in c.items() if v} for cell, c in recount.items()}
    return stored, {cell: c for cell, c in recount.items() if c}
