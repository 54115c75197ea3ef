"""Fixtures of the portal's page tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

from common import aws
from common.schema import requests
from common.schema.record import FileRecord
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
