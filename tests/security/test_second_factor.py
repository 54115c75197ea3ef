"""Attacks on the second factor itself (portal.users.mfa), against the stack's pool in moto."""

from __future__ import annotations

import uuid

import pytest

from common import aws
from devstack.provision import MOTO_SERVER_ENV
from portal.access import User
from portal.users import mfa
from tests.helpers import totp as codes
from tests.helpers.users import MFA_PASSWORD


@pytest.fixture(autouse=True)
def moto_checks_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in MOTO_SERVER_ENV.items():
        monkeypatch.setenv(name, value)


def test_two_step_sign_in_cannot_be_turned_off_without_the_password_and_a_current_code(stack):
    """Attack: someone at an unlocked, signed-in browser (or holding a stolen session) turns off the owner's
    authenticator app with one tick, so the password alone signs in from then on."""
    cognito = aws.client("cognito-idp")
    email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    created = cognito.admin_create_user(UserPoolId=stack.user_pool_id, Username=email, MessageAction="SUPPRESS",
                                        UserAttributes=[{"Name": "email", "Value": email},
                                                        {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=stack.user_pool_id, Username=email, Password=MFA_PASSWORD,
                                    Permanent=True)
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    user = User(sub=sub, email=email, groups=frozenset({"uploaders"}), expires_at=2**40)
    token = cognito.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": email, "PASSWORD": MFA_PASSWORD}
                                  )["AuthenticationResult"]["AccessToken"]
    secret = mfa.start_setup(cognito, user, token)
    mfa.confirm_setup(cognito, user, token, codes.fresh_code(secret))

    for password, code in (("Not-the-password-1", codes.fresh_code(secret)),
                           (MFA_PASSWORD, codes.wrong_code(secret))):
        with pytest.raises(mfa.MfaError):
            mfa.turn_off(cognito, user, token, client_id=stack.client_id, password=password, code=code)
        assert mfa.status(cognito, user, token).asks_for_code
    mfa.turn_off(cognito, user, token, client_id=stack.client_id, password=MFA_PASSWORD,
                 code=codes.fresh_code(secret))
    assert not mfa.status(cognito, user, token).asks_for_code
