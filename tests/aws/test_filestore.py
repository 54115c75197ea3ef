"""Stored-file state changes against the template's table in moto: conditions, conflicts, retries."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from common import aws
from common.catalogue import FileStatus
from common.filestore import CONFLICT_ATTEMPTS, Cancelled, Contention, FileStore
from common.schema import lifecycle
from tests.helpers.records import sample_record

NOW = "2026-11-22T10:00:05.000Z"


class Flaky:
    """The real client, whose next transactions are cancelled by a conflict (or fail otherwise)."""

    def __init__(self, real: Any, conflicts: int = 0, error: str = "") -> None:
        self.real, self.conflicts, self.error, self.calls = real, conflicts, error, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "TransactWriteItems")
        if self.conflicts:
            self.conflicts -= 1
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(kwargs["TransactItems"]) - 1)
            raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "x"},
                               "CancellationReasons": reasons}, "TransactWriteItems")  # type: ignore[typeddict-item]
        return self.real.transact_write_items(**kwargs)


@pytest.fixture
def store(stack) -> FileStore:
    return FileStore(aws.client("dynamodb"), stack.table, pause=lambda _: None)


def finished(**changes: Any):
    return sample_record(rev="0A#finished", sequencer="0A", sha256="ab" * 32, processed_at=NOW, **changes)


def test_a_new_file_is_written_and_read_back(store):
    record = finished()
    assert store.read(record.file_id) is None
    assert store.write(None, record) is None
    assert store.read(record.file_id) == record
    assert store.duplicates(record.owner, record.sha256) == {record.file_id}


def test_a_write_from_a_stale_read_is_cancelled_and_changes_nothing(store):
    record = finished()
    store.write(None, record)
    moved = lifecycle.deleted(record, NOW)
    assert store.write(record, moved) is None
    assert store.write(record, lifecycle.expired(record, "0B", NOW)) is Cancelled.ITEM  # read before the delete
    assert store.read(record.file_id) == moved
    assert store.write(None, record) is Cancelled.ITEM  # the id is taken


def test_a_duplicate_marker_that_changed_cancels_with_other(store):
    first = finished()
    store.write(None, first)
    second = finished(file_id="0b" * 16)
    assert store.write(None, second, marker_seen=0) is Cancelled.OTHER  # the marker names the first by now
    assert store.read(second.file_id) is None
    assert store.write(None, second, marker_seen=1) is None
    assert store.duplicates(first.owner, first.sha256) == {first.file_id, second.file_id}


def test_conflicts_are_tried_again_with_growing_pauses(stack):
    pauses: list[float] = []
    flaky = Flaky(aws.client("dynamodb"), conflicts=CONFLICT_ATTEMPTS - 1)
    store = FileStore(flaky, stack.table, pause=pauses.append)
    assert store.write(None, finished()) is None
    assert flaky.calls == CONFLICT_ATTEMPTS
    assert pauses == sorted(pauses) and len(pauses) == CONFLICT_ATTEMPTS - 1


def test_a_conflict_that_outlasts_the_attempts_propagates(stack):
    flaky = Flaky(aws.client("dynamodb"), conflicts=CONFLICT_ATTEMPTS)
    with pytest.raises(ClientError) as caught:
        FileStore(flaky, stack.table, pause=lambda _: None).write(None, finished())
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert flaky.calls == CONFLICT_ATTEMPTS


def test_other_errors_propagate_at_once(stack):
    flaky = Flaky(aws.client("dynamodb"), error="ProvisionedThroughputExceededException")
    with pytest.raises(ClientError) as caught:
        FileStore(flaky, stack.table, pause=lambda _: None).write(None, finished())
    assert caught.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert flaky.calls == 1


def test_a_change_decides_on_what_it_read(store):
    seen: list[Any] = []

    def nothing_to_do(current):
        seen.append(current)

    change = store.change("0c" * 16, nothing_to_do)
    assert (change.before, change.after, seen) == (None, None, [None])
    record = finished()
    store.write(None, record)
    change = store.change(record.file_id, lambda current: lifecycle.deleted(current, NOW))
    assert change.before == record and change.after.status is FileStatus.DELETED
    assert store.read(record.file_id) == change.after


def test_a_change_reads_and_decides_again_when_someone_wrote_meanwhile(store):
    record = finished()
    store.write(None, record)
    decided: list[str] = []

    def delete_after_a_racing_write(current):
        decided.append(current.rev)
        if len(decided) == 1:  # someone else moves the file between this read and its write
            store.write(current, replace(current, rev="0A#retry", status=FileStatus.UPLOADED))
        return lifecycle.deleted(current, NOW)

    change = store.change(record.file_id, delete_after_a_racing_write)
    assert decided == ["0A#finished", "0A#retry"]
    assert change.before.rev == "0A#retry" and store.read(record.file_id).status is FileStatus.DELETED


def test_a_file_that_keeps_changing_is_contention(store):
    record = finished()
    store.write(None, record)

    def always_raced(current):
        store.write(current, replace(current, rev=current.rev + "x"))
        return lifecycle.deleted(current, NOW)

    with pytest.raises(Contention, match=record.file_id):
        store.change(record.file_id, always_raced, attempts=3)


def test_a_refusal_inside_decide_propagates_and_writes_nothing(store):
    record = finished()
    store.write(None, record)

    def refuse(current):
        raise PermissionError("not yours")

    with pytest.raises(PermissionError):
        store.change(record.file_id, refuse)
    assert store.read(record.file_id) == record
