"""A user's own authenticator app (portal.mfa) against the stack's Cognito pool in moto (in-process).

``MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP`` makes moto check codes (against the
secret it hands out) instead of accepting any, so a wrong code is refused here
as on AWS. Codes are computed with tests/totp.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.stub import Stubber

from common import aws
from devstack.provision import MOTO_SERVER_ENV
from portal.access import NotAllowed, User
from portal.users import mfa
from portal.users.totp import InvalidCode
from tests.helpers import totp as codes
from tests.helpers.users import MFA_PASSWORD

PASSWORD = MFA_PASSWORD


@pytest.fixture(autouse=True)
def moto_checks_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in MOTO_SERVER_ENV.items():
        monkeypatch.setenv(name, value)


@dataclass(frozen=True)
class Person:
    cognito: Any
    client_id: str
    email: str
    user: User
    access_token: str

    def sign_in(self) -> dict[str, Any]:
        return self.cognito.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                          AuthParameters={"USERNAME": self.email, "PASSWORD": PASSWORD})

    def answer(self, session: str, code: str) -> dict[str, Any]:
        return self.cognito.respond_to_auth_challenge(
            ClientId=self.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=session,
            ChallengeResponses={"USERNAME": self.email, "SOFTWARE_TOKEN_MFA_CODE": code})


@pytest.fixture
def person(stack) -> Person:
    """A fresh uploader, signed in (their access token is what portal.mfa acts with)."""
    cognito = aws.client("cognito-idp")
    email = f"mfa-{uuid.uuid4().hex[:8]}@example.com"
    created = cognito.admin_create_user(UserPoolId=stack.user_pool_id, Username=email, MessageAction="SUPPRESS",
                                        UserAttributes=[{"Name": "email", "Value": email},
                                                        {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=stack.user_pool_id, Username=email, Password=PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=stack.user_pool_id, Username=email, GroupName="uploaders")
    sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
    user = User(sub=sub, email=email, groups=frozenset({"uploaders"}), expires_at=2**40)
    tokens = cognito.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})["AuthenticationResult"]
    return Person(cognito, stack.client_id, email, user, tokens["AccessToken"])


def turn_on(person: Person) -> str:
    secret = mfa.start_setup(person.cognito, person.user, person.access_token)
    mfa.confirm_setup(person.cognito, person.user, person.access_token, codes.fresh_code(secret))
    return secret


def test_a_new_user_signs_in_with_the_password_only(person):
    assert not mfa.status(person.cognito, person.user, person.access_token).asks_for_code
    assert "AuthenticationResult" in person.sign_in()


def test_turning_it_on_makes_sign_in_ask_for_the_code(person):
    secret = turn_on(person)
    assert secret  # moto's is always the same; Cognito's differs per user
    status = mfa.status(person.cognito, person.user, person.access_token)
    assert (status.totp_enabled, status.totp_preferred) == (True, True)
    challenge = person.sign_in()
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" not in challenge
    signed_in = person.answer(challenge["Session"], codes.fresh_code(secret))
    assert signed_in["AuthenticationResult"]["AccessToken"]


def test_a_wrong_code_at_sign_in_is_refused_and_another_try_allowed(person):
    secret = turn_on(person)
    challenge = person.sign_in()
    with pytest.raises(person.cognito.exceptions.CodeMismatchException):
        person.answer(challenge["Session"], codes.wrong_code(secret))
    assert "AuthenticationResult" in person.answer(challenge["Session"], codes.fresh_code(secret))


def test_a_wrong_code_does_not_turn_it_on(person):
    secret = mfa.start_setup(person.cognito, person.user, person.access_token)
    with pytest.raises(mfa.WrongCode) as refused:
        mfa.confirm_setup(person.cognito, person.user, person.access_token, codes.wrong_code(secret))
    assert refused.value.code == "CodeMismatchException"
    assert not mfa.status(person.cognito, person.user, person.access_token).asks_for_code
    assert "AuthenticationResult" in person.sign_in()
    mfa.confirm_setup(person.cognito, person.user, person.access_token, codes.fresh_code(secret))  # a second try
    assert mfa.status(person.cognito, person.user, person.access_token).asks_for_code


def test_something_that_is_not_a_code_never_reaches_cognito(person):
    mfa.start_setup(person.cognito, person.user, person.access_token)
    with Stubber(person.cognito) as stub, pytest.raises(InvalidCode):
        mfa.confirm_setup(person.cognito, person.user, person.access_token, "12345")
    stub.assert_no_pending_responses()


def test_turning_it_off_signs_in_with_the_password_only_again(person):
    secret = turn_on(person)
    mfa.turn_off(person.cognito, person.user, person.access_token, client_id=person.client_id, password=PASSWORD,
                 code=codes.fresh_code(secret))
    status = mfa.status(person.cognito, person.user, person.access_token)
    assert (status.totp_enabled, status.totp_preferred) == (False, False)
    assert "AuthenticationResult" in person.sign_in()


def test_a_user_without_a_role_is_refused_before_cognito_is_asked(person):
    nobody = User(sub=person.user.sub, email=person.email, groups=frozenset(), expires_at=2**40)
    with Stubber(person.cognito):  # any call would fail: the stub has no responses
        for call in (mfa.status, mfa.start_setup):
            with pytest.raises(NotAllowed):
                call(person.cognito, nobody, person.access_token)
        with pytest.raises(NotAllowed):
            mfa.turn_off(person.cognito, nobody, person.access_token, client_id=person.client_id,
                         password=PASSWORD, code="123456")
        with pytest.raises(NotAllowed):
            mfa.confirm_setup(person.cognito, nobody, person.access_token, "123456")


def test_a_revoked_token_changes_nothing(person):
    person.cognito.global_sign_out(AccessToken=person.access_token)
    for call in (mfa.status, mfa.start_setup):
        with pytest.raises(mfa.MfaError) as refused:
            call(person.cognito, person.user, person.access_token)
        assert refused.value.code == "NotAuthorizedException"


def test_real_cognitos_code_for_a_wrong_setup_code_is_a_wrong_code():
    import boto3

    client = boto3.client("cognito-idp", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("verify_software_token", "EnableSoftwareTokenMFAException", "Code mismatch")
        with pytest.raises(mfa.WrongCode):
            mfa.confirm_setup(client, User("s", "a@example.com", frozenset({"analysts"}), 2**40), "token", "123456")
