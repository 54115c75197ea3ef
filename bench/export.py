"""Benchmark: CSV export of many rows against a bare paginated read of the same rows.

The table is modelled by :class:`PagedTable`, a client that answers ``scan``
with pages of up to 1,000 items parsed from JSON text on every call, which is
what the real client does with DynamoDB's wire format (less the network, so
the ratio is an upper bound on our overhead). moto is not used here: its
in-process scan re-reads the whole table per page and would drown both sides.
Time and peak memory are measured in separate runs (tracemalloc slows code),
and the timed runs of the sides take turns, so a busy spell on the machine
slows every side rather than one.

The export sends a ``ProjectionExpression`` (its columns and what its
filters read, see ``portal.export.service.projection``), and real DynamoDB then
sends less: so :class:`PagedTable` honours it, answering with only the
projected attributes (nested map paths included) and parsing that smaller
JSON on every call, as the client would. Projecting is the server's work: a
projection's pages are made once, on first use, and every side runs once,
untimed, before it is measured. The baseline stays a plain paginated read of
the same rows, whole items, as any reader without a projection would do; the
goal is against it. A third figure times the export against a read with the
export's own projection, which isolates what shaping and writing cost, so
the projection's share of the gain can be told from the shaping's.
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from common.catalogue import FileStatus
from common.schema import requests
from common.schema.record import FileRecord, to_item
from portal.export.service import ExportRequest, csv_chunks, with_projection

TABLE = "bench-files"
PAGE = 1000


class PagedTable:
    """A stand-in DynamoDB client holding ``rows`` file items as JSON pages.

    ``scan`` honours ``ProjectionExpression`` (comma-separated attribute
    paths of names or ``#placeholders``, maps only), as DynamoDB does: an
    item keeps the projected paths it has, and items are never dropped.
    """

    def __init__(self, rows: int) -> None:
        items = [to_item(_record(i)) for i in range(rows)]
        self.pages = [json.dumps(items[i:i + PAGE]) for i in range(0, rows, PAGE)]
        self._projected: dict[tuple[tuple[str, ...], ...], list[str]] = {}
        self.projections: list[str | None] = []  # what each call asked for

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        index = int(kwargs.get("ExclusiveStartKey", {}).get("page", 0))
        expression = kwargs.get("ProjectionExpression")
        self.projections.append(expression)
        pages = self.pages
        if expression is not None:
            pages = self._pages(_paths(expression, kwargs.get("ExpressionAttributeNames", {})))
        page: dict[str, Any] = {"Items": json.loads(pages[index])}
        if index + 1 < len(pages):
            page["LastEvaluatedKey"] = {"page": index + 1}
        return page

    def _pages(self, paths: tuple[tuple[str, ...], ...]) -> list[str]:
        """The pages as DynamoDB would send them for ``paths`` (made once: that is the server's work)."""
        # From the text: items kept alive would slow both sides' garbage collection.
        if paths not in self._projected:
            self._projected[paths] = [json.dumps([_project(item, paths) for item in json.loads(page)])
                                      for page in self.pages]
        return self._projected[paths]


def _paths(expression: str, names: dict[str, str]) -> tuple[tuple[str, ...], ...]:
    """A ``ProjectionExpression``'s attribute paths, placeholders resolved."""
    paths = []
    for text in expression.split(","):
        if "[" in text:
            raise ValueError(f"list indexes are not modelled: {text.strip()}")
        paths.append(tuple(names[part] if part.startswith("#") else part for part in text.strip().split(".")))
    return tuple(paths)


def _project(item: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """``item`` with only the attributes at ``paths`` (a map keeps only the projected keys it has)."""
    out: dict[str, Any] = {}
    for path in paths:
        value: Any = {"M": item}
        for name in path:
            value = value.get("M", {}).get(name)
            if value is None:
                break
        else:
            target = out
            for name in path[:-1]:
                target = target.setdefault(name, {"M": {}})["M"]
            target[path[-1]] = value
    return out


def _record(i: int) -> FileRecord:
    return FileRecord(
        file_id=f"{i:032x}", owner=f"owner-{i % 50}", owner_email=f"user{i % 50}@example.com",
        name=f"report {i}.pdf", bucket="b", key=f"uploads/owner-{i % 50}/{i:032x}.pdf",
        status=FileStatus.PROCESSED, uploaded_at=f"2026-11-{1 + i % 28:02d}T10:00:00.000Z",
        updated_at="2026-11-28T10:00:00.000Z", size=1000 + i, sha256=f"{i:064x}", format="pdf",
        mime_type="application/pdf", extension="pdf", flags=("scanned",) if i % 7 == 0 else (),
        metadata={"title": f"Quarterly report {i}", "author": "Ana", "pages": i % 40, "pdf_version": "1.7"})


def _bare_read(ddb: PagedTable, projected: bool = False) -> int:
    count = 0
    kwargs = requests.scan_files_range(TABLE, "2026-11-01", "2026-11-30", 1000)
    if projected:  # the export's own projection, with the same placeholders
        kwargs = with_projection(kwargs, _request())
    while True:
        page = ddb.scan(**kwargs)
        count += len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _request() -> ExportRequest:
    return ExportRequest(start_day="2026-11-01", end_day="2026-11-30", page_size=PAGE)


def _export(ddb: PagedTable) -> int:
    return sum(len(chunk) for chunk in csv_chunks(ddb, TABLE, _request(), user=None))


def _medians(runs: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
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
    table = PagedTable(count)
    seconds = _medians({"bare": lambda: _bare_read(table), "ours": lambda: _export(table),
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
