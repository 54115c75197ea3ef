import json

import pytest

from extractor.events import InvalidEvent, parse_message
from tests.helpers.events import eventbridge_body


def test_eventbridge_object_created_as_aws_documents_it():
    body = eventbridge_body("bucket", "uploads/o/a.pdf", sequencer="617f08299329d189", size=5,
                            etag="b1946ac92492d2347c6235b4d2611184", version_id="IYV3p45BT0ac8hjHg1houSdS1a")
    (event,) = parse_message(body)
    assert event.ref.bucket == "bucket"
    assert event.ref.key == "uploads/o/a.pdf"
    assert event.ref.size == 5
    assert event.ref.etag == "b1946ac92492d2347c6235b4d2611184"
    assert event.ref.version_id == "IYV3p45BT0ac8hjHg1houSdS1a"
    assert event.ref.sequencer == "617f08299329d189"


def test_url_encoded_keys_are_decoded_and_the_raw_key_kept_as_a_fallback():
    (event,) = parse_message(eventbridge_body("b", "uploads/o/my+report%281%29.pdf", sequencer="1"))
    assert event.ref.key == "uploads/o/my report(1).pdf"
    assert event.candidate_keys == ("uploads/o/my report(1).pdf", "uploads/o/my+report%281%29.pdf")
    (plain,) = parse_message(eventbridge_body("b", "uploads/o/plain.pdf", sequencer="1"))
    assert plain.candidate_keys == ("uploads/o/plain.pdf",)


def test_unversioned_objects_have_no_version_id():
    (event,) = parse_message(eventbridge_body("b", "uploads/o/a", sequencer="1", version_id="null"))
    assert event.ref.version_id == ""


def test_s3_notification_shape_is_accepted():
    body = json.dumps({"Records": [{
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "b"}, "object": {"key": "uploads/o/a+b.pdf", "size": 3,
                                                   "eTag": "\"e\"", "sequencer": "0055AED6DCD90281E5"}},
    }]})
    (event,) = parse_message(body)
    assert event.ref.key == "uploads/o/a b.pdf"
    assert event.ref.etag == "e"


def test_s3_test_event_carries_no_object():
    assert parse_message(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []


@pytest.mark.parametrize("body", [
    "not json", "[]", "{}",
    json.dumps({"source": "aws.s3", "detail-type": "Object Restore Completed", "detail": {}}),
    json.dumps({"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {}}}),
    json.dumps({"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {}}]}),
])
def test_anything_else_is_an_invalid_event(body):
    with pytest.raises(InvalidEvent):
        parse_message(body)


def _deleted(reason: str) -> str:
    body = json.loads(eventbridge_body("b", "uploads/o/a.pdf", sequencer="20"))
    body["detail-type"] = "Object Deleted"
    body["detail"]["reason"] = reason
    body["detail"]["deletion-type"] = "Permanently Deleted"
    return json.dumps(body)


def test_lifecycle_expirations_are_expiry_events():
    (event,) = parse_message(_deleted("Lifecycle Expiration"))
    assert event.expired and event.ref.key == "uploads/o/a.pdf" and event.ref.sequencer == "20"


def test_other_deletions_are_ignored():
    assert parse_message(_deleted("DeleteObject")) == []
