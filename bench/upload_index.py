"""Benchmark: reads through the upload-time index cost what they return, not what the table holds.

Two figures, each against a small table measured in the same run:

* exporting one day's 1,000 files from a table of ``big`` items (five years of
  other files) against a table holding only those 1,000;
* an analyst's first Files page (every uploader, newest first, 50 files)
  from ``big`` items against 10,000.

The tables are :class:`bench.indexed.IndexedTable` (moto's reads walk the
whole table per call, so their times would grow with it where DynamoDB's do
not). Besides time, each figure gives the read units and requests DynamoDB
would bill, and what the whole-table scan the portal used before would have
read. The other files are small items (no metadata): only the scan reads
them, so their size changes the "before" column, not the figures.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
from collections.abc import Callable, Iterator
from functools import partial

from bench.export import medians
from bench.indexed import IndexedTable
from common.catalogue import FileStatus
from common.schema.keys import upload_keys
from common.schema.record import FileRecord, to_item
from common.settings import Settings
from portal.access import User
from portal.export.service import ExportRequest, csv_chunks
from portal.files import service
from portal.files.explorer import FileFilters

DAY = "2026-11-15"
#: The five years the other files are spread over (the export's day among them).
FIRST_DAY = dt.date(2022, 1, 1)
YEARS_DAYS = 5 * 365
ANALYST = User(sub="bench-analyst", email="an@example.com", groups=frozenset({"analysts"}), expires_at=2**40)
SETTINGS = Settings(region="us-east-1", bucket="bench", table="bench-files")


def _day_files(count: int) -> Iterator[dict[str, object]]:
    """``count`` full file items uploaded on :data:`DAY`, as the extractor leaves them."""
    for i in range(count):
        file_id = f"d{i:031x}"
        at = dt.datetime.fromisoformat(DAY) + dt.timedelta(seconds=i * 86_400 // count)
        yield to_item(FileRecord(
            file_id=file_id, owner=f"owner-{i % 50}", owner_email=f"user{i % 50}@example.com",
            name=f"report {i}.pdf", bucket="b", key=f"uploads/owner-{i % 50}/{file_id}.pdf",
            status=FileStatus.PROCESSED, uploaded_at=at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            updated_at=f"{DAY}T23:59:59.000Z", size=1000 + i, sha256=f"{i:064x}", format="pdf",
            mime_type="application/pdf", extension="pdf",
            metadata={"title": f"Quarterly report {i}", "author": "Ana", "pages": i % 40}))


def _other_files(count: int, days: int, last: dt.date) -> Iterator[str]:
    """``count`` small file items (as JSON text) spread over ``days`` days up to ``last``, never on DAY."""
    step = max(1, days * 86_400 // max(1, count))
    start = dt.datetime.combine(last - dt.timedelta(days=days - 1), dt.time())
    for n in range(count):
        at = start + dt.timedelta(seconds=n * step)
        if at.date().isoformat() == DAY:
            at += dt.timedelta(days=1)
        stamp, file_id = at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), f"e{n:031x}"
        item = {"pk": f"FILE#{file_id}", "sk": "FILE", **upload_keys(stamp, file_id), "file_id": file_id,
                "owner": "o", "name": "x.pdf", "bucket": "b", "key": "k", "status": "processed",
                "uploaded_at": stamp, "updated_at": stamp, "format": "pdf"}
        yield json.dumps({k: {"S": v} for k, v in item.items()}, separators=(",", ":"))


def _export(table: IndexedTable) -> int:
    request = ExportRequest(start_day=DAY, end_day=DAY, columns=("name", "uploaded_at", "size", "title"))
    return sum(len(chunk) for chunk in csv_chunks(table, SETTINGS.table, request, user=None))


def _first_page(table: IndexedTable) -> int:
    page = service.list_files(user=ANALYST, ddb=table, settings=SETTINGS, filters=FileFilters(), page_size=50)
    return len(page.records)


def _cost(table: IndexedTable, run: Callable[[], int]) -> str:
    table.reset_counts()
    run()
    return f"{table.read_units:,.1f} RU, {table.requests} requests"


def rows(big: int = 1_000_000, small: int = 10_000, repeats: int = 15) -> list[tuple[str, str, str, str]]:
    """Table rows: the day's export and the first Files page, from ``big`` items against small tables."""
    last = dt.date.fromisoformat(DAY) + dt.timedelta(days=30)
    started = time.perf_counter()
    day_only = IndexedTable(_day_files(1000))
    tenk = IndexedTable([*_other_files(small - 1000, 60, last), *_day_files(1000)])
    huge = IndexedTable([*_other_files(big - 1000, YEARS_DAYS, last), *_day_files(1000)])
    seeded = time.perf_counter() - started
    # The tables are the server's memory, not the client's: kept out of the client's garbage collection.
    gc.collect()
    gc.freeze()
    out: list[tuple[str, str, str, str]] = []
    try:
        for what, run, base, base_name in (
                ("export of one day's 1,000 files", _export, day_only, "1,000"),
                ("analyst's first Files page (50, newest first)", _first_page, tenk, f"{small:,}")):
            seconds = medians({"big": partial(run, huge), "small": partial(run, base)}, repeats)
            ours_s, base_s = seconds["big"], seconds["small"]
            out.append((f"{what}, {big:,} items vs {base_name}", f"{ours_s * 1000:.1f} ms",
                        f"{base_s * 1000:.1f} ms", f"{ours_s / base_s:.2f} (goal <= 1.3)"))
            out.append((f"  read by DynamoDB, {big:,} items vs {base_name}", _cost(huge, partial(run, huge)),
                        _cost(base, partial(run, base)), ""))
    finally:
        gc.unfreeze()
    units, pages = huge.scan_read_units()
    out.append((f"  before the index: a scan of {big:,} items", f"{units:,.0f} RU, {pages:,} requests",
                f"(seeding the tables took {seeded:.0f} s)", ""))
    return out
