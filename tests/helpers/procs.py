"""Processes seen through ``/proc`` (Linux): whose children they are, and whether they still run.

A process that died but was not reaped yet (a zombie, state ``Z``) no longer
runs: its parent may be an init that never waits for orphans.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: A stand-in for ``python -m devstack worker``: it installs the same SIGINT/SIGTERM
#: handlers, parses one file in the sandbox, says so, and waits to be stopped.
WORKER = r"""
import signal, sys, tempfile, threading
from pathlib import Path
from extractor.formats import Limits
from extractor.sandbox import Budget, run_isolated

stop = threading.Event()
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda *_: stop.set())
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "note.txt"
    path.write_text("one line of text\n")
    run_isolated("extractor.formats.text:parse_text", path, Limits(), Budget(seconds=20))
print("parsed", flush=True)
stop.wait()
"""


def start_worker() -> subprocess.Popen[str]:
    """The worker stand-in in a session of its own (as the local supervisor starts it), once it has parsed."""
    proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "parsed"
    return proc


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(pid: int) -> set[int]:
    """The running processes whose parent is ``pid``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid and running(int(entry)):
                found.add(int(entry))
    return found


def gone(pids: set[int], seconds: float) -> bool:
    """Wait up to ``seconds`` for every one of ``pids`` to stop running; True when they all did."""
    deadline = time.monotonic() + seconds
    while any(running(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
