"""The forms a signed-out person sees, in the portal's words; :mod:`portal.auth` decides which.

Sign-in (e-mail and password), the authenticator-code step, choosing one's
own password after an invitation, and "Forgot password" (a code by e-mail,
then a new password: :mod:`portal.users.recovery`). Every form that asks for
a new password shows the pool's rules first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from common import aws
from portal import lasting
from portal.deep_link import DeepLink
from portal.hosted import flow
from portal.users import passwords, recovery
from portal.users.passwords import PasswordPolicy

CODE_LABEL = "Authenticator code"
RESET_CODE_LABEL = "Code from the e-mail"
#: Session-state key: the forgot-password step in progress (a _Forgot), absent otherwise.
FORGOT = "docportal_forgot_password"
#: Session-state key: a success to say on the sign-in form's next run.
SUCCESS = "docportal_signin_success"


@dataclass(frozen=True)
class _Forgot:
    """Where a forgot-password request stands: ``email`` once a code was asked for."""

    email: str = ""


@st.cache_data(ttl=600, show_spinner=False)
def policy(pool_id: str) -> PasswordPolicy | None:
    """The pool's password rules (the same for everyone; read at most every ten minutes)."""
    return recovery.policy(aws.client("cognito-idp"), pool_id)


def show_rules(pool_id: str) -> None:
    """The rules a new password must meet, before anyone types one."""
    rules = policy(pool_id)
    if rules is not None:
        st.caption(rules.describe())


def login_form(placeholder: Any) -> tuple[bool, str, str, Any]:
    """E-mail and password; a "Forgot password?" button below starts the reset."""
    with placeholder, st.columns([1, 2, 1])[1]:
        with st.form("login_form"):
            st.subheader("Sign in to DocPortal")
            username = st.text_input("E-mail", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary")
            status = st.container()
        success = st.session_state.pop(SUCCESS, None)
        if success:
            status.success(success)
        if st.button("Forgot password?", type="tertiary"):
            st.session_state[FORGOT] = _Forgot()
            st.rerun()
    return submitted, username.strip(), password, status


def mfa_form(placeholder: Any) -> tuple[bool, bool, str, Any]:
    with placeholder, st.columns([1, 2, 1])[1], st.form("mfa_form"):
        st.subheader("Two-step sign-in")
        st.caption("Open your authenticator app and type the 6-digit code it shows for DocPortal.")
        code = st.text_input(CODE_LABEL, placeholder="123456", autocomplete="one-time-code")
        submitted = st.form_submit_button("Verify", type="primary")
        cancelled = st.form_submit_button("Back to sign-in")
        status = st.container()
    return submitted, cancelled, code, status


def new_password_form(placeholder: Any, username: str, password: str,
                      pool_id: str) -> tuple[bool, str, str, str, str, Any]:
    """An invited user's first sign-in: choose their own password (Cognito's NEW_PASSWORD_REQUIRED)."""
    with placeholder, st.columns([1, 2, 1])[1], st.form("reset_password_form"):
        st.subheader("Choose your password")
        show_rules(pool_id)
        username = st.text_input("E-mail", value=username, disabled=True)
        password = st.text_input("Temporary password", type="password", value=password, disabled=True)
        new_password = st.text_input("New Password", type="password", autocomplete="new-password")
        confirm = st.text_input("Confirm Password", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Reset Password", type="primary")
        status = st.container()
    return submitted, username, password, new_password, confirm, status


def forgot_password(client_id: str, pool_id: str) -> None:
    """The forgot-password steps: ask for a code, then set a new password with it."""
    step = st.session_state.get(FORGOT)
    if not isinstance(step, _Forgot):
        return
    cognito = aws.client("cognito-idp")
    with st.columns([1, 2, 1])[1]:
        if not step.email:
            with st.form("forgot_form"):
                st.subheader("Reset your password")
                st.caption("Type the e-mail you sign in with. We send a code to reset your password.")
                email = st.text_input("E-mail", autocomplete="username")
                send = st.form_submit_button("Send code", type="primary")
                status = st.container()
            if send:
                try:
                    recovery.send_code(cognito, client_id, email)
                except recovery.PasswordRefused as e:
                    status.error(str(e))
                else:
                    st.session_state[FORGOT] = _Forgot(email=email.strip())
                    st.rerun()
        else:
            st.info(passwords.CODE_SENT, icon=":material/mail:")
            with st.form("confirm_forgot_form"):
                st.subheader("Choose a new password")
                show_rules(pool_id)
                email = st.text_input("E-mail", value=step.email, disabled=True)
                code = st.text_input(RESET_CODE_LABEL, autocomplete="one-time-code")
                new_password = st.text_input("New password", type="password", autocomplete="new-password")
                repeated = st.text_input("Repeat the new password", type="password",
                                         autocomplete="new-password")
                submitted = st.form_submit_button("Set new password", type="primary")
                status = st.container()
            if submitted:
                try:
                    recovery.reset(cognito, client_id, step.email, code, new_password, repeated,
                                   policy(pool_id))
                except recovery.PasswordRefused as e:
                    status.error(str(e))
                else:
                    st.session_state.pop(FORGOT, None)
                    st.session_state[SUCCESS] = passwords.PASSWORD_CHANGED
                    st.rerun()
            if st.button("Send a new code"):
                st.session_state[FORGOT] = _Forgot()
                st.rerun()
        if st.button("Back to sign-in"):
            st.session_state.pop(FORGOT, None)
            st.rerun()


def hosted_signin(placeholder: Any, link: DeepLink | None) -> None:
    """Hosted mode: one button to the company sign-in; a failed one says why (a fixed message per code)."""
    with placeholder, st.columns([1, 2, 1])[1]:
        st.subheader("Sign in to DocPortal")
        message = flow.message_for(st.query_params.get(flow.ERROR_PARAM))
        if message:
            st.error(message)
        st.caption("You sign in with your company account, on your company's sign-in page.")
        if st.button("Sign in", type="primary", key="hosted_signin"):
            lasting.go(f"{flow.SIGNIN_ROUTE}?{urlencode({'next': flow.page_address(link)})}")
