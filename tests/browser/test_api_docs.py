"""Swagger UI at /v1/docs, in chromium: it renders every route of the document from the page alone.

Its script and style are inline (Powertools' bundled copies), so the browser
fetches nothing but the page and the document from the API's own host.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from api import app as api_app
from devstack import processes
from tests.helpers.api import serving

pytestmark = pytest.mark.browser

PORT = processes.free_port()


def test_swagger_ui_shows_every_route_and_loads_nothing_from_elsewhere(browser, on_server):
    document = json.loads(api_app.openapi_document())
    summaries = [op["summary"] for ops in document["paths"].values() for op in ops.values()]
    with serving(on_server.settings, PORT) as base:
        context = browser.new_context()
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{base}{api_app.DOCS_PATH}")
        page.get_by_role("heading", name=api_app.TITLE).wait_for(timeout=30_000)
        for summary in summaries:
            assert page.get_by_text(summary, exact=True).count() == 1, summary
        context.close()
    assert requested and {urlsplit(url).netloc for url in requested if not url.startswith("data:")} == \
        {f"127.0.0.1:{PORT}"}, requested
