"""The dashboard's words: KPI tiles, bucket labels. Pure: no AWS, no Streamlit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.schema.aggregates import LATENCY_BOUNDS_MS, PAGES_BOUNDS
from portal.text import human_ms, human_size

if TYPE_CHECKING:
    from portal.dashboard.analytics import Kpis


def size_bucket_label(name: str) -> str:
    """A size counter as an axis label: ``≤ 100 KB``, ``> 100 MB``."""
    bound = int(name.rsplit("_", 1)[1])
    return ("> " if name.startswith("size_gt_") else "≤ ") + human_size(bound).replace(".0 ", " ")


def pages_bucket_label(name: str) -> str:
    """A pages counter as an axis label: ``≤ 1 page``, ``2–5 pages``, ``> 100 pages``."""
    bounds = PAGES_BOUNDS
    bound = int(name.rsplit("_", 1)[1])
    if name.startswith("pages_gt_"):
        return f"> {bound} pages"
    lower = ([0, *bounds][bounds.index(bound)]) + 1
    return f"≤ {bound} page" if bound == 1 else f"{lower}–{bound} pages"


def bucket_label(name: str) -> str:
    """A latency counter as a legend label: ``≤ 1 s``, ``> 5 min``."""
    bound = int(name.rsplit("_", 1)[1])
    return ("> " if name.startswith("latency_gt_") else "≤ ") + human_ms(bound)


@dataclass(frozen=True)
class Tile:
    """One KPI as the page shows it."""

    label: str
    value: str
    help: str


def _latency_tile(ms: int | None) -> str:
    """A percentile estimate in words: at most its bucket's bound; the top bound means over a minute."""
    if ms is None:
        return "—"
    bounds = LATENCY_BOUNDS_MS
    return f"> {human_ms(bounds[-2])}" if ms >= bounds[-1] else f"≤ {human_ms(ms)}"


def kpi_tiles(k: Kpis) -> tuple[Tile, ...]:
    """The KPI tiles, formatted; "—" where a figure is unknown or not filterable."""
    share = "—" if k.processed_share is None else f"{k.processed_share:.1%}"
    estimate = ("Upload to finished, estimated from the latency histogram: at most the upper bound of the "
                "bucket the percentile falls in, or \"> 1 min\" beyond a minute.")
    return (
        Tile("Files", f"{k.files:,}", "Files uploaded in the period that are finished: processed, failed, "
             "or expired (removed by the retention rule)."),
        Tile("Volume", "—" if k.storage_bytes is None else human_size(k.storage_bytes),
             "Total size of those files when uploaded, expired ones included."),
        Tile("Processed", share, "Processed files among the processed and failed ones (an expired file's "
             "outcome is no longer known)."),
        Tile("Failures", f"{k.failures:,}", "Files whose processing failed."),
        Tile("Median latency", _latency_tile(k.median_latency_ms), estimate),
        Tile("95th pct latency", _latency_tile(k.p95_latency_ms), estimate),
        Tile("Mean processing", human_ms(k.mean_processing_ms), "Mean extraction time per file."),
    )
