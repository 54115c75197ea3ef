"""Fixtures of the portal's page tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

from common import aws
from common.schema import requests
from common.schema.record import FileRecord
from tests.helpers.files import tiny_pdf, tiny_png
from tests.helpers.files_page import cognito_user, upload
from tests.helpers.records import RECENT_DAYS, make_records


@pytest.fixture
def files(stack) -> Iterator[list[FileRecord]]:
    """Finished files of four uploaders, committed by the extractor's transactions."""
    st.cache_data.clear()  # the cache is process-wide: nothing may come from an earlier test's stack
    records = make_records(48, seed=48, days=RECENT_DAYS)
    ddb = aws.client("dynamodb")
    for record in records:
        ddb.transact_write_items(**requests.transition(stack.table, None, record))
    yield records
    st.cache_data.clear()


@pytest.fixture
def people(stack):
    """Two uploaders, an analyst and an admin of the stack's pool (the Files page's tests)."""
    st.cache_data.clear()  # the cache is process-wide: nothing may come from an earlier test's stack
    yield {
        "ann": cognito_user(stack, "ann@example.com", "uploaders"),
        "bob": cognito_user(stack, "bob@example.com", "uploaders"),
        "ana": cognito_user(stack, "ana@example.com", "analysts"),
        "adm": cognito_user(stack, "adm@example.com", "admins"),
    }
    st.cache_data.clear()


@pytest.fixture
def world(stack, people):
    """Ann's PDF and PNG and Bob's PDF, stored and processed."""
    return {
        "ann_pdf": upload(stack, people["ann"], "Q3 [draft] report.pdf", tiny_pdf("Ann's quarter")),
        "ann_png": upload(stack, people["ann"], "photo.png", tiny_png(40, 30)),
        "bob_pdf": upload(stack, people["bob"], "bob.pdf", tiny_pdf("Bob's")),
    }
