"""Fixtures of the portal's page tests."""

from __future__ import annotations

import uuid
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


def new_uploader(server, prefix: str, password: str) -> str:
    """A fresh user in uploaders with a permanent password on ``server``'s pool; its e-mail."""
    cognito, pool = server.client("cognito-idp"), server.settings.user_pool_id
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="uploaders")
    return email
