"""The local pipeline under load: a burst of uploads, its checks, latency and throughput.

Everything runs as ``make run`` runs it: a moto server, the template
provisioned on it, worker processes (``python -m devstack worker``) feeding
SQS batches to the Lambda handler, and uploads through the portal's own
``store_upload`` from several client threads.

Latency is read from each file's item: ``uploaded_at`` (set by the portal
before it writes the item and the object) to ``processed_at`` (set by the
extractor in the transaction that finishes the file), both from the same
clock. So it covers the upload itself, S3 -> EventBridge -> SQS, the wait in
the queue, the claim, the download, extraction and the final transaction;
it does not depend on how often the driver looks. Throughput is measured on
a queue filled before the workers start: files divided by the span from the
first ``started_at`` to the last ``processed_at``, which leaves out the
workers' start-up.

The same driver backs the load test (``tests/e2e/test_load.py``, small) and
``make bench`` (2,000 uploads); :mod:`bench.checks` says what "nothing lost,
every count exact" means.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bench import checks
from common.catalogue import FileStatus
from common.schema.keys import file_key, parse_upload_key
from common.schema.record import FileRecord, from_item
from common.settings import Settings
from devstack import processes
from devstack.provision import provision
from extractor.events import InvalidEvent, parse_message
from portal.access import User
from portal.files.uploads import store_upload

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ClientFactory = Callable[[str], Any]
#: Uploaders of the burst, one per client thread (cycled).
USERS = tuple(User(sub=f"{i:08x}-1111-4222-8333-444455556666", email=f"user{i}@example.com",
                   groups=frozenset({"uploaders"}), expires_at=2**40) for i in range(4))
_AWS_VARS = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE")


# --- the stack ----------------------------------------------------------------


def server_client(endpoint: str, service: str) -> Any:
    """A client bound to a moto server with throwaway credentials."""
    fake = "testing"
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,  # type: ignore[call-overload]
                        aws_access_key_id=fake, aws_secret_access_key=fake)


@dataclass(frozen=True)
class Stack:
    """A moto server of one's own with the template provisioned, and where its logs go."""

    endpoint: str
    settings: Settings
    logs: Path

    def client(self, service: str) -> Any:
        """A client bound to this stack's server."""
        return server_client(self.endpoint, service)

    def set_visibility(self, seconds: int) -> None:
        """Shorten the extract queue's visibility timeout, so a redelivery comes within a run."""
        self.client("sqs").set_queue_attributes(QueueUrl=self.settings.queue_url,
                                                Attributes={"VisibilityTimeout": str(seconds)})

    def worker_env(self) -> dict[str, str]:
        """Environment for ``python -m devstack worker`` attached to this stack."""
        env = {k: v for k, v in os.environ.items() if k not in _AWS_VARS and not k.startswith("DOCPORTAL_")}
        return {**env, **self.settings.to_env(), "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "PYTHONUNBUFFERED": "1"}

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        """A worker process, as ``make run`` starts it."""
        return processes.start([sys.executable, "-m", "devstack", "worker"], log=self.logs / f"{name}.log",
                               env=self.worker_env(), cwd=ROOT)

    def log_tail(self, name: str) -> str:
        """The end of a process's log, for error messages."""
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextlib.contextmanager
def local_stack(logs: Path, *, fast_transactions: bool = True, state: Path | None = None) -> Iterator[Stack]:
    """Start a moto server on a free port, provision the template, stop it on the way out.

    ``fast_transactions`` runs :mod:`devstack.moto_server`, whose DynamoDB
    transactions do not slow down as the table grows; without it, moto's own.
    ``state`` keeps the server's state in that folder, as ``make run`` does
    (snapshots, :mod:`devstack.snapshots`); without it, in memory only.
    """
    port = processes.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in _AWS_VARS}
    module = "devstack.moto_server" if fast_transactions or state else "moto.server"
    kept = ["--state", str(state)] if state else []
    moto = processes.start([sys.executable, "-m", module, "-H", "127.0.0.1", "-p", str(port), *kept],
                           log=logs / "moto.log", env=env, cwd=ROOT)
    try:
        processes.wait_http(f"{endpoint}/moto-api/", timeout=60, proc=moto, log=logs / "moto.log")
        settings = provision(endpoint, REGION, client=functools.partial(server_client, endpoint))
        yield Stack(endpoint, settings, logs)
    finally:
        processes.stop([moto])


def wait_ready(logs: Sequence[Path], procs: Sequence[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    """Wait until every worker says it is polling (its imports and clients are ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p.exists() and "worker polling" in p.read_text(errors="replace") for p in logs):
            return
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a worker exited with {dead[0].returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"workers not ready within {timeout:.0f} s")


@contextlib.contextmanager
def workers(stack: Any, count: int, prefix: str = "worker") -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes polling ``stack`` (a :class:`Stack` or the tests' fresh stack)."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(count):
            procs.append(stack.start_worker(f"{prefix}{i}"))
        wait_ready([stack.logs / f"{prefix}{i}.log" for i in range(count)], procs)
        yield procs
    finally:
        processes.stop(procs)


# --- driving it -------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One accepted upload."""

    file_id: str
    name: str


def upload_all(paths: Sequence[Path], settings: Settings, client: ClientFactory, clients: int = 4,
               users: Sequence[User] = USERS) -> list[Upload]:
    """Upload every file through the portal's ``store_upload`` from ``clients`` threads at once.

    Each thread has clients of its own, as separate browsers' sessions would
    each have their own portal request; the ``i``-th file goes to user ``i mod len(users)``.
    """
    local = threading.local()

    def one(index: int) -> Upload:
        if not hasattr(local, "s3"):
            local.s3, local.ddb = client("s3"), client("dynamodb")
        path = paths[index]
        with path.open("rb") as body:
            record = store_upload(user=users[index % len(users)], name=path.name, body=body, content_type="",
                                  s3=local.s3, ddb=local.ddb, settings=settings)
        return Upload(record.file_id, path.name)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one, range(len(paths))))


def scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of the table, read consistently."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


_DEPTH = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed")


def queue_depth(sqs: Any, url: str) -> int:
    """Messages waiting plus messages being worked on."""
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return sum(int(attrs[a]) for a in _DEPTH)


def wait_finished(settings: Settings, client: ClientFactory, ids: Iterable[str],
                  timeout: float = 600, drained: bool = True) -> list[dict[str, Any]]:
    """Wait until every file in ``ids`` is terminal; returns the final table scan.

    The queue is watched (cheap) and the table scanned only once no message
    waits, so the driver does not load the server while files are in flight.
    ``drained`` also waits for the messages being handled to be gone: a
    message delivered twice (SQS is at-least-once, and so is moto's) stays
    invisible for the visibility timeout after its file finished. Returns the
    last scan even when the deadline passes, for the checks to report.
    """
    sqs, ddb, ids = client("sqs"), client("dynamodb"), set(ids)
    deadline = time.monotonic() + timeout
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=settings.queue_url, AttributeNames=["All"])["Attributes"]
        if sum(int(attrs[a]) for a in (_DEPTH if drained else _DEPTH[:1])) == 0:
            items = scan(ddb, settings.table)
            records = checks.file_records(items)
            if ids <= set(records) and all(records[i].status.terminal for i in ids):
                return items
        time.sleep(0.5)
    return items or scan(ddb, settings.table)


def dead_letter_files(settings: Settings, client: ClientFactory) -> list[str]:
    """File ids (or, for unreadable messages, message ids) of what waits in the dead-letter queue.

    Messages are only looked at: they become visible again after a minute.
    """
    sqs = client("sqs")
    seen: set[str] = set()
    found: list[str] = []
    for _ in range(100):
        messages = sqs.receive_message(QueueUrl=settings.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=60).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            return found
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                events = parse_message(message["Body"])
                found += [parse_upload_key(e.ref.bucket, e.ref.key).file_id for e in events]
            except (InvalidEvent, ValueError):
                found.append(message["MessageId"])
    return found


@dataclass(frozen=True)
class Burst:
    """What a burst left behind."""

    uploads: list[Upload]
    items: list[dict[str, Any]]
    dead_letters: list[str]
    seconds: float

    @property
    def records(self) -> dict[str, FileRecord]:
        """The file items, by id."""
        return checks.file_records(self.items)

    def problems(self, hostile: Iterable[str]) -> list[str]:
        """:func:`bench.checks.problems` of this burst."""
        return checks.problems({u.file_id: u.name for u in self.uploads}, self.records,
                               checks.stored_counters(self.items), hostile, self.dead_letters)


def burst(stack: Any, paths: Sequence[Path], clients: int = 4, timeout: float = 900) -> Burst:
    """Upload ``paths`` at once from ``clients`` threads and wait for the workers to finish them."""
    started = time.perf_counter()
    uploads = upload_all(paths, stack.settings, stack.client, clients)
    items = wait_finished(stack.settings, stack.client, [u.file_id for u in uploads], timeout)
    letters = dead_letter_files(stack.settings, stack.client)
    return Burst(uploads, items, letters, time.perf_counter() - started)


def sequential(stack: Any, paths: Sequence[Path], timeout: float = 60) -> list[tuple[FileRecord, float]]:
    """Upload one file at a time, each waited for; each file's record and client-side seconds.

    The client-side time runs from just before ``store_upload`` to the first
    read (polled every 10 ms) that shows the file finished.
    """
    s3, ddb = stack.client("s3"), stack.client("dynamodb")
    results = []
    for i, path in enumerate(paths):
        started = time.perf_counter()
        with path.open("rb") as body:
            record = store_upload(user=USERS[i % len(USERS)], name=path.name, body=body, content_type="",
                                  s3=s3, ddb=ddb, settings=stack.settings)
        deadline = time.monotonic() + timeout
        while True:
            item = ddb.get_item(TableName=stack.settings.table, Key=file_key(record.file_id),
                                ConsistentRead=True).get("Item")
            if item and from_item(item).status.terminal:
                results.append((from_item(item), time.perf_counter() - started))
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path.name} did not finish within {timeout:.0f} s")
            time.sleep(0.01)
    return results


def prequeued(stack: Any, paths: Sequence[Path], count: int, clients: int = 4) -> list[FileRecord]:
    """Queue every file with no worker running, then let ``count`` workers drain the queue."""
    uploads = upload_all(paths, stack.settings, stack.client, clients)
    with workers(stack, count, prefix=f"drain{count}-"):
        items = wait_finished(stack.settings, stack.client, [u.file_id for u in uploads], drained=False)
    records = checks.file_records(items)
    mine = [records[u.file_id] for u in uploads if u.file_id in records]
    if len(mine) != len(uploads) or not all(r.status.terminal for r in mine):
        raise RuntimeError(f"{count} workers left files unfinished")
    return mine


# --- the bench table ----------------------------------------------------------------

Row = tuple[str, str, str, str]
#: The goal for one 1 MB file on an idle stack, p95.
IDLE_GOAL_SECONDS = 1.0
#: The burst's queue visibility timeout: a redelivered message (moto's SQS, like SQS itself,
#: sometimes delivers one twice) waits this long, not the template's six minutes.
BENCH_VISIBILITY = 60


@dataclass(frozen=True)
class Sizes:
    """How much each pipeline figure runs; :data:`FULL` for ``make bench``, :data:`QUICK` to try it."""

    uploads: int = 2_000
    idle: int = 40
    drain: int = 300
    burst_workers: int = 4
    clients: int = 4
    worker_counts: tuple[int, ...] = (1, 2, 4)


FULL = Sizes()
QUICK = Sizes(uploads=200, idle=15, drain=80)


def _triple(values: Sequence[float]) -> str:
    return "/".join(f"{checks.percentile(values, q):.2f}" for q in (50, 95, 99)) + " s"


def rows(sizes: Sizes = FULL, seed: int = 11, logs: Path = ROOT / "build" / "bench-logs") -> list[Row]:
    """Latency on an idle stack and under the burst, the burst's checks, throughput per worker count.

    Raises
    ------
    AssertionError
        When the burst lost a file, miscounted, or dead-lettered a file that is not hostile.
    """
    import shutil
    import tempfile

    from bench.corpus import HOSTILE, LARGE_SIZES, MB, SIZED, generate, sized

    shutil.rmtree(logs, ignore_errors=True)
    out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="docportal-pipeline-") as tmp:
        corpus = Path(tmp)
        large = tuple(s for s in LARGE_SIZES if sizes.uploads >= 1000 or s <= 5 * MB)
        mixed = generate(corpus / "burst", sizes.uploads - len(large) - len(HOSTILE), seed=seed,
                         large=large, hostile=True)
        megabytes = sum(p.stat().st_size for p in mixed) / 1e6
        ones = sized(corpus / "idle", (MB,) * sizes.idle, seed=seed, kinds=tuple(sorted(SIZED)))
        smalls = sized(corpus / "small", (10_000,) * sizes.idle, seed=seed, kinds=tuple(sorted(SIZED)))
        drain = generate(corpus / "drain", sizes.drain, seed=seed + 1)

        with local_stack(_fresh(logs / "idle")) as stack, workers(stack, 1):
            sequential(stack, ones[:2])  # warm-up: first imports in the worker's parser process
            results = sequential(stack, ones)
            small = checks.latencies(r for r, _ in sequential(stack, smalls))
        item = checks.latencies(r for r, _ in results)
        client = [seconds for _, seconds in results]
        if len(item) != len(ones):
            raise AssertionError(f"{len(ones) - len(item)} of the 1 MB files were not processed")
        p95 = checks.percentile(item, 95)
        out += [
            (f"pipeline: 1 MB file, idle stack, upload->processed p50/p95/p99 (items, n={len(item)})",
             _triple(item), f"goal p95 < {IDLE_GOAL_SECONDS:.0f} s", f"{p95 / IDLE_GOAL_SECONDS:.2f}"),
            ("pipeline: same, seen by the client (poll every 10 ms)", _triple(client), "", ""),
            (f"pipeline: 10 KB file, idle stack, upload->processed p50/p95/p99 (items, n={len(small)})",
             _triple(small), f"goal p95 < {IDLE_GOAL_SECONDS:.0f} s",
             f"{checks.percentile(small, 95) / IDLE_GOAL_SECONDS:.2f}"),
        ]

        with local_stack(_fresh(logs / "burst")) as stack, workers(stack, sizes.burst_workers):
            stack.set_visibility(BENCH_VISIBILITY)
            result = burst(stack, mixed, sizes.clients)
        wrong = result.problems(HOSTILE)
        if wrong:
            raise AssertionError(f"the burst went wrong (logs in {logs / 'burst'}): " + "; ".join(wrong))
        records = [result.records[u.file_id] for u in result.uploads]
        under = checks.latencies(records)
        span = checks.seconds_between(min(r.uploaded_at for r in records),
                                      max(r.processed_at for r in records))
        failed = sum(r.status is FileStatus.FAILED for r in records)
        out += [
            (f"pipeline: burst of {len(mixed):,} uploads ({megabytes:.0f} MB, {sizes.clients} clients, "
             f"{sizes.burst_workers} workers), upload->processed p50/p95/p99",
             _triple(under), f"idle p95 {p95:.2f} s", f"{checks.percentile(under, 95) / p95:.1f}x"),
            ("pipeline: burst, first upload to last processed (items)", f"{len(records) / span:.1f} files/s",
             f"{span:.0f} s (until the queue was empty: {result.seconds:.0f} s)", ""),
            ("pipeline: burst checks", f"{len(records):,} terminal, {failed} failed (all hostile), "
             "aggregates = recount", f"DLQ: {len(result.dead_letters)} messages", "exact"),
        ]

        per_count: dict[int, float] = {}
        for count in sizes.worker_counts:
            with local_stack(_fresh(logs / f"drain{count}")) as stack:
                stack.set_visibility(BENCH_VISIBILITY)
                per_count[count] = checks.throughput(prequeued(stack, drain, count, sizes.clients))
        base = per_count[sizes.worker_counts[0]]
        for count, rate in per_count.items():
            out.append((f"pipeline throughput, {len(drain)} queued files, {count} worker(s)",
                        f"{rate:.1f} files/s", f"{base:.1f} files/s ({sizes.worker_counts[0]} worker)",
                        f"{rate / base:.2f}"))
    return out


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
