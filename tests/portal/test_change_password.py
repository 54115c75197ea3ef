"""Change password on the Account page, in AppTest, signed in against Cognito on a moto server."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from portal.users import passwords
from tests.helpers.signin import app, sign_in, texts
from tests.helpers.users import CHANGED_PASSWORD, CHOSEN_PASSWORD, new_uploader

ACCOUNT_PAGE = "app_pages/account.py"


def account_page(email: str) -> AppTest:
    at = sign_in(app(), email, CHOSEN_PASSWORD)
    at.switch_page(ACCOUNT_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Account"
    return at


def change(at: AppTest, current: str, new: str, repeated: str | None = None) -> AppTest:
    for label, value in (("Current password", current), ("New password", new),
                         ("Repeat the new password", new if repeated is None else repeated)):
        next(t for t in at.text_input if t.label == label).input(value)
    next(b for b in at.button if b.label == "Change password").click()
    return at.run()


def signs_in(email: str, password: str) -> bool:
    return "docportal_user" in sign_in(app(), email, password).session_state


def test_the_rules_are_shown_before_typing(on_server):
    at = account_page(new_uploader(on_server, "change", CHOSEN_PASSWORD))
    assert "Your password needs at least 12 characters" in texts(at)


def test_a_user_changes_their_password_with_the_current_one(on_server):
    email = new_uploader(on_server, "change", CHOSEN_PASSWORD)
    at = change(account_page(email), CHOSEN_PASSWORD, CHANGED_PASSWORD)
    assert not at.exception
    assert "Your password has been changed" in texts(at)
    assert signs_in(email, CHANGED_PASSWORD)
    assert not signs_in(email, CHOSEN_PASSWORD)


def test_a_wrong_current_password_changes_nothing(on_server):
    email = new_uploader(on_server, "change", CHOSEN_PASSWORD)
    at = change(account_page(email), "Not-my-password-2026", CHANGED_PASSWORD)
    assert not at.exception
    assert passwords.WRONG_CURRENT in texts(at)
    assert signs_in(email, CHOSEN_PASSWORD)


def test_without_the_current_password_nothing_is_asked_of_cognito(on_server):
    email = new_uploader(on_server, "change", CHOSEN_PASSWORD)
    at = change(account_page(email), "", CHANGED_PASSWORD)
    assert passwords.EMPTY in texts(at)
    assert signs_in(email, CHOSEN_PASSWORD)


def test_a_password_the_policy_refuses_is_explained(on_server):
    email = new_uploader(on_server, "change", CHOSEN_PASSWORD)
    at = change(account_page(email), CHOSEN_PASSWORD, "weakpassword")
    assert "does not meet the rules" in texts(at)
    assert signs_in(email, CHOSEN_PASSWORD)


def test_differing_new_passwords_are_caught(on_server):
    email = new_uploader(on_server, "change", CHOSEN_PASSWORD)
    at = change(account_page(email), CHOSEN_PASSWORD, CHANGED_PASSWORD, CHANGED_PASSWORD + "x")
    assert passwords.MISMATCH in texts(at)
    assert signs_in(email, CHOSEN_PASSWORD)
