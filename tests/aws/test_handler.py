"""The Lambda handler: one bad record never fails its batch-mates."""

from common import aws
from common.schema.keys import file_key
from devstack.worker import LambdaContext
from extractor.handler import lambda_handler
from tests.helpers.events import eventbridge_body, sqs_record
from tests.helpers.records import OWNERS

OWNER = OWNERS[0]


def test_only_the_bad_record_is_reported(stack):
    s3 = aws.client("s3")
    good = []
    for i in range(2):
        key = f"uploads/{OWNER}/{str(i) * 32}.txt"
        r = s3.put_object(Bucket=stack.bucket, Key=key, Body=b"hello")
        good.append(eventbridge_body(stack.bucket, key, sequencer=f"{i + 1}", version_id=r["VersionId"]))
    event = {"Records": [sqs_record(good[0], "m1"), sqs_record("{broken", "m2"), sqs_record(good[1], "m3")]}
    response = lambda_handler(event, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    for i in range(2):
        item = aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key(str(i) * 32))["Item"]
        assert item["status"] == {"S": "processed"}


def test_a_batch_where_everything_fails_is_reported_not_raised(stack):
    event = {"Records": [sqs_record("{broken", "m1"), sqs_record("[]", "m2")]}
    response = lambda_handler(event, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}


def test_a_claim_records_its_delivery_and_when_that_delivery_will_have_ended(stack):
    """The Files page can then tell a file whose delivery died (the deadline passed) from one in work."""
    import datetime as dt

    from common.schema.record import from_item

    key = f"uploads/{OWNER}/{'7' * 32}.txt"
    r = aws.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=b"hello")
    body = eventbridge_body(stack.bucket, key, sequencer="1", version_id=r["VersionId"])
    before = dt.datetime.now(dt.UTC)
    lambda_handler({"Records": [sqs_record(body, "m1", receive_count=3)]}, LambdaContext(timeout_seconds=60))
    record = from_item(aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key("7" * 32))["Item"])
    deadline = dt.datetime.fromisoformat(record.deadline.replace("Z", "+00:00"))
    assert record.delivery == 3
    assert before + dt.timedelta(seconds=55) <= deadline <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
