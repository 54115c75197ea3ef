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
between a condition check and a write).

moto's SQS checks each message it hands out against the queue's retention
period by reading every attribute of the queue, three of which count its
messages: receiving 10 from a queue of 8,000 walked the queue 31 times
(about 2 s), so a backlog slowed every receive. Here the retention period is
read on its own; the messages delivered are the same.

moto has no Cognito ``RevokeToken`` (the portal's "Sign out"); here it
revokes the refresh token and the access tokens issued from it, as Cognito
does. Nothing else changes.
``python -m devstack.moto_server -H HOST -p PORT`` takes moto's own options.

With ``--state DIR`` (``make run``) the server also keeps its state in DIR:
it starts from the last snapshot there, saves a snapshot soon after changes
(:mod:`devstack.snapshots`) and once more when it is stopped (SIGTERM or
SIGINT); :mod:`devstack.persist` says what a snapshot holds. With
``--reset-codes FILE`` it writes the password-reset codes it issues there
(:mod:`devstack.reset_codes`).
"""

from __future__ import annotations

import argparse
import copy
import functools
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jwt
from moto import server
from moto.cognitoidp import responses as cognito_responses
from moto.core.responses import EmptyResult
from moto.core.utils import unix_time
from moto.dynamodb import models
from moto.dynamodb.models.table import Table
from moto.sqs import models as sqs_models

from devstack import reset_codes

log = logging.getLogger("devstack.state")


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
    """Make moto's ``transact_write_items`` back up only what it touches, one at a time; receives cheap."""
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
    sqs_backend: Any = sqs_models.SQSBackend
    sqs_backend.is_message_valid_based_on_retention_period = _within_retention
    cognito: Any = cognito_responses.CognitoIdpResponse
    cognito.revoke_token = _revoke_token


def _revoke_token(self: Any) -> Any:
    """Cognito's ``RevokeToken``: the refresh token (issued to that client) and its access tokens end."""
    token, client_id = self._get_param("Token"), self._get_param("ClientId")
    for pool in self.backend.user_pools.values():
        issued = pool.refresh_tokens.get(token)
        if issued is None or issued[0] != client_id:
            continue
        pool.refresh_tokens[token] = None
        for access_token in list(pool.access_tokens):
            claims = jwt.decode(access_token, options={"verify_signature": False})
            if claims.get("origin_jti") == issued[2]:
                del pool.access_tokens[access_token]
    return EmptyResult()


def _within_retention(self: Any, queue_name: str, message: Any) -> bool:
    """moto's check, reading the one attribute it needs instead of all of them (three count the queue)."""
    retention = float(self.get_queue(queue_name).message_retention_period)
    return bool(retention + message.sent_timestamp / 1000 > unix_time())


def main(argv: list[str] | None = None) -> None:
    """Patch, then run moto's server with the given arguments (and ``--state DIR``, kept there)."""
    patch()
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--reset-codes", type=Path)
    ours, rest = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    if ours.reset_codes is not None:  # `make run` only: the stand-in e-mails nothing (devstack.reset_codes)
        reset_codes.patch(ours.reset_codes.resolve())
    if ours.state is None:
        server.main(rest)
        return
    _serve_with_state(ours.state.resolve(), rest)


def _serve_with_state(state: Path, argv: list[str]) -> None:
    from moto.moto_server import werkzeug_app
    from werkzeug.serving import run_simple

    from devstack import persist, snapshots

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m devstack.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    state.mkdir(parents=True, exist_ok=True)
    persist.patch_keys()
    started = time.perf_counter()
    try:
        restored = persist.load(state)
    except persist.StateError as e:
        log.error("%s", e)
        sys.exit(3)
    if restored is None:
        log.info("no saved state in %s: starting empty", state)
    else:
        log.info("state restored from %s in %.2f s: %s", state, time.perf_counter() - started,
                 ", ".join(f"{v:,} {k}" for k, v in restored.items()))
    moto_app = werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)
    app = snapshots.Persisted(moto_app, state)

    def stop(*_: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app.start()
    try:
        run_simple(args.host, args.port, app, threaded=True, request_handler=werkzeug_app.MotoRequestHandler)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the last save must not be cut short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        app.close()


if __name__ == "__main__":
    main()
