"""The authorization code flow with PKCE and nonce, pure: what is sent, what is kept, what comes back.

RFC 6749 §4.1 (code flow, ``state`` against login CSRF), RFC 7636 (PKCE,
``S256`` only) and OpenID Connect Core §3.1.2.1 (``nonce``). A sign-in
*started* at ``/_docportal/signin`` is kept server-side under the hash of its
``state`` (:mod:`portal.hosted.pending`) and tied to the browser that started
it by a random value in a short-lived cookie, of which the record keeps only
the hash. The callback accepts it once, from that browser, within
:data:`PENDING_SECONDS`. The page to open afterwards rides in the record,
never in a URL the IdP hands back. No AWS, no Streamlit, no network here.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlencode, urlsplit

from portal.deep_link import DeepLink, link_for
from portal.sessions.records import NotASessionId, key_of, new_token

#: Where the browser starts a sign-in, and where the Hosted UI sends it back.
SIGNIN_ROUTE = "/_docportal/signin"
CALLBACK_ROUTE = "/_docportal/callback"
#: The cookie that ties a started sign-in to its browser (only on the callback's path).
STATE_COOKIE = "docportal_signin"
#: Seconds a started sign-in may take at the IdP (typing a password, an MFA code, a federated hop).
PENDING_SECONDS = 600
SCOPES = "openid email profile"
#: The query parameter the sign-in page reads its error code from (a code, never text).
ERROR_PARAM = "signin_error"
#: Longest ``code`` / ``state`` the callback reads; Cognito's are far shorter.
MAX_PARAM_CHARS = 2048


class Refusal(StrEnum):
    """Why a callback ended on the sign-in page; the sign-in page shows :data:`MESSAGES` for it."""

    DENIED = "denied"
    IDP_ERROR = "idp_error"
    NO_STATE_COOKIE = "no_state_cookie"
    STATE_MISMATCH = "state_mismatch"
    STATE_UNKNOWN = "state_unknown"
    EXPIRED = "expired"
    BAD_CALLBACK = "bad_callback"
    TOKEN_FAILED = "token_failed"  # noqa: S105  # an error code, not a secret
    TOKEN_INVALID = "token_invalid"  # noqa: S105
    UNAVAILABLE = "unavailable"


MESSAGES: Mapping[Refusal, str] = {
    Refusal.DENIED: "The sign-in was cancelled or refused by your company's sign-in service.",
    Refusal.IDP_ERROR: "Your company's sign-in service reported a problem. Please try again.",
    Refusal.NO_STATE_COOKIE: "This sign-in was not started in this browser. Please sign in again.",
    Refusal.STATE_MISMATCH: "This sign-in was not started in this browser. Please sign in again.",
    Refusal.STATE_UNKNOWN: "This sign-in link was already used or is unknown. Please sign in again.",
    Refusal.EXPIRED: "The sign-in took too long. Please sign in again.",
    Refusal.BAD_CALLBACK: "The sign-in service answered in a way the portal does not understand."
                          " Please sign in again.",
    Refusal.TOKEN_FAILED: "The sign-in could not be completed. Please sign in again.",
    Refusal.TOKEN_INVALID: "The sign-in could not be verified. Please sign in again.",
    Refusal.UNAVAILABLE: "The sign-in service cannot be reached right now. Please try again in a minute.",
}


def message_for(code: str | None) -> str | None:
    """The sign-in page's message for an error code in its address; a generic one for unknown codes."""
    if not code:
        return None
    try:
        return MESSAGES[Refusal(code)]
    except ValueError:
        return MESSAGES[Refusal.IDP_ERROR]


def pkce_pair() -> tuple[str, str]:
    """A PKCE ``code_verifier`` (86 characters of 43-128 allowed) and its ``S256`` challenge."""
    verifier = secrets.token_urlsafe(64)
    return verifier, s256(verifier)


def s256(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Pending:
    """A started sign-in, as kept server-side under the hash of its ``state``."""

    #: SHA-256 of the browser cookie's value: only the browser that started it may finish it.
    browser_key: str
    nonce: str
    code_verifier: str
    expires_at: float
    link: DeepLink | None = None


@dataclass(frozen=True)
class Started:
    """A new sign-in: what goes to the IdP (``state``, ``nonce``, challenge), to the cookie, and to memory."""

    state: str
    browser: str
    pending: Pending

    @property
    def code_challenge(self) -> str:
        """What the IdP gets instead of the verifier, which only the token request reveals."""
        return s256(self.pending.code_verifier)


def start(link: DeepLink | None, now: float) -> Started:
    """Fresh ``state``, nonce, PKCE verifier and browser value for one sign-in (256 bits each)."""
    browser = new_token()
    verifier, _ = pkce_pair()
    return Started(state=new_token(), browser=browser, pending=Pending(
        browser_key=key_of(browser), nonce=new_token(), code_verifier=verifier,
        expires_at=now + PENDING_SECONDS, link=link))


def authorize_url(domain: str, client_id: str, redirect_uri: str, started: Started) -> str:
    """The Hosted UI's ``/oauth2/authorize`` address for ``started``, every value URL-encoded."""
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": SCOPES, "state": started.state, "nonce": started.pending.nonce,
                       "code_challenge": started.code_challenge, "code_challenge_method": "S256"})
    return f"{domain.rstrip('/')}/oauth2/authorize?{query}"


def token_form(code: str, client_id: str, redirect_uri: str, code_verifier: str) -> dict[str, str]:
    """The token request's form body (RFC 6749 §4.1.3 plus RFC 7636 §4.5): never a query string."""
    return {"grant_type": "authorization_code", "client_id": client_id, "code": code,
            "redirect_uri": redirect_uri, "code_verifier": code_verifier}


def logout_url(domain: str, client_id: str, signout_url: str) -> str:
    """The Hosted UI's ``/logout``: ends the IdP's session too, then comes back to ``signout_url``."""
    return f"{domain.rstrip('/')}/logout?{urlencode({'client_id': client_id, 'logout_uri': signout_url})}"


@dataclass(frozen=True)
class Callback:
    """What the IdP's redirect back carried: a code and its state, or an error."""

    code: str = ""
    state: str = ""
    error: str = ""


def parse_callback(params: Mapping[str, list[str]]) -> Callback | Refusal:
    """The callback's query, or the refusal it earns (IdP error, missing or repeated values)."""
    def one(name: str) -> str | None:
        values = params.get(name) or []
        if len(values) != 1 or len(values[0]) > MAX_PARAM_CHARS:
            return None
        return values[0]

    if "error" in params:
        error = one("error") or ""
        return Refusal.DENIED if error == "access_denied" else Refusal.IDP_ERROR
    code, state = one("code"), one("state")
    if not code or not state:
        return Refusal.BAD_CALLBACK
    return Callback(code=code, state=state)


def state_key(state: str) -> str | None:
    """The memory key of a ``state`` value, or None when it is not one the portal made."""
    try:
        return key_of(state)
    except NotASessionId:
        return None


def admits(pending: Pending, browser: str | None, now: float) -> Refusal | None:
    """None when the browser holding cookie value ``browser`` may finish ``pending`` now; else why not."""
    if not browser:
        return Refusal.NO_STATE_COOKIE
    try:
        presented = key_of(browser)
    except NotASessionId:
        return Refusal.STATE_MISMATCH
    if not secrets.compare_digest(presented, pending.browser_key):
        return Refusal.STATE_MISMATCH
    if now >= pending.expires_at:
        return Refusal.EXPIRED
    return None


def next_link(next_path: str | None, pages: Collection[str], base_path: str = "") -> DeepLink | None:
    """The portal page a sign-in was started for (``/dashboard?range=90+days``), or None.

    Only a path that :mod:`portal.deep_link` maps to one of the portal's own
    pages counts; the page, never the text, is kept.
    """
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return None
    try:
        parts = urlsplit(next_path)
    except ValueError:
        return None
    query = parse_qs(parts.query, keep_blank_values=False)
    return link_for("http://portal.invalid" + parts.path, query.items(), pages, base_path)


def page_address(link: DeepLink | None, base_path: str = "") -> str:
    """The portal-relative address to open after sign-in: the link's page and query, else the home page."""
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    if link is None:
        return base + "/"
    query = urlencode([(k, v) for k, values in link.query for v in values])
    return f"{base}/{link.page}" + (f"?{query}" if query else "")


def error_address(refusal: Refusal, base_path: str = "") -> str:
    """The sign-in page with ``refusal``'s code (the page shows its fixed message, never IdP text)."""
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    return f"{base}/?{urlencode({ERROR_PARAM: refusal.value})}"

