"""Drill-through: each dashboard figure's link to the Files view of exactly the files it counts. Pure.

A link is the Files view's URL query (:func:`portal.files.links.to_params`):
the dashboard's period as upload days (UTC, as the counters file them),
its formats or uploader, and ``counted=1``: only files the counters count,
finished by the extractor and not deleted (a file the portal itself marked
failed never moved a counter, so its link leaves it out too). The status
filter goes along where the figure honours it; figures the counters do not
split by status (flags, size and page buckets, mean size) link to every
counted file of their cut, as they count them. A tag's figure links with the
Files view's tag filter (on its day, for files per tag over time).

Not linked, because no Files filter selects exactly their files: latency
per day (files with a finish time), pages per format (files with a page
count) and the top authors and producing applications (exact names, where
the Files search finds substrings).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from common.catalogue import FileStatus
from portal.dashboard.analytics import Dashboard
from portal.files import links
from portal.files.explorer import PAGES_BUCKETS, SIZE_BUCKETS, FileFilters


@dataclass(frozen=True)
class Link:
    """One figure, what it is called, and the Files view's URL query that lists its files."""

    label: str
    figure: int
    params: Mapping[str, list[str]]


def _base(board: Dashboard, everyone: bool) -> FileFilters:
    """The files of the dashboard's period and cut, status aside: the uploader wins over formats."""
    f = board.filters
    owner = f.owner if everyone else None  # an uploader's own files are all they ever see
    formats = f.formats if f.owner is None else frozenset()
    return FileFilters(start_day=f.start, end_day=f.end, owner=owner, formats=formats, counted=True)


def _with_status(base: FileFilters, status: str) -> FileFilters:
    return base if status == "all" else replace(base, statuses=frozenset({FileStatus(status)}))


def _one_format(filters: FileFilters, fmt: str) -> FileFilters:
    return replace(filters, formats=frozenset({fmt}))


def _each(frame: pd.DataFrame, label: str, figure: str, cut: Iterable[FileFilters]) -> tuple[Link, ...]:
    return tuple(Link(str(name), int(count), links.to_params(filters))
                 for name, count, filters in zip(frame[label], frame[figure], cut, strict=True) if count > 0)


def _buckets(frame: pd.DataFrame, cut: Iterable[FileFilters]) -> tuple[Link, ...]:
    """Histogram rows are in bucket order, one per counter (or none at all)."""
    return () if frame.empty else _each(frame, "bucket", "files", cut)


def links_for(board: Dashboard, *, everyone: bool) -> dict[str, tuple[Link, ...]]:
    """Every linked figure of ``board`` by chart name (``kpis`` for the tiles), in the order shown.

    ``everyone`` is whether the viewer sees every uploader's files (analysts,
    admins); an uploader's links name no uploader.
    """
    status = board.filters.status
    base = _base(board, everyone)
    shown = _with_status(base, status)
    k = board.kpis
    kpis = [Link("Files", k.files, links.to_params(shown))]
    if status in ("all", "processed"):
        kpis.append(Link("Processed", k.processed, links.to_params(_with_status(base, "processed"))))
    if status in ("all", "failed"):
        kpis.append(Link("Failures", k.failures, links.to_params(_with_status(base, "failed"))))
    per_day = pd.DataFrame(board.uploads.frame.groupby("day", as_index=False, sort=True)["files"].sum())
    out: dict[str, tuple[Link, ...]] = {
        "kpis": tuple(kpis),
        "uploads": _each(per_day, "day", "files",
                         (replace(shown, start_day=d, end_day=d) for d in per_day["day"])),
    }
    if board.format_split:
        mix, sizes = board.formats.frame, board.sizes.frame
        out["formats"] = _each(mix, "format", "files", (_one_format(shown, f) for f in mix["format"]))
        out["sizes"] = _each(sizes, "format", "files", (_one_format(base, f) for f in sizes["format"]))
    if status in ("all", "failed"):
        failed = _with_status(base, "failed")
        out["failures"] = _each(board.failures.frame, "reason", "failures",
                                (replace(failed, reason=r) for r in board.failures.frame["reason"]))
    else:
        out["failures"] = ()
    out["flags"] = _each(board.flags.frame, "flag", "files",
                         (replace(base, flags=frozenset({f})) for f in board.flags.frame["flag"]))
    tagged = board.tags.frame
    out["tags"] = _each(tagged, "tag", "files", (replace(shown, tags=frozenset({t})) for t in tagged["tag"]))
    over = board.tags_over_time.frame
    labels = [f"{tag} on {day}" for tag, day in zip(over["tag"], over["day"], strict=True)]
    out["tags_over_time"] = _each(over.assign(label=labels), "label", "files",
                                  (replace(shown, tags=frozenset({t}), start_day=d, end_day=d)
                                   for t, d in zip(over["tag"], over["day"], strict=True)))
    out["size_distribution"] = _buckets(board.size_distribution.frame,
                                        (replace(base, size_bucket=b) for b in SIZE_BUCKETS))
    out["pages_histogram"] = _buckets(board.pages_histogram.frame,
                                      (replace(base, pages_bucket=b) for b in PAGES_BUCKETS))
    if board.uploaders is not None and everyone:
        frame = board.uploaders.frame
        out["uploaders"] = _each(frame, "owner", "files",
                                 (replace(shown, owner=o, formats=frozenset()) for o in frame["owner"]))
    return out
