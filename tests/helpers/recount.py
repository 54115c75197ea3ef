"""Dashboard figures recounted straight from the files: the oracle the counters are checked against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from common.catalogue import COUNTED_STATUSES, FileStatus
from common.schema.aggregates import (
    LATENCY_BOUNDS_MS,
    cell_counters,
    parse_aggregate_key,
    parse_tag_dimension,
)
from common.schema.record import FileRecord
from portal.dashboard.analytics import Kpis
from portal.dashboard.filters import DashboardFilters
from tests.helpers.records import day_of, format_of, latency_of


def selected(records: Iterable[FileRecord], f: DashboardFilters) -> list[FileRecord]:
    """The files a filter covers, status aside; the uploader wins over formats."""
    out = []
    for r in records:
        if not (f.start <= day_of(r) <= f.end):
            continue
        if f.owner is not None:
            if r.owner != f.owner:
                continue
        elif f.formats and format_of(r) not in f.formats:
            continue
        out.append(r)
    return out


def status_ok(r: FileRecord, f: DashboardFilters) -> bool:
    return f.status == "all" or r.status.value == f.status


def bucket_bound(latency: int) -> int:
    return next((b for b in LATENCY_BOUNDS_MS if latency <= b), LATENCY_BOUNDS_MS[-1])


def bucket_name(latency: int) -> str:
    return next((f"latency_le_{b}" for b in LATENCY_BOUNDS_MS if latency <= b),
                f"latency_gt_{LATENCY_BOUNDS_MS[-1]}")


def percentile_bound(latencies: list[int], percent: int) -> int | None:
    """The bucket bound of the file at rank ceil(percent * n / 100) in latency order."""
    if not latencies:
        return None
    ordered = sorted(latencies)
    rank = max(1, -(-percent * len(ordered) // 100))
    return bucket_bound(ordered[rank - 1])


def recount_kpis(records: list[FileRecord], f: DashboardFilters) -> Kpis:
    sel = selected(records, f)
    shown = [r for r in sel if status_ok(r, f)]
    processed = sum(r.status is FileStatus.PROCESSED for r in shown)
    failed = sum(r.status is FileStatus.FAILED for r in shown)
    latencies = [latency_of(r) for r in sel if r.processed_at]
    everything = f.status == "all"
    return Kpis(
        files=len(shown),
        storage_bytes=sum(r.size or 0 for r in sel) if everything else None,
        processed_share=processed / (processed + failed) if processed + failed else None,
        failures=failed,
        median_latency_ms=percentile_bound(latencies, 50) if everything else None,
        p95_latency_ms=percentile_bound(latencies, 95) if everything else None,
        mean_processing_ms=(sum(r.duration_ms or 0 for r in sel) / len(sel) if sel else None) if everything else None,
        processed=processed,
    )


def files_per_day_and_tag(records: Iterable[FileRecord]) -> dict[tuple[str, str], int]:
    """Files per (upload day, tag) that the counters count: finished by the extractor, not deleted."""
    counts: dict[tuple[str, str], int] = {}
    for r in records:
        if r.status in COUNTED_STATUSES and r.rev:
            for tag in r.tags:
                counts[(day_of(r), tag)] = counts.get((day_of(r), tag), 0) + 1
    return counts


def tag_counters(aggregate_items: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """Files per (day, tag) in the AGG#DAY_TAG cells, shards, uploaders and formats summed, zeros left out.

    Each cell's ``files`` must also equal the sum of its status counters.
    """
    counts: dict[tuple[str, str], int] = {}
    for item in aggregate_items:
        if item["pk"]["S"] != "AGG#DAY_TAG":
            continue
        _, day, dimension, _ = parse_aggregate_key(item["pk"]["S"], item["sk"]["S"])
        counters = cell_counters(item)
        assert counters.get("files", 0) == sum(v for k, v in counters.items() if k.startswith("status_")), item
        key = (day, parse_tag_dimension(dimension)[2])
        counts[key] = counts.get(key, 0) + counters.get("files", 0)
    return {key: n for key, n in counts.items() if n}
