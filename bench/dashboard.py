"""The dashboard's load time must not grow with the number of files.

Both runs fill the same aggregate cells (30 days x 8 shards x (1 day + 4
formats + 4 uploaders) = 2,160 shard items, of which an analyst's dashboard
reads the per-format and per-uploader ones), one with 1,000 files and one
with 100,000, in moto's in-process DynamoDB; then the dashboard's whole data
load for the default 30-day period, as an analyst sees it (read_aggregates,
frame, KPIs, every series), is timed. The cells are what the extractor's
transactions would leave: each file's ``contributions`` summed in
memory, then one item put per shard item, which is much faster than 100,000
transactions and gives the same table.

The headline figure is a deployed stack right after its scheduled
compaction job ran (``extractor/compactor.py``, hourly over today and the
last 40 days): every cell is one item with its counters packed in one
attribute, so a 30-day dashboard reads 240 items of four attributes instead
of 1,920 items with a numeric attribute per counter, whatever the files.
Files finishing between runs add shard items again, up to the second
figure: the same table before any compaction, where the cost follows the
counters read (a cell holding about one file, with 1,000 files, has few of
the histogram, flag and reason counters that a full one has), bounded by
cells x counter names, not by files. ``run`` reports the calls, items and
counter values read so the figures can be read in that light. moto's
transactions are patched as in ``devstack.moto_server`` (back up only the
items touched), or merging would copy the table per transaction.
"""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from common.catalogue import FileStatus
from common.schema.aggregates import AGG_SHARDS, cell_counters, contributions
from common.schema.keys import PK, SK
from common.schema.record import FileRecord, to_timestamp
from devstack import moto_server
from devstack import template as tpl
from extractor import compactor
from portal.dashboard import analytics, data
from portal.dashboard.filters import DEFAULT_PRESET, DashboardFilters, Viewer, preset_range

TABLE = "bench-files"
REGION = "us-east-1"
FORMATS = ("pdf", "docx", "xlsx", "png")
OWNERS = tuple(f"{c * 8}-1111-4222-8333-444455556666" for c in "abcd")
DAYS = 30
REPEATS = 5
#: Files needed to fill every cell once: days x shards x formats (owners follow formats).
_FILL = DAYS * AGG_SHARDS * len(FORMATS)


def _records(files: int, today: date, seed: int = 4) -> Iterator[FileRecord]:
    """Finished files spread so that the first _FILL of them reach every cell."""
    rng = random.Random(seed)
    for i in range(files):
        day = today - timedelta(days=i % DAYS)
        shard = (i // DAYS) % AGG_SHARDS
        k = (i // (DAYS * AGG_SHARDS)) % len(FORMATS)
        owner = OWNERS[(k + i // _FILL) % len(OWNERS)]
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        uploaded = midnight + timedelta(seconds=rng.randrange(86_400))
        failed = rng.random() < 0.05
        file_id = f"{shard:08x}{i:024x}"
        yield FileRecord(
            file_id=file_id, owner=owner, name="f", bucket="b", key=f"uploads/{owner}/{file_id}",
            status=FileStatus.FAILED if failed else FileStatus.PROCESSED,
            uploaded_at=to_timestamp(uploaded), updated_at="", size=rng.randrange(1, 20_000_000),
            format=FORMATS[k], reason="encrypted PDF: no password" if failed else "",
            flags=("scanned",) if rng.random() < 0.1 else (),
            metadata={"pages": rng.randrange(1, 200)} if k != 3 else {},
            processed_at=to_timestamp(uploaded + timedelta(milliseconds=rng.randrange(100, 90_000))),
            duration_ms=rng.randrange(5, 5_000),
        )


def _cell_items(files: int, today: date) -> list[dict[str, Any]]:
    """The aggregate items the table holds after ``files`` finishing transactions."""
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for record in _records(files, today):
        for cell, counts in contributions(record).items():
            target = cells.setdefault(cell, {})
            for name, value in counts.items():
                target[name] = target.get(name, 0) + value
    return [{PK: {"S": pk}, SK: {"S": sk}, **{n: {"N": str(v)} for n, v in counts.items() if v}}
            for (pk, sk), counts in cells.items()]


@contextlib.contextmanager
def _in_process_aws() -> Iterator[Any]:
    """moto's in-process mock with fake credentials; a set AWS_ENDPOINT_URL would escape it."""
    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    fake = "testing"
    os.environ.update(AWS_ACCESS_KEY_ID=fake, AWS_SECRET_ACCESS_KEY=fake, AWS_REGION=REGION,
                      AWS_DEFAULT_REGION=REGION)
    try:
        with mock_aws():
            yield boto3.session.Session().client("dynamodb", region_name=REGION)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _timed_load(ddb: Any, files: int, start: str, end: str) -> dict[str, Any]:
    """Median seconds of REPEATS dashboard loads, the calls one makes, and the items and counters it read."""
    filters, viewer = DashboardFilters(start, end), Viewer("bench-analyst", sees_everyone=True)
    times: list[float] = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        loaded = data.load(ddb, TABLE, viewer, start, end)
        board = analytics.build_dashboard(loaded.frame, filters, viewer)
        times.append(time.perf_counter() - started)
    if board.kpis.files != files:
        raise AssertionError(f"the dashboard counted {board.kpis.files} files, not {files}")
    read = [item for grain in loaded.grains
            for item in data.read_aggregates(ddb, TABLE, grain, start, end)]
    return {"files": files, "seconds": statistics.median(times), "calls": loaded.calls,
            "items_read": len(read), "counters_read": sum(len(cell_counters(item)) for item in read)}


def run(files: int) -> dict[str, Any]:
    """Load ``files`` processed files' aggregates and time the dashboard's data load twice.

    First as the extractor's transactions leave the table (``live``), then
    after the compaction job has merged every day, as its schedule would
    (``compacted``); each as :func:`_timed_load` reports it. ``cells`` is the
    shard items written.
    """
    today = datetime.now(UTC).date()
    items = _cell_items(files, today)
    moto_server.patch()
    with _in_process_aws() as ddb:
        props = tpl.load()["Resources"]["FilesTable"]["Properties"]
        ddb.create_table(TableName=TABLE, KeySchema=props["KeySchema"],
                         AttributeDefinitions=props["AttributeDefinitions"],
                         GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
                         BillingMode="PAY_PER_REQUEST")
        for i in range(0, len(items), 25):
            puts = [{"PutRequest": {"Item": item}} for item in items[i:i + 25]]
            ddb.batch_write_item(RequestItems={TABLE: puts})
        start, end = preset_range(DEFAULT_PRESET, today)
        live = _timed_load(ddb, files, start, end)
        report = compactor.compact(ddb, TABLE, *compactor.day_range("all", today))
        if report.busy:
            raise AssertionError(f"compaction left {report.busy} cells unmerged with no writer running")
        compacted = _timed_load(ddb, files, start, end)
    return {"cells": len(items), "live": live, "compacted": compacted}


def rows(files: int = 100_000) -> list[tuple[str, str, str, str]]:
    """Bench rows: ``files`` files (default 100,000) against 1,000 and 10,000, in the same cells.

    First right after the compaction job ran (the goal), then
    on the same table before compaction, where the small run lacks counters
    (a cell that holds half a file on average has few of the histogram, flag
    and reason counters a full one has).
    """
    runs = [run(1_000), run(10_000), run(files)]
    if len({r["cells"] for r in runs}) != 1:
        raise AssertionError("every run must fill the same cells")
    small, mid, large = (r["compacted"] for r in runs)
    live_small, live_large = runs[0]["live"], runs[2]["live"]

    def shown(r: dict[str, Any]) -> str:
        return (f"{r['seconds']:.3f} s, {r['calls']} calls, {r['items_read']:,} items, "
                f"{r['counters_read']:,} counters")

    def ratio(a: dict[str, Any], b: dict[str, Any], goal: str = "") -> str:
        counters = f"counters read {a['counters_read'] / b['counters_read']:.2f}x"
        return f"{a['seconds'] / b['seconds']:.2f} ({goal}{counters})"

    return [(f"dashboard load, {files:,} files vs 1,000 (compacted)", shown(large), shown(small),
             ratio(large, small, "goal <= 1.2; ")),
            (f"dashboard load, {files:,} files vs 10,000 (compacted)", shown(large), shown(mid),
             ratio(large, mid)),
            (f"dashboard load, {files:,} files vs 1,000 (no compaction yet)", shown(live_large),
             shown(live_small), ratio(live_large, live_small)),
            (f"dashboard load, {files:,} files: compacted vs not", shown(large), shown(live_large),
             f"{large['seconds'] / live_large['seconds']:.2f}")]
