"""Start, watch and stop the local stack's processes, leaving no strays."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Words in a command line that mark a process as ours, for stale clean-up.
_OURS = ("moto.server", "devstack", "streamlit")


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
              log: Path | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status), or fail clearly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
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


def _alive_and_ours(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return any(word in cmdline for word in _OURS)


class PidFile:
    """Records the supervisor and its children, so a crashed run can be cleaned up."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def clean_stale(self) -> None:
        """Kill the children of a dead supervisor; refuse if a supervisor is still running."""
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return
        supervisor = int(data.get("supervisor", 0))
        if supervisor and supervisor != os.getpid() and _alive_and_ours(supervisor):
            raise StartupError(f"DocPortal is already running (pid {supervisor}); stop it with Ctrl-C first")
        stale = [int(pid) for pid in data.get("children", []) if _alive_and_ours(int(pid))]
        for pid in stale:
            _signal_group(pid, signal.SIGKILL)
        # They are not our children, so we cannot wait(); watch them go instead,
        # so their ports are free before we bind them again.
        deadline = time.monotonic() + 15
        while any(_running(pid) for pid in stale):
            if time.monotonic() > deadline:
                raise StartupError(f"processes {stale} of an earlier run would not stop")
            time.sleep(0.1)
        self.path.unlink(missing_ok=True)

    def write(self, children: Sequence[subprocess.Popen[bytes]]) -> None:
        """Record this supervisor and its current children."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"supervisor": os.getpid(), "children": [p.pid for p in children]}))

    def remove(self) -> None:
        """Forget the record after a clean stop."""
        self.path.unlink(missing_ok=True)
