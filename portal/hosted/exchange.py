"""The token request: trade an authorization code for tokens at the Hosted UI's ``/oauth2/token``.

A ``POST`` with an ``application/x-www-form-urlencoded`` body (RFC 6749
§4.1.3), the PKCE verifier in it, and client authentication as the app
client is configured: a public client names itself with ``client_id``; a
client with a secret also sends HTTP Basic with both URL-encoded (§2.3.1).
Nothing the endpoint says is shown to anyone; it is logged and classified.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from urllib.parse import quote

import requests

from portal.hosted.flow import Refusal, token_form

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


class ExchangeFailed(Exception):
    """The code could not be traded for tokens; ``refusal`` says which message the user gets."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint issued."""

    id_token: str
    access_token: str
    refresh_token: str


def exchange(domain: str, client_id: str, client_secret: str, redirect_uri: str, code: str,
             code_verifier: str) -> Tokens:
    """The tokens ``code`` is worth, or :class:`ExchangeFailed`."""
    headers = {"Accept": "application/json"}
    if client_secret:
        pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    try:
        response = requests.post(f"{domain.rstrip('/')}/oauth2/token", headers=headers,
                                 timeout=TIMEOUT_SECONDS, allow_redirects=False,
                                 data=token_form(code, client_id, redirect_uri, code_verifier))
    except requests.RequestException:
        logger.exception("the token endpoint cannot be reached")
        raise ExchangeFailed(Refusal.UNAVAILABLE) from None
    if response.status_code >= 500:
        logger.error("the token endpoint failed: HTTP %s", response.status_code)
        raise ExchangeFailed(Refusal.UNAVAILABLE)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        logger.warning("the token endpoint refused the code: HTTP %s %r", response.status_code, error)
        raise ExchangeFailed(Refusal.TOKEN_FAILED)
    fields = [body.get(k) for k in ("id_token", "access_token", "refresh_token")]
    tokens = [f for f in fields if isinstance(f, str) and f]
    if len(tokens) != len(fields):
        logger.warning("the token endpoint's answer lacks a token")
        raise ExchangeFailed(Refusal.TOKEN_FAILED)
    return Tokens(*tokens)
