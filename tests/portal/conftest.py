"""Fixtures of the portal's page tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st

from common import aws, schema
from common.schema import FileRecord
from tests.unit.test_analytics import OWNERS, make_records

TODAY = datetime.now(UTC).date()
#: Three recent days: inside the default 30-day period whatever the time of day.
DAYS = tuple((TODAY - timedelta(days=i)).isoformat() for i in (3, 2, 1))
ME, OTHER = OWNERS[0], OWNERS[1]


@pytest.fixture
def files(stack) -> Iterator[list[FileRecord]]:
    """Finished files of four uploaders, committed by the extractor's transactions."""
    st.cache_data.clear()  # the cache is process-wide: nothing may come from an earlier test's stack
    records = make_records(48, seed=48, days=DAYS)
    ddb = aws.client("dynamodb")
    for record in records:
        ddb.transact_write_items(**schema.transition(stack.table, None, record))
    yield records
    st.cache_data.clear()
