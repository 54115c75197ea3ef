"""The API on ``make run``: the same Lambda handler, behind what API Gateway's HTTP API does for it.

moto has no API Gateway, so this small HTTP server stands in for it on
127.0.0.1 (``DOCPORTAL_API_PORT``, 8502): it checks the bearer token as the
HTTP API's JWT authorizer does (signature against the pool's JWKS, issuer,
expiry, and ``aud`` or, for access tokens, ``client_id`` among the template's
audiences), passes its claims as API Gateway does (strings; lists as
``"[a b]"``) in a payload 2.0 event, and answers with what
:func:`api.app.lambda_handler` returns. No route is implemented here: the
routes that need no token are read from the template.

moto's pool issues no client-credentials tokens, so scripts' tokens cannot be
had from it. Tests that need them pass :func:`server` a second
:class:`Authorizer` (their own token issuer, ``also_trust``); ``make run``
(:func:`main`) never does, so locally only the pool's tokens are accepted.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt

from api import app as api_app
from common.settings import Settings
from devstack import template as tpl
from portal.tokens import CLOCK_SKEW_SECONDS, KeyResolver, KeysUnavailable, TokenError, jwks_resolver

logger = logging.getLogger(__name__)

#: What API Gateway answers when the authorizer refuses a token.
UNAUTHORIZED = {"message": "Unauthorized"}


def public_routes(template: Mapping[str, Any]) -> frozenset[str]:
    """The route keys (``GET /v1/openapi.json``) the template serves without a token."""
    return frozenset(r["Properties"]["RouteKey"] for r in tpl.resources_of_type(
        template, "AWS::ApiGatewayV2::Route").values() if r["Properties"].get("AuthorizationType") == "NONE")


def flattened(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them to the function: every value a string, a list as ``"[a b]"``."""
    out = {}
    for name, value in claims.items():
        if isinstance(value, list):
            out[name] = "[" + " ".join(map(str, value)) + "]"
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


@dataclass(frozen=True)
class Authorizer:
    """The HTTP API's JWT authorizer: one issuer, the audiences it accepts."""

    issuer: str
    audiences: frozenset[str]
    resolve_key: KeyResolver

    def claims(self, authorization: str | None) -> dict[str, str] | None:
        """The claims of a valid ``Bearer`` token, flattened; None for a missing or invalid one."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            key = self.resolve_key(token.strip())
            claims = jwt.decode(token.strip(), key, algorithms=["RS256"], issuer=self.issuer,
                                leeway=CLOCK_SKEW_SECONDS,
                                options={"require": ["exp", "iss"], "verify_aud": False})
        except (jwt.PyJWTError, TokenError, KeysUnavailable) as e:
            logger.info("token refused: %s", e)
            return None
        audience = claims.get("aud", claims.get("client_id"))
        if audience not in self.audiences:
            logger.info("token refused: audience %r is not the API's", audience)
            return None
        return flattened(claims)


def issuer_of(authorization: str | None) -> str:
    """The ``iss`` a bearer token claims, unverified: only to pick the authorizer that then verifies it."""
    token = (authorization or "").partition(" ")[2].strip()
    try:
        return str(jwt.decode(token, options={"verify_signature": False}).get("iss", ""))
    except jwt.PyJWTError:
        return ""


def event(method: str, target: str, headers: Mapping[str, str], body: bytes,
          claims: Mapping[str, str] | None, source_ip: str) -> dict[str, Any]:
    """The payload 2.0 event API Gateway's HTTP API gives a Lambda proxy integration."""
    url = urlsplit(target)
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value  # as API Gateway joins repeats
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "123456789012", "apiId": "local", "domainName": headers.get("host", "localhost"),
        "domainPrefix": "local", "requestId": f"local-{now:.6f}", "routeKey": "$default", "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
        "http": {"method": method, "path": url.path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                 "userAgent": headers.get("user-agent", "")},
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    return {"version": "2.0", "routeKey": "$default", "rawPath": url.path, "rawQueryString": url.query,
            "headers": dict(headers), "queryStringParameters": query or None, "requestContext": context,
            "body": text or None, "isBase64Encoded": encoded}


def handler_class(authorizers: tuple[Authorizer, ...],
                  public: frozenset[str]) -> type[BaseHTTPRequestHandler]:
    """A request handler that authorizes (with the authorizer of the token's issuer), builds the event and
    answers with the Lambda's response."""
    by_issuer = {a.issuer: a for a in authorizers}

    class Handler(BaseHTTPRequestHandler):
        server_version = "DocPortalLocalApi"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            route = f"{self.command} {urlsplit(self.path).path}"
            authorizer = by_issuer.get(issuer_of(headers.get("authorization")), authorizers[0])
            claims = authorizer.claims(headers.get("authorization"))
            if claims is None and route not in public:
                self._answer(401, {"content-type": "application/json"}, json.dumps(UNAUTHORIZED).encode())
                return
            result = api_app.lambda_handler(
                event(self.command, self.path, headers, body, claims, self.client_address[0]), None)  # type: ignore[arg-type]
            raw = result.get("body") or ""
            data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
            answer_headers = dict(result.get("headers") or {})
            for name, values in (result.get("multiValueHeaders") or {}).items():
                answer_headers.setdefault(name, ", ".join(values))
            self._answer(int(result["statusCode"]), answer_headers, data)

        def _answer(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            """Every method (``do_GET``, ``do_TRACE``, ``do_QUERY``, …) is served: API Gateway answers them
            all, a route that is not there with a 404, never a 501."""
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("%s %s", self.address_string(), format % args)

    return Handler


def server(settings: Settings, port: int, host: str = "127.0.0.1", *,
           also_trust: Authorizer | None = None) -> ThreadingHTTPServer:
    """A server for the stack in ``settings`` (its pool's keys and its portal client as audience), and, for
    tests only, ``also_trust``: a second issuer (their stand-in for the machine client's tokens)."""
    keys = jwks_resolver(settings.jwks_url)
    authorizers = (Authorizer(settings.issuer, frozenset({settings.client_id}), keys),
                   *((also_trust,) if also_trust else ()))
    return ThreadingHTTPServer((host, port), handler_class(authorizers, public_routes(tpl.load())))


def main(argv: list[str] | None = None) -> int:
    """Serve the API for the stack the environment (or ``.local/stack.json``) names, until stopped."""
    parser = argparse.ArgumentParser(prog="python -m devstack.api_server",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, help="port on 127.0.0.1 (default DOCPORTAL_API_PORT, 8502)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s api %(levelname)s %(message)s")
    settings = Settings.from_env()
    port = args.port or settings.api_port
    with server(settings, port) as httpd:
        print(f"DocPortal API on http://127.0.0.1:{port} (Swagger UI: /v1/docs, document: /v1/openapi.json)",
              flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
