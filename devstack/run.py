"""``make run``: the whole system on an embedded AWS stand-in, stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from common import aws
from common.settings import ENV_NAMES, Settings
from devstack import processes
from devstack.provision import (
    DEFAULT_DEMO_PASSWORD,
    DEMO_USERS,
    MOTO_SERVER_ENV,
    create_demo_users,
    provision,
)

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"


def state_dir(settings: Settings) -> Path:
    """Where settings, pids and logs go: ``.local`` unless DOCPORTAL_STATE_DIR says otherwise."""
    return Path(settings.state_dir or ROOT / ".local").resolve()


def local_env(endpoint_url: str) -> dict[str, str]:
    """Environment that points boto3 at the stand-in with throwaway credentials."""
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def main() -> int:
    """Start everything, print how to sign in, wait for Ctrl-C, stop everything."""
    chosen = Settings.from_env(need_stack=False)
    moto_port, portal_port = chosen.moto_port, chosen.portal_port
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    state = state_dir(chosen)
    settings_file = state / "stack.json"
    pidfile = processes.PidFile(state / "pids.json")
    stop_requested = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop_requested.set())
    children: list[subprocess.Popen[bytes]] = []
    try:
        pidfile.clean_stale()
        for name, port, field in (("moto server", moto_port, "moto_port"),
                                  ("portal", portal_port, "portal_port")):
            if not processes.port_free(port):
                raise processes.StartupError(
                    f"port {port} for the {name} is in use; free it or set {ENV_NAMES[field]}")
        endpoint = f"http://127.0.0.1:{moto_port}"
        print(f"Starting the AWS stand-in (moto server) on {endpoint} …", flush=True)
        moto_log = state / "moto.log"
        # MOTO_SERVER_ENV makes moto check authenticator codes, as Cognito does.
        # devstack.moto_server: moto's server, with DynamoDB transactions isolated as on AWS.
        moto = processes.start(
            [sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
            log=moto_log, env={**os.environ, **MOTO_SERVER_ENV})
        children.append(moto)
        pidfile.write(children)
        processes.wait_http(f"{endpoint}/moto-api/", timeout=60, proc=moto, log=moto_log)

        env = local_env(endpoint)
        os.environ.update(env)
        aws.reset()
        print("Provisioning the stack from infra/cloudformation.yaml …", flush=True)
        settings = provision(endpoint, REGION)
        create_demo_users(aws.client("cognito-idp"), settings.user_pool_id, password)
        settings.dump(settings_file)
        env.update(settings.to_env())

        worker_log, portal_log = state / "worker.log", state / "portal.log"
        children.append(processes.start([sys.executable, "-m", "devstack", "worker"], log=worker_log,
                                        env=env, cwd=ROOT))
        portal = processes.start(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "portal" / "server.py"),
             "--server.port", str(portal_port), "--server.address", "localhost"],
            log=portal_log, env=env, cwd=ROOT)
        children.append(portal)
        pidfile.write(children)
        processes.wait_http(f"http://localhost:{portal_port}/_stcore/health", timeout=90,
                            proc=portal, log=portal_log)
        _banner(portal_port, password, state)
        while not stop_requested.wait(0.5):
            for proc in children:
                if proc.poll() is not None:
                    raise processes.StartupError(
                        f"{processes.command_of(proc, 4)} stopped (exit {proc.returncode}); "
                        f"see the logs in {state}")
        print("\nStopping …", flush=True)
        return 0
    except processes.StartupError as e:
        print(f"\nDocPortal could not run: {e}", file=sys.stderr, flush=True)
        return 1
    except Exception as e:  # provisioning errors and the like: say what, keep no strays
        print(f"\nDocPortal could not start: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        processes.stop(children)
        if children:
            pidfile.remove()
        print("Stopped.", flush=True)


def _banner(port: int, password: str, state: Path) -> None:
    users = "\n".join(f"    {u.email:<24} ({u.group})" for u in DEMO_USERS)
    print(
        f"\nDocPortal is running.\n\n  Open  http://localhost:{port}\n\n"
        f"  Sign in as any of these, password {password!r}:\n{users}\n\n"
        f"  Stack settings: {state / 'stack.json'}\n  Logs: {state}/*.log\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
