"""Upload -> S3 -> EventBridge -> SQS -> worker -> handler -> DynamoDB, over HTTP."""

import hashlib
import io
import time

import pytest

from common import aws
from common.catalogue import FileStatus
from common.schema.keys import file_key, new_file_id, upload_key
from common.schema.record import FileRecord, from_item
from portal.access import User
from portal.files.uploads import store_upload
from tests.helpers.env import worker_thread
from tests.helpers.files import tiny_pdf

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker(on_server):
    """The local worker, polling the server's queue in a thread."""
    with worker_thread(on_server.settings) as w:
        yield w


def wait_for_terminal(settings, file_id: str, attempts: int = 150) -> FileRecord:
    """Poll the item until its status is terminal (bounded; no time is asserted)."""
    ddb = aws.client("dynamodb")
    for _ in range(attempts):
        item = ddb.get_item(TableName=settings.table, Key=file_key(file_id)).get("Item")
        if item and from_item(item).status.terminal:
            return from_item(item)
        time.sleep(0.2)
    raise AssertionError(f"file {file_id} never reached a terminal status; last item: {item}")


def test_a_boto3_upload_reaches_processed(on_server, worker):
    data = tiny_pdf()
    owner, file_id = "e2e-owner", new_file_id()
    key = upload_key(owner, file_id, "report.pdf")
    aws.client("s3").put_object(Bucket=on_server.settings.bucket, Key=key, Body=data)
    record = wait_for_terminal(on_server.settings, file_id)
    assert record.status is FileStatus.PROCESSED
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.size == len(data)
    assert record.mime_type == "application/pdf"


def test_a_portal_upload_goes_uploaded_then_processed(on_server, worker):
    user = User(sub="d7a1c3e0-1111-4222-8333-444455556666", email="u@example.com",
                groups=frozenset({"uploaders"}), expires_at=2**40)
    data = b"date,amount\n2026-11-22,3\n"
    record = store_upload(user=user, name="ledger 2026.csv", body=io.BytesIO(data), content_type="text/csv",
                          s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=on_server.settings)
    assert record.status is FileStatus.UPLOADED
    done = wait_for_terminal(on_server.settings, record.file_id)
    assert (done.status, done.name, done.format, done.size) == (FileStatus.PROCESSED, "ledger 2026.csv", "csv", len(data))


def test_a_redelivered_message_changes_nothing(on_server, worker):
    data = b"%PDF-1.4 duplicate"
    file_id = new_file_id()
    key = upload_key("e2e-owner", file_id, "dup.pdf")
    sqs = aws.client("sqs")
    aws.client("s3").put_object(Bucket=on_server.settings.bucket, Key=key, Body=data)
    wait_for_terminal(on_server.settings, file_id)
    before = aws.client("dynamodb").get_item(TableName=on_server.settings.table, Key=file_key(file_id))["Item"]
    # Re-send the same event as a different message, as S3/EventBridge may.
    from tests.helpers.events import eventbridge_body

    body = eventbridge_body(on_server.settings.bucket, key, sequencer=before["sequencer"]["S"].lstrip("0"),
                            version_id=before["version_id"]["S"])
    sqs.send_message(QueueUrl=on_server.settings.queue_url, MessageBody=body)
    for _ in range(100):
        attrs = sqs.get_queue_attributes(QueueUrl=on_server.settings.queue_url, AttributeNames=["All"])["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            break
        time.sleep(0.2)
    after = aws.client("dynamodb").get_item(TableName=on_server.settings.table, Key=file_key(file_id))["Item"]
    assert after == before
