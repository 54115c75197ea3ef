"""Deleting and retrying in the schema (pure): what the transactions and the copy request hold."""

from dataclasses import replace

from common.catalogue import FileStatus
from common.schema import lifecycle, requests
from common.schema.aggregates import CELL_WRITES, contributions
from common.schema.keys import ORIGINAL_NAME_META, RETRIED_AT_META
from common.schema.record import FileRecord
from tests.helpers.records import extraction, object_ref, portal_item

FILE_ID = "0b" + "0" * 30
OWNER = "owner-1"
REF = object_ref(FILE_ID, OWNER)


def processed(**kw) -> FileRecord:
    claimed = lifecycle.claimed(portal_item(FILE_ID, OWNER), FILE_ID, OWNER, "x", REF, "2026-11-22T10:00:01.000Z")
    return lifecycle.finished(claimed, extraction(**kw), "2026-11-22T10:00:02.000Z")


def counts(actions: list[dict]) -> dict[tuple[str, str], dict[str, int]]:
    out = {}
    for action in actions:
        update = action.get("Update")
        if update and update["Key"]["pk"]["S"].startswith("AGG#"):
            names = update["ExpressionAttributeNames"]
            values = update["ExpressionAttributeValues"]
            cell = {names[f"#c{i}"]: int(values[f":c{i}"]["N"]) for i in range(len(names))}
            assert cell.pop(CELL_WRITES) == 1  # every update of a cell counts as one write
            out[(update["Key"]["pk"]["S"], update["Key"]["sk"]["S"])] = cell
    return out


def test_a_deleted_file_is_terminal_and_counts_nowhere():
    gone = lifecycle.deleted(processed(), "2026-11-23T00:00:00.000Z")
    assert gone.status is FileStatus.DELETED and gone.status.terminal
    assert contributions(gone) == {}
    assert (gone.name, gone.sha256, gone.metadata) == ("Q3.pdf", "ab" * 32, {"pages": 4})  # metadata kept
    assert gone.rev == f"{gone.sequencer}#deleted" != processed().rev


def test_deleting_a_finished_file_takes_its_whole_contribution_back_and_leaves_its_marker():
    done = processed()
    actions = requests.transition("t", done, lifecycle.deleted(done, "2026-11-23T00:00:00.000Z"))["TransactItems"]
    put = actions[0]["Put"]
    assert put["ConditionExpression"] == "#rev = :rev"
    assert put["ExpressionAttributeValues"] == {":rev": {"S": done.rev}}
    assert put["Item"]["status"] == {"S": "deleted"}
    expected = {cell: {k: -v for k, v in c.items()} for cell, c in contributions(done).items()}
    assert counts(actions) == expected
    (marker,) = [a["Update"] for a in actions if "Update" in a and a["Update"]["Key"]["pk"]["S"].startswith("DUP#")]
    assert marker["UpdateExpression"] == "DELETE #files :ids"
    assert marker["ExpressionAttributeValues"] == {":ids": {"SS": [FILE_ID]}}


def test_deleting_a_file_in_flight_moves_no_counters():
    claimed = lifecycle.claimed(portal_item(FILE_ID, OWNER), FILE_ID, OWNER, "x", REF, "t")
    actions = requests.transition("t", claimed, lifecycle.deleted(claimed, "t2"))["TransactItems"]
    assert [list(a) for a in actions] == [["Put"]]
    assert actions[0]["Put"]["ExpressionAttributeValues"] == {":rev": {"S": claimed.rev}}


def test_an_item_the_extractor_never_wrote_has_contributed_nothing():
    # The portal ends an upload that did not complete as failed with a plain update, outside
    # any transition: taking a contribution back for it would drive the counters negative.
    upload_failed = replace(portal_item(FILE_ID, OWNER), status=FileStatus.FAILED, reason="the upload did not complete")
    actions = requests.transition("t", upload_failed, lifecycle.deleted(upload_failed, "t2"))["TransactItems"]
    assert [list(a) for a in actions] == [["Put"]]
    assert actions[0]["Put"]["ConditionExpression"] == "attribute_exists(#pk) AND attribute_not_exists(#rev)"
    claim = requests.transition("t", upload_failed, lifecycle.claimed(upload_failed, FILE_ID, OWNER, "x", REF, "t3"))
    assert [list(a) for a in claim["TransactItems"]] == [["Put"]]


def test_the_retry_copy_replaces_metadata_on_the_same_key_from_the_failed_version():
    failed = processed(error="the file's metadata could not be read (RecursionError)")
    request = requests.retry_copy(failed, {ORIGINAL_NAME_META: "Q3.pdf", "file-id": FILE_ID}, "2026-11-23T00:00Z")
    assert request == {
        "Bucket": "b", "Key": REF.key, "CopySource": {"Bucket": "b", "Key": REF.key, "VersionId": "v2"},
        "MetadataDirective": "REPLACE", "ContentType": "application/octet-stream",
        "Metadata": {ORIGINAL_NAME_META: "Q3.pdf", "file-id": FILE_ID,
                     RETRIED_AT_META: "2026-11-23T00:00Z"},
    }
    unversioned = requests.retry_copy(replace(failed, version_id="null"), {}, "t")
    assert "VersionId" not in unversioned["CopySource"]


def test_a_retried_file_reclaimed_by_the_newer_version_takes_the_failure_back():
    failed = processed(error="the file's metadata could not be read (RecursionError)")
    newer = object_ref(FILE_ID, OWNER, sequencer="00AC", version_id="v3")
    actions = requests.transition("t", failed, lifecycle.claimed(failed, FILE_ID, OWNER, "x", newer, "t4"))["TransactItems"]
    taken = counts(actions)
    assert taken == {cell: {k: -v for k, v in c.items()} for cell, c in contributions(failed).items()}
    assert all(c["status_failed"] == -1 for c in taken.values())


def test_a_retry_takes_the_failure_back_at_once_and_waits_as_uploaded():
    failed = processed(error="the file's metadata could not be read (RecursionError)")
    queued = lifecycle.queued_for_retry(failed, "t5")
    assert (queued.status, queued.reason, queued.sequencer) == (FileStatus.UPLOADED, "", failed.sequencer)
    assert not queued.status.terminal and contributions(queued) == {}
    actions = requests.transition("t", failed, lifecycle.queued_for_retry(failed, "t5"))["TransactItems"]
    assert actions[0]["Put"]["ExpressionAttributeValues"] == {":rev": {"S": failed.rev}}
    assert counts(actions) == {cell: {k: -v for k, v in c.items()} for cell, c in contributions(failed).items()}
    back = lifecycle.retry_abandoned(failed, "t6")
    assert back.status is FileStatus.FAILED and back.rev not in (failed.rev, queued.rev)
    assert counts(requests.transition("t", queued, back)["TransactItems"]) == contributions(failed)
