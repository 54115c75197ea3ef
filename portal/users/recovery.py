"""Passwords people set themselves, through Cognito: forgot (a code by e-mail) and change (signed in).

Forgot password is Cognito's two calls, ``ForgotPassword`` (Cognito e-mails a
code to the account's verified address) and ``ConfirmForgotPassword`` (the code
and a new password). Its first step answers the same whatever happens to the
address (unknown, disabled, without a verified e-mail, rate-limited): OWASP's
Forgot Password Cheat Sheet, no user enumeration; the pool's client also has
``PreventUserExistenceErrors``. Change password is ``ChangePassword`` with the
session's access token and the current password (OWASP Authentication Cheat
Sheet). Refusals become :class:`PasswordRefused` with words for people.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from portal.users.accounts import CognitoRefused
from portal.users.passwords import (
    EMPTY,
    MISMATCH,
    NOT_ACCEPTED,
    SAME,
    WRONG_CODE,
    WRONG_CURRENT,
    PasswordPolicy,
    refusal,
)

logger = logging.getLogger(__name__)

UNREACHABLE = "The sign-in service cannot be reached right now. Please try again in a minute."


class PasswordRefused(CognitoRefused):
    """The password was not set; the message says why, ``code`` is Cognito's error code (if any)."""


def policy(cognito: Any, pool_id: str) -> PasswordPolicy | None:
    """The pool's password policy (DescribeUserPool), or None when it cannot be read just now."""
    try:
        pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    except (ClientError, BotoCoreError):
        logger.warning("could not read the pool's password policy", exc_info=True)
        return None
    return PasswordPolicy.from_cognito(pool.get("Policies", {}).get("PasswordPolicy", {}))


def send_code(cognito: Any, client_id: str, email: str) -> None:
    """Ask Cognito to e-mail a reset code to ``email``'s account; the same outcome whether or not it exists.

    Only an unreachable Cognito is said (it says nothing about the address).
    """
    email = email.strip()
    if not email:
        raise PasswordRefused(EMPTY)
    try:
        cognito.forgot_password(ClientId=client_id, Username=email)
    except ClientError as e:
        # Unknown or disabled accounts, no verified address, rate limits, delivery failures: all look alike.
        logger.info("forgot-password request not sent: %s", aws_errors.code(e))
    except BotoCoreError as e:
        logger.exception("forgot-password request failed: Cognito unreachable")
        raise PasswordRefused(UNREACHABLE) from e


def _check_new(new_password: str, repeated: str) -> None:
    if not new_password or not repeated:
        raise PasswordRefused(EMPTY)
    if new_password != repeated:
        raise PasswordRefused(MISMATCH)


def reset(cognito: Any, client_id: str, email: str, code: str, new_password: str, repeated: str,
          rules: PasswordPolicy | None) -> None:
    """Set ``email``'s new password with the e-mailed ``code`` (ConfirmForgotPassword)."""
    email, code = email.strip(), "".join(code.split())
    if not email or not code:
        raise PasswordRefused(EMPTY)
    _check_new(new_password, repeated)
    try:
        cognito.confirm_forgot_password(ClientId=client_id, Username=email, ConfirmationCode=code,
                                        Password=new_password)
    except ClientError as e:
        # A disabled account (Cognito), or an unknown one (moto says ResourceNotFound): no hint which.
        raise _refused(e, rules, "confirming a forgotten password",
                       {"NotAuthorizedException": WRONG_CODE, "ResourceNotFoundException": WRONG_CODE}) from e
    except BotoCoreError as e:
        logger.exception("confirming a forgotten password failed: Cognito unreachable")
        raise PasswordRefused(UNREACHABLE) from e


def change(cognito: Any, access_token: str, current: str, new_password: str, repeated: str,
           rules: PasswordPolicy | None) -> None:
    """Change the signed-in user's password (ChangePassword); the current password is required."""
    if not current:
        raise PasswordRefused(EMPTY)
    _check_new(new_password, repeated)
    if new_password == current:
        raise PasswordRefused(SAME)
    try:
        cognito.change_password(AccessToken=access_token, PreviousPassword=current,
                                ProposedPassword=new_password)
    except ClientError as e:
        raise _refused(e, rules, "changing a password", {"NotAuthorizedException": WRONG_CURRENT}) from e
    except BotoCoreError as e:
        logger.exception("changing a password failed: Cognito unreachable")
        raise PasswordRefused(UNREACHABLE) from e


def _refused(e: ClientError, rules: PasswordPolicy | None, doing: str,
             meaning: Mapping[str, str]) -> PasswordRefused:
    """What to tell the user when Cognito refuses ``doing``: ``meaning`` for this call, then the common words.

    A refusal nobody can fix by typing again is logged (with its traceback:
    call it from the ``except``) and told as not accepted.
    """
    error = aws_errors.code(e)
    words = meaning.get(error) or refusal(error, rules or PasswordPolicy())
    if words is None:
        logger.exception("%s failed", doing)
        return PasswordRefused(NOT_ACCEPTED, error)
    return PasswordRefused(words, error)

