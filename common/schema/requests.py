"""Every request the table (and a retried object) is read or written with. Pure.

Each function returns keyword arguments for one boto3 client call, so
callers never spell attribute names, keys or conditions themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from common.catalogue import FileStatus
from common.schema.aggregates import CELL_WRITES, aggregate_range, contributions
from common.schema.keys import (
    DUPLICATE_SK,
    OWNER_INDEX,
    PK,
    RETRIED_AT_META,
    SK,
    UPLOAD_INDEX,
    day_bounds,
    duplicate_key,
    file_key,
    owner_partition,
    saved_views_key,
    upload_keys,
    upload_partition,
)
from common.schema.lifecycle import duplicate_marker
from common.schema.record import FileRecord, attributes, to_item
from common.schema.timeline import Span

# --- reads -----------------------------------------------------------------------


def get_file(table: str, file_id: str) -> dict[str, Any]:
    """Read one file's item, as it is now (strongly consistent: transitions compare with it)."""
    return {"TableName": table, "Key": file_key(file_id), "ConsistentRead": True}


def get_duplicates(table: str, owner: str, sha256_hex: str) -> dict[str, Any]:
    """Read the marker naming an owner's finished files with this content, as it is now."""
    return {"TableName": table, "Key": duplicate_key(owner, sha256_hex), "ConsistentRead": True}


def query_owner_range(table: str, owner: str, start_day: str, end_day: str,
                      limit: int = 500) -> dict[str, Any]:
    """One owner's files uploaded from ``start_day`` to ``end_day`` (inclusive), oldest first, one page."""
    low, high = day_bounds(start_day, end_day)
    return {
        "TableName": table, "IndexName": OWNER_INDEX.name, "Limit": limit,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :start AND :end",
        "ExpressionAttributeNames": {"#pk": OWNER_INDEX.partition_key, "#sk": OWNER_INDEX.sort_key},
        "ExpressionAttributeValues": attributes({":pk": owner_partition(owner), ":start": low, ":end": high}),
    }


def query_upload_range(table: str, shard: int, span: Span, limit: int) -> dict[str, Any]:
    """One shard of the upload-time index within ``span`` (inclusive), in its direction, one page.

    :mod:`common.schema.timeline` merges the shards and says which span is left.
    """
    low, high = span.low, span.high
    return {
        "TableName": table, "IndexName": UPLOAD_INDEX.name, "Limit": limit,
        "ScanIndexForward": not span.newest_first,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#pk": UPLOAD_INDEX.partition_key, "#sk": UPLOAD_INDEX.sort_key},
        "ExpressionAttributeValues": attributes({":pk": upload_partition(shard), ":low": low, ":high": high}),
    }


def query_aggregates(table: str, grain: str, start_day: str, end_day: str,
                     limit: int | None = None) -> dict[str, Any]:
    """One page of a grain's cells from start to end day (inclusive), oldest first.

    Eventually consistent: the dashboards cache reads for seconds anyway, and it
    halves the read cost.
    """
    pk, low, high = aggregate_range(grain, start_day, end_day)
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
        "ExpressionAttributeValues": attributes({":pk": pk, ":low": low, ":high": high}),
    }
    if limit is not None:
        request["Limit"] = limit
    return request


# --- the upload-time index's backfill --------------------------------------------------


def scan_unindexed_files(table: str, limit: int = 500) -> dict[str, Any]:
    """One page of a scan for file items written before the upload-time index (keys and times only)."""
    return {
        "TableName": table, "Limit": limit,
        "FilterExpression": "begins_with(#pk, :file) AND attribute_not_exists(#ipk)",
        "ProjectionExpression": "#pk, #sk, #fid, #up",
        "ExpressionAttributeNames": {"#pk": PK, "#sk": SK, "#fid": "file_id", "#up": "uploaded_at",
                                     "#ipk": UPLOAD_INDEX.partition_key},
        "ExpressionAttributeValues": attributes({":file": "FILE#"}),
    }


def add_upload_keys(table: str, file_id: str, uploaded_at: str) -> dict[str, Any]:
    """Give an existing file item its upload-time index keys, unless something already did.

    Conditional, so running the backfill twice, or beside writers that set
    the keys themselves, changes nothing twice; it touches no other attribute,
    so a transition's condition on ``rev`` is unaffected.
    """
    keys = upload_keys(uploaded_at, file_id)
    return {
        "TableName": table, "Key": file_key(file_id),
        "UpdateExpression": "SET #ipk = :ipk, #isk = :isk",
        "ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(#ipk) AND #up = :up",
        "ExpressionAttributeNames": {"#pk": PK, "#ipk": UPLOAD_INDEX.partition_key,
                                     "#isk": UPLOAD_INDEX.sort_key, "#up": "uploaded_at"},
        "ExpressionAttributeValues": attributes({":ipk": keys[UPLOAD_INDEX.partition_key],
                                                 ":isk": keys[UPLOAD_INDEX.sort_key], ":up": uploaded_at}),
    }


# --- writes by the portal ------------------------------------------------------------


def get_saved_views(table: str, sub: str) -> dict[str, Any]:
    """Read a user's saved views (strongly: a view just saved shows at once)."""
    return {"TableName": table, "Key": saved_views_key(sub), "ConsistentRead": True}


def put_saved_views(table: str, sub: str, views: str, now: str, read_at: str | None) -> dict[str, Any]:
    """Write a user's saved views (JSON text) if they are still as read (``read_at``: None for none)."""
    condition = "attribute_not_exists(#pk)" if read_at is None else "#at = :read"
    values = {":read": read_at} if read_at is not None else {}
    request: dict[str, Any] = {
        "TableName": table,
        "Item": {**saved_views_key(sub), "views": {"S": views}, "updated_at": {"S": now}},
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#pk": PK} if read_at is None else {"#at": "updated_at"},
    }
    if values:
        request["ExpressionAttributeValues"] = attributes(values)
    return request


def put_new_file(table: str, record: FileRecord) -> dict[str, Any]:
    """Create the item of a new upload; fails if the id is already taken."""
    return {
        "TableName": table,
        "Item": to_item(record),
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": PK},
    }


def mark_upload_failed(table: str, file_id: str, reason: str, now: str) -> dict[str, Any]:
    """The object could not be stored (or its form signed): end the item instead of leaving it waiting."""
    return {
        "TableName": table,
        "Key": file_key(file_id),
        "UpdateExpression": "SET #status = :failed, #reason = :reason, #updated = :now REMOVE #expires",
        "ConditionExpression": "#status IN (:uploaded, :pending)",
        "ExpressionAttributeNames": {"#status": "status", "#reason": "reason", "#updated": "updated_at",
                                     "#expires": "expires_at"},
        "ExpressionAttributeValues": attributes({
            ":failed": FileStatus.FAILED, ":uploaded": FileStatus.UPLOADED, ":pending": FileStatus.PENDING,
            ":reason": reason, ":now": now,
        }),
    }


def delete_pending(table: str, file_id: str) -> dict[str, Any]:
    """Remove a direct upload's item while it is still ``pending``: as its TTL would, it counted nowhere."""
    return {
        "TableName": table,
        "Key": file_key(file_id),
        "ConditionExpression": "#status = :pending",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": attributes({":pending": FileStatus.PENDING}),
    }


def retry_copy(record: FileRecord, metadata: Mapping[str, str], now: str) -> dict[str, Any]:
    """Keyword arguments for ``copy_object`` that make S3 announce a failed file again.

    The object is copied onto itself with a metadata change (S3 refuses a copy
    that changes nothing): a new version, and a new Object Created event with a
    newer sequencer, which the extractor claims as for any newer version.
    ``metadata`` is the object's current user metadata (original name, id).
    """
    source = {"Bucket": record.bucket, "Key": record.key}
    if record.version_id and record.version_id != "null":
        source["VersionId"] = record.version_id
    return {
        "Bucket": record.bucket, "Key": record.key, "CopySource": source,
        "MetadataDirective": "REPLACE", "ContentType": "application/octet-stream",
        "Metadata": {**metadata, RETRIED_AT_META: now},
    }


# --- transitions: one transaction per change of a file ------------------------------


def transition(table: str, old: FileRecord | None, new: FileRecord,
               marker_seen: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``transact_write_items`` taking the item from ``old`` to ``new``.

    The first action puts the new item on the condition that the item still
    has the revision that was read (so a cancelled first action means "the
    file changed meanwhile"); the others add the difference of the two
    states' contributions to the aggregate cells and keep the duplicate
    markers in step (see :mod:`common.schema.lifecycle`). The new item counts
    its tags (``tags_counted``); an old item that did not is taken back without them.

    ``marker_seen`` is how many files the new content's duplicate marker named
    when ``new`` was decided; the transaction then also requires that it still
    does, so two copies finishing at once cannot both miss each other.
    """
    new = replace(new, tags_counted=True)  # from now on its tags are in the counters
    put: dict[str, Any] = {"TableName": table, "Item": to_item(new)}
    if old is None:
        put |= {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PK}}
    elif not old.rev:  # the portal's item, untouched by the extractor so far
        put |= {"ConditionExpression": "attribute_exists(#pk) AND attribute_not_exists(#rev)",
                "ExpressionAttributeNames": {"#pk": PK, "#rev": "rev"}}
    else:
        put |= {"ConditionExpression": "#rev = :rev", "ExpressionAttributeNames": {"#rev": "rev"},
                "ExpressionAttributeValues": attributes({":rev": old.rev})}
    actions: list[dict[str, Any]] = [{"Put": put}]
    deltas: dict[tuple[str, str], dict[str, int]] = {}
    # An item without ``rev`` was written by the portal alone (``uploaded``, or
    # ``failed`` by :func:`mark_upload_failed`, which moves no counters): it
    # has contributed nothing, so nothing is taken back for it.
    counted_old = old if old is not None and old.rev else None
    for record, sign in ((counted_old, -1), (new, 1)):
        if record is None:
            continue
        for cell, counts in contributions(record).items():
            target = deltas.setdefault(cell, {})
            for name, value in counts.items():
                target[name] = target.get(name, 0) + sign * value
    for (pk, sk), counts in sorted(deltas.items()):
        counts = {k: v for k, v in sorted(counts.items()) if v}
        if counts:
            actions.append({"Update": _add_counts(table, pk, sk, counts)})
    old_marker = duplicate_marker(old)
    new_marker = duplicate_marker(new)
    if old is not None and old_marker and old_marker != new_marker:
        actions.append({"Update": _marker_update(table, old_marker, old.file_id, "DELETE")})
    if new_marker and new_marker != old_marker:
        update = _marker_update(table, new_marker, new.file_id, "ADD")
        if marker_seen is not None:
            update["ConditionExpression"] = (
                "attribute_not_exists(#files)" if marker_seen == 0 else "size(#files) = :seen")
            if marker_seen:
                update["ExpressionAttributeValues"][":seen"] = {"N": str(marker_seen)}
        actions.append({"Update": update})
    return {"TransactItems": actions}


def _add_counts(table: str, pk: str, sk: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """Add ``counts`` to a cell and count the write, so compaction can tell the cell changed."""
    counts = {**counts, CELL_WRITES: 1}
    names = {f"#c{i}": name for i, name in enumerate(counts)}
    values = attributes({f":c{i}": v for i, v in enumerate(counts.values())})
    return {
        "TableName": table, "Key": {PK: {"S": pk}, SK: {"S": sk}},
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
    }


def _marker_update(table: str, pk: str, file_id: str, action: str) -> dict[str, Any]:
    return {
        "TableName": table, "Key": {PK: {"S": pk}, SK: {"S": DUPLICATE_SK}},
        "UpdateExpression": f"{action} #files :ids",
        "ExpressionAttributeNames": {"#files": "files"},
        "ExpressionAttributeValues": {":ids": {"SS": [file_id]}},
    }
