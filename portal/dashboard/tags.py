"""The tag charts: top tags and files per tag over time, from the AGG#DAY_TAG cells. Pure.

Each AGG#DAY_TAG cell counts one day, uploader, format and tag, by status,
so both series are exact under every filter; an uploader filter wins over a
format filter (with a note), as on the other per-uploader charts.
"""

from __future__ import annotations

import pandas as pd

from common.schema.aggregates import parse_tag_dimension
from portal.dashboard.cells import NOTE_FORMAT_IGNORED, Series, cells_in, files_column, order, sum_by
from portal.dashboard.filters import DashboardFilters

#: Tags in the top-tags chart, and the tags the files-per-tag-over-time chart follows.
TOP_TAGS, TAGS_OVER_TIME = 10, 5


def _tag_cells(frame: pd.DataFrame, filters: DashboardFilters) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The filtered files' AGG#DAY_TAG cells, a ``tag`` column added; the uploader wins over formats."""
    cells, owner, wanted = cells_in(frame, "DAY_TAG", filters), filters.owner, filters.formats
    parts = [parse_tag_dimension(d) for d in cells["dimension"]]
    keep = [o == owner if owner is not None else f in wanted or not wanted for o, f, _ in parts]
    notes = (NOTE_FORMAT_IGNORED,) if owner is not None and wanted else ()
    return cells.assign(tag=[tag for _, _, tag in parts]).loc[keep], notes


def top_tags(frame: pd.DataFrame, filters: DashboardFilters, limit: int = TOP_TAGS) -> Series:
    """The tags on most files (columns tag, files); exact under every filter."""
    cells, notes = _tag_cells(frame, filters)
    out = sum_by(cells, ["tag"], {files_column(filters): "files"})
    return Series(order(out[out["files"] > 0], "files", "tag").head(limit).reset_index(drop=True), notes)


def tags_over_time(frame: pd.DataFrame, filters: DashboardFilters, limit: int = TAGS_OVER_TIME) -> Series:
    """Files per day of the ``limit`` top tags (columns day, tag, files), top tag first; exact."""
    cells, notes = _tag_cells(frame, filters)
    top = top_tags(frame, filters, limit).frame["tag"].tolist()
    out = sum_by(cells[cells["tag"].isin(top)], ["tag", "day"], {files_column(filters): "files"})
    out = out[out["files"] > 0].assign(rank=out["tag"].map(top.index)).sort_values(["rank", "day"])
    return Series(out[["day", "tag", "files"]].reset_index(drop=True), notes)
