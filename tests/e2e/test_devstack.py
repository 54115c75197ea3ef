"""`make run`'s supervisor: it starts everything, stops cleanly, and recovers from a crash."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack import processes
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


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


def test_run_prints_how_to_sign_in_writes_settings_and_stops_cleanly(tmp_path):
    system = System(tmp_path / "state").start()
    try:
        out = system.output.read_text()
        assert f"http://localhost:{system.portal_port}" in out
        assert "uploader@example.com" in out and "analyst@example.com" in out and "admin@example.com" in out
        settings = system.settings
        assert settings["endpoint_url"] == f"http://127.0.0.1:{system.moto_port}"
        assert settings["user_pool_id"] and settings["client_id"] and settings["queue_url"]
        children = system.children()
        assert len(children) == 3
    finally:
        code = system.stop()
    assert code == 0
    assert not any(alive(pid) for pid in children)
    assert not (system.state / "pids.json").exists()
    assert processes.port_free(system.moto_port) and processes.port_free(system.portal_port)


def test_run_after_a_crash_cleans_up_and_works(tmp_path):
    state = tmp_path / "state"
    first = System(state).start()
    orphans = first.children()
    first.stop(signal.SIGKILL)  # the supervisor dies; its children live on
    assert any(alive(pid) for pid in orphans)
    second = System(state)
    second.moto_port, second.portal_port = first.moto_port, first.portal_port  # same ports as before
    try:
        second.start()
        assert not any(alive(pid) for pid in orphans)
    finally:
        assert second.stop() == 0


def test_a_second_run_while_one_is_running_refuses_clearly(tmp_path):
    state = tmp_path / "state"
    first = System(state).start()
    try:
        second = System(state)
        with pytest.raises(AssertionError, match="already running"):
            second.start()
        assert second.proc.returncode == 1
    finally:
        assert first.stop() == 0
