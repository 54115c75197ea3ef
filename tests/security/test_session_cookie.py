"""Attacks on the lasting session's cookie and the route that sets it (moto server; one attack each).

The cookie names a stored session by an opaque id; the route
(:mod:`portal.session_route`) sets it only for a single-use binding token
presented from the portal's own page, by the tab it was handed to, while
that tab is signed in as the session's user. Tabs "with a cookie" are
AppTests whose cookie is the one the route would have set
(``tests/helpers/sessions.py``); the route is driven over ASGI with the
tabs' real session state.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from portal import auth, lasting
from portal.session_route import SessionRoute
from portal.sessions import bindings
from portal.sessions.records import COOKIE_NAME, key_of, new_token
from tests.helpers.sessions import cookie_of, signed_in_as, tab_with_cookie
from tests.helpers.signin import app, sign_in, texts
from tests.helpers.users import SESSION_PASSWORD, new_uploader

HOST = "portal.example.com"
ORIGIN = f"https://{HOST}"


@pytest.fixture
def user(on_server) -> str:
    return new_uploader(on_server, "cookie", SESSION_PASSWORD)


@pytest.fixture
def tab(on_server, user) -> AppTest:
    """A tab that has just signed in: it holds its binding token."""
    at = sign_in(app(), user, SESSION_PASSWORD)
    assert lasting._BINDING in at.session_state, "the sign-in stored no session"
    return at


class Tabs:
    """The open tabs the route may look up: Streamlit's session manager, over these AppTests' state."""

    def __init__(self, tabs: dict[str, AppTest]) -> None:
        self._session_mgr = SimpleNamespace(get_active_session_info=self._info)
        self._tabs = tabs

    def _info(self, tab: str) -> Any:
        at = self._tabs.get(tab)
        return None if at is None else SimpleNamespace(session=SimpleNamespace(session_state=at.session_state))


def post(route: SessionRoute, body: Any, origin: str | None = ORIGIN, site: str | None = "same-origin",
         method: str = "POST") -> tuple[int, dict[str, Any], str]:
    """One request to the route: its status, JSON body and ``Set-Cookie`` header."""
    headers = [(b"host", HOST.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if site is not None:
        headers.append((b"sec-fetch-site", site.encode()))
    payload = json.dumps(body).encode()
    scope = {"type": "http", "method": method, "path": lasting.ROUTE, "headers": headers,
             "query_string": b"", "scheme": "https", "server": (HOST, 443)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    from starlette.routing import Router

    asyncio.run(Router(routes=route.routes())(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    cookie = next((v.decode() for k, v in start["headers"] if k == b"set-cookie"), "")
    return start["status"], json.loads(b"".join(m.get("body", b"") for m in sent)), cookie


def presented(at: AppTest) -> tuple[dict[str, str], bindings.Binding]:
    """What the tab's page script would post, and what its binding grants (left unused)."""
    token = at.session_state[lasting._BINDING]
    binding = bindings.take(token)
    assert binding is not None, "the tab's binding was already used"
    bindings._waiting[key_of(token)] = binding  # put back: peeking must not use it up
    return {"bind": token, "tab": binding.tab}, binding


def route_for(tab: AppTest) -> SessionRoute:
    """The route, seeing ``tab`` as an open session, under the id its binding names."""
    runtime = Tabs({presented(tab)[1].tab: tab})
    return SessionRoute(lambda: runtime)


def test_the_route_sets_an_httponly_strict_secure_cookie_for_its_own_tab(tab):
    """Not an attack: the one way the cookie is set, so the refusals below are refusals of this."""
    body, binding = presented(tab)
    status, answer, cookie = post(route_for(tab), body)
    assert (status, answer) == (200, {"ok": True})
    assert cookie.startswith(f"{COOKIE_NAME}={binding.session_id};")
    assert all(part in cookie for part in ("HttpOnly", "SameSite=strict", "Secure", "Path=/", "Max-Age="))


def test_a_replayed_binding_token_sets_no_cookie(tab):
    body, _ = presented(tab)
    route = route_for(tab)
    assert post(route, body)[0] == 200
    status, answer, cookie = post(route, body)
    assert (status, answer, cookie) == (403, {"error": "binding_unknown"}, "")


def test_a_guessed_binding_token_sets_no_cookie(tab):
    body, _ = presented(tab)
    status, answer, cookie = post(route_for(tab), {**body, "bind": new_token()})
    assert (status, answer, cookie) == (403, {"error": "binding_unknown"}, "")


def test_a_binding_token_presented_by_another_tab_sets_no_cookie(on_server, tab):
    attacker = sign_in(app(), new_uploader(on_server, "attacker", SESSION_PASSWORD), SESSION_PASSWORD)
    body, binding = presented(tab)
    route = SessionRoute(lambda: Tabs({binding.tab: tab, "attackers-tab": attacker}))
    status, answer, cookie = post(route, {**body, "tab": "attackers-tab"})
    assert (status, answer, cookie) == (403, {"error": "binding_other_tab"}, "")


def test_a_binding_token_posted_from_another_site_sets_no_cookie(tab):
    body, _ = presented(tab)
    status, answer, cookie = post(route_for(tab), body, origin="https://evil.example", site="cross-site")
    assert (status, answer, cookie) == (403, {"error": "cross_origin"}, "")


def test_a_binding_token_of_a_tab_that_signed_out_sets_no_cookie(tab):
    body, _ = presented(tab)
    route = route_for(tab)
    next(b for b in tab.button if b.label == "Sign out").click()
    tab.run()
    status, answer, cookie = post(route, body)
    assert (status, answer, cookie) == (403, {"error": "tab_not_signed_in"}, "")


def test_a_tampered_cookie_signs_nobody_in(tab, monkeypatch):
    session_id = cookie_of(tab)
    tampered = ("A" if session_id[5] != "A" else "B").join((session_id[:5], session_id[6:]))
    at = tab_with_cookie(monkeypatch, tampered)
    assert not at.exception
    assert signed_in_as(at) is None
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]


def test_a_cookie_whose_session_was_signed_out_signs_nobody_in(tab, monkeypatch):
    session_id = cookie_of(tab)
    tab.run()
    next(b for b in tab.button if b.label == "Sign out").click()
    tab.run()
    at = tab_with_cookie(monkeypatch, session_id)
    assert signed_in_as(at) is None


def test_a_session_id_in_the_address_is_never_accepted(tab, monkeypatch):
    session_id = cookie_of(tab)
    at = tab_with_cookie(monkeypatch, None, "/", session=session_id, docportal_session=session_id,
                         sid=session_id)
    assert signed_in_as(at) is None
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]


def test_a_cookie_for_a_disabled_account_signs_nobody_in_and_ends_the_session(on_server, user, tab, monkeypatch):
    session_id = cookie_of(tab)
    on_server.client("cognito-idp").admin_disable_user(UserPoolId=on_server.settings.user_pool_id, Username=user)
    at = tab_with_cookie(monkeypatch, session_id)
    assert signed_in_as(at) is None
    assert auth.ENDED in texts(at)
    stored = on_server.client("dynamodb").get_item(TableName=on_server.settings.sessions_table,
                                                   Key={"pk": {"S": key_of(session_id)}})
    assert "Item" not in stored


def test_the_cookie_is_cleared_only_at_the_portals_own_request(tab):
    """Attack: another site makes the browser drop the cookie (a forced sign-out of every tab)."""
    refused = post(route_for(tab), {}, origin="https://evil.example", site="cross-site", method="DELETE")
    assert refused == (403, {"error": "cross_origin"}, "")
    status, answer, cookie = post(route_for(tab), {}, method="DELETE")
    assert (status, answer) == (200, {"ok": True})
    assert cookie.startswith(f"{COOKIE_NAME}=") and "Max-Age=0" in cookie and "HttpOnly" in cookie
