"""Bulk actions against the template in moto: per-file checks, partial failures, exact counters, the streamed ZIP."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile

import pytest

from common import aws
from common.catalogue import FileStatus
from portal.access import NotAllowed, User
from portal.files import actions, bulk, bulk_service
from portal.files.bulk import BulkAction
from portal.files.bulk_service import ZipRefused
from tests.helpers.files import tiny_pdf
from tests.helpers.stored import counters_and_recount, current, fail_next_extraction, upload
from tests.helpers.users import ADMIN, ANALYST, ANN, BOB


def io_args(stack) -> dict:
    return {"s3": aws.client("s3"), "ddb": aws.client("dynamodb"), "settings": stack}


def failed(stack, monkeypatch, user: User, name: str):
    with monkeypatch.context() as m:
        fail_next_extraction(m)
        return upload(stack, user, name, b"[1]")


def zip_of(stack, result: bulk_service.ZipResult) -> zipfile.ZipFile:
    body = aws.client("s3").get_object(Bucket=stack.bucket, Key=result.key)["Body"].read()
    return zipfile.ZipFile(io.BytesIO(body))


def manifest(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(bulk.MANIFEST_NAME).decode())))


def test_retry_of_a_selection_retries_the_failed_ones_and_reports_a_file_deleted_meanwhile(stack, monkeypatch):
    one, two, three = (failed(stack, monkeypatch, ANN, f"bad{i}.json") for i in range(3))
    done = upload(stack, ANN, "fine.txt", b"fine")
    plan = bulk.plan(BulkAction.RETRY, ANN, [one, two, three, done])
    actions.delete_file(user=ANN, **io_args(stack), file_id=three.file_id)  # after the plan, before the action
    report = bulk_service.retry_many(user=ANN, **io_args(stack), plan=plan)
    assert [o.name for o in report.done] == ["bad0.json", "bad1.json"]
    assert {o.name: o.why for o in report.not_done} == {"bad2.json": "Only failed files can be retried.",
                                                       "fine.txt": "only failed files can be retried"}
    assert [current(stack, r.file_id).status for r in (one, two, three, done)] == [
        FileStatus.UPLOADED, FileStatus.UPLOADED, FileStatus.DELETED, FileStatus.PROCESSED]
    stored, recount = counters_and_recount(stack)
    assert stored == recount


def test_an_uploader_cannot_retry_or_delete_another_users_file_through_a_forged_plan(stack, monkeypatch):
    bobs = failed(stack, monkeypatch, BOB, "bob.json")
    forged = bulk.Plan(BulkAction.DELETE, (bobs,), ())  # as if the page had planned it
    report = bulk_service.delete_many(user=ANN, **io_args(stack), plan=forged)
    assert [(o.name, o.why) for o in report.not_done] == [("bob.json", "You may not see this file.")]
    report = bulk_service.retry_many(user=ANN, **io_args(stack), plan=bulk.Plan(BulkAction.RETRY, (bobs,), ()))
    assert not report.done
    assert current(stack, bobs.file_id).status is FileStatus.FAILED


def test_an_admin_deletes_a_selection_counters_corrected_and_a_file_deleted_meanwhile_reported(stack):
    files = [upload(stack, owner, f"{owner.email[:3]}{i}.pdf", tiny_pdf(f"{owner.sub}{i}"))
             for owner in (ANN, BOB) for i in range(2)]
    plan = bulk.plan(BulkAction.DELETE, ADMIN, files)
    assert len(plan.chosen) == 4
    actions.delete_file(user=BOB, **io_args(stack), file_id=files[3].file_id)
    report = bulk_service.delete_many(user=ADMIN, **io_args(stack), plan=plan)
    assert [o.name for o in report.done] == ["ann0.pdf", "ann1.pdf", "bob0.pdf"]
    assert [(o.name, o.why) for o in report.not_done] == [("bob1.pdf", "It was deleted meanwhile.")]
    assert all(current(stack, r.file_id).status is FileStatus.DELETED for r in files)
    stored, recount = counters_and_recount(stack)
    assert stored == recount
    assert not [o for o in report.done
                if aws.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=current(stack, o.file_id).key)
                .get("Contents")]


def test_an_analyst_may_not_delete_even_when_the_page_would_let_them(stack):
    record = upload(stack, ANN, "a.pdf", tiny_pdf())
    assert not bulk.plan(BulkAction.DELETE, ANALYST, [record]).chosen
    report = bulk_service.delete_many(user=ANALYST, **io_args(stack),
                                      plan=bulk.Plan(BulkAction.DELETE, (record,), ()))
    assert [o.why for o in report.not_done] == ["Only the file's owner or an admin can delete it."]
    assert current(stack, record.file_id).status is FileStatus.PROCESSED


def test_the_zip_holds_each_file_under_a_safe_unique_name_and_a_manifest_of_every_file(stack):
    a = upload(stack, ANN, "report.pdf", tiny_pdf("a"))
    b = upload(stack, BOB, "REPORT.pdf", tiny_pdf("b"))
    c = upload(stack, BOB, "..\\evil.txt", b"evil")
    gone = upload(stack, ANN, "gone.txt", b"gone")
    actions.delete_file(user=ANN, **io_args(stack), file_id=gone.file_id)
    moved_away = upload(stack, BOB, "late.txt", b"late")
    plan = bulk.plan(BulkAction.DOWNLOAD, ANALYST, [a, b, c, current(stack, gone.file_id), moved_away])
    actions.delete_file(user=BOB, **io_args(stack), file_id=moved_away.file_id)  # after the plan
    result = bulk_service.zip_to_s3(user=ANALYST, **io_args(stack), plan=plan)
    archive = zip_of(stack, result)
    assert archive.namelist() == ["report.pdf", "REPORT (2).pdf", "evil.txt", "manifest.csv"]
    assert archive.read("REPORT (2).pdf") == tiny_pdf("b")
    rows = {r["name"]: r for r in manifest(archive)}
    assert rows["report.pdf"]["sha256"] == hashlib.sha256(tiny_pdf("a")).hexdigest() == a.sha256
    evil = rows[c.name]
    assert (evil["name_in_zip"], evil["included"], evil["size"]) == (
        "evil.txt", "yes", "4")
    assert (rows["gone.txt"]["included"], rows["gone.txt"]["status"], rows["gone.txt"]["why_not"]) == (
        "no", "deleted", "its original is no longer stored")
    assert (rows["late.txt"]["included"], rows["late.txt"]["why_not"]) == ("no", "its original is no longer stored")
    assert result.report.summary() == "3 files put in the ZIP. 2 files not: see below."
    assert result.key.startswith(f"exports/{ANALYST.sub}/") and "X-Amz-Expires=900" in result.link


def test_the_zip_is_streamed_in_parts_as_the_files_are_read_never_held_whole(stack, monkeypatch):
    big = [upload(stack, ANN, f"noise{i}.bin", os.urandom(4 * 1024 * 1024), process=False) for i in range(4)]
    s3 = aws.client("s3")
    events: list[str] = []
    real_get, real_part = s3.get_object, s3.upload_part
    monkeypatch.setattr(s3, "get_object", lambda **kw: events.append("read") or real_get(**kw))
    monkeypatch.setattr(s3, "upload_part", lambda **kw: events.append("part") or real_part(**kw))
    plan = bulk.plan(BulkAction.DOWNLOAD, ANN, big)
    result = bulk_service.zip_to_s3(user=ANN, s3=s3, ddb=aws.client("dynamodb"), settings=stack, plan=plan,
                                    part_bytes=5 * 1024 * 1024)
    assert events.count("part") >= 3
    assert events.index("part") < len(events) - 1 - events[::-1].index("read"), "parts leave before the last read"
    assert result.peak_bytes < 6 * 1024 * 1024, "never more than a part and a chunk in memory"
    assert result.included_bytes == 16 * 1024 * 1024
    archive = zip_of(stack, result)
    assert archive.testzip() is None
    assert [r["included"] for r in manifest(archive)] == ["yes"] * 4


def test_a_selection_over_the_size_cap_makes_no_zip_and_says_how_large_it_is(stack):
    files = [upload(stack, ANN, f"f{i}.txt", b"x" * 600) for i in range(2)]
    plan = bulk.plan(BulkAction.DOWNLOAD, ANN, files)
    with pytest.raises(ZipRefused, match=r"add up to 1.2 KB \(1,200 bytes\); one ZIP holds at most"):
        bulk_service.zip_to_s3(user=ANN, **io_args(stack), plan=plan, cap=1000)
    assert not aws.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix="exports/").get("Contents")
    assert not aws.client("s3").list_multipart_uploads(Bucket=stack.bucket).get("Uploads")


def test_a_file_grown_past_the_cap_since_the_plan_is_left_out_and_said(stack):
    small = upload(stack, ANN, "small.txt", b"x" * 100)
    grown = upload(stack, ANN, "grown.txt", b"y" * 100)
    aws.client("s3").put_object(Bucket=stack.bucket, Key=grown.key, Body=b"y" * 5000)  # bigger than its item says
    result = bulk_service.zip_to_s3(user=ANN, **io_args(stack), plan=bulk.plan(BulkAction.DOWNLOAD, ANN,
                                                                               [small, grown]), cap=1000)
    archive = zip_of(stack, result)
    assert archive.namelist() == ["small.txt", "manifest.csv"]
    assert [(o.name, o.why) for o in result.report.not_done] == [("grown.txt", "the ZIP reached its size cap")]


def test_an_uploader_cannot_zip_another_users_file_through_a_forged_plan(stack):
    bobs = upload(stack, BOB, "bob.pdf", tiny_pdf("bob"))
    mine = upload(stack, ANN, "mine.pdf", tiny_pdf("mine"))
    result = bulk_service.zip_to_s3(user=ANN, **io_args(stack),
                                    plan=bulk.Plan(BulkAction.DOWNLOAD, (mine, bobs), ()))
    archive = zip_of(stack, result)
    assert archive.namelist() == ["mine.pdf", "manifest.csv"]
    assert [r["why_not"] for r in manifest(archive) if r["included"] == "no"] == ["You may not see this file."]


def test_an_expired_session_makes_no_zip(stack):
    record = upload(stack, ANN, "a.pdf", tiny_pdf())
    expired = User(sub=ANN.sub, email=ANN.email, groups=ANN.groups, expires_at=1)
    with pytest.raises(NotAllowed):
        bulk_service.zip_to_s3(user=expired, **io_args(stack), plan=bulk.Plan(BulkAction.DOWNLOAD, (record,), ()))


def test_tags_added_and_removed_on_a_selection_move_the_tag_counters_and_report_a_file_over_the_limit(stack):
    from portal.files.labels import LabelEdit
    from portal.files.upload_policy import MAX_TAGS

    plain = upload(stack, ANN, "a.txt", b"a")
    tagged = upload(stack, ANN, "b.txt", b"b", tags=("old",))
    full = upload(stack, ANN, "c.txt", b"c", tags=tuple(f"t{i}" for i in range(MAX_TAGS)))
    bobs = upload(stack, BOB, "bob.txt", b"bob")
    plan = bulk.plan(BulkAction.LABEL, ANN, [current(stack, r.file_id) for r in (plain, tagged, full, bobs)])
    report = bulk_service.label_many(user=ANN, ddb=aws.client("dynamodb"), settings=stack, plan=plan,
                                     edit=LabelEdit.of(add="q3", remove="old"))
    assert [o.name for o in report.done] == ["a.txt", "b.txt"]
    why = {o.name: o.why for o in report.not_done}
    assert set(why) == {"c.txt", "bob.txt"}
    assert why["bob.txt"] == "you may not see this file"
    assert f"at most {MAX_TAGS} tags" in why["c.txt"]  # the upload rule's own words
    assert [current(stack, r.file_id).tags for r in (plain, tagged, full, bobs)] == [
        ("q3",), ("q3",), full.tags, ()]
    stored, recount = counters_and_recount(stack)
    assert stored == recount
