"""The upload-time index's I/O: one shard's query for the merge, and the backfill of older items.

The merge itself and its positions are pure (:mod:`common.schema.timeline`);
this module only runs the queries and updates it describes, so the Files
view and the export read the index the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from common import aws_errors
from common.schema import requests
from common.schema.timeline import Chunk, Fetch, Span

_CONDITION = "ConditionalCheckFailedException"


def fetcher(ddb: Any, table: str, projection: Mapping[str, Any] | None = None) -> Fetch:
    """A :data:`~common.schema.timeline.Fetch` querying ``table``'s index through ``ddb``.

    ``projection`` (``ProjectionExpression`` and its ``ExpressionAttributeNames``)
    asks for fewer attributes; it must keep the index's sort key, which the merge orders by.
    """

    def fetch(shard: int, span: Span, limit: int) -> Chunk:
        kwargs = requests.query_upload_range(table, shard, span, limit)
        if projection:
            kwargs["ProjectionExpression"] = projection["ProjectionExpression"]
            kwargs["ExpressionAttributeNames"] = {**kwargs["ExpressionAttributeNames"],
                                                  **projection["ExpressionAttributeNames"]}
        response = ddb.query(**kwargs)
        return Chunk(response.get("Items", []), "LastEvaluatedKey" in response)

    return fetch


@dataclass(frozen=True)
class Backfilled:
    """What one backfill run did."""

    #: Items the scan looked at (the whole table: aggregates and markers too).
    scanned: int
    #: File items given their index keys now.
    updated: int
    #: File items that got them meanwhile from someone else (a transition), or lack an upload time.
    skipped: int


def backfill(ddb: Any, table: str, *, page_size: int = 500,
             report: Callable[[Backfilled], None] | None = None,
             pause: Callable[[float], None] = time.sleep) -> Backfilled:
    """Give every file item written before the upload-time index its index keys; idempotent.

    One paginated scan finds file items without the keys; each gets them by a
    conditional update (so a second run, or a transition racing this one,
    changes nothing twice). ``report`` hears the running totals after each
    page. Throttling is waited out and the page tried again.

    Raises
    ------
    botocore.exceptions.ClientError
        For anything but a failed condition or throttling.
    """
    scanned = updated = skipped = 0
    kwargs = requests.scan_unindexed_files(table, page_size)
    while True:
        page = _patiently(ddb.scan, kwargs, pause)
        scanned += int(page.get("ScannedCount", 0))
        for item in page.get("Items", []):
            file_id, uploaded_at = item.get("file_id", {}).get("S"), item.get("uploaded_at", {}).get("S")
            if not file_id or not uploaded_at:
                skipped += 1
                continue
            try:
                _patiently(ddb.update_item, requests.add_upload_keys(table, file_id, uploaded_at), pause)
                updated += 1
            except ClientError as e:
                if aws_errors.code(e) != _CONDITION:
                    raise
                skipped += 1
        done = Backfilled(scanned, updated, skipped)
        if report is not None:
            report(done)
        if "LastEvaluatedKey" not in page:
            return done
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


_THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                        "RequestLimitExceeded"})


def _patiently(call: Callable[..., Any], kwargs: Mapping[str, Any], pause: Callable[[float], None],
               attempts: int = 8) -> Any:
    """``call(**kwargs)``, tried again with backoff while DynamoDB throttles (botocore retried first)."""
    for attempt in range(attempts):
        try:
            return call(**kwargs)
        except ClientError as e:
            if aws_errors.code(e) not in _THROTTLED or attempt == attempts - 1:
                raise
        pause(0.1 * 2**attempt)
    raise AssertionError("unreachable")
