"""The tab's side of a lasting session: start it, find it from the cookie, keep it honest, end it.

Streamlit keeps a signed-in user in one tab's session state only; this
module lets a reload, a second tab or a restarted browser find the session
again (:mod:`portal.sessions`). On sign-in a session is stored and the tab
is handed a single-use binding token; a few lines of the page's own script
``POST`` it to :mod:`portal.session_route`, which answers with the
``HttpOnly`` cookie. The cookie reaches the script with the next page load's
websocket (``st.context.cookies``) and names the stored session, whose
refresh token :mod:`portal.auth` exchanges with Cognito as on every re-check.
Nothing here is needed for signing in: when the table cannot be reached the
sign-in works and merely does not last.
"""

from __future__ import annotations

import json
import logging
import time

import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError
from streamlit.runtime.scriptrunner import get_script_run_ctx

from common import aws
from common.settings import Settings
from portal.access import User
from portal.sessions import bindings
from portal.sessions.records import COOKIE_NAME, SessionRecord
from portal.sessions.service import Store, cipher

logger = logging.getLogger(__name__)

#: Where the page's script asks for the cookie (POST) and has it cleared (DELETE).
ROUTE = "/_docportal/session"
#: The table key of this tab's lasting session.
_STORED = "docportal_stored_session"
#: The binding token this tab is still to present.
_BINDING = "docportal_binding"
#: Set when the browser's cookie is to be cleared (after signing out).
_CLEAR = "docportal_clear_cookie"
#: The cookie value this tab has already tried, so a dead cookie costs one read, not one per run.
_TRIED = "docportal_cookie_tried"

_TableErrors = (ClientError, BotoCoreError)


def _store() -> Store | None:
    settings = Settings.from_env()
    if not settings.sessions_table:
        return None
    return Store(aws.client("dynamodb"), settings.sessions_table, cipher(settings.session_key))


def begin(user: User, refresh_token: str) -> None:
    """Store a lasting session for the user this tab has just signed in, and hand the tab its binding."""
    store, ctx = _store(), get_script_run_ctx()
    if store is None or ctx is None:
        return
    try:
        session_id, record = store.create(user.sub, refresh_token, user.second_factor, time.time(),
                                          Settings.from_env().session_hours)
    except _TableErrors:
        logger.exception("the session could not be stored; this sign-in lasts only as long as the tab")
        return
    st.session_state[_STORED] = record.key
    st.session_state[_BINDING] = bindings.issue(session_id, user.sub, ctx.session_id, record.expires_at)


def from_cookie() -> tuple[SessionRecord, str] | None:
    """The live stored session (and refresh token) the browser's cookie names; tried once per cookie."""
    value = browser_cookie()
    store = _store()
    if not value or store is None or st.session_state.get(_TRIED) == value:
        return None
    st.session_state[_TRIED] = value
    try:
        return store.open(value, time.time())
    except _TableErrors:
        logger.exception("the sessions table cannot be read; signing in is asked for instead")
        return None


def browser_cookie() -> str | None:
    """The session cookie the tab's websocket was opened with (Streamlit reads cookies only then)."""
    value: str | None = st.context.cookies.get(COOKIE_NAME)
    return value


def try_again() -> None:
    """The cookie could not be checked (Cognito unreachable): try it again on the next run."""
    st.session_state.pop(_TRIED, None)


def adopt(record: SessionRecord) -> None:
    """This tab now belongs to the stored session ``record``."""
    st.session_state[_STORED] = record.key


def alive() -> bool:
    """False once this tab's stored session was ended (signed out in another tab, everywhere) or expired.

    A tab without a stored session (no table, or the table failed at
    sign-in) is alive as long as Cognito says so; an unreachable table does
    not sign anyone out.
    """
    key, store = st.session_state.get(_STORED), _store()
    if key is None or store is None:
        return True
    try:
        return store.alive(key, time.time())
    except _TableErrors:
        logger.exception("the sessions table cannot be read; the session is trusted until the next check")
        return True


def renewed(old_token: str, new_token: str) -> None:
    """Keep the refresh token Cognito rotated, if it did."""
    key, store = st.session_state.get(_STORED), _store()
    if key is None or store is None or new_token == old_token:
        return
    try:
        store.renew(key, new_token)
    except _TableErrors:
        logger.exception("a rotated refresh token could not be stored")


def end() -> None:
    """End this tab's stored session (every tab of this browser signs out on its next action)."""
    key, store = st.session_state.pop(_STORED, None), _store()
    if key is not None and store is not None:
        try:
            store.end(key)
        except _TableErrors:
            logger.exception("the session could not be ended in the table; it still ends with its token")


def end_everywhere(sub: str, *, but_here: bool = False) -> None:
    """End every stored session of user ``sub`` (``but_here``: except this tab's, as after a new password)."""
    store = _store()
    keep = st.session_state.get(_STORED) if but_here else st.session_state.pop(_STORED, None)
    if store is not None:
        try:
            store.end_all(sub, keep=keep if but_here else None)
        except _TableErrors:
            logger.exception("the sessions could not be ended in the table")


def forget_cookie() -> None:
    """After signing out: have the browser drop the cookie, and never resume from the one this tab has."""
    st.session_state[_CLEAR] = True
    st.session_state[_TRIED] = browser_cookie()


def emit() -> None:
    """The page's few lines of script: present this tab's binding, or clear the cookie after signing out."""
    token = st.session_state.get(_BINDING)
    ctx = get_script_run_ctx()
    if token is not None and ctx is not None:
        if not bindings.waiting(token):
            st.session_state.pop(_BINDING, None)  # taken (the cookie is set) or expired
            return
        body = json.dumps({"bind": token, "tab": ctx.session_id})
        _script(f"fetch({json.dumps(ROUTE)}, {{method: 'POST', credentials: 'same-origin', "
                f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}});")
    elif st.session_state.pop(_CLEAR, None):
        _script(f"fetch({json.dumps(ROUTE)}, {{method: 'DELETE', credentials: 'same-origin'}});")


def _script(code: str) -> None:
    # Our own constant code and JSON-encoded tokens only: nothing a user typed.
    st.html(f"<script>{code}</script>", unsafe_allow_javascript=True)
