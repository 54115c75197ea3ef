"""Editing a file's tags and note after upload, on moto: who may, what is kept, and exact tag counters.

The counters are recounted from the files themselves after edits, retries,
deletes and repeated edits (tests/helpers/recount.py): every ``tag_`` counter
equals the files of its day that carry the tag and are counted.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.keys import file_key, sequencer_order
from portal.access import NotAllowed, User
from portal.files import actions, service
from portal.files.labels import InvalidLabels, LabelEdit
from portal.files.service import ActionRefused, FileChanged, NotFound
from portal.files.upload_policy import MAX_TAGS
from tests.helpers.files import tiny_pdf
from tests.helpers.records import make_records, portal_item, tagged
from tests.helpers.recount import files_per_day_and_tag, tag_counters
from tests.helpers.stored import announce, current, upload
from tests.helpers.tables import aggregate_table, commit, scanned_files
from tests.helpers.users import ADMIN, ANALYST, ANN, BOB

ADMIN_PASSWORD_ONLY = replace(ADMIN, second_factor=False)


def label(stack, user: User, file_id: str, seen: str | None = None, **edit: object):
    return actions.set_labels(user=user, ddb=aws.client("dynamodb"), settings=stack, file_id=file_id,
                              edit=LabelEdit.of(**edit), seen=seen)  # type: ignore[arg-type]


def counters_match_the_files(stack) -> dict[tuple[str, str], int]:
    expected = files_per_day_and_tag(scanned_files(stack.table))
    assert tag_counters(aggregate_table(stack.table).values()) == expected
    return expected


def test_the_owner_changes_tags_and_note_and_everything_else_is_kept(stack):
    before = upload(stack, ANN, "q3.pdf", tiny_pdf(), tags=("Draft",), notes="first")
    assert (before.status, before.tags) == (FileStatus.PROCESSED, ("draft",))
    after = label(stack, ANN, before.file_id, seen=before.rev, tags=" Q3, Board  Pack ", notes=" for the board ")
    assert current(stack, before.file_id) == after
    assert (after.tags, after.notes) == (("q3", "board pack"), "for the board")
    unchanged = {"tags", "notes", "updated_at", "rev"}
    assert {k: v for k, v in vars(after).items() if k not in unchanged} == \
        {k: v for k, v in vars(before).items() if k not in unchanged}
    assert after.rev != before.rev and after.sequencer == before.sequencer
    assert counters_match_the_files(stack) == {(before.uploaded_at[:10], "q3"): 1,
                                               (before.uploaded_at[:10], "board pack"): 1}


@pytest.mark.parametrize(("user", "allowed"), [(ANN, True), (BOB, False), (ANALYST, False), (ADMIN, True),
                                               (ADMIN_PASSWORD_ONLY, False)])
def test_only_the_owner_and_an_admin_with_a_second_factor_change_labels(stack, user, allowed):
    record = upload(stack, ANN, "a.pdf", tiny_pdf(), tags=("q3",))
    if allowed:
        assert label(stack, user, record.file_id, add=["legal"]).tags == ("q3", "legal")
    else:
        with pytest.raises(NotAllowed):
            label(stack, user, record.file_id, add=["legal"])
        assert current(stack, record.file_id) == record


def test_an_edit_from_a_state_that_changed_meanwhile_is_refused_and_writes_nothing(stack):
    record = upload(stack, ANN, "a.pdf", tiny_pdf(), tags=("q3",))
    label(stack, ADMIN, record.file_id, add=["legal"])  # someone else, after the form was drawn
    with pytest.raises(FileChanged):
        label(stack, ANN, record.file_id, seen=record.rev, tags="q4")
    assert current(stack, record.file_id).tags == ("q3", "legal")
    counters_match_the_files(stack)


def test_an_edit_that_loses_the_race_to_the_write_reads_again(stack, monkeypatch):
    """Another edit lands between this edit's read and its write: the condition fails and it is decided again."""
    record = upload(stack, ANN, "a.pdf", tiny_pdf(), tags=("q3",))
    real = service.FileStore.write
    raced = []

    def write_after_a_rival(self, old, new, **kwargs):
        if not raced:
            raced.append(True)
            real(self, old, replace(old, tags=("rival",), rev=f"{old.sequencer}#labels.rival"))
        return real(self, old, new, **kwargs)

    monkeypatch.setattr(service.FileStore, "write", write_after_a_rival)
    assert label(stack, ANN, record.file_id, add=["mine"]).tags == ("rival", "mine")
    with pytest.raises(FileChanged):  # with what the user saw, the rival's write is a refusal, not a merge
        label(stack, ANN, record.file_id, seen=record.rev, tags="x")
    counters_match_the_files(stack)


def test_files_not_finished_deleted_missing_or_never_stored_are_refused_clearly(stack):
    waiting = upload(stack, ANN, "w.pdf", tiny_pdf(), process=False)
    with pytest.raises(ActionRefused, match="once the file is processed"):
        label(stack, ANN, waiting.file_id, add=["q3"])
    gone = upload(stack, ANN, "g.pdf", tiny_pdf())
    actions.delete_file(user=ANN, s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack,
                        file_id=gone.file_id)
    with pytest.raises(ActionRefused, match="deleted"):
        label(stack, ANN, gone.file_id, add=["q3"])
    with pytest.raises(NotFound):
        label(stack, ANN, "f" * 32, add=["q3"])
    ddb = aws.client("dynamodb")
    broken = portal_item("e" * 32, owner=ANN.sub)
    ddb.put_item(**requests.put_new_file(stack.table, broken))
    ddb.update_item(**requests.mark_upload_failed(stack.table, broken.file_id, "not stored", broken.uploaded_at))
    with pytest.raises(ActionRefused, match="never completed"):
        label(stack, ANN, broken.file_id, add=["q3"])
    assert counters_match_the_files(stack) == {}


def test_too_many_tags_are_refused_and_nothing_changes(stack):
    record = upload(stack, ANN, "a.pdf", tiny_pdf(), tags=[f"t{i}" for i in range(MAX_TAGS)])
    with pytest.raises(InvalidLabels, match=f"at most {MAX_TAGS}"):
        label(stack, ANN, record.file_id, add=["one more"])
    assert current(stack, record.file_id) == record


def test_tag_counters_equal_a_recount_after_edits_retries_deletes_and_repeats(stack):
    s3 = aws.client("s3")
    records = [replace(r, bucket=stack.bucket, sequencer=sequencer_order(f"{i:X}"),
                       rev=f"{sequencer_order(f'{i:X}')}#finished")
               for i, r in enumerate(tagged(make_records(40, seed=1616)))]
    commit(stack.table, records)
    for r in records:
        s3.put_object(Bucket=stack.bucket, Key=r.key, Body=tiny_pdf(), Metadata={"file-id": r.file_id})
    counters_match_the_files(stack)
    for r in records[:10]:  # the bulk action's shape: the same add and remove on many files, twice
        for _ in range(2):
            label(stack, ADMIN, r.file_id, add=["audit"], remove=["q3"])
    for r in records[10:15]:
        label(stack, ADMIN, r.file_id, tags="", notes="")
    counters_match_the_files(stack)
    failed = [r for r in records if r.status is FileStatus.FAILED][:3]
    for r in failed:
        actions.retry_file(user=ADMIN, s3=s3, ddb=aws.client("dynamodb"), settings=stack, file_id=r.file_id)
        announce(stack, r.key)  # the extractor processes the new version; the tags ride along
        announce(stack, r.key)  # a newer event again: taken back once, counted once
    for r in records[20:26]:
        actions.delete_file(user=ADMIN, s3=s3, ddb=aws.client("dynamodb"), settings=stack, file_id=r.file_id)
    assert sum(counters_match_the_files(stack).values()) > 20
    for r in records[:10]:
        tags = current(stack, r.file_id).tags
        assert tags.count("audit") == 1 and "q3" not in tags
    assert all(current(stack, r.file_id).status is FileStatus.PROCESSED for r in failed if r not in records[20:26])


def test_a_file_counted_before_tags_were_counted_takes_back_no_tag_it_never_added(stack):
    """Items finished before this change hold tags the counters never saw (no ``tags_counted``)."""
    ddb = aws.client("dynamodb")
    old = [replace(r, bucket=stack.bucket, sequencer=f"{i:016X}", rev=f"{i:016X}#finished", tags=(),
                   status=FileStatus.PROCESSED) for i, r in enumerate(make_records(2, seed=7))]
    commit(stack.table, old)
    for r in old:  # as they were written then: the tags on the item, none in the counters
        ddb.update_item(TableName=stack.table, Key=file_key(r.file_id),
                        UpdateExpression="SET tags = :t REMOVE tags_counted",
                        ExpressionAttributeValues={":t": {"L": [{"S": "legacy"}]}})
    assert tag_counters(aggregate_table(stack.table).values()) == {}
    actions.delete_file(user=ADMIN, s3=aws.client("s3"), ddb=ddb, settings=stack, file_id=old[0].file_id)
    label(stack, ADMIN, old[1].file_id, add=["new"])
    assert tag_counters(aggregate_table(stack.table).values()) == {(old[1].uploaded_at[:10], "legacy"): 1,
                                                                          (old[1].uploaded_at[:10], "new"): 1}
