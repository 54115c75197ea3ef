"""Where the tests' AWS is: the region, throwaway credentials, and clients bound to a moto server."""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import boto3
import pytest

from api import app as api_app
from common import aws
from common.settings import ENV_NAMES, Settings
from devstack import processes
from devstack.provision import provision
from extractor import handler

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
#: Variables that could point a test at a real account, a profile or a leftover stack.
AWS_VARS = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE")
DOCPORTAL_VARS = tuple(v for v in ENV_NAMES.values() if v.startswith("DOCPORTAL_"))


def reset_clients() -> None:
    """Forget every shared client and cached setting, so the next call sees the current environment."""
    aws.reset()
    handler.reset()
    api_app.reset()


def server_client(endpoint: str, service: str) -> Any:
    """A client bound to a moto server, whatever the environment says."""
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass(frozen=True)
class Server:
    """A running moto server and the stack provisioned on it."""

    endpoint: str
    settings: Settings

    def client(self, service: str) -> Any:
        """A client bound to this server."""
        return server_client(self.endpoint, service)


def fake_credentials(mp: pytest.MonkeyPatch) -> None:
    """No real account, profile or leftover stack in the environment: throwaway credentials in our region."""
    for var in AWS_VARS + DOCPORTAL_VARS:
        mp.delenv(var, raising=False)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_REGION", REGION)
    mp.setenv("AWS_DEFAULT_REGION", REGION)


@contextmanager
def moto_server(log: Path, extra_env: Mapping[str, str] = MappingProxyType({})) -> Iterator[Server]:
    """The local stand-in's moto server (:mod:`devstack.moto_server`, as ``make run`` runs it, with no
    saved state) over HTTP on a free port, with the template provisioned; stopped on exit."""
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARS} | dict(extra_env)
    proc = processes.start([sys.executable, "-m", "devstack.moto_server", "-H", "127.0.0.1", "-p", str(port)],
                           log=log, env=env, cwd=ROOT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        processes.wait_http(f"{endpoint}/moto-api/", timeout=60, proc=proc, log=log)
        yield Server(endpoint, provision(endpoint, REGION, client=functools.partial(server_client, endpoint)))
    finally:
        processes.stop([proc])


@contextmanager
def worker_thread(settings: Settings) -> Iterator[Any]:
    """The local worker (as make run runs it, :class:`devstack.worker.Worker`) polling ``settings``' queue in a
    thread, handing batches to the extractor's handler; it must have stopped on the way out."""
    from devstack.worker import Worker

    stop = threading.Event()
    worker = Worker(aws.client("sqs"), settings.queue_url, handler.lambda_handler, region=settings.region,
                    wait_seconds=1)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive()


def point_at(server: Server, mp: pytest.MonkeyPatch) -> None:
    """Point the environment, and so every shared client made from now on, at ``server``."""
    for name, value in server.settings.to_env().items():
        mp.setenv(name, value)
    reset_clients()
