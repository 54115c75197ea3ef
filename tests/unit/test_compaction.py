"""Merging a cell's shards: which items form a cell, and the transaction that merges them."""

from __future__ import annotations

import pytest

from common.schema import compaction
from common.schema.aggregates import aggregate_key, cell_counters, pack_counters, parse_aggregate_key
from common.schema.compaction import Cell, ShardItem, cells

DAY = "2026-11-20"
OWNER = "aaaaaaaa-1111-4222-8333-444455556666"


def item(grain: str, dimension: str, shard: int, writes: int | None = 1, day: str = DAY, **counts: int) -> dict:
    pk, sk = aggregate_key(grain, day, dimension, shard)
    out = {"pk": {"S": pk}, "sk": {"S": sk}, **{n: {"N": str(v)} for n, v in counts.items()}}
    if writes is not None:
        out["writes"] = {"N": str(writes)}
    return out


def actions(cell: Cell) -> list[tuple[str, str, str]]:
    """(action, sort key, condition) of each action of the cell's transaction."""
    out = []
    for action in cell.transaction("t")["TransactItems"]:
        (kind, body), = action.items()
        sk = (body.get("Key") or body["Item"])["sk"]["S"]
        out.append((kind, sk, body["ConditionExpression"]))
    return out


def test_the_key_builder_is_the_inverse_of_the_parser():
    for grain, dimension in (("DAY", ""), ("DAY_FORMAT", "pdf"), ("DAY_PEOPLE", f"{OWNER}#author=A#s1 B")):
        pk, sk = aggregate_key(grain, DAY, dimension, 5)
        assert parse_aggregate_key(pk, sk) == (grain, DAY, dimension, 5)


def test_a_shard_item_keeps_its_counters_apart_from_its_write_count():
    shard = ShardItem.from_item(item("DAY_FORMAT", "pdf", 3, writes=7, files=2, bytes=10))
    assert (shard.shard, dict(shard.counters), shard.writes) == (3, {"files": 2, "bytes": 10}, 7)
    assert ShardItem.from_item(item("DAY", "", 0, writes=None, files=1)).writes is None


def test_items_are_grouped_into_cells_by_day_and_dimension_even_when_names_interleave():
    # A name that contains "#s1" sorts between another cell's shards.
    odd = f"{OWNER}#author=x#s1"
    plain = f"{OWNER}#author=x"
    stored = sorted([item("DAY_PEOPLE", plain, 0, files=1), item("DAY_PEOPLE", plain, 2, files=1),
                     item("DAY_PEOPLE", odd, 0, files=5), item("DAY_PEOPLE", plain, 4, files=1),
                     item("DAY_PEOPLE", plain, 1, day="2026-11-21", files=3)], key=lambda i: i["sk"]["S"])
    found = {(c.day, c.dimension): (len(c.items), c.totals()) for c in cells(stored)}
    assert found == {(DAY, plain): (3, {"files": 3}), (DAY, odd): (1, {"files": 5}),
                     ("2026-11-21", plain): (1, {"files": 3})}
    assert list(cells([])) == []


def test_shards_merge_into_shard_zero_only_if_none_changed():
    cell = next(cells([item("DAY_FORMAT", "pdf", 0, writes=4, files=2, bytes=30, flag_gps=1),
                       item("DAY_FORMAT", "pdf", 3, writes=2, files=1, bytes=5, flag_gps=-1),
                       item("DAY_FORMAT", "pdf", 6, writes=None, files=1, reason_x=1)]))
    assert not cell.compacted()
    assert cell.totals() == {"bytes": 35, "files": 4, "reason_x": 1}  # flag_gps summed to 0: dropped
    assert actions(cell) == [("Delete", f"{DAY}#pdf#s3", "#w = :w"),
                             ("Delete", f"{DAY}#pdf#s6", "attribute_exists(#pk) AND attribute_not_exists(#w)"),
                             ("Put", f"{DAY}#pdf#s0", "#w = :w")]
    request = cell.transaction("t")["TransactItems"]
    assert request[0]["Delete"]["ExpressionAttributeValues"] == {":w": {"N": "2"}}
    put = request[2]["Put"]
    assert put["ExpressionAttributeValues"] == {":w": {"N": "4"}}  # shard 0 as read ...
    assert put["Item"]["writes"] == {"N": "5"}  # ... and counted as written once more
    assert cell_counters(put["Item"]) == {"bytes": 35, "files": 4, "reason_x": 1}
    assert set(put["Item"]) == {"pk", "sk", "packed", "writes"}  # one attribute for all counters
    assert all(a[next(iter(a))]["TableName"] == "t" for a in request)


def test_without_a_shard_zero_the_merged_item_must_still_be_new():
    cell = next(cells([item("DAY", "", 2, files=1), item("DAY", "", 5, files=2)]))
    assert actions(cell) == [("Delete", f"{DAY}#s2", "#w = :w"), ("Delete", f"{DAY}#s5", "#w = :w"),
                             ("Put", f"{DAY}#s0", "attribute_not_exists(#pk)")]
    put = cell.transaction("t")["TransactItems"][-1]["Put"]
    assert put["Item"]["writes"] == {"N": "1"} and cell_counters(put["Item"]) == {"files": 3}


def test_a_cell_whose_counts_sum_to_nothing_is_removed():
    cell = next(cells([item("DAY_OWNER", OWNER, 0, writes=3, files=1, bytes=9),
                       item("DAY_OWNER", OWNER, 1, writes=1, files=-1, bytes=-9)]))
    assert cell.totals() == {}
    assert [a[:2] for a in actions(cell)] == [("Delete", f"{DAY}#{OWNER}#s0"), ("Delete", f"{DAY}#{OWNER}#s1")]


def packed(grain: str, dimension: str, shard: int, writes: int = 1, **counts: int) -> dict:
    """A merged cell item: counters packed in one attribute."""
    pk, sk = aggregate_key(grain, DAY, dimension, shard)
    return {"pk": {"S": pk}, "sk": {"S": sk}, "packed": pack_counters(counts), "writes": {"N": str(writes)}}


def test_a_single_packed_item_on_shard_zero_is_already_compacted():
    assert next(cells([packed("DAY", "", 0, files=1, bytes=3)])).compacted()
    assert not next(cells([item("DAY", "", 0, files=1)])).compacted()  # counters to pack
    assert not next(cells([packed("DAY", "", 4, files=1)])).compacted()  # moves to shard 0
    assert not next(cells([packed("DAY", "", 0, files=1, bytes=0)])).compacted()  # a zero to drop
    loose = {**packed("DAY", "", 0, files=2), "files": {"N": "1"}}  # a file finished after the merge
    assert not next(cells([loose])).compacted()
    assert next(cells([loose])).totals() == {"files": 3}


def test_packed_counters_read_back_and_add_to_numeric_ones():
    merged = {**packed("DAY_FORMAT", "pdf", 0, writes=9, files=4, flag_gps=1), "files": {"N": "-1"},
              "bytes": {"N": "7"}}
    assert merged["packed"] == {"S": '{"files":4,"flag_gps":1}'}
    assert cell_counters(merged) == {"files": 3, "flag_gps": 1, "bytes": 7}
    for bad in ("[1, 2]", '{"files": "3"}', '{"files": true}', "{not json"):
        with pytest.raises(ValueError, match="packed counters"):
            cell_counters({**merged, "packed": {"S": bad}})


def test_a_cell_too_big_for_one_transaction_is_refused():
    too_many = tuple(ShardItem(f"{DAY}#s{i}", i, {"files": 1}, 1) for i in range(compaction.MAX_ACTIONS + 1))
    with pytest.raises(ValueError, match="more than one transaction"):
        Cell("DAY", DAY, "", too_many).transaction("t")
