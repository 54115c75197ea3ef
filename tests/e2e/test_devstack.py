"""`make run`'s supervisor: it starts everything, stops cleanly, recovers from a crash; `make reset`."""

import os
import signal
import subprocess
import sys

import pytest
import requests

from devstack import processes
from tests.helpers.env import ROOT
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
        assert len(children) == 4  # the moto server, the worker, the portal and the API
        api = f"http://127.0.0.1:{system.api_port}"
        assert api in out
        assert requests.get(f"{api}/v1/openapi.json", timeout=10).status_code == 200
        assert requests.get(f"{api}/v1/files", timeout=10).status_code == 401  # no token
    finally:
        code = system.stop()
    assert code == 0
    assert not any(alive(pid) for pid in children)
    assert not (system.state / "pids.json").exists()
    assert processes.port_free(system.moto_port) and processes.port_free(system.portal_port)
    assert processes.port_free(system.api_port)


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


def test_reset_forgets_the_kept_state_but_not_while_running(tmp_path):
    state = tmp_path / "state"
    first = System(state).start()
    try:
        settings = first.stack_settings
        first.client("cognito-idp").admin_create_user(UserPoolId=settings.user_pool_id,
                                                      Username="kept@example.com", MessageAction="SUPPRESS")
        refused = reset(state)
        assert refused.returncode == 1 and "already running" in refused.stderr
        orphans = first.children()
    finally:
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL  # its children live on, and would save again
    assert (state / "moto" / "moto.pickle").exists()

    done = reset(state)
    assert done.returncode == 0, done.stderr
    assert not any(alive(pid) for pid in orphans)
    assert not (state / "moto").exists() and not (state / "stack.json").exists()
    second = first.again().start()
    try:
        assert "kept from the last run" not in second.output.read_text()
        users = second.client("cognito-idp").list_users(UserPoolId=second.stack_settings.user_pool_id)["Users"]
        assert len(users) == 3  # the demo users, made afresh
    finally:
        assert second.stop() == 0


def reset(state):
    """`make reset` (python -m devstack reset) for this state folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCPORTAL_"))}
    return subprocess.run([sys.executable, "-m", "devstack", "reset"], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "DOCPORTAL_STATE_DIR": str(state)}, timeout=120)
