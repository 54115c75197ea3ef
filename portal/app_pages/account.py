"""Account: the signed-in user's own settings: their password, and two-step sign-in on or off."""

import streamlit as st

from common import aws
from common.settings import Settings
from portal import access, auth, lasting, signin_forms
from portal.access import NotAllowed
from portal.users import mfa, recovery, totp

_SECRET = "account_totp_secret"  # noqa: S105 - a session-state key, not a secret
_NOTICE = "account_notice"
#: Where streamlit-cognito-auth keeps the session's (verified) access token.
_ACCESS_TOKEN = "auth_access_token"  # noqa: S105 - a session-state key

st.title("Account")
user = auth.page_user(access.has_role,
                      "Your account has no DocPortal role yet. Please ask an admin to add you to a group.")

st.text(user.label)
st.caption("Roles: " + ", ".join(sorted(role.value for role in user.roles)))

access_token = st.session_state.get(_ACCESS_TOKEN) or ""
if not access_token:
    st.error("Your session has no sign-in token. Please sign out and sign in again.")
    st.stop()
cognito = aws.client("cognito-idp")


def done(message: str) -> None:
    """Report success on the next run, which shows the new state."""
    st.session_state.pop(_SECRET, None)
    st.session_state[_NOTICE] = message
    st.rerun()


notice = st.session_state.pop(_NOTICE, None)
if notice:
    st.success(notice)

st.subheader("Password")
with st.expander("Change password"):
    signin_forms.show_rules(Settings.from_env().user_pool_id)
    with st.form("change_password", clear_on_submit=True):
        current_password = st.text_input("Current password", type="password", autocomplete="current-password")
        new_password = st.text_input("New password", type="password", autocomplete="new-password")
        repeated = st.text_input("Repeat the new password", type="password", autocomplete="new-password")
        if st.form_submit_button("Change password", type="primary"):
            try:
                recovery.change(cognito, access_token, current_password, new_password, repeated,
                                signin_forms.policy(Settings.from_env().user_pool_id))
            except recovery.PasswordRefused as e:
                st.error(str(e))
            else:
                lasting.end_everywhere(user.sub, but_here=True)  # whoever knew the old one is signed out
                done("Your password has been changed. Use the new one from your next sign-in; "
                     "your other sessions have been signed out.")

st.subheader("Two-step sign-in")
try:
    current = mfa.status(cognito, user, access_token)
except (mfa.MfaError, NotAllowed) as e:
    st.error(str(e))
    st.stop()

if current.asks_for_code:
    st.info("**On.** After your password, signing in asks for the 6-digit code from your authenticator app.",
            icon=":material/verified_user:")
    with st.form("totp_off"):
        st.caption("To turn it off, prove it is you: your password and a code the app shows now.")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        off_code = st.text_input(auth.CODE_LABEL, placeholder="123456", autocomplete="one-time-code")
        confirmed = st.checkbox("Sign in with my password only from now on")
        if st.form_submit_button("Turn off two-step sign-in"):
            if not confirmed:
                st.error("Please tick the box to confirm.")
            else:
                try:
                    mfa.turn_off(cognito, user, access_token, client_id=Settings.from_env().client_id,
                                 password=password, code=off_code)
                except (totp.InvalidCode, mfa.MfaError, NotAllowed) as e:
                    st.error(str(e))
                else:
                    done("Two-step sign-in is off: signing in asks for your password only.")
    st.stop()

secret = st.session_state.get(_SECRET)
if secret is None:
    st.info("**Off.** Signing in asks for your password only. With an authenticator app (Google or "
            "Microsoft Authenticator, 1Password, Authy, …) it also asks for a code from your phone, "
            "so a stolen password alone is not enough.", icon=":material/shield:")
    if st.button("Set up an authenticator app", type="primary"):
        try:
            st.session_state[_SECRET] = mfa.start_setup(cognito, user, access_token)
        except (mfa.MfaError, NotAllowed) as e:
            st.error(str(e))
        else:
            st.rerun()
    st.stop()

uri = totp.otpauth_uri(secret, user.email or user.sub)
st.markdown("**1.** Scan this QR code with your authenticator app, or add the key by hand.")
left, right = st.columns([1, 2])
left.image(totp.qr_png(uri), width=220, caption="DocPortal set-up code")
with right:
    st.caption("Key (time-based, 6 digits, every 30 seconds)")
    st.code(totp.grouped(secret), language=None)
    with st.expander("Set-up link"):
        st.code(uri, language=None)
st.markdown("**2.** Type the code the app now shows for DocPortal.")
with st.form("totp_on"):
    code = st.text_input(auth.CODE_LABEL, placeholder="123456", autocomplete="one-time-code")
    if st.form_submit_button("Turn on two-step sign-in", type="primary"):
        try:
            mfa.confirm_setup(cognito, user, access_token, code)
        except (totp.InvalidCode, mfa.MfaError, NotAllowed) as e:
            st.error(str(e))
        else:
            done("Two-step sign-in is on: from your next sign-in, DocPortal asks for a code from the app.")
if st.button("Cancel set-up"):
    st.session_state.pop(_SECRET, None)
    st.rerun()
