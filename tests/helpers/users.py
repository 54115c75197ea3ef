"""People in a test pool: fresh users, and the passwords the tests give them."""

from __future__ import annotations

import uuid
from typing import Any

from portal.access import User

#: Every password the tests choose for people; each must meet the pool's policy (test_password_policy).
CHOSEN_PASSWORD = "Chosen-password-2026"
SECOND_PASSWORD = "Another-password-2027"
MFA_PASSWORD = "Two-step-test-2026"
SESSION_PASSWORD = "Session-test-2026!"
FIRST_SIGN_IN_PASSWORD = "My-own-password-2026"
MFA_SIGN_IN_PASSWORD = "Two-step-sign-in-2026"
RESET_PASSWORD = "Reset-by-e-mail-2026"
CHANGED_PASSWORD = "Changed-myself-2027"
PASSWORDS = (CHOSEN_PASSWORD, SECOND_PASSWORD, MFA_PASSWORD, SESSION_PASSWORD, FIRST_SIGN_IN_PASSWORD,
             MFA_SIGN_IN_PASSWORD, RESET_PASSWORD, CHANGED_PASSWORD)


def new_user(server: Any, prefix: str, password: str, *groups: str) -> str:
    """A fresh user in ``groups`` with a permanent password on ``server``'s pool; its e-mail."""
    return create_user(server.client("cognito-idp"), server.settings.user_pool_id, prefix, password, *groups)


def create_user(cognito: Any, pool: str, prefix: str, password: str, *groups: str) -> str:
    """A fresh, verified user in ``groups`` with a permanent password in ``pool``; its e-mail."""
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    return email


def new_uploader(server: Any, prefix: str, password: str) -> str:
    """A fresh user in uploaders with a permanent password on ``server``'s pool; its e-mail."""
    return new_user(server, prefix, password, "uploaders")


def person(sub: str, *groups: str, second_factor: bool = False) -> User:
    """A verified user ``<sub>@example.com`` in ``groups``, whose tokens do not expire during a test."""
    return User(sub=sub, email=f"{sub}@example.com", groups=frozenset(groups), expires_at=2**40,
                second_factor=second_factor)


ANN, BOB = person("ann", "uploaders"), person("bob", "uploaders")
ANALYST, NOBODY = person("ana", "analysts"), person("new")
#: An admin signed in with their authenticator code: admin rights apply only then.
ADMIN = person("adm", "admins", second_factor=True)


#: moto e-mails nothing: it returns the code ForgotPassword would have sent in this response header.
MOTO_CODE_HEADER = "x-moto-forgot-password-confirmation-code"


class ResetCodes:
    """The reset codes a Cognito client's ForgotPassword calls got from moto, newest last."""

    def __init__(self, cognito: Any) -> None:
        self.codes: list[str] = []
        cognito.meta.events.register("after-call.cognito-idp.ForgotPassword", self._seen)

    def _seen(self, http_response: Any, **_: Any) -> None:
        code = http_response.headers.get(MOTO_CODE_HEADER)
        if code and code != "None":  # moto sends "None" for an unknown account
            self.codes.append(code)
