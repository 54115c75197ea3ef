"""The portal's file I/O against moto (in-process)."""

import io
import time

import pytest
from botocore.exceptions import ClientError

from common import aws, schema
from common.schema import FileStatus
from portal.files import UploadError, list_own_files, store_upload
from portal.tokens import User

ALICE = User(sub="aaaaaaaa-1111-4222-8333-444455556666", email="alice@example.com",
             groups=frozenset({"uploaders"}), expires_at=0)
BOB = User(sub="bbbbbbbb-1111-4222-8333-444455556666", email="bob@example.com",
           groups=frozenset({"uploaders"}), expires_at=0)


def upload(settings, user, name, data=b"%PDF-1.4 x", s3=None):
    return store_upload(user=user, name=name, body=io.BytesIO(data), content_type="application/pdf",
                        s3=s3 or aws.client("s3"), ddb=aws.client("dynamodb"), settings=settings)


def test_upload_stores_object_under_owner_prefix_and_item_as_uploaded(stack):
    record = upload(stack, ALICE, "../../Q3 rapport été.pdf")
    assert record.key == f"uploads/{ALICE.sub}/{record.file_id}.pdf"
    head = aws.client("s3").head_object(Bucket=stack.bucket, Key=record.key)
    assert head["Metadata"][schema.ORIGINAL_NAME_META] == "..%2F..%2FQ3%20rapport%20%C3%A9t%C3%A9.pdf"
    item = aws.client("dynamodb").get_item(TableName=stack.table, Key=schema.file_key(record.file_id))["Item"]
    stored = schema.from_item(item)
    assert stored.status is FileStatus.UPLOADED
    assert stored.name == "../../Q3 rapport été.pdf"
    assert (stored.owner, stored.owner_email) == (ALICE.sub, ALICE.email)


class _BrokenS3:
    def upload_fileobj(self, *args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")


def test_a_failed_object_upload_ends_the_item_as_failed(stack):
    with pytest.raises(UploadError, match="did not complete"):
        upload(stack, ALICE, "a.pdf", s3=_BrokenS3())
    (record,) = list_own_files(user=ALICE, ddb=aws.client("dynamodb"), settings=stack)
    assert record.status is FileStatus.FAILED
    assert record.reason == "the upload did not complete; please upload the file again"


def test_users_list_only_their_own_files_newest_first(stack):
    first = upload(stack, ALICE, "first.pdf")
    time.sleep(0.01)
    second = upload(stack, ALICE, "second.pdf")
    upload(stack, BOB, "bobs.pdf")
    mine = list_own_files(user=ALICE, ddb=aws.client("dynamodb"), settings=stack)
    assert [r.file_id for r in mine] == [second.file_id, first.file_id]
    assert [r.name for r in list_own_files(user=BOB, ddb=aws.client("dynamodb"), settings=stack)] == ["bobs.pdf"]
