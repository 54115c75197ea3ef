"""Events as AWS delivers them: S3's EventBridge event in an SQS body, and Lambda's SQS record."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any


def eventbridge_body(bucket: str, key: str, *, sequencer: str, size: int = 0, etag: str = "e",
                     version_id: str = "v1") -> str:
    """An SQS body carrying S3's EventBridge "Object Created" event, as AWS documents it."""
    event: dict[str, Any] = {
        "version": "0", "id": f"id-{sequencer}", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-11-22T10:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0", "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag, "version-id": version_id,
                       "sequencer": sequencer},
            "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
            "source-ip-address": "1.2.3.4", "reason": "PutObject",
        },
    }
    return json.dumps(event)


def sqs_record(body: str, message_id: str, receive_count: int = 1) -> dict[str, Any]:
    """One record of Lambda's SQS event, as AWS documents it."""
    return {
        "messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1795317244640",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1795317244656"},
        "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:docportal-local-extract",
        "awsRegion": "us-east-1",
    }


def aws_sequencers(first: int = 0x0062E99A88DC407460) -> Iterator[str]:
    """Sequencers shaped as S3 sends them (18 hex digits), distinct and increasing in the order drawn.

    S3 orders sequencers only within one key; these increase across keys as
    well, as two keys' real sequencers often do, so nothing may compare them
    across keys.
    """
    return (f"{n:018X}" for n in itertools.count(first, 0x1000))


def object_created(s3: Any, bucket: str, key: str, sequencer: str) -> str:
    """The SQS body S3's EventBridge event would carry for the key's current version, read from S3."""
    head = s3.head_object(Bucket=bucket, Key=key)
    return eventbridge_body(bucket, key, sequencer=sequencer, size=head["ContentLength"],
                            etag=head["ETag"].strip('"'), version_id=head["VersionId"])
