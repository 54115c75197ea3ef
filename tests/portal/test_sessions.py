"""A signed-in session is re-checked with Cognito (on a moto server), in every browser.

``DOCPORTAL_SESSION_CHECK_SECONDS`` is set to 0 so that every run of the page
re-checks; in the app it is a minute. Each test uses a user of its own: signing out
everywhere and disabling are global.
"""

from __future__ import annotations

import pytest

from portal import auth
from tests.helpers.signin import app, sign_in, texts
from tests.helpers.users import SESSION_PASSWORD, new_uploader

PASSWORD = SESSION_PASSWORD


@pytest.fixture
def user(on_server) -> str:
    return new_uploader(on_server, "session", PASSWORD)


@pytest.fixture
def always_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCPORTAL_SESSION_CHECK_SECONDS", "0")


def signed_out_with_notice(at) -> bool:
    return [t.label for t in at.text_input] == ["E-mail", "Password"] and auth.ENDED in texts(at)


def test_signing_out_everywhere_in_one_browser_ends_the_session_in_another(on_server, user, always_check):
    laptop = sign_in(app(), user, PASSWORD)
    phone = sign_in(app(), user, PASSWORD)
    assert "docportal_user" in laptop.session_state and "docportal_user" in phone.session_state
    next(b for b in phone.button if b.label == "Sign out everywhere").click()
    phone.run()
    laptop.run()
    assert not laptop.exception
    assert signed_out_with_notice(laptop)
    assert "docportal_user" not in laptop.session_state


def test_a_disabled_account_loses_its_open_session(on_server, user, always_check):
    at = sign_in(app(), user, PASSWORD)
    on_server.client("cognito-idp").admin_disable_user(UserPoolId=on_server.settings.user_pool_id, Username=user)
    at.run()
    assert not at.exception
    assert signed_out_with_notice(at)


def test_group_changes_reach_an_open_session(on_server, user, always_check):
    at = sign_in(app(), user, PASSWORD)
    assert at.session_state["docportal_user"].groups == frozenset({"uploaders"})
    on_server.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=on_server.settings.user_pool_id, Username=user, GroupName="analysts")
    at.run()
    assert not at.exception
    assert at.session_state["docportal_user"].groups == frozenset({"uploaders", "analysts"})
    assert "analysts, uploaders" in texts(at)  # the sidebar names the roles


def test_between_checks_a_session_makes_no_call_to_cognito(on_server, user, monkeypatch):
    at = sign_in(app(), user, PASSWORD)
    on_server.client("cognito-idp").admin_disable_user(UserPoolId=on_server.settings.user_pool_id, Username=user)
    at.run()  # inside the minute: the verified tokens are trusted as they are
    assert "docportal_user" in at.session_state
    monkeypatch.setenv("DOCPORTAL_SESSION_CHECK_SECONDS", "0")
    at.run()
    assert signed_out_with_notice(at)
