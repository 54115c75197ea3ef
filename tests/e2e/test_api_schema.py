"""Schemathesis over the API's own OpenAPI document, against make run's API server: no 5xx, and every
response is one the document describes (status, content type, body schema).

Each generated request is sent twice, as an uploader and as an analyst (real
tokens of the moto pool), through the stand-in for the HTTP API's JWT
authorizer. Bounded (examples per route, no deadline) to stay under a minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api import app as api_app
from devstack import processes
from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.api import serving, signed_in
from tests.helpers.users import new_user

pytestmark = pytest.mark.e2e

PORT = processes.free_port()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
schema = schemathesis.openapi.from_dict(json.loads(api_app.openapi_document()))


@pytest.fixture(scope="module")
def tokens(moto_server) -> dict[str, str]:
    """ID tokens of an uploader and an analyst of this module's own."""
    return {group: signed_in(moto_server, new_user(moto_server, f"schema-{group}", DEFAULT_DEMO_PASSWORD, group),
                             DEFAULT_DEMO_PASSWORD)["IdToken"] for group in ("uploaders", "analysts")}


@pytest.fixture(scope="module")
def base(moto_server) -> Iterator[str]:
    with serving(moto_server.settings, PORT) as url:
        yield url


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_answers_as_its_document_says(case, base, tokens, on_server):
    for token in tokens.values():
        case.call_and_validate(base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS,
                               allow_redirects=False, timeout=30)
