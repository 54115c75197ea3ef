"""The local stand-in for Lambda's SQS event source mapping.

It long-polls the extraction queue, hands each batch to the very handler
Lambda runs (``extractor.handler.lambda_handler``) in the exact SQS event
shape Lambda uses, and deletes only the messages the handler did not report
in ``batchItemFailures``; the rest become visible again after the queue's
visibility timeout and are retried, then moved to the dead-letter queue by
the queue's redrive policy, just as on AWS.

Under ``make run`` each worker also keeps a record of the batch it holds
(:class:`InFlight`): when a worker dies mid-batch, the supervisor hands that
batch back to the queue at once (:func:`return_batch`) instead of letting it
wait out the visibility timeout (six minutes), as Lambda would replace a
crashed invocation with the next.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Mapping[str, Any] | None]


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object that handlers read."""

    function_name: str = "docportal-local-extractor"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:docportal-local-extractor"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_seconds: int = 60
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (simulated) timeout."""
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def _message_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """SQS API message attributes in the camel-case shape Lambda delivers."""
    return {
        name: {
            "stringValue": a.get("StringValue"), "binaryValue": a.get("BinaryValue"),
            "stringListValues": a.get("StringListValues", []),
            "binaryListValues": a.get("BinaryListValues", []), "dataType": a.get("DataType"),
        }
        for name, a in attrs.items()
    }


def lambda_event(messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from received SQS messages."""
    return {"Records": [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": dict(m.get("Attributes", {})),
            "messageAttributes": _message_attributes(m.get("MessageAttributes", {})),
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for m in messages
    ]}


@dataclass(frozen=True)
class InFlight:
    """Where a worker records the receipt handles of the batch it is working on."""

    path: Path

    @classmethod
    def of(cls, folder: Path, pid: int) -> InFlight:
        """The record of worker process ``pid`` in ``folder``."""
        return cls(folder / f"worker-{pid}.json")

    def hold(self, queue_url: str, messages: Iterable[Mapping[str, Any]]) -> None:
        """Record a batch before working on it (written whole or not at all)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        receipts = [m["ReceiptHandle"] for m in messages]
        tmp.write_text(json.dumps({"queue_url": queue_url, "receipts": receipts}))
        tmp.replace(self.path)

    def release(self) -> None:
        """The batch is done with (deleted, or left to the visibility timeout as Lambda leaves it)."""
        self.path.unlink(missing_ok=True)


def return_batch(sqs: Any, record: InFlight) -> int:
    """Make the messages of a dead worker's batch visible again; how many came back.

    Messages it already deleted are not there to come back. The record is
    removed either way.
    """
    try:
        data = json.loads(record.path.read_text())
    except (FileNotFoundError, ValueError):
        return 0
    returned = 0
    receipts = list(data.get("receipts", []))
    try:
        for start in range(0, len(receipts), 10):
            result = sqs.change_message_visibility_batch(QueueUrl=data["queue_url"], Entries=[
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for i, handle in enumerate(receipts[start:start + 10])])
            returned += len(result.get("Successful", []))
    finally:
        record.release()
    return returned


class Worker:
    """Feeds SQS batches to a Lambda handler, as the event source mapping does."""

    def __init__(self, sqs: Any, queue_url: str, handler: Handler, *, region: str,
                 batch_size: int = 10, wait_seconds: int = 2, in_flight: InFlight | None = None) -> None:
        self.sqs = sqs
        self.in_flight = in_flight
        self.queue_url = queue_url
        self.handler = handler
        self.region = region
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn", "VisibilityTimeout"])
        self.queue_arn = attrs["Attributes"]["QueueArn"]
        self.timeout_seconds = int(attrs["Attributes"]["VisibilityTimeout"]) // 6 or 1

    def poll_once(self) -> int:
        """Receive one batch, run the handler, delete what succeeded; returns the batch size."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds, AttributeNames=["All"],
            MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        if self.in_flight is None:
            return self._handle(messages)
        self.in_flight.hold(self.queue_url, messages)
        try:
            return self._handle(messages)
        finally:
            self.in_flight.release()

    def _handle(self, messages: list[dict[str, Any]]) -> int:
        event = lambda_event(messages, self.queue_arn, self.region)
        try:
            response = self.handler(event, LambdaContext(timeout_seconds=self.timeout_seconds)) or {}
        except Exception:
            # As with Lambda: a handler that raises fails the whole batch.
            logger.exception("handler raised; all %d messages will be retried", len(messages))
            return len(messages)
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            result = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
            for failure in result.get("Failed", []):
                logger.error("could not delete a processed message: %s", failure)
        if failed:
            logger.warning("%d of %d messages failed and will be retried", len(failed), len(messages))
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; errors talking to SQS are logged and retried."""
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("polling the queue failed; retrying shortly")
                stop.wait(1.0)


def run_every(interval: float, job: Callable[[], object], stop: threading.Event) -> None:
    """Run ``job`` now and every ``interval`` seconds until ``stop`` is set: the local EventBridge schedule.

    A run that raises is logged and the next one still comes, as a failed
    scheduled Lambda invocation does not stop its rule.
    """
    while not stop.is_set():
        try:
            job()
        except Exception:
            logger.exception("a scheduled job failed; it runs again in %.0f s", interval)
        stop.wait(interval)
