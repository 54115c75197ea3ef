"""Transitions and aggregate contributions (pure)."""

from dataclasses import replace

from common.catalogue import FileStatus
from common.schema import lifecycle, requests
from common.schema.aggregates import (
    CELL_WRITES,
    aggregate_shard,
    contributions,
    parse_aggregate_key,
    size_buckets,
)
from common.schema.keys import sequencer_order
from common.schema.record import is_duplicate
from tests.helpers.records import extraction, object_ref, portal_item

FILE_ID = "0a" + "0" * 30
OWNER = "owner-1"
REF = object_ref(FILE_ID)


def test_claim_keeps_identity_and_drops_old_results():
    old = lifecycle.finished(lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "2026-11-22T10:00:01.000Z"),
                          extraction(), "2026-11-22T10:00:02.000Z")
    newer = object_ref(FILE_ID, sequencer="00AC", version_id="v3")
    again = lifecycle.claimed(old, FILE_ID, OWNER, "ignored", newer, "2026-11-22T11:00:00.000Z")
    assert (again.name, again.owner_email, again.uploaded_at) == ("Q3.pdf", "o@example.com", "2026-11-22T10:00:00.000Z")
    assert (again.status, again.sha256, again.flags, again.metadata) == (FileStatus.PROCESSING, "", (), {})
    assert again.rev == sequencer_order("00AC") + "#claimed"


def test_a_preview_is_named_by_the_finished_version_only():
    claim = lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "2026-11-22T10:00:01.000Z")
    assert claim.preview_key == ""
    done = lifecycle.finished(claim, extraction(), "2026-11-22T10:00:02.000Z", preview_key="thumbnails/k.png")
    assert done.preview_key == "thumbnails/k.png"
    assert lifecycle.finished(claim, extraction(), "2026-11-22T10:00:02.000Z").preview_key == ""
    newer = object_ref(FILE_ID, sequencer="00AC", version_id="v3")
    assert lifecycle.claimed(done, FILE_ID, OWNER, "x", newer, "2026-11-22T11:00:00.000Z").preview_key == ""
    # Expired and deleted files keep the name, so their preview can still be found and removed.
    assert lifecycle.expired(done, "00AD", "2026-11-23T00:00:00.000Z").preview_key == "thumbnails/k.png"
    assert lifecycle.deleted(done, "2026-11-23T00:00:00.000Z").preview_key == "thumbnails/k.png"


def test_contributions_count_only_finished_files():
    record = lifecycle.finished(lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "2026-11-22T10:00:01.000Z"),
                             extraction(), "2026-11-22T10:00:01.200Z")
    assert contributions(lifecycle.claimed(None, FILE_ID, OWNER, "x", REF, "t")) == {}
    cells = contributions(record)
    shard = aggregate_shard(FILE_ID)
    assert set(cells) == {("AGG#DAY", f"2026-11-22#s{shard}"), ("AGG#DAY_FORMAT", f"2026-11-22#pdf#s{shard}"),
                          ("AGG#DAY_OWNER", f"2026-11-22#{OWNER}#s{shard}")}
    assert cells[("AGG#DAY_FORMAT", f"2026-11-22#pdf#s{shard}")] == {
        "files": 1, "bytes": 100, "status_processed": 1, "duration_ms": 30, "pages": 4, "paged_files": 1,
        "latency_ms": 1200, "latency_le_2000": 1, "flag_scanned": 1, "size_le_10000": 1, "pages_le_5": 1}
    assert cells[("AGG#DAY", f"2026-11-22#s{shard}")]["format_pdf"] == 1


def test_failures_are_counted_by_reason():
    record = lifecycle.finished(lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "t"),
                             extraction(error="encrypted PDF: metadata partially available", flags=("encrypted",)),
                             "2026-11-22T10:00:00.100Z")
    counts = next(iter(contributions(record).values()))
    assert counts["status_failed"] == 1
    assert counts["reason_encrypted PDF"] == 1
    assert counts["latency_le_250"] == 1


def test_a_finishing_transition_adds_and_a_reclaim_takes_back():
    claimed = lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "2026-11-22T10:00:01.000Z")
    first = requests.transition("t", portal_item(FILE_ID), claimed)["TransactItems"]
    assert [list(a) for a in first] == [["Put"]]  # no counts move while a file is in flight
    assert first[0]["Put"]["ConditionExpression"] == "attribute_exists(#pk) AND attribute_not_exists(#rev)"
    done = lifecycle.finished(claimed, extraction(), "2026-11-22T10:00:02.000Z")
    finish = requests.transition("t", claimed, done)["TransactItems"]
    assert finish[0]["Put"]["ExpressionAttributeValues"] == {":rev": {"S": claimed.rev}}
    updates = [a["Update"] for a in finish[1:]]
    assert len(updates) == 4  # three aggregate cells and the duplicate marker
    assert updates[-1]["UpdateExpression"] == "ADD #files :ids"
    newer = object_ref(FILE_ID, sequencer="00AC")
    reclaim = requests.transition("t", done, lifecycle.claimed(done, FILE_ID, OWNER, "x", newer, "t2"))["TransactItems"]
    for update in (a["Update"] for a in reclaim[1:4]):
        names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
        counted = {names[n]: int(values[":" + n[1:]]["N"]) for n in names}
        assert counted.pop(CELL_WRITES) == 1  # a write, whatever it takes back
        assert counted and all(v < 0 for v in counted.values())
    assert reclaim[-1]["Update"]["UpdateExpression"] == "DELETE #files :ids"


def test_duplicate_markers():
    assert not is_duplicate(None, "a")
    assert not is_duplicate({"files": {"SS": ["a"]}}, "a")
    assert is_duplicate({"files": {"SS": ["a", "b"]}}, "a")


def test_authors_and_producers_are_counted_per_day_and_uploader():
    record = lifecycle.finished(
        lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "2026-11-22T10:00:01.000Z"),
        extraction(metadata={"author": "  Ann\n  Lee ", "creator": "Writer", "producer": ""}),
        "2026-11-22T10:00:01.200Z")
    shard = aggregate_shard(FILE_ID)
    cells = contributions(record)
    assert cells[("AGG#DAY_PEOPLE", f"2026-11-22#{OWNER}#author=Ann Lee#s{shard}")] == {"files": 1}
    # No producer: the creating application stands in for it.
    assert cells[("AGG#DAY_PEOPLE", f"2026-11-22#{OWNER}#producer=Writer#s{shard}")] == {"files": 1}
    assert parse_aggregate_key("AGG#DAY_PEOPLE", f"2026-11-22#{OWNER}#author=A#B#s3") == (
        "DAY_PEOPLE", "2026-11-22", f"{OWNER}#author=A#B", 3)
    failed = lifecycle.finished(lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "t"),
                             extraction(error="unreadable", metadata={"author": "Ann"}), "2026-11-22T10:00:00.100Z")
    assert not [c for c in contributions(failed) if c[0] == "AGG#DAY_PEOPLE"]


def test_sizes_fall_in_one_histogram_bucket():
    for size, bucket in ((0, "size_le_10000"), (10_000, "size_le_10000"), (10_001, "size_le_100000"),
                         (100_000_001, "size_gt_100000000")):
        record = replace(lifecycle.finished(lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "t"),
                                         extraction(), "2026-11-22T10:00:00.100Z"), size=size)
        counts = contributions(record)[("AGG#DAY_OWNER", f"2026-11-22#{OWNER}#s{aggregate_shard(FILE_ID)}")]
        assert [k for k in counts if k.startswith("size_")] == [bucket]
    assert [name for name, _ in size_buckets()][-1] == "size_gt_100000000"


def test_a_claim_taken_again_counts_the_earlier_one_as_interrupted_unless_it_noted_an_error():
    first = lifecycle.claimed(portal_item(FILE_ID), FILE_ID, OWNER, "x", REF, "2026-11-22T10:00:01.000Z")
    assert first.interrupted is None
    died = lifecycle.claimed(first, FILE_ID, OWNER, "x", REF, "2026-11-22T10:10:01.000Z")
    died_twice = lifecycle.claimed(died, FILE_ID, OWNER, "x", REF, "2026-11-22T10:20:01.000Z")
    assert (died.interrupted, died_twice.interrupted) == (1, 2)
    noted = lifecycle.attempt_failed(died_twice, "retrying after an error: SlowDown", "2026-11-22T10:21:00.000Z")
    assert (noted.status, noted.rev, noted.interrupted) == (FileStatus.PROCESSING, died_twice.rev, 2)
    after_error = lifecycle.claimed(noted, FILE_ID, OWNER, "x", REF, "2026-11-22T10:30:01.000Z")
    assert (after_error.interrupted, after_error.reason) == (2, "")  # an error is no interruption
    newer = lifecycle.claimed(after_error, FILE_ID, OWNER, "x", object_ref(FILE_ID, sequencer="00FF"), "t")
    assert newer.interrupted is None  # a new version starts afresh
