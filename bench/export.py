"""Benchmark: CSV export of many rows against a bare paginated read of the same rows.

The table is modelled by :class:`PagedTable`, a client that answers ``scan``
with pages of up to 1,000 items parsed from JSON text on every call, which is
what the real client does with DynamoDB's wire format (less the network, so
the ratio is an upper bound on our overhead). moto is not used here: its
in-process scan re-reads the whole table per page and would drown both sides.
Time and peak memory are measured in separate runs (tracemalloc slows code).
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from common import schema
from common.schema import FileRecord, FileStatus
from portal.export import ExportRequest, csv_chunks

TABLE = "bench-files"
PAGE = 1000


class PagedTable:
    """A stand-in DynamoDB client holding ``rows`` file items as JSON pages."""

    def __init__(self, rows: int) -> None:
        items = [schema.to_item(_record(i)) for i in range(rows)]
        self.pages = [json.dumps(items[i:i + PAGE]) for i in range(0, rows, PAGE)]

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        index = int(kwargs.get("ExclusiveStartKey", {}).get("page", 0))
        page: dict[str, Any] = {"Items": json.loads(self.pages[index])}
        if index + 1 < len(self.pages):
            page["LastEvaluatedKey"] = {"page": index + 1}
        return page


def _record(i: int) -> FileRecord:
    return FileRecord(
        file_id=f"{i:032x}", owner=f"owner-{i % 50}", owner_email=f"user{i % 50}@example.com",
        name=f"report {i}.pdf", bucket="b", key=f"uploads/owner-{i % 50}/{i:032x}.pdf",
        status=FileStatus.PROCESSED, uploaded_at=f"2026-11-{1 + i % 28:02d}T10:00:00.000Z",
        updated_at="2026-11-28T10:00:00.000Z", size=1000 + i, sha256=f"{i:064x}", format="pdf",
        mime_type="application/pdf", extension="pdf", flags=("scanned",) if i % 7 == 0 else (),
        metadata={"title": f"Quarterly report {i}", "author": "Ana", "pages": i % 40, "pdf_version": "1.7"})


def _bare_read(ddb: PagedTable) -> int:
    count = 0
    kwargs = schema.scan_files_range(TABLE, "2026-11-01", "2026-11-30", 1000)
    while True:
        page = ddb.scan(**kwargs)
        count += len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _export(ddb: PagedTable) -> int:
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", page_size=PAGE)
    return sum(len(chunk) for chunk in csv_chunks(ddb, TABLE, request, user=None))


def _measure(run: Callable[[], int], repeats: int) -> tuple[float, int]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak


def rows(count: int = 100_000, repeats: int = 3) -> list[tuple[str, str, str, str]]:
    """Table rows: export time and peak memory, each against the bare read."""
    table = PagedTable(count)
    bare_s, bare_mem = _measure(lambda: _bare_read(table), repeats)
    ours_s, ours_mem = _measure(lambda: _export(table), repeats)
    return [
        (f"CSV export, {count:,} rows: time", f"{ours_s:.2f} s", f"{bare_s:.2f} s (paginated read)",
         f"{ours_s / bare_s:.2f} (goal <= 1.5)"),
        (f"CSV export, {count:,} rows: peak memory", f"{ours_mem / 2**20:.1f} MiB",
         f"{bare_mem / 2**20:.1f} MiB (paginated read)", f"{ours_mem / bare_mem:.2f} (goal <= 1.5)"),
    ]
