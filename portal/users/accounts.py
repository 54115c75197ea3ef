"""User accounts as admins see them. Pure: no AWS, no Streamlit.

:mod:`portal.users.service` reads and changes accounts in Cognito; this
module holds what needs no network: the account record, e-mail validation,
temporary passwords, how the temporary password reaches the person, the rows
of the users table, and the error Cognito's refusals become.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from portal.access import Role, User

#: Longest address Cognito and mail servers accept (RFC 5321 path limit).
MAX_EMAIL_LENGTH = 254
#: Deliberately simple: one @, no spaces, a dot in the domain. Cognito has the last word.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

#: What Cognito's user statuses mean to an admin.
STATUS_LABELS = {
    "FORCE_CHANGE_PASSWORD": "invited: must choose a password",
    "CONFIRMED": "active",
    "RESET_REQUIRED": "password reset required",
    "UNCONFIRMED": "not confirmed",
    "COMPROMISED": "compromised",
    "ARCHIVED": "archived",
    "EXTERNAL_PROVIDER": "external sign-in",
}


class CognitoRefused(Exception):
    """A change that did not happen; the message is for people.

    ``code`` is Cognito's error code when Cognito refused, else empty, so
    callers and tests can tell the reasons apart without parsing messages.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class InvalidEmail(ValueError):
    """An address that cannot be invited; the message is for people."""


class Delivery(StrEnum):
    """How an invited (or reset) user gets their temporary password.

    ``EMAIL``: Cognito makes one up and e-mails it (real AWS). ``SHOW``: the
    portal makes one up, tells Cognito to send nothing, and shows it once to
    the admin, who hands it over. The local stand-in (moto) sends no mail, so
    without ``SHOW`` nobody could ever sign in there.
    """

    EMAIL = "email"
    SHOW = "show"


def delivery_for(endpoint_url: str) -> Delivery:
    """``SHOW`` on a local stand-in (``AWS_ENDPOINT_URL`` set), ``EMAIL`` on AWS."""
    return Delivery.SHOW if endpoint_url else Delivery.EMAIL


def normalize_email(raw: str) -> str:
    """The address to invite, trimmed and lower-cased (one account per person).

    Raises
    ------
    InvalidEmail
        When ``raw`` does not look like an e-mail address.
    """
    email = raw.strip().lower()
    if not email:
        raise InvalidEmail("Please enter an e-mail address.")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise InvalidEmail(f"“{raw.strip()}” is not an e-mail address.")
    return email


def temporary_password(length: int = 16) -> str:
    """A random password that meets the pool's policy (12+, upper, lower, digit, symbol).

    Cognito asks for a new one at the first sign-in, so it only has to be
    strong and easy to read out: no look-alike characters, dashes every four.
    """
    upper = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    lower = "abcdefghijkmnopqrstuvwxyz"
    digits = "23456789"
    rng = secrets.SystemRandom()
    chars = [rng.choice(upper), rng.choice(lower), rng.choice(digits)]
    chars += [rng.choice(upper + lower + digits) for _ in range(max(length, 12) - len(chars))]
    rng.shuffle(chars)
    return "-".join("".join(chars[i:i + 4]) for i in range(0, len(chars), 4))


@dataclass(frozen=True)
class Account:
    """One Cognito user, with the DocPortal groups they are in."""

    username: str
    sub: str
    email: str
    status: str
    enabled: bool
    roles: frozenset[Role]
    created: datetime | None = None

    @property
    def status_label(self) -> str:
        """The status in words."""
        return STATUS_LABELS.get(self.status, self.status.lower().replace("_", " ") or "unknown")


def account_from_cognito(user: Mapping[str, Any], roles: Iterable[Role] = ()) -> Account:
    """An :class:`Account` from a ListUsers / AdminGetUser / AdminCreateUser user."""
    attributes = user.get("Attributes", user.get("UserAttributes", []))
    values = {a["Name"]: a.get("Value", "") for a in attributes}
    created = user.get("UserCreateDate")
    return Account(username=str(user["Username"]), sub=values.get("sub", str(user["Username"])),
                   email=values.get("email", ""), status=str(user.get("UserStatus", "")),
                   enabled=bool(user.get("Enabled", True)), roles=frozenset(roles),
                   created=created if isinstance(created, datetime) else None)


def is_self(actor: User, account: Account) -> bool:
    """True when ``account`` is the signed-in ``actor``."""
    return account.sub == actor.sub


def user_rows(accounts: Iterable[Account]) -> list[dict[str, Any]]:
    """One row per account for the users table, by e-mail."""
    return [
        {
            "E-mail": a.email or a.username,
            "Groups": ", ".join(sorted(a.roles)) or "— no access —",
            "Status": a.status_label,
            "Enabled": a.enabled,
            "Created": a.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if a.created else "—",
        }
        for a in sorted(accounts, key=lambda a: (a.email or a.username).lower())
    ]
