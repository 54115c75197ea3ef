"""Every route × every kind of caller, over HTTP, through make run's stand-in for the JWT authorizer.

The routes come from the OpenAPI document (and the template's token-free
routes), so a route added without its row here fails
:func:`test_every_route_has_a_row_for_every_caller`.
People's tokens are the moto pool's own (password sign-in); moto issues no
client-credentials tokens, so scripts' tokens come from a token issuer only
this module configures (:class:`~tests.helpers.token_endpoint.TokenEndpoint`,
trusted by the API server through ``also_trust``, which ``make run`` never
sets), with the claims Cognito gives them (``client_id``, ``scope``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests

from api import app as api_app
from devstack import api_server, processes
from devstack import template as tpl
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal.tokens import jwks_resolver
from tests.helpers.api import PROBLEM, person, send_parts, serving, signed_in, upload_through_api
from tests.helpers.env import fake_credentials, point_at, reset_clients
from tests.helpers.token_endpoint import TokenEndpoint, signed_by_moto
from tests.helpers.users import new_user

pytestmark = pytest.mark.e2e

PORT = processes.free_port()
MACHINE_CLIENT = "5m4chinedemoclient0abcdefg"
CALLERS = ("owner", "other uploader", "analyst", "admin", "machine data.read", "machine data.write",
           "no token", "expired token", "wrong audience")
#: The authorizer's refusal (API Gateway's own body, before the handler runs).
UNAUTHORIZED = (401, None)
OK, CREATED = (200, None), (201, None)
FORBIDDEN, NO_SCOPE = (403, "forbidden"), (403, "missing-scope")


def row(owner, other, analyst, admin, reader, writer) -> dict[str, tuple[int, str | None]]:
    """One route's expected (status, problem type) per caller; the three bad tokens never reach it."""
    return dict(zip(CALLERS, (owner, other, analyst, admin, reader, writer, *[UNAUTHORIZED] * 3), strict=True))


#: The target of a ``{file_id}`` route is the owner's file, which failed (so it can be retried).
#: An admin's token carries no second factor: over the API an admin has an uploader's rights.
EXPECTED = {
    "POST /v1/uploads": row(CREATED, CREATED, CREATED, CREATED, NO_SCOPE, CREATED),
    "GET /v1/files": row(OK, OK, OK, OK, OK, NO_SCOPE),
    "GET /v1/files/{file_id}": row(OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, NO_SCOPE),
    "GET /v1/files/{file_id}/download": row(OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, NO_SCOPE),
    "DELETE /v1/files/{file_id}": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NO_SCOPE, FORBIDDEN),
    "POST /v1/files/{file_id}/retry": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NO_SCOPE, FORBIDDEN),
    "GET /v1/dashboard": row(OK, OK, OK, OK, OK, NO_SCOPE),
    "GET /v1/export": row(FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, NO_SCOPE),
    # The target of an ``/v1/uploads/{file_id}`` route is the owner's upload in parts, every part sent.
    "POST /v1/uploads/{file_id}/complete": row(OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NO_SCOPE, FORBIDDEN),
    "DELETE /v1/uploads/{file_id}": row((204, None), FORBIDDEN, FORBIDDEN, FORBIDDEN, NO_SCOPE, FORBIDDEN),
    # The template's token-free routes: API Gateway does not look at the token there, good or bad.
    "GET /v1/openapi.json": dict.fromkeys(CALLERS, OK),
    "GET /v1/docs": dict.fromkeys(CALLERS, OK),
}
PERIOD = {"from": "2000-01-01", "to": "2999-12-31"}
#: Uploads above 5 MiB go in parts here (the API's threshold lowered), so a 6 MiB file is one in two parts.
PARTS_ABOVE_MB, LARGE = "5", b"x" * (6 * 1024 * 1024)
UPLOAD = {"name": "matrix.pdf", "size": 1024, "content_type": "application/pdf"}
BROKEN_PDF = b"%PDF-1.7 not really"


def sub_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


@pytest.fixture(scope="module")
def issuer() -> Iterator[TokenEndpoint]:
    """The machine client's token issuer (what Cognito's token endpoint would be on AWS)."""
    with TokenEndpoint(client_id=MACHINE_CLIENT, redirect_uri="http://127.0.0.1/unused") as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def tokens(moto_server, issuer) -> dict[str, str | None]:
    """A bearer token per caller (None: no Authorization header)."""
    pool = moto_server.client("cognito-idp")

    def person_token(prefix: str, *groups: str) -> str:
        email = new_user(moto_server, f"matrix-{prefix}", DEFAULT_DEMO_PASSWORD, *groups)
        return signed_in(moto_server, email, DEFAULT_DEMO_PASSWORD)["IdToken"]

    owner_email = new_user(moto_server, "matrix-owner", DEFAULT_DEMO_PASSWORD, "uploaders")
    owner = signed_in(moto_server, owner_email, DEFAULT_DEMO_PASSWORD)["IdToken"]
    now = int(time.time())
    expired = signed_by_moto({**jwt.decode(owner, options={"verify_signature": False}),
                              "iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600})
    other_client = pool.create_user_pool_client(UserPoolId=moto_server.settings.user_pool_id,
                                                ClientName="matrix-other",
                                                ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    wrong_audience = signed_in(moto_server, owner_email, DEFAULT_DEMO_PASSWORD,
                               other_client["UserPoolClient"]["ClientId"])["IdToken"]
    return {"owner": owner, "other uploader": person_token("other", "uploaders"),
            "analyst": person_token("analyst", "analysts"), "admin": person_token("admin", "admins"),
            "machine data.read": issuer.machine_token("data.read"),
            "machine data.write": issuer.machine_token("data.write"),
            "no token": None, "expired token": expired, "wrong audience": wrong_audience}


@pytest.fixture(scope="module")
def base(moto_server, issuer) -> Iterator[str]:
    machines = api_server.Authorizer(issuer.issuer, frozenset({MACHINE_CLIENT}),
                                     jwks_resolver(f"{issuer.url}/jwks.json"))
    with serving(moto_server.settings, PORT, also_trust=machines) as url:
        yield url


@pytest.fixture(scope="module")
def shared_file(moto_server, tokens) -> str:
    """The owner's failed file that the reading routes look at (they change nothing)."""
    with pytest.MonkeyPatch.context() as mp:
        fake_credentials(mp)
        point_at(moto_server, mp)
        try:
            return failed_file(moto_server, tokens)
        finally:
            reset_clients()


def failed_file(server: Any, tokens: dict[str, str | None]) -> str:
    """A file of the owner's, uploaded through the API's form, whose extraction failed."""
    owner = person(sub_of(str(tokens["owner"])), "uploaders")
    return upload_through_api(server.settings, owner, "broken.pdf", BROKEN_PDF)


def parts_sent(base: str, tokens: dict[str, str | None]) -> tuple[str, list[dict[str, Any]]]:
    """The owner's upload in parts, every part sent and not yet completed: its id and the parts' ETags."""
    created = requests.post(f"{base}/v1/uploads", headers={"Authorization": f"Bearer {tokens['owner']}"},
                            json={"name": "large.txt", "size": len(LARGE), "content_type": "text/plain"},
                            timeout=30)
    assert created.status_code == 201, created.text
    assert created.json()["multipart"], created.json()
    return created.json()["file_id"], send_parts(created.json()["multipart"], LARGE)


def served_routes() -> set[str]:
    """The document's routes and the template's token-free ones (the document and its page)."""
    document = json.loads(api_app.openapi_document())
    return {f"{method.upper()} {path}" for path, ops in document["paths"].items()
            for method in ops} | api_server.public_routes(tpl.load())


def test_every_route_has_a_row_for_every_caller():
    assert set(EXPECTED) == served_routes()
    assert all(tuple(expected) == CALLERS for expected in EXPECTED.values())


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_route_by_caller(route, caller, base, tokens, shared_file, on_server, monkeypatch):
    monkeypatch.setenv("DOCPORTAL_UPLOAD_MULTIPART_MB", PARTS_ABOVE_MB)
    api_app.reset()  # the handler reads its settings again (on_server's reset_clients resets them after)
    method, path = route.split(" ", 1)
    parts: list[dict[str, Any]] = []
    if path.startswith("/v1/uploads/"):
        file_id, parts = parts_sent(base, tokens)
    else:
        file_id = shared_file if method == "GET" else failed_file(on_server, tokens) if "{file_id}" in path else ""
    token = tokens[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"json": UPLOAD} if route == "POST /v1/uploads" else \
        {"json": {"parts": parts}} if path.endswith("/complete") else \
        {"params": PERIOD} if path in ("/v1/dashboard", "/v1/export") else {}
    response = requests.request(method, base + path.replace("{file_id}", file_id), headers=headers,
                                allow_redirects=False, timeout=30, **kwargs)
    status, kind = EXPECTED[route][caller]
    assert response.status_code == status, response.text
    if (status, kind) == UNAUTHORIZED:
        assert response.json() == api_server.UNAUTHORIZED
    elif kind:
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == f"urn:docportal:problem:{kind}"
    elif route == "POST /v1/uploads":  # into the caller's own space, whoever they are
        assert response.json()["key"].startswith(f"uploads/{sub_of(str(token))}/")
    elif "{file_id}" in path and not path.endswith("/download") and status != 204:
        assert response.json()["file_id"] == file_id
