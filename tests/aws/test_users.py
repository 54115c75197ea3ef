"""User management (portal.users) against the stack's Cognito pool in moto (in-process)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from common import aws
from devstack import processes
from portal.access import NotAllowed, Role, User
from portal.users import service
from portal.users.accounts import Delivery
from portal.users.service import UserAdminError, WouldLockOut
from tests.helpers.users import CHOSEN_PASSWORD, SECOND_PASSWORD

PASSWORD = CHOSEN_PASSWORD


@dataclass(frozen=True)
class Pool:
    cognito: Any
    pool_id: str
    client_id: str

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        return self.cognito.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                          AuthParameters={"USERNAME": email, "PASSWORD": password})

    def choose_password(self, email: str, temporary: str, new: str = PASSWORD) -> dict[str, Any]:
        challenge = self.sign_in(email, temporary)
        assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        return self.cognito.respond_to_auth_challenge(
            ClientId=self.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new})["AuthenticationResult"]

    def user(self, username: str) -> dict[str, Any]:
        return self.cognito.admin_get_user(UserPoolId=self.pool_id, Username=username)

    def groups(self, username: str) -> set[str]:
        groups = self.cognito.admin_list_groups_for_user(UserPoolId=self.pool_id, Username=username)["Groups"]
        return {g["GroupName"] for g in groups}

    def usernames(self) -> set[str]:
        return {u["Username"] for u in self.cognito.list_users(UserPoolId=self.pool_id)["Users"]}


@pytest.fixture
def pool(stack) -> Pool:
    return Pool(aws.client("cognito-idp"), stack.user_pool_id, stack.client_id)


def as_user(account, *groups: str) -> User:
    """The account as a signed-in user (with their authenticator code: admins need it to manage users)."""
    return User(sub=account.sub, email=account.email, groups=frozenset(groups), expires_at=2**40,
                second_factor=True)


@pytest.fixture
def admin(pool) -> User:
    """An admin who exists in the pool (so the lock-out guard can recognise them)."""
    bootstrap = User(sub="bootstrap", email="root@example.com", groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
    invited = service.invite(pool.cognito, pool.pool_id, bootstrap, "boss@example.com", ["admins"], Delivery.SHOW)
    return as_user(invited.account, "admins")


def invite(pool: Pool, admin: User, email: str, *groups: str):
    return service.invite(pool.cognito, pool.pool_id, admin, email, groups, Delivery.SHOW)


def active(pool: Pool, admin: User, email: str, *groups: str):
    """An invited user who has chosen their password."""
    invitation = invite(pool, admin, email, *groups)
    pool.choose_password(email, invitation.temporary_password)
    return invitation.account


def test_an_invited_user_must_choose_a_password_at_first_sign_in(pool, admin):
    invitation = invite(pool, admin, "  New.Person@Example.com ", "uploaders", "analysts")
    account = invitation.account
    assert account.email == "new.person@example.com"
    assert account.roles == {Role.UPLOADERS, Role.ANALYSTS}
    got = pool.user(account.username)
    attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    assert attributes["email"] == "new.person@example.com"
    assert attributes["email_verified"] == "true"
    assert got["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert pool.groups(account.username) == {"uploaders", "analysts"}
    assert pool.sign_in("new.person@example.com", invitation.temporary_password)["ChallengeName"] \
        == "NEW_PASSWORD_REQUIRED"
    tokens = pool.choose_password("new.person@example.com", invitation.temporary_password)
    assert tokens["IdToken"]
    assert pool.user(account.username)["UserStatus"] == "CONFIRMED"
    assert "AuthenticationResult" in pool.sign_in("new.person@example.com", PASSWORD)


def test_with_email_delivery_cognito_makes_up_the_password(pool, admin):
    invitation = service.invite(pool.cognito, pool.pool_id, admin, "mailed@example.com", [], Delivery.EMAIL)
    assert invitation.temporary_password is None
    assert pool.user(invitation.account.username)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert pool.groups(invitation.account.username) == set()


def test_inviting_an_existing_user_again_is_refused(pool, admin):
    invite(pool, admin, "twice@example.com", "uploaders")
    before = pool.usernames()
    for email in ("twice@example.com", "TWICE@example.com"):
        with pytest.raises(UserAdminError) as caught:
            invite(pool, admin, email, "admins")
        assert caught.value.code == "UsernameExistsException"
    assert pool.usernames() == before


@pytest.mark.parametrize("email", ["", "   ", "not-an-email", "a@b", "two words@example.com", "a@@example.com",
                                   "x" * 250 + "@example.com"])
def test_a_bad_email_is_refused_before_cognito_is_asked(pool, admin, email):
    before = pool.usernames()
    with pytest.raises(UserAdminError) as caught:
        invite(pool, admin, email, "uploaders")
    assert caught.value.code == ""
    assert str(caught.value)
    assert pool.usernames() == before


def test_an_unknown_group_is_refused_and_nobody_is_created(pool, admin):
    before = pool.usernames()
    with pytest.raises(UserAdminError, match="not a DocPortal group"):
        invite(pool, admin, "someone@example.com", "uploaders", "root")
    assert pool.usernames() == before


def test_the_list_has_every_user_with_groups_status_and_enabled(pool, admin):
    up = invite(pool, admin, "up@example.com", "uploaders").account
    both = active(pool, admin, "both@example.com", "uploaders", "analysts")
    none = invite(pool, admin, "none@example.com").account
    service.set_enabled(pool.cognito, pool.pool_id, admin, none.username, enabled=False)
    listed = service.list_users(pool.cognito, pool.pool_id, admin)
    assert not listed.truncated
    by_email = {a.email: a for a in listed.accounts}
    assert set(by_email) == {"boss@example.com", "up@example.com", "both@example.com", "none@example.com"}
    assert by_email["up@example.com"].roles == {Role.UPLOADERS}
    assert by_email["up@example.com"].username == up.username
    assert by_email["up@example.com"].status == "FORCE_CHANGE_PASSWORD"
    assert by_email["both@example.com"].roles == {Role.UPLOADERS, Role.ANALYSTS}
    assert by_email["both@example.com"].status == "CONFIRMED"
    assert by_email["both@example.com"].sub == both.sub
    assert by_email["none@example.com"].roles == frozenset()
    assert by_email["none@example.com"].enabled is False
    assert by_email["up@example.com"].enabled is True
    assert by_email["boss@example.com"].roles == {Role.ADMINS}


def test_the_list_follows_pages_and_stops_at_the_limit(pool, admin):
    for i in range(64):  # more than one ListUsers / ListUsersInGroup page of 60
        invite(pool, admin, f"user{i:02d}@example.com", "uploaders")
    listed = service.list_users(pool.cognito, pool.pool_id, admin)
    assert len(listed.accounts) == 65
    assert not listed.truncated
    assert sum(Role.UPLOADERS in a.roles for a in listed.accounts) == 64
    few = service.list_users(pool.cognito, pool.pool_id, admin, limit=10)
    assert len(few.accounts) == 10
    assert few.truncated


def test_groups_are_set_exactly_and_other_groups_are_left_alone(pool, admin):
    account = invite(pool, admin, "mover@example.com", "uploaders").account
    pool.cognito.create_group(UserPoolId=pool.pool_id, GroupName="auditors")
    pool.cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=account.username,
                                         GroupName="auditors")
    changed = service.set_groups(pool.cognito, pool.pool_id, admin, account.username, ["analysts", "admins"])
    assert changed.roles == {Role.ANALYSTS, Role.ADMINS}
    assert pool.groups(account.username) == {"analysts", "admins", "auditors"}
    emptied = service.set_groups(pool.cognito, pool.pool_id, admin, account.username, [])
    assert emptied.roles == frozenset()
    assert pool.groups(account.username) == {"auditors"}
    with pytest.raises(UserAdminError, match="not a DocPortal group"):
        service.set_groups(pool.cognito, pool.pool_id, admin, account.username, ["auditors"])


def test_a_disabled_user_cannot_sign_in_until_enabled_again(pool, admin):
    account = active(pool, admin, "leaver@example.com", "uploaders")
    assert "AuthenticationResult" in pool.sign_in("leaver@example.com", PASSWORD)
    disabled = service.set_enabled(pool.cognito, pool.pool_id, admin, account.username, enabled=False)
    assert disabled.enabled is False
    with pytest.raises(pool.cognito.exceptions.NotAuthorizedException):
        pool.sign_in("leaver@example.com", PASSWORD)
    enabled = service.set_enabled(pool.cognito, pool.pool_id, admin, account.username, enabled=True)
    assert enabled.enabled is True
    assert "AuthenticationResult" in pool.sign_in("leaver@example.com", PASSWORD)


def test_a_reset_gives_a_new_temporary_password_and_the_old_one_stops_working(pool, admin):
    account = active(pool, admin, "forgetful@example.com", "analysts")
    temporary = service.reset_password(pool.cognito, pool.pool_id, admin, account.username, Delivery.SHOW)
    assert temporary and temporary != PASSWORD
    assert pool.user(account.username)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    with pytest.raises(pool.cognito.exceptions.NotAuthorizedException):
        pool.sign_in("forgetful@example.com", PASSWORD)
    pool.choose_password("forgetful@example.com", temporary, new=SECOND_PASSWORD)
    assert "AuthenticationResult" in pool.sign_in("forgetful@example.com", SECOND_PASSWORD)


def test_a_reset_resends_a_lost_invitation(pool, admin):
    invitation = invite(pool, admin, "lost@example.com", "uploaders")
    temporary = service.reset_password(pool.cognito, pool.pool_id, admin, invitation.account.username,
                                     Delivery.SHOW)
    assert temporary != invitation.temporary_password
    with pytest.raises(pool.cognito.exceptions.NotAuthorizedException):
        pool.sign_in("lost@example.com", invitation.temporary_password)
    assert pool.sign_in("lost@example.com", temporary)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_a_disabled_user_is_not_reset(pool, admin):
    account = active(pool, admin, "off@example.com", "uploaders")
    service.set_enabled(pool.cognito, pool.pool_id, admin, account.username, enabled=False)
    with pytest.raises(UserAdminError, match="disabled"):
        service.reset_password(pool.cognito, pool.pool_id, admin, account.username, Delivery.SHOW)
    assert pool.user(account.username)["UserStatus"] == "CONFIRMED"


def test_actions_on_a_user_who_is_gone_say_so(pool, admin):
    calls = [
        lambda: service.set_groups(pool.cognito, pool.pool_id, admin, "no-such-user", ["uploaders"]),
        lambda: service.set_enabled(pool.cognito, pool.pool_id, admin, "no-such-user", enabled=False),
        lambda: service.reset_password(pool.cognito, pool.pool_id, admin, "no-such-user", Delivery.SHOW),
    ]
    for call in calls:
        with pytest.raises(UserAdminError) as caught:
            call()
        assert caught.value.code == "UserNotFoundException"


def _every_function(pool: Pool, actor: User, target: str) -> dict[str, Any]:
    return {
        "list_users": lambda: service.list_users(pool.cognito, pool.pool_id, actor),
        "invite": lambda: service.invite(pool.cognito, pool.pool_id, actor, "intruder@example.com", ["admins"],
                                       Delivery.SHOW),
        "set_groups": lambda: service.set_groups(pool.cognito, pool.pool_id, actor, target, ["admins"]),
        "disable": lambda: service.set_enabled(pool.cognito, pool.pool_id, actor, target, enabled=False),
        "enable": lambda: service.set_enabled(pool.cognito, pool.pool_id, actor, target, enabled=True),
        "reset_password": lambda: service.reset_password(pool.cognito, pool.pool_id, actor, target,
                                                       Delivery.SHOW),
    }


@pytest.mark.parametrize("groups", [(), ("uploaders",), ("analysts",), ("uploaders", "analysts"),
                                    ("Admins",), ("admins-team",)])
def test_only_admins_may_do_anything(pool, admin, groups):
    target = active(pool, admin, "target@example.com", "uploaders")
    actor = as_user(target, *groups)  # even acting on themselves
    before = service.list_users(pool.cognito, pool.pool_id, admin)
    functions = _every_function(pool, actor, target.username)
    assert len(functions) == 6
    for name, call in functions.items():
        with pytest.raises(NotAllowed):
            call()
            pytest.fail(f"{name} did not refuse {groups}")
    assert service.list_users(pool.cognito, pool.pool_id, admin) == before
    assert "AuthenticationResult" in pool.sign_in("target@example.com", PASSWORD)


def test_an_admin_may_do_everything(pool, admin):
    target = active(pool, admin, "target@example.com", "uploaders")
    for call in _every_function(pool, admin, target.username).values():
        call()
    assert "intruder@example.com" in {a.email for a in service.list_users(pool.cognito, pool.pool_id, admin).accounts}
    assert pool.groups(target.username) == {"admins"}
    assert pool.user(target.username)["Enabled"] is True
    assert pool.user(target.username)["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_an_admin_cannot_lock_themselves_out(pool, admin):
    me = admin.sub
    with pytest.raises(WouldLockOut):
        service.set_enabled(pool.cognito, pool.pool_id, admin, me, enabled=False)
    with pytest.raises(WouldLockOut):
        service.set_groups(pool.cognito, pool.pool_id, admin, me, ["uploaders", "analysts"])
    assert pool.user(me)["Enabled"] is True
    assert pool.groups(me) == {"admins"}
    # Adding other groups to oneself is fine, and so is another admin removing them.
    assert service.set_groups(pool.cognito, pool.pool_id, admin, me, ["admins", "analysts"]).roles \
        == {Role.ADMINS, Role.ANALYSTS}
    other = as_user(invite(pool, admin, "second@example.com", "admins").account, "admins")
    assert service.set_groups(pool.cognito, pool.pool_id, other, me, ["analysts"]).roles == {Role.ANALYSTS}
    assert service.set_enabled(pool.cognito, pool.pool_id, other, me, enabled=False).enabled is False


# --- The e-mail delivery path, as real Cognito sees it (moto's RESEND would create a second user). ---

def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("cognito-idp", region_name="us-east-1")
    return client, Stubber(client)


def _got_user(username: str, sub: str, enabled: bool = True) -> dict[str, Any]:
    return {"Username": username, "UserStatus": "CONFIRMED", "Enabled": enabled,
            "UserAttributes": [{"Name": "sub", "Value": sub}, {"Name": "email", "Value": "x@example.com"}]}


def test_email_invitation_asks_cognito_to_send_the_mail():
    client, stub = _stubbed()
    stub.add_response("admin_create_user", {"User": {"Username": "u-1", "Attributes": [
        {"Name": "sub", "Value": "u-1"}, {"Name": "email", "Value": "x@example.com"}]}}, {
        "UserPoolId": "pool", "Username": "x@example.com", "DesiredDeliveryMediums": ["EMAIL"],
        "UserAttributes": [{"Name": "email", "Value": "x@example.com"},
                           {"Name": "email_verified", "Value": "true"}]})
    stub.add_response("admin_add_user_to_group", {},
                      {"UserPoolId": "pool", "Username": "u-1", "GroupName": "uploaders"})
    admin = User(sub="a", email="a@example.com", groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
    with stub:
        invitation = service.invite(client, "pool", admin, "x@example.com", ["uploaders"], Delivery.EMAIL)
    stub.assert_no_pending_responses()
    assert invitation.temporary_password is None


def test_email_reset_sets_a_temporary_password_then_has_cognito_resend_one():
    client, stub = _stubbed()
    stub.add_response("admin_get_user", _got_user("u-1", "u-1"), {"UserPoolId": "pool", "Username": "u-1"})
    stub.add_response("admin_list_groups_for_user", {"Groups": []},
                      {"UserPoolId": "pool", "Username": "u-1", "Limit": 60})
    stub.add_response("admin_set_user_password", {}, {"UserPoolId": "pool", "Username": "u-1",
                                                      "Password": ANY, "Permanent": False})
    stub.add_response("admin_create_user", {"User": {"Username": "u-1"}}, {
        "UserPoolId": "pool", "Username": "u-1", "MessageAction": "RESEND", "DesiredDeliveryMediums": ["EMAIL"]})
    stub.add_response("admin_user_global_sign_out", {}, {"UserPoolId": "pool", "Username": "u-1"})
    admin = User(sub="a", email="a@example.com", groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
    with stub:
        assert service.reset_password(client, "pool", admin, "u-1", Delivery.EMAIL) is None
    stub.assert_no_pending_responses()


def test_an_unexpected_cognito_error_gets_a_message_for_people():
    client, stub = _stubbed()
    stub.add_client_error("list_users", service_error_code="InternalErrorException", http_status_code=500)
    admin = User(sub="a", email="a@example.com", groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
    with stub, pytest.raises(UserAdminError) as caught:
        service.list_users(client, "pool", admin)
    assert caught.value.code == "InternalErrorException"
    assert "Could not list the users" in str(caught.value)


def test_an_unreachable_cognito_gets_a_message_for_people():
    client = boto3.client("cognito-idp", region_name="us-east-1",
                          endpoint_url=f"http://127.0.0.1:{processes.free_port()}",
                          config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    admin = User(sub="a", email="a@example.com", groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)
    with pytest.raises(UserAdminError) as caught:
        service.invite(client, "pool", admin, f"{uuid.uuid4().hex}@example.com", [], Delivery.SHOW)
    assert str(caught.value) == service.UNREACHABLE
