"""Start, watch and stop the local stack's processes, leaving no strays."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Words in a command line that mark a process as ours, for stale clean-up.
_OURS = ("moto.server", "devstack", "streamlit")
#: Seconds a child of a dead supervisor gets to stop by itself (the moto server saves its state).
STALE_GRACE = 60.0


class StartupError(RuntimeError):
    """A process of the local stack could not start; the message says why."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port``."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on right now (for tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """``count`` different ports nothing listens on right now (for tests that must name them first)."""
    found: set[int] = set()
    while len(found) < count:
        found.add(free_port())
    return sorted(found)


def start(args: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start ``args`` in its own session (so Ctrl-C reaches only the supervisor)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(list(args), stdout=out, stderr=subprocess.STDOUT, env=dict(env or os.environ),
                                cwd=cwd, start_new_session=True)


def command_of(proc: subprocess.Popen[bytes], words: int = 0) -> str:
    """The command a child runs, for messages; its first ``words`` only when given."""
    args = [str(a) for a in proc.args] if isinstance(proc.args, list | tuple) else [str(proc.args)]
    return " ".join(args[:words] if words else args)


def wait_http(url: str, *, timeout: float, proc: subprocess.Popen[bytes] | None = None,
              log: Path | None = None, cancel: threading.Event | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status), or fail clearly (also when ``cancel`` is set)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cancel is not None and cancel.is_set():
            raise StartupError("stopped while waiting for it to start")
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise StartupError(f"{command_of(proc)} exited with {proc.returncode}\n{tail}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise StartupError(f"{url} did not answer within {timeout:.0f} s")


def stop(procs: Sequence[subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left after ``grace``."""
    for proc in procs:
        _signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def kill_group(pid: int) -> None:
    """SIGKILL what is left of a dead child's process group (its parser processes, say)."""
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive_and_ours(pid: int) -> bool:
    cmdline = _cmdline(pid)
    return bool(cmdline) and any(word in cmdline for word in _OURS)


def _gone(pids: Sequence[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while any(_running(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class PidFile:
    """Records the supervisor and its children, so a crashed run can be cleaned up."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def clean_stale(self, grace: float = STALE_GRACE) -> list[int]:
        """Stop the children of a dead supervisor; refuse if a supervisor is still running.

        Each is asked to stop (SIGTERM), the last started first, and killed if
        it still runs after a few seconds; the moto server, started first, is
        given ``grace`` seconds, to save its state after the workers are gone.
        Returns their pids.
        """
        data = self.refuse_if_running()
        stale = [int(pid) for pid in data.get("children", []) if _alive_and_ours(int(pid))]
        for pid in reversed(stale):
            _signal_group(pid, signal.SIGTERM)
            # They are not our children, so we cannot wait(); watch them go instead,
            # so their ports are free before we bind them again.
            if not _gone([pid], grace if "moto" in _cmdline(pid) else 5):
                _signal_group(pid, signal.SIGKILL)
        if not _gone(stale, 15):
            raise StartupError(f"processes {stale} of an earlier run would not stop")
        self.path.unlink(missing_ok=True)
        return stale

    def refuse_if_running(self) -> dict[str, Any]:
        """What the file records; raises StartupError while the supervisor it names is running."""
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        supervisor = int(data.get("supervisor", 0))
        if supervisor and supervisor != os.getpid() and _alive_and_ours(supervisor):
            raise StartupError(f"DocPortal is already running (pid {supervisor}); stop it with Ctrl-C first")
        return data

    def write(self, children: Sequence[subprocess.Popen[bytes]]) -> None:
        """Record this supervisor and its current children, whole: written aside, then renamed in place.

        Readers (tests, ``make reset``, a second ``make run``) read it at any
        moment, and a file being rewritten in place is empty for a while.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        aside = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        aside.write_text(json.dumps({"supervisor": os.getpid(), "children": [p.pid for p in children]}))
        os.replace(aside, self.path)

    def remove(self) -> None:
        """Forget the record after a clean stop."""
        self.path.unlink(missing_ok=True)
