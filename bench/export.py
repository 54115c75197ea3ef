"""Benchmark: CSV export of many rows against a bare paginated read of the same rows.

The table is :class:`bench.indexed.IndexedTable`, a client that answers the
upload-time index's queries with items parsed from JSON text on every call,
which is what the real client does with DynamoDB's wire format (less the
network, so the ratio is an upper bound on our overhead). moto is not used
here: its in-process reads walk the whole table per call and would drown
both sides. Time and peak memory are measured in separate runs (tracemalloc
slows code), and the timed runs of the sides take turns, so a busy spell on
the machine slows every side rather than one.

The export reads the index's eight shards merged oldest first
(:mod:`common.schema.timeline`) and sends a ``ProjectionExpression`` (its
columns, what its filters read, and the index's sort key, see
``portal.export.service.projection``); real DynamoDB then sends less, and
the model honours it (projecting is the server's work: a projection is made
once, on first use, and every side runs once, untimed, before it is
measured). The baseline is a plain paginated read of the same rows through
the same index, shard after shard, whole items, as any reader without a
projection or a merge would do; the goal is against it. A third figure
times the export against a read with the export's own projection, which
isolates what merging, shaping and writing cost.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable

from bench.indexed import IndexedTable
from common.catalogue import FileStatus
from common.schema import requests, timeline
from common.schema.keys import UPLOAD_INDEX, UPLOAD_SHARDS
from common.schema.record import FileRecord, to_item
from portal.export.service import ExportRequest, csv_chunks, projection

TABLE = "bench-files"
PAGE = 1000


def _record(i: int) -> FileRecord:
    return FileRecord(
        file_id=f"{i:032x}", owner=f"owner-{i % 50}", owner_email=f"user{i % 50}@example.com",
        name=f"report {i}.pdf", bucket="b", key=f"uploads/owner-{i % 50}/{i:032x}.pdf",
        status=FileStatus.PROCESSED, uploaded_at=f"2026-11-{1 + i % 28:02d}T10:00:00.000Z",
        updated_at="2026-11-28T10:00:00.000Z", size=1000 + i, sha256=f"{i:064x}", format="pdf",
        mime_type="application/pdf", extension="pdf", flags=("scanned",) if i % 7 == 0 else (),
        metadata={"title": f"Quarterly report {i}", "author": "Ana", "pages": i % 40, "pdf_version": "1.7"})


def _bare_read(ddb: IndexedTable, projected: bool = False) -> int:
    """The same rows read shard after shard, page by page, unmerged and unshaped."""
    count = 0
    whole = timeline.span("2026-11-01", "2026-11-30", newest_first=False)
    for shard in range(UPLOAD_SHARDS):
        kwargs = requests.query_upload_range(TABLE, shard, whole, PAGE)
        if projected:  # the export's own projection, with the same placeholders
            extra = projection(_request(), keep=(UPLOAD_INDEX.sort_key,))
            kwargs |= {"ProjectionExpression": extra["ProjectionExpression"],
                       "ExpressionAttributeNames": {**kwargs["ExpressionAttributeNames"],
                                                    **extra["ExpressionAttributeNames"]}}
        while True:
            page = ddb.query(**kwargs)
            count += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return count


def _request() -> ExportRequest:
    return ExportRequest(start_day="2026-11-01", end_day="2026-11-30", page_size=PAGE)


def _export(ddb: IndexedTable) -> int:
    return sum(len(chunk) for chunk in csv_chunks(ddb, TABLE, _request(), user=None))


def medians(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Median seconds of each run, the runs taking turns so that the machine's drifts hit them all."""
    for run in runs.values():
        run()  # untimed: fills the table's projected pages, if any, and warms up
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def _peak(run: Callable[[], int]) -> int:
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def rows(count: int = 100_000, repeats: int = 3) -> list[tuple[str, str, str, str]]:
    """Table rows: export time and peak memory against the bare read, and time against a projected read."""
    table = IndexedTable(to_item(_record(i)) for i in range(count))
    seconds = medians({"bare": lambda: _bare_read(table), "ours": lambda: _export(table),
                        "same": lambda: _bare_read(table, projected=True)}, repeats)
    bare_s, ours_s, same_s = seconds["bare"], seconds["ours"], seconds["same"]
    bare_mem, ours_mem = _peak(lambda: _bare_read(table)), _peak(lambda: _export(table))
    return [
        (f"CSV export, {count:,} rows: time", f"{ours_s:.2f} s", f"{bare_s:.2f} s (paginated read)",
         f"{ours_s / bare_s:.2f} (goal <= 1.5)"),
        (f"CSV export, {count:,} rows: peak memory", f"{ours_mem / 2**20:.1f} MiB",
         f"{bare_mem / 2**20:.1f} MiB (paginated read)", f"{ours_mem / bare_mem:.2f} (goal <= 1.5)"),
        (f"CSV export, {count:,} rows: time vs a read of its columns", f"{ours_s:.2f} s",
         f"{same_s:.2f} s (same projection)", f"{ours_s / same_s:.2f} (shaping and writing)"),
    ]
