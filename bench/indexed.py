"""A stand-in DynamoDB client for the bench: the files table with its upload-time index, as JSON text.

moto is not used for timing reads: its in-process query walks every item of
the table for each call (and its scan re-reads the table per page), so its
times grow with the table where DynamoDB's do not. This model keeps what
DynamoDB's cost depends on: an index partition is sorted by its sort key, so
a ``BETWEEN`` finds its start by binary search and reads only its items; a
scan reads every item, 1 MB per page. Answers are parsed from JSON text on
every call, as the real client parses the wire format (less the network).

It also counts what DynamoDB would bill: read units (eventually consistent:
half a unit per 4 KB read, per request, rounded up; item sizes approximated
by their JSON text) and requests; :meth:`IndexedTable.scan_read_units` says
what the whole-table scan the portal used before would have cost.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from typing import Any

from common.schema.keys import UPLOAD_INDEX

_PAGE_BYTES = 1024 * 1024


def _paths(expression: str, names: Mapping[str, str]) -> tuple[tuple[str, ...], ...]:
    """A ``ProjectionExpression``'s attribute paths, placeholders resolved (maps only)."""
    paths = []
    for text in expression.split(","):
        if "[" in text:
            raise ValueError(f"list indexes are not modelled: {text.strip()}")
        paths.append(tuple(names[part] if part.startswith("#") else part for part in text.strip().split(".")))
    return tuple(paths)


def _project(item: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    """``item`` with only the attributes at ``paths`` (a map keeps only the projected keys it has)."""
    out: dict[str, Any] = {}
    for path in paths:
        value: Any = {"M": item}
        for name in path:
            value = value.get("M", {}).get(name)
            if value is None:
                break
        else:
            target = out
            for name in path[:-1]:
                target = target.setdefault(name, {"M": {}})["M"]
            target[path[-1]] = value
    return out


class IndexedTable:
    """File items (low-level, as JSON text) by primary key order and in the ``by_upload_time`` index."""

    def __init__(self, items: Iterable[str | Mapping[str, Any]]) -> None:
        texts = [item if isinstance(item, str) else json.dumps(item, separators=(",", ":")) for item in items]
        self.texts = texts
        self.partitions: dict[str, tuple[list[str], list[int]]] = {}
        entries: dict[str, list[tuple[str, int]]] = {}
        for n, text in enumerate(texts):
            item = json.loads(text)
            partition = item.get(UPLOAD_INDEX.partition_key)
            if partition:
                entries.setdefault(partition["S"], []).append((item[UPLOAD_INDEX.sort_key]["S"], n))
        for partition, pairs in entries.items():
            pairs.sort()
            self.partitions[partition] = ([k for k, _ in pairs], [n for _, n in pairs])
        self._projected: dict[tuple[tuple[str, ...], ...], dict[int, str]] = {}
        self.read_units = 0.0
        self.requests = 0

    def reset_counts(self) -> None:
        """Start counting read units and requests from zero."""
        self.read_units, self.requests = 0.0, 0

    def _bill(self, texts: Iterable[str]) -> None:
        self.requests += 1
        self.read_units += max(1, -(-sum(len(t) for t in texts) // 4096)) / 2

    def _text(self, n: int, paths: tuple[tuple[str, ...], ...] | None) -> str:
        """Item ``n`` as DynamoDB would send it for ``paths`` (projecting is the server's work: made once)."""
        if paths is None:
            return self.texts[n]
        cache = self._projected.setdefault(paths, {})
        if n not in cache:
            cache[n] = json.dumps(_project(json.loads(self.texts[n]), paths), separators=(",", ":"))
        return cache[n]

    def query(self, **kwargs: Any) -> dict[str, Any]:
        """One page of a ``BETWEEN`` query of one shard of the upload-time index."""
        if kwargs.get("IndexName") != UPLOAD_INDEX.name:
            raise ValueError("only the upload-time index's queries are modelled")
        values = kwargs["ExpressionAttributeValues"]
        partition = values[":pk"]["S"]
        keys, numbers = self.partitions.get(partition, ([], []))
        low = bisect.bisect_left(keys, values[":low"]["S"])
        high = bisect.bisect_right(keys, values[":high"]["S"])
        forward = kwargs.get("ScanIndexForward", True)
        after = kwargs.get("ExclusiveStartKey", {}).get(UPLOAD_INDEX.sort_key, {}).get("S")
        if after is not None and forward:
            low = max(low, bisect.bisect_right(keys, after))
        elif after is not None:
            high = min(high, bisect.bisect_left(keys, after))
        chosen = range(low, high) if forward else range(high - 1, low - 1, -1)
        picked = list(chosen[:int(kwargs.get("Limit", 10**9))])
        self._bill(self.texts[numbers[i]] for i in picked)
        paths = None
        if "ProjectionExpression" in kwargs:
            paths = _paths(kwargs["ProjectionExpression"], kwargs.get("ExpressionAttributeNames", {}))
        page: dict[str, Any] = {"Items": json.loads("[" + ",".join(self._text(numbers[i], paths)
                                                                    for i in picked) + "]")}
        if len(picked) < len(chosen):
            page["LastEvaluatedKey"] = {UPLOAD_INDEX.partition_key: {"S": partition},
                                        UPLOAD_INDEX.sort_key: {"S": keys[picked[-1]]}}
        return page

    def scan_read_units(self) -> tuple[float, int]:
        """What the scan the portal used before the index costs, whatever it keeps: every item is read.

        Read units and requests (pages of 1 MB, or of 500 items as the old request asked).
        """
        pages, units, size, count = 0, 0.0, 0, 0
        for text in self.texts:
            size += len(text)
            count += 1
            if size >= _PAGE_BYTES or count == 500:
                pages, units, size, count = pages + 1, units + -(-size // 4096) / 2, 0, 0
        if count:
            pages, units = pages + 1, units + -(-size // 4096) / 2
        return units, pages
