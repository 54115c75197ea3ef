"""Parser processes never outlive the worker that started them.

The worker stand-in (tests.helpers.procs.WORKER) installs SIGINT/SIGTERM
handlers as ``python -m devstack worker`` does, parses one file, and waits.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.helpers.procs import children, gone, running, start_worker


def test_a_worker_killed_with_sigkill_leaves_no_parser_behind():
    worker = start_worker()
    parsers = children(worker.pid)
    assert parsers, "the worker should have a parser process after parsing a file"
    try:
        worker.kill()
        worker.wait()
        assert gone(parsers, 5), f"parser processes {parsers} outlived their SIGKILLed worker"
    finally:
        for pid in parsers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("how", ["group", "process"])
def test_a_worker_stopped_with_sigterm_ends_with_its_parser_quickly(how):
    """``group``: as the local supervisor stops it (killpg); ``process``: SIGTERM to the worker alone."""
    worker = start_worker()
    parsers = children(worker.pid)
    assert parsers
    started = time.monotonic()
    try:
        if how == "group":
            os.killpg(worker.pid, signal.SIGTERM)
        else:
            worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not end within 5 s of SIGTERM (parsers still running: "
                        f"{[p for p in parsers if running(p)]})")
        assert gone(parsers, 2)
        assert time.monotonic() - started < 3
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        for pid in parsers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
