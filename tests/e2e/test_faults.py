"""Faults while files are in flight: each test says what it injects and checks every file and counter.

The stack is a moto server of this module's own; the queue's visibility
timeout is shortened here (the template's six minutes would make a retry take
six minutes), which changes when a retry happens, not whether. The server is
:mod:`devstack.moto_server`, whose DynamoDB transactions are isolated as
DynamoDB's are (moto's own copy the table without a lock: under concurrent
writes they fail with a 500 or roll back other requests' writes), so what
these tests inject is all that goes wrong.
"""

import contextlib
import hashlib
import random
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.httpsession import URLLib3Session

from bench import checks, pipeline
from common.catalogue import FileStatus
from common.schema.keys import sequencer_order
from common.schema.record import from_item
from devstack import processes
from devstack.worker import Worker
from extractor.processor import Deps, process_message
from tests.helpers.env import ROOT
from tests.helpers.events import eventbridge_body

pytestmark = pytest.mark.e2e
OWNER = "f0000000-1111-4222-8333-444455556666"
VISIBILITY = 2


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with pipeline.local_stack(tmp_path_factory.mktemp("faults")) as stack:
        stack.set_visibility(VISIBILITY)
        yield stack


def files_of(stack, prefix):
    return {i["file_id"]["S"]: from_item(i) for i in pipeline.scan(stack.client("dynamodb"), stack.settings.table)
            if i["pk"]["S"].startswith("FILE#") and i["file_id"]["S"].startswith(prefix)}


def assert_counters_match_recount(stack):
    """Every aggregate counter equals a recount from every file item, and each finished file counts once."""
    items = pipeline.scan(stack.client("dynamodb"), stack.settings.table)
    records = checks.file_records(items)
    stored = checks.stored_counters(items)
    assert stored == checks.recount(records.values())
    day_files = sum(v for (pk, _, name), v in stored.items() if pk == "AGG#DAY" and name == "files")
    assert day_files == sum(r.status.terminal for r in records.values())


def dead_letters(stack):
    return pipeline.queue_depth(stack.client("sqs"), stack.settings.dlq_url)


def assert_queues_empty(stack, dead_before):
    """Nothing waits in the queue and nothing was added to the dead-letter queue."""
    assert pipeline.queue_depth(stack.client("sqs"), stack.settings.queue_url) == 0
    assert dead_letters(stack) == dead_before


def put_files(stack, prefix, count, data=b"plain text, nothing more\n"):
    s3, ids = stack.client("s3"), []
    for i in range(count):
        file_id = f"{prefix}{i:0{32 - len(prefix)}x}"
        s3.put_object(Bucket=stack.settings.bucket, Key=f"uploads/{OWNER}/{file_id}.txt", Body=data + bytes([i % 256]))
        ids.append(file_id)
    return ids


def empty_queue(sqs, url: str) -> None:
    """Empty a queue: a purge, or, since SQS allows one purge a minute per queue and the tests
    of this module share their queues, receive and delete what is left."""
    try:
        sqs.purge_queue(QueueUrl=url)
        return
    except sqs.exceptions.PurgeQueueInProgress:
        pass
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                          VisibilityTimeout=60).get("Messages", []):
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])


def wait_until(predicate, attempts=240, pause=0.25):
    for _ in range(attempts):  # bounded; no time is asserted
        if predicate():
            return True
        time.sleep(pause)
    return False


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(stack):
    """Injected: SIGKILL of the only worker process while it works through a burst."""
    ids = put_files(stack, "a1", 60)
    first = stack.start_worker("killed")
    assert wait_until(lambda: any(r.status.terminal for r in files_of(stack, "a1").values()), pause=0.05), \
        stack.log_tail("killed")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    processes.stop([first])  # the parser process it leaves behind, as Lambda ends its whole sandbox
    done_before = sum(r.status.terminal for r in files_of(stack, "a1").values())
    second = stack.start_worker("restarted")
    try:
        assert wait_until(lambda: len(files_of(stack, "a1")) == 60
                          and all(r.status.terminal for r in files_of(stack, "a1").values())), \
            stack.log_tail("restarted")
    finally:
        processes.stop([second])
    records = files_of(stack, "a1")
    assert set(records) == set(ids)
    assert all(r.status is FileStatus.PROCESSED for r in records.values())
    assert done_before < 60  # the kill really happened mid-way
    assert_counters_match_recount(stack)


class _Throttled:
    """DynamoDB that refuses the first ``n`` transactions with throttling."""

    def __init__(self, real, n):
        self.real, self.left = real, n

    def __getattr__(self, name):
        return getattr(self.real, name)

    def transact_write_items(self, **kwargs):
        if self.left:
            self.left -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                              "TransactWriteItems")
        return self.real.transact_write_items(**kwargs)


def test_throttling_is_retried_and_the_file_is_processed_once(stack):
    """Injected: DynamoDB throttles the first three transactions; SQS redelivers the message."""
    (file_id,) = put_files(stack, "b2", 1)
    key = f"uploads/{OWNER}/{file_id}.txt"
    head = stack.client("s3").head_object(Bucket=stack.settings.bucket, Key=key)
    body = eventbridge_body(stack.settings.bucket, key, sequencer="00FF", size=head["ContentLength"],
                            version_id=head.get("VersionId", "null"))
    ddb = _Throttled(stack.client("dynamodb"), 3)
    deps = Deps(s3=stack.client("s3"), ddb=ddb, table=stack.settings.table)
    attempts = 0
    while True:  # what SQS does: deliver again until the handler succeeds
        attempts += 1
        try:
            process_message(body, attempts, deps)
            break
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert attempts == 4 and ddb.left == 0
    (record,) = files_of(stack, "b2").values()
    assert record.status is FileStatus.PROCESSED
    assert_counters_match_recount(stack)


class _BrokenS3:
    """S3 whose reads of one key always fail with a server error."""

    def __init__(self, real, key):
        self.real, self.key = real, key

    def __getattr__(self, name):
        return getattr(self.real, name)

    def get_object(self, **kwargs):
        if kwargs["Key"] == self.key:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "GetObject")
        return self.real.get_object(**kwargs)


def test_a_permanent_failure_reaches_the_dead_letter_queue_with_the_file_failed(stack):
    """Injected: every read of one object fails; the queue's redrive policy (5 receives) applies."""
    sqs = stack.client("sqs")
    for url in (stack.settings.queue_url, stack.settings.dlq_url):
        empty_queue(sqs, url)
    (file_id,) = put_files(stack, "c3", 1)
    key = f"uploads/{OWNER}/{file_id}.txt"
    deps = Deps(s3=_BrokenS3(stack.client("s3"), key), ddb=stack.client("dynamodb"), table=stack.settings.table)

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            try:
                process_message(record["body"], int(record["attributes"]["ApproximateReceiveCount"]), deps)
            except ClientError:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    worker = Worker(sqs, stack.settings.queue_url, handler, region="us-east-1", wait_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        def in_dlq():
            attrs = sqs.get_queue_attributes(QueueUrl=stack.settings.dlq_url, AttributeNames=["All"])["Attributes"]
            return attrs["ApproximateNumberOfMessages"] == "1"
        assert wait_until(in_dlq, attempts=200, pause=0.25)
    finally:
        stop.set()
        thread.join(timeout=15)
    (record,) = files_of(stack, "c3").values()
    assert record.status is FileStatus.FAILED
    assert record.reason == "processing failed 5 times; last error: InternalError from AWS"
    assert_counters_match_recount(stack)


# --- DynamoDB server errors ---------------------------------------------------------


class _Raw:
    """The raw body botocore reads an HTTP response from."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def _server_error(url: str, status: int) -> AWSResponse:
    code = {500: "InternalServerError", 503: "ServiceUnavailable"}[status]
    body = b'{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected"}' % code.encode()
    return AWSResponse(url, status, {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0",
                                     "Content-Length": str(len(body))}, _Raw(body))


class _ServerErrors:
    """A ``before-send`` hook answering chosen DynamoDB requests with 500 or 503.

    Requests are numbered per operation from 1, retries included. Those in
    ``refuse`` never reach the server (odd numbers get a 500
    InternalServerError, even ones a 503 ServiceUnavailable); those in
    ``lose`` reach it and are applied, and their answer is replaced by a 500,
    as when DynamoDB fails after committing.
    """

    def __init__(self, refuse: dict[str, set[int]], lose: dict[str, set[int]]):
        self.refuse, self.lose = refuse, lose
        self.seen: Counter = Counter()
        self.injected: list[tuple[str, int, str]] = []
        self.session = URLLib3Session()
        self.lock = threading.Lock()

    def __call__(self, request, event_name, **_):
        operation = event_name.rsplit(".", 1)[-1]
        with self.lock:
            self.seen[operation] += 1
            number = self.seen[operation]
        if number in self.refuse.get(operation, set()):
            self.injected.append((operation, number, "refused"))
            return _server_error(request.url, 500 if number % 2 else 503)
        if number in self.lose.get(operation, set()):
            self.session.send(request)
            self.injected.append((operation, number, "lost"))
            return _server_error(request.url, 500)
        return None

    def planned(self) -> set[tuple[str, int]]:
        return {(op, n) for plan in (self.refuse, self.lose) for op, numbers in plan.items() for n in numbers}


def _worker_thread(stack, deps, seen_errors, receive_counts):
    """The local worker in a thread, handing records to ``process_message`` with ``deps``."""
    def handler(event, context):
        failures = []
        for record in event["Records"]:
            count = int(record["attributes"]["ApproximateReceiveCount"])
            receive_counts[record["body"]] = max(count, receive_counts.get(record["body"], 0))
            try:
                process_message(record["body"], count, deps)
            except (ClientError, BotoCoreError) as e:
                seen_errors.append(e.response["Error"]["Code"] if isinstance(e, ClientError) else type(e).__name__)
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    worker = Worker(stack.client("sqs"), stack.settings.queue_url, handler, region="us-east-1", wait_seconds=1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_dynamodb_server_errors_are_retried_and_every_file_is_processed_once(stack):
    """Injected: 500 InternalServerError and 503 ServiceUnavailable answers to DynamoDB while 30 files are processed.

    The extractor's DynamoDB client (adaptive retries, as in production, but
    fewer of them so that some errors outlast botocore's retries) gets:
    single errors on GetItem and TransactWriteItems, which botocore retries;
    three in a row, which reach the handler, so SQS delivers the message
    again; and transactions that are applied but answered with a 500, which
    botocore retries against an item that has changed meanwhile.
    """
    dead_before = dead_letters(stack)
    ids = put_files(stack, "e1", 30)
    data = {i: b"plain text, nothing more\n" + bytes([n % 256]) for n, i in enumerate(ids)}
    ddb = _retrying(stack.endpoint, max_attempts=2)
    faults = _ServerErrors(
        refuse={"TransactWriteItems": {3, 9, 10, 11, 21, 33, 34, 35, 47}, "GetItem": {5, 12, 13, 14, 30, 44, 45, 46}},
        lose={"TransactWriteItems": {15, 40}})
    ddb.meta.events.register("before-send.dynamodb", faults)
    deps = Deps(s3=stack.client("s3"), ddb=ddb, table=stack.settings.table)
    seen_errors, receive_counts = [], {}
    stop, thread = _worker_thread(stack, deps, seen_errors, receive_counts)
    try:
        assert wait_until(lambda: len(files_of(stack, "e1")) == 30
                          and all(r.status.terminal for r in files_of(stack, "e1").values())
                          and pipeline.queue_depth(stack.client("sqs"), stack.settings.queue_url) == 0,
                          attempts=400, pause=0.25)
    finally:
        stop.set()
        thread.join(timeout=15)
    assert {(op, n) for op, n, _ in faults.injected} == faults.planned()  # every fault was injected
    assert set(seen_errors) <= {"InternalServerError", "ServiceUnavailable"} and seen_errors
    assert max(receive_counts.values()) > 1  # some messages really came back through SQS
    records = files_of(stack, "e1")
    assert set(records) == set(ids)
    for file_id, record in records.items():
        assert record.status is FileStatus.PROCESSED, record.reason
        assert record.sha256 == hashlib.sha256(data[file_id]).hexdigest()
        assert record.rev.endswith("#finished")
    assert_counters_match_recount(stack)
    assert_queues_empty(stack, dead_before)


def _retrying(endpoint, max_attempts):
    """A DynamoDB client like production's (adaptive retries) with ``max_attempts`` attempts."""
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=Config(retries={"mode": "adaptive", "max_attempts": max_attempts}))


# --- the endpoint going away ----------------------------------------------------------


class _Outage:
    """A TCP proxy in front of the moto server that can go down and come back.

    Down, it resets every open connection and refuses new ones (nothing
    listens on its port), which is what a client sees while a server restarts;
    the server behind it keeps its state, so what the files went through can
    still be checked afterwards.
    """

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, processes.free_port()
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.connections = 0
        self.listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> int:
        """Go down; returns how many open connections were reset."""
        assert self.listener is not None
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.listener = None
        with self.lock:
            doomed, self.open = self.open, set()
        for conn in doomed:
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        return len(doomed) // 2

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open |= {client, upstream}
                self.connections += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for conn in (src, dst):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


@pytest.mark.timeout(600)
def test_the_worker_rides_out_the_endpoint_going_away_and_coming_back(stack):
    """Injected: every AWS endpoint the worker uses goes away for 6 s while 80 files are in flight.

    A real restart of moto loses everything (its state is in memory) and so
    could only show that the worker reconnects, not that files survive. So
    the worker reaches the server through a proxy that, mid-burst, resets
    every open connection and refuses new ones (connection refused: the
    server's side of a restart) and then listens again, while the server
    keeps its state: in-flight S3, DynamoDB and SQS calls fail (botocore
    retries them; what outlasts its retries fails the message, which SQS
    delivers again), the worker process must keep running, and every file
    must end processed exactly once.
    """
    dead_before = dead_letters(stack)
    ids = put_files(stack, "f2", 80)
    host, port = urlsplit(stack.endpoint).hostname, urlsplit(stack.endpoint).port
    proxy = _Outage((host, port))
    env = {**stack.worker_env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
    log = stack.logs / "outage.log"
    worker = processes.start([sys.executable, "-m", "devstack", "worker"], log=log, env=env, cwd=ROOT)
    try:
        assert wait_until(lambda: sum(r.status.terminal for r in files_of(stack, "f2").values()) >= 10,
                          attempts=600, pause=0.05), stack.log_tail("outage")
        reset = proxy.down()
        done_at_cut = sum(r.status.terminal for r in files_of(stack, "f2").values())
        time.sleep(6)
        alive_through_outage = worker.poll() is None
        connections_before = proxy.connections
        proxy.up()
        assert wait_until(lambda: len(files_of(stack, "f2")) == 80
                          and all(r.status.terminal for r in files_of(stack, "f2").values())
                          and pipeline.queue_depth(stack.client("sqs"), stack.settings.queue_url) == 0,
                          attempts=600, pause=0.25), stack.log_tail("outage")
        assert worker.poll() is None
    finally:
        processes.stop([worker])
        if proxy.listener is not None:
            proxy.down()
    assert alive_through_outage
    assert done_at_cut < 80 and reset > 0  # the outage came mid-burst and cut the worker's connections
    assert proxy.connections > connections_before  # the worker came back through the restored endpoint
    records = files_of(stack, "f2")
    assert set(records) == set(ids)
    assert all(r.status is FileStatus.PROCESSED for r in records.values()), \
        {r.name: r.reason for r in records.values() if r.status is not FileStatus.PROCESSED}
    assert_counters_match_recount(stack)
    assert_queues_empty(stack, dead_before)


# --- duplicates and out-of-order deliveries at volume -------------------------------------


FILES, VERSIONS = 100, 3


def _sequencer(file_index: int, version: int) -> str:
    """Distinct, increasing per key, of varying length and zero padding, as S3's are."""
    value = (file_index + 1) * 16 ** (4 * version) + 7 * version
    return ("00" if version == 1 else "") + f"{value:X}"


@pytest.mark.timeout(600)
def test_duplicate_and_out_of_order_deliveries_at_volume_end_as_the_newest_version(stack):
    """Injected: 100 files x 3 S3 versions, each event delivered 1-3 times, shuffled, sent straight into the queue.

    The events have the shape AWS documents for S3 -> EventBridge -> SQS,
    each with its own sequencer (increasing per key, of varying length, as
    S3's are); moto's own events (which all carry one fixed sequencer) are
    purged first. Two worker processes take them. Each file must end as its
    newest version's result, whatever arrived in which order, and every
    aggregate must equal a recount, so each file counts exactly once.
    """
    dead_before = dead_letters(stack)
    s3, sqs = stack.client("s3"), stack.client("sqs")
    bucket = stack.settings.bucket
    versions: dict[int, list[dict]] = {}
    for i in range(FILES):
        key = f"uploads/{OWNER}/e5{i:030x}.txt"
        for k in range(VERSIONS):
            body = f"file {i}, version {k}\n".encode() * (k + 1)
            put = s3.put_object(Bucket=bucket, Key=key, Body=body)
            assert put.get("VersionId") not in (None, "null")  # the bucket is versioned
            versions.setdefault(i, []).append({"key": key, "body": body, "version_id": put["VersionId"],
                                               "etag": put["ETag"].strip('"'), "sequencer": _sequencer(i, k)})
    empty_queue(sqs, stack.settings.queue_url)
    assert pipeline.queue_depth(sqs, stack.settings.queue_url) == 0

    rng = random.Random(6)
    deliveries = [(i, k) for i in range(FILES) for k in range(VERSIONS)
                  for _ in range(1 + (rng.random() < 0.5) + (rng.random() < 0.2))]
    rng.shuffle(deliveries)
    newest_first = {i for i in range(FILES)
                    if deliveries.index((i, VERSIONS - 1)) < max(j for j, d in enumerate(deliveries) if d[0] == i
                                                                  and d[1] < VERSIONS - 1)}
    assert len(deliveries) > 400 and len(newest_first) > FILES // 2  # volume, duplicates, disorder
    bodies = [eventbridge_body(bucket, v["key"], sequencer=v["sequencer"], size=len(v["body"]), etag=v["etag"],
                               version_id=v["version_id"]) for v in (versions[i][k] for i, k in deliveries)]
    stack.set_visibility(30)
    try:
        for start in range(0, len(bodies), 10):
            sent = sqs.send_message_batch(QueueUrl=stack.settings.queue_url, Entries=[
                {"Id": str(n), "MessageBody": b} for n, b in enumerate(bodies[start:start + 10])])
            assert not sent.get("Failed")
        with pipeline.workers(stack, 2, prefix="disorder"):
            newest = {f"e5{i:030x}": sequencer_order(_sequencer(i, VERSIONS - 1)) for i in range(FILES)}

            def settled():
                if pipeline.queue_depth(sqs, stack.settings.queue_url):
                    return False
                records = files_of(stack, "e5")
                return len(records) == FILES and all(
                    r.rev == f"{newest[f]}#finished" for f, r in records.items())
            assert wait_until(settled, attempts=1000, pause=0.4), stack.log_tail("disorder0")
    finally:
        stack.set_visibility(VISIBILITY)
    records = files_of(stack, "e5")
    for i in range(FILES):
        latest = versions[i][-1]
        record = records[f"e5{i:030x}"]
        assert record.status is FileStatus.PROCESSED, record.reason
        assert (record.version_id, record.size, record.sha256, record.sequencer) == (
            latest["version_id"], len(latest["body"]), hashlib.sha256(latest["body"]).hexdigest(),
            sequencer_order(latest["sequencer"]))
    assert_counters_match_recount(stack)
    assert_queues_empty(stack, dead_before)
