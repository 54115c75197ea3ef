"""The API as ``make run`` serves it: over HTTP, behind a stand-in for the HTTP API's JWT authorizer.

Tokens are the moto pool's own (password sign-in of the demo users); the
handler is the Lambda's, reached only through :mod:`devstack.api_server`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from api import app as api_app
from devstack import api_server, processes
from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.api import serving, signed_in
from tests.helpers.token_endpoint import TokenEndpoint
from tests.helpers.users import new_uploader

pytestmark = pytest.mark.e2e

PORT = processes.free_port()


@pytest.fixture(scope="module")
def uploader(moto_server) -> str:
    """An uploader of this module's own: the stand-in is shared, and the demo uploader's files are others'."""
    return new_uploader(moto_server, "api", DEFAULT_DEMO_PASSWORD)


@pytest.fixture
def base(on_server) -> Iterator[str]:
    with serving(on_server.settings, PORT) as url:
        yield url


def tokens(server, email: str, client_id: str | None = None) -> dict:
    return signed_in(server, email, DEFAULT_DEMO_PASSWORD, client_id)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_token_the_authorizer_answers_401_before_the_handler(base):
    response = requests.get(f"{base}/v1/files", timeout=10)
    assert (response.status_code, response.json()) == (401, api_server.UNAUTHORIZED)


def test_the_document_needs_no_token(base):
    response = requests.get(f"{base}/v1/openapi.json", timeout=10)
    assert response.status_code == 200 and response.json() == json.loads(api_app.openapi_document())


def test_swagger_ui_needs_no_token_and_shows_the_served_document_without_a_cdn(base):
    page = requests.get(f"{base}{api_app.DOCS_PATH}", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-encoding"] == "gzip"  # 1.7 MB of bundled script, sent compressed
    html = page.text
    assert 'id="swagger-ui"' in html and "SwaggerUIBundle(swaggerUIOptions)" in html
    assert "<script src=" not in html and "rel='stylesheet'" not in html  # script and style inline
    assert 'updateUrl(currentUrl.pathname + "?format=json")' in html
    document = requests.get(f"{base}{api_app.DOCS_PATH}", params={"format": "json"}, timeout=10)
    assert document.status_code == 200 and document.json() == json.loads(api_app.openapi_document())


def test_an_id_token_registers_an_upload_whose_form_stores_the_file(base, on_server, uploader):
    token = tokens(on_server, uploader)["IdToken"]
    body = b"%PDF-1.7\n%%EOF\n"
    created = requests.post(f"{base}/v1/uploads", headers=bearer(token), timeout=10,
                            json={"name": "local.pdf", "size": len(body), "content_type": "application/pdf"})
    assert created.status_code == 201, created.text
    form = created.json()["upload"]
    sent = requests.post(form["url"], data=form["fields"], files={"file": ("local.pdf", body)}, timeout=10)
    assert sent.status_code == 204
    got = requests.get(f"{base}/v1/files/{created.json()['file_id']}", headers=bearer(token), timeout=10)
    assert got.status_code == 200 and got.json()["status"] == "pending"


def test_an_access_token_of_the_portals_client_is_accepted(base, on_server):
    token = tokens(on_server, "analyst@example.com")["AccessToken"]
    response = requests.get(f"{base}/v1/dashboard", params={"from": "2000-01-01", "to": "2999-12-31"},
                            headers=bearer(token), timeout=10)
    assert response.status_code == 200, response.text


def test_a_token_for_another_app_client_is_refused(base, on_server, uploader):
    cognito = on_server.client("cognito-idp")
    other = cognito.create_user_pool_client(UserPoolId=on_server.settings.user_pool_id, ClientName="other",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    token = tokens(on_server, uploader, other["UserPoolClient"]["ClientId"])["IdToken"]
    response = requests.get(f"{base}/v1/files", headers=bearer(token), timeout=10)
    assert response.status_code == 401


def test_a_token_of_an_issuer_it_was_not_told_to_trust_is_refused(base):
    """make run trusts the pool alone: a client-credentials token of another issuer gets the authorizer's 401."""
    with TokenEndpoint(client_id="5m4chinedemoclient0abcdefg", redirect_uri="http://127.0.0.1/unused") as other:
        response = requests.get(f"{base}/v1/files", headers=bearer(other.machine_token("data.read")), timeout=10)
    assert (response.status_code, response.json()) == (401, api_server.UNAUTHORIZED)


def test_a_tampered_token_is_refused(base, on_server, uploader):
    token = tokens(on_server, uploader)["IdToken"]
    head, payload, signature = token.split(".")
    response = requests.get(f"{base}/v1/files", headers=bearer(f"{head}.{payload}.{signature[::-1]}"), timeout=10)
    assert response.status_code == 401


def test_problems_come_through_unchanged(base, on_server, uploader):
    token = tokens(on_server, uploader)["IdToken"]
    response = requests.get(f"{base}/v1/export", params={"from": "2000-01-01", "to": "2999-12-31"},
                            headers=bearer(token), timeout=10)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:docportal:problem:forbidden"
