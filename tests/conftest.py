"""Shared fixtures: in-process moto, a moto server, and the provisioned stack.

Two rules keep the AWS stand-ins apart (see the README): a set
``AWS_ENDPOINT_URL`` disables moto's in-process mock, and a client created
before the mock starts escapes it. So every fixture sets the environment it
needs and resets the shared clients on the way in and out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from common.settings import Settings
from devstack.provision import DEFAULT_DEMO_PASSWORD, MOTO_SERVER_ENV, create_demo_users, provision
from tests.helpers.env import REGION, Server, fake_credentials, point_at, reset_clients
from tests.helpers.env import moto_server as running_moto_server


@pytest.fixture(scope="session")
def monkeypatch_env() -> Iterator[None]:
    """Session-wide fake credentials (hypothesis tests cannot use function-scoped fixtures)."""
    with pytest.MonkeyPatch.context() as mp:
        fake_credentials(mp)
        yield


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees a real AWS account, a developer's profile or a leftover stack."""
    fake_credentials(monkeypatch)
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
    with running_moto_server(tmp_path_factory.mktemp("moto") / "moto.log", MOTO_SERVER_ENV) as server:
        create_demo_users(server.client("cognito-idp"), server.settings.user_pool_id, DEFAULT_DEMO_PASSWORD)
        yield server


@pytest.fixture
def on_server(moto_server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """Point the environment (and so every shared client) at the moto server."""
    point_at(moto_server, monkeypatch)
    yield moto_server
    reset_clients()
