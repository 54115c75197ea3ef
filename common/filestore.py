"""Stored-file state changes: read a file's item, write its next state under a condition, retry.

Every change of a file (the extractor claiming, finishing or expiring it, the
portal retrying or deleting it) is one transaction built by
:func:`common.schema.requests.transition`, conditioned on the revision that
was read. This module runs those transactions and says why one was
cancelled, so callers never parse DynamoDB's errors themselves:

* another transaction touching the same item at that instant
  (``TransactionConflict``) is retried here, briefly, with backoff;
* a failed condition is returned as :class:`Cancelled`: ``ITEM`` when the
  file item itself changed since it was read (the first action), ``OTHER``
  when another condition failed (a duplicate marker, an aggregate cell);
* :meth:`FileStore.change` reads, decides and writes again until the write
  holds, for changes that should land whoever else wrote meanwhile.

The compactor's transactions are not file transitions, but their conditions
fail the same way: it classifies them with :func:`cancelled`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from common import aws_errors
from common.schema import requests
from common.schema.record import FileRecord, from_item, marker_files

#: How often a transaction that conflicted with another one is tried, in all.
CONFLICT_ATTEMPTS = 4
#: How often :meth:`FileStore.change` reads and writes again after the item changed under it.
CHANGE_ATTEMPTS = 5
_CONDITION = "ConditionalCheckFailed"
_CONFLICT = "TransactionConflict"


class Cancelled(Enum):
    """Why a transaction was cancelled instead of written."""

    ITEM = "the file item changed since it was read"
    OTHER = "another condition of the transaction failed"
    CONFLICT = "another transaction was changing the same items"


def cancelled(error: ClientError) -> Cancelled | None:
    """Why ``error`` cancelled a transaction: a condition (ITEM, OTHER) or a conflict.

    None for anything else (throttling inside the transaction, validation,
    any other error), which callers must treat as a failure.
    """
    reasons = aws_errors.cancel_reasons(error)
    if reasons and reasons[0] == _CONDITION:
        return Cancelled.ITEM
    if _CONDITION in reasons:
        return Cancelled.OTHER
    if _CONFLICT in reasons:
        return Cancelled.CONFLICT
    return None


class Contention(RuntimeError):
    """The item changed under every attempt; trying again later will do."""


@dataclass(frozen=True)
class Change:
    """What :meth:`FileStore.change` read and wrote; ``after`` is None when there was nothing to do."""

    before: FileRecord | None
    after: FileRecord | None


@dataclass(frozen=True)
class FileStore:
    """One table's file items, read and changed one transition at a time."""

    ddb: Any
    table: str
    #: Waits between attempts; injected so tests run without sleeping.
    pause: Callable[[float], None] = time.sleep

    def read(self, file_id: str) -> FileRecord | None:
        """The file's record as it is now, or None when there is no such item."""
        item = self.ddb.get_item(**requests.get_file(self.table, file_id)).get("Item")
        return from_item(item) if item else None

    def duplicates(self, owner: str, sha256_hex: str) -> frozenset[str]:
        """The ids of the owner's finished files with this content, as the marker names them now."""
        item = self.ddb.get_item(**requests.get_duplicates(self.table, owner, sha256_hex)).get("Item")
        return marker_files(item)

    def drop_pending(self, file_id: str) -> bool:
        """Remove the file's item if it is still ``pending`` (a cancelled direct upload); False if it was not.

        Raises
        ------
        botocore.exceptions.ClientError
            For anything but the item having left ``pending`` (or being gone).
        """
        try:
            self.ddb.delete_item(**requests.delete_pending(self.table, file_id))
        except ClientError as e:
            if aws_errors.code(e) == _CONDITION + "Exception":
                return False
            raise
        return True

    def write(self, old: FileRecord | None, new: FileRecord, *,
              marker_seen: int | None = None) -> Cancelled | None:
        """Take the item from ``old`` to ``new``: None when written, ITEM or OTHER when a condition failed.

        A conflict with another transaction is tried again, up to
        :data:`CONFLICT_ATTEMPTS` times in all; a conflict that outlasts them
        propagates like any error that is not a failed condition.

        Raises
        ------
        botocore.exceptions.ClientError
            For anything but a failed condition (throttling, permissions,
            conflicts that outlasted the retries).
        """
        request = requests.transition(self.table, old, new, marker_seen=marker_seen)
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self.ddb.transact_write_items(**request)
                return None
            except ClientError as e:
                why = cancelled(e)
                if why is None or (why is Cancelled.CONFLICT and attempt == CONFLICT_ATTEMPTS - 1):
                    raise
                if why is not Cancelled.CONFLICT:
                    return why
            self.pause(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def change(self, file_id: str, decide: Callable[[FileRecord | None], FileRecord | None], *,
               attempts: int = CHANGE_ATTEMPTS) -> Change:
        """Read the file, let ``decide`` choose its next state, and write it under the read's condition.

        ``decide`` gets the record as read (None when there is no item) and
        returns the next state, or None when there is nothing to do; it may
        raise to refuse. When any condition fails because someone else wrote
        meanwhile, the file is read and decided again.

        Raises
        ------
        Contention
            When the file changed under every one of ``attempts`` tries.
        botocore.exceptions.ClientError
            As :meth:`write`.
        """
        for attempt in range(attempts):
            before = self.read(file_id)
            after = decide(before)
            if after is None:
                return Change(before, None)
            if self.write(before, after) is None:
                return Change(before, after)
            self.pause(0.05 * 2**attempt)
        raise Contention(f"file {file_id} kept changing while it was being changed")
