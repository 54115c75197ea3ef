"""Attacks on the hosted sign-in (code flow + PKCE), one per test, against the routes over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from portal.hosted.flow import CALLBACK_ROUTE, SIGNIN_ROUTE, message_for
from tests.helpers.hosted import HostedPortal, hosted_portal, landed_on, session_cookie


@pytest.fixture
def portal(stack) -> Iterator[HostedPortal]:
    with hosted_portal(stack) as p:
        yield p


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_a_callback_without_the_state_cookie_signs_nobody_in(portal):
    callback = portal.at_idp(portal.start(portal.browser()))
    answer = portal.back(portal.browser(), callback)  # another browser: no cookie at all
    assert landed_on(answer) == "/?signin_error=no_state_cookie" and session_cookie(answer) is None


def test_login_csrf_the_attackers_callback_in_the_victims_browser_is_refused(portal):
    attacker, victim = portal.browser(), portal.browser()
    attackers_callback = portal.at_idp(portal.start(attacker))
    portal.start(victim)  # the victim has a state cookie of their own
    answer = portal.back(victim, attackers_callback)
    assert landed_on(answer) == "/?signin_error=state_mismatch" and session_cookie(answer) is None


def test_a_replayed_callback_is_refused(portal):
    browser = portal.browser()
    callback = portal.at_idp(portal.start(browser))
    assert session_cookie(portal.back(browser, callback))
    browser.cookies.clear()
    browser.cookies.set("docportal_signin", "x" * 43, path=CALLBACK_ROUTE)
    answer = portal.back(browser, callback)
    assert landed_on(answer) == "/?signin_error=state_unknown" and session_cookie(answer) is None


def test_an_intercepted_code_is_worthless_without_its_pkce_verifier(portal):
    victim, attacker = portal.browser(), portal.browser()
    victims_code = parse_qs(urlsplit(portal.at_idp(portal.start(victim))).query)["code"][0]
    attackers_state = _state(portal.start(attacker))
    answer = portal.back(attacker, f"{portal.url}{CALLBACK_ROUTE}?"
                                   + urlencode({"code": victims_code, "state": attackers_state}))
    assert landed_on(answer) == "/?signin_error=token_failed" and session_cookie(answer) is None
    assert portal.idp.answered == [(400, "invalid_grant")]


def test_a_code_redeemed_without_any_verifier_is_refused_at_the_token_endpoint(portal):
    code = parse_qs(urlsplit(portal.at_idp(portal.start(portal.browser()))).query)["code"][0]
    answer = requests.post(portal.idp.url + "/oauth2/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": "portal-client", "code": code,
        "redirect_uri": portal.url + CALLBACK_ROUTE})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("next_path", ["//evil.example/dashboard", "https://evil.example/dashboard",
                                       "/\\evil.example", "/%2F%2Fevil.example", "/../dashboard",
                                       "/dashboard@evil.example"])
def test_the_deep_link_cannot_redirect_off_the_portal(portal, next_path):
    answer = portal.sign_in(portal.browser(), next_path)
    assert landed_on(answer) == "/" and answer.headers["Location"] == "/"


def test_the_idps_error_text_is_never_shown(portal):
    browser = portal.browser()
    state = _state(portal.start(browser))
    answer = portal.back(browser, f"{portal.url}{CALLBACK_ROUTE}?" + urlencode(
        {"error": "server_error", "error_description": "<script>alert(1)</script>", "state": state}))
    assert landed_on(answer) == "/?signin_error=idp_error"
    assert "script" not in answer.headers["Location"]
    assert message_for("<script>alert(1)</script>") == message_for("idp_error")


def test_the_hosted_routes_do_not_exist_in_form_mode(stack):
    with hosted_portal(stack, configure=lambda s: replace(s, sign_in="form")) as p:
        answer = p.browser().get(p.url + SIGNIN_ROUTE, allow_redirects=False, timeout=10)
        assert answer.status_code == 404
