"""The dashboards' pre-aggregated counters: which cells a file adds to, and how cells are read. Pure.

Pre-aggregated counters for the dashboards, so no view scans the files.
Each finished file (processed or failed) adds its contribution to one item
per grain; a file that is processed again (a newer S3 version) first takes
its old contribution back. Counters are spread over AGG_SHARDS items per
cell, chosen by file id, so concurrent transactions rarely touch the same
item; a reader sums the shards. Items:

==============  ==================================  ============================
pk              sk                                  cell
==============  ==================================  ============================
AGG#DAY         <upload day>#s<shard>               all files of a day
AGG#DAY_FORMAT  <upload day>#<format>#s<shard>      per day and format
AGG#DAY_OWNER   <upload day>#<owner>#s<shard>       per day and uploader
AGG#DAY_PEOPLE  <upload day>#<owner>#<kind>=<name>  per day, uploader and a name
                #s<shard>                           the document carries
AGG#DAY_TAG     <upload day>#<owner>#<format>#<tag> per day, uploader, format and
                #s<shard>                           one of the file's tags
==============  ==================================  ============================

Counters (absent means 0): ``files``, ``bytes``, ``status_processed``,
``status_failed``, ``duration_ms`` (total extraction time), ``pages``
(pages or slides) and ``paged_files``, ``latency_ms`` (total upload-to-
finished time) and the histogram ``latency_le_<ms>`` / ``latency_gt_<ms>``,
the histograms ``size_le_<bytes>`` / ``size_gt_<bytes>`` and (paged files)
``pages_le_<n>`` / ``pages_gt_<n>``,
``flag_<flag>``, ``reason_<reason>`` (failures by reason) and, on AGG#DAY
only, ``format_<format>``. AGG#DAY_PEOPLE cells hold only ``files``: one per
processed file whose metadata names an author (``author``, else ``artist``)
or a producing application (``producer``, else ``creator``); ``kind`` is
``author`` or ``producer``. Their number grows with the distinct names, not
with the files. AGG#DAY_TAG cells hold ``files`` and ``status_<status>``: one
per tag of a counted file whose item says its tags are counted
(``tags_counted``). Tags are the uploaders' own words, so each has items of
its own: a day's other cells never grow with them.

Every cell also has ``writes``, which is not a counter: each update adds 1
to it, so :mod:`common.schema.compaction` can merge a cell's shards into shard 0
only if none of them changed since it read them. Merging is exact because
readers sum the shards of a cell whichever shards exist. A merged item
holds its counters in ``packed``, one JSON object (``{"files": 12, ...}``),
so reading a cell costs one attribute however many counters it has; later
updates ADD numeric counters beside it, and readers
(:func:`cell_counters`) sum both.

A reader takes a grain's cells for a range of days with one Query on the
grain's partition. Every aggregate sort key starts with the ISO day and a
"#"; "~" sorts after "#", so ``sk BETWEEN <start> AND <end>~`` holds exactly
the cells of the days from start to end, whatever follows the day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from common.catalogue import FileStatus
from common.schema.keys import PK, SK, is_day
from common.schema.lifecycle import is_counted
from common.schema.record import FileRecord

AGG_SHARDS = 8
#: Attribute of every aggregate cell that counts its updates (not a counter).
CELL_WRITES = "writes"
#: Attribute of a merged cell holding its counters as one JSON object (see below).
CELL_PACKED = "packed"
#: Attributes of an aggregate item that are not counters themselves.
CELL_META = frozenset({PK, SK, CELL_WRITES, CELL_PACKED})
AGG_GRAINS = ("DAY", "DAY_FORMAT", "DAY_OWNER", "DAY_PEOPLE", "DAY_TAG")
LATENCY_BOUNDS_MS = (250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000)
SIZE_BOUNDS = (10_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
PAGES_BOUNDS = (1, 5, 10, 50, 100)
#: Names counted on AGG#DAY_PEOPLE: kind -> the metadata fields tried, in order.
PEOPLE_FIELDS: Mapping[str, tuple[str, ...]] = {"author": ("author", "artist"),
                                                "producer": ("producer", "creator")}
_PEOPLE_NAME_CHARS = 120


def aggregate_shard(file_id: str) -> int:
    """The shard a file's contributions go to."""
    return int(file_id[:8], 16) % AGG_SHARDS if re.fullmatch(r"[0-9a-f]{8}.*", file_id) else 0


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _ms_between(start: str, end: str) -> int:
    return max(0, round((_moment(end) - _moment(start)).total_seconds() * 1000))


def reason_key(reason: str) -> str:
    """A failure reason as a counter name: its general part, before any detail."""
    return reason.split(":", 1)[0].strip()[:100]


def contributions(record: FileRecord) -> dict[tuple[str, str], dict[str, int]]:
    """What a file adds to each aggregate cell: nothing until it is finished, nor once deleted."""
    if not is_counted(record):
        return {}
    counts: dict[str, int] = {"files": 1, "bytes": record.size or 0, f"status_{record.status.value}": 1,
                              "duration_ms": record.duration_ms or 0}
    pages = record.metadata.get("pages", record.metadata.get("slides"))
    if isinstance(pages, int) and not isinstance(pages, bool):
        counts |= {"pages": pages, "paged_files": 1, histogram_counter("pages", pages, PAGES_BOUNDS): 1}
    if record.processed_at:
        latency = _ms_between(record.uploaded_at, record.processed_at)
        counts["latency_ms"] = latency
        counts[histogram_counter("latency", latency, LATENCY_BOUNDS_MS)] = 1
    if record.size is not None:
        counts[histogram_counter("size", record.size, SIZE_BOUNDS)] = 1
    for flag in record.flags:
        counts[f"flag_{flag}"] = 1
    if record.status is FileStatus.FAILED and record.reason:
        counts[f"reason_{reason_key(record.reason)}"] = 1
    day = record.uploaded_at[:10]
    shard = aggregate_shard(record.file_id)
    fmt = record.format or "unknown"
    cells = {
        aggregate_key("DAY", day, "", shard): counts | {f"format_{fmt}": 1},
        aggregate_key("DAY_FORMAT", day, fmt, shard): dict(counts),
        aggregate_key("DAY_OWNER", day, record.owner, shard): dict(counts),
    }
    if record.tags_counted:
        for tag in record.tags:
            cells[aggregate_key("DAY_TAG", day, tag_dimension(record.owner, fmt, tag), shard)] = {
                "files": 1, f"status_{record.status.value}": 1}
    if record.status is FileStatus.PROCESSED:
        for kind, name in document_people(record.metadata).items():
            cells[aggregate_key("DAY_PEOPLE", day, f"{record.owner}#{kind}={name}", shard)] = {"files": 1}
    return cells


def tag_dimension(owner: str, fmt: str, tag: str) -> str:
    """The dimension of an AGG#DAY_TAG cell; the inverse of :func:`parse_tag_dimension`."""
    return f"{owner}#{fmt}#{tag}"


def parse_tag_dimension(dimension: str) -> tuple[str, str, str]:
    """``(owner, format, tag)`` of an AGG#DAY_TAG cell's dimension (owners and formats hold no "#").

    Raises
    ------
    ValueError
        When the dimension is not one.
    """
    parts = dimension.split("#", 2)
    if len(parts) != 3:
        raise ValueError(f"not a tag cell's dimension: {dimension!r}")
    return parts[0], parts[1], parts[2]


def cell_counters(item: Mapping[str, Any]) -> dict[str, int]:
    """The counters of a low-level aggregate item: its packed ones plus its numeric attributes.

    Keys and ``writes`` are left out.

    Raises
    ------
    ValueError
        When ``packed`` is not a JSON object of integers.
    """
    packed = item.get(CELL_PACKED)
    counters: dict[str, int] = unpack_counters(packed["S"]) if packed else {}
    for name, value in item.items():
        if name not in CELL_META and "N" in value:
            counters[name] = counters.get(name, 0) + int(Decimal(value["N"]))
    return counters


def pack_counters(counters: Mapping[str, int]) -> dict[str, str]:
    """Counters as a merged cell's ``packed`` attribute (low-level form)."""
    return {"S": json.dumps(dict(sorted(counters.items())), separators=(",", ":"))}


def unpack_counters(text: str) -> dict[str, int]:
    """The counters of a ``packed`` attribute's text.

    Raises
    ------
    ValueError
        When the text is not a JSON object of integers.
    """
    try:
        counters = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"packed counters are not JSON: {e}") from e
    if not isinstance(counters, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in counters.values()):
        raise ValueError("packed counters must be a JSON object of integers")
    return counters


def aggregate_key(grain: str, day: str, dimension: str, shard: int) -> tuple[str, str]:
    """``(pk, sk)`` of one shard of a cell; the inverse of :func:`parse_aggregate_key`."""
    middle = f"#{dimension}" if grain != "DAY" else ""
    return f"AGG#{grain}", f"{day}{middle}#s{shard}"


def people_name(value: Any) -> str:
    """A name from metadata as a counter's key: whitespace folded, at most 120 characters."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:_PEOPLE_NAME_CHARS].strip()


def document_people(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The author and producing application a document names (kind -> name), where it names them."""
    found = {}
    for kind, keys in PEOPLE_FIELDS.items():
        name = next((n for n in (people_name(metadata.get(k)) for k in keys) if n), "")
        if name:
            found[kind] = name
    return found


_AGG_SK_END = "~"


def aggregate_range(grain: str, start_day: str, end_day: str) -> tuple[str, str, str]:
    """Partition key and inclusive sort-key bounds of a grain's cells, start to end day.

    Raises
    ------
    ValueError
        For an unknown grain, a day that is not ``YYYY-MM-DD``, or start after end.
    """
    if grain not in AGG_GRAINS:
        raise ValueError(f"unknown aggregate grain {grain!r}")
    for day in (start_day, end_day):
        if not is_day(day):
            raise ValueError(f"invalid day {day!r}")
    if start_day > end_day:
        raise ValueError(f"start day {start_day} is after end day {end_day}")
    return f"AGG#{grain}", start_day, end_day + _AGG_SK_END


def parse_aggregate_key(pk: str, sk: str) -> tuple[str, str, str, int]:
    """``(grain, day, dimension, shard)`` of an aggregate item; dimension is "" on AGG#DAY.

    Raises
    ------
    ValueError
        When the keys are not those of an aggregate item.
    """
    grain = pk.removeprefix("AGG#")
    parts = sk.split("#")
    if (grain == pk or grain not in AGG_GRAINS or len(parts) < 2 or not is_day(parts[0])
            or not re.fullmatch(r"s\d+", parts[-1]) or (grain == "DAY") != (len(parts) == 2)):
        raise ValueError(f"not an aggregate key: {pk!r} {sk!r}")
    return grain, parts[0], "#".join(parts[1:-1]), int(parts[-1][1:])


def histogram_counter(name: str, value: int, bounds: tuple[int, ...]) -> str:
    """The counter of histogram ``name`` that ``value`` falls in: ``<name>_le_<bound>`` or ``_gt_<max>``."""
    return next((f"{name}_le_{b}" for b in bounds if value <= b), f"{name}_gt_{bounds[-1]}")


def histogram_buckets(name: str, bounds: tuple[int, ...]) -> tuple[tuple[str, int], ...]:
    """A histogram's counters in order, each with its upper bound.

    The last, open bucket (``<name>_gt_<max>``) is given the largest bound:
    nothing more precise is known about the files in it.
    """
    return (*((f"{name}_le_{b}", b) for b in bounds), (f"{name}_gt_{bounds[-1]}", bounds[-1]))


def size_buckets() -> tuple[tuple[str, int], ...]:
    """The size histogram's counters in order, each with its upper bound in bytes."""
    return histogram_buckets("size", SIZE_BOUNDS)


def pages_buckets() -> tuple[tuple[str, int], ...]:
    """The pages (or slides) histogram's counters in order, each with its upper bound."""
    return histogram_buckets("pages", PAGES_BOUNDS)


def latency_buckets() -> tuple[tuple[str, int], ...]:
    """The latency histogram's counters in order, each with its upper bound in ms."""
    return histogram_buckets("latency", LATENCY_BOUNDS_MS)
