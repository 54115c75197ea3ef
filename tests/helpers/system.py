"""Run `python -m devstack run` (what `make run` runs) as a subprocess, for tests."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from common.settings import Settings
from devstack import processes
from tests.helpers.env import ROOT, server_client

#: Words of each child's command line.
CHILDREN = {"moto": "devstack.moto_server", "worker": "-m devstack worker", "portal": "streamlit run"}
_SAVED = re.compile(r"state as of (\S+) saved")


class System:
    """`python -m devstack run` as a subprocess with its own ports and state dir."""

    def __init__(self, state: Path, moto_port: int | None = None, portal_port: int | None = None,
                 api_port: int | None = None, env: dict[str, str] | None = None):
        self.state = state
        self.moto_port = moto_port or processes.free_port()
        self.portal_port = portal_port or processes.free_port()
        self.api_port = api_port or processes.free_port()
        #: Settings of this run (DOCPORTAL_* variables), on top of the clean environment.
        self.env = dict(env or {})
        self.output = state.parent / f"supervisor-{self.moto_port}-{time.monotonic_ns()}.out"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "System":
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCPORTAL_"))}
        env.update(DOCPORTAL_STATE_DIR=str(self.state), DOCPORTAL_MOTO_PORT=str(self.moto_port),
                   DOCPORTAL_PORT=str(self.portal_port), DOCPORTAL_API_PORT=str(self.api_port),
                   PYTHONUNBUFFERED="1")
        env.update(self.env)
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(600):
            text = self.output.read_text()
            if "DocPortal is running" in text:
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"supervisor exited {self.proc.returncode}:\n{text}")
            time.sleep(0.2)
        raise AssertionError(f"supervisor never came up:\n{self.output.read_text()}")

    def again(self) -> "System":
        """Another run on the same state folder and ports, as a second `make run` would be (not started)."""
        return System(self.state, self.moto_port, self.portal_port, self.api_port, self.env)

    @property
    def settings(self) -> dict:
        return json.loads((self.state / "stack.json").read_text())

    @property
    def stack_settings(self) -> Settings:
        return Settings.load(self.state / "stack.json")

    def client(self, service: str):
        return server_client(self.settings["endpoint_url"], service)

    def children(self) -> list[int]:
        return json.loads((self.state / "pids.json").read_text())["children"]

    def child(self, name: str) -> int:
        """The pid of the running moto server, worker or portal; 0 while there is none."""
        for pid in self.children():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if CHILDREN[name] in cmdline and alive(pid):
                return pid
        return 0

    def wait_for_output(self, text: str, timeout: float = 120, after: int = 0) -> str:
        """Wait until the supervisor has printed ``text`` (past character ``after``); its output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output.read_text()
            if text in out[after:]:
                return out
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"supervisor exited {self.proc.returncode} before {text!r}:\n{out}")
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never printed:\n{self.output.read_text()}")

    def wait_saved(self, since: float, timeout: float = 60) -> None:
        """Wait until the moto server has saved a snapshot of its state as of a moment after ``since``."""
        deadline = time.monotonic() + timeout
        log = self.state / "moto.log"
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            if any(datetime.fromisoformat(m).timestamp() > since for m in _SAVED.findall(text)):
                return
            time.sleep(0.2)
        raise AssertionError(f"no snapshot after {since} within {timeout} s:\n{log.read_text()[-2000:]}")

    def processes(self) -> list[int]:
        """Every process of this run but the supervisor: those whose environment names its state folder."""
        mark = f"DOCPORTAL_STATE_DIR={self.state}\0".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or (self.proc and int(entry.name) == self.proc.pid):
                continue
            try:
                if mark in (entry / "environ").read_bytes() and alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def stop(self, sig=signal.SIGINT) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=180)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        # A zombie (exited, not yet reaped by its parent) counts as gone.
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
