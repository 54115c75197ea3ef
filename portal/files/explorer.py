"""The Files explorer's logic: filters, search, sorting and paging. Pure.

No AWS and no Streamlit here: :mod:`portal.files.service` reads pages of
items and applies :func:`matches`; who may see what is
:mod:`portal.access`'s to say, and the service checks it on every read.

Paging is by DynamoDB keys: a page token is the key of the last item a page
looked at, wrapped with a fingerprint of the viewer and the filters, so a
token made for one view is refused by another (and can never widen what a
user may read: the partition queried is always decided on the server).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from common.catalogue import FileStatus
from common.schema.aggregates import (
    PAGES_BOUNDS,
    SIZE_BOUNDS,
    histogram_counter,
    pages_buckets,
    reason_key,
    size_buckets,
)
from common.schema.keys import INDEXES, PK, SK, is_day
from common.schema.lifecycle import is_counted
from common.schema.record import FileRecord
from portal.files.upload_policy import parse_tags

PAGE_SIZES: tuple[int, ...] = (25, 50, 100)
MAX_PAGE_SIZE = max(PAGE_SIZES)
MAX_SEARCH_LENGTH = 200
#: A failure reason's general part is at most this long in the counters (``reason_key``).
MAX_REASON_LENGTH = 100
SIZE_BUCKETS: tuple[str, ...] = tuple(name for name, _ in size_buckets())
PAGES_BUCKETS: tuple[str, ...] = tuple(name for name, _ in pages_buckets())
#: Page tokens are short; anything longer is not one of ours.
MAX_TOKEN_LENGTH = 2048
_KEY_ATTRIBUTES = frozenset({PK, SK, *(a for i in INDEXES for a in (i.partition_key, i.sort_key))})


class SortKey(StrEnum):
    """How a list is ordered. Upload time is the index order; the others sort one page."""

    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"
    SIZE = "size"
    STATUS = "status"

    @property
    def label(self) -> str:
        """What the sort menu shows."""
        return {"newest": "Newest first", "oldest": "Oldest first", "name": "Name (this page)",
                "size": "Largest first (this page)", "status": "Status (this page)"}[self.value]


class InvalidFilter(ValueError):
    """A filter a person got wrong; the message says what to change."""


@dataclass(frozen=True)
class FileFilters:
    """What the explorer shows: which files, found how, in which order.

    An empty set means "any". Deleted files are hidden unless asked for by status.
    ``owner`` (an uploader's ``sub``) is for analysts and admins; uploaders only
    ever see their own files whatever it says. ``reason``, ``size_bucket``,
    ``pages_bucket`` and ``counted`` cut exactly as the dashboard's counters
    do (:func:`common.schema.aggregates.contributions`), so a dashboard figure
    can link to the very files it counts.
    """

    statuses: frozenset[FileStatus] = frozenset()
    formats: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    start_day: str | None = None
    end_day: str | None = None
    owner: str | None = None
    text: str = ""
    sort: SortKey = SortKey.NEWEST
    #: A failed file's general reason (before any ":"), as the failures chart counts it.
    reason: str = ""
    #: A size histogram counter (``size_le_10000``, ``size_gt_100000000``).
    size_bucket: str = ""
    #: A pages histogram counter (``pages_le_5``); only files with a page or slide count have one.
    pages_bucket: str = ""
    #: Only files the counters count: finished by the extractor and not deleted.
    counted: bool = False
    #: Tags (as the upload's rules write them); a file matches with any of them, or all with ``all_tags``.
    tags: frozenset[str] = frozenset()
    all_tags: bool = False

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "statuses", frozenset(FileStatus(s) for s in self.statuses))
            object.__setattr__(self, "sort", SortKey(self.sort))
        except ValueError as e:
            raise InvalidFilter(f"unknown status or sort order: {e}") from e
        object.__setattr__(self, "formats", frozenset(f.strip().lower() for f in self.formats if f.strip()))
        object.__setattr__(self, "flags", frozenset(self.flags))
        object.__setattr__(self, "owner", self.owner or None)
        text = " ".join(self.text.split())
        if len(text) > MAX_SEARCH_LENGTH:
            raise InvalidFilter(f"the search text is longer than {MAX_SEARCH_LENGTH} characters")
        object.__setattr__(self, "text", text)
        reason = self.reason.strip()  # as ``reason_key`` keeps it: inner spaces are part of it
        if len(reason) > MAX_REASON_LENGTH:
            raise InvalidFilter(f"the failure reason is longer than {MAX_REASON_LENGTH} characters")
        object.__setattr__(self, "reason", reason)
        if self.size_bucket and self.size_bucket not in SIZE_BUCKETS:
            raise InvalidFilter(f"unknown size range {self.size_bucket!r}")
        if self.pages_bucket and self.pages_bucket not in PAGES_BUCKETS:
            raise InvalidFilter(f"unknown page range {self.pages_bucket!r}")
        object.__setattr__(self, "counted", bool(self.counted))
        object.__setattr__(self, "tags", tag_filter(self.tags))
        object.__setattr__(self, "all_tags", bool(self.all_tags) and bool(self.tags))
        for day in (self.start_day, self.end_day):
            if day is not None and not is_day(day):
                raise InvalidFilter(f"{day!r} is not a date (YYYY-MM-DD)")
        if self.start_day and self.end_day and self.start_day > self.end_day:
            raise InvalidFilter(f"the period starts ({self.start_day}) after it ends ({self.end_day})")

    @property
    def newest_first(self) -> bool:
        """Direction of the index read: every order but "oldest" starts from the newest."""
        return self.sort is not SortKey.OLDEST

    @property
    def day_range(self) -> tuple[str, str]:
        """Inclusive upload-day bounds for the schema's range requests; open ends reach everything."""
        return self.start_day or "0000-01-01", self.end_day or "9999-12-31"

    def key(self) -> tuple[Any, ...]:
        """A hashable, stable form (for caches and token fingerprints)."""
        return (tuple(sorted(s.value for s in self.statuses)), tuple(sorted(self.formats)),
                tuple(sorted(self.flags)), self.start_day, self.end_day, self.owner, self.text,
                self.sort.value, self.reason, self.size_bucket, self.pages_bucket, self.counted,
                tuple(sorted(self.tags)), self.all_tags)

    @classmethod
    def from_key(cls, key: Sequence[Any]) -> FileFilters:
        """The filters :meth:`key` was made from."""
        statuses, formats, flags, start, end, owner, text, sort, reason, size, pages, counted, *tagged = key
        tags, all_tags = tagged
        return cls(frozenset(statuses), frozenset(formats), frozenset(flags), start, end, owner, text,
                   SortKey(sort), reason, size, pages, counted, frozenset(tags), all_tags)


def tag_filter(tags: str | Iterable[str]) -> frozenset[str]:
    """Tags to filter by, typed (comma-separated) or listed, normalised as the upload normalises them.

    Raises
    ------
    InvalidFilter
        For a tag the upload would refuse, or more tags than a file may hold.
    """
    try:
        return frozenset(parse_tags(tags if isinstance(tags, str) else sorted(tags)))
    except ValueError as e:
        raise InvalidFilter(str(e)) from e


def has_tags(held: Iterable[str], tags: frozenset[str], every: bool) -> bool:
    """True when a file's tags (``held``) hold any of ``tags`` (all of them with ``every``); no tags: True."""
    if not tags:
        return True
    return tags <= set(held) if every else not tags.isdisjoint(held)


# --- matching and ordering --------------------------------------------------------


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return " ".join(_text_of(v) for v in value)
    return "" if value is None else str(value)


def counted(record: FileRecord) -> bool:
    """True when the counters count ``record``: finished, not deleted, and ended by the extractor.

    A file the portal itself marked failed (its upload did not complete,
    ``requests.mark_upload_failed``) has no ``rev``: no transaction ever
    counted it, so the dashboard's drill-through leaves it out too.
    """
    return is_counted(record) and bool(record.rev)


def page_count(record: FileRecord) -> int | None:
    """The page (or slide) count the counters see, None for none."""
    pages = record.metadata.get("pages", record.metadata.get("slides"))
    return pages if isinstance(pages, int) and not isinstance(pages, bool) else None


def _cuts(record: FileRecord, filters: FileFilters) -> bool:
    """The dashboard's own cuts: counted, failure reason, size and page buckets."""
    if filters.counted and not counted(record):
        return False
    if filters.reason and (record.status is not FileStatus.FAILED or not record.reason
                           or reason_key(record.reason) != filters.reason):
        return False
    size = None if record.size is None else histogram_counter("size", record.size, SIZE_BOUNDS)
    if filters.size_bucket and size != filters.size_bucket:
        return False
    pages = page_count(record)
    return not filters.pages_bucket or (
        pages is not None and histogram_counter("pages", pages, PAGES_BOUNDS) == filters.pages_bucket)


def matches(record: FileRecord, filters: FileFilters) -> bool:
    """True when ``record`` passes every filter; the text search is case-insensitive.

    The text is looked for in the file name and the document's title and author.
    """
    if not _cuts(record, filters):
        return False
    if filters.statuses:
        if record.status not in filters.statuses:
            return False
    elif record.status is FileStatus.DELETED:
        return False
    if filters.formats and (record.format or "unknown") not in filters.formats:
        return False
    if filters.flags and not filters.flags & set(record.flags):
        return False
    if not has_tags(record.tags, filters.tags, filters.all_tags):
        return False
    day = record.uploaded_at[:10]
    if (filters.start_day and day < filters.start_day) or (filters.end_day and day > filters.end_day):
        return False
    if filters.owner and record.owner != filters.owner:
        return False
    if filters.text:
        needle = filters.text.casefold()
        haystack = " \n ".join((record.name, _text_of(record.metadata.get("title")),
                                _text_of(record.metadata.get("author"))))
        if needle not in haystack.casefold():
            return False
    return True


_STATUS_ORDER = {s: i for i, s in enumerate(FileStatus)}


def sort_records(records: Iterable[FileRecord], sort: SortKey) -> list[FileRecord]:
    """One page in the chosen order (ties by upload time, newest first)."""
    items = sorted(records, key=lambda r: (r.uploaded_at, r.file_id), reverse=sort is not SortKey.OLDEST)
    if sort is SortKey.NAME:
        items.sort(key=lambda r: r.name.casefold())
    elif sort is SortKey.SIZE:
        items.sort(key=lambda r: -1 if r.size is None else r.size, reverse=True)
    elif sort is SortKey.STATUS:
        items.sort(key=lambda r: _STATUS_ORDER[r.status])
    return items


# --- page tokens ------------------------------------------------------------------


class BadPageToken(ValueError):
    """A page token that is damaged or belongs to another view."""


def fingerprint(scope: str, filters: FileFilters) -> str:
    """What a token is bound to: the viewer's scope (user, roles) and every filter."""
    return hashlib.sha256(json.dumps([scope, list(filters.key())], default=list).encode()).hexdigest()[:16]


def encode_token(key: Mapping[str, Any], bound_to: str) -> str:
    """An opaque, URL-safe token for the page after ``key`` (a DynamoDB key)."""
    raw = json.dumps({"k": key, "f": bound_to}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, bound_to: str) -> dict[str, Any]:
    """The DynamoDB key in ``token``.

    Raises
    ------
    BadPageToken
        When the token is malformed, holds anything but string key attributes,
        or was made for another user or other filters.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise BadPageToken("the page token is empty or too long")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as e:
        raise BadPageToken("the page token is damaged") from e
    if not isinstance(data, dict) or data.get("f") != bound_to:
        raise BadPageToken("the page token belongs to another view")
    key = data.get("k")
    if (not isinstance(key, dict) or not key or not set(key) <= _KEY_ATTRIBUTES
            or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
                       for v in key.values())):
        raise BadPageToken("the page token holds no valid key")
    return key


@dataclass(frozen=True)
class Pager:
    """Where a person is in a list: the tokens of the pages visited, first page first."""

    tokens: tuple[str | None, ...] = (None,)

    @property
    def current(self) -> str | None:
        """The token of the page shown (None: the first)."""
        return self.tokens[-1]

    @property
    def number(self) -> int:
        """The page shown, from 1."""
        return len(self.tokens)

    @property
    def has_previous(self) -> bool:
        """True past the first page."""
        return len(self.tokens) > 1

    def forward(self, token: str) -> Pager:
        """The pager on the next page."""
        return Pager((*self.tokens, token))

    def back(self) -> Pager:
        """The pager on the previous page (the first stays the first)."""
        return Pager(self.tokens[:-1]) if self.has_previous else self
