"""moto's server with DynamoDB transactions isolated and priced as on AWS: `make run`, the bench, load tests.

moto backs up every table a ``TransactWriteItems`` names before running it,
with ``copy.deepcopy``, once per action: a transaction of five actions on a
table of 6,000 items copies 30,000 items. Every file's claim and finish is
such a transaction, so on moto the pipeline slows down as the table grows
(about 0.09 s per transaction at 200 items, and growing linearly), which
measures moto, not DynamoDB, whose transactions do not depend on table size.

Here the backup holds only the items the transaction touches (rolled back
the same way when it is cancelled), and transactions run one at a time, as
DynamoDB isolates them (moto's threaded server otherwise lets two interleave
between a condition check and a write). Nothing else changes.
``python -m devstack.moto_server -H HOST -p PORT`` takes moto's own options.
"""

from __future__ import annotations

import copy
import functools
import sys
import threading
from typing import Any

from moto import server
from moto.dynamodb import models
from moto.dynamodb.models.table import Table


class _TablesByReference:
    """Stands in for the ``copy`` module in moto's DynamoDB backend: tables are not copied."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched(backend: Any, actions: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
    """(table, hash, range, copy of the item or None) for every item the actions name."""
    saved = []
    for action in actions:
        try:
            _, op = next(iter(action.items()))
            table = backend.get_table(op["TableName"])
            source = op["Item"] if "Item" in op else op["Key"]
            names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
            key = {n: source[n] for n in names if n in source}
            hash_value, range_value = backend.get_keys_value(table, key)
        except Exception:  # noqa: S112 - moto itself rejects such an action before writing anything
            continue
        saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return saved


def _restore(saved: list[tuple[Table, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if item is None:
            table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = item
        else:
            table.items[hash_value] = item


def patch() -> None:
    """Make moto's ``transact_write_items`` back up only what it touches, one transaction at a time."""
    backend_class = models.DynamoDBBackend
    original = backend_class.transact_write_items
    if getattr(original, "_docportal_patched", False):
        return
    lock = threading.Lock()

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            saved = _touched(self, transact_items)
            try:
                original(self, transact_items)
            except Exception:
                _restore(saved)
                raise

    transact_write_items._docportal_patched = True  # type: ignore[attr-defined]
    models.copy = _TablesByReference  # type: ignore[attr-defined,assignment]
    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    """Patch, then run moto's server with the given arguments."""
    patch()
    server.main(argv or sys.argv[1:])


if __name__ == "__main__":
    main()
