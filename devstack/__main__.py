"""``python -m devstack run`` (the local system), ``worker`` (one worker) or ``reset`` (forget its state)."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from common import aws
from common.settings import Settings


def _compact(table: str) -> None:
    from extractor import compactor

    days = compactor.day_range("all", datetime.now(UTC).date())
    report = compactor.compact(aws.client("dynamodb"), table, *days)
    if report.compacted or report.busy:
        logging.getLogger(__name__).info("compaction: %s", report)


def _worker() -> int:
    from devstack.worker import InFlight, Worker, run_every
    from extractor.handler import lambda_handler

    settings = Settings.from_env()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    # Under make run the supervisor hands a dead worker's batch back to the queue from this record.
    state = Path(settings.state_dir) if settings.state_dir else None
    in_flight = InFlight.of(state / "inflight", os.getpid()) if state else None
    worker = Worker(aws.client("sqs"), settings.queue_url, lambda_handler, region=settings.region,
                    in_flight=in_flight)
    # Seconds between local compaction runs (the template schedules it hourly); 0 turns it off.
    if settings.compact_seconds > 0:
        threading.Thread(target=run_every, name="compactor", daemon=True,
                         args=(settings.compact_seconds, lambda: _compact(settings.table), stop)).start()
    logging.getLogger(__name__).info("worker polling %s", settings.queue_url)
    worker.run(stop)
    # As Lambda ends its sandbox: the parser processes go with the worker. Left to multiprocessing,
    # the worker would wait for them at exit, and they ignore SIGTERM (they inherit its handler above).
    for child in multiprocessing.active_children():
        child.kill()
        child.join(timeout=5)
    logging.getLogger(__name__).info("worker stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a sub-command."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=["run", "worker", "reset"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    if args.command == "run":
        from devstack.run import main as run

        return run()
    if args.command == "reset":
        from devstack.run import reset

        return reset()
    return _worker()


if __name__ == "__main__":
    sys.exit(main())
