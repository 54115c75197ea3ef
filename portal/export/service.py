"""Export file metadata as CSV, page by page (the command line is ``python -m portal.export``).

Reading, shaping and writing are all streams: DynamoDB pages in, CSV chunks
out, so 100,000 rows need no more memory than one page and one chunk. Large
exports go to S3 (multipart) and are handed out as a short-lived link.
Only analysts and admins may export; the check is here, in the data access.
An export asks DynamoDB only for the attributes its columns and filters
read (:func:`projection`), so the rest of each item is neither sent nor
parsed.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar, cast

from boto3.s3.transfer import TransferConfig

from common import upload_index
from common.catalogue import COUNTED_STATUSES, FileStatus
from common.schema import requests, timeline
from common.schema.keys import UPLOAD_INDEX, UPLOAD_SHARDS
from portal import access
from portal.access import User
from portal.export.csv_shape import DEFAULT_COLUMNS, RowShaper, encode_pages, item_paths, validate_columns
from portal.files.explorer import has_tags, tag_filter

STATUSES: tuple[str, ...] = ("all", *COUNTED_STATUSES)
T = TypeVar("T")
EXPORT_PREFIX = "exports/"
LINK_SECONDS = 900
#: Days an export stays in S3: the template's lifecycle rule on ``exports/`` (a test keeps them equal).
KEEP_DAYS = 1


@dataclass(frozen=True)
class ExportRequest:
    """What to export: which files (by upload day, owner, format, status, tags) and which columns.

    ``tags`` keeps files with any of them (all of them with ``all_tags``), as the Files filter does.
    """

    start_day: str
    end_day: str
    owner: str | None = None
    formats: frozenset[str] = frozenset()
    status: str = "all"
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    bom: bool = False
    page_size: int = 500
    tags: frozenset[str] = frozenset()
    all_tags: bool = False

    def __post_init__(self) -> None:
        for day in (self.start_day, self.end_day):
            dt.date.fromisoformat(day)  # raises ValueError with the bad value
        if self.start_day > self.end_day:
            raise ValueError(f"the period starts ({self.start_day}) after it ends ({self.end_day})")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        object.__setattr__(self, "columns", validate_columns(self.columns))
        object.__setattr__(self, "tags", tag_filter(self.tags))  # an InvalidFilter is a ValueError


def projection(request: ExportRequest, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ``ProjectionExpression`` (and its names) for the request's columns and filters.

    The columns' attribute paths, plus ``status`` (deleted files are always
    left out, and the status filter reads it) and, with a format or tag
    filter, ``format`` or ``tags``. Every name goes through a placeholder: many columns
    (``name``, ``status``, ``size``, ``format``, ``from``…) are DynamoDB
    reserved words. Keys are not needed: paging uses ``LastEvaluatedKey``,
    which DynamoDB returns whatever is projected; ``keep`` names attributes
    needed besides (the upload-time index's sort key, which the merge orders by).
    """
    paths = [*item_paths(request.columns), ("status",), *((name,) for name in keep)]
    if request.formats:
        paths.append(("format",))
    if request.tags:
        paths.append(("tags",))
    placeholders: dict[str, str] = {}
    expressions = []
    for path in dict.fromkeys(paths):
        for name in path:
            placeholders.setdefault(name, f"#x{len(placeholders)}")
        expressions.append(".".join(placeholders[name] for name in path))
    return {"ProjectionExpression": ", ".join(expressions),
            "ExpressionAttributeNames": {v: k for k, v in placeholders.items()}}


def with_projection(kwargs: dict[str, Any], request: ExportRequest) -> dict[str, Any]:
    """A scan's or query's arguments asking only for what :func:`projection` names."""
    extra = projection(request)
    return {**kwargs, "ProjectionExpression": extra["ProjectionExpression"],
            "ExpressionAttributeNames": {**kwargs.get("ExpressionAttributeNames", {}),
                                         **extra["ExpressionAttributeNames"]}}


def iter_pages(ddb: Any, table: str, request: ExportRequest,
               projected: bool = False) -> Iterator[list[dict[str, Any]]]:
    """The requested files as low-level DynamoDB items, a list for each page read.

    With an owner, the owner index is queried by upload time; otherwise the
    upload-time index, over the period's days only, its shards merged oldest
    first (:mod:`common.schema.timeline`). The format and status filters look
    at two attributes only, undecoded. With ``projected``, items hold only
    what :func:`projection` names (and the index's sort key). A page may come
    back empty when the filters leave nothing of it.
    """
    pages: Iterable[list[dict[str, Any]]]
    if request.owner:
        pages = _owner_pages(ddb, table, request, projected)
    else:
        extra = projection(request, keep=(UPLOAD_INDEX.sort_key,)) if projected else None
        whole = timeline.span(request.start_day, request.end_day, newest_first=False)
        # Queries of a shard's share of a page, then of two: the merge holds about two pages
        # (a plain paginated read holds one), for about four times a plain read's requests.
        share = -(-request.page_size // UPLOAD_SHARDS) + 1
        stream = timeline.merged(upload_index.fetcher(ddb, table, extra), whole, first=share, most=2 * share)
        pages = cast(Iterable[list[dict[str, Any]]], timeline.chunks(stream, request.page_size))
    deleted, formats, status = FileStatus.DELETED.value, request.formats, request.status
    tags, all_tags = request.tags, request.all_tags
    empty: dict[str, Any] = {}
    for page in pages:
        kept = []
        for item in page:
            item_status = item.get("status", empty).get("S", "")
            if item_status == deleted or (status != "all" and item_status != status):
                continue
            if formats and item.get("format", empty).get("S", "") not in formats:
                continue
            if tags and not has_tags((t.get("S", "") for t in item.get("tags", empty).get("L", ())),
                                     tags, all_tags):
                continue
            kept.append(item)
        yield kept


def _owner_pages(ddb: Any, table: str, request: ExportRequest,
                 projected: bool) -> Iterator[list[dict[str, Any]]]:
    """One uploader's files of the period from the owner index, oldest first, a list per page read."""
    kwargs = requests.query_owner_range(table, request.owner or "", request.start_day, request.end_day,
                                        request.page_size)
    if projected:
        kwargs = with_projection(kwargs, request)
    while True:
        page = ddb.query(**kwargs)
        yield page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass
class Progress:
    """Rows written so far, for a progress display; ``on_page`` hears of every 500 more."""

    rows: int = 0
    on_page: Callable[[int], None] | None = field(default=None, repr=False)


def _counted(pages: Iterable[list[T]], progress: Progress, every: int = 500) -> Iterator[list[T]]:
    """``pages``, counted; ``on_page`` after each page that takes the count past a multiple of ``every``."""
    for page in pages:
        before = progress.rows
        progress.rows += len(page)
        if progress.on_page and progress.rows // every > before // every:
            progress.on_page(progress.rows)
        yield page


def csv_chunks(ddb: Any, table: str, request: ExportRequest, user: User | None,
               progress: Progress | None = None) -> Iterator[bytes]:
    """The export as CSV byte chunks.

    ``user`` is the verified portal user (None for an operator on the command line).

    Raises
    ------
    portal.access.NotAllowed
        When ``user`` may not export or their tokens expired.
    """
    if user is not None:
        access.require(access.may_export(user), "Only analysts and admins may export metadata.")
        access.require_current(user, time.time())
    pages: Iterable[list[dict[str, Any]]] = iter_pages(ddb, table, request, projected=True)
    if progress is not None:
        pages = _counted(pages, progress)
    shaper = RowShaper(request.columns)
    return encode_pages((shaper.from_items(page) for page in pages), request.columns, bom=request.bom)


class _ChunkReader(io.RawIOBase):
    """A file-like view of byte chunks, so boto3 can stream them as a multipart upload."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def export_to_s3(s3: Any, bucket: str, user: User, chunks: Iterator[bytes]) -> tuple[str, str]:
    """Stream the CSV to S3 under the user's export prefix; returns (key, short-lived link).

    The upload runs on the calling thread (no transfer threads): the chunks
    are produced as they are read, and a progress callback inside them must
    run where the caller runs (Streamlit accepts page updates only from the
    script's own thread). Producing the rows, not uploading, is the slow part.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{EXPORT_PREFIX}{user.sub}/docportal-{stamp}-{uuid.uuid4().hex[:8]}.csv"
    s3.upload_fileobj(io.BufferedReader(_ChunkReader(chunks), buffer_size=1024 * 1024), bucket, key,
                      ExtraArgs={"ContentType": "text/csv; charset=utf-8",
                                 "ContentDisposition": f'attachment; filename="{key.rsplit("/", 1)[-1]}"'},
                      Config=TransferConfig(use_threads=False))
    link = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                     ExpiresIn=LINK_SECONDS)
    return key, link


def write(chunks: Iterable[bytes], out: BinaryIO) -> int:
    """Write chunks to ``out``; returns the bytes written."""
    total = 0
    for chunk in chunks:
        out.write(chunk)
        total += len(chunk)
    return total
