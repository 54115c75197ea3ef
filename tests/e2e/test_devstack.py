"""`make run`'s supervisor: it starts everything, stops cleanly, and recovers from a crash."""

import signal

import pytest

from devstack import processes
from tests.helpers.system import System, alive

pytestmark = pytest.mark.e2e


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
