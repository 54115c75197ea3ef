"""Sign-in for the portal: streamlit-cognito-auth, wrapped so it can be trusted.

The package supplies the sign-in and new-password forms and keeps the tokens
in the Streamlit session. Its own weak spots are replaced here:

* passwords are checked with USER_PASSWORD_AUTH (the portal renders on the
  server, so the password reaches it anyway), with clear messages for a wrong
  password or unknown user and for an unreachable Cognito, never a traceback;
* tokens are verified by :mod:`portal.tokens` (signature against the pool's
  JWKS, issuer, audience, ``token_use``, expiry) on every run of the page;
* no tokens in cookies: the package's cookie seam (``_login_from_cookies``)
  resumes a lasting session instead (:mod:`portal.lasting`): an ``HttpOnly``
  cookie names a stored session whose refresh token never leaves the server;
  signing out ends it (:mod:`portal.signout`);
* a session is re-checked with Cognito (and the sessions table) every
  ``DOCPORTAL_SESSION_CHECK_SECONDS`` (a minute): the refresh token buys fresh
  tokens (group changes take effect, expired tokens are renewed) and the
  access token is checked (``GetUser``). A session signed out elsewhere, a
  disabled or deleted account, or revoked tokens end it with a clear message;
* a user who turned on an authenticator app (TOTP, see :mod:`portal.users.mfa`)
  gets Cognito's ``SOFTWARE_TOKEN_MFA`` challenge after the password: a form
  asks for the 6-digit code and answers it (``RespondToAuthChallenge``); a
  wrong code may be typed again, an expired challenge goes back to sign-in;
* a link opened while signed out (``/dashboard?range=90+days``) is
  remembered on the first run and, once signed in, followed, but only to one
  of the portal's own pages the user may open (:mod:`portal.deep_link`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError
from streamlit_cognito_auth import CognitoAuthenticator
from streamlit_cognito_auth.auth import Credentials

from common import aws, aws_errors
from common.settings import Settings, SettingsError
from portal import access, deep_link, lasting, navigation, signin_forms
from portal.access import User
from portal.tokens import KeysUnavailable, TokenError, TokenExpired, TokenVerifier, jwks_resolver
from portal.users import passwords
from portal.users.totp import SOFTWARE_TOKEN_MFA, InvalidCode, normalize_code

logger = logging.getLogger(__name__)

_USER = "docportal_user"
_NOTICE = "docportal_notice"
_CHALLENGE = "docportal_challenge_session"
_CHECKED_AT = "docportal_checked_at"
_MFA = "docportal_mfa_challenge"
#: Set when this session's sign-in answered an authenticator-code challenge.
_SECOND_FACTOR = "docportal_second_factor"
#: The deep link a signed-out session was opened with (a DeepLink, or None: none to follow).
_LINK = "docportal_deep_link"

#: Placeholders for the tokens a stored session does not keep: only its refresh token is used.
_ONLY_REFRESH = {"id_token": "-", "access_token": "-", "token_type": "Bearer"}
ENDED = "Your session has ended (signed out elsewhere, or the account was changed). Please sign in again."

BAD_CREDENTIALS = "Incorrect e-mail or password."
UNAVAILABLE = "The sign-in service cannot be reached right now. Please try again in a minute."
CODE_LABEL = signin_forms.CODE_LABEL
WRONG_CODE = ("That code is not right. Type the code your authenticator app shows now "
              "(it changes every 30 seconds).")
CODE_EXPIRED = "The sign-in took too long, so the code can no longer be accepted. Please sign in again."
UNSUPPORTED = "Your account needs a sign-in step the portal does not offer. Please ask an admin."
TOO_MANY = "Too many sign-in attempts. Please wait a minute."
MISCONFIGURED = "DocPortal is not configured correctly, so nobody can sign in. Please tell an admin."


@dataclass(frozen=True)
class _MfaChallenge:
    """A password that was accepted, waiting for its authenticator code."""

    username: str
    session: str


class SignInUnavailable(RuntimeError):
    """Cognito (or its keys) cannot be reached; the message is for the user."""


@functools.cache
def _verifier(settings: Settings) -> TokenVerifier:
    """One verifier (and JWKS cache) per process and stack."""
    return TokenVerifier(issuer=settings.issuer, client_id=settings.client_id,
                         resolve_key=jwks_resolver(settings.jwks_url))


class _Authenticator(CognitoAuthenticator):  # type: ignore[misc]  # the package ships no types
    """The package's authenticator with our password check and token verification."""

    def __init__(self, settings: Settings, verifier: TokenVerifier, client: Any) -> None:
        super().__init__(pool_id=settings.user_pool_id, app_client_id=settings.client_id,
                         boto_client=client, use_cookies=False)
        self.verifier = verifier

    def _show_login_form(self, placeholder: Any) -> tuple[bool, str, str, Any]:
        return signin_forms.login_form(placeholder)

    def _show_password_reset_form(self, placeholder: Any) -> tuple[bool, str, str, str, str, Any]:
        username, password = self.session_manager.reset_password_credentials()
        return signin_forms.new_password_form(placeholder, username or "", password or "", self.pool_id)

    def _initiate(self, username: str, password: str) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self.client.initiate_auth(
                ClientId=self.app_client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password})
            return response
        except ClientError as e:
            code = aws_errors.code(e)
            if code in ("NotAuthorizedException", "UserNotFoundException"):
                raise _Rejected(BAD_CREDENTIALS) from e
            if code == "PasswordResetRequiredException":
                raise _Rejected("Your password must be reset. Please ask an admin.") from e
            if code == "UserNotConfirmedException":
                raise _Rejected("Your account is not confirmed yet. Please ask an admin.") from e
            if code in ("TooManyRequestsException", "LimitExceededException"):
                raise _Rejected(TOO_MANY) from e
            logger.exception("sign-in failed")
            raise SignInUnavailable(UNAVAILABLE) from e
        except BotoCoreError as e:
            logger.exception("sign-in service unreachable")
            raise SignInUnavailable(UNAVAILABLE) from e

    def _login(self, username: str, password: str) -> bool:
        if not username or not password:
            self._set_state_logout()
            return False
        try:
            response = self._initiate(username, password)
        except _Rejected as e:
            if str(e) != BAD_CREDENTIALS:  # the package itself says that one
                st.session_state[_NOTICE] = str(e)
            self._set_state_logout()
            return False
        if response.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            st.session_state[_CHALLENGE] = response["Session"]
            self._set_reset_password_session(username, password)
            return False
        return self._signed_in_or_challenged(username, response)

    def _signed_in_or_challenged(self, username: str, response: dict[str, Any]) -> bool:
        """Sign in with the tokens in ``response``, or go on to the code form Cognito asks for."""
        challenge = response.get("ChallengeName")
        if challenge == SOFTWARE_TOKEN_MFA:
            params = response.get("ChallengeParameters") or {}
            st.session_state[_MFA] = _MfaChallenge(
                username=params.get("USER_ID_FOR_SRP") or username, session=response["Session"])
            self._set_state_logout()
            st.rerun()  # the next run shows the code form instead of the password form
        if challenge or "AuthenticationResult" not in response:
            logger.warning("unsupported sign-in challenge: %s", challenge)
            st.session_state[_NOTICE] = UNSUPPORTED
            self._set_state_logout()
            return False
        return self._issued(Credentials.from_tokens(response))

    def login(self) -> bool:
        """The package's sign-in in the portal's words, with the code step and "Forgot password" in front."""
        challenge = st.session_state.get(_MFA)
        if challenge is not None:
            return self._answer_mfa(challenge)
        if st.session_state.get(signin_forms.FORGOT) is not None:
            signin_forms.forgot_password(self.app_client_id, self.pool_id)
            return False
        placeholder = st.empty()
        if self.session_manager.is_reset_password_session():
            return self._choose_password(placeholder)
        if self._login_from_saved_credentials():  # the tab's own session, else the cookie's
            return True
        submitted, username, password, status = self._show_login_form(placeholder)
        if not submitted:
            return False
        if self._login(username, password) or self.session_manager.is_reset_password_session():
            st.rerun()  # signed in, or on to choosing a password: start the page afresh
        if not st.session_state.get(_NOTICE):  # other refusals say why in their notice
            status.error(BAD_CREDENTIALS)
        return False

    def _choose_password(self, placeholder: Any) -> bool:
        """An invited user's own password, replacing the temporary one."""
        form = self._show_password_reset_form(placeholder)
        submitted, username, password, new_password, confirm, status = form
        if not submitted:
            return False
        if not new_password or new_password != confirm:
            status.error(passwords.EMPTY if not new_password else passwords.MISMATCH)
            return False
        if not self._reset_password(username, password, new_password):
            status.error(st.session_state.pop(_NOTICE, None) or passwords.NOT_ACCEPTED)
            return False
        st.rerun()
        return True  # unreachable: st.rerun() raises

    def _show_mfa_form(self, placeholder: Any) -> tuple[bool, bool, str, Any]:
        return signin_forms.mfa_form(placeholder)

    def _answer_mfa(self, challenge: _MfaChallenge) -> bool:
        """The code form; a right code signs in, a wrong one may be retyped.

        Cognito's challenge session lasts three minutes; once it is gone
        (``NotAuthorizedException``; moto says ``ResourceNotFoundException``)
        the password is asked for again.
        """
        submitted, cancelled, raw, status = self._show_mfa_form(st.empty())
        if cancelled:
            st.session_state.pop(_MFA, None)
            st.rerun()
        if not submitted:
            return False
        try:
            code = normalize_code(raw)
        except InvalidCode as e:
            status.error(str(e))
            return False
        try:
            response = self.client.respond_to_auth_challenge(
                ClientId=self.app_client_id, ChallengeName=SOFTWARE_TOKEN_MFA, Session=challenge.session,
                ChallengeResponses={"USERNAME": challenge.username, "SOFTWARE_TOKEN_MFA_CODE": code})
        except ClientError as e:
            error = aws_errors.code(e)
            if error == "CodeMismatchException":
                status.error(WRONG_CODE)
                return False
            if error in ("TooManyRequestsException", "LimitExceededException"):
                status.error(TOO_MANY)
                return False
            if error in ("NotAuthorizedException", "ExpiredCodeException", "ResourceNotFoundException"):
                logger.info("authenticator challenge ended: %s", error)
                st.session_state.pop(_MFA, None)
                st.session_state[_NOTICE] = CODE_EXPIRED
                st.rerun()
            logger.exception("answering the authenticator challenge failed")
            raise SignInUnavailable(UNAVAILABLE) from e
        except BotoCoreError as e:
            logger.exception("sign-in service unreachable")
            raise SignInUnavailable(UNAVAILABLE) from e
        st.session_state.pop(_MFA, None)
        st.session_state[_SECOND_FACTOR] = True  # the code was right: this session has its second factor
        if self._signed_in_or_challenged(challenge.username, response):
            st.rerun()  # as the package does after a sign-in: start the page afresh
        return False

    def _reset_password(self, username: str, password: str, new_password: str) -> bool:
        try:
            response = self._initiate(username, password)
            response = self.client.respond_to_auth_challenge(
                ClientId=self.app_client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=response["Session"],
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password})
        except _Rejected as e:
            st.session_state[_NOTICE] = str(e)
            return False
        except ClientError as e:
            if aws_errors.code(e) == "InvalidPasswordException":
                rules = signin_forms.policy(self.pool_id) or passwords.PasswordPolicy()
                st.session_state[_NOTICE] = passwords.invalid_password(rules)
            else:
                st.session_state[_NOTICE] = aws_errors.message(e) or passwords.NOT_ACCEPTED
            return False
        except BotoCoreError as e:
            raise SignInUnavailable(UNAVAILABLE) from e
        if response.get("ChallengeName") == SOFTWARE_TOKEN_MFA:
            self.session_manager.clear_reset_password_session()  # the new password is set
        logged_in = self._signed_in_or_challenged(username, response)
        if logged_in:
            self.session_manager.clear_reset_password_session()
        return logged_in

    def _set_state_login(self, credentials: Credentials) -> bool:
        fresh = not _check_due()
        if not fresh:
            renewed = self._revalidate(credentials)
            if renewed is None:
                return False
            credentials = renewed
        try:
            user = self.verifier.verify_id_token(credentials.id_token)
            self.verifier.verify_access_token(credentials.access_token)
        except TokenExpired:
            if fresh:  # renew now rather than waiting for the next check
                st.session_state[_CHECKED_AT] = 0.0
                return self._set_state_login(credentials)
            st.session_state[_NOTICE] = "Your session has expired. Please sign in again."
            self._set_state_logout()
            return False
        except TokenError:
            logger.warning("rejected an invalid token", exc_info=True)
            self._set_state_logout()
            return False
        except KeysUnavailable as e:
            raise SignInUnavailable(UNAVAILABLE) from e
        self.session_manager.set_credentials(credentials)
        self.session_manager.set_logged_in(username=user.sub, email=user.email)
        st.session_state[_USER] = replace(user, second_factor=bool(st.session_state.get(_SECOND_FACTOR)))
        return True

    def _login_from_cookies(self) -> bool:
        """Resume the lasting session the browser's cookie names: its refresh token, checked with Cognito."""
        found = lasting.from_cookie()
        if found is None:
            return False
        record, token = found
        lasting.adopt(record)  # first: a session Cognito refuses is ended in the table too
        try:
            renewed = self._revalidate(Credentials(refresh_token=token, expires_in=0, **_ONLY_REFRESH), True)
        except SignInUnavailable:
            lasting.try_again()  # Cognito unreachable: the next run tries the cookie again
            raise
        if renewed is None:
            return False
        lasting.renewed(token, renewed.refresh_token)
        st.session_state[_SECOND_FACTOR] = record.second_factor
        return self._set_state_login(renewed)

    def _set_state_logout(self) -> None:
        super()._set_state_logout()
        st.session_state.pop(_USER, None)
        st.session_state.pop(_CHECKED_AT, None)
        st.session_state.pop(_SECOND_FACTOR, None)

    def _issued(self, credentials: Credentials) -> bool:
        """Sign in with tokens Cognito has just issued: they need no check with Cognito yet."""
        st.session_state[_CHECKED_AT] = time.monotonic()
        if not self._set_state_login(credentials):
            return False
        lasting.begin(st.session_state[_USER], credentials.refresh_token)
        return True

    def _revalidate(self, credentials: Credentials, resuming: bool = False) -> Credentials | None:
        """Fresh tokens for a session Cognito and the sessions table still honour; None (ended) otherwise.

        Restored sessions get here at most once per check interval, resumed ones once (fresh
        sign-ins count as checked, :meth:`_issued`); a session Cognito refuses is ended in the table.
        """
        try:
            response = self.client.initiate_auth(
                ClientId=self.app_client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": credentials.refresh_token})
            result = response["AuthenticationResult"]
            renewed = Credentials(
                id_token=result["IdToken"], access_token=result["AccessToken"],
                refresh_token=result.get("RefreshToken") or credentials.refresh_token,
                expires_in=result["ExpiresIn"], token_type=result["TokenType"])
            self.client.get_user(AccessToken=renewed.access_token)  # revoked, disabled or deleted?
        except ClientError as e:
            code = aws_errors.code(e)
            if code in ("NotAuthorizedException", "UserNotFoundException", "ResourceNotFoundException"):
                logger.info("session ended by Cognito: %s", code)
                st.session_state[_NOTICE] = ENDED
                lasting.end()
                self._set_state_logout()
                return None
            logger.exception("session check failed")
            raise SignInUnavailable(UNAVAILABLE) from e
        except BotoCoreError as e:
            logger.exception("session check failed: Cognito unreachable")
            raise SignInUnavailable(UNAVAILABLE) from e
        if not resuming:
            if not lasting.alive():  # signed out in another tab, or everywhere
                self._ended()
                return None
            lasting.renewed(credentials.refresh_token, renewed.refresh_token)
        st.session_state[_CHECKED_AT] = time.monotonic()
        return renewed

    def _ended(self) -> None:
        """The stored session is over: this tab signs out, saying why."""
        st.session_state[_NOTICE] = ENDED
        self._set_state_logout()


def check_interval() -> float:
    """Seconds between a session's checks with Cognito and the sessions table."""
    return Settings.from_env(need_stack=False).session_check_seconds


def _check_due() -> bool:
    checked = st.session_state.get(_CHECKED_AT)
    return checked is None or time.monotonic() - checked >= check_interval()


class _Rejected(Exception):
    """Cognito refused the credentials; the message is for the user."""


def _authenticator() -> _Authenticator:
    settings = Settings.from_env()
    return _Authenticator(settings, _verifier(settings), aws.client("cognito-idp"))


def _remember_link() -> None:
    """On a session's first signed-out run, the page and query its address asked for.

    Only the first run counts: later runs of the sign-in forms may no longer
    carry the address the person followed.
    """
    if _LINK in st.session_state or isinstance(st.session_state.get(_USER), User):
        return
    query = [(key, st.query_params.get_all(key)) for key in st.query_params]
    st.session_state[_LINK] = deep_link.link_for(st.context.url, query, navigation.PAGE_NAMES,
                                                 str(st.get_option("server.baseUrlPath") or ""))


def take_deep_link(user: User) -> deep_link.DeepLink | None:
    """The link this session was opened with, once, when ``user`` may open its page; else None."""
    return deep_link.destination(st.session_state.pop(_LINK, None), navigation.names(user))


def require_user() -> User:
    """The verified user of this session; otherwise show sign-in and stop the run."""
    _remember_link()
    try:
        signed_in = _authenticator().login()
    except SignInUnavailable as e:
        st.error(str(e))
        st.stop()
    except SettingsError:
        logger.exception("the portal's settings are unusable")
        st.error(MISCONFIGURED)
        st.stop()
    if signed_in and not lasting.alive():  # every full run: another tab may have signed out
        _authenticator()._ended()
        signed_in = False
    lasting.emit()
    if not signed_in:
        notice = st.session_state.pop(_NOTICE, None)
        if notice:
            st.warning(notice)
        st.stop()
    return current_user()


def current_user() -> User:
    """The session's verified user as they are now, for pages and every part of a page.

    After :func:`require_user` in the same run this costs nothing. But a
    fragment's rerun skips the entry script, so whenever the check with
    Cognito is due (or the tokens ran out) it is made here too: a session
    signed out elsewhere, a disabled account or changed groups take effect in
    every part of a page. A session that has ended reruns the whole app,
    which shows the sign-in with the reason.
    """
    user = st.session_state.get(_USER)
    if not isinstance(user, User):
        st.stop()
        raise AssertionError("unreachable: st.stop() raises")
    if not (_check_due() or not access.is_current(user, time.time())):
        return user
    try:
        authenticator = _authenticator()
        credentials = authenticator.get_credentials()
        still = credentials is not None and authenticator._set_state_login(credentials)
    except (SignInUnavailable, SettingsError) as e:
        st.error(str(e) if isinstance(e, SignInUnavailable) else MISCONFIGURED)
        st.stop()
    if not still:
        st.session_state.pop(_USER, None)
        st.rerun(scope="app")
    renewed = st.session_state.get(_USER)
    if not isinstance(renewed, User):
        st.stop()
        raise AssertionError("unreachable: st.stop() raises")
    return renewed


def stored_user(state: Any) -> User | None:
    """The user a session's state holds, read from any thread (the upload endpoint's), or None.

    Only :func:`require_user` and :func:`current_user` put a user there, after
    verifying the tokens; the caller still checks :func:`access.is_current`.
    """
    try:
        user = state[_USER]
    except KeyError:
        return None
    return user if isinstance(user, User) else None


def page_user(allowed: Callable[[User], bool], refusal: str) -> User:
    """The verified user when ``allowed`` says the page is theirs; otherwise ``refusal`` and the page stops.

    Navigation hides the pages a role may not use; this check, on the page
    itself, is the one that counts (and the services check again).
    """
    user = current_user()
    if not allowed(user):
        st.warning(refusal)
        st.stop()
    return user
