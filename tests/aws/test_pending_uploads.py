"""Presigned uploads' lifecycle in moto: a ``pending`` item, counted nowhere, that the TTL removes unless its object arrives.

moto's DynamoDB never runs the TTL, so an unused link's expiry is played as
DynamoDB plays it: the item is deleted, and nothing else changes.
"""

from __future__ import annotations

import time

from common import aws
from common.catalogue import FileStatus
from common.filestore import FileStore
from common.schema.keys import file_key
from portal.files.uploads import PENDING_GRACE_SECONDS, PRESIGNED_SECONDS
from tests.helpers.api import api, person, upload_through_api
from tests.helpers.files import tiny_pdf
from tests.helpers.tables import every_item

ANN = "aaaaaaaa-1111-4222-8333-000000000001"
ANA = "cccccccc-1111-4222-8333-000000000003"
PERIOD = {"from": "2000-01-01", "to": "2999-12-31"}


def register(size: int = 1234) -> str:
    status, _, created = api("POST", "/v1/uploads", person(ANN, "uploaders"),
                             body={"name": "later.pdf", "size": size, "content_type": "application/pdf"})
    assert status == 201 and created["status"] == "pending"
    return str(created["file_id"])


def test_the_table_expires_items_by_expires_at(stack):
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=stack.table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_a_registered_upload_is_pending_until_its_link_is_long_expired(stack):
    before = int(time.time())
    file_id = register()
    record = FileStore(aws.client("dynamodb"), stack.table).read(file_id)
    assert record is not None and record.status is FileStatus.PENDING
    lifetime = PRESIGNED_SECONDS + PENDING_GRACE_SECONDS
    assert record.expires_at is not None and before + lifetime <= record.expires_at <= int(time.time()) + lifetime


def test_an_unused_link_is_counted_nowhere_and_its_expiry_leaves_nothing(stack):
    file_id = register()
    # Only the file's own item exists: no aggregate cell, no duplicate marker.
    assert [pk for pk, _ in every_item(stack.table)] == [file_key(file_id)["pk"]["S"]]
    status, _, figures = api("GET", "/v1/dashboard", person(ANA, "analysts"), query=PERIOD)
    assert status == 200 and (figures["files"], figures["processed"], figures["failures"]) == (0, 0, 0)
    status, _, listed = api("GET", "/v1/files", person(ANN, "uploaders"))
    assert [f["status"] for f in listed["files"]] == ["pending"]

    aws.client("dynamodb").delete_item(TableName=stack.table, Key=file_key(file_id))  # what the TTL does

    assert every_item(stack.table) == {}
    assert api("GET", "/v1/files", person(ANN, "uploaders"))[2]["files"] == []
    assert api("GET", f"/v1/files/{file_id}", person(ANN, "uploaders"))[0] == 404


def test_a_used_link_ends_processed_without_an_expiry_and_counted_once(stack):
    file_id = upload_through_api(stack, person(ANN, "uploaders"), "used.pdf", tiny_pdf("used"))
    record = FileStore(aws.client("dynamodb"), stack.table).read(file_id)
    assert record is not None and record.status is FileStatus.PROCESSED and record.expires_at is None
    assert "expires_at" not in aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key(file_id))["Item"]
    status, _, figures = api("GET", "/v1/dashboard", person(ANA, "analysts"), query=PERIOD)
    assert (status, figures["files"], figures["processed"]) == (200, 1, 1)


def test_a_pending_file_deleted_before_its_object_arrives_stays_deleted(stack):
    file_id = register(size=len(tiny_pdf("late")))
    assert api("DELETE", f"/v1/files/{file_id}", person(ANN, "uploaders"))[2]["status"] == "deleted"
    record = FileStore(aws.client("dynamodb"), stack.table).read(file_id)
    assert record is not None and record.status is FileStatus.DELETED
