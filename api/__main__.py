"""``python -m api openapi``: print the API's OpenAPI document (``docs/openapi.json`` is its output)."""

from __future__ import annotations

import sys

from api.app import openapi_document


def main(argv: list[str]) -> int:
    """Print the document for ``openapi``; anything else is a usage error."""
    if argv != ["openapi"]:
        print("usage: python -m api openapi > docs/openapi.json", file=sys.stderr)
        return 2
    print(openapi_document())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
