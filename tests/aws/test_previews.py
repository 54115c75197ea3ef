"""Previews drawn at extraction, stored as PNGs under their own prefix, against the template in moto.

Files are stored with :func:`portal.files.uploads.store_upload` and processed by
the extractor's own code; the portal reads and deletes what the extractor wrote.
"""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from common import aws
from common.catalogue import FileStatus
from common.schema.keys import THUMBNAIL_PREFIX, file_key, thumbnail_key
from common.schema.record import FileRecord, from_item
from extractor import processor
from extractor.processor import Deps, Outcome, process_message
from portal.access import User
from portal.files import actions, service
from portal.files.uploads import store_upload
from tests.helpers.events import eventbridge_body
from tests.helpers.files import tiny_pdf, tiny_png

ANN = User(sub="aaaaaaaa-1111-4222-8333-000000000001", email="ann@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)
_SEQUENCERS = itertools.count(0x3000)


def clients() -> dict[str, Any]:
    return {"s3": aws.client("s3"), "ddb": aws.client("dynamodb")}


def deps(stack) -> Deps:
    return Deps(s3=aws.client("s3"), ddb=aws.client("dynamodb"), table=stack.table)


def event_for(stack, key: str) -> str:
    """The Object Created event S3 would send for the key's current version, with a newer sequencer."""
    head = aws.client("s3").head_object(Bucket=stack.bucket, Key=key)
    return eventbridge_body(stack.bucket, key, sequencer=f"{next(_SEQUENCERS):X}", size=head["ContentLength"],
                            etag=head["ETag"].strip('"'), version_id=head["VersionId"])


def stored(stack, name: str, data: bytes) -> FileRecord:
    return store_upload(user=ANN, name=name, body=io.BytesIO(data), content_type="", s3=aws.client("s3"),
                        ddb=aws.client("dynamodb"), settings=stack)


def upload(stack, name: str, data: bytes) -> FileRecord:
    record = stored(stack, name, data)
    assert process_message(event_for(stack, record.key), 1, deps(stack)) == [Outcome.PROCESSED]
    return current(stack, record.file_id)


def current(stack, file_id: str) -> FileRecord:
    item = aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key(file_id),
                                           ConsistentRead=True)["Item"]
    return from_item(item)


def previews(stack) -> set[str]:
    """The keys under the previews' prefix whose current version is an object (not a delete marker)."""
    listed = aws.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=THUMBNAIL_PREFIX)
    return {o["Key"] for o in listed.get("Contents", [])}


def png_size(stack, key: str) -> tuple[int, int]:
    from PIL import Image

    data = aws.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return im.size


def test_extraction_stores_a_png_per_file_version_under_its_own_prefix_and_records_it(stack):
    image = upload(stack, "photo.png", tiny_png(40, 30))
    pdf = upload(stack, "Q3 report.pdf", tiny_pdf("quarter"))
    for record in (image, pdf):
        assert record.preview_key == thumbnail_key(ANN.sub, record.file_id, record.sequencer)
        assert record.preview_key.startswith(f"{THUMBNAIL_PREFIX}{ANN.sub}/{record.file_id}/")
        head = aws.client("s3").head_object(Bucket=stack.bucket, Key=record.preview_key)
        assert head["ContentType"] == "image/png"
    assert previews(stack) == {image.preview_key, pdf.preview_key}
    assert png_size(stack, image.preview_key) == (40, 30)
    assert png_size(stack, pdf.preview_key) == (371, 480), "a US Letter page, its longer side 480 pixels"
    assert "report" not in pdf.preview_key, "never named after the file"


def test_other_kinds_of_file_get_no_preview(stack):
    text = upload(stack, "notes.txt", b"plain words")
    assert text.preview_key == "" and previews(stack) == set()


def test_the_portal_serves_the_stored_png_only_while_the_file_is_stored(stack):
    record = upload(stack, "photo.png", tiny_png(40, 30))
    png = aws.client("s3").get_object(Bucket=stack.bucket, Key=record.preview_key)["Body"].read()
    assert service.preview_bytes(user=ANN, settings=stack, file_id=record.file_id, **clients()) == png
    aws.client("s3").delete_object(Bucket=stack.bucket, Key=record.preview_key)
    assert service.preview_bytes(user=ANN, settings=stack, file_id=record.file_id, **clients()) is None


def test_deleting_a_file_deletes_its_preview(stack):
    record = upload(stack, "photo.png", tiny_png(40, 30))
    assert previews(stack) == {record.preview_key}
    actions.delete_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
    assert previews(stack) == set()
    assert service.preview_bytes(user=ANN, settings=stack, file_id=record.file_id, **clients()) is None
    # Deleting again deletes again, and changes nothing else.
    actions.delete_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
    assert current(stack, record.file_id).status is FileStatus.DELETED


def test_a_file_deleted_while_its_preview_was_drawn_leaves_no_preview(stack, monkeypatch):
    record = stored(stack, "photo.png", tiny_png(40, 30))
    draw = processor.draw_preview

    def draw_then_delete(*args, **kwargs):
        png = draw(*args, **kwargs)
        actions.delete_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
        return png

    monkeypatch.setattr(processor, "draw_preview", draw_then_delete)
    assert process_message(event_for(stack, record.key), 1, deps(stack)) == [Outcome.SKIPPED]
    assert current(stack, record.file_id).status is FileStatus.DELETED
    assert previews(stack) == set()


def test_a_newer_version_replaces_the_preview_and_the_older_one_goes(stack):
    record = upload(stack, "photo.png", tiny_png(40, 30))
    aws.client("s3").put_object(Bucket=stack.bucket, Key=record.key, Body=tiny_png(60, 20))
    assert process_message(event_for(stack, record.key), 1, deps(stack)) == [Outcome.PROCESSED]
    newer = current(stack, record.file_id)
    assert newer.preview_key != record.preview_key
    assert previews(stack) == {newer.preview_key}
    assert png_size(stack, newer.preview_key) == (60, 20)


def test_an_older_delivery_finishing_late_leaves_no_preview_of_its_version(stack, monkeypatch):
    record = stored(stack, "photo.png", tiny_png(40, 30))
    older = event_for(stack, record.key)
    aws.client("s3").put_object(Bucket=stack.bucket, Key=record.key, Body=tiny_png(60, 20))
    newer = event_for(stack, record.key)
    draw = processor.draw_preview
    overtaken = []

    def overtaken_while_drawing(*args, **kwargs):
        png = draw(*args, **kwargs)
        if not overtaken:  # the newer version's delivery claims and finishes meanwhile
            overtaken.append("newer")
            overtaken.append(process_message(newer, 1, deps(stack)))
        return png

    monkeypatch.setattr(processor, "draw_preview", overtaken_while_drawing)
    assert process_message(older, 1, deps(stack)) == [Outcome.SKIPPED]
    assert overtaken == ["newer", [Outcome.PROCESSED]]
    after = current(stack, record.file_id)
    assert previews(stack) == {after.preview_key}
    assert png_size(stack, after.preview_key) == (60, 20)


def test_a_delivery_retried_after_an_error_overwrites_the_same_preview(stack, monkeypatch):
    record = stored(stack, "photo.png", tiny_png(40, 30))
    body = event_for(stack, record.key)
    finish = processor._finish
    calls = []

    def throttled_once(*args, **kwargs):
        if not calls:
            calls.append(1)
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")
        return finish(*args, **kwargs)

    monkeypatch.setattr(processor, "_finish", throttled_once)
    with pytest.raises(ClientError):
        process_message(body, 1, deps(stack))
    assert process_message(body, 2, deps(stack)) == [Outcome.PROCESSED]
    after = current(stack, record.file_id)
    assert previews(stack) == {after.preview_key}
    versions = aws.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=after.preview_key)["Versions"]
    assert len(versions) == 2, "the same key was written again, not a second preview"


def test_a_failed_file_retried_gets_its_preview(stack, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr("extractor.extract.detect", lambda *a, **k: (_ for _ in ()).throw(RecursionError("deep")))
        record = stored(stack, "photo.png", tiny_png(40, 30))
        assert process_message(event_for(stack, record.key), 1, deps(stack)) == [Outcome.FAILED]
    assert current(stack, record.file_id).preview_key == "" and previews(stack) == set()
    actions.retry_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
    assert process_message(event_for(stack, record.key), 1, deps(stack)) == [Outcome.PROCESSED]
    again = current(stack, record.file_id)
    assert again.preview_key and previews(stack) == {again.preview_key}


def test_an_expired_file_loses_its_preview(stack):
    record = upload(stack, "photo.png", tiny_png(40, 30))
    assert previews(stack) == {record.preview_key}
    expiry = json.loads(event_for(stack, record.key))
    expiry["detail-type"], expiry["detail"]["reason"] = "Object Deleted", "Lifecycle Expiration"
    assert process_message(json.dumps(expiry), 1, deps(stack)) == [Outcome.EXPIRED]
    assert previews(stack) == set()
    assert service.preview_bytes(user=ANN, settings=stack, file_id=record.file_id, **clients()) is None
