"""``make run``: the whole system on an embedded AWS stand-in that keeps its state; stopped with Ctrl-C.

The moto server keeps its state in ``<state dir>/moto`` (:mod:`devstack.persist`),
so files, items, users and messages outlive a stop, a crash and a restart;
``make reset`` (``python -m devstack reset``) starts empty. A process that dies
is replaced (:mod:`devstack.supervisor`): a worker's unfinished batch goes back
to the queue at once, and a moto server comes back with its saved state and
the stack provisioned on it again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from common import aws
from common.settings import ENV_NAMES, Settings
from devstack import processes, reset_codes
from devstack.provision import (
    DEFAULT_DEMO_PASSWORD,
    DEMO_USERS,
    MOTO_SERVER_ENV,
    create_demo_users,
    provision,
)
from devstack.supervisor import Child, GaveUp, Supervisor
from devstack.worker import InFlight, return_batch

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
#: The saved state of the moto server, under the state folder.
MOTO_STATE = "moto"
#: Seconds the moto server may take to start (it reads its saved state first) and to save on the way out.
MOTO_START_SECONDS = 300
MOTO_STOP_SECONDS = 120


def state_dir(settings: Settings) -> Path:
    """Where settings, pids, saved state and logs go: ``.local`` unless DOCPORTAL_STATE_DIR says otherwise."""
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


def session_key_env(state: Path, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the key that seals stored refresh tokens: the environment's, else one kept in ``state``.

    Kept in the state folder (readable by its owner only), so sessions outlive
    a restart of the portal, as they do on AWS where the key is a secret.
    """
    var = ENV_NAMES["session_key"]
    if env.get(var):
        return dict(env)
    path = state / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(Fernet.generate_key())
    return {**env, var: path.read_text().strip()}


def say(text: str) -> None:
    """A line for the person running ``make run``."""
    print(text, flush=True)


class LocalStack:
    """The processes of ``make run`` and what they share: ports, the state folder, the stack's settings."""

    def __init__(self, chosen: Settings, password: str, stop: threading.Event) -> None:
        self.state = state_dir(chosen)
        self.moto_port, self.portal_port = chosen.moto_port, chosen.portal_port
        self.api_port = chosen.api_port
        self.endpoint = f"http://127.0.0.1:{self.moto_port}"
        self.password = password
        self.stop = stop
        self.env = local_env(self.endpoint) | {ENV_NAMES["state_dir"]: str(self.state)}
        self.settings: Settings | None = None
        #: Where the moto server writes the password-reset codes it would have e-mailed.
        self.reset_codes = self.state / "reset-codes.log"
        self.created_users: list[str] = []
        self.moto = Child("moto server", self.state / "moto.log", self._launch_moto, self._moto_ready,
                          on_restart=self._after_moto_restart)
        self.worker = Child("worker", self.state / "worker.log", self._launch_worker, self._worker_ready,
                            on_death=self._worker_died)
        self._worker_log_from = 0
        self.portal = Child("portal", self.state / "portal.log", self._launch_portal, self._portal_ready)
        self.api = Child("API", self.state / "api.log", self._launch_api, self._api_ready)
        self.children = (self.moto, self.worker, self.portal, self.api)

    # --- launching ------------------------------------------------------------------

    def _launch_moto(self) -> subprocess.Popen[bytes]:
        # MOTO_SERVER_ENV makes moto check authenticator codes, as Cognito does.
        # devstack.moto_server: moto's server, with DynamoDB transactions isolated as on AWS, and
        # (--state) its state kept on disk.
        return processes.start(
            [sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1", "-p", str(self.moto_port),
             "--state", str(self.state / MOTO_STATE), "--reset-codes", str(self.reset_codes)],
            log=self.moto.log, env={**self.env, **MOTO_SERVER_ENV}, cwd=ROOT)

    def _moto_ready(self, proc: subprocess.Popen[bytes]) -> None:
        processes.wait_http(f"{self.endpoint}/moto-api/", timeout=MOTO_START_SECONDS, proc=proc,
                            log=self.moto.log, cancel=self.stop)

    def _stack_env(self) -> dict[str, str]:
        return self.env | (self.settings.to_env() if self.settings else {})

    def _launch_worker(self) -> subprocess.Popen[bytes]:
        self._worker_log_from = self.worker.log.stat().st_size if self.worker.log.exists() else 0
        return processes.start([sys.executable, "-m", "devstack", "worker"], log=self.worker.log,
                               env=self._stack_env(), cwd=ROOT)

    def _worker_ready(self, proc: subprocess.Popen[bytes]) -> None:
        """Wait until the fresh worker says it is polling (its imports and clients are ready)."""
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            with self.worker.log.open("rb") as log:
                log.seek(self._worker_log_from)
                if b"worker polling" in log.read():
                    return
            if proc.poll() is not None:
                raise processes.StartupError(f"the worker exited with {proc.returncode}")
            time.sleep(0.1)
        raise processes.StartupError("the worker did not start polling")

    def _launch_portal(self) -> subprocess.Popen[bytes]:
        return processes.start(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "portal" / "server.py"),
             "--server.port", str(self.portal_port), "--server.address", "localhost"],
            log=self.portal.log, env=session_key_env(self.state, self._stack_env()), cwd=ROOT)

    def _portal_ready(self, proc: subprocess.Popen[bytes]) -> None:
        processes.wait_http(f"http://localhost:{self.portal_port}/_stcore/health", timeout=90, proc=proc,
                            log=self.portal.log, cancel=self.stop)

    def _launch_api(self) -> subprocess.Popen[bytes]:
        # The Lambda's handler behind a stand-in for the HTTP API's JWT authorizer (moto has no API Gateway).
        return processes.start([sys.executable, "-m", "devstack.api_server", "--port", str(self.api_port)],
                               log=self.api.log, env=self._stack_env(), cwd=ROOT)

    def _api_ready(self, proc: subprocess.Popen[bytes]) -> None:
        processes.wait_http(f"http://127.0.0.1:{self.api_port}/v1/openapi.json", timeout=60, proc=proc,
                            log=self.api.log, cancel=self.stop)

    # --- the stack ------------------------------------------------------------------

    def provision(self) -> bool:
        """Provision (or read back) the stack and the demo users; True when the settings changed."""
        os.environ.update(self.env)
        aws.reset()
        # The portal's page posts uploads to the moto server from these origins.
        settings = provision(self.endpoint, REGION, portal_origins=(
            f"http://localhost:{self.portal_port}", f"http://127.0.0.1:{self.portal_port}"))
        cognito = aws.client("cognito-idp")
        self.created_users = create_demo_users(cognito, settings.user_pool_id, self.password)
        changed = settings != self.settings
        self.settings = settings
        settings.dump(self.state / "stack.json")
        return changed

    def _after_moto_restart(self) -> None:
        try:
            changed = self.provision()
        except Exception as e:  # the server died again, say; the next check sees it
            say(f"Provisioning the restarted moto server failed: {type(e).__name__}: {e}")
            return
        if not changed:
            say("  Its saved state is back: same stack, files, users and messages.")
            return
        say("  Its state could not be restored, so the stack was provisioned anew; "
            "restarting the worker and the portal with the new settings.")
        for child in (self.worker, self.portal, self.api):
            if child.proc is not None:
                processes.stop([child.proc])
            child.start()

    def _worker_died(self, proc: subprocess.Popen[bytes]) -> str:
        record = InFlight.of(self.state / "inflight", proc.pid)
        if not record.path.exists():
            return ""
        try:
            returned = return_batch(aws.client("sqs"), record)
        except Exception:  # the moto server is away too: it returns every batch when it is back
            return "; its batch returns to the queue when the moto server is back"
        return f"; the {returned} messages of its unfinished batch are back in the queue" if returned else ""


def main() -> int:
    """Start everything, print how to sign in, keep it running until Ctrl-C, stop everything."""
    chosen = Settings.from_env(need_stack=False)
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    stop_requested = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop_requested.set())
    stack = LocalStack(chosen, password, stop_requested)
    pidfile = processes.PidFile(stack.state / "pids.json")
    supervisor = Supervisor(stack.children, say=say, on_change=pidfile.write)
    try:
        pidfile.clean_stale()
        shutil.rmtree(stack.state / "inflight", ignore_errors=True)  # the moto server returns those batches
        for name, port, field in (("moto server", stack.moto_port, "moto_port"),
                                  ("portal", stack.portal_port, "portal_port"),
                                  ("API", stack.api_port, "api_port")):
            if not processes.port_free(port):
                raise processes.StartupError(
                    f"port {port} for the {name} is in use; free it or set {ENV_NAMES[field]}")
        say(f"Starting the AWS stand-in (moto server) on {stack.endpoint} "
            f"with the state kept in {stack.state / MOTO_STATE} …")
        stack.moto.start()
        pidfile.write(supervisor.running())
        say("Provisioning the stack from infra/cloudformation.yaml …")
        stack.provision()
        for child in (stack.worker, stack.portal, stack.api):
            child.start()
            pidfile.write(supervisor.running())
        _banner(stack)
        threading.Thread(target=reset_codes.relay, args=(stack.reset_codes, say, stop_requested),
                         name="reset-codes", daemon=True).start()
        supervisor.run(stop_requested)
        say("\nStopping …")
        return 0
    except (processes.StartupError, GaveUp) as e:
        print(f"\nDocPortal could not run: {e}", file=sys.stderr, flush=True)
        return 1
    except Exception as e:  # provisioning errors and the like: say what, keep no strays
        print(f"\nDocPortal could not start: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        _stop_all(stack, supervisor.running())
        if supervisor.running():
            pidfile.remove()
        say("Stopped.")


def _stop_all(stack: LocalStack, procs: list[subprocess.Popen[bytes]]) -> None:
    """The portal and the workers first, then the moto server, which saves its state as it stops."""
    moto = stack.moto.proc
    processes.stop([p for p in procs if p is not moto])
    if moto is not None:
        processes.stop([moto], grace=MOTO_STOP_SECONDS)


def reset(env: Mapping[str, str] | None = None) -> int:
    """``make reset``: forget the local stack's saved state, so the next ``make run`` starts empty."""
    state = state_dir(Settings.from_env(env, need_stack=False))
    try:
        # What a killed supervisor left running would save its state again on its way out.
        processes.PidFile(state / "pids.json").clean_stale()
    except processes.StartupError as e:
        print(f"Not reset: {e}", file=sys.stderr)
        return 1
    for name in (MOTO_STATE, "inflight", "stack.json"):
        target = state / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    print(f"The saved state in {state / MOTO_STATE} is gone: the next `make run` starts empty.")
    return 0


def _banner(stack: LocalStack) -> None:
    users = "\n".join(f"    {u.email:<24} ({u.group})" for u in DEMO_USERS)
    kept = ("" if stack.created_users else
            "\n  The demo users (and everything else) were kept from the last run, as they were left;\n"
            "  `make reset` starts empty.\n")
    print(
        f"\nDocPortal is running.\n\n  Open  http://localhost:{stack.portal_port}\n"
        f"  API   http://127.0.0.1:{stack.api_port} (Swagger UI: /v1/docs, document: /v1/openapi.json)\n\n"
        f"  Sign in as any of these, password {stack.password!r}:\n{users}\n{kept}\n"
        f"  Stack settings: {stack.state / 'stack.json'}\n  Saved state: {stack.state / MOTO_STATE}\n"
        f"  Logs: {stack.state}/*.log\n"
        f"  Forgot password? The stand-in sends no e-mail: the code is printed here, marked local only.\n"
        f"  Press Ctrl-C to stop.\n",
        flush=True,
    )
