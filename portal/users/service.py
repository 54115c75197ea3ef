"""Manage DocPortal's users in the Cognito pool: thin I/O, admins only.

Every function takes the acting, verified :class:`~portal.access.User` and
refuses (:class:`~portal.access.NotAllowed`) unless they are an admin: the check is here, in
the data access, not only in the navigation. Cognito's refusals become
:class:`UserAdminError` with a message for people and Cognito's error code.

Temporary passwords (see :class:`~portal.users.accounts.Delivery`): on AWS, Cognito
makes one up and e-mails it; on the local stand-in, which sends no mail, the
portal makes one up and returns it for the admin to hand over. Either way the
user is ``FORCE_CHANGE_PASSWORD`` and the portal's sign-in asks them for a new
password the first time.

A password reset sets a new temporary password (``AdminSetUserPassword``,
``Permanent=False``) and, on AWS, has Cognito e-mail a fresh one
(``AdminCreateUser`` with ``MessageAction=RESEND``, which only works for users
in ``FORCE_CHANGE_PASSWORD``: the first call puts them there). This ends in
the same first-sign-in form as an invitation. ``AdminResetUserPassword`` is
not used: it e-mails a code for the forgot-password flow, which the portal
does not offer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from portal import access
from portal.access import Role, User, parse_roles
from portal.users.accounts import (
    Account,
    CognitoRefused,
    Delivery,
    InvalidEmail,
    account_from_cognito,
    normalize_email,
    temporary_password,
)

logger = logging.getLogger(__name__)

#: At most this many users are listed (ListUsers pages hold 60).
MAX_USERS = 1000
PAGE_SIZE = 60

UNREACHABLE = "Cognito cannot be reached right now. Please try again in a minute."

#: Cognito error codes and what they mean to an admin.
MESSAGES = {
    "UsernameExistsException": "A user with that e-mail already exists.",
    "UserNotFoundException": "That user does not exist (any more).",
    "InvalidPasswordException": ("The password does not meet the pool's policy: at least 12 characters, "
                                 "with upper- and lower-case letters, a digit and a symbol."),
    "InvalidParameterException": "Cognito refused the request as invalid.",
    "CodeDeliveryFailureException": "The e-mail with the temporary password could not be sent.",
    "UnsupportedUserStateException": "That user cannot get a temporary password in their current state.",
    "NotAuthorizedException": "Cognito refused this change for that user.",
    "TooManyRequestsException": "Too many changes at once. Please wait a minute and try again.",
    "LimitExceededException": "Too many changes at once. Please wait a minute and try again.",
    "ResourceNotFoundException": "The user pool or one of its groups is missing: please tell the operators.",
}


class UserAdminError(CognitoRefused):
    """A change that did not happen; the message (and ``code``) as :class:`CognitoRefused` has them."""


class WouldLockOut(UserAdminError):
    """An admin tried to disable themselves or to leave the admins group."""


@dataclass(frozen=True)
class UserList:
    """The pool's users; ``truncated`` when there were more than the limit."""

    accounts: tuple[Account, ...]
    truncated: bool


@dataclass(frozen=True)
class Invitation:
    """An invited user, and their temporary password when the admin must hand it over."""

    account: Account
    temporary_password: str | None


def _require_admin(actor: User) -> None:
    access.require_current(actor, time.time())
    access.require(access.may_manage_users(actor), access.manage_users_refusal(actor))


@contextmanager
def _cognito(action: str, **messages: str) -> Iterator[None]:
    """Turn Cognito's errors into :class:`UserAdminError`; ``messages`` override by code."""
    try:
        yield
    except ClientError as e:
        code = aws_errors.code(e)
        message = messages.get(code) or MESSAGES.get(code)
        if message is None:
            logger.exception("Cognito refused to %s", action)
            message = f"Could not {action}. Please try again; if it keeps failing, tell the operators."
        raise UserAdminError(message, code) from e
    except BotoCoreError as e:
        logger.exception("Cognito unreachable while trying to %s", action)
        raise UserAdminError(UNREACHABLE) from e


def _roles(groups: Iterable[str]) -> frozenset[Role]:
    try:
        return parse_roles(groups)
    except ValueError as e:
        raise UserAdminError(f"{e}.") from e


def _all(cognito: Any, operation: str, key: str, limit: int, **kwargs: Any) -> tuple[list[Any], bool]:
    """Up to ``limit`` items of a paginated Cognito list; and whether there were more."""
    pages = cognito.get_paginator(operation).paginate(
        **kwargs, PaginationConfig={"MaxItems": limit, "PageSize": PAGE_SIZE})
    result = pages.build_full_result()
    return result.get(key, []), bool(result.get("NextToken") or result.get("PaginationToken"))


def _account(cognito: Any, pool_id: str, username: str) -> Account:
    """One user with their DocPortal groups (AdminGetUser + AdminListGroupsForUser)."""
    with _cognito("read the user"):
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
        groups, _ = _all(cognito, "admin_list_groups_for_user", "Groups", MAX_USERS,
                         UserPoolId=pool_id, Username=username)
    names = {g["GroupName"] for g in groups}
    return account_from_cognito(user, (r for r in Role if r.value in names))


def list_users(cognito: Any, pool_id: str, actor: User, limit: int = MAX_USERS) -> UserList:
    """The pool's users with their DocPortal groups, status and whether enabled.

    Groups come from ListUsersInGroup, one paginated listing per DocPortal
    group, instead of one AdminListGroupsForUser call per user.
    """
    _require_admin(actor)
    with _cognito("list the users"):
        users, truncated = _all(cognito, "list_users", "Users", limit, UserPoolId=pool_id)
        members: dict[str, set[Role]] = {}
        for role in Role:
            in_group, more = _all(cognito, "list_users_in_group", "Users", limit,
                                  UserPoolId=pool_id, GroupName=role.value)
            truncated = truncated or more
            for user in in_group:
                members.setdefault(user["Username"], set()).add(role)
    accounts = tuple(account_from_cognito(u, members.get(u["Username"], ())) for u in users)
    return UserList(accounts, truncated)


def invite(cognito: Any, pool_id: str, actor: User, email: str, groups: Iterable[str],
           delivery: Delivery) -> Invitation:
    """Create a user for ``email`` in ``groups``, who must choose a password at first sign-in.

    With :attr:`Delivery.EMAIL` Cognito e-mails the temporary password; with
    :attr:`Delivery.SHOW` it sends nothing and the password is returned.
    """
    _require_admin(actor)
    try:
        address = normalize_email(email)
    except InvalidEmail as e:
        raise UserAdminError(str(e)) from e
    roles = _roles(groups)
    request: dict[str, Any] = {
        "UserPoolId": pool_id, "Username": address,
        "UserAttributes": [{"Name": "email", "Value": address}, {"Name": "email_verified", "Value": "true"}],
    }
    password = None
    if delivery is Delivery.SHOW:
        password = temporary_password()
        request |= {"TemporaryPassword": password, "MessageAction": "SUPPRESS"}
    else:
        request["DesiredDeliveryMediums"] = ["EMAIL"]
    with _cognito("invite the user", InvalidParameterException=f"“{address}” is not an e-mail address "
                                                                  "Cognito accepts."):
        created = cognito.admin_create_user(**request)["User"]
    username = created["Username"]
    try:
        with _cognito("add the new user to their groups"):
            for role in sorted(roles):
                cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=role.value)
    except UserAdminError as e:
        raise UserAdminError(f"{address} is invited, but not yet in their groups ({e}) "
                             "Please set their groups below.", e.code) from e
    return Invitation(account_from_cognito(created, roles), password)


def set_groups(cognito: Any, pool_id: str, actor: User, username: str, groups: Iterable[str]) -> Account:
    """Put the user in exactly ``groups`` among DocPortal's; other groups are left alone.

    The change shows in the user's next sign-in (groups travel in the ID token).
    """
    _require_admin(actor)
    wanted = _roles(groups)
    account = _account(cognito, pool_id, username)
    if account.sub == actor.sub and Role.ADMINS not in wanted:
        raise WouldLockOut("You cannot remove yourself from the admins group; another admin can.")
    with _cognito("change the user's groups"):
        for role in sorted(wanted - account.roles):
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=role.value)
        for role in sorted(account.roles - wanted):
            cognito.admin_remove_user_from_group(UserPoolId=pool_id, Username=username, GroupName=role.value)
    return _account(cognito, pool_id, username)


def set_enabled(cognito: Any, pool_id: str, actor: User, username: str, enabled: bool) -> Account:
    """Enable or disable the user; a disabled user cannot sign in (Cognito revokes their tokens)."""
    _require_admin(actor)
    account = _account(cognito, pool_id, username)
    if account.sub == actor.sub and not enabled:
        raise WouldLockOut("You cannot disable your own account; another admin can.")
    with _cognito("enable the user" if enabled else "disable the user"):
        if enabled:
            cognito.admin_enable_user(UserPoolId=pool_id, Username=username)
        else:
            cognito.admin_disable_user(UserPoolId=pool_id, Username=username)
    return _account(cognito, pool_id, username)


def reset_password(cognito: Any, pool_id: str, actor: User, username: str, delivery: Delivery) -> str | None:
    """Give the user a new temporary password, sign them out everywhere; returns it for ``SHOW``.

    The user then signs in with it and must choose a new password, exactly as
    after an invitation (so this also re-sends a lost invitation).
    """
    _require_admin(actor)
    account = _account(cognito, pool_id, username)
    if not account.enabled:
        raise UserAdminError("That account is disabled: enable it first, then reset the password.")
    password = temporary_password()
    with _cognito("reset the password"):
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password,
                                        Permanent=False)
        if delivery is Delivery.EMAIL:  # Cognito replaces it with one of its own and e-mails that
            cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="RESEND",
                                      DesiredDeliveryMediums=["EMAIL"])
        cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username=username)
    return password if delivery is Delivery.SHOW else None


def owner_emails(cognito: Any, user_pool_id: str) -> dict[str, str]:
    """User id (``sub``) to e-mail for every user of the pool, for labelling uploaders.

    Best effort: the aggregates know uploaders by id only. Costs one request
    per 60 users; an empty mapping when the pool cannot be listed.
    """
    emails: dict[str, str] = {}
    if not user_pool_id:
        return emails
    try:
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=user_pool_id):
            for user in page.get("Users", []):
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                if "sub" in attributes:
                    emails[attributes["sub"]] = attributes.get("email", "")
    except (ClientError, BotoCoreError):
        logger.warning("could not list the pool's users; uploaders are shown by id", exc_info=True)
        return {}
    return {sub: email for sub, email in emails.items() if email}
