"""The compaction job against the template's table in moto: exact, and safe under concurrent writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from botocore.exceptions import ClientError

from common import aws
from common.schema import lifecycle, requests
from common.schema.aggregates import aggregate_key, cell_counters, parse_aggregate_key
from common.schema.keys import file_key
from common.schema.record import from_item
from devstack.worker import LambdaContext
from extractor import compactor
from portal.dashboard import analytics
from tests.helpers.records import DAYS, aggregate_items, make_records
from tests.helpers.tables import aggregate_table, commit

ALL = ("2000-01-01", "2100-01-01")


def frame(table: str):
    """Every cell, shards summed, as the dashboards read them."""
    return analytics.aggregate_frame(aggregate_table(table).values())


def shard_items(table: str) -> dict[tuple[str, str, str], int]:
    """How many stored items each cell has."""
    out: dict[tuple[str, str, str], int] = {}
    for pk, sk in aggregate_table(table):
        grain, day, dimension, _ = parse_aggregate_key(pk, sk)
        out[(grain, day, dimension)] = out.get((grain, day, dimension), 0) + 1
    return out


def test_compaction_leaves_one_item_per_cell_and_every_sum_as_it_was(stack):
    records = make_records(60, seed=7)
    commit(stack.table, records)
    before, items_before = frame(stack.table), shard_items(stack.table)
    assert max(items_before.values()) > 1  # the files are spread over shards

    report = compactor.compact(aws.client("dynamodb"), stack.table, *ALL)

    assert report.cells == report.compacted == len(items_before) and report.busy == 0  # all to pack
    assert report.items_removed == sum(items_before.values()) - len(items_before)
    assert set(shard_items(stack.table).values()) == {1}
    assert all(sk.endswith("#s0") for _, sk in aggregate_table(stack.table))
    assert all(set(i) == {"pk", "sk", "packed", "writes"} for i in aggregate_table(stack.table).values())
    assert frame(stack.table).equals(before)
    assert compactor.compact(aws.client("dynamodb"), stack.table, *ALL).compacted == 0  # nothing left to do


def test_writes_after_compaction_add_up_and_a_cell_of_deleted_files_disappears(stack):
    # As the extractor leaves them: with a rev, so that a delete takes their contribution back.
    records = [replace(r, rev=f"00A1#{r.status.value}") for r in make_records(60, seed=8, days=DAYS[:2])]
    commit(stack.table, records)
    ddb = aws.client("dynamodb")
    compactor.compact(ddb, stack.table, *ALL)
    # Delete every file of the first day, then add more files: shards come back next to shard 0.
    first_day = [r for r in records if r.uploaded_at.startswith(DAYS[0])]
    stored = {r.file_id: from_item(ddb.get_item(TableName=stack.table, Key=file_key(r.file_id))["Item"])
              for r in first_day}
    for record in stored.values():
        ddb.transact_write_items(**requests.transition(stack.table, record, lifecycle.deleted(record, "2026-12-01T00:00:00.000Z")))
    more = make_records(30, seed=9, days=DAYS[1:2])
    commit(stack.table, more)
    survivors = [r for r in records if not r.uploaded_at.startswith(DAYS[0])] + more
    expected = analytics.aggregate_frame(aggregate_items(survivors))

    compactor.compact(ddb, stack.table, *ALL)

    cells_left = shard_items(stack.table)
    assert not [c for c in cells_left if c[1] == DAYS[0]]  # every file of that day deleted: no items
    assert set(cells_left.values()) == {1}
    assert frame(stack.table).equals(expected)


class Wrapped:
    """A client that answers as ``ddb`` does, except where a subclass says otherwise."""

    def __init__(self, ddb) -> None:
        self.ddb = ddb

    def __getattr__(self, name):
        return getattr(self.ddb, name)


class WriteBetweenReadAndMerge(Wrapped):
    """A client that lets the extractor commit a file after the job read the cells, once."""

    def __init__(self, ddb, table, record) -> None:
        super().__init__(ddb)
        self.table, self.record, self.done = table, record, False

    def transact_write_items(self, **kwargs):
        if not self.done:
            self.done = True
            self.ddb.transact_write_items(**requests.transition(self.table, None, self.record))
        return self.ddb.transact_write_items(**kwargs)


def test_a_cell_written_while_being_merged_is_left_alone_and_nothing_is_lost(stack):
    records = make_records(40, seed=10, days=DAYS[:1], owners=("aaaaaaaa-1111-4222-8333-444455556666",))
    late, early = records[0], records[1:]
    commit(stack.table, early)
    ddb = aws.client("dynamodb")
    racing = WriteBetweenReadAndMerge(ddb, stack.table, late)

    report = compactor.compact(racing, stack.table, *ALL, grains=("DAY",))

    assert report.busy == 1 and report.compacted == 0  # the day's only DAY cell changed under the job
    expected = analytics.aggregate_frame(aggregate_items(records))
    assert frame(stack.table).equals(expected)  # the late file counted, nothing counted twice
    assert compactor.compact(ddb, stack.table, *ALL, grains=("DAY",)).compacted == 1  # the next run merges
    assert frame(stack.table).equals(expected)


def test_cells_from_before_write_counting_are_merged_too(stack):
    ddb = aws.client("dynamodb")
    for shard, files in ((1, 2), (4, 3)):
        pk, sk = aggregate_key("DAY", DAYS[0], "", shard)
        ddb.put_item(TableName=stack.table, Item={"pk": {"S": pk}, "sk": {"S": sk}, "files": {"N": str(files)}})
    assert compactor.compact(ddb, stack.table, *ALL).compacted == 1
    (item,) = aggregate_table(stack.table).values()
    assert item["sk"]["S"] == f"{DAYS[0]}#s0" and cell_counters(item) == {"files": 5}


class Throttled(Wrapped):
    def transact_write_items(self, **kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                          "TransactWriteItems")


def test_other_errors_stop_the_run(stack):
    commit(stack.table, make_records(20, seed=12))
    with pytest.raises(ClientError) as raised:
        compactor.compact(Throttled(aws.client("dynamodb")), stack.table, *ALL)
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_a_run_covers_today_and_the_days_before():
    today = date(2026, 12, 1)
    assert compactor.day_range(40, today) == ("2026-10-22", "2026-12-01")
    assert compactor.day_range(1, today) == ("2026-11-30", "2026-12-01")
    assert compactor.day_range("all", today) == ("2000-01-01", "2026-12-01")
    for bad in (0, -3, "7", True, None):
        with pytest.raises(ValueError, match="positive integer"):
            compactor.day_range(bad, today)


def test_the_scheduled_handler_merges_past_days_and_reports(stack):
    commit(stack.table, make_records(30, seed=13))
    compactor._table.cache_clear()
    result = compactor.handler({"days": "all"}, LambdaContext(function_name="docportal-local-compactor"))
    assert result["start"] == "2000-01-01" and result["compacted"] > 0 and result["busy"] == 0
    assert set(shard_items(stack.table).values()) == {1}


def test_a_run_out_of_time_stops_between_cells_newest_day_first(stack):
    commit(stack.table, make_records(40, seed=14, days=DAYS))  # 6 days, each with several shards
    ddb = aws.client("dynamodb")
    asked = []

    def out_of_time() -> bool:
        asked.append(1)
        return len(asked) > 3

    report = compactor.compact(ddb, stack.table, *ALL, grains=("DAY",), out_of_time=out_of_time)
    assert report.stopped_early and report.cells == report.compacted == 3
    merged = {day for (grain, day, _), n in shard_items(stack.table).items() if grain == "DAY" and n == 1}
    assert merged == set(DAYS[3:])  # the newest three
    report = compactor.compact(ddb, stack.table, *ALL)
    assert not report.stopped_early and report.compacted > 0
