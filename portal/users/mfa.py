"""A user's own authenticator app (TOTP) in Cognito: thin I/O, for signed-in users with a role.

Every call acts on the account the access token belongs to, so nobody can
change anyone else's second factor; the role check is here too, as in every
data access. Turning it on is Cognito's three steps: ``AssociateSoftwareToken``
(a secret for the app), ``VerifySoftwareToken`` (one code from the app, proving
it holds the secret) and ``SetUserMFAPreference`` (enabled and preferred, so
every sign-in then asks for a code). Cognito's refusals become
:class:`MfaError` with a message for people and Cognito's error code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from portal import access
from portal.access import User
from portal.users.accounts import CognitoRefused
from portal.users.totp import SOFTWARE_TOKEN_MFA, MfaStatus, normalize_code, status_from_user

logger = logging.getLogger(__name__)

DEVICE_NAME = "DocPortal authenticator"
UNREACHABLE = "Cognito cannot be reached right now. Please try again in a minute."
WRONG_PASSWORD = "That password is not right. Nothing was changed."  # noqa: S105 - a message
WRONG_CODE = ("That code is not right. Check that the app shows DocPortal with your e-mail, "
              "and type the code it shows now (codes change every 30 seconds).")

#: Cognito error codes and what they mean to the person.
MESSAGES = {
    "CodeMismatchException": WRONG_CODE,
    # What real Cognito answers VerifySoftwareToken with for a wrong code.
    "EnableSoftwareTokenMFAException": WRONG_CODE,
    "NotAuthorizedException": "Your session has expired. Please sign out and sign in again.",
    "SoftwareTokenMFANotFoundException": "Please start the set-up again.",
    "InvalidParameterException": "The authenticator app is not set up yet. Please start the set-up again.",
    "TooManyRequestsException": "Too many attempts. Please wait a minute.",
    "LimitExceededException": "Too many attempts. Please wait a minute.",
}


class MfaError(CognitoRefused):
    """A change that did not happen; the message (and ``code``) as :class:`CognitoRefused` has them."""


class WrongCode(MfaError):
    """The authenticator code was refused; the user may try again."""


def _require_role(user: User) -> None:
    access.require_current(user, time.time())
    access.require(access.has_role(user), access.NO_ROLE)


@contextmanager
def _cognito_errors(action: str) -> Iterator[None]:
    try:
        yield
    except ClientError as e:
        code = aws_errors.code(e)
        if code in ("CodeMismatchException", "EnableSoftwareTokenMFAException"):
            raise WrongCode(MESSAGES[code], code) from e
        if code in MESSAGES:
            raise MfaError(MESSAGES[code], code) from e
        logger.exception("%s failed", action)
        raise MfaError(f"Cognito refused to {action}.", code) from e
    except BotoCoreError as e:
        logger.exception("%s failed: Cognito unreachable", action)
        raise MfaError(UNREACHABLE) from e


def status(cognito: Any, user: User, access_token: str) -> MfaStatus:
    """Whether ``user``'s sign-in asks for an authenticator code."""
    _require_role(user)
    with _cognito_errors("read your account"):
        return status_from_user(cognito.get_user(AccessToken=access_token))


def start_setup(cognito: Any, user: User, access_token: str) -> str:
    """A new secret for the user's authenticator app (nothing changes until it is confirmed)."""
    _require_role(user)
    with _cognito_errors("start the set-up"):
        return str(cognito.associate_software_token(AccessToken=access_token)["SecretCode"])


def confirm_setup(cognito: Any, user: User, access_token: str, code: str) -> None:
    """Check one code from the app against the new secret, then make it required at sign-in.

    Raises
    ------
    portal.users.totp.InvalidCode
        ``code`` is not six digits (Cognito is not asked).
    WrongCode
        Cognito refused the code; the set-up may be confirmed with another one.
    """
    _require_role(user)
    digits = normalize_code(code)
    with _cognito_errors("turn on the authenticator app"):
        verified = cognito.verify_software_token(AccessToken=access_token, UserCode=digits,
                                                 FriendlyDeviceName=DEVICE_NAME)
        if verified.get("Status") != "SUCCESS":
            raise WrongCode(WRONG_CODE, verified.get("Status", ""))
        cognito.set_user_mfa_preference(AccessToken=access_token,
                                        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})


def turn_off(cognito: Any, user: User, access_token: str, *, client_id: str, password: str,
             code: str) -> None:
    """Sign-in asks for the password only again, once the user has proved both factors just now.

    Whoever holds an open session (an unlocked browser, a stolen session)
    must not be able to take the second factor away: the password and a
    current code are checked by a fresh sign-in (``InitiateAuth`` and the
    code challenge), whose tokens are then revoked, before the preference
    changes.

    Raises
    ------
    portal.users.totp.InvalidCode
        ``code`` is not six digits (Cognito is not asked).
    WrongCode
        The password or the code is not right; nothing changed.
    MfaError
        Cognito refused or cannot be reached; nothing changed.
    """
    _require_role(user)
    digits = normalize_code(code)
    if not user.email:
        raise MfaError("Your e-mail is not verified, so your password cannot be checked here. "
                       "Please ask an admin.")
    with _cognito_errors("check your password and code"):
        try:
            started = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                            AuthParameters={"USERNAME": user.email, "PASSWORD": password})
        except ClientError as e:
            if aws_errors.code(e) == "NotAuthorizedException":
                raise WrongCode(WRONG_PASSWORD, "NotAuthorizedException") from e
            raise
        if started.get("ChallengeName") != SOFTWARE_TOKEN_MFA:
            raise MfaError("Two-step sign-in is not on for your account; there is nothing to turn off.")
        answered = cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName=SOFTWARE_TOKEN_MFA, Session=started["Session"],
            ChallengeResponses={"USERNAME": user.email, "SOFTWARE_TOKEN_MFA_CODE": digits})
    _revoke(cognito, client_id, answered.get("AuthenticationResult", {}).get("RefreshToken", ""))
    with _cognito_errors("turn off the authenticator app"):
        cognito.set_user_mfa_preference(AccessToken=access_token,
                                        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False})


def _revoke(cognito: Any, client_id: str, refresh_token: str) -> None:
    """End the session the check opened; best effort (the stand-in has no RevokeToken), logged."""
    if not refresh_token:
        return
    try:
        cognito.revoke_token(Token=refresh_token, ClientId=client_id)
    except (ClientError, BotoCoreError, NotImplementedError):
        logger.warning("could not revoke the tokens of the check before turning off two-step sign-in",
                       exc_info=True)
