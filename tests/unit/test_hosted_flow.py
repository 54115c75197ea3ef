"""The code flow's pure parts: PKCE, the authorize and logout URLs, the token form, callbacks, state checks."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.hosted import flow, pending
from portal.hosted.flow import Callback, Refusal

PAGES = frozenset({"files", "dashboard", "users"})
NOW = 1_800_000_000.0


def test_the_pkce_challenge_is_s256_of_the_verifier_rfc7636_appendix_b():
    assert flow.s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier, challenge = flow.pkce_pair()
    assert 43 <= len(verifier) <= 128 and set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_every_sign_in_gets_fresh_secrets():
    a, b = flow.start(None, NOW), flow.start(None, NOW)
    assert len({a.state, b.state, a.browser, b.browser, a.pending.nonce, b.pending.nonce,
                a.pending.code_verifier, b.pending.code_verifier}) == 8
    assert a.pending.expires_at == NOW + flow.PENDING_SECONDS


def test_the_authorize_url_encodes_every_value():
    started = flow.start(None, NOW)
    url = flow.authorize_url("https://sso.auth.eu-west-1.amazoncognito.com/", "client 1",
                             "https://portal.example/_docportal/callback?x=1&y", started)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "sso.auth.eu-west-1.amazoncognito.com",
                                                        "/oauth2/authorize")
    assert parse_qs(parts.query) == {
        "response_type": ["code"], "client_id": ["client 1"],
        "redirect_uri": ["https://portal.example/_docportal/callback?x=1&y"],
        "scope": ["openid email profile"], "state": [started.state], "nonce": [started.pending.nonce],
        "code_challenge": [flow.s256(started.pending.code_verifier)], "code_challenge_method": ["S256"]}


def test_the_token_request_is_a_form_with_the_verifier():
    assert flow.token_form("c", "id", "https://p/_docportal/callback", "v") == {
        "grant_type": "authorization_code", "client_id": "id", "code": "c",
        "redirect_uri": "https://p/_docportal/callback", "code_verifier": "v"}


def test_the_logout_url_names_the_client_and_where_to_come_back():
    url = flow.logout_url("https://sso.example/", "cid", "https://portal.example/")
    assert url == "https://sso.example/logout?client_id=cid&logout_uri=https%3A%2F%2Fportal.example%2F"


@pytest.mark.parametrize(("params", "expected"), [
    ({"code": ["c"], "state": ["s"]}, Callback(code="c", state="s")),
    ({"error": ["access_denied"], "state": ["s"]}, Refusal.DENIED),
    ({"error": ["server_error"]}, Refusal.IDP_ERROR),
    ({"error": ["access_denied", "x"]}, Refusal.IDP_ERROR),
    ({"code": ["c"]}, Refusal.BAD_CALLBACK),
    ({"state": ["s"]}, Refusal.BAD_CALLBACK),
    ({"code": ["c", "d"], "state": ["s"]}, Refusal.BAD_CALLBACK),
    ({"code": ["c" * 3000], "state": ["s"]}, Refusal.BAD_CALLBACK),
    ({}, Refusal.BAD_CALLBACK),
])
def test_callbacks_are_parsed_or_refused(params, expected):
    assert flow.parse_callback(params) == expected


def test_a_pending_sign_in_admits_only_its_browser_until_it_expires():
    started = flow.start(None, NOW)
    assert flow.admits(started.pending, started.browser, NOW + 1) is None
    assert flow.admits(started.pending, None, NOW) == Refusal.NO_STATE_COOKIE
    assert flow.admits(started.pending, flow.start(None, NOW).browser, NOW) == Refusal.STATE_MISMATCH
    assert flow.admits(started.pending, "not a cookie the portal set", NOW) == Refusal.STATE_MISMATCH
    assert flow.admits(started.pending, started.browser, NOW + flow.PENDING_SECONDS) == Refusal.EXPIRED


def test_a_pending_sign_in_is_taken_once():
    started = flow.start(None, NOW)
    pending.put(started, NOW)
    assert pending.take(started.state) == started.pending
    assert pending.take(started.state) is None
    assert pending.take("not-a-state") is None


@pytest.mark.parametrize(("next_path", "address"), [
    ("/dashboard?range=90+days", "/dashboard?range=90+days"),
    ("/users", "/users"),
    ("/dashboard?a=1&a=2", "/dashboard?a=1&a=2"),
    ("/unknown", "/"), ("", "/"), (None, "/"), ("//evil.example", "/"), ("https://evil.example/files", "/"),
    ("/files/../users", "/"), ("dashboard", "/"),
])
def test_the_page_to_open_is_one_of_the_portals_own(next_path, address):
    assert flow.page_address(flow.next_link(next_path, PAGES)) == address


def test_every_refusal_has_a_fixed_message_and_unknown_codes_a_generic_one():
    assert all(flow.message_for(r.value) == flow.MESSAGES[r] for r in Refusal)
    assert flow.message_for("made-up") == flow.MESSAGES[Refusal.IDP_ERROR]
    assert flow.message_for(None) is None and flow.message_for("") is None
    assert flow.error_address(Refusal.EXPIRED) == "/?signin_error=expired"


def test_expired_sign_ins_go_and_a_flood_cannot_grow_memory_without_bound(monkeypatch):
    monkeypatch.setattr(pending, "_waiting", {})
    monkeypatch.setattr(pending, "MAX_WAITING", 2)
    old, a, b, c = (flow.start(None, NOW) for _ in range(4))
    pending.put(old, NOW - flow.PENDING_SECONDS)
    pending.put(a, NOW)  # `old` has expired by now: it goes
    pending.put(b, NOW)
    pending.put(c, NOW)  # full: the oldest waiting one (a) makes room
    assert [pending.take(s.state) is not None for s in (old, a, b, c)] == [False, False, True, True]
