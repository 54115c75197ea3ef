"""What every dashboard series is made of: the range's counter cells, their sums, a stable order.

Pure: no AWS, no Streamlit. Shared by :mod:`portal.dashboard.analytics` and
:mod:`portal.dashboard.tags`, so each chart family can live in its own module
without importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from portal.dashboard.filters import DashboardFilters

NOTE_FORMAT_IGNORED = ("The format filter is not applied while an uploader is selected: the per-uploader "
                       "counters are not split by format.")


@dataclass(frozen=True, eq=False)
class Series:
    """A frame ready for one chart, and what a person must know to read it right."""

    frame: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw."""
        return self.frame.empty


def cells_in(frame: pd.DataFrame, grain: str, filters: DashboardFilters) -> pd.DataFrame:
    """The cells of ``grain`` whose day lies in the filters' date range."""
    in_range = (frame["grain"] == grain) & (frame["day"] >= filters.start) & (frame["day"] <= filters.end)
    return frame[in_range]


def files_column(filters: DashboardFilters) -> str:
    """The counter that counts the files of the status filter."""
    return "files" if filters.status == "all" else f"status_{filters.status}"


def sum_by(cells: pd.DataFrame, by: list[str], columns: dict[str, str]) -> pd.DataFrame:
    """Sums of ``columns`` (counter -> output name) grouped by ``by`` (renamed dimension -> format)."""
    grouped = cells.groupby(by, as_index=False, sort=True)[list(columns)].sum()
    return grouped.rename(columns={**columns, "dimension": "format"}).reset_index(drop=True)


def order(frame: pd.DataFrame, by: str, key: str) -> pd.DataFrame:
    """Largest ``by`` first, ties by ``key``: a stable order for bar charts and tests."""
    return frame.sort_values([by, key], ascending=[False, True], kind="stable").reset_index(drop=True)
