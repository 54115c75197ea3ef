"""Reading stored files for the Files page and the API: list, count, read, download, preview.

Changing them (retry, delete, tags and note) is :mod:`portal.files.actions`.

Every function checks the verified user against the record it reads
(:mod:`portal.access`), whatever the page shows, and refuses a user whose
tokens expired (a page part that skipped the sign-in check cannot act on a
stale user): uploaders reach only their
own items and objects, analysts read everyone's, only owners and admins
change anything. Object keys always come from the item, never from the
caller. Changes of an item go through :mod:`common.filestore`. Clients and
settings are passed in, so pages decide where AWS is and tests can run this
against moto. No Streamlit here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors, upload_index
from common.catalogue import PNG_SIGNATURE, FileStatus
from common.filestore import FileStore
from common.schema import requests, timeline
from common.schema.keys import OWNER_INDEX, PK, SK, THUMBNAIL_PREFIX, UPLOAD_INDEX, UPLOAD_SHARDS, is_file_id
from common.schema.record import FileRecord, from_item
from common.settings import Settings
from portal import access
from portal.access import User
from portal.files import explorer
from portal.files.explorer import FileFilters
from portal.files.views import content_disposition, preview_note

logger = logging.getLogger(__name__)

#: Presigned download links live five minutes.
DOWNLOAD_SECONDS = 300
#: Items one page may look at, however few match: no view reads an unbounded list.
MAX_EXAMINED = 1000
#: Items a total may look at before it says "at least": ten full pages' worth.
MAX_COUNTED = 10 * MAX_EXAMINED
#: Largest stored preview read: a PNG of at most 480 pixels square is far smaller.
PREVIEW_READ_BYTES = 4 * 1024 * 1024
_READ_CHUNK = 100


class FileError(RuntimeError):
    """A file action that cannot be done; the message is for the user."""


class NotFound(FileError):
    """No such file (or its original is no longer stored)."""


class ActionRefused(FileError):
    """The action does not apply to the file as it is (e.g. retrying a processed file)."""


class FileChanged(FileError):
    """The file changed since the user looked at it; they should look again before changing it."""


class FilesUnavailable(FileError):
    """AWS could not be reached or refused; trying again later may help."""


@dataclass(frozen=True)
class FilePage:
    """One page of the explorer: the matching files and the token of the next page."""

    records: tuple[FileRecord, ...]
    next_token: str | None
    #: Items looked at to fill the page (at most :data:`MAX_EXAMINED`).
    examined: int


@dataclass(frozen=True)
class FileCount:
    """How many files a view holds; ``complete`` False means at least that many (the count stopped)."""

    files: int
    complete: bool


def _scope(user: User) -> str:
    return f"{user.sub}|{','.join(sorted(user.roles))}"


def unavailable(action: str, e: Exception) -> FilesUnavailable:
    logger.error("%s failed: %s", action, e, exc_info=True)
    return FilesUnavailable(f"Files cannot be {action} right now. Please try again in a minute.")


def list_files(*, user: User, ddb: Any, settings: Settings, filters: FileFilters,
               page_token: str | None = None, page_size: int = 50,
               max_examined: int = MAX_EXAMINED) -> FilePage:
    """One bounded page of the files the user may see, filtered, searched and sorted.

    Uploaders read their own partition of the owner index only. Analysts and
    admins read one uploader's partition when one is chosen, else the
    upload-time index over the days asked for, its shards merged, so
    "newest first" is every uploader's newest files (other orders sort the
    page). At most ``max_examined`` items are looked at, so a rare match can
    give a short page with a next token: the search continues from there.

    Raises
    ------
    portal.access.NotAllowed
        For a user without a role, or an uploader asking for another uploader.
    explorer.BadPageToken
        For a token of another view (other user or filters) or a damaged one.
    FilesUnavailable
        When DynamoDB cannot be read.
    """
    access.require_current(user, time.time())
    access.require(access.has_role(user), access.NO_ROLE)
    owner = filters.owner
    if not access.sees_everyone(user):
        access.require(owner in (None, user.sub), "You can only see your own files.")
        owner = user.sub
    page_size = max(1, min(page_size, explorer.MAX_PAGE_SIZE))
    bound = explorer.fingerprint(_scope(user), filters)
    if not owner:
        return _everyones_page(user=user, ddb=ddb, settings=settings, filters=filters, bound=bound,
                               page_token=page_token, page_size=page_size, max_examined=max_examined)
    start, end = filters.day_range
    kwargs = requests.query_owner_range(settings.table, owner, start, end)
    kwargs["ScanIndexForward"] = not filters.newest_first
    key_names = (PK, SK, OWNER_INDEX.partition_key, OWNER_INDEX.sort_key)
    start_key = explorer.decode_token(page_token, bound) if page_token else None
    partition = kwargs["ExpressionAttributeValues"][":pk"]
    if start_key is not None and (set(start_key) != set(key_names)
                                  or start_key[OWNER_INDEX.partition_key] != partition):
        raise explorer.BadPageToken("the page token belongs to another view")
    found: list[FileRecord] = []
    examined = 0
    next_key: dict[str, Any] | None = None
    try:
        while True:
            kwargs["Limit"] = max(1, min(_READ_CHUNK, max_examined - examined))
            if start_key is not None:
                kwargs["ExclusiveStartKey"] = start_key
            response = ddb.query(**kwargs)
            items = response.get("Items", [])
            examined += int(response.get("ScannedCount", len(items)))
            last = response.get("LastEvaluatedKey")
            for i, item in enumerate(items):
                record = from_item(item)
                if explorer.matches(record, filters) and access.may_view(user, record):
                    found.append(record)
                if len(found) == page_size:
                    more = i < len(items) - 1 or last is not None
                    next_key = {k: item[k] for k in key_names} if more else None
                    break
            else:
                next_key = last
                if last is not None and examined < max_examined:
                    start_key = last
                    continue
            break
    except (ClientError, BotoCoreError) as e:
        raise unavailable("listed", e) from e
    token = explorer.encode_token(next_key, bound) if next_key else None
    return FilePage(tuple(explorer.sort_records(found, filters.sort)), token, examined)


def count_files(*, user: User, ddb: Any, settings: Settings, filters: FileFilters,
                max_examined: int = MAX_COUNTED) -> FileCount:
    """How many files the user's view of ``filters`` holds, read page by page as :func:`list_files` reads.

    The same reads and the same matching as the list, so a dashboard figure's
    link shows a total that can be compared with the figure. It stops after
    looking at ``max_examined`` items and then says the total is a lower bound.

    Raises
    ------
    portal.access.NotAllowed, FilesUnavailable
        As :func:`list_files`.
    """
    files = examined = 0
    token: str | None = None
    while True:
        page = list_files(user=user, ddb=ddb, settings=settings, filters=filters, page_token=token,
                          page_size=explorer.MAX_PAGE_SIZE,
                          max_examined=max(1, min(MAX_EXAMINED, max_examined - examined)))
        files += len(page.records)
        examined += page.examined
        if page.next_token is None:
            return FileCount(files, complete=True)
        if examined >= max_examined:
            return FileCount(files, complete=False)
        token = page.next_token


def _everyones_page(*, user: User, ddb: Any, settings: Settings, filters: FileFilters, bound: str,
                    page_token: str | None, page_size: int, max_examined: int) -> FilePage:
    """One page of every uploader's files from the upload-time index, its shards merged in upload order.

    Reads only the days the filters ask for, newest first (oldest first for
    that sort). The token holds the position of the last file looked at,
    which is every shard's position (:mod:`common.schema.timeline`).
    """
    after = None
    if page_token:
        key = explorer.decode_token(page_token, bound)
        if set(key) != {UPLOAD_INDEX.sort_key}:
            raise explorer.BadPageToken("the page token belongs to another view")
        after = key[UPLOAD_INDEX.sort_key]["S"]
    start, end = filters.day_range
    try:
        whole = timeline.span(start, end, newest_first=filters.newest_first, after=after)
    except ValueError as e:
        raise explorer.BadPageToken("the page token belongs to another view") from e
    # About one page's share per shard at first, so a page reads little more than it shows.
    first = -(-page_size // UPLOAD_SHARDS) + 1
    stream = timeline.merged(upload_index.fetcher(ddb, settings.table), whole, first=first, most=_READ_CHUNK)
    found: list[FileRecord] = []
    examined = 0
    last: str | None = None
    try:
        for item in stream:
            examined += 1
            last = timeline.position(item)
            record = from_item(item)
            if explorer.matches(record, filters) and access.may_view(user, record):
                found.append(record)
            if len(found) == page_size or examined >= max_examined:
                break
        else:
            last = None  # the period is read to its end
        if last is not None and next(stream, None) is None:
            last = None
    except (ClientError, BotoCoreError) as e:
        raise unavailable("listed", e) from e
    token = explorer.encode_token({UPLOAD_INDEX.sort_key: {"S": last}}, bound) if last else None
    return FilePage(tuple(explorer.sort_records(found, filters.sort)), token, examined)


def visible(user: User, record: FileRecord | None) -> FileRecord:
    """``record`` if it exists and the user may see it (deleted files too: their metadata is kept)."""
    if record is None:
        raise NotFound("There is no such file.")
    access.require(access.may_view(user, record), "You may not see this file.")
    return record


def get_file(*, user: User, ddb: Any, settings: Settings, file_id: str) -> FileRecord:
    """The file ``file_id`` if the user may see it (deleted files too: their metadata is kept).

    Raises
    ------
    NotFound
        When no file has this id.
    portal.access.NotAllowed
        When the file is another user's and the user is neither analyst nor admin.
    FilesUnavailable
        When DynamoDB cannot be read.
    """
    access.require_current(user, time.time())
    if not is_file_id(file_id):
        raise NotFound("There is no such file.")
    try:
        record = FileStore(ddb, settings.table).read(file_id)
    except (ClientError, BotoCoreError) as e:
        raise unavailable("read", e) from e
    return visible(user, record)


def stored(record: FileRecord, settings: Settings) -> None:
    """Refuse files whose original is gone, or that live outside the stack's bucket."""
    if record.status in (FileStatus.DELETED, FileStatus.EXPIRED) or not record.key:
        raise NotFound("The original of this file is no longer stored.")
    if record.bucket != settings.bucket:
        raise NotFound("The original of this file is not in the portal's bucket.")


def download_url(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str,
                 expires_in: int = DOWNLOAD_SECONDS) -> str:
    """A presigned GET of the original, valid five minutes, saving under the original name.

    The link names the current version of the key, so deleting the file also
    stops links already handed out.

    Raises
    ------
    NotFound, portal.access.NotAllowed, FilesUnavailable
        As :func:`get_file`; NotFound too when the original is no longer stored.
    """
    record = get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
    if not access.may_download(user, record):
        raise NotFound("The original of this file is no longer stored.")
    stored(record, settings)
    try:
        return str(s3.generate_presigned_url("get_object", ExpiresIn=expires_in, Params={
            "Bucket": record.bucket, "Key": record.key,
            "ResponseContentDisposition": content_disposition(record.name)}))
    except (ClientError, BotoCoreError) as e:
        raise unavailable("downloaded", e) from e


def preview_bytes(*, user: User, s3: Any, ddb: Any, settings: Settings, file_id: str) -> bytes | None:
    """The PNG preview the extractor stored for a file (a thumbnail, a PDF's first page), or None.

    The PNG was drawn at extraction, in the extractor's sandbox; here it is
    only read (at most :data:`PREVIEW_READ_BYTES`, from the file's own
    ``thumbnails/<owner>/<file_id>/`` folder) and checked to be a PNG, never
    decoded: the page hands it to the browser. Deleted and expired files
    show none.

    Raises
    ------
    NotFound, portal.access.NotAllowed, FilesUnavailable
        As :func:`get_file`.
    """
    record = get_file(user=user, ddb=ddb, settings=settings, file_id=file_id)
    folder = f"{THUMBNAIL_PREFIX}{record.owner}/{record.file_id}/"
    if preview_note(record) or record.bucket != settings.bucket or not record.preview_key.startswith(folder):
        return None
    cap = PREVIEW_READ_BYTES
    try:
        body = s3.get_object(Bucket=record.bucket, Key=record.preview_key, Range=f"bytes=0-{cap}")["Body"]
        data: bytes = body.read(cap + 1)
    except ClientError as e:
        if aws_errors.is_missing(e):
            return None
        raise unavailable("previewed", e) from e
    except BotoCoreError as e:
        raise unavailable("previewed", e) from e
    return data if len(data) <= cap and data.startswith(PNG_SIGNATURE) else None
