"""Who the user is and what they may do: the portal's one place for authorization. Pure.

:class:`User` is what a verified ID token proves (:mod:`portal.tokens` makes
it); the ``may_*`` rules below decide every action, and every service
(files, uploads, dashboard, export, users, account) checks them on the
server, from the verified user, whatever a page shows or hides. A refusal is
one exception, :class:`NotAllowed`, whose message is written for people.

=============  ==========================================================
role           may
=============  ==========================================================
uploaders      upload; see and change their own files; their own dashboard
analysts       all of that, and read everyone's files, figures and exports
admins         everything: read and change anyone's files, export, manage
               users; but only in a session signed in with their
               authenticator code (before that, what an uploader may)
=============  ==========================================================

A leaked admin password alone must not open everyone's files: admin rights
need the second factor (:func:`acts_as_admin`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from common.catalogue import FileStatus
from common.schema import lifecycle
from common.schema.record import FileRecord


class Role(StrEnum):
    """Cognito groups, which decide what a user may do."""

    UPLOADERS = "uploaders"
    ANALYSTS = "analysts"
    ADMINS = "admins"


@dataclass(frozen=True)
class User:
    """A signed-in user, as proven by a verified ID token."""

    sub: str
    email: str
    groups: frozenset[str]
    expires_at: int
    #: True when this session was signed in with an authenticator code, not a password alone.
    second_factor: bool = False

    @property
    def roles(self) -> frozenset[Role]:
        """The groups that are DocPortal roles."""
        return parse_roles(g for g in self.groups if g in Role._value2member_map_)

    @property
    def label(self) -> str:
        """How to name the user to people: the verified e-mail, else the account id."""
        return self.email or f"account {self.sub} (e-mail not verified)"

    def has(self, role: Role) -> bool:
        """True when the user belongs to ``role``'s group."""
        return role in self.roles


class Scope(StrEnum):
    """What an API token may do: the scopes of DocPortal's Cognito resource server."""

    READ = "data.read"
    WRITE = "data.write"


#: The Cognito resource server whose scopes the API honours: a token says ``docportal/data.read``.
RESOURCE_SERVER = "docportal"


class NotAllowed(PermissionError):
    """The user may not do this; the message says so in words for people."""


def parse_roles(groups: Iterable[str]) -> frozenset[Role]:
    """The DocPortal roles among ``groups`` (names or :class:`Role` values).

    Raises
    ------
    ValueError
        When a name is not a DocPortal group.
    """
    roles = set()
    for group in groups:
        try:
            roles.add(Role(group))
        except ValueError as e:
            raise ValueError(f"“{group}” is not a DocPortal group") from e
    return frozenset(roles)


def require(allowed: bool, message: str) -> None:
    """Refuse with ``message`` unless ``allowed``.

    Raises
    ------
    NotAllowed
        When ``allowed`` is false.
    """
    if not allowed:
        raise NotAllowed(message)


# --- the rules ------------------------------------------------------------------------

NO_ROLE = "Your account has no DocPortal role yet. Please ask an admin."
SESSION_ENDED = "Your session has expired. Please sign in again."


def is_current(user: User, now: float) -> bool:
    """True while the tokens that proved ``user`` are unexpired (``now`` in epoch seconds).

    Every service refuses a user whose proof ran out, so no part of a page that
    skipped the sign-in check (a fragment's rerun, a cached object) can act on it.
    """
    return user.expires_at > now


def require_current(user: User, now: float) -> None:
    """Refuse a user whose tokens expired.

    Raises
    ------
    NotAllowed
        With :data:`SESSION_ENDED` when ``user`` is no longer current at ``now``.
    """
    require(is_current(user, now), SESSION_ENDED)


def has_role(user: User) -> bool:
    """Anyone in a DocPortal group may use the portal; a signed-in user in none may not."""
    return bool(user.roles)


def acts_as_admin(user: User) -> bool:
    """An admin signed in with their authenticator code: only then do admin rights apply."""
    return user.has(Role.ADMINS) and user.second_factor


def needs_second_factor(user: User) -> bool:
    """An admin whose session has no second factor: their admin rights wait for it."""
    return user.has(Role.ADMINS) and not user.second_factor


def sees_everyone(user: User) -> bool:
    """Analysts (read-only) and admins with their second factor see every user's files and figures."""
    return user.has(Role.ANALYSTS) or acts_as_admin(user)


def may_upload(user: User) -> bool:
    """Every role uploads (into the user's own space)."""
    return has_role(user)


def may_view(user: User, record: FileRecord) -> bool:
    """Owners see their files, analysts and admins everyone's; a user without a role nothing."""
    return has_role(user) and (record.owner == user.sub or sees_everyone(user))


def may_change(user: User, record: FileRecord) -> bool:
    """Only the owner or an admin changes a file; analysts read others' files only."""
    return has_role(user) and (record.owner == user.sub or acts_as_admin(user))


def may_retry(user: User, record: FileRecord) -> bool:
    """A failed file can be sent back for processing by whoever may change it."""
    return record.status is FileStatus.FAILED and may_change(user, record)


def may_delete(user: User, record: FileRecord) -> bool:
    """Any file not yet deleted can be deleted by whoever may change it."""
    return record.status is not FileStatus.DELETED and may_change(user, record)


def may_label(user: User, record: FileRecord) -> bool:
    """Tags and note of a finished, not deleted file are changed by whoever may change it."""
    return lifecycle.labels_editable(record) and may_change(user, record)


def may_finish_upload(user: User, record: FileRecord) -> bool:
    """Only the person (or script) who started a direct upload completes or cancels it, while it waits."""
    return record.status is FileStatus.PENDING and has_role(user) and record.owner == user.sub


def may_download(user: User, record: FileRecord) -> bool:
    """The original can be fetched while its object exists."""
    return (record.status not in (FileStatus.DELETED, FileStatus.EXPIRED) and bool(record.key)
            and may_view(user, record))


def person_scopes(user: User) -> frozenset[Scope]:
    """A person calls the API with their groups' rights: any role reads and writes (its own space at least).

    What they reach is then decided by the ``may_*`` rules, exactly as in the portal.
    """
    return frozenset(Scope) if has_role(user) else frozenset()


def machine_user(client_id: str, expires_at: int) -> User:
    """A script's app client as a user: an uploader whose space is its own client id.

    So a machine client uploads into ``uploads/<client id>/`` and, by
    :func:`may_view`, reads only what it uploaded; its scopes decide which
    of the two it may do at all (:func:`require_scope`).
    """
    return User(sub=client_id, email="", groups=frozenset({Role.UPLOADERS.value}), expires_at=expires_at)


def require_scope(scopes: frozenset[Scope], scope: Scope) -> None:
    """Refuse a token without ``scope``.

    Raises
    ------
    NotAllowed
        Naming the scope the token needs.
    """
    require(scope in scopes, f"This token lacks the {RESOURCE_SERVER}/{scope.value} scope; ask for a token "
                             "with it (a script's app client must be allowed that scope).")


def may_export(user: User) -> bool:
    """Exports read everyone's metadata: analysts and admins."""
    return sees_everyone(user)


def may_manage_users(user: User) -> bool:
    """Only admins manage users, and only in a session signed in with their authenticator code.

    A leaked admin password alone must not let anyone invite, promote or disable people.
    """
    return acts_as_admin(user)


NEEDS_SECOND_FACTOR = ("Admin rights need two-step sign-in: turn on an authenticator app on the Account "
                       "page, then sign out and sign in again with its code. Until then you have an "
                       "uploader's rights.")
#: The same, for company sign-in (Hosted UI): its tokens cannot show a second factor to the portal.
NEEDS_SECOND_FACTOR_HOSTED = ("Admin rights need the portal's own sign-in with an authenticator code; "
                              "with company sign-in you have an uploader's rights.")


def manage_users_refusal(user: User) -> str:
    """Why ``user`` may not manage users, in words for them."""
    if user.has(Role.ADMINS):
        return NEEDS_SECOND_FACTOR
    return "Managing users is for admins. Please ask an admin if your access should change."
