"""Parse the S3 events that reach the extractor through SQS.

"Object Created" events start extraction; "Object Deleted" events caused by
the bucket's lifecycle rule mark a file expired (its metadata is kept).

The supported path is S3 -> EventBridge -> SQS, whose message body is the
EventBridge event. S3's own notification shape (``Records[].s3``), which S3
sends straight to SQS, is accepted too so that either wiring works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_plus

from common.schema.record import ObjectRef


class InvalidEvent(ValueError):
    """A message that is not an S3 object-created event we can act on."""


@dataclass(frozen=True)
class ObjectCreated:
    """One announced object version, with its key as decoded and as sent.

    S3 notifications URL-encode keys; EventBridge events may not. The decoded
    key is tried first and the raw one when that object does not exist.
    """

    ref: ObjectRef
    raw_key: str
    #: True for a deletion by the bucket's lifecycle rule (retention expired).
    expired: bool = False

    @property
    def candidate_keys(self) -> tuple[str, ...]:
        """Keys to try, most likely first, without repeats."""
        return tuple(dict.fromkeys((self.ref.key, self.raw_key)))


def parse_message(body: str) -> list[ObjectCreated]:
    """Object versions announced by one SQS message body.

    Keys arrive URL-encoded in S3 notifications (``+`` for space) and are
    decoded here. An S3 test event yields no objects.

    Raises
    ------
    InvalidEvent
        When the body is not JSON or not an object-created event.
    """
    try:
        event = json.loads(body)
    except (TypeError, ValueError) as e:
        raise InvalidEvent("message body is not JSON") from e
    if not isinstance(event, dict):
        raise InvalidEvent("message body is not a JSON object")
    if event.get("Event") == "s3:TestEvent":
        return []
    detail = event.get("detail")
    if event.get("detail-type") == "Object Deleted" and isinstance(detail, dict) \
            and detail.get("reason") != "Lifecycle Expiration":
        return []  # only the retention rule's deletions matter here
    if "detail" in event:
        return [_from_eventbridge(event)]
    if "Records" in event:
        return [_from_notification(r) for r in event["Records"]]
    raise InvalidEvent("message is neither an EventBridge nor an S3 notification event")


def _from_eventbridge(event: dict[str, Any]) -> ObjectCreated:
    kind = event.get("detail-type")
    if event.get("source") != "aws.s3" or kind not in ("Object Created", "Object Deleted"):
        raise InvalidEvent(f"unexpected event {event.get('source')!r}/{kind!r}")
    detail = event["detail"]
    try:
        created = _ref(detail["bucket"]["name"], detail["object"])
        return created if kind == "Object Created" else replace(created, expired=True)
    except (KeyError, TypeError) as e:
        raise InvalidEvent(f"EventBridge S3 event lacks {e}") from e


def _from_notification(record: dict[str, Any]) -> ObjectCreated:
    name = str(record.get("eventName", ""))
    if not name.startswith("ObjectCreated:"):
        raise InvalidEvent(f"unexpected S3 notification {name!r}")
    try:
        return _ref(record["s3"]["bucket"]["name"], record["s3"]["object"])
    except (KeyError, TypeError) as e:
        raise InvalidEvent(f"S3 notification lacks {e}") from e


def _ref(bucket: str, obj: dict[str, Any]) -> ObjectCreated:
    version = obj.get("version-id", obj.get("versionId")) or ""
    raw_key = str(obj["key"])
    ref = ObjectRef(
        bucket=bucket,
        key=unquote_plus(raw_key),
        size=int(obj.get("size", 0)),
        etag=str(obj.get("eTag", obj.get("etag", ""))).strip('"'),
        version_id="" if version == "null" else str(version),
        sequencer=str(obj["sequencer"]),
    )
    return ObjectCreated(ref=ref, raw_key=raw_key)
