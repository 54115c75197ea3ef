"""Hosted sign-in end to end over HTTP: the routes, the local token endpoint, the sessions table (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.hosted import flow, pending
from portal.hosted.flow import CALLBACK_ROUTE, STATE_COOKIE
from tests.helpers.hosted import HostedPortal, hosted_portal, landed_on, session_cookie


@pytest.fixture
def portal(stack) -> Iterator[HostedPortal]:
    with hosted_portal(stack) as p:
        yield p


def test_signing_in_lands_on_the_linked_page_with_a_lasting_session(portal):
    browser = portal.browser()
    answer = portal.sign_in(browser, "/dashboard?range=90+days")
    assert answer.status_code == 302
    assert landed_on(answer) == "/dashboard?range=90+days"
    cookie = session_cookie(answer)
    assert cookie is not None
    opened = portal.store.open(cookie, portal.clock[0])
    assert opened is not None
    record, refresh_token = opened
    assert record.sub == portal.idp.user.sub
    assert refresh_token == portal.idp.issued_refresh_tokens[-1]
    assert portal.idp.answered == [(200, "")]


def test_the_session_cookie_is_httponly_strict_and_the_state_cookie_is_cleared(portal):
    answer = portal.sign_in(portal.browser())
    set_cookies = answer.raw.headers.getlist("set-cookie")
    session = next(c for c in set_cookies if c.startswith("docportal_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session
    state = next(c for c in set_cookies if c.startswith(f"{STATE_COOKIE}="))
    assert "Max-Age=0" in state or 'expires=Thu, 01 Jan 1970' in state
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_authorize_request_carries_state_nonce_and_an_s256_challenge(portal):
    browser = portal.browser()
    authorize = portal.start(browser)
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert authorize.startswith(portal.idp.url + "/oauth2/authorize?")
    assert query["response_type"] == "code" and query["client_id"] == "portal-client"
    assert query["redirect_uri"] == portal.url + CALLBACK_ROUTE
    assert query["scope"] == "openid email profile" and query["code_challenge_method"] == "S256"
    assert len(query["state"]) == 43 and len(query["nonce"]) == 43 and len(query["code_challenge"]) == 43
    state_cookie = next(c for c in browser.cookies if c.name == STATE_COOKIE)
    assert state_cookie.path == CALLBACK_ROUTE and state_cookie.value != query["state"]


def test_without_a_link_the_home_page_opens(portal):
    answer = portal.sign_in(portal.browser(), None)
    assert landed_on(answer) == "/" and session_cookie(answer)


def test_a_client_with_a_secret_authenticates_with_http_basic(stack):
    with hosted_portal(stack, client_secret="s3cret:with/odd&chars") as p:
        answer = p.sign_in(p.browser())
        assert session_cookie(answer) and p.idp.answered == [(200, "")]


def test_the_idp_refusing_ends_on_the_sign_in_page_with_a_code(portal):
    portal.idp.deny = True
    answer = portal.sign_in(portal.browser())
    assert landed_on(answer) == "/?signin_error=denied" and session_cookie(answer) is None


def test_a_failing_token_endpoint_ends_on_the_sign_in_page(portal):
    portal.idp.fail_with = 500
    answer = portal.sign_in(portal.browser())
    assert landed_on(answer) == "/?signin_error=unavailable" and session_cookie(answer) is None


def test_a_sign_in_that_took_too_long_is_refused(portal):
    browser = portal.browser()
    callback = portal.at_idp(portal.start(browser))
    portal.clock[0] += flow.PENDING_SECONDS + 1
    answer = portal.back(browser, callback)
    assert landed_on(answer) == "/?signin_error=expired" and session_cookie(answer) is None


def test_a_token_for_another_sign_in_is_refused_by_its_nonce(portal, monkeypatch):
    real = portal.idp.id_token
    monkeypatch.setattr(portal.idp, "id_token", lambda nonce, **kw: real("someone-elses-nonce", **kw))
    answer = portal.sign_in(portal.browser())
    assert landed_on(answer) == "/?signin_error=token_invalid" and session_cookie(answer) is None


def test_a_started_sign_in_is_kept_only_as_a_hash_of_its_state(portal):
    browser = portal.browser()
    state = parse_qs(urlsplit(portal.start(browser)).query)["state"][0]
    assert state not in repr(pending._waiting) and flow.state_key(state) in pending._waiting
