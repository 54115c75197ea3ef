"""Forgot and change password (portal.users.recovery) against the stack's pool in moto (in-process).

moto e-mails nothing; it returns the code in a response header, which
tests/helpers/users.ResetCodes collects. moto's ConfirmForgotPassword checks
only codes it issued (others pass) and not the password policy; ChangePassword
checks both the current password and the policy.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from common import aws
from portal.users import passwords, recovery
from portal.users.passwords import PasswordPolicy
from portal.users.recovery import PasswordRefused
from tests.helpers.users import CHANGED_PASSWORD, CHOSEN_PASSWORD, RESET_PASSWORD, ResetCodes, create_user

RULES = PasswordPolicy(minimum_length=12)


def signs_in(stack: Any, cognito: Any, email: str, password: str) -> bool:
    try:
        cognito.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": email, "PASSWORD": password})
    except ClientError:
        return False
    return True


@pytest.fixture
def cognito(stack) -> Any:
    return aws.client("cognito-idp")


def test_the_policy_is_read_from_the_pool(stack, cognito):
    rules = recovery.policy(cognito, stack.user_pool_id)
    assert rules == PasswordPolicy(minimum_length=12, require_lowercase=True, require_uppercase=True,
                                   require_numbers=True, require_symbols=True)


def test_an_unreadable_policy_is_none_not_an_error(stack, cognito):
    assert recovery.policy(cognito, "us-east-1_nosuchpool") is None


def test_a_forgotten_password_is_reset_with_the_emailed_code(stack, cognito):
    email = create_user(cognito, stack.user_pool_id, "pw", CHOSEN_PASSWORD)
    codes = ResetCodes(cognito)
    recovery.send_code(cognito, stack.client_id, email)
    assert len(codes.codes) == 1
    recovery.reset(cognito, stack.client_id, email, codes.codes[-1], RESET_PASSWORD, RESET_PASSWORD, RULES)
    assert signs_in(stack, cognito, email, RESET_PASSWORD)
    assert not signs_in(stack, cognito, email, CHOSEN_PASSWORD)


def test_an_unknown_address_gets_the_same_answer(stack, cognito):
    codes = ResetCodes(cognito)
    assert recovery.send_code(cognito, stack.client_id, f"nobody-{uuid.uuid4().hex[:6]}@example.com") is None
    assert codes.codes == []


def test_a_refusal_of_the_request_is_not_shown(stack, cognito):
    stub = Stubber(cognito)
    stub.add_client_error("forgot_password", "LimitExceededException")
    with stub:
        assert recovery.send_code(cognito, stack.client_id, "someone@example.com") is None


def test_an_old_code_is_refused_in_words(stack, cognito):
    email = create_user(cognito, stack.user_pool_id, "pw", CHOSEN_PASSWORD)
    codes = ResetCodes(cognito)
    recovery.send_code(cognito, stack.client_id, email)
    recovery.send_code(cognito, stack.client_id, email)  # the newer code replaces the first
    with pytest.raises(PasswordRefused) as refused:
        recovery.reset(cognito, stack.client_id, email, codes.codes[0], RESET_PASSWORD, RESET_PASSWORD, RULES)
    assert str(refused.value) == passwords.EXPIRED_CODE
    assert signs_in(stack, cognito, email, CHOSEN_PASSWORD)


@pytest.mark.parametrize(("error", "words"), [
    ("CodeMismatchException", passwords.WRONG_CODE),
    ("ExpiredCodeException", passwords.EXPIRED_CODE),
    ("LimitExceededException", passwords.TOO_MANY),
    ("TooManyRequestsException", passwords.TOO_MANY),
    ("TooManyFailedAttemptsException", passwords.TOO_MANY),
    ("UserNotFoundException", passwords.WRONG_CODE),
    ("NotAuthorizedException", passwords.WRONG_CODE),
    ("InvalidPasswordException", passwords.invalid_password(RULES)),
    ("InternalErrorException", passwords.NOT_ACCEPTED),
])
def test_cognitos_refusals_of_a_reset_are_put_in_words(stack, cognito, error, words):
    stub = Stubber(cognito)
    stub.add_client_error("confirm_forgot_password", error)
    with stub, pytest.raises(PasswordRefused) as refused:
        recovery.reset(cognito, stack.client_id, "a@example.com", "123456", RESET_PASSWORD, RESET_PASSWORD, RULES)
    assert str(refused.value) == words


@pytest.mark.parametrize(("new", "repeated", "words"), [
    ("", "", passwords.EMPTY),
    (RESET_PASSWORD, RESET_PASSWORD + "x", passwords.MISMATCH),
])
def test_a_reset_with_missing_or_differing_passwords_asks_nothing_of_cognito(stack, cognito, new, repeated, words):
    with Stubber(cognito), pytest.raises(PasswordRefused) as refused:  # no response queued: any call would fail
        recovery.reset(cognito, stack.client_id, "a@example.com", "123456", new, repeated, RULES)
    assert str(refused.value) == words


def access_token(stack: Any, cognito: Any, email: str) -> str:
    return str(cognito.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": email, "PASSWORD": CHOSEN_PASSWORD})
               ["AuthenticationResult"]["AccessToken"])


def test_a_signed_in_user_changes_their_password(stack, cognito):
    email = create_user(cognito, stack.user_pool_id, "pw", CHOSEN_PASSWORD)
    recovery.change(cognito, access_token(stack, cognito, email), CHOSEN_PASSWORD, CHANGED_PASSWORD,
                    CHANGED_PASSWORD, RULES)
    assert signs_in(stack, cognito, email, CHANGED_PASSWORD)
    assert not signs_in(stack, cognito, email, CHOSEN_PASSWORD)


def test_changing_needs_the_current_password(stack, cognito):
    email = create_user(cognito, stack.user_pool_id, "pw", CHOSEN_PASSWORD)
    with pytest.raises(PasswordRefused) as refused:
        recovery.change(cognito, access_token(stack, cognito, email), "Not-the-password-1", CHANGED_PASSWORD,
                        CHANGED_PASSWORD, RULES)
    assert str(refused.value) == passwords.WRONG_CURRENT
    assert signs_in(stack, cognito, email, CHOSEN_PASSWORD)


def test_a_weak_new_password_is_refused_with_the_rules(stack, cognito):
    email = create_user(cognito, stack.user_pool_id, "pw", CHOSEN_PASSWORD)
    with pytest.raises(PasswordRefused) as refused:
        recovery.change(cognito, access_token(stack, cognito, email), CHOSEN_PASSWORD, "short", "short", RULES)
    assert str(refused.value) == passwords.invalid_password(RULES)
    assert "at least 12 characters" in str(refused.value)
