"""What "nothing lost, every count exact" means after a burst, and the latency and throughput figures. Pure.

:func:`problems` compares a table's items with the uploads that were accepted;
:func:`recount` is what the aggregate counters must hold, recounted from the
file items themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from common.catalogue import FileStatus
from common.schema.aggregates import cell_counters, contributions
from common.schema.keys import PK, SK
from common.schema.lifecycle import is_counted
from common.schema.record import FileRecord, from_item

Counters = dict[tuple[str, str, str], int]


def _cell(sk: str) -> str:
    """A cell's sort key without its shard: readers sum shards, and compaction moves counts between them."""
    return sk.rsplit("#", 1)[0]


def _add(total: Counters, pk: str, sk: str, counts: Mapping[str, int]) -> None:
    for name, value in counts.items():
        key = (pk, _cell(sk), name)
        total[key] = total.get(key, 0) + value


def recount(records: Iterable[FileRecord]) -> Counters:
    """Every aggregate counter, per cell (shards summed), as a full recount from the file items gives it.

    Zeros are left out.
    """
    total: Counters = {}
    for record in records:
        for (pk, sk), counts in contributions(record).items():
            _add(total, pk, sk, counts)
    return {k: v for k, v in total.items() if v}


def stored_counters(items: Iterable[Mapping[str, Any]]) -> Counters:
    """Every non-zero counter, per cell (shards summed), of the aggregate items of a table scan."""
    total: Counters = {}
    for item in items:
        if item[PK]["S"].startswith("AGG#"):
            _add(total, item[PK]["S"], item[SK]["S"], cell_counters(item))
    return {k: v for k, v in total.items() if v}


def file_records(items: Iterable[Mapping[str, Any]]) -> dict[str, FileRecord]:
    """The file items of a table scan, by file id."""
    return {i["file_id"]["S"]: from_item(i) for i in items if i[PK]["S"].startswith("FILE#")}


def problems(uploaded: Mapping[str, str], records: Mapping[str, FileRecord], counters: Counters,
             hostile: Iterable[str], dead_letters: Iterable[str]) -> list[str]:
    """What is wrong after a burst, in words; empty when nothing was lost and every count is exact.

    Parameters
    ----------
    uploaded
        File id -> name of every upload that was accepted.
    records
        The table's file items by file id.
    counters
        :func:`stored_counters` of the table.
    hostile
        Names of the files hostile on purpose: exactly these must be ``failed``.
    dead_letters
        File ids whose messages are in the dead-letter queue.
    """
    hostile = set(hostile)
    found: list[str] = []
    missing = set(uploaded) - set(records)
    if missing:
        found.append(f"{len(missing)} uploads have no item, e.g. {uploaded[min(missing)]}")
    extra = set(records) - set(uploaded)
    if extra:
        found.append(f"{len(extra)} items belong to no upload")
    mine = [records[i] for i in uploaded if i in records]
    waiting = sorted(r.name for r in mine if not r.status.terminal)
    if waiting:
        found.append(f"{len(waiting)} files never finished, e.g. {waiting[:3]}")
    failed = {r.name for r in mine if r.status is FileStatus.FAILED}
    expected = hostile & set(uploaded.values())
    if failed != expected:
        found.append(f"failed but not hostile: {sorted(failed - expected)[:5]}; "
                     f"hostile but not failed: {sorted(expected - failed)[:5]}")
    unexplained = [r.name for r in mine
                   if r.status is FileStatus.FAILED and (not r.reason or "Traceback" in r.reason)]
    if unexplained:
        found.append(f"failed without a readable reason: {unexplained[:3]}")
    wanted = recount(records.values())
    if counters != wanted:
        wrong = sorted(set(counters.items()) ^ set(wanted.items()))[:3]
        found.append(f"aggregates differ from a recount, e.g. {wrong}")
    day_files = sum(v for (pk, _, name), v in counters.items() if pk == "AGG#DAY" and name == "files")
    counted = sum(is_counted(r) for r in records.values())  # finished, not deleted: deletion takes it back
    if day_files != counted:
        found.append(f"the day counters count {day_files} files, the items {counted}")
    letters = [uploaded.get(i, i) for i in dead_letters]
    if not set(letters) <= hostile:
        found.append(f"the dead-letter queue holds files not hostile: {sorted(set(letters) - hostile)[:5]}")
    return found


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def seconds_between(start: str, end: str) -> float:
    """Seconds from one item timestamp to another."""
    def parse(timestamp: str) -> datetime:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))

    return (parse(end) - parse(start)).total_seconds()


def latencies(records: Iterable[FileRecord]) -> list[float]:
    """Seconds from upload to ``processed`` of every processed file, from its item's timestamps."""
    return [seconds_between(r.uploaded_at, r.processed_at) for r in records
            if r.status is FileStatus.PROCESSED and r.processed_at]


def throughput(records: Sequence[FileRecord]) -> float:
    """Files per second from the first claim to the last finish."""
    start = min(r.started_at for r in records)
    end = max(r.processed_at for r in records)
    return len(records) / max(seconds_between(start, end), 1e-3)
