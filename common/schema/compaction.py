"""Merging an aggregate cell's shards into one item, exactly. Pure: no AWS.

Why: the extractor spreads each cell's counters over ``AGG_SHARDS`` items so
that concurrent transactions rarely touch the same item, and every reader
sums the shards. For days that are over, the shards only cost reads: a
30-day dashboard reads eight items per cell where one would do, each with
a numeric attribute per counter. Compaction replaces a cell's shard items by
one item on shard 0 holding their sums packed in one attribute
(:func:`common.pack_counters`), so a cell costs the same to read with
ten files or ten thousand.

It is exact under concurrent writes. The extractor adds 1 to a cell item's
``writes`` on every update (:data:`common.CELL_WRITES`), and the
compaction transaction requires every item it replaces to still have the
``writes`` it read (or still have none, for items from before that counter);
if any changed, the whole transaction is cancelled and nothing moves. A
write that lands after the merge only adds to, or creates again, a shard
item, which readers sum as always. Counters that sum to 0 are dropped, and a
cell whose counters all sum to 0 (every file in it deleted) is removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common.schema.aggregates import (
    CELL_META,
    CELL_PACKED,
    CELL_WRITES,
    aggregate_key,
    cell_counters,
    pack_counters,
    parse_aggregate_key,
)
from common.schema.keys import PK, SK

#: TransactWriteItems' limit on actions; a cell has at most this many shard items.
MAX_ACTIONS = 100
TARGET_SHARD = 0


@dataclass(frozen=True)
class ShardItem:
    """One stored shard of a cell, as read."""

    sk: str
    shard: int
    counters: Mapping[str, int]
    #: The item's ``writes`` when read; None for an item written before cells counted their writes.
    writes: int | None
    #: Whether any counter is a numeric attribute rather than packed (updates since the last merge).
    loose: bool = False

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ShardItem:
        """A shard item from a low-level DynamoDB item."""
        _, _, _, shard = parse_aggregate_key(item[PK]["S"], item[SK]["S"])
        counters = cell_counters(item)
        writes = item.get(CELL_WRITES)
        loose = any("N" in value for name, value in item.items() if name not in CELL_META)
        return cls(item[SK]["S"], shard, counters,
                   int(Decimal(writes["N"])) if writes else None, loose)


@dataclass(frozen=True)
class Cell:
    """All stored shard items of one cell (grain, day, dimension)."""

    grain: str
    day: str
    dimension: str
    items: tuple[ShardItem, ...]

    def totals(self) -> dict[str, int]:
        """The cell's counters summed over its shards, zeros left out."""
        total: dict[str, int] = {}
        for item in self.items:
            for name, value in item.counters.items():
                total[name] = total.get(name, 0) + value
        return {name: value for name, value in sorted(total.items()) if value}

    def compacted(self) -> bool:
        """True when the cell is already one packed item on the target shard without zero counters."""
        if len(self.items) != 1:
            return False
        only = self.items[0]
        return only.shard == TARGET_SHARD and not only.loose and all(only.counters.values())

    def transaction(self, table: str) -> dict[str, Any]:
        """Keyword arguments for ``transact_write_items`` that merge the cell into shard 0.

        Raises
        ------
        ValueError
            When the cell has more shard items than one transaction may touch.
        """
        if len(self.items) > MAX_ACTIONS:
            raise ValueError(f"{len(self.items)} shard items are more than one transaction may touch")
        pk, target_sk = aggregate_key(self.grain, self.day, self.dimension, TARGET_SHARD)
        totals = self.totals()
        target = next((item for item in self.items if item.sk == target_sk), None)
        actions: list[dict[str, Any]] = []
        for item in self.items:
            if item is target and totals:
                continue
            actions.append({"Delete": {"TableName": table, "Key": _key(pk, item.sk), **_unchanged(item)}})
        if totals:
            writes = (target.writes or 0) + 1 if target is not None else 1
            put = {"TableName": table,
                   "Item": {**_key(pk, target_sk), CELL_PACKED: pack_counters(totals),
                            CELL_WRITES: {"N": str(writes)}}}
            put |= _unchanged(target) if target is not None else {
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": PK}}
            actions.append({"Put": put})
        return {"TransactItems": actions}


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {PK: {"S": pk}, SK: {"S": sk}}


def _unchanged(item: ShardItem) -> dict[str, Any]:
    """A condition that holds only while ``item`` is as it was read."""
    if item.writes is None:
        return {"ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(#w)",
                "ExpressionAttributeNames": {"#pk": PK, "#w": CELL_WRITES}}
    return {"ConditionExpression": "#w = :w", "ExpressionAttributeNames": {"#w": CELL_WRITES},
            "ExpressionAttributeValues": {":w": {"N": str(item.writes)}}}


def cells(items: Iterable[Mapping[str, Any]]) -> Iterator[Cell]:
    """The cells of one grain's items, in the order a Query returns them (by sort key).

    Every sort key starts with the day, so a day's items are consecutive and a
    cell is complete once the next day starts; within a day, shard items are
    grouped by dimension whatever order they come in (a name may contain
    ``#s1``, which sorts between another cell's shards).
    """
    day, grain, pending = "", "", {}  # type: ignore[var-annotated]
    for item in items:
        g, d, dimension, _ = parse_aggregate_key(item[PK]["S"], item[SK]["S"])
        if (d, g) != (day, grain):
            yield from _flush(grain, day, pending)
            day, grain, pending = d, g, {}
        pending.setdefault(dimension, []).append(ShardItem.from_item(item))
    yield from _flush(grain, day, pending)


def _flush(grain: str, day: str, pending: Mapping[str, list[ShardItem]]) -> Iterator[Cell]:
    for dimension, shard_items in pending.items():
        yield Cell(grain, day, dimension, tuple(shard_items))
