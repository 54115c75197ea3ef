"""Run `python -m devstack run` (what `make run` runs) as a subprocess, for tests."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack import processes
from tests.helpers.env import ROOT


class System:
    """`python -m devstack run` as a subprocess with its own ports and state dir."""

    def __init__(self, state: Path):
        self.state = state
        self.moto_port, self.portal_port = processes.free_port(), processes.free_port()
        self.output = state.parent / f"supervisor-{self.moto_port}-{time.monotonic_ns()}.out"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "System":
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCPORTAL_"))}
        env.update(DOCPORTAL_STATE_DIR=str(self.state), DOCPORTAL_MOTO_PORT=str(self.moto_port),
                   DOCPORTAL_PORT=str(self.portal_port), PYTHONUNBUFFERED="1")
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

    @property
    def settings(self) -> dict:
        return json.loads((self.state / "stack.json").read_text())

    def children(self) -> list[int]:
        return json.loads((self.state / "pids.json").read_text())["children"]

    def stop(self, sig=signal.SIGINT) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
