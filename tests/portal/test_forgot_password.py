"""Forgot password on the sign-in page, in AppTest against Cognito on a moto server.

moto e-mails nothing: the code ForgotPassword would send comes back in a
response header of the portal's own Cognito client (tests/helpers/users.ResetCodes).
"""

from __future__ import annotations

import uuid

import pytest
from streamlit.testing.v1 import AppTest

from common import aws
from portal.signin_forms import RESET_CODE_LABEL
from portal.users import passwords
from tests.helpers.signin import app, sign_in, texts
from tests.helpers.users import CHOSEN_PASSWORD, RESET_PASSWORD, ResetCodes, new_uploader

RULES = "Your password needs at least 12 characters, with a lower-case letter, an upper-case letter, a digit"


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def fill(at: AppTest, label: str, value: str) -> None:
    next(t for t in at.text_input if t.label == label).input(value)


def ask_code(email: str) -> AppTest:
    at = click(app(), "Forgot password?")
    assert not at.exception
    assert [t.label for t in at.text_input] == ["E-mail"]
    fill(at, "E-mail", email)
    return click(at, "Send code")


def choose(at: AppTest, code: str, new: str, repeated: str | None = None) -> AppTest:
    fill(at, RESET_CODE_LABEL, code)
    fill(at, "New password", new)
    fill(at, "Repeat the new password", new if repeated is None else repeated)
    return click(at, "Set new password")


@pytest.fixture
def codes(on_server) -> ResetCodes:
    return ResetCodes(aws.client("cognito-idp"))


def test_a_forgotten_password_is_reset_with_the_emailed_code_and_then_signs_in(on_server, codes):
    email = new_uploader(on_server, "forgot", CHOSEN_PASSWORD)
    at = ask_code(email)
    assert not at.exception
    assert passwords.CODE_SENT in texts(at)
    assert RULES in texts(at)  # the rules come before the password is typed
    assert len(codes.codes) == 1
    at = choose(at, codes.codes[-1], RESET_PASSWORD)
    assert not at.exception
    assert passwords.PASSWORD_CHANGED in texts(at)
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]
    at = sign_in(at, email, RESET_PASSWORD)
    assert at.title[0].value == "My files"


def test_the_old_password_no_longer_signs_in(on_server, codes):
    email = new_uploader(on_server, "forgot", CHOSEN_PASSWORD)
    choose(ask_code(email), "", "")  # nothing typed: nothing changes
    at = ask_code(email)
    at = choose(at, codes.codes[-1], RESET_PASSWORD)
    refused = sign_in(app(), email, CHOSEN_PASSWORD)
    assert "docportal_user" not in refused.session_state


def test_an_unknown_address_gets_the_same_answer(on_server, codes):
    known = ask_code(new_uploader(on_server, "forgot", CHOSEN_PASSWORD))
    unknown = ask_code(f"nobody-{uuid.uuid4().hex[:6]}@example.com")
    assert not unknown.exception
    assert texts(unknown) == texts(known).replace(known.text_input[0].value, unknown.text_input[0].value)
    assert [t.label for t in unknown.text_input] == [t.label for t in known.text_input]


def test_a_wrong_code_is_said_in_words_and_changes_nothing(on_server, codes):
    email = new_uploader(on_server, "forgot", CHOSEN_PASSWORD)
    at = ask_code(email)
    at = choose(at, "moto-confirmation-code:000000", RESET_PASSWORD)  # moto checks only codes shaped like its own
    assert not at.exception
    assert passwords.EXPIRED_CODE in texts(at)
    assert RESET_CODE_LABEL in [t.label for t in at.text_input]  # the form stays for another try
    assert sign_in(app(), email, CHOSEN_PASSWORD).title[0].value == "My files"


def test_differing_new_passwords_are_caught_before_cognito(on_server, codes):
    at = choose(ask_code(new_uploader(on_server, "forgot", CHOSEN_PASSWORD)), "123456", RESET_PASSWORD,
                RESET_PASSWORD + "x")
    assert passwords.MISMATCH in texts(at)


def test_back_to_sign_in_leaves_the_reset(on_server):
    at = click(ask_code("someone@example.com"), "Back to sign-in")
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]
