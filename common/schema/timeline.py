"""Every file in upload order: the upload-time index's shards merged, and where a page stopped. Pure.

The ``by_upload_time`` index spreads files over :data:`~common.schema.keys.UPLOAD_SHARDS`
partitions (so a busy hour is not one hot partition); each is sorted by
``<uploaded_at>#<file_id>``, which is unique per file. Reading "every file,
newest first" is therefore a k-way merge of one query per shard, each read
lazily in chunks that grow while a shard keeps being drawn from.

Because that order is total, one position (the sort key of the last file a
page showed) is every shard's position at once: the next page reads, in
each shard, only what sorts after it. A page token holds that one string.

No AWS here: the caller passes a :data:`Fetch` that runs one query.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.schema.keys import UPLOAD_INDEX, UPLOAD_SHARDS, day_bounds

Item = Mapping[str, Any]


@dataclass(frozen=True)
class Chunk:
    """What one query of one shard returned, in the order asked for; ``more`` when it stopped early."""

    items: Sequence[Item]
    more: bool


@dataclass(frozen=True)
class Span:
    """The sort-key bounds (inclusive) one read covers, and its direction."""

    low: str
    high: str
    newest_first: bool


#: Runs one query: ``(shard, span, limit)`` -> at most ``limit`` items of that shard within the span.
Fetch = Callable[[int, Span, int], Chunk]


def position(item: Item) -> str:
    """Where an item sorts in the index (its ``gsi2sk``)."""
    value: str = item[UPLOAD_INDEX.sort_key]["S"]
    return value


def span(start_day: str, end_day: str, *, newest_first: bool, after: str | None = None) -> Span:
    """What is left to read of the upload days ``start_day``..``end_day`` once ``after`` was shown.

    ``after`` is included in the span (DynamoDB's ``BETWEEN`` is inclusive);
    :func:`merged` drops the one file at that position.

    Raises
    ------
    ValueError
        When ``after`` lies outside the days: it was not made for this view.
    """
    low, high = day_bounds(start_day, end_day)
    if after is None:
        return Span(low, high, newest_first)
    if not low <= after <= high:
        raise ValueError("the position lies outside the days asked for")
    return Span(low, after, True) if newest_first else Span(after, high, False)


def _shard(fetch: Fetch, shard: int, whole: Span, first: int, most: int) -> Iterator[Item]:
    """One shard's items in order, read in chunks from ``first`` items doubling up to ``most``."""
    edge = whole.high if whole.newest_first else whole.low
    seen: str | None = None
    limit = first
    while True:
        if seen is None:
            part = whole
        elif whole.newest_first:
            part = Span(whole.low, seen, True)
        else:
            part = Span(seen, whole.high, False)
        chunk = fetch(shard, part, limit)
        for item in chunk.items:
            at = position(item)
            if at == seen or (seen is None and at == edge):
                continue  # inclusive bounds: the item the last page (or chunk) ended with
            seen = at
            yield item
        if not chunk.more:
            return
        limit = min(limit * 2, most)


def merged(fetch: Fetch, whole: Span, *, first: int, most: int,
           shards: Iterable[int] = range(UPLOAD_SHARDS)) -> Iterator[Item]:
    """Every shard's items within ``whole``, merged into one stream in its direction.

    Nothing is read before the stream is: then one chunk of ``first`` items
    per shard, and more of a shard only when the merge reaches the end of
    what was read of it (each time twice as much, up to ``most``). The item
    at a position-bounded edge of ``whole`` (the last one a page showed) is
    left out.
    """
    first = max(2, first)  # with the edge item dropped, a chunk of one could never move on
    most = max(first, most)
    streams = [_shard(fetch, shard, whole, first, most) for shard in shards]
    return heapq.merge(*streams, key=position, reverse=whole.newest_first)


def chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """``items`` in lists of ``size`` (the last one shorter), for page-by-page consumers."""
    page: list[Item] = []
    for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page
