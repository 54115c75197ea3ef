"""The sessions table (moto in-process): create, open, renew, end, end everywhere, expire."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from common import aws
from portal.sessions.records import key_of, new_token
from portal.sessions.service import Store, cipher

NOW = 1_800_000_000.0
HOURS = 12


@pytest.fixture
def store(stack) -> Store:
    return Store(aws.client("dynamodb"), stack.sessions_table, cipher(Fernet.generate_key().decode()))


def _item(store: Store, session_id: str) -> dict:
    return store.ddb.get_item(TableName=store.table, Key={"pk": {"S": key_of(session_id)}})["Item"]


def test_a_created_session_opens_with_its_refresh_token(store):
    session_id, record = store.create("sub-1", "refresh-1", True, NOW, HOURS)
    opened = store.open(session_id, NOW + 60)
    assert opened == (record, "refresh-1")
    assert record.second_factor and record.expires_at == int(NOW) + HOURS * 3600


def test_the_table_holds_neither_the_id_nor_the_token_in_the_clear(store):
    session_id, _ = store.create("sub-1", "refresh-token-in-the-clear", False, NOW, HOURS)
    item = _item(store, session_id)
    stored = repr(item)
    assert session_id not in stored and "refresh-token-in-the-clear" not in stored
    assert item["expires_at"] == {"N": str(int(NOW) + HOURS * 3600)}  # the TTL attribute


def test_an_expired_session_does_not_open_and_is_removed(store):
    session_id, record = store.create("sub-1", "refresh-1", False, NOW, HOURS)
    assert store.open(session_id, record.expires_at) is None
    assert "Item" not in store.ddb.get_item(TableName=store.table, Key={"pk": {"S": record.key}})


def test_an_ended_session_does_not_open(store):
    session_id, record = store.create("sub-1", "refresh-1", False, NOW, HOURS)
    store.end(record.key)
    assert store.open(session_id, NOW) is None
    assert not store.alive(record.key, NOW)


def test_unknown_and_malformed_ids_open_nothing(store):
    store.create("sub-1", "refresh-1", False, NOW, HOURS)
    assert store.open(new_token(), NOW) is None
    assert store.open("'; DROP TABLE", NOW) is None


def test_a_token_sealed_with_another_key_opens_nothing(store):
    session_id, record = store.create("sub-1", "refresh-1", False, NOW, HOURS)
    other = Store(store.ddb, store.table, cipher(Fernet.generate_key().decode()))
    assert other.open(session_id, NOW) is None
    assert not store.alive(record.key, NOW)  # a session nobody can open is ended


def test_alive_follows_expiry(store):
    _, record = store.create("sub-1", "refresh-1", False, NOW, HOURS)
    assert store.alive(record.key, NOW)
    assert not store.alive(record.key, record.expires_at)


def test_a_rotated_refresh_token_is_kept_but_an_ended_session_stays_ended(store):
    session_id, record = store.create("sub-1", "refresh-1", False, NOW, HOURS)
    store.renew(record.key, "refresh-2")
    assert store.open(session_id, NOW) == (record, "refresh-2")
    store.end(record.key)
    store.renew(record.key, "refresh-3")
    assert store.open(session_id, NOW) is None


def test_ending_everywhere_ends_only_that_users_sessions(store):
    mine = [store.create("sub-1", f"refresh-{i}", False, NOW, HOURS)[0] for i in range(3)]
    theirs, _ = store.create("sub-2", "refresh-x", False, NOW, HOURS)
    assert store.end_all("sub-1") == 3
    assert all(store.open(s, NOW) is None for s in mine)
    assert store.open(theirs, NOW) is not None


def test_ending_everywhere_but_here_keeps_only_this_session(store):
    here, record = store.create("sub-1", "refresh-here", False, NOW, HOURS)
    elsewhere, _ = store.create("sub-1", "refresh-there", False, NOW, HOURS)
    assert store.end_all("sub-1", keep=record.key) == 1
    assert store.open(here, NOW) is not None
    assert store.open(elsewhere, NOW) is None
