"""What a dashboard shows and for whom: its filters, period presets and the viewer's scope. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from common.catalogue import COUNTED_STATUSES
from common.schema.aggregates import aggregate_range
from portal import access
from portal.access import User

#: What the status filter offers: every counted status, or all of them.
STATUSES: tuple[str, ...] = ("all", *COUNTED_STATUSES)
#: Date range presets, in days ending today; "all" and "custom" have no fixed length.
PRESET_DAYS: Mapping[str, int] = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
PRESETS = (*PRESET_DAYS, "all", "custom")
PRESET_LABELS: Mapping[str, str] = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "365d": "365 days",
                                    "all": "All", "custom": "Custom"}
DEFAULT_PRESET = "30d"
#: The first day "all" reads from: before any upload.
ALL_START = "2000-01-01"


@dataclass(frozen=True)
class DashboardFilters:
    """What a dashboard shows: upload days ``start``..``end`` (inclusive, ISO) and more.

    ``formats`` empty means every format; ``owner`` None means every uploader.

    Raises
    ------
    ValueError
        For days that are not ISO dates, a start after the end, or an unknown status.
    """

    start: str
    end: str
    formats: frozenset[str] = frozenset()
    owner: str | None = None
    status: str = "all"

    def __post_init__(self) -> None:
        aggregate_range("DAY", self.start, self.end)  # validates both days and their order
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        object.__setattr__(self, "formats", frozenset(self.formats))
        if not self.owner:
            object.__setattr__(self, "owner", None)

    def key(self) -> tuple[str, str, tuple[str, ...], str, str]:
        """A canonical, hashable form (sorted formats), e.g. for a cache key."""
        return self.start, self.end, tuple(sorted(self.formats)), self.owner or "", self.status

    @classmethod
    def from_key(cls, key: Sequence[Any]) -> DashboardFilters:
        """The filters :meth:`key` describes."""
        start, end, formats, owner, status = key
        return cls(start, end, frozenset(formats), owner or None, status)


def preset_range(preset: str, today: date, custom: Sequence[date] = ()) -> tuple[str, str]:
    """Start and end day of a range preset; ``custom`` holds the picked days.

    A custom range being picked has one day so far: it is that day alone.
    """
    if preset in PRESET_DAYS:
        return (today - timedelta(days=PRESET_DAYS[preset] - 1)).isoformat(), today.isoformat()
    if preset == "custom" and custom:
        days = sorted(custom)
        return days[0].isoformat(), days[-1].isoformat()
    if preset == "custom":
        return preset_range(DEFAULT_PRESET, today)
    if preset == "all":
        return ALL_START, today.isoformat()
    raise ValueError(f"unknown range preset {preset!r}")


@dataclass(frozen=True)
class Viewer:
    """Whose numbers a dashboard may show: everyone's (analysts, admins) or the viewer's own."""

    sub: str
    sees_everyone: bool

    @classmethod
    def of(cls, user: User) -> Viewer:
        """The viewer a verified user is."""
        return cls(user.sub, access.sees_everyone(user))

    def scope(self, filters: DashboardFilters) -> DashboardFilters:
        """``filters`` narrowed to what this viewer may see: anyone else only their own files."""
        return filters if self.sees_everyone else replace(filters, owner=self.sub)
