"""Large direct uploads through the API in moto: parts, completion checked against the declared size, cancelling.

The threshold is lowered to 5 MiB (``DOCPORTAL_UPLOAD_MULTIPART_MB``) so a
10 MiB file goes in two parts (8 MiB and 2 MiB) instead of a 100 MB one.
"""

from __future__ import annotations

import pytest

from api import app as api_app
from common import aws
from common.catalogue import FileStatus
from common.filestore import FileStore
from portal.files import multipart
from portal.files.upload_policy import MiB
from portal.files.uploads import UploadError
from tests.helpers.api import api, person, problem_type, process_object, send_parts
from tests.helpers.tables import every_item
from tests.helpers.users import person as user

ANN = "aaaaaaaa-1111-4222-8333-000000000001"
BOB = "bbbbbbbb-1111-4222-8333-000000000002"
ANA = "cccccccc-1111-4222-8333-000000000003"
BODY = (b"A large plain text file, line after line.\n" * (10 * MiB // 42 + 1))[:10 * MiB]


@pytest.fixture
def large(stack, monkeypatch):
    """The stack, with uploads above 5 MiB sent in parts."""
    monkeypatch.setenv("DOCPORTAL_UPLOAD_MULTIPART_MB", "5")
    api_app.reset()
    yield stack
    api_app.reset()


def start(claims=None, size: int = len(BODY)) -> dict:
    status, _, created = api("POST", "/v1/uploads", claims or person(ANN, "uploaders"),
                             body={"name": "big.txt", "size": size, "content_type": "text/plain", "tags": ["q3"]})
    assert status == 201, created
    return created


def test_a_file_above_the_threshold_gets_part_links_for_its_own_key_with_its_metadata(large):
    created = start()
    links = created["multipart"]
    assert created["upload"] is None and created["status"] == "pending"
    assert (links["part_size"], links["part_count"], len(links["parts"])) == (8 * MiB, 2, 2)
    assert links["complete"] == f"/v1/uploads/{created['file_id']}/complete"
    uploads = aws.client("s3").list_multipart_uploads(Bucket=large.bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [(created["key"], links["upload_id"])]
    record = FileStore(aws.client("dynamodb"), large.table).read(created["file_id"])
    assert record is not None and (record.status, record.size) == (FileStatus.PENDING, len(BODY))


def test_parts_sent_and_completed_make_the_object_which_ends_processed(large):
    created = start()
    status, _, body = api("POST", created["multipart"]["complete"], person(ANN, "uploaders"),
                          body={"parts": send_parts(created["multipart"], BODY)})
    assert status == 200, body
    assert (body["file_id"], body["status"]) == (created["file_id"], "pending")
    head = aws.client("s3").head_object(Bucket=large.bucket, Key=created["key"])
    assert head["ContentLength"] == len(BODY)
    assert head["Metadata"] == {"original-name": "big.txt", "file-id": created["file_id"]}
    process_object(large, created["key"])
    status, _, done = api("GET", f"/v1/files/{created['file_id']}", person(ANN, "uploaders"))
    assert (done["status"], done["size"], done["tags"]) == ("processed", len(BODY), ["q3"])


def test_parts_short_of_the_declared_size_are_refused_and_nothing_is_assembled(large):
    created = start()
    parts = send_parts(created["multipart"], BODY, only=1)
    status, _, body = api("POST", created["multipart"]["complete"], person(ANN, "uploaders"),
                          body={"parts": parts})
    assert (status, problem_type(body)) == (422, "upload-refused")
    assert f"the upload declared {len(BODY)}" in body["detail"]
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=large.bucket, Prefix=created["key"])
    # The upload stays open: the missing part can still be sent.
    status, _, body = api("POST", created["multipart"]["complete"], person(ANN, "uploaders"),
                          body={"parts": send_parts(created["multipart"], BODY)})
    assert status == 200, body


def test_a_wrong_etag_or_parts_out_of_order_are_refused(large):
    created = start()
    parts = send_parts(created["multipart"], BODY)
    for wrong in ([parts[0], {**parts[1], "etag": '"0000"'}], [parts[1], parts[0]], [parts[0], parts[0]]):
        status, _, body = api("POST", created["multipart"]["complete"], person(ANN, "uploaders"),
                              body={"parts": wrong})
        assert (status, problem_type(body)) == (422, "upload-refused"), wrong


@pytest.mark.parametrize(("who", "status", "kind"), [
    (person(BOB, "uploaders"), 403, "forbidden"),
    (person(ANA, "analysts"), 403, "forbidden"),
])
def test_another_users_completion_or_cancelling_is_refused(large, who, status, kind):
    created = start()
    parts = send_parts(created["multipart"], BODY)
    answer = api("POST", created["multipart"]["complete"], who, body={"parts": parts})
    assert (answer[0], problem_type(answer[2])) == (status, kind)
    answer = api("DELETE", created["multipart"]["cancel"], who)
    assert (answer[0], problem_type(answer[2])) == (status, kind)
    assert len(aws.client("s3").list_multipart_uploads(Bucket=large.bucket)["Uploads"]) == 1


def test_completing_a_file_that_is_not_there_is_404(large):
    status, _, body = api("POST", f"/v1/uploads/{'0' * 32}/complete", person(ANN, "uploaders"),
                          body={"parts": [{"part_number": 1, "etag": "x"}]})
    assert (status, problem_type(body)) == (404, "not-found")


def test_a_form_upload_has_nothing_to_complete(large):
    created = start(size=1234)
    assert created["multipart"] is None and created["upload"] is not None
    status, _, body = api("POST", f"/v1/uploads/{created['file_id']}/complete", person(ANN, "uploaders"),
                          body={"parts": [{"part_number": 1, "etag": "x"}]})
    assert (status, problem_type(body)) == (409, "conflict")


def test_cancelling_aborts_the_upload_and_leaves_nothing_counted(large):
    created = start()
    send_parts(created["multipart"], BODY, only=1)
    status, _, _ = api("DELETE", created["multipart"]["cancel"], person(ANN, "uploaders"))
    assert status == 204
    assert "Uploads" not in aws.client("s3").list_multipart_uploads(Bucket=large.bucket)
    assert not every_item(large.table)
    status, _, body = api("POST", created["multipart"]["complete"], person(ANN, "uploaders"),
                          body={"parts": [{"part_number": 1, "etag": "x"}]})
    assert (status, problem_type(body)) == (404, "not-found")


def test_a_file_that_arrived_cannot_be_cancelled(large):
    created = start()
    api("POST", created["multipart"]["complete"], person(ANN, "uploaders"),
        body={"parts": send_parts(created["multipart"], BODY)})
    process_object(large, created["key"])
    status, _, body = api("DELETE", created["multipart"]["cancel"], person(ANN, "uploaders"))
    assert (status, problem_type(body)) == (409, "conflict")


class ListsTooMuch:
    """The stack's S3 client, but ListParts reports every part 1 MiB larger than S3 holds it."""

    def __init__(self, s3):
        self._s3 = s3

    def __getattr__(self, name):
        return getattr(self._s3, name)

    def get_paginator(self, operation):
        real = self._s3.get_paginator(operation)
        if operation != "list_parts":
            return real

        class Inflated:
            def paginate(self, **kwargs):
                for page in real.paginate(**kwargs):
                    yield {**page, "Parts": [{**p, "Size": p["Size"] + MiB} for p in page.get("Parts", [])]}

        return Inflated()


def test_an_object_that_comes_out_another_size_is_removed_and_refused(large):
    ann = user(ANN, "uploaders")
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    started = multipart.start(user=ann, name="big.txt", size=len(BODY) + 2 * MiB, content_type="text/plain",
                              s3=s3, ddb=ddb, settings=large)
    links = {"part_size": started.part_size,
             "parts": [{"part_number": n, "url": u} for n, u in enumerate(started.urls, 1)]}
    parts = [multipart.Part(p["part_number"], p["etag"]) for p in send_parts(links, BODY)]
    with pytest.raises(UploadError, match=f"has {len(BODY)} bytes, not the {len(BODY) + 2 * MiB} declared"):
        multipart.complete(user=ann, file_id=started.record.file_id, parts=parts, s3=ListsTooMuch(s3), ddb=ddb,
                           settings=large)
    assert "Versions" not in s3.list_object_versions(Bucket=large.bucket, Prefix=started.record.key)
    assert FileStore(ddb, large.table).read(started.record.file_id) is None
