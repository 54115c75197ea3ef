"""The Files view's filters as URL query parameters, so a view can be shared and bookmarked. Pure.

Anyone can write a URL, so :func:`parse` trusts nothing in it: a value that
is not a known status, format, flag, bucket, sort order, uploader or day (or
a tag the upload would refuse) is
dropped with a note for the page to show (escaped), never raised, and never
becomes a choice it was not. :func:`to_params` writes the canonical form
(sorted, defaults left out) that the dashboard's drill-through links use too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.catalogue import FORMAT_NAMES, FileStatus, Flag
from common.schema.keys import is_day
from portal.files.explorer import (
    MAX_REASON_LENGTH,
    MAX_SEARCH_LENGTH,
    PAGES_BUCKETS,
    SIZE_BUCKETS,
    FileFilters,
    InvalidFilter,
    SortKey,
    tag_filter,
)
from portal.files.upload_policy import MAX_TAGS

#: The URL names of the Files view's filters, in the order the page shows them.
PARAMS = ("q", "status", "format", "flag", "tag", "tags", "owner", "from", "to", "sort", "reason", "size",
          "pages", "counted")
_FLAGS = frozenset(f.value for f in Flag)
_STATUSES = frozenset(s.value for s in FileStatus)
#: How much of a refused value a note repeats.
_SHOWN = 40


@dataclass(frozen=True)
class ParsedUrl:
    """The filters a URL asks for, and what was dropped from it, in words."""

    filters: FileFilters
    notes: tuple[str, ...]


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")


def to_params(filters: FileFilters) -> dict[str, list[str]]:
    """The URL query parameters of ``filters``: repeated names for sets, defaults left out."""
    values: dict[str, list[str]] = {
        "q": [filters.text], "status": sorted(s.value for s in filters.statuses),
        "format": sorted(filters.formats), "flag": sorted(filters.flags), "owner": [filters.owner or ""],
        "from": [filters.start_day or ""], "to": [filters.end_day or ""],
        "sort": [filters.sort.value if filters.sort is not SortKey.NEWEST else ""],
        "reason": [filters.reason], "size": [filters.size_bucket], "pages": [filters.pages_bucket],
        "counted": ["1" if filters.counted else ""],
        "tag": sorted(filters.tags), "tags": ["all" if filters.all_tags else ""],
    }
    return {name: kept for name in PARAMS if (kept := [v for v in values[name] if v])}


def parse(params: Mapping[str, Sequence[str]], *, owners: Collection[str] | None) -> ParsedUrl:
    """The filters ``params`` (name -> every value the URL holds) ask for; never raises.

    ``owners`` are the uploaders the viewer may choose (by ``sub``), None for
    a viewer who sees only their own files. Repeated single values take the
    first; names that are not filters (``file``) are left to others.
    """
    notes: list[str] = []

    def chosen(name: str, known: Collection[str], what: str) -> frozenset[str]:
        values = [v for v in params.get(name, ()) if v]
        for value in values:
            if value not in known:
                notes.append(f"Not a known {what}, left out: {_shown(value)}.")
        return frozenset(v for v in values if v in known)

    def single(name: str, ok: Callable[[str], bool], what: str) -> str:
        value = next((v for v in params.get(name, ()) if v), "")
        if value and not ok(value):
            notes.append(f"Not a valid {what}, left out: {_shown(value)}.")
            return ""
        return value

    owner = ""
    if params.get("owner") and any(params["owner"]):
        if owners is None:
            notes.append("You see only your own files: the uploader in the link was left out.")
        else:
            owner = single("owner", lambda v: v in owners, "uploader")
    tags: set[str] = set()
    for value in (v for v in params.get("tag", ()) if v):
        try:
            tags |= tag_filter([value])
        except InvalidFilter:
            notes.append(f"Not a valid tag, left out: {_shown(value)}.")
    if len(tags) > MAX_TAGS:
        notes.append(f"More than {MAX_TAGS} tags: the tags in the link were left out.")
        tags = set()
    values: dict[str, Any] = dict(
        statuses=chosen("status", _STATUSES, "status"),
        formats=chosen("format", FORMAT_NAMES, "format"),
        flags=chosen("flag", _FLAGS, "flag"),
        start_day=single("from", is_day, "first day (YYYY-MM-DD)") or None,
        end_day=single("to", is_day, "last day (YYYY-MM-DD)") or None,
        owner=owner or None,
        text=single("q", lambda v: len(v) <= MAX_SEARCH_LENGTH,
                    f"search (at most {MAX_SEARCH_LENGTH} characters)"),
        sort=single("sort", lambda v: v in {s.value for s in SortKey}, "sort order") or SortKey.NEWEST,
        reason=single("reason", lambda v: len(v.strip()) <= MAX_REASON_LENGTH, "failure reason"),
        size_bucket=single("size", SIZE_BUCKETS.__contains__, "size range"),
        pages_bucket=single("pages", PAGES_BUCKETS.__contains__, "page range"),
        counted=single("counted", lambda v: v == "1", "choice of counted files") == "1",
        tags=frozenset(tags),
        all_tags=single("tags", lambda v: v in ("all", "any"), "tag match (all or any)") == "all",
    )
    if values["start_day"] and values["end_day"] and values["start_day"] > values["end_day"]:
        notes.append("The period in the link starts after it ends: its days were left out.")
        values |= {"start_day": None, "end_day": None}
    try:
        filters = FileFilters(**values)
    except InvalidFilter as e:  # every value was checked above; this is a last guard, not a path
        return ParsedUrl(FileFilters(), (*notes, f"The link's filters were left out: {e}."))
    return ParsedUrl(filters, tuple(notes))

