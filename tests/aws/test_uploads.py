"""The portal's file I/O against moto (in-process)."""

import io
import random
import threading
import time

import pytest
from botocore.exceptions import ClientError

from common import aws
from common.catalogue import FileStatus
from common.schema.keys import ORIGINAL_NAME_META, UPLOAD_PREFIX, file_key
from common.schema.record import from_item
from devstack.worker import Worker
from extractor.handler import lambda_handler
from portal.access import NotAllowed, User
from portal.files.actions import delete_file
from portal.files.uploads import UploadError, store_upload
from tests.helpers.files import tiny_pdf
from tests.helpers.tables import files_of

ALICE = User(sub="aaaaaaaa-1111-4222-8333-444455556666", email="alice@example.com",
             groups=frozenset({"uploaders"}), expires_at=2**40)
BOB = User(sub="bbbbbbbb-1111-4222-8333-444455556666", email="bob@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)


NOBODY = User(sub="cccccccc-1111-4222-8333-444455556666", email="carol@example.com",
              groups=frozenset({"visitors"}), expires_at=2**40)
ADMIN = User(sub="dddddddd-1111-4222-8333-444455556666", email="admin@example.com",
             groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
MiB = 1024 * 1024


def upload(settings, user, name, data=b"%PDF-1.4 x", s3=None, **kw):
    return store_upload(user=user, name=name, body=io.BytesIO(data), content_type="application/pdf",
                        s3=s3 or aws.client("s3"), ddb=aws.client("dynamodb"), settings=settings, **kw)


def stored(settings, file_id):
    item = aws.client("dynamodb").get_item(TableName=settings.table, Key=file_key(file_id))["Item"]
    return from_item(item)


def run_extractor(settings) -> int:
    """Deliver what EventBridge put on the queue to the Lambda handler, as the worker does."""
    worker = Worker(aws.client("sqs"), settings.queue_url, lambda_handler, region="us-east-1", wait_seconds=0)
    delivered = 0
    while batch := worker.poll_once():
        delivered += batch
    return delivered


def queue_depth(settings) -> tuple[int, int]:
    attrs = aws.client("sqs").get_queue_attributes(QueueUrl=settings.queue_url, AttributeNames=["All"])
    return (int(attrs["Attributes"]["ApproximateNumberOfMessages"]),
            int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"]))


def object_count(settings) -> int:
    return aws.client("s3").list_objects_v2(Bucket=settings.bucket, Prefix=UPLOAD_PREFIX)["KeyCount"]


def test_upload_stores_object_under_owner_prefix_and_item_as_uploaded(stack):
    record = upload(stack, ALICE, "../../Q3 rapport été.pdf")
    assert record.key == f"uploads/{ALICE.sub}/{record.file_id}.pdf"
    head = aws.client("s3").head_object(Bucket=stack.bucket, Key=record.key)
    assert head["Metadata"][ORIGINAL_NAME_META] == "..%2F..%2FQ3%20rapport%20%C3%A9t%C3%A9.pdf"
    item = aws.client("dynamodb").get_item(TableName=stack.table, Key=file_key(record.file_id))["Item"]
    stored = from_item(item)
    assert stored.status is FileStatus.UPLOADED
    assert stored.name == "../../Q3 rapport été.pdf"
    assert (stored.owner, stored.owner_email) == (ALICE.sub, ALICE.email)


class _BrokenS3:
    def upload_fileobj(self, *args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")


def test_a_failed_object_upload_ends_the_item_as_failed(stack):
    with pytest.raises(UploadError, match="did not complete"):
        upload(stack, ALICE, "a.pdf", s3=_BrokenS3())
    (record,) = files_of(stack.table, ALICE.sub)
    assert record.status is FileStatus.FAILED
    assert record.reason == "the upload did not complete; please upload the file again"


def test_users_list_only_their_own_files_newest_first(stack):
    first = upload(stack, ALICE, "first.pdf")
    time.sleep(0.01)
    second = upload(stack, ALICE, "second.pdf")
    upload(stack, BOB, "bobs.pdf")
    mine = files_of(stack.table, ALICE.sub)
    assert [r.file_id for r in mine] == [second.file_id, first.file_id]
    assert [r.name for r in files_of(stack.table, BOB.sub)] == ["bobs.pdf"]


def test_tags_and_notes_are_stored_and_survive_extraction(stack):
    record = upload(stack, ALICE, "q3.pdf", data=tiny_pdf(), tags=[" Q3 ", "Finance", "q3"],
                    notes="Board pack\r\nsecond line\x07")
    assert (record.tags, record.notes) == (("q3", "finance"), "Board pack\nsecond line")
    assert (stored(stack, record.file_id).tags, stored(stack, record.file_id).notes) == (record.tags, record.notes)
    assert run_extractor(stack) >= 1
    done = stored(stack, record.file_id)
    assert done.status is FileStatus.PROCESSED
    assert done.metadata["pages"] == 1
    assert (done.tags, done.notes) == (("q3", "finance"), "Board pack\nsecond line")


def test_refused_tags_store_nothing(stack):
    with pytest.raises(UploadError, match="at most 10 tags"):
        upload(stack, ALICE, "a.pdf", tags=[f"t{i}" for i in range(11)])
    with pytest.raises(UploadError, match="the limit is 1,000"):
        upload(stack, ALICE, "a.pdf", notes="x" * 1001)
    assert files_of(stack.table, ALICE.sub) == []
    assert object_count(stack) == 0


def test_a_user_without_a_role_cannot_upload(stack):
    with pytest.raises(NotAllowed):
        upload(stack, NOBODY, "a.pdf")
    assert files_of(stack.table, NOBODY.sub) == []
    assert object_count(stack) == 0


def test_a_large_upload_is_multipart_reports_progress_and_ends_as_one_item(stack):
    data = random.Random(9).randbytes(9 * MiB)  # above the 8 MiB threshold: two parts
    sent, threads = [], set()

    def progress(n):
        sent.append(n)
        threads.add(threading.get_ident())

    record = upload(stack, ALICE, "big.bin", data=data, progress=progress)
    assert sum(sent) == len(data)
    assert len(sent) > 1  # byte progress, not one report at the end
    assert threads == {threading.get_ident()}  # on the caller's thread, where Streamlit can draw
    head = aws.client("s3").head_object(Bucket=stack.bucket, Key=record.key)
    assert head["ETag"].strip('"').endswith("-2")
    assert head["ContentLength"] == len(data)
    run_extractor(stack)
    assert queue_depth(stack) == (0, 0)
    (only,) = files_of(stack.table, ALICE.sub)
    assert only.file_id == record.file_id
    assert only.status is FileStatus.PROCESSED
    assert only.size == len(data)
    assert only.etag == head["ETag"].strip('"')


class _Rerun(BaseException):
    """Stands in for Streamlit's RerunException, raised from a page's progress callback."""


def test_an_interrupted_upload_ends_the_item_as_failed_and_leaves_no_object(stack):
    def interrupt(sent):
        raise _Rerun

    with pytest.raises(_Rerun):
        upload(stack, ALICE, "big.bin", data=bytes(9 * MiB), progress=interrupt)
    (record,) = files_of(stack.table, ALICE.sub)
    assert (record.status, record.reason) == (FileStatus.FAILED, "the upload did not complete; please upload "
                                                                 "the file again")
    assert object_count(stack) == 0
    assert aws.client("s3").list_multipart_uploads(Bucket=stack.bucket).get("Uploads", []) == []


def current_object_exists(settings, key) -> bool:
    try:
        aws.client("s3").head_object(Bucket=settings.bucket, Key=key)
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("404", "NoSuchKey")
        return False
    return True


def delete_while_sending(settings, deleted: list):
    """A progress callback: an admin deletes the file as soon as its item exists, while it is being sent."""
    def progress(sent):
        if not deleted:
            (record,) = files_of(settings.table, ALICE.sub)
            deleted.append(delete_file(user=ADMIN, s3=aws.client("s3"), ddb=aws.client("dynamodb"),
                                       settings=settings, file_id=record.file_id))
    return progress


def test_a_file_deleted_while_it_is_uploading_leaves_no_object(stack):
    deleted = []
    with pytest.raises(UploadError, match="was deleted while it was being uploaded"):
        upload(stack, ALICE, "big.bin", data=bytes(9 * MiB), progress=delete_while_sending(stack, deleted))
    (record,) = deleted
    assert stored(stack, record.file_id).status is FileStatus.DELETED
    assert not current_object_exists(stack, record.key)
    run_extractor(stack)  # the upload's event changes nothing
    assert stored(stack, record.file_id).status is FileStatus.DELETED
    assert not current_object_exists(stack, record.key)
    assert queue_depth(stack) == (0, 0)


class _Gone(BaseException):
    """The portal's process ending right after the object was stored."""


class _DiesAfterStoring:
    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def upload_fileobj(self, *args, **kwargs):
        self.real.upload_fileobj(*args, **kwargs)
        raise _Gone


def test_the_extractor_removes_an_object_stored_after_its_file_was_deleted(stack):
    deleted = []
    with pytest.raises(_Gone):  # the portal never gets to look again: the extractor must
        upload(stack, ALICE, "late.bin", data=bytes(9 * MiB), s3=_DiesAfterStoring(aws.client("s3")),
               progress=delete_while_sending(stack, deleted))
    (record,) = deleted
    assert current_object_exists(stack, record.key)  # the upload landed on top of the delete
    run_extractor(stack)
    assert stored(stack, record.file_id).status is FileStatus.DELETED
    assert not current_object_exists(stack, record.key)
    assert queue_depth(stack) == (0, 0)
