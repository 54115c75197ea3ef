"""Signing out: this browser's session, or every session of the user.

"Sign out" revokes this session's refresh token with Cognito (``RevokeToken``:
the access tokens issued from it stop working too) and ends the stored
session, so every tab of this browser is signed out on its next action; the
browser is told to drop the cookie. "Sign out everywhere" signs the user out
of Cognito entirely (``GlobalSignOut``) and ends all of their stored
sessions: every browser, within the check interval.
"""

from __future__ import annotations

import logging

import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError

from portal import auth, lasting

logger = logging.getLogger(__name__)

SIGNED_OUT = "You have signed out."
SIGNED_OUT_EVERYWHERE = "You have signed out on every device."


def sign_out() -> None:
    """Revoke this session's tokens, end its stored session, forget everything, start over."""
    authenticator = auth._authenticator()
    credentials = authenticator.get_credentials()
    if credentials is not None:
        try:
            authenticator.client.revoke_token(Token=credentials.refresh_token,
                                              ClientId=authenticator.app_client_id)
        except (ClientError, BotoCoreError):
            logger.warning("revoking the refresh token failed; the session is ended anyway", exc_info=True)
    lasting.end()
    _start_over(authenticator, SIGNED_OUT)


def sign_out_everywhere() -> None:
    """Sign the user out of Cognito and end every stored session of theirs, then start over."""
    authenticator = auth._authenticator()
    credentials = authenticator.get_credentials()
    user = auth.stored_user(st.session_state)
    if credentials is not None:
        try:
            authenticator.client.global_sign_out(AccessToken=credentials.access_token)
        except (ClientError, BotoCoreError):
            logger.warning("global sign-out failed; the sessions are ended anyway", exc_info=True)
    if user is not None:
        lasting.end_everywhere(user.sub)
    _start_over(authenticator, SIGNED_OUT_EVERYWHERE)


def _start_over(authenticator: auth._Authenticator, notice: str) -> None:
    authenticator.logout()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[auth._NOTICE] = notice
    lasting.forget_cookie()
    st.rerun()
