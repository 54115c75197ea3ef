"""Shared fixtures: in-process moto, a moto server, and the provisioned stack.

Two rules keep the AWS stand-ins apart (see the README): a set
``AWS_ENDPOINT_URL`` disables moto's in-process mock, and a client created
before the mock starts escapes it. So every fixture sets the environment it
needs and resets the shared clients on the way in and out.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator

import pytest
from moto import mock_aws

from common.settings import Settings
from devstack import processes
from devstack.provision import DEFAULT_DEMO_PASSWORD, MOTO_SERVER_ENV, create_demo_users, provision
from tests.helpers.env import AWS_VARS, DOCPORTAL_VARS, REGION, Server, reset_clients, server_client


@pytest.fixture(scope="session")
def monkeypatch_env() -> Iterator[None]:
    """Session-wide fake credentials (hypothesis tests cannot use function-scoped fixtures)."""
    with pytest.MonkeyPatch.context() as mp:
        for var in AWS_VARS + DOCPORTAL_VARS:
            mp.delenv(var, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_REGION", REGION)
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        yield


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees a real AWS account, a developer's profile or a leftover stack."""
    for var in AWS_VARS + DOCPORTAL_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    reset_clients()
    yield
    reset_clients()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The whole template provisioned in moto's in-process mock; env points at it."""
    with mock_aws():
        reset_clients()
        settings = provision("", REGION)
        for name, value in settings.to_env().items():
            monkeypatch.setenv(name, value)
        yield settings
    reset_clients()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real moto server over HTTP, with the template provisioned and demo users."""
    port = processes.free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARS} | MOTO_SERVER_ENV
    proc = processes.start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                           log=log, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        processes.wait_http(f"{endpoint}/moto-api/", timeout=60, proc=proc, log=log)
        client = functools.partial(server_client, endpoint)
        settings = provision(endpoint, REGION, client=client)
        create_demo_users(client("cognito-idp"), settings.user_pool_id, DEFAULT_DEMO_PASSWORD)
        yield Server(endpoint, settings)
    finally:
        processes.stop([proc])


@pytest.fixture
def on_server(moto_server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """Point the environment (and so every shared client) at the moto server."""
    for name, value in moto_server.settings.to_env().items():
        monkeypatch.setenv(name, value)
    reset_clients()
    yield moto_server
    reset_clients()
