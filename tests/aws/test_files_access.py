"""The Files explorer's I/O against the template in moto: who may do what, and exact counters.

Files are stored with :func:`portal.files.uploads.store_upload` and processed by the
extractor's own code (events built from the stored object), so items, counters
and duplicate markers are exactly what production writes.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from common import aws
from common.catalogue import FileStatus
from common.schema.aggregates import contributions
from common.schema.keys import ORIGINAL_NAME_META, RETRIED_AT_META, duplicate_key
from common.schema.record import FileRecord, marker_files
from extractor import processor
from extractor.processor import Outcome, process_message
from portal.access import NotAllowed, User
from portal.files import actions, explorer, service
from portal.files.explorer import FileFilters
from portal.files.service import ActionRefused, NotFound
from portal.files.uploads import store_upload
from tests.helpers.events import eventbridge_body
from tests.helpers.files import tiny_pdf, tiny_png
from tests.helpers.stored import counters_and_recount, current, deps, event_for, fail_next_extraction, upload

ANN = User(sub="aaaaaaaa-1111-4222-8333-000000000001", email="ann@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)
BOB = User(sub="bbbbbbbb-1111-4222-8333-000000000002", email="bob@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)
ANALYST = User(sub="cccccccc-1111-4222-8333-000000000003", email="ana@example.com",
               groups=frozenset({"analysts"}), expires_at=2**40)
ADMIN = User(sub="dddddddd-1111-4222-8333-000000000004", email="adm@example.com",
             groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
NOBODY = User(sub="eeeeeeee-1111-4222-8333-000000000005", email="new@example.com",
              groups=frozenset(), expires_at=2**40)


def clients() -> dict[str, Any]:
    return {"s3": aws.client("s3"), "ddb": aws.client("dynamodb")}




def assert_exact(stack) -> None:
    stored, recount = counters_and_recount(stack)
    assert stored == recount


def marker_of(stack, record: FileRecord) -> frozenset[str]:
    item = aws.client("dynamodb").get_item(TableName=stack.table, ConsistentRead=True,
                                           Key=duplicate_key(record.owner, record.sha256)).get("Item")
    return marker_files(item)


def object_exists(stack, key: str) -> bool:
    try:
        aws.client("s3").head_object(Bucket=stack.bucket, Key=key)
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("404", "NoSuchKey")
        return False
    return True


@pytest.fixture
def world(stack):
    """Ann's processed PDF and PNG, Bob's processed PDF, the analyst's own text file."""
    return {
        "ann_pdf": upload(stack, ANN, "Q3 report.pdf", tiny_pdf("Ann's quarter")),
        "ann_png": upload(stack, ANN, "photo.png", tiny_png(40, 30)),
        "bob_pdf": upload(stack, BOB, "bob.pdf", tiny_pdf("Bob's")),
        "ana_txt": upload(stack, ANALYST, "notes.txt", b"analyst's own notes"),
    }


# --- listing ----------------------------------------------------------------------


def listed(user: User, stack, **filters) -> set[str]:
    page = service.list_files(user=user, ddb=aws.client("dynamodb"), settings=stack, filters=FileFilters(**filters),
                            page_size=100)
    return {r.file_id for r in page.records}


def test_an_uploader_lists_only_their_own_files_and_cannot_ask_for_another(stack, world):
    assert world["ann_pdf"].status is FileStatus.PROCESSED
    assert listed(ANN, stack) == {world["ann_pdf"].file_id, world["ann_png"].file_id}
    assert listed(BOB, stack) == {world["bob_pdf"].file_id}
    with pytest.raises(NotAllowed):
        listed(ANN, stack, owner=BOB.sub)
    with pytest.raises(NotAllowed):
        listed(NOBODY, stack)


def test_analysts_and_admins_list_everyone_or_one_uploader(stack, world):
    everyone = {r.file_id for r in world.values()}
    assert listed(ANALYST, stack) == everyone
    assert listed(ADMIN, stack) == everyone
    assert listed(ANALYST, stack, owner=BOB.sub) == {world["bob_pdf"].file_id}
    assert listed(ADMIN, stack, formats=frozenset({"png"})) == {world["ann_png"].file_id}
    assert listed(ANALYST, stack, text="q3 REPORT") == {world["ann_pdf"].file_id}
    assert listed(ANALYST, stack, start_day="2000-01-01", end_day="2000-01-02") == set()


def test_pages_are_bounded_and_follow_on_without_repeats(stack):
    ids = {upload(stack, ANN, f"f{i}.txt", f"text {i}".encode(), process=False).file_id for i in range(7)}
    seen: list[str] = []
    token = None
    sizes = []
    for _ in range(5):
        page = service.list_files(user=ANN, ddb=aws.client("dynamodb"), settings=stack, filters=FileFilters(),
                                page_token=token, page_size=3)
        sizes.append(len(page.records))
        seen += [r.file_id for r in page.records]
        token = page.next_token
        if token is None:
            break
    assert sizes == [3, 3, 1]
    assert len(seen) == len(set(seen)) and set(seen) == ids
    uploaded = [current(stack, i).uploaded_at for i in seen]
    assert uploaded == sorted(uploaded, reverse=True)  # newest first across pages


def test_a_page_looks_at_no_more_than_its_budget_and_can_go_on(stack):
    for i in range(6):
        upload(stack, ANN, f"f{i}.txt", b"x", process=False)
    page = service.list_files(user=ANN, ddb=aws.client("dynamodb"), settings=stack,
                            filters=FileFilters(text="no such name"), page_size=3, max_examined=4)
    assert page.records == () and page.examined <= 4
    assert page.next_token is not None  # the search can continue where it stopped
    rest = service.list_files(user=ANN, ddb=aws.client("dynamodb"), settings=stack,
                            filters=FileFilters(text="no such name"), page_token=page.next_token, page_size=3)
    assert rest.records == () and rest.next_token is None


def test_a_page_token_works_only_for_the_user_and_filters_it_was_made_for(stack):
    for i in range(3):
        upload(stack, ANN, f"f{i}.txt", b"x", process=False)
    first = service.list_files(user=ANN, ddb=aws.client("dynamodb"), settings=stack, filters=FileFilters(), page_size=1)
    assert first.next_token
    with pytest.raises(explorer.BadPageToken):
        service.list_files(user=BOB, ddb=aws.client("dynamodb"), settings=stack, filters=FileFilters(),
                         page_token=first.next_token, page_size=1)
    with pytest.raises(explorer.BadPageToken):
        service.list_files(user=ANN, ddb=aws.client("dynamodb"), settings=stack, filters=FileFilters(text="f"),
                         page_token=first.next_token, page_size=1)
    # A token naming another owner's partition, bound correctly, is refused too.
    forged = explorer.encode_token({"pk": {"S": "FILE#x"}, "sk": {"S": "FILE"}, "gsi1pk": {"S": f"OWNER#{BOB.sub}"},
                                    "gsi1sk": {"S": "9"}}, explorer.fingerprint(service._scope(ANN), FileFilters()))
    with pytest.raises(explorer.BadPageToken):
        service.list_files(user=ANN, ddb=aws.client("dynamodb"), settings=stack, filters=FileFilters(),
                         page_token=forged, page_size=1)


# --- reading one file ---------------------------------------------------------------


def test_get_file_role_matrix(stack, world):
    bob_id = world["bob_pdf"].file_id
    assert service.get_file(user=BOB, settings=stack, file_id=bob_id, ddb=aws.client("dynamodb")).name == "bob.pdf"
    for user, allowed in ((ANN, False), (NOBODY, False), (ANALYST, True), (ADMIN, True)):
        if allowed:
            assert service.get_file(user=user, ddb=aws.client("dynamodb"), settings=stack, file_id=bob_id).owner == BOB.sub
        else:
            with pytest.raises(NotAllowed):
                service.get_file(user=user, ddb=aws.client("dynamodb"), settings=stack, file_id=bob_id)
    for bad in ("0" * 32, "not-an-id", "../" + bob_id, ""):
        with pytest.raises(NotFound):
            service.get_file(user=ADMIN, ddb=aws.client("dynamodb"), settings=stack, file_id=bad)


def test_an_uploader_cannot_download_or_preview_another_users_file(stack, world):
    for call in (service.download_url, service.preview_bytes):
        with pytest.raises(NotAllowed):
            call(user=BOB, settings=stack, file_id=world["ann_png"].file_id, **clients())


def test_the_download_link_is_short_lived_signed_for_the_item_key_and_names_the_file(stack, world):
    record = world["ann_pdf"]
    url = service.download_url(user=ANALYST, settings=stack, file_id=record.file_id, **clients())
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith(record.key)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == [
        "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''Q3%20report.pdf"]
    response = requests.get(url, timeout=10)  # moto's mock answers presigned requests
    assert response.status_code == 200
    assert response.content == tiny_pdf("Ann's quarter")
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_an_image_gets_a_small_thumbnail_and_a_pdf_its_first_page(stack, world):
    from PIL import Image

    thumb = service.preview_bytes(user=ANN, settings=stack, file_id=world["ann_png"].file_id, **clients())
    with Image.open(io.BytesIO(thumb)) as im:
        assert im.format == "PNG" and im.size == (40, 30)
    page = service.preview_bytes(user=ANALYST, settings=stack, file_id=world["ann_pdf"].file_id, **clients())
    with Image.open(io.BytesIO(page)) as im:
        assert im.format == "PNG" and max(im.size) == 480


# --- deleting -----------------------------------------------------------------------


def test_only_the_owner_or_an_admin_deletes(stack, world):
    ann_pdf = world["ann_pdf"]
    for user in (BOB, ANALYST, NOBODY):
        with pytest.raises(NotAllowed):
            actions.delete_file(user=user, settings=stack, file_id=ann_pdf.file_id, **clients())
    assert current(stack, ann_pdf.file_id) == ann_pdf
    assert object_exists(stack, ann_pdf.key)
    deleted = actions.delete_file(user=ANALYST, settings=stack, file_id=world["ana_txt"].file_id, **clients())
    assert deleted.status is FileStatus.DELETED  # an analyst deletes their own file
    assert_exact(stack)


def test_an_admin_deletes_a_file_the_object_goes_and_the_counters_follow(stack, world):
    record = world["bob_pdf"]
    assert marker_of(stack, record) == {record.file_id}
    stored_before, _ = counters_and_recount(stack)
    actions.delete_file(user=ADMIN, settings=stack, file_id=record.file_id, **clients())
    after = current(stack, record.file_id)
    assert after.status is FileStatus.DELETED
    assert after.name == record.name and after.sha256 == record.sha256  # the tombstone keeps its metadata
    assert not object_exists(stack, record.key)  # a delete marker: the current version is gone
    assert_exact(stack)
    stored_after, _ = counters_and_recount(stack)
    expected = {cell: dict(counts) for cell, counts in stored_before.items()}
    for cell, counts in contributions(record).items():  # exactly the file's share comes off
        for name, value in counts.items():
            expected[cell][name] -= value
    expected = {cell: {k: v for k, v in c.items() if v} for cell, c in expected.items()}
    assert stored_after == {cell: c for cell, c in expected.items() if c} != stored_before
    assert marker_of(stack, record) == frozenset()
    assert record.file_id not in listed(ADMIN, stack)
    assert listed(ADMIN, stack, statuses=frozenset({FileStatus.DELETED})) == {record.file_id}
    with pytest.raises(NotFound):
        service.download_url(user=BOB, settings=stack, file_id=record.file_id, **clients())
    with pytest.raises(ActionRefused):
        actions.retry_file(user=BOB, settings=stack, file_id=record.file_id, **clients())
    assert actions.delete_file(user=BOB, settings=stack, file_id=record.file_id, **clients()) == after  # idempotent
    assert_exact(stack)


def test_a_late_object_created_event_never_brings_a_deleted_file_back(stack, world):
    record = world["ann_pdf"]
    actions.delete_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
    before = current(stack, record.file_id)
    late = event_for(stack, record.key, version_id=record.version_id)  # the old version still exists
    assert process_message(late, 1, deps(stack)) == [Outcome.SKIPPED]
    assert current(stack, record.file_id) == before
    assert_exact(stack)
    # hidden by the delete marker, the version is left to the bucket's lifecycle rule
    aws.client("s3").head_object(Bucket=stack.bucket, Key=record.key, VersionId=record.version_id)


def test_deleting_a_file_while_it_is_being_extracted_drops_the_result(stack, monkeypatch):
    record = upload(stack, ANN, "inflight.pdf", tiny_pdf(), process=False)
    real = processor.extract_file

    def delete_meanwhile(*args, **kwargs):
        actions.delete_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
        return real(*args, **kwargs)

    monkeypatch.setattr(processor, "extract_file", delete_meanwhile)
    assert process_message(event_for(stack, record.key), 1, deps(stack)) == [Outcome.SKIPPED]
    assert current(stack, record.file_id).status is FileStatus.DELETED
    assert_exact(stack)


def test_deleting_a_file_whose_upload_failed_moves_no_counters(stack, world):
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            raise OSError("connection reset by the browser")

    with pytest.raises(OSError):  # the portal ends the item failed by itself, outside any transition
        store_upload(user=ANN, name="lost.pdf", body=Broken(), content_type="", s3=aws.client("s3"),
                           ddb=aws.client("dynamodb"), settings=stack)
    (record,) = service.list_files(user=ANN, ddb=aws.client("dynamodb"), settings=stack,
                                 filters=FileFilters(text="lost.pdf")).records
    assert (record.status, record.rev) == (FileStatus.FAILED, "")
    assert not object_exists(stack, record.key)
    stored_before, _ = counters_and_recount(stack)
    with pytest.raises(ActionRefused):  # nothing to process again: the original was never stored
        actions.retry_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
    actions.delete_file(user=ANN, settings=stack, file_id=record.file_id, **clients())
    assert current(stack, record.file_id).status is FileStatus.DELETED
    assert counters_and_recount(stack)[0] == stored_before
    assert_exact(stack)


# --- retrying -----------------------------------------------------------------------


def test_a_failed_file_is_retried_by_its_owner_and_counted_exactly_once(stack, world, monkeypatch):
    with monkeypatch.context() as m:
        fail_next_extraction(m)
        failed = upload(stack, ANN, "retry me.json", b'{"a": 1}')
    assert failed.status is FileStatus.FAILED
    assert_exact(stack)
    for user in (BOB, ANALYST):
        with pytest.raises(NotAllowed):
            actions.retry_file(user=user, settings=stack, file_id=failed.file_id, **clients())
    with pytest.raises(ActionRefused):
        actions.retry_file(user=ANN, settings=stack, file_id=world["ann_pdf"].file_id, **clients())
    versions_before = aws.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=failed.key)["Versions"]

    queued = actions.retry_file(user=ANN, settings=stack, file_id=failed.file_id, **clients())
    assert current(stack, failed.file_id) == queued
    assert (queued.status, queued.reason) == (FileStatus.UPLOADED, "")  # in flight again: the page refreshes
    assert_exact(stack)  # the failed contribution is already taken back
    with pytest.raises(ActionRefused):  # a second press finds it no longer failed
        actions.retry_file(user=ANN, settings=stack, file_id=failed.file_id, **clients())
    versions = aws.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=failed.key)["Versions"]
    assert len(versions) == len(versions_before) + 1
    head = aws.client("s3").head_object(Bucket=stack.bucket, Key=failed.key)
    assert head["Metadata"][ORIGINAL_NAME_META] == "retry%20me.json"
    assert RETRIED_AT_META in head["Metadata"]

    assert process_message(event_for(stack, failed.key), 1, deps(stack)) == [Outcome.PROCESSED]
    again = current(stack, failed.file_id)
    assert (again.status, again.name, again.format, again.reason) == (FileStatus.PROCESSED, "retry me.json", "json", "")
    assert again.version_id == head["VersionId"] != failed.version_id
    assert_exact(stack)
    stored, _ = counters_and_recount(stack)
    assert not any("status_failed" in c for c in stored.values())  # the failed contribution was taken back


def test_an_admin_retries_anyones_failed_file(stack, monkeypatch):
    with monkeypatch.context() as m:
        fail_next_extraction(m)
        failed = upload(stack, BOB, "x.txt", b"text")
    actions.retry_file(user=ADMIN, settings=stack, file_id=failed.file_id, **clients())
    assert process_message(event_for(stack, failed.key), 1, deps(stack)) == [Outcome.PROCESSED]
    assert current(stack, failed.file_id).status is FileStatus.PROCESSED
    assert_exact(stack)


def test_a_retry_works_even_when_the_new_event_repeats_the_old_sequencer(stack, monkeypatch):
    # moto's stand-in gives every S3 event one constant sequencer; only AWS makes the copy's newer.
    with monkeypatch.context() as m:
        fail_next_extraction(m)
        failed = upload(stack, ANN, "same.txt", b"text")
    actions.retry_file(user=ANN, settings=stack, file_id=failed.file_id, **clients())
    head = aws.client("s3").head_object(Bucket=stack.bucket, Key=failed.key)
    same = eventbridge_body(stack.bucket, failed.key, sequencer=failed.sequencer.lstrip("0"),
                            size=head["ContentLength"], etag=head["ETag"].strip('"'), version_id=head["VersionId"])
    assert process_message(same, 1, deps(stack)) == [Outcome.PROCESSED]
    assert process_message(same, 2, deps(stack)) == [Outcome.SKIPPED]  # and a duplicate of it changes nothing
    assert current(stack, failed.file_id).status is FileStatus.PROCESSED
    assert_exact(stack)


class _CopyFails:
    """S3 whose CopyObject is refused; everything else is the real (moto) client."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def copy_object(self, **kwargs):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "CopyObject")


def test_a_retry_whose_copy_fails_leaves_the_file_failed_and_the_counters_exact(stack, monkeypatch):
    with monkeypatch.context() as m:
        fail_next_extraction(m)
        failed = upload(stack, ANN, "stuck.txt", b"text")
    stored_before, _ = counters_and_recount(stack)
    with pytest.raises(service.FilesUnavailable):
        actions.retry_file(user=ANN, s3=_CopyFails(aws.client("s3")), ddb=aws.client("dynamodb"), settings=stack,
                         file_id=failed.file_id)
    after = current(stack, failed.file_id)
    assert (after.status, after.reason) == (FileStatus.FAILED, failed.reason)
    assert counters_and_recount(stack)[0] == stored_before
    assert_exact(stack)
    actions.retry_file(user=ANN, settings=stack, file_id=failed.file_id, **clients())  # and it can be retried later
    assert process_message(event_for(stack, failed.key), 1, deps(stack)) == [Outcome.PROCESSED]
    assert_exact(stack)
