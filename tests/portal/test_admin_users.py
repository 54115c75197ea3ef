"""The Users page in AppTest, against the stack's Cognito pool in moto (in-process).

As in test_dashboard.py, the page file runs alone with the verified
:class:`portal.access.User` placed in ``session_state["docportal_user"]``.
The in-process stack has no endpoint URL, so the page delivers temporary
passwords by e-mail (``Delivery.EMAIL``); tests of the local stand-in's
behaviour (the password shown to the admin) patch ``delivery_for``.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from common import aws
from portal.access import User
from portal.users import accounts, service
from portal.users.accounts import Delivery
from tests.helpers.env import ROOT
from tests.helpers.markup import read
from tests.helpers.pages import page_as, signed_in_as

PAGE = str(ROOT / "portal" / "app_pages" / "users.py")


@pytest.fixture
def cognito(stack):
    return aws.client("cognito-idp")


@pytest.fixture
def admin(stack, cognito) -> User:
    """An admin who exists in the pool, as the page's actor."""
    bootstrap = User(sub="bootstrap", email="root@example.com", groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
    account = service.invite(cognito, stack.user_pool_id, bootstrap, "boss@example.com", ["admins"],
                           Delivery.SHOW).account
    return User(sub=account.sub, email=account.email, groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)


@pytest.fixture
def shown_locally(monkeypatch):
    """Behave as on the local stand-in: temporary passwords are shown, not mailed."""
    monkeypatch.setattr(accounts, "delivery_for", lambda endpoint_url: Delivery.SHOW)


def page(actor: User) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    signed_in_as(at, actor)
    return run(at)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def widget(at: AppTest, kind: str, label: str):
    return next(w for w in getattr(at, kind) if w.label == label)


def table(at: AppTest) -> dict[str, dict]:
    (frame,) = at.dataframe
    return {row["E-mail"]: row for row in frame.value.to_dict("records")}


def manage(at: AppTest, email: str) -> AppTest:
    chooser = widget(at, "selectbox", "User")
    chooser.select_index(chooser.options.index(email))  # the options are shown as e-mails
    return run(at)


def their_groups(at: AppTest):
    """The groups of the user being managed (the invite form has a "Groups" too)."""
    (chosen,) = [m for m in at.multiselect if m.key and m.key.startswith("member-")]
    return chosen


def groups_of(cognito, pool_id: str, email: str) -> set[str]:
    return {g["GroupName"] for g in cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=email)["Groups"]}


def sign_in(stack, cognito, email: str, password: str) -> dict:
    return cognito.initiate_auth(ClientId=stack.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": email, "PASSWORD": password})


@pytest.mark.parametrize("groups", [(), ("uploaders",), ("analysts",), ("uploaders", "analysts")])
def test_everyone_but_admins_is_turned_away_politely(stack, admin, groups):
    at = page(User(sub="someone", email="someone@example.com", groups=frozenset(groups), expires_at=2**40))
    assert at.title[0].value == "Users"
    assert "Managing users is for admins" in at.warning[0].value
    assert not at.dataframe
    assert not at.text_input
    assert not at.button
    assert not at.selectbox


def test_the_navigation_offers_the_page_to_admins_only(stack, admin):
    path = str(ROOT / "portal" / "app_pages" / "users.py")
    at = page_as(admin, "users")
    assert not at.exception, at.exception
    assert at.title[0].value == "Users"
    assert at.dataframe
    at.switch_page(path)  # listed for an admin
    for groups in [("uploaders",), ("analysts",), ("uploaders", "analysts")]:
        other = page_as(User(sub="someone", email="someone@example.com", groups=frozenset(groups),
                             expires_at=2**40), "users")
        assert not other.exception, other.exception
        assert "Users" not in [t.value for t in other.title]
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            other.switch_page(path)


def test_an_admin_sees_everyone_with_groups_status_and_enabled(stack, cognito, admin):
    service.invite(cognito, stack.user_pool_id, admin, "ann@example.com", ["uploaders", "analysts"], Delivery.SHOW)
    gone = service.invite(cognito, stack.user_pool_id, admin, "gone@example.com", [], Delivery.SHOW)
    service.set_enabled(cognito, stack.user_pool_id, admin, gone.account.username, enabled=False)
    rows = table(page(admin))
    assert set(rows) == {"ann@example.com", "boss@example.com", "gone@example.com"}
    assert rows["ann@example.com"]["Groups"] == "analysts, uploaders"
    assert rows["ann@example.com"]["Status"] == "invited: must choose a password"
    assert rows["ann@example.com"]["Enabled"] is True
    assert rows["gone@example.com"]["Enabled"] is False
    assert rows["gone@example.com"]["Groups"] == "— no access —"
    assert rows["boss@example.com"]["Groups"] == "admins"


def test_on_aws_an_invitation_is_mailed_by_cognito(stack, cognito, admin):
    at = page(admin)
    widget(at, "text_input", "E-mail").input("New.Person@Example.com")
    widget(at, "multiselect", "Groups").set_value(["analysts"])
    button(at, "Invite").click()
    run(at)
    assert "new.person@example.com is invited: Cognito is e-mailing them" in read(at.success[0].value)
    assert not at.code
    assert table(at)["new.person@example.com"]["Groups"] == "analysts"
    assert groups_of(cognito, stack.user_pool_id, "new.person@example.com") == {"analysts"}
    assert widget(at, "text_input", "E-mail").value == ""  # a fresh form for the next one


def test_locally_the_admin_is_shown_the_temporary_password(stack, cognito, admin, shown_locally):
    at = page(admin)
    widget(at, "text_input", "E-mail").input("local@example.com")
    button(at, "Invite").click()
    run(at)
    assert "local@example.com is invited. Their temporary password:" in read(at.success[0].value)
    (code,) = at.code
    assert sign_in(stack, cognito, "local@example.com", code.value)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert groups_of(cognito, stack.user_pool_id, "local@example.com") == {"uploaders"}  # the default
    run(at)
    assert not at.code  # shown once


@pytest.mark.parametrize(("email", "message"), [
    ("boss@example.com", "A user with that e-mail already exists."),
    ("not an address", "is not an e-mail address"),
    ("", "Please enter an e-mail address."),
])
def test_a_refused_invitation_says_why_and_keeps_the_form(stack, cognito, admin, email, message):
    at = page(admin)
    widget(at, "text_input", "E-mail").input(email)
    widget(at, "multiselect", "Groups").set_value(["admins"])
    button(at, "Invite").click()
    run(at)
    assert message in read(at.error[0].value)
    assert not at.success
    assert widget(at, "text_input", "E-mail").value == email
    assert widget(at, "multiselect", "Groups").value == ["admins"]
    assert len(table(at)) == 1


def test_an_admin_changes_someones_groups(stack, cognito, admin):
    service.invite(cognito, stack.user_pool_id, admin, "ann@example.com", ["uploaders"], Delivery.SHOW)
    at = manage(page(admin), "ann@example.com")
    groups = their_groups(at)
    assert groups.value == ["uploaders"]
    groups.set_value(["analysts", "admins"])
    button(at, "Save groups").click()
    run(at)
    assert "ann@example.com is now in: admins, analysts." in read(at.success[0].value)
    assert groups_of(cognito, stack.user_pool_id, "ann@example.com") == {"analysts", "admins"}
    assert table(at)["ann@example.com"]["Groups"] == "admins, analysts"


def test_an_admin_disables_and_enables_someone(stack, cognito, admin):
    service.invite(cognito, stack.user_pool_id, admin, "ann@example.com", ["uploaders"], Delivery.SHOW)
    at = manage(page(admin), "ann@example.com")
    button(at, "Disable").click()
    run(at)
    assert "ann@example.com is disabled." in read(at.success[0].value)
    assert cognito.admin_get_user(UserPoolId=stack.user_pool_id, Username="ann@example.com")["Enabled"] is False
    assert table(at)["ann@example.com"]["Enabled"] is False
    button(at, "Enable").click()
    run(at)
    assert "ann@example.com is enabled." in read(at.success[0].value)
    assert cognito.admin_get_user(UserPoolId=stack.user_pool_id, Username="ann@example.com")["Enabled"] is True


def test_a_reset_needs_a_tick_then_shows_the_new_password_locally(stack, cognito, admin, shown_locally):
    old = service.invite(cognito, stack.user_pool_id, admin, "ann@example.com", ["uploaders"], Delivery.SHOW)
    at = manage(page(admin), "ann@example.com")
    button(at, "Reset password").click()
    run(at)
    assert "Tick “Yes, replace their password” first" in at.warning[0].value
    assert sign_in(stack, cognito, "ann@example.com", old.temporary_password)["ChallengeName"]  # unchanged
    widget(at, "checkbox", "Yes, replace their password").check()
    button(at, "Reset password").click()
    run(at)
    assert "ann@example.com has a new temporary password" in read(at.success[0].value)
    (code,) = at.code
    assert code.value != old.temporary_password
    assert sign_in(stack, cognito, "ann@example.com", code.value)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        sign_in(stack, cognito, "ann@example.com", old.temporary_password)


def test_an_admin_cannot_lock_themselves_out_from_the_page(stack, cognito, admin):
    at = manage(page(admin), "boss@example.com")
    assert "This is you" in " ".join(c.value for c in at.caption)
    assert button(at, "Disable").disabled
    groups = their_groups(at)
    assert groups.value == ["admins"]
    groups.set_value(["uploaders"])
    button(at, "Save groups").click()
    run(at)
    assert "You cannot remove yourself from the admins group" in read(at.error[0].value)
    assert groups_of(cognito, stack.user_pool_id, "boss@example.com") == {"admins"}
