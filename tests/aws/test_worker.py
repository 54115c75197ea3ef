"""The local worker: Lambda's SQS event shape, and deleting only what succeeded."""

import threading

from common import aws
from devstack.worker import LambdaContext, Worker, lambda_event, run_every


def test_lambda_event_has_the_shape_lambda_delivers():
    message = {"MessageId": "m1", "ReceiptHandle": "h1", "Body": "{}", "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
               "Attributes": {"ApproximateReceiveCount": "2"},
               "MessageAttributes": {"a": {"StringValue": "x", "DataType": "String"}}}
    (record,) = lambda_event([message], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")["Records"]
    assert record == {
        "messageId": "m1", "receiptHandle": "h1", "body": "{}",
        "attributes": {"ApproximateReceiveCount": "2"},
        "messageAttributes": {"a": {"stringValue": "x", "binaryValue": None, "stringListValues": [],
                                    "binaryListValues": [], "dataType": "String"}},
        "md5OfBody": "99914b932bd37a50b983c5e7c90ae93b", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1",
    }


def _visible_and_in_flight(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_only_messages_not_reported_as_failed_are_deleted(stack):
    sqs = aws.client("sqs")
    for body in ("ok-1", "fail", "ok-2"):
        sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)
    seen = []

    def handler(event, context):
        assert isinstance(context, LambdaContext)
        seen.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in event["Records"] if r["body"] == "fail"]}

    worker = Worker(sqs, stack.queue_url, handler, region="us-east-1", wait_seconds=0)
    assert worker.poll_once() == 3
    assert sorted(seen) == ["fail", "ok-1", "ok-2"]
    assert _visible_and_in_flight(sqs, stack.queue_url) == (0, 1)  # "fail" waits to be retried


def test_a_handler_that_raises_deletes_nothing(stack):
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody="x")

    def handler(event, context):
        raise RuntimeError("crash")

    worker = Worker(sqs, stack.queue_url, handler, region="us-east-1", wait_seconds=0)
    assert worker.poll_once() == 1
    assert _visible_and_in_flight(sqs, stack.queue_url) == (0, 1)


def test_the_worker_takes_its_timeout_from_the_queue_and_stops_when_asked(stack):
    worker = Worker(aws.client("sqs"), stack.queue_url, lambda e, c: {}, region="us-east-1", wait_seconds=0)
    assert worker.timeout_seconds == 60  # the template's visibility timeout (360 s) / 6
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_scheduled_job_runs_at_once_then_again_and_survives_its_failures():
    stop, runs = threading.Event(), []

    def job() -> None:
        runs.append(len(runs))
        if len(runs) == 3:
            stop.set()
        if len(runs) == 1:
            raise RuntimeError("the first run fails")

    run_every(0.0, job, stop)  # returns once the job has set stop
    assert runs == [0, 1, 2]
    stopped = threading.Event()
    stopped.set()
    run_every(0.0, lambda: runs.append("never"), stopped)
    assert runs == [0, 1, 2]
