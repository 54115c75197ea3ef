"""Faults while files are in flight: each test says what it injects and checks every file and counter.

The stack is a moto server of this module's own; the queue's visibility
timeout is shortened here (the template's six minutes would make a retry take
six minutes), which changes when a retry happens, not whether.
"""

import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError

from common import schema
from common.schema import FileStatus
from devstack import processes
from devstack.worker import Worker
from extractor.processor import Deps, process_message
from tests.fixtures import eventbridge_body

pytestmark = pytest.mark.e2e
OWNER = "f0000000-1111-4222-8333-444455556666"
VISIBILITY = 2


@pytest.fixture(scope="module")
def stack(fresh_stack):
    fresh_stack.client("sqs").set_queue_attributes(
        QueueUrl=fresh_stack.settings.queue_url, Attributes={"VisibilityTimeout": str(VISIBILITY)})
    return fresh_stack


def scan(ddb, table):
    items, kwargs = [], {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def files_of(stack, prefix):
    return {i["file_id"]["S"]: schema.from_item(i) for i in scan(stack.client("dynamodb"), stack.settings.table)
            if i["pk"]["S"].startswith("FILE#") and i["file_id"]["S"].startswith(prefix)}


def assert_counters_match_recount(stack):
    items = scan(stack.client("dynamodb"), stack.settings.table)
    recount = {}
    for item in items:
        if item["pk"]["S"].startswith("FILE#"):
            for (pk, sk), counts in schema.contributions(schema.from_item(item)).items():
                for name, value in counts.items():
                    recount[(pk, sk, name)] = recount.get((pk, sk, name), 0) + value
    stored = {(i["pk"]["S"], i["sk"]["S"], n): int(v["N"]) for i in items if i["pk"]["S"].startswith("AGG#")
              for n, v in i.items() if "N" in v and v["N"] != "0"}
    assert stored == {k: v for k, v in recount.items() if v}


def put_files(stack, prefix, count, data=b"plain text, nothing more\n"):
    s3, ids = stack.client("s3"), []
    for i in range(count):
        file_id = f"{prefix}{i:0{32 - len(prefix)}x}"
        s3.put_object(Bucket=stack.settings.bucket, Key=f"uploads/{OWNER}/{file_id}.txt", Body=data + bytes([i % 256]))
        ids.append(file_id)
    return ids


def wait_until(predicate, attempts=240, pause=0.25):
    for _ in range(attempts):  # bounded; no time is asserted
        if predicate():
            return True
        time.sleep(pause)
    return False


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(stack):
    """Injected: SIGKILL of the only worker process while it works through a burst."""
    ids = put_files(stack, "a1", 60)
    first = stack.start_worker("killed")
    assert wait_until(lambda: any(r.status.terminal for r in files_of(stack, "a1").values()), pause=0.05), \
        stack.log_tail("killed")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    done_before = sum(r.status.terminal for r in files_of(stack, "a1").values())
    second = stack.start_worker("restarted")
    try:
        assert wait_until(lambda: len(files_of(stack, "a1")) == 60
                          and all(r.status.terminal for r in files_of(stack, "a1").values())), \
            stack.log_tail("restarted")
    finally:
        processes.stop([second])
    records = files_of(stack, "a1")
    assert set(records) == set(ids)
    assert all(r.status is FileStatus.PROCESSED for r in records.values())
    assert done_before < 60  # the kill really happened mid-way
    assert_counters_match_recount(stack)


class _Throttled:
    """DynamoDB that refuses the first ``n`` transactions with throttling."""

    def __init__(self, real, n):
        self.real, self.left = real, n

    def __getattr__(self, name):
        return getattr(self.real, name)

    def transact_write_items(self, **kwargs):
        if self.left:
            self.left -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                              "TransactWriteItems")
        return self.real.transact_write_items(**kwargs)


def test_throttling_is_retried_and_the_file_is_processed_once(stack):
    """Injected: DynamoDB throttles the first three transactions; SQS redelivers the message."""
    (file_id,) = put_files(stack, "b2", 1)
    key = f"uploads/{OWNER}/{file_id}.txt"
    head = stack.client("s3").head_object(Bucket=stack.settings.bucket, Key=key)
    body = eventbridge_body(stack.settings.bucket, key, sequencer="00FF", size=head["ContentLength"],
                            version_id=head.get("VersionId", "null"))
    ddb = _Throttled(stack.client("dynamodb"), 3)
    deps = Deps(s3=stack.client("s3"), ddb=ddb, table=stack.settings.table)
    attempts = 0
    while True:  # what SQS does: deliver again until the handler succeeds
        attempts += 1
        try:
            process_message(body, attempts, deps)
            break
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert attempts == 4 and ddb.left == 0
    (record,) = files_of(stack, "b2").values()
    assert record.status is FileStatus.PROCESSED
    assert_counters_match_recount(stack)


class _BrokenS3:
    """S3 whose reads of one key always fail with a server error."""

    def __init__(self, real, key):
        self.real, self.key = real, key

    def __getattr__(self, name):
        return getattr(self.real, name)

    def get_object(self, **kwargs):
        if kwargs["Key"] == self.key:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "GetObject")
        return self.real.get_object(**kwargs)


def test_a_permanent_failure_reaches_the_dead_letter_queue_with_the_file_failed(stack):
    """Injected: every read of one object fails; the queue's redrive policy (5 receives) applies."""
    sqs = stack.client("sqs")
    for url in (stack.settings.queue_url, stack.settings.dlq_url):
        sqs.purge_queue(QueueUrl=url)
    (file_id,) = put_files(stack, "c3", 1)
    key = f"uploads/{OWNER}/{file_id}.txt"
    deps = Deps(s3=_BrokenS3(stack.client("s3"), key), ddb=stack.client("dynamodb"), table=stack.settings.table)

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            try:
                process_message(record["body"], int(record["attributes"]["ApproximateReceiveCount"]), deps)
            except ClientError:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    worker = Worker(sqs, stack.settings.queue_url, handler, region="us-east-1", wait_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        def in_dlq():
            attrs = sqs.get_queue_attributes(QueueUrl=stack.settings.dlq_url, AttributeNames=["All"])["Attributes"]
            return attrs["ApproximateNumberOfMessages"] == "1"
        assert wait_until(in_dlq, attempts=200, pause=0.25)
    finally:
        stop.set()
        thread.join(timeout=15)
    (record,) = files_of(stack, "c3").values()
    assert record.status is FileStatus.FAILED
    assert record.reason == "processing failed 5 times; last error: InternalError from AWS"
    assert_counters_match_recount(stack)
