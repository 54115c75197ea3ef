"""Run a portal page in AppTest as a given user, inside the app's navigation."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from portal.access import User
from tests.helpers.env import ROOT

HARNESS = str(ROOT / "tests" / "helpers" / "harness.py")


def signed_in_as(at: AppTest, user: User) -> AppTest:
    """Put ``user`` in ``at``'s session as ``portal.auth.require_user`` leaves it: verified, checked just now."""
    at.session_state["docportal_user"] = user
    at.session_state["docportal_checked_at"] = time.monotonic()
    return at


def page_as(user: User, name: str, *, timeout: float = 60, run: bool = True,
            **params: str | list[str]) -> AppTest:
    """Page ``name`` (``portal/app_pages/<name>.py``) for ``user``, with URL query parameters."""
    at = AppTest.from_file(HARNESS, default_timeout=timeout)
    signed_in_as(at, user)
    at.query_params["harness_page"] = name
    for key, value in params.items():
        at.query_params[key] = value
    if run:
        at.run()
    return at


def detail_values(at: AppTest) -> dict[str, str]:
    """Field to value across the Files page's detail tables (the list is a dataframe), unescaped."""
    out: dict[str, str] = {}
    for table in at.table:
        frame = table.value
        out |= {k.replace("\\", ""): v.replace("\\", "") for k, v in zip(frame["Field"], frame["Value"], strict=True)}
    return out
