"""devstack.supervisor and the worker's in-flight record: how a crashed process and its batch come back."""

import signal
import sys
import threading
import time

import pytest

from devstack import processes
from devstack.supervisor import Child, GaveUp, RestartPolicy, Restarts, Supervisor, describe_exit
from devstack.worker import InFlight, Worker, return_batch
from tests.helpers.env import ROOT, server_client
from tests.helpers.system import alive

pytestmark = pytest.mark.e2e

QUICK = RestartPolicy(first_pause=0.01, longest_pause=0.05, crashes=3, window=60)


def test_the_pause_doubles_with_each_recent_crash_and_the_fifth_within_a_minute_gives_up():
    restarts = Restarts(RestartPolicy())
    assert [restarts.crashed(t) for t in (0, 1, 2, 3)] == [1, 2, 4, 8]
    assert restarts.crashed(4) is None


def test_crashes_spread_wider_than_the_window_never_give_up_and_the_pause_is_capped():
    spread = Restarts(RestartPolicy())
    assert all(spread.crashed(t * 61.0) == 1 for t in range(20))
    capped = Restarts(RestartPolicy(crashes=100))
    assert max(capped.crashed(t / 100) for t in range(50)) == 30


def test_an_exit_is_told_in_words():
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert describe_exit(3) == "exited with status 3"


def python(tmp_path, name, code):
    """A child running ``code`` in its own process group, its output in ``<name>.log``."""
    log = tmp_path / f"{name}.log"
    return Child(name, log, lambda: processes.start([sys.executable, "-c", code], log=log), policy=QUICK)


def test_a_dead_child_is_replaced_with_its_process_group_while_the_others_run_on(tmp_path):
    parent = ("import subprocess, sys, time; p = subprocess.Popen(['sleep', '300']); "
              "print(p.pid, flush=True); time.sleep(300)")
    crashing, steady = python(tmp_path, "crashing", parent), python(tmp_path, "steady", "import time; time.sleep(300)")
    said = []
    supervisor = Supervisor([crashing, steady], say=said.append)
    try:
        for child in supervisor.children:
            child.start()
        first, other = crashing.proc, steady.proc
        deadline = time.monotonic() + 10
        while not crashing.log.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)
        grandchild = int(crashing.log.read_text().split()[0])
        first.send_signal(signal.SIGKILL)  # the parent only, as the OOM killer would
        first.wait()
        assert alive(grandchild)
        stop = threading.Event()
        supervisor.check(stop)  # reaps it: its group goes, its restart is due shortly
        time.sleep(0.1)
        supervisor.check(stop)  # starts it again
        assert not alive(grandchild)
        assert crashing.proc is not None and crashing.proc.pid != first.pid and crashing.proc.poll() is None
        assert steady.proc is other and other.poll() is None
        assert said[0].startswith(f"The crashing (pid {first.pid}) was killed by SIGKILL; starting it again in 0 s")
        assert said[1] == f"The crashing is running again (pid {crashing.proc.pid})."
    finally:
        processes.stop(supervisor.running())


def test_a_child_that_keeps_dying_is_given_up_on_with_the_end_of_its_log(tmp_path):
    dying = python(tmp_path, "dying", "import sys; print('cannot go on: no config'); sys.exit(3)")
    supervisor = Supervisor([dying], say=lambda text: None)
    dying.start()
    with pytest.raises(GaveUp, match=r"(?s)exited with status 3: it crashed 3 times within 60 s.*no config"):
        supervisor.run(threading.Event(), interval=0.02)


@pytest.fixture(scope="module")
def sqs(tmp_path_factory):
    port, log = processes.free_port(), tmp_path_factory.mktemp("moto") / "moto.log"
    proc = processes.start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log=log,
                           cwd=ROOT)
    try:
        processes.wait_http(f"http://127.0.0.1:{port}/moto-api/", timeout=60, proc=proc, log=log)
        yield server_client(f"http://127.0.0.1:{port}", "sqs")
    finally:
        processes.stop([proc])


def test_a_dead_workers_batch_comes_back_at_once_but_not_what_it_finished(sqs, tmp_path):
    url = sqs.create_queue(QueueName="batch", Attributes={"VisibilityTimeout": "366"})["QueueUrl"]
    for body in ("done", "half", "untouched"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    record = InFlight.of(tmp_path, 4242)
    seen = {}

    def handler(event, context):  # dies in the middle of the batch, after finishing one message
        seen["record"] = record.path.read_text()
        done = next(r for r in event["Records"] if r["body"] == "done")
        sqs.delete_message(QueueUrl=url, ReceiptHandle=done["receiptHandle"])
        raise SystemExit("killed")

    worker = Worker(sqs, url, handler, region="us-east-1", wait_seconds=0, in_flight=record)
    with pytest.raises(SystemExit):
        worker.poll_once()
    record.path.write_text(seen["record"])  # as a killed process leaves it: nothing ran after the kill
    assert return_batch(sqs, record) == 2
    assert not record.path.exists()
    back = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    assert sorted(m["Body"] for m in back) == ["half", "untouched"]


def test_a_worker_that_finishes_its_batch_leaves_no_record(sqs, tmp_path):
    url = sqs.create_queue(QueueName="fine")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    record = InFlight.of(tmp_path, 4243)
    held = []
    worker = Worker(sqs, url, lambda event, context: held.append(record.path.exists()), region="us-east-1",
                    wait_seconds=0, in_flight=record)
    assert worker.poll_once() == 1
    assert held == [True] and not record.path.exists()
