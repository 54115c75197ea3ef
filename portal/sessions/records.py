"""What a lasting session is, pure: ids, their hashes, records, expiry, the cookie and the binding.

The browser holds only an opaque, random session id (256 bits from
:mod:`secrets`) in an ``HttpOnly`` cookie. The sessions table is keyed by the
id's SHA-256, so reading the table yields no live cookie; the refresh token
is stored encrypted (:mod:`portal.sessions.service`). A cookie is set only by
presenting a single-use, short-lived *binding* token that the signed-in
Streamlit session was given (:class:`Binding`); docs/SECURITY.md says why
each part is there. No AWS, no Streamlit here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

#: The cookie's name; it holds nothing but a session id.
COOKIE_NAME = "docportal_session"
#: Bytes of randomness in a session id and in a binding token (256 bits).
ID_BYTES = 32
#: ``secrets.token_urlsafe(ID_BYTES)`` is exactly this long, in this alphabet; anything else is not an id.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
#: Seconds a binding token may wait for the browser to present it.
BINDING_SECONDS = 60
#: Hosts a browser reaches over plain HTTP during development: there the cookie cannot be ``Secure``.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


class NotASessionId(ValueError):
    """A cookie value that cannot be a session id (wrong length or alphabet): never looked up."""


def new_token() -> str:
    """A fresh random session id or binding token."""
    return secrets.token_urlsafe(ID_BYTES)


def key_of(token: str) -> str:
    """The table key (or registry key) of a session id or binding token: its SHA-256, hex.

    Raises :class:`NotASessionId` for a value that is not shaped like one, so
    a tampered or foreign cookie costs no read.
    """
    if not isinstance(token, str) or not _ID_PATTERN.fullmatch(token):
        raise NotASessionId("not a session id")
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class SessionRecord:
    """One lasting session as stored: who, since and until when, and how they signed in."""

    key: str
    sub: str
    created_at: int
    expires_at: int
    #: True when the sign-in answered an authenticator-code challenge (admins need it).
    second_factor: bool

    def live(self, now: float) -> bool:
        """True until the session's life is over (DynamoDB's TTL deletes late, so reads check)."""
        return now < self.expires_at

    def max_age(self, now: float) -> int:
        """Seconds the cookie should live: what is left of the session."""
        return max(0, int(self.expires_at - now))


def new_record(key: str, sub: str, second_factor: bool, now: float, hours: int) -> SessionRecord:
    """A session starting ``now`` that lasts ``hours`` (the refresh token's life)."""
    start = int(now)
    return SessionRecord(key=key, sub=sub, created_at=start, expires_at=start + hours * 3600,
                         second_factor=second_factor)


@dataclass(frozen=True)
class CookieSpec:
    """The attributes the session cookie is set with (and cleared with)."""

    value: str
    max_age: int
    secure: bool
    name: str = COOKIE_NAME
    path: str = "/"
    httponly: bool = True
    #: Strict: the cookie is only ever read from the portal's own websocket and routes.
    samesite: str = "strict"


def cookie_for(session_id: str, expires_at: int, host: str, now: float) -> CookieSpec:
    """The cookie that carries ``session_id`` (until ``expires_at``) to a browser at ``host``.

    ``Secure`` unless the host is a development one reached over plain HTTP.
    """
    return CookieSpec(value=session_id, max_age=max(0, int(expires_at - now)), secure=not is_local(host))


def clearing_cookie(host: str) -> CookieSpec:
    """The cookie that replaces the session's and expires at once."""
    return CookieSpec(value="", max_age=0, secure=not is_local(host))


def is_local(host: str) -> bool:
    """True for a development host (``localhost:8501``) reached over plain HTTP."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower() in LOCAL_HOSTS


@dataclass(frozen=True)
class Binding:
    """The right, once and briefly, to put one session's id into the browser of one signed-in tab."""

    session_id: str
    sub: str
    #: The Streamlit session (one browser tab) the binding was handed to.
    tab: str
    expires_at: float
    #: When the session itself ends: the cookie's life.
    session_expires_at: int

    def admits(self, tab: str, now: float) -> str | None:
        """None when the tab presenting it may have the cookie; else the refusal's code."""
        if now >= self.expires_at:
            return "binding_expired"
        if not secrets.compare_digest(tab, self.tab):
            return "binding_other_tab"
        return None


def new_binding(session_id: str, sub: str, tab: str, session_expires_at: int,
                now: float) -> tuple[str, Binding]:
    """A binding token and what it grants, for :data:`BINDING_SECONDS`."""
    return new_token(), Binding(session_id=session_id, sub=sub, tab=tab, expires_at=now + BINDING_SECONDS,
                                session_expires_at=session_expires_at)


def same_origin(origin: str | None, fetch_site: str | None, host: str) -> bool:
    """True when a request comes from the portal's own pages (``Origin`` names ``host``).

    Browsers send ``Origin`` with every ``POST``/``DELETE`` ``fetch``; a request
    without it, or from another site (``Sec-Fetch-Site``), is refused.
    """
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    if not origin or "://" not in origin:
        return False
    return origin.split("://", 1)[1].rstrip("/").lower() == host.lower()
