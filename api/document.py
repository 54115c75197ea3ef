"""The OpenAPI document as the API serves it, and the Swagger UI page that shows it. Pure.

Powertools generates the document from the routes and models; it also lists
its own default error schemas (``HTTPValidationError``, ``ValidationError``,
``ResponseValidationError``) although every error here is a problem document,
so :func:`trimmed` keeps only the schemas something refers to. The page is
Swagger UI with the copies of its script and style that ship inside
Powertools inlined (nothing is loaded from a CDN), showing that same document.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi import swagger_ui

_ASSETS = Path(swagger_ui.__file__).parent
_SCHEMAS = "#/components/schemas/"


def _refs(node: Any) -> set[str]:
    """Every schema name a ``$ref`` in ``node`` names."""
    if isinstance(node, dict):
        found = {str(node["$ref"]).removeprefix(_SCHEMAS)} if str(node.get("$ref", "")).startswith(_SCHEMAS) \
            else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def trimmed(document: str) -> str:
    """``document`` without the component schemas that no path reaches, however indirectly."""
    parsed = json.loads(document)
    schemas = parsed.get("components", {}).get("schemas", {})
    reached, todo = set(), _refs(parsed.get("paths", {}))
    while todo:
        name = todo.pop()
        if name not in reached and name in schemas:
            reached.add(name)
            todo |= _refs(schemas[name])
    if schemas:
        parsed["components"]["schemas"] = {name: s for name, s in schemas.items() if name in reached}
    return json.dumps(parsed, indent=2)


@functools.cache
def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def swagger_page(document: str) -> str:
    """Swagger UI's page for ``document``, script and style inline; it reloads the document from
    ``<this page>?format=json``."""
    spec = document.replace("</", "<\\/")  # no "</script>" inside the page's script
    script, style = _asset("swagger-ui-bundle.min.js"), _asset("swagger-ui.min.css")
    return swagger_ui.generate_swagger_html(spec, script, style, "", None)
