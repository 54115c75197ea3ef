"""Verify Cognito tokens ourselves, with PyJWT. No Streamlit here.

streamlit-cognito-auth's own check fetches keys from the real AWS host and
skips ``iss`` and ``token_use``; this module checks signature (RS256 against
the pool's JWKS, cached), issuer, audience / client id, ``token_use`` and
expiry, and turns the ID token into the :class:`~portal.access.User` the
portal trusts. Who may do what is :mod:`portal.access`'s to say.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from portal.access import User

#: Seconds this server's clock may differ from Cognito's before fresh tokens look wrong.
CLOCK_SKEW_SECONDS = 30


class TokenError(Exception):
    """A token that must not be trusted."""


class TokenExpired(TokenError):
    """A token that was valid but has run out; the user signs in again."""


class KeysUnavailable(Exception):
    """The pool's signing keys could not be fetched."""


KeyResolver = Callable[[str], Any]
"""Given a JWT, return the public key that should have signed it."""


def jwks_resolver(jwks_url: str) -> KeyResolver:
    """A resolver that reads (and caches for an hour) the keys at ``jwks_url``."""
    client = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)

    def resolve(token: str) -> Any:
        try:
            return client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as e:
            raise KeysUnavailable(f"cannot fetch signing keys from {jwks_url}") from e
        except jwt.PyJWKClientError as e:
            raise TokenError(f"no key for this token: {e}") from e
        except jwt.PyJWTError as e:
            raise TokenError(f"malformed token: {e}") from e

    return resolve


@dataclass(frozen=True)
class TokenVerifier:
    """Checks tokens issued by one user pool to one app client."""

    issuer: str
    client_id: str
    resolve_key: KeyResolver
    #: Clock skew tolerated between this server and Cognito (``exp``, ``iat``), as PyJWT's leeway.
    leeway_seconds: int = CLOCK_SKEW_SECONDS

    def _decode(self, token: str, token_use: str, audience: str | None) -> dict[str, Any]:
        key = self.resolve_key(token)
        try:
            claims = jwt.decode(
                token, key, algorithms=["RS256"], audience=audience, issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"],
                         "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError as e:
            raise TokenExpired("the session has expired") from e
        except jwt.PyJWTError as e:
            raise TokenError(f"invalid {token_use} token: {e}") from e
        if claims.get("token_use") != token_use:
            raise TokenError(f"expected a {token_use} token, got {claims.get('token_use')!r}")
        return claims

    def verify_id_token(self, token: str, nonce: str | None = None) -> User:
        """The user an ID token proves, or :class:`TokenError`.

        ``nonce``: the one this sign-in sent to the Hosted UI (OIDC Core
        §3.1.3.7); the token must carry exactly it, so a token issued for
        another sign-in cannot be replayed into this one.
        """
        claims = self._decode(token, "id", audience=self.client_id)
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise TokenError("the ID token's nonce is not this sign-in's")
        groups = claims.get("cognito:groups") or []
        # A user can change their own e-mail against Cognito; until it is verified it is not who they are.
        verified = claims.get("email_verified") in (True, "true")
        return User(sub=str(claims["sub"]), email=str(claims.get("email", "")) if verified else "",
                    groups=frozenset(map(str, groups)), expires_at=int(claims["exp"]))

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """The claims of an access token issued to our client, or :class:`TokenError`."""
        claims = self._decode(token, "access", audience=None)
        if claims.get("client_id") != self.client_id:
            raise TokenError("access token was issued to another app client")
        return claims
