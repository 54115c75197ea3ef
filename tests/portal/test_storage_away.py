"""The pages while storage cannot be reached (the local moto server restarting, an AWS outage).

Issue 17: when the moto server dies, ``make run`` brings it back, and
meanwhile a person must read that the files cannot be shown *right now*,
promptly, not a traceback or a page that spins.
"""

from __future__ import annotations

import time

import pytest

from devstack import processes
from portal.app_pages import reads
from tests.helpers.pages import page_as
from tests.helpers.users import ANN

#: A refused connection is known at once; what the page adds is its own run (AppTest included).
PROMPT_SECONDS = 10


def storage_away(monkeypatch) -> None:
    """Settings of a stack whose endpoint no longer answers: nothing listens on the port."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{processes.free_port()}")
    for name, value in {"DOCPORTAL_BUCKET": "uploads", "DOCPORTAL_TABLE": "files",
                        "DOCPORTAL_USER_POOL_ID": "us-east-1_away", "DOCPORTAL_CLIENT_ID": "away"}.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("page", "message"), [
    ("files", "Files cannot be listed right now. Please try again in a minute."),
    ("dashboard", reads.UNAVAILABLE),
])
def test_a_page_says_what_cannot_be_shown_right_now(monkeypatch, page, message):
    storage_away(monkeypatch)
    started = time.monotonic()
    at = page_as(ANN, page)
    assert time.monotonic() - started < PROMPT_SECONDS
    assert not at.exception
    errors = [e.value.replace("\\", "") for e in at.error]  # the pages escape Markdown
    assert message in errors, errors
