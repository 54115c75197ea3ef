"""The extractor's I/O against the template provisioned in moto (in-process)."""

import json
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.aggregates import contributions
from common.schema.keys import ORIGINAL_NAME_META, duplicate_key, file_key, parse_upload_key
from common.schema.record import from_item, marker_files
from extractor.events import parse_message
from extractor.processor import Deps, Outcome, process_message, process_object
from tests.helpers.events import aws_sequencers, eventbridge_body
from tests.helpers.files import tiny_pdf
from tests.helpers.records import portal_item
from tests.helpers.tables import every_item

OWNER = "3f1c2b9e-1111-4222-8333-444455556666"


def deps(settings, **kw) -> Deps:
    return Deps(s3=aws.client("s3"), ddb=aws.client("dynamodb"), table=settings.table, **kw)


def put(settings, key: str, data: bytes, name: str = "") -> dict[str, Any]:
    meta = {ORIGINAL_NAME_META: name} if name else {}
    return aws.client("s3").put_object(Bucket=settings.bucket, Key=key, Body=data, Metadata=meta)


def item(settings, file_id: str) -> dict[str, Any]:
    return aws.client("dynamodb").get_item(TableName=settings.table, Key=file_key(file_id))["Item"]


def body_for(settings, key, response, sequencer, data) -> str:
    return eventbridge_body(settings.bucket, key, sequencer=sequencer, size=len(data),
                            etag=response["ETag"].strip('"'), version_id=response.get("VersionId", "null"))


def test_a_direct_upload_is_processed_with_size_hash_and_type(stack):
    data = tiny_pdf()
    key = f"uploads/{OWNER}/{'a' * 32}.pdf"
    response = put(stack, key, data, name="Q3%20report.pdf")
    outcomes = process_message(body_for(stack, key, response, "0A1", data), 1, deps(stack))
    assert outcomes == [Outcome.PROCESSED]
    record = from_item(item(stack, "a" * 32))
    assert record.status is FileStatus.PROCESSED
    assert record.name == "Q3 report.pdf"
    assert record.owner == OWNER
    assert record.size == len(data)
    assert record.sha256 == __import__("hashlib").sha256(data).hexdigest()
    assert (record.mime_type, record.format, record.extension) == ("application/pdf", "pdf", "pdf")
    assert record.version_id == response["VersionId"]


def test_duplicates_leave_the_item_byte_identical(stack):
    data = tiny_pdf()
    key = f"uploads/{OWNER}/{'b' * 32}.pdf"
    body = body_for(stack, key, put(stack, key, data), "0A1", data)
    assert process_message(body, 1, deps(stack)) == [Outcome.PROCESSED]
    before = item(stack, "b" * 32)
    assert process_message(body, 2, deps(stack)) == [Outcome.SKIPPED]
    assert item(stack, "b" * 32) == before


def test_an_older_event_never_overwrites_a_newer_result(stack):
    key = f"uploads/{OWNER}/{'c' * 32}.txt"
    old = put(stack, key, b"old text")
    new = put(stack, key, b"new text, longer")
    newer_body = body_for(stack, key, new, "00000000000000FF", b"new text, longer")
    older_body = body_for(stack, key, old, "FE", b"old text")  # shorter but smaller: compare padded
    assert process_message(newer_body, 1, deps(stack)) == [Outcome.PROCESSED]
    assert process_message(older_body, 1, deps(stack)) == [Outcome.SKIPPED]
    record = from_item(item(stack, "c" * 32))
    assert record.size == len(b"new text, longer")
    assert record.version_id == new["VersionId"]


def test_a_file_deleted_before_processing_fails_with_a_reason(stack):
    key = f"uploads/{OWNER}/{'d' * 32}.pdf"
    response = put(stack, key, b"%PDF-1.4")
    aws.client("s3").delete_object(Bucket=stack.bucket, Key=key, VersionId=response["VersionId"])
    assert process_message(body_for(stack, key, response, "1", b"%PDF-1.4"), 1, deps(stack)) == [Outcome.FAILED]
    record = from_item(item(stack, "d" * 32))
    assert record.status is FileStatus.FAILED
    assert record.reason == "the file was deleted before it could be processed"


def test_a_raw_key_with_plus_is_found_when_the_decoded_one_does_not_exist(stack):
    key = f"uploads/{OWNER}/a+b.txt"
    response = put(stack, key, b"hello")
    (outcome,) = process_message(body_for(stack, key, response, "1", b"hello"), 1, deps(stack))
    assert outcome is Outcome.PROCESSED
    file_id = parse_upload_key(stack.bucket, key).file_id
    assert from_item(item(stack, file_id)).key == key


def test_objects_outside_the_uploads_layout_are_skipped(stack):
    response = put(stack, "elsewhere/x.txt", b"x")
    body = body_for(stack, "elsewhere/x.txt", response, "1", b"x")
    assert process_message(body, 1, deps(stack)) == [Outcome.SKIPPED]


class _FlakyS3:
    """S3 whose GetObject is throttled; everything else is the real (moto) client."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def get_object(self, **kwargs):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "GetObject")


def test_transient_errors_are_retried_then_end_as_failed_on_the_last_delivery(stack):
    key = f"uploads/{OWNER}/{'e' * 32}.pdf"
    body = body_for(stack, key, put(stack, key, b"%PDF-1.4"), "1", b"%PDF-1.4")
    flaky = Deps(s3=_FlakyS3(aws.client("s3")), ddb=aws.client("dynamodb"), table=stack.table,
                 max_receive_count=3)
    (event,) = parse_message(body)
    for delivery in (1, 2):
        with pytest.raises(ClientError):
            process_object(event, delivery, flaky)
        record = from_item(item(stack, "e" * 32))
        assert (record.status, record.reason, record.interrupted) == (
            FileStatus.PROCESSING, "retrying after an error: SlowDown from AWS", None)  # ended, with a word
    with pytest.raises(ClientError):  # the last delivery tries again, then the message goes to the DLQ
        process_object(event, 3, flaky)
    record = from_item(item(stack, "e" * 32))
    assert record.status is FileStatus.FAILED
    assert record.reason == "processing failed 3 times; last error: SlowDown from AWS"


def test_a_transient_error_on_a_first_and_last_delivery_still_ends_the_file_failed(stack):
    key = f"uploads/{OWNER}/{'e' * 31}1.pdf"
    body = body_for(stack, key, put(stack, key, b"%PDF-1.4"), "1", b"%PDF-1.4")
    flaky = Deps(s3=_FlakyS3(aws.client("s3")), ddb=aws.client("dynamodb"), table=stack.table,
                 max_receive_count=1)
    with pytest.raises(ClientError):
        process_message(body, 1, flaky)
    record = from_item(item(stack, "e" * 31 + "1"))
    assert (record.status, record.reason) == (FileStatus.FAILED, "processing failed 1 time; last error: SlowDown from AWS")


class _Killed(BaseException):
    """What a process killed by SIGKILL or the OOM killer runs afterwards: nothing (no handler catches this)."""


def test_a_file_that_kills_every_delivery_ends_failed_on_the_last_one_without_being_parsed(stack, monkeypatch):
    key = f"uploads/{OWNER}/{'7' * 32}.zip"
    data = b"PK\x05\x06" + b"\x00" * 18
    body = body_for(stack, key, put(stack, key, data), "0A", data)
    parses = []

    def kills_the_process(*args, **kwargs):
        parses.append(1)
        raise _Killed()

    monkeypatch.setattr("extractor.processor.extract_file", kills_the_process)
    for delivery in (1, 2, 3, 4):
        with pytest.raises(_Killed):
            process_message(body, delivery, deps(stack))
        assert from_item(item(stack, "7" * 32)).status is FileStatus.PROCESSING
    assert process_message(body, 5, deps(stack)) == [Outcome.FAILED]
    assert len(parses) == 4, "the last delivery parsed the file again"
    record = from_item(item(stack, "7" * 32))
    assert record.status is FileStatus.FAILED
    assert record.reason == ("processing was interrupted 4 times: the file may need more memory or time "
                             "than the extractor has")
    counts = {}
    for cell in contributions(record).values():
        counts.update(cell)
    assert counts["status_failed"] == 1 and counts["reason_processing was interrupted 4 times"] == 1


def test_the_last_delivery_of_a_file_no_delivery_claimed_before_still_parses_it(stack):
    data = tiny_pdf()
    key = f"uploads/{OWNER}/{'8' * 32}.pdf"
    assert process_message(body_for(stack, key, put(stack, key, data), "0B", data), 5, deps(stack)) == [
        Outcome.PROCESSED]


def test_the_last_delivery_of_a_finished_file_changes_nothing(stack):
    data = tiny_pdf()
    key = f"uploads/{OWNER}/{'6' * 32}.pdf"
    body = body_for(stack, key, put(stack, key, data), "0C", data)
    assert process_message(body, 1, deps(stack)) == [Outcome.PROCESSED]
    before = item(stack, "6" * 32)
    assert process_message(body, 5, deps(stack)) == [Outcome.SKIPPED]
    assert item(stack, "6" * 32) == before


def test_a_parser_crash_fails_the_file_with_a_readable_reason(stack, monkeypatch):
    def boom(*args, **kwargs):
        raise RecursionError("deep")

    monkeypatch.setattr("extractor.extract.detect", boom)
    key = f"uploads/{OWNER}/{'f' * 32}.json"
    body = body_for(stack, key, put(stack, key, b"[[[[]]]]"), "1", b"[[[[]]]]")
    assert process_message(body, 1, deps(stack)) == [Outcome.FAILED]
    assert from_item(item(stack, "f" * 32)).reason == "the file's metadata could not be read (RecursionError)"


class _StaleMarkerOnce:
    """DynamoDB whose first read of a duplicate marker answers as if it were still empty."""

    def __init__(self, real):
        self.real = real
        self.stale_reads = 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def get_item(self, **kwargs):
        if kwargs["Key"]["pk"]["S"].startswith("DUP#") and not self.stale_reads:
            self.stale_reads += 1
            return {}
        return self.real.get_item(**kwargs)


def test_two_copies_finishing_at_once_still_flag_the_second(stack):
    data = b"the same bytes in two files"
    bodies = []
    for file_id in ("1" * 32, "2" * 32):
        key = f"uploads/{OWNER}/{file_id}.bin"
        bodies.append(body_for(stack, key, put(stack, key, data), "1", data))
    assert process_message(bodies[0], 1, deps(stack)) == [Outcome.PROCESSED]
    racing = Deps(s3=aws.client("s3"), ddb=_StaleMarkerOnce(aws.client("dynamodb")), table=stack.table)
    assert process_message(bodies[1], 1, racing) == [Outcome.PROCESSED]
    assert racing.ddb.stale_reads == 1  # it did decide once on the stale marker, and was made to look again
    assert from_item(item(stack, "1" * 32)).flags == ()
    assert from_item(item(stack, "2" * 32)).flags == ("duplicate",)
    marker = aws.client("dynamodb").get_item(TableName=stack.table, Key=duplicate_key(
        OWNER, from_item(item(stack, "1" * 32)).sha256))["Item"]
    assert marker_files(marker) == {"1" * 32, "2" * 32}


def test_a_lifecycle_expiry_marks_the_file_expired_and_keeps_its_metadata(stack):
    import json

    data = tiny_pdf()
    key = f"uploads/{OWNER}/{'9' * 32}.pdf"
    assert process_message(body_for(stack, key, put(stack, key, data), "10", data), 1, deps(stack)) == [Outcome.PROCESSED]
    before = from_item(item(stack, "9" * 32))
    expiry = json.loads(eventbridge_body(stack.bucket, key, sequencer="20"))
    expiry["detail-type"], expiry["detail"]["reason"] = "Object Deleted", "Lifecycle Expiration"
    assert process_message(json.dumps(expiry), 1, deps(stack)) == [Outcome.EXPIRED]
    after = from_item(item(stack, "9" * 32))
    assert after.status is FileStatus.EXPIRED
    assert (after.sha256, after.metadata, after.size) == (before.sha256, before.metadata, before.size)
    assert process_message(json.dumps(expiry), 2, deps(stack)) == [Outcome.SKIPPED]  # a duplicate changes nothing
    stale = body_for(stack, key, {"ETag": '"e"', "VersionId": "v"}, "15", data)
    assert process_message(stale, 1, deps(stack)) == [Outcome.SKIPPED]  # nor does an older creation
    counts = {}
    for cell in contributions(after).values():
        counts.update(cell)
    assert counts["status_expired"] == 1 and "status_processed" not in counts


# --- an object whose key is not the file's -----------------------------------------

OTHER = "99999999-1111-4222-8333-444455556666"


def expiry_of(body: str) -> str:
    event = json.loads(body)
    event["detail-type"], event["detail"]["reason"] = "Object Deleted", "Lifecycle Expiration"
    return json.dumps(event)


@pytest.mark.parametrize("foreign_key", [f"uploads/{OTHER}/{'5' * 32}.pdf", f"uploads/{OWNER}/{'5' * 32}.txt"],
                         ids=["another owner's folder", "another extension"])
def test_an_object_at_another_key_never_changes_a_processed_file(stack, foreign_key):
    sequencers = aws_sequencers()
    key = f"uploads/{OWNER}/{'5' * 32}.pdf"
    own = tiny_pdf("the owner's own words")
    assert process_message(body_for(stack, key, put(stack, key, own), next(sequencers), own), 1,
                           deps(stack)) == [Outcome.PROCESSED]
    before = every_item(stack.table)
    foreign = b"%PDF-1.4 someone else's content"
    body = body_for(stack, foreign_key, put(stack, foreign_key, foreign), next(sequencers), foreign)
    assert process_message(body, 1, deps(stack)) == [Outcome.SKIPPED]
    assert process_message(body, 5, deps(stack)) == [Outcome.SKIPPED]  # the last delivery too
    assert process_message(expiry_of(body), 1, deps(stack)) == [Outcome.SKIPPED]
    assert every_item(stack.table) == before  # the item, its counters and its duplicate marker


def test_an_object_at_another_key_neither_claims_a_new_file_nor_hides_its_own_event(stack):
    """The foreign event comes first, with the larger sequencer: sequencers of two keys say nothing."""
    sequencers = aws_sequencers()
    file_id = "4" * 32
    uploaded = replace(portal_item(file_id, OWNER), bucket=stack.bucket, key=f"uploads/{OWNER}/{file_id}.pdf")
    aws.client("dynamodb").put_item(**requests.put_new_file(stack.table, uploaded))
    own, foreign = tiny_pdf("mine"), b"%PDF-1.4 not mine"
    own_body = body_for(stack, uploaded.key, put(stack, uploaded.key, own), next(sequencers), own)
    foreign_key = f"uploads/{OTHER}/{file_id}.pdf"
    foreign_body = body_for(stack, foreign_key, put(stack, foreign_key, foreign), next(sequencers), foreign)
    assert process_message(foreign_body, 1, deps(stack)) == [Outcome.SKIPPED]
    assert from_item(item(stack, file_id)).status is FileStatus.UPLOADED
    assert process_message(own_body, 1, deps(stack)) == [Outcome.PROCESSED]
    record = from_item(item(stack, file_id))
    assert (record.key, record.owner, record.size) == (uploaded.key, OWNER, len(own))
