"""Who calls the API, from the JWT claims API Gateway's authorizer verified. Pure.

API Gateway's JWT authorizer has already checked the token's signature,
issuer, audience and expiry before the handler runs; it passes the claims in
``requestContext.authorizer.jwt.claims``, each as a string (a list claim such
as ``cognito:groups`` arrives as ``"[admins uploaders]"``). :func:`caller`
is the one place that turns them into a :class:`Caller`: the portal's
:class:`~portal.access.User` and the token's scopes. What the caller may do
is then :mod:`portal.access`'s to say, as in the portal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portal import access
from portal.access import Scope, User

UNAUTHENTICATED = "This request carries no valid token: send 'Authorization: Bearer <token>' from Cognito."


class Unauthenticated(Exception):
    """The claims do not name a caller; the message says what to send instead."""


@dataclass(frozen=True)
class Caller:
    """A verified caller: a person (their groups) or a script's app client (its scopes)."""

    user: User
    scopes: frozenset[Scope]
    machine: bool


def _listed(value: Any) -> tuple[str, ...]:
    """A list claim, as JSON gives it or as API Gateway flattens it (``"[a b]"``)."""
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    text = str(value or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return tuple(part for part in text.replace(",", " ").split() if part)


def _scopes(value: Any) -> frozenset[Scope]:
    """The DocPortal scopes a ``scope`` claim grants; other resource servers' scopes grant nothing."""
    granted = set()
    for item in str(value or "").split():
        server, _, name = item.rpartition("/")
        if server == access.RESOURCE_SERVER and name in Scope._value2member_map_:
            granted.add(Scope(name))
    return frozenset(granted)


def caller(claims: Mapping[str, Any] | None) -> Caller:
    """The caller the claims prove.

    A person's token (ID or access) names a user (``cognito:username`` or
    ``username``) and carries their groups; they get their groups' rights
    (:func:`portal.access.person_scopes`). A client-credentials token names
    only its app client (``sub`` equal to ``client_id``) and its scopes.

    Raises
    ------
    Unauthenticated
        When there are no claims, no expiry, or they name neither.
    """
    if not claims:
        raise Unauthenticated(UNAUTHENTICATED)
    try:
        expires_at = int(str(claims.get("exp", "")))
    except ValueError as e:
        raise Unauthenticated(UNAUTHENTICATED) from e
    sub = str(claims.get("sub", ""))
    if not sub:
        raise Unauthenticated(UNAUTHENTICATED)
    if claims.get("cognito:username") or claims.get("username"):
        verified = str(claims.get("email_verified", "")).lower() == "true"
        user = User(sub=sub, email=str(claims.get("email", "")) if verified else "",
                    groups=frozenset(_listed(claims.get("cognito:groups"))), expires_at=expires_at)
        return Caller(user, access.person_scopes(user), machine=False)
    client_id = str(claims.get("client_id", ""))
    if client_id and client_id == sub and claims.get("token_use", "access") == "access":
        return Caller(access.machine_user(client_id, expires_at), _scopes(claims.get("scope")), machine=True)
    raise Unauthenticated(UNAUTHENTICATED)
