"""devstack.moto_server: receiving a message costs one pass over the queue, not one per message received.

moto's ``ReceiveMessage`` checks every received message's retention period
by reading all the queue's attributes, three of which count the queue's
messages: a batch of 10 from a queue of 8,000 walked it 31 times, about
2 s on the shared machine. With a backlog, the worker and every snapshot of
``make run`` waited on that. SQS itself does not slow down with depth.
"""

import boto3
import pytest
from moto import mock_aws
from moto.sqs import models

from devstack import moto_server

pytestmark = pytest.mark.e2e
DEPTH = 500


def test_a_receive_from_a_deep_queue_looks_at_each_message_about_once(monkeypatch):
    moto_server.patch()
    looked = []
    visible = models.Message.visible
    monkeypatch.setattr(models.Message, "visible", property(lambda m: looked.append(1) or visible.fget(m)))
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        url = sqs.create_queue(QueueName="deep", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        for start in range(0, DEPTH, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"}
                                                          for i in range(10)])
        looked.clear()
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10
    assert len(looked) <= 2 * DEPTH


def test_messages_past_their_retention_period_are_still_not_delivered(monkeypatch):
    moto_server.patch()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="old")
        queue = models.sqs_backends["123456789012"]["us-east-1"].get_queue("short")
        queue._messages[0].sent_timestamp -= 120_000  # sent two minutes ago
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
