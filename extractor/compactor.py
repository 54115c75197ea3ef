"""The scheduled job that merges finished days' aggregate shards (see :mod:`common.schema.compaction`).

It reads each grain's cells for a range of days with paginated Queries and
rewrites every cell that is not yet one packed item on shard 0 (more shard
items, counters added since the last merge, a counter at 0) as one item, in
one conditional transaction per cell. Today is merged too: files finishing
after the run add to shard items again, which the next run merges. A cell
that changed between read and write (an extractor transaction landing in
between) is left for the next run; nothing is lost either way, as readers
sum shards. The extractor retries a transaction that conflicted with the
job's, as it does for conflicts with other files.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from common import aws, filestore
from common.schema import requests
from common.schema.aggregates import AGG_GRAINS
from common.schema.compaction import cells
from common.settings import Settings

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "compactor"))
#: Days before today a run covers (besides today) when the event does not say.
DEFAULT_DAYS = 40
#: The first day a run over "all" days reads from: before any upload.
ALL_START = "2000-01-01"
#: Time left at which a run stops merging, well before Lambda's timeout.
_MARGIN_MS = 30_000


@dataclass(frozen=True)
class Report:
    """What one run did: cells read, cells merged, items fewer than before, cells left busy.

    ``stopped_early`` says the run ran out of time before its oldest days.
    """

    cells: int = 0
    compacted: int = 0
    items_removed: int = 0
    busy: int = 0
    stopped_early: bool = False

    def __add__(self, other: Report) -> Report:
        return Report(self.cells + other.cells, self.compacted + other.compacted,
                      self.items_removed + other.items_removed, self.busy + other.busy,
                      self.stopped_early or other.stopped_early)


def _items(ddb: Any, table: str, grain: str, start_day: str, end_day: str) -> Iterator[dict[str, Any]]:
    request = requests.query_aggregates(table, grain, start_day, end_day)
    request["ConsistentRead"] = True  # the conditions compare with what was read: read the latest
    request["ScanIndexForward"] = False  # newest days first: the ones dashboards read most
    for page in ddb.get_paginator("query").paginate(**request):
        yield from page.get("Items", [])


def compact(ddb: Any, table: str, start_day: str, end_day: str,
            grains: tuple[str, ...] = AGG_GRAINS,
            out_of_time: Callable[[], bool] = lambda: False) -> Report:
    """Merge the shards of every cell of ``grains`` from ``start_day`` to ``end_day`` (inclusive).

    Each grain is read newest day first. ``out_of_time`` is asked before each
    cell; once it says so the run stops (``stopped_early``), leaving the
    older cells for the next run, instead of being killed mid-way.

    Raises
    ------
    botocore.exceptions.ClientError
        For any DynamoDB error other than a cell that changed meanwhile
        (throttling, permissions): the run stops and the next one resumes.
    ValueError
        For invalid days.
    """
    report = Report()
    for grain in grains:
        for cell in cells(_items(ddb, table, grain, start_day, end_day)):
            if out_of_time():
                return report + Report(stopped_early=True)
            report += Report(cells=1)
            if cell.compacted():
                continue
            request = cell.transaction(table)
            try:
                ddb.transact_write_items(**request)
            except ClientError as e:
                if filestore.cancelled(e) is None:  # not a cell that changed meanwhile
                    raise
                report += Report(busy=1)
                continue
            removed = len(cell.items) - sum(1 for action in request["TransactItems"] if "Put" in action)
            report += Report(compacted=1, items_removed=removed)
    return report


def day_range(days: int | str, today: date) -> tuple[str, str]:
    """The days a run covers: ``today`` and the ``days`` before it, or every day up to today for "all".

    Raises
    ------
    ValueError
        For a number of days that is not a positive integer, or another word than "all".
    """
    end = today.isoformat()
    if days == "all":
        return ALL_START, end
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer or 'all', not {days!r}")
    return (today - timedelta(days=days)).isoformat(), end


@functools.cache
def _table() -> str:
    return Settings.from_env().table


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled entry point; ``event`` may hold ``{"days": <n> | "all"}`` (default 40)."""
    days = (event or {}).get("days", DEFAULT_DAYS)
    start, end = day_range(days, datetime.now(UTC).date())
    report = compact(aws.client("dynamodb"), _table(), start, end,
                     out_of_time=lambda: context.get_remaining_time_in_millis() < _MARGIN_MS)
    summary = {"start": start, "end": end, **asdict(report)}
    logger.info("compaction done", extra=summary)
    return summary
