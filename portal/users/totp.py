"""Authenticator-app (TOTP) helpers. Pure: no AWS, no Streamlit.

:mod:`portal.mfa` talks to Cognito; this module holds what needs no network:
checking the code a person types, the ``otpauth://`` URI (and its QR code)
an authenticator app scans, and the MFA status read from ``GetUser``.
Cognito's TOTP is RFC 6238 with its defaults (SHA-1, 6 digits, 30 seconds),
so those are stated in the URI for apps that do not assume them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import segno

ISSUER = "DocPortal"
DIGITS = 6
PERIOD_SECONDS = 30
SOFTWARE_TOKEN_MFA = "SOFTWARE_TOKEN_MFA"  # noqa: S105 - Cognito's name for TOTP, not a secret

_CODE = re.compile(rf"[0-9]{{{DIGITS}}}")  # not \d: it matches other scripts' digits too
_SEPARATORS = re.compile(r"[\s-]+")


class InvalidCode(ValueError):
    """What was typed is not a 6-digit code; the message is for people."""


@dataclass(frozen=True)
class MfaStatus:
    """Whether the user's sign-in asks for an authenticator code."""

    totp_enabled: bool
    totp_preferred: bool

    @property
    def asks_for_code(self) -> bool:
        """True when Cognito will answer a password with the SOFTWARE_TOKEN_MFA challenge."""
        return self.totp_enabled


def normalize_code(raw: str) -> str:
    """The 6 digits of ``raw``; apps show codes as ``123 456``, so spaces and dashes are dropped.

    Raises
    ------
    InvalidCode
        When ``raw`` is not exactly six digits (Cognito would refuse it anyway,
        and the message here is clearer).
    """
    code = _SEPARATORS.sub("", raw or "")
    if not code:
        raise InvalidCode("Please enter the 6-digit code from your authenticator app.")
    if not _CODE.fullmatch(code):
        raise InvalidCode("The code is the 6 digits your authenticator app shows, e.g. 123 456.")
    return code


def otpauth_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """The key URI an authenticator app scans (Google Authenticator's ``otpauth://`` format).

    The label is ``issuer:account`` and the issuer is repeated as a parameter,
    so apps old and new show "DocPortal (name@example.com)".
    """
    if not secret:
        raise ValueError("an authenticator secret is needed")
    label = f"{quote(issuer, safe='')}:{quote(account, safe='@')}"
    query = urlencode({"secret": secret.replace(" ", "").upper(), "issuer": issuer,
                       "algorithm": "SHA1", "digits": DIGITS, "period": PERIOD_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    compact = secret.replace(" ", "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def qr_png(uri: str, scale: int = 6) -> bytes:
    """A PNG QR code of ``uri`` (segno writes PNG itself, no Pillow needed)."""
    buffer = io.BytesIO()
    segno.make_qr(uri, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def status_from_user(response: Mapping[str, Any]) -> MfaStatus:
    """The MFA status in a ``GetUser`` response (absent lists mean no MFA)."""
    enabled = SOFTWARE_TOKEN_MFA in (response.get("UserMFASettingList") or [])
    return MfaStatus(totp_enabled=enabled,
                     totp_preferred=response.get("PreferredMfaSetting") == SOFTWARE_TOKEN_MFA)
