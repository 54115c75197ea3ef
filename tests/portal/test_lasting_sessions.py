"""A sign-in that lasts (moto server): another tab with the cookie resumes it; signing out ends it.

Each test signs in a user of its own: signing out everywhere and disabling are global.
"""

from __future__ import annotations

import pytest

from portal import auth, signout
from portal.sessions.records import key_of
from tests.helpers.sessions import cookie_of, signed_in_as, tab_with_cookie
from tests.helpers.signin import app, enrol_authenticator, sign_in, sign_in_with_code, texts
from tests.helpers.users import CHANGED_PASSWORD, SESSION_PASSWORD, new_uploader, new_user

PASSWORD = SESSION_PASSWORD


@pytest.fixture
def user(on_server) -> str:
    return new_uploader(on_server, "lasting", PASSWORD)


def stored(on_server, session_id: str) -> bool:
    item = on_server.client("dynamodb").get_item(TableName=on_server.settings.sessions_table,
                                                 Key={"pk": {"S": key_of(session_id)}})
    return "Item" in item


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_a_new_tab_with_the_cookie_is_signed_in_as_the_same_user(on_server, user, monkeypatch):
    first = sign_in(app(), user, PASSWORD)
    cookie = cookie_of(first)
    assert stored(on_server, cookie)
    second = tab_with_cookie(monkeypatch, cookie)
    assert not second.exception
    assert signed_in_as(second) == user
    assert "E-mail" not in [t.label for t in second.text_input]


def test_a_resumed_tab_opens_the_page_its_address_asks_for(on_server, user, monkeypatch):
    cookie = cookie_of(sign_in(app(), user, PASSWORD))
    reloaded = tab_with_cookie(monkeypatch, cookie, "/dashboard", range="90 days")
    assert not reloaded.exception
    assert signed_in_as(reloaded) == user
    assert reloaded.title[0].value == "Dashboard"
    assert reloaded.selectbox(key="range").value == "90d"


def test_a_tab_without_the_cookie_asks_for_sign_in(on_server, user, monkeypatch):
    sign_in(app(), user, PASSWORD)
    other_browser = tab_with_cookie(monkeypatch, None)
    assert signed_in_as(other_browser) is None
    assert [t.label for t in other_browser.text_input] == ["E-mail", "Password"]


def test_signing_out_ends_the_stored_session_and_the_other_tab_on_its_next_run(on_server, user, monkeypatch):
    first = sign_in(app(), user, PASSWORD)
    cookie = cookie_of(first)
    second = tab_with_cookie(monkeypatch, cookie)
    assert signed_in_as(second) == user
    click(first, "Sign out")
    assert signout.SIGNED_OUT in texts(first)
    assert not stored(on_server, cookie)
    second.run()  # its next action, well within the check interval
    assert signed_in_as(second) is None
    assert auth.ENDED in texts(second)
    assert signed_in_as(tab_with_cookie(monkeypatch, cookie)) is None  # a reload does not resume it


def test_signing_out_keeps_the_users_other_browsers(on_server, user, monkeypatch):
    laptop = sign_in(app(), user, PASSWORD)
    laptop_cookie = cookie_of(laptop)
    phone = sign_in(app(), user, PASSWORD)
    cookie_of(phone)
    click(phone, "Sign out")
    assert stored(on_server, laptop_cookie)
    laptop.run()
    assert signed_in_as(laptop) == user


def test_signing_out_everywhere_ends_every_stored_session(on_server, user, monkeypatch):
    laptop_cookie = cookie_of(sign_in(app(), user, PASSWORD))
    phone = sign_in(app(), user, PASSWORD)
    phone_cookie = cookie_of(phone)
    click(phone, "Sign out everywhere")
    assert signout.SIGNED_OUT_EVERYWHERE in texts(phone)
    assert not stored(on_server, laptop_cookie) and not stored(on_server, phone_cookie)
    assert signed_in_as(tab_with_cookie(monkeypatch, laptop_cookie)) is None


def test_a_disabled_account_ends_its_stored_session_at_the_next_check(on_server, user, monkeypatch):
    at = sign_in(app(), user, PASSWORD)
    cookie = cookie_of(at)
    on_server.client("cognito-idp").admin_disable_user(UserPoolId=on_server.settings.user_pool_id, Username=user)
    monkeypatch.setenv("DOCPORTAL_SESSION_CHECK_SECONDS", "0")
    at.run()
    assert signed_in_as(at) is None
    assert not stored(on_server, cookie)


def test_a_new_password_ends_the_users_other_sessions_but_not_this_one(on_server, user, monkeypatch):
    laptop_cookie = cookie_of(sign_in(app(), user, PASSWORD))
    phone = sign_in(app(), user, PASSWORD)
    phone_cookie = cookie_of(phone)
    phone.switch_page("app_pages/account.py").run()
    for label, value in (("Current password", PASSWORD), ("New password", CHANGED_PASSWORD),
                         ("Repeat the new password", CHANGED_PASSWORD)):
        next(t for t in phone.text_input if t.label == label).input(value)
    next(b for b in phone.button if b.label == "Change password").click()
    phone.run()
    assert "your other sessions have been signed out" in texts(phone)
    assert not stored(on_server, laptop_cookie)
    assert stored(on_server, phone_cookie) and signed_in_as(phone) == user


def test_a_resumed_session_keeps_the_second_factor_it_signed_in_with(on_server, monkeypatch):
    admin = new_user(on_server, "lasting-admin", PASSWORD, "admins")
    secret = enrol_authenticator(on_server.client("cognito-idp"), on_server.settings.client_id, admin, PASSWORD)
    cookie = cookie_of(sign_in_with_code(app(), admin, PASSWORD, secret))
    resumed = tab_with_cookie(monkeypatch, cookie, "/users")
    assert not resumed.exception
    assert resumed.session_state["docportal_user"].second_factor
    assert resumed.title[0].value == "Users"
