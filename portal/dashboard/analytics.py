"""Dashboard figures from the pre-aggregated counters. Pure: no AWS, no Streamlit.

Everything here reads the aggregate cells of :mod:`common.schema.aggregates` (per day;
per day and format; per day and uploader; each summed over its shards),
never the file items, so the work grows with days x formats x uploaders in
the date range and not with the number of files.

What the counters allow, and so what the filters can do:

* **Date range**: exact (every cell is one upload day).
* **Format**: exact, from the AGG#DAY_FORMAT cells (summed over every format
  when none is chosen: the AGG#DAY cells would say the same, and reading them
  too would only add cost).
* **Uploader**: exact, from the AGG#DAY_OWNER cells. Those cells are not split
  by format, so format and uploader cannot be combined: with both given, the
  uploader wins, the format filter is ignored and a note says so.
* **Names**: AGG#DAY_PEOPLE cells count processed files per day, uploader
  and author (or producing application); they are not split by format or
  status, so those filters do not apply to the top-names charts.
* **Tags**: AGG#DAY_TAG cells (per day, uploader, format, tag; by status): exact
  (:mod:`portal.dashboard.tags`).
* **Status**: each cell counts ``status_processed``, ``status_failed`` and
  ``status_expired`` (a finished file whose object the retention rule removed;
  it stays counted in ``files``, its earlier status is gone), so file counts,
  the processed share, failures, failures by reason (counted for failed files
  only), uploads over time, the format mix and top uploaders filter exactly. Bytes, pages,
  processing time, latency and flags are summed over all finished files of a
  cell: under a status filter the KPIs built on them are ``None`` and the
  charts built on them cover every status, with a note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from common.catalogue import COUNTED_STATUSES
from common.schema.aggregates import (
    PEOPLE_FIELDS,
    cell_counters,
    latency_buckets,
    pages_buckets,
    parse_aggregate_key,
    size_buckets,
)
from common.schema.keys import PK, SK
from portal.dashboard.cells import NOTE_FORMAT_IGNORED, Series, cells_in, files_column, order, sum_by
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.dashboard.labels import pages_bucket_label, size_bucket_label
from portal.dashboard.tags import tags_over_time, top_tags

#: Longest range whose days are all drawn on a time axis; longer ones start at the first data.
_FULL_AXIS_DAYS = 366
#: What a series shows instead of formats when its cells are not split by format.
ALL_FORMATS = "all formats"
KEYS = ("grain", "day", "dimension")
_BASE_COUNTERS = ("files", "bytes", *(f"status_{s}" for s in COUNTED_STATUSES), "duration_ms", "pages",
                  "paged_files", "latency_ms", *(name for name, _ in latency_buckets()),
                  *(name for name, _ in size_buckets()), *(name for name, _ in pages_buckets()))
LATENCY_BUCKETS = latency_buckets()
SIZE_BUCKETS = size_buckets()
PAGES_BUCKETS = pages_buckets()
NOTE_PEOPLE = ("Authors and producing applications are counted for processed files, whatever their format or "
               "status filter.")

NOTE_NO_FORMAT_SPLIT = "Per-uploader counters are not split by format, so all formats are shown together."
NOTE_STATUS_PARTIAL = ("The counters do not split sizes, pages, processing times, latency or risk flags by "
                       "status: under a status filter those figures show “—” and those charts count every "
                       "finished file.")
NOTE_UPLOADERS_ALL_FORMATS = ("Top uploaders count every format: the per-uploader counters are not split by "
                              "format.")


# --- the frame --------------------------------------------------------------------


def aggregate_frame(items: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per cell (grain, day, dimension) with every counter, shards summed.

    ``items`` are low-level DynamoDB items (``{"files": {"N": "3"}, ...}``).
    Counters absent from an item are 0, as the schema defines; the dimension
    is the format or uploader, "" on the per-day grain. Merged cells' packed
    counters count like numeric ones (:func:`common.schema.aggregates.cell_counters`);
    a cell's ``writes`` (how often it was updated) is not a counter.
    """
    rows = []
    for item in items:
        grain, day, dimension, _ = parse_aggregate_key(item[PK]["S"], item[SK]["S"])
        rows.append({**cell_counters(item), "grain": grain, "day": day, "dimension": dimension})
    counters = sorted(set(_BASE_COUNTERS).union(*(set(r) - set(KEYS) for r in rows)))
    frame = pd.DataFrame(rows, columns=[*KEYS, *counters])
    frame[counters] = frame[counters].fillna(0).astype("int64")
    for key in KEYS:
        frame[key] = frame[key].astype(str)
    return frame.groupby(list(KEYS), as_index=False, sort=True).sum()


def _selection(frame: pd.DataFrame, filters: DashboardFilters) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The cells that hold exactly the filtered files (status aside), and notes.

    Without an uploader the per-format cells are used, all of them when no
    format is chosen: they hold the same files as the per-day cells, and the
    format charts need them anyway, so the per-day partition is never read.
    """
    if filters.owner is not None:
        cells = cells_in(frame, "DAY_OWNER", filters)
        return cells[cells["dimension"] == filters.owner], (NOTE_FORMAT_IGNORED,) if filters.formats else ()
    cells = cells_in(frame, "DAY_FORMAT", filters)
    return (cells[cells["dimension"].isin(filters.formats)] if filters.formats else cells), ()


def _by_format(frame: pd.DataFrame, filters: DashboardFilters) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Cells whose dimension is a format; for one uploader, all their files as ALL_FORMATS."""
    if filters.owner is not None:
        cells, notes = _selection(frame, filters)
        return cells.assign(dimension=ALL_FORMATS), (*notes, NOTE_NO_FORMAT_SPLIT)
    cells = cells_in(frame, "DAY_FORMAT", filters)
    return (cells[cells["dimension"].isin(filters.formats)] if filters.formats else cells), ()


def _status_notes(filters: DashboardFilters) -> tuple[str, ...]:
    return (NOTE_STATUS_PARTIAL,) if filters.status != "all" else ()


def _total(cells: pd.DataFrame, column: str) -> int:
    return int(cells[column].sum()) if column in cells else 0


# --- KPIs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    """The headline numbers; None where there is nothing to tell or the filter cannot apply."""

    files: int
    storage_bytes: int | None
    processed_share: float | None
    failures: int
    median_latency_ms: int | None
    p95_latency_ms: int | None
    mean_processing_ms: float | None
    notes: tuple[str, ...] = ()
    #: Processed files under the filters: what the processed share's link counts.
    processed: int = 0


def histogram_quantile(counts: Sequence[int], bounds: Sequence[int], percent: int) -> int | None:
    """The ``percent``-th percentile of a histogram, as the upper bound of its bucket.

    The estimate is the upper bound of the first bucket where the cumulative
    count reaches rank ``ceil(percent * n / 100)`` (at least 1): the true value
    is at most that, and above the previous bound. The open last bucket is
    reported as its lower bound, the largest bound known. None for no counts.
    """
    n = sum(counts)
    if n <= 0:
        return None
    rank = max(1, -(-percent * n // 100))
    cumulative = 0
    for count, bound in zip(counts, bounds, strict=True):
        cumulative += count
        if cumulative >= rank:
            return bound
    raise AssertionError("unreachable: the counts reach n")


def kpis(frame: pd.DataFrame, filters: DashboardFilters) -> Kpis:
    """Files, storage, processed share, failures, latency percentiles, mean processing time.

    Latency percentiles are estimated from the histogram counters by
    :func:`histogram_quantile`: the upper bound of the bucket where the
    cumulative count crosses the quantile's rank; files slower than the last
    bound (300000 ms) are reported as that bound. Mean processing time is the
    summed extraction time over the files. The processed share is processed
    over processed and failed files: an expired file's outcome is no longer
    known, so it is left out (None when no outcome is known). Under a status
    filter, files, processed share and failures are exact; storage, latency and
    processing time cannot be split by status and are None.
    """
    cells, notes = _selection(frame, filters)
    shown = ("processed", "failed") if filters.status == "all" else (filters.status,)
    processed = _total(cells, "status_processed") if "processed" in shown else 0
    failed = _total(cells, "status_failed") if "failed" in shown else 0
    files = _total(cells, files_column(filters))
    share = processed / (processed + failed) if processed + failed else None
    if filters.status != "all":
        return Kpis(files=files, storage_bytes=None, processed_share=share, failures=failed,
                    median_latency_ms=None, p95_latency_ms=None, mean_processing_ms=None,
                    notes=(*notes, NOTE_STATUS_PARTIAL), processed=processed)
    counts = [_total(cells, name) for name, _ in LATENCY_BUCKETS]
    bounds = [bound for _, bound in LATENCY_BUCKETS]
    return Kpis(
        files=files, storage_bytes=_total(cells, "bytes"), processed_share=share, failures=failed,
        median_latency_ms=histogram_quantile(counts, bounds, 50),
        p95_latency_ms=histogram_quantile(counts, bounds, 95),
        mean_processing_ms=_total(cells, "duration_ms") / files if files else None, notes=notes,
        processed=processed,
    )


# --- series -------------------------------------------------------------------------


def uploads_over_time(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Files per upload day and format (columns day, format, files), for a stacked chart.

    Exact under every filter; for one uploader the formats are not known and
    every file is counted under ALL_FORMATS.
    """
    cells, notes = _by_format(frame, filters)
    column = files_column(filters)
    out = sum_by(cells, ["day", "dimension"], {column: "files"})
    return Series(out[out["files"] > 0].reset_index(drop=True), notes)


def format_mix(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Files per format and their share of the period (columns format, files, share).

    Empty, with a note, for one uploader: their counters are not split by format.
    """
    if filters.owner is not None:
        notes = _by_format(frame, filters)[1]
        return Series(pd.DataFrame({"format": pd.Series(dtype=str), "files": pd.Series(dtype="int64"),
                                    "share": pd.Series(dtype=float)}), notes)
    cells, notes = _by_format(frame, filters)
    out = sum_by(cells, ["dimension"], {files_column(filters): "files"})
    out = out[out["files"] > 0]
    out = out.assign(share=out["files"] / out["files"].sum() if len(out) else 0.0)
    return Series(order(out, "files", "format"), notes)


def pages_distribution(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Pages (or slides) per format: columns format, pages, paged_files, pages_per_file.

    Only files whose metadata has a page count are counted; a status filter
    does not apply (pages are not split by status).
    """
    cells, notes = _by_format(frame, filters)
    out = sum_by(cells, ["dimension"], {"pages": "pages", "paged_files": "paged_files"})
    out = out[out["paged_files"] > 0]
    out = out.assign(pages_per_file=out["pages"] / out["paged_files"])
    return Series(order(out, "pages_per_file", "format"), (*notes, *_status_notes(filters)))


def latency_trend(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Per day: mean upload-to-finished latency and the share of files in each latency bucket.

    Columns: day, files (with a latency), mean_latency_ms, and ``share_<bucket
    counter>`` for each of :data:`LATENCY_BUCKETS` (0..1, summing to 1 per
    day). A status filter does not apply.
    """
    cells, notes = _selection(frame, filters)
    buckets = [name for name, _ in LATENCY_BUCKETS]
    out = cells.groupby("day", as_index=False, sort=True)[["latency_ms", *buckets]].sum()
    out["files"] = out[buckets].sum(axis=1)
    out = out[out["files"] > 0].reset_index(drop=True)
    result = pd.DataFrame({"day": out["day"], "files": out["files"],
                           "mean_latency_ms": out["latency_ms"] / out["files"]})
    for name in buckets:
        result[f"share_{name}"] = out[name] / out["files"]
    return Series(result, (*notes, *_status_notes(filters)))


def _prefixed_counts(cells: pd.DataFrame, prefix: str, label: str, value: str) -> pd.DataFrame:
    columns = [c for c in cells.columns if c.startswith(prefix)]
    sums = cells[columns].sum() if columns else pd.Series(dtype="int64")
    out = pd.DataFrame({label: [c[len(prefix):] for c in sums.index], value: sums.astype("int64").to_numpy()})
    return order(out[out[value] > 0], value, label)


def failures_by_reason(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Failed files per general reason (columns reason, failures); exact under every filter.

    Reasons are only counted for failed files, so under another status it is empty.
    """
    cells, notes = _selection(frame, filters)
    out = _prefixed_counts(cells, "reason_", "reason", "failures")
    return Series(out if filters.status in ("all", "failed") else out.iloc[0:0], notes)


def risk_flags(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Files per risk or quality flag (columns flag, files); a status filter does not apply."""
    cells, notes = _selection(frame, filters)
    return Series(_prefixed_counts(cells, "flag_", "flag", "files"), (*notes, *_status_notes(filters)))


def top_uploaders(frame: pd.DataFrame, filters: DashboardFilters, limit: int = 10) -> Series:
    """The uploaders with most files (columns owner, files, failures), from AGG#DAY_OWNER.

    For analysts and admins only: the caller decides (see :func:`build_dashboard`).
    The per-uploader cells have no format split, so a format filter is ignored
    here (with a note); the status filter is exact.
    """
    cells = cells_in(frame, "DAY_OWNER", filters)
    if filters.owner is not None:
        cells = cells[cells["dimension"] == filters.owner]
    counters = ["files", *(f"status_{status}" for status in COUNTED_STATUSES)]
    sums = cells.groupby("dimension", as_index=False, sort=True)[counters].sum()
    out = pd.DataFrame({"owner": sums["dimension"], "files": sums[files_column(filters)],
                        "failures": sums["status_failed"] if filters.status in ("all", "failed") else 0})
    notes = (NOTE_UPLOADERS_ALL_FORMATS,) if filters.formats and filters.owner is None else ()
    return Series(order(out[out["files"] > 0], "files", "owner").head(limit).reset_index(drop=True), notes)


def size_per_format(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Mean file size per format (columns format, files, bytes, mean_bytes).

    A size proxy: the counters keep total bytes and files per cell, not a
    per-file size histogram, so a mean is all that can be told (no median or
    spread). Bytes are not split by status, so ``files`` here counts every
    status and a status filter does not apply.
    """
    cells, notes = _by_format(frame, filters)
    out = sum_by(cells, ["dimension"], {"files": "files", "bytes": "bytes"})
    out = out[out["files"] > 0]
    out = out.assign(mean_bytes=out["bytes"] / out["files"])
    return Series(order(out, "mean_bytes", "format"), (*notes, *_status_notes(filters)))


def _histogram(frame: pd.DataFrame, filters: DashboardFilters, buckets: tuple[tuple[str, int], ...],
               label: Callable[[str], str]) -> Series:
    """Files per bucket of a histogram, in bucket order (columns bucket, upper, files); exact for
    uploader and format, while histograms are not split by status (a note says so)."""
    cells, notes = _selection(frame, filters)
    names = [name for name, _ in buckets]
    out = pd.DataFrame({"bucket": [label(n) for n in names], "upper": [bound for _, bound in buckets],
                        "files": [_total(cells, n) for n in names]})
    return Series(out if out["files"].sum() else out.iloc[0:0], (*notes, *_status_notes(filters)))


def size_distribution(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Files per size bucket, smallest first (columns bucket, upper in bytes, files)."""
    return _histogram(frame, filters, SIZE_BUCKETS, size_bucket_label)


def pages_histogram(frame: pd.DataFrame, filters: DashboardFilters) -> Series:
    """Paged documents per length bucket, shortest first (columns bucket, upper in pages, files)."""
    return _histogram(frame, filters, PAGES_BUCKETS, pages_bucket_label)


def top_names(frame: pd.DataFrame, filters: DashboardFilters, kind: str, limit: int = 10) -> Series:
    """The authors (``kind="author"``) or producing applications (``"producer"``) on most files.

    Columns name, files. From the AGG#DAY_PEOPLE cells, whose dimension is
    ``<owner>#<kind>=<name>``; for one uploader only their cells count.
    """
    if kind not in PEOPLE_FIELDS:
        raise ValueError(f"unknown kind of name {kind!r}")
    cells = cells_in(frame, "DAY_PEOPLE", filters)
    prefix = f"{kind}="
    counts: dict[str, int] = {}
    for dimension, files in zip(cells["dimension"], cells["files"], strict=True):
        owner, _, named = dimension.partition("#")
        if named.startswith(prefix) and filters.owner in (None, owner):
            counts[named[len(prefix):]] = counts.get(named[len(prefix):], 0) + int(files)
    out = pd.DataFrame({"name": pd.Series(list(counts), dtype=str),
                        "files": pd.Series(list(counts.values()), dtype="int64")})
    out = order(out[out["files"] > 0], "files", "name").head(limit).reset_index(drop=True)
    notes = (NOTE_PEOPLE,) if filters.formats or filters.status != "all" else ()
    return Series(out, notes)


# --- the whole dashboard ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Dashboard:
    """Everything the dashboard page shows, for one viewer and filters."""

    filters: DashboardFilters
    kpis: Kpis
    uploads: Series
    formats: Series
    pages: Series
    latency: Series
    failures: Series
    flags: Series
    tags: Series
    tags_over_time: Series
    sizes: Series
    size_distribution: Series
    pages_histogram: Series
    authors: Series
    producers: Series
    uploaders: Series | None
    #: False when the numbers are one uploader's: their cells are not split by format.
    format_split: bool
    formats_available: tuple[str, ...]
    owners_available: tuple[str, ...]
    day_axis: tuple[str, str] | None
    notes: tuple[str, ...] = field(default=())


def day_axis(frame: pd.DataFrame, filters: DashboardFilters) -> tuple[str, str] | None:
    """The days a time axis spans: the whole range up to a year, else from the first data."""
    start, end = date.fromisoformat(filters.start), date.fromisoformat(filters.end)
    if (end - start).days < _FULL_AXIS_DAYS:
        return filters.start, filters.end
    cells = _selection(frame, filters)[0]
    days = cells.loc[cells["files"] > 0, "day"]
    return (str(days.min()), filters.end) if len(days) else None


def dimensions(frame: pd.DataFrame, grain: str, filters: DashboardFilters | None = None) -> tuple[str, ...]:
    """The formats (DAY_FORMAT) or uploaders (DAY_OWNER) with files, in the range if given: filter choices."""
    cells = cells_in(frame, grain, filters) if filters else frame[frame["grain"] == grain]
    return tuple(sorted(set(cells.loc[cells["files"] > 0, "dimension"])))


def build_dashboard(frame: pd.DataFrame, filters: DashboardFilters, viewer: Viewer) -> Dashboard:
    """Every KPI and series for ``viewer``, who sees only their own files unless an analyst or admin.

    The filters are narrowed by :meth:`Viewer.scope` here too, so no caller
    can show someone else's numbers by passing another owner.
    """
    filters = viewer.scope(filters)
    series = {
        "uploads": uploads_over_time(frame, filters), "formats": format_mix(frame, filters),
        "pages": pages_distribution(frame, filters), "latency": latency_trend(frame, filters),
        "failures": failures_by_reason(frame, filters), "flags": risk_flags(frame, filters),
        "tags": top_tags(frame, filters), "tags_over_time": tags_over_time(frame, filters),
        "sizes": size_per_format(frame, filters), "size_distribution": size_distribution(frame, filters),
        "pages_histogram": pages_histogram(frame, filters),
        "authors": top_names(frame, filters, "author"), "producers": top_names(frame, filters, "producer"),
    }
    uploaders = top_uploaders(frame, filters) if viewer.sees_everyone else None
    figures = kpis(frame, filters)
    shown = [figures.notes, *(s.notes for s in series.values()), uploaders.notes if uploaders else ()]
    notes = dict.fromkeys(note for part in shown for note in part)
    return Dashboard(
        filters=filters, kpis=figures, uploaders=uploaders, **series, format_split=filters.owner is None,
        formats_available=dimensions(frame, "DAY_FORMAT", filters),
        owners_available=dimensions(frame, "DAY_OWNER", filters) if viewer.sees_everyone else (),
        day_axis=day_axis(frame, filters), notes=tuple(notes),
    )
