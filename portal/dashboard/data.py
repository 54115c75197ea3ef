"""The dashboard's reads: aggregate cells from DynamoDB. No Streamlit here.

Only the aggregate partitions are read, one Query per grain over the date
range (paginated), never a scan and never a file item, so the cost of a
dashboard grows with days x formats x uploaders in the range, not with the
number of files: once the compaction job has merged a cell
(``extractor/compactor.py``), it is one item with its counters packed in one
attribute, however many files it counts. Who may see what is decided here, on the server, from the
verified user: an uploader's reads return only their own cells.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from common.schema import requests
from common.schema.aggregates import parse_aggregate_key
from common.schema.keys import PK, SK
from portal.dashboard import analytics
from portal.dashboard.filters import Viewer

logger = logging.getLogger(__name__)

#: Grains whose dimension starts with the uploader (``<owner>#...``), read whole and kept per viewer.
OWNER_KEYED = ("DAY_PEOPLE", "DAY_TAG")


@dataclass
class CallCounter:
    """How many DynamoDB requests were made (each page of a Query is one)."""

    calls: int = 0


def read_aggregates(ddb: Any, table: str, grain: str, start_day: str, end_day: str,
                    dimension: str | None = None, *, page_size: int | None = None,
                    counter: CallCounter | None = None) -> list[dict[str, Any]]:
    """Every cell item of ``grain`` from ``start_day`` to ``end_day`` (inclusive), shards apart.

    One Query on ``pk = AGG#<grain>`` with ``sk BETWEEN <start> AND <end>~``,
    following ``LastEvaluatedKey``; items come back whole (their counters are
    what is wanted). ``dimension`` keeps only one format or uploader's cells,
    filtered here because the key has the day first: reading one uploader
    therefore costs days x uploaders items (x shards where the compaction
    job has not merged them yet), the same as reading all.
    ``page_size`` (DynamoDB's ``Limit``) forces small pages, for tests.
    ``counter``, when given, is increased by the number of requests made.

    Raises
    ------
    ValueError
        For an unknown grain, invalid days, or a dimension on the per-day grain.
    """
    if dimension is not None and grain == "DAY":
        raise ValueError("the per-day grain has no dimension")
    request = requests.query_aggregates(table, grain, start_day, end_day, limit=page_size)
    items: list[dict[str, Any]] = []
    while True:
        response = ddb.query(**request)
        if counter is not None:
            counter.calls += 1
        page = response.get("Items", [])
        if dimension is not None:
            page = [item for item in page
                    if parse_aggregate_key(item[PK]["S"], item[SK]["S"])[2] == dimension]
        items.extend(page)
        last = response.get("LastEvaluatedKey")
        if not last:
            return items
        request = {**request, "ExclusiveStartKey": last}


@dataclass(frozen=True, eq=False)
class Loaded:
    """The cells a viewer may see for a date range, as a frame, and what reading them cost."""

    frame: pd.DataFrame
    calls: int
    grains: tuple[str, ...]


def load(ddb: Any, table: str, viewer: Viewer, start_day: str, end_day: str, *,
         page_size: int | None = None) -> Loaded:
    """Read what ``viewer``'s dashboard needs for the range; filters other than days apply later.

    Analysts and admins get the per-format and per-uploader cells (the
    per-day ones would repeat the per-format ones' sums); anyone else gets
    only their own per-uploader cells, so no other user's numbers ever leave
    this function for them, whatever the page asks.
    """
    counter = CallCounter()
    if viewer.sees_everyone:
        reads: tuple[tuple[str, str | None], ...] = (("DAY_FORMAT", None), ("DAY_OWNER", None))
    else:
        reads = (("DAY_OWNER", viewer.sub),)
    items: list[dict[str, Any]] = []
    for grain, dimension in reads:
        items += read_aggregates(ddb, table, grain, start_day, end_day, dimension,
                                 page_size=page_size, counter=counter)
    # Names and tags are keyed <owner>#...: anyone but an analyst or admin keeps only their own.
    for grain in OWNER_KEYED:
        cells = read_aggregates(ddb, table, grain, start_day, end_day, page_size=page_size, counter=counter)
        if not viewer.sees_everyone:
            own = f"{viewer.sub}#"
            cells = [item for item in cells
                     if parse_aggregate_key(item[PK]["S"], item[SK]["S"])[2].startswith(own)]
        items += cells
    grains = (*(g for g, _ in reads), *OWNER_KEYED)
    return Loaded(analytics.aggregate_frame(items), counter.calls, grains)
