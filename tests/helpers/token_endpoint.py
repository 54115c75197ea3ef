"""A local stand-in for the Hosted UI's OAuth endpoints (moto has none): authorize, token, JWKS, logout.

It behaves like Cognito where the portal's safety depends on it: codes are
single-use and bound to the client, ``redirect_uri`` and PKCE challenge they
were issued for (``S256`` only); the token request must be a form body
(no query string) with the client authenticated as configured (public:
``client_id`` in the body; with a secret: HTTP Basic). Tokens are RS256 with
a key the :class:`~portal.tokens.TokenVerifier` it hands out trusts.
``/oauth2/authorize`` signs in whoever :attr:`TokenEndpoint.user` is at once
(or answers ``error=access_denied`` when :attr:`deny` is set). It listens on
127.0.0.1 at the first free port of ``ports`` (by default one the system picks).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.access import RESOURCE_SERVER
from portal.hosted.flow import s256
from portal.tokens import TokenVerifier, jwks_resolver

KID = "local-test-key"


@dataclass(frozen=True)
class IdpUser:
    sub: str
    email: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Grant:
    user: IdpUser
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str


@dataclass
class TokenEndpoint:
    """One local IdP for one app client."""

    client_id: str
    redirect_uri: str
    client_secret: str = ""
    ports: Iterable[int] = (0,)
    user: IdpUser = IdpUser(sub="sub-sso-1", email="ada@example.com", groups=("uploaders",))
    deny: bool = False
    #: HTTP status the token endpoint answers with instead of tokens (0: answer normally).
    fail_with: int = 0
    #: Every token request's (status, error) as answered: what the portal sent and how it fared.
    answered: list[tuple[int, str]] = field(default_factory=list)
    issued_refresh_tokens: list[str] = field(default_factory=list)
    #: The query of every ``/logout`` the browser was sent to.
    logouts: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server = _bind(self.ports, self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/pool"

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(issuer=self.issuer, client_id=self.client_id,
                             resolve_key=jwks_resolver(f"{self.url}/jwks.json"))

    def __enter__(self) -> TokenEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def code_for(self, challenge: str, nonce: str, redirect_uri: str | None = None) -> str:
        """A code as ``/oauth2/authorize`` would issue it (for tests that skip the browser's hop)."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(self.user, self.client_id, redirect_uri or self.redirect_uri,
                                       challenge, nonce)
        return code

    def id_token(self, nonce: str, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": self.user.sub, "token_use": "id",
                  "iat": now, "exp": now + 3600, "nonce": nonce, "email": self.user.email,
                  "email_verified": True, "cognito:groups": list(self.user.groups)}
        claims.update(overrides)
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KID})

    def machine_token(self, *scopes: str, expires_in: int = 3600) -> str:
        """A client-credentials access token of this endpoint's app client, with the claims Cognito gives
        one (``scopes`` like ``data.read``, under the DocPortal resource server): what moto cannot issue."""
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.client_id, "client_id": self.client_id, "token_use": "access",
                  "scope": " ".join(f"{RESOURCE_SERVER}/{s}" for s in scopes), "auth_time": now, "iat": now,
                  "exp": now + expires_in, "version": 2, "jti": secrets.token_hex(16)}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KID})

    def access_token(self) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "client_id": self.client_id, "sub": self.user.sub,
                  "token_use": "access", "iat": now, "exp": now + 3600, "scope": "openid email profile"}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KID})

    # --- what the server answers -------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def authorize(self, query: dict[str, list[str]]) -> tuple[int, str]:
        """``(status, Location or error)`` for a ``GET /oauth2/authorize``."""
        one = {k: v[0] for k, v in query.items() if len(v) == 1}
        if one.get("client_id") != self.client_id or one.get("redirect_uri") != self.redirect_uri:
            return 400, "redirect_mismatch"
        if one.get("response_type") != "code" or one.get("code_challenge_method") != "S256" \
                or not one.get("code_challenge") or not one.get("state"):
            return 400, "invalid_request"
        if self.deny:
            return 302, f"{self.redirect_uri}?{urlencode({'error': 'access_denied', 'state': one['state']})}"
        code = self.code_for(one["code_challenge"], one.get("nonce", ""))
        return 302, f"{self.redirect_uri}?{urlencode({'code': code, 'state': one['state']})}"

    def token(self, query: str, content_type: str, authorization: str, body: str) -> tuple[int, dict[str, Any]]:
        """``(status, JSON)`` for a ``POST /oauth2/token``, checked as Cognito checks it."""
        status, answer = self._token(query, content_type, authorization, body)
        self.answered.append((status, str(answer.get("error", ""))))
        return status, answer

    def _token(self, query: str, content_type: str, authorization: str,
               body: str) -> tuple[int, dict[str, Any]]:
        if self.fail_with:
            return self.fail_with, {"error": "server_error"}
        if query or not content_type.startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request"}
        form = {k: v[0] for k, v in parse_qs(body).items() if len(v) == 1}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        if not self._client_authenticated(form, authorization):
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use, whatever happens next
        if grant is None or grant.client_id != form.get("client_id") \
                or grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        if not verifier or not secrets.compare_digest(s256(verifier), grant.challenge):
            return 400, {"error": "invalid_grant"}
        tokens = self.issue(grant)
        self.issued_refresh_tokens.append(tokens["refresh_token"])
        return 200, tokens

    def issue(self, grant: _Grant) -> dict[str, Any]:
        """The tokens a good code buys: this endpoint's own."""
        return {"id_token": self.id_token(grant.nonce), "access_token": self.access_token(),
                "refresh_token": secrets.token_urlsafe(32), "expires_in": 3600, "token_type": "Bearer"}

    def _client_authenticated(self, form: dict[str, str], authorization: str) -> bool:
        if not self.client_secret:
            return form.get("client_id") == self.client_id and not authorization
        if not authorization.startswith("Basic "):
            return False
        pair = base64.b64decode(authorization[6:]).decode()
        client_id, _, secret = pair.partition(":")
        return unquote(client_id) == self.client_id and unquote(secret) == self.client_secret


def _bind(ports: Iterable[int], endpoint: TokenEndpoint) -> ThreadingHTTPServer:
    handler = _handler(endpoint)
    for port in ports:
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
    raise RuntimeError("no free port for the local token endpoint")


def _handler(endpoint: TokenEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/jwks.json":
                self._send(200, json.dumps(endpoint.jwks()).encode(), {"Content-Type": "application/json"})
            elif parts.path == "/oauth2/authorize":
                status, where = endpoint.authorize(parse_qs(parts.query))
                if status == 302:
                    self._send(302, headers={"Location": where})
                else:
                    self._send(status, where.encode())
            elif parts.path == "/logout":
                query = parse_qs(parts.query)
                endpoint.logouts.append({k: v[0] for k, v in query.items()})
                self._send(302, headers={"Location": query.get("logout_uri", ["/"])[0]})
            else:
                self._send(404)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/oauth2/token":
                self._send(404)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            status, answer = endpoint.token(parts.query, self.headers.get("Content-Type", ""),
                                            self.headers.get("Authorization", ""), body)
            self._send(status, json.dumps(answer).encode(), {"Content-Type": "application/json"})

    return Handler


@dataclass
class CognitoBackedEndpoint(TokenEndpoint):
    """A Hosted UI for a whole running portal: it signs :attr:`login` in at the (moto) pool itself.

    The portal resumes a session by trading its refresh token with Cognito, so
    the tokens must be the pool's: the refresh and access tokens are moto's
    own, and the ID token is moto's with the sign-in's ``nonce`` added, signed
    again with moto's published test key (what the real Hosted UI's would be:
    the pool's token, with the nonce).
    """

    cognito: Any = None
    login: tuple[str, str] = ("", "")

    def issue(self, grant: _Grant) -> dict[str, Any]:
        email, password = self.login
        result = self.cognito.initiate_auth(
            ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password})["AuthenticationResult"]
        claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
        id_token = signed_by_moto({**claims, "nonce": grant.nonce})
        return {"id_token": id_token, "access_token": result["AccessToken"],
                "refresh_token": result["RefreshToken"], "expires_in": 3600, "token_type": "Bearer"}


def signed_by_moto(claims: dict[str, Any]) -> str:
    """``claims`` as a token of the moto pool (signed with its key), e.g. one that expired."""
    key = _moto_key()
    return jwt.encode(claims, key["pem"], algorithm="RS256", headers={"kid": key["kid"]})


def _moto_key() -> dict[str, Any]:
    """moto's fixed test signing key (shipped with moto; what its JWKS publishes)."""
    import gzip
    from importlib import resources

    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    jwk = json.loads(gzip.decompress(raw))
    return {"kid": jwk["kid"], "pem": jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))}
