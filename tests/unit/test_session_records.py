"""Lasting sessions, pure: ids and their hashes, expiry, the cookie's attributes, bindings, origins."""

from __future__ import annotations

import pytest

from portal.sessions import bindings
from portal.sessions.records import (
    BINDING_SECONDS,
    COOKIE_NAME,
    NotASessionId,
    clearing_cookie,
    cookie_for,
    key_of,
    new_record,
    new_token,
    same_origin,
)

NOW = 1_800_000_000.0


def test_a_session_id_carries_256_random_bits_and_is_never_repeated():
    ids = {new_token() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 43 for i in ids)  # 32 bytes, urlsafe base64 without padding


def test_the_table_key_is_a_hash_not_the_id():
    session_id = new_token()
    key = key_of(session_id)
    assert len(key) == 64 and session_id not in key
    assert key == key_of(session_id)


@pytest.mark.parametrize("value", ["", "short", new_token() + "x", new_token()[:-1], "A" * 42 + "=",
                                   "A" * 42 + "é", "../" + "A" * 40, None, 42])
def test_a_value_of_the_wrong_length_or_alphabet_is_not_an_id(value):
    with pytest.raises(NotASessionId):
        key_of(value)


def test_a_tampered_id_is_another_key():
    session_id = new_token()
    tampered = ("B" if session_id[0] != "B" else "C") + session_id[1:]
    assert key_of(tampered) != key_of(session_id)


def test_a_session_lives_for_its_hours_and_not_a_second_longer():
    record = new_record("k" * 64, "sub-1", False, NOW, hours=12)
    assert record.expires_at - record.created_at == 12 * 3600
    assert record.live(NOW + 12 * 3600 - 1)
    assert not record.live(NOW + 12 * 3600)
    assert record.max_age(NOW + 3600) == 11 * 3600
    assert record.max_age(NOW + 13 * 3600) == 0


def test_the_cookie_is_httponly_strict_whole_site_and_lives_as_long_as_the_session():
    record = new_record("k" * 64, "sub-1", False, NOW, hours=12)
    cookie = cookie_for("the-id", record.expires_at, "portal.example.com", NOW + 60)
    assert (cookie.name, cookie.value, cookie.path, cookie.httponly, cookie.samesite) == (
        COOKIE_NAME, "the-id", "/", True, "strict")
    assert cookie.max_age == 12 * 3600 - 60
    assert cookie.secure


@pytest.mark.parametrize("host", ["localhost:8501", "127.0.0.1:8630", "LOCALHOST", "[::1]:8501"])
def test_the_cookie_is_secure_everywhere_but_on_a_development_host(host):
    expires_at = int(NOW) + 3600
    assert not cookie_for("the-id", expires_at, host, NOW).secure
    assert cookie_for("the-id", expires_at, "localhost.example.com", NOW).secure


def test_clearing_the_cookie_expires_it_at_once_with_the_same_attributes():
    cookie = clearing_cookie("portal.example.com")
    assert (cookie.value, cookie.max_age, cookie.httponly, cookie.secure, cookie.path) == ("", 0, True, True, "/")


def test_a_binding_is_taken_once():
    session_id = new_token()
    token = bindings.issue(session_id, "sub-1", "tab-1", int(NOW) + 3600)
    assert bindings.waiting(token)
    binding = bindings.take(token)
    assert binding is not None and binding.session_id == session_id
    assert bindings.take(token) is None
    assert not bindings.waiting(token)


def test_a_binding_admits_only_its_tab_and_only_for_a_minute():
    token = bindings.issue(new_token(), "sub-1", "tab-1", int(NOW) + 3600, now=NOW)
    binding = bindings.take(token)
    assert binding is not None
    assert binding.admits("tab-1", NOW + BINDING_SECONDS - 1) is None
    assert binding.admits("tab-2", NOW) == "binding_other_tab"
    assert binding.admits("tab-1", NOW + BINDING_SECONDS) == "binding_expired"


def test_an_unknown_or_malformed_binding_grants_nothing():
    assert bindings.take(new_token()) is None
    assert bindings.take("not a token") is None


@pytest.mark.parametrize(("origin", "site", "ok"), [
    ("http://localhost:8501", "same-origin", True),
    ("http://localhost:8501", None, True),
    ("https://evil.example", "cross-site", False),
    ("https://evil.example", None, False),
    ("http://localhost:8501", "same-site", False),
    (None, "same-origin", False),
    ("null", None, False),
])
def test_only_the_portals_own_pages_may_ask_for_the_cookie(origin, site, ok):
    assert same_origin(origin, site, "localhost:8501") is ok
