"""Every test in this folder is an attack: mark it ``security`` so ``pytest -m security`` runs them all.

One rule here instead of a ``pytestmark`` per file, which a new file could forget.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects what is not marked
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the items collected from this folder (the hook sees the whole session's items)."""
    for item in items:
        if _HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.security)
