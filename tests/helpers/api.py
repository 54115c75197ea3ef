"""API Gateway HTTP API (payload 2.0) events with JWT claims, as its authorizer passes them, and callers.

Claims arrive as API Gateway gives them to the Lambda: strings, a list claim
flattened to ``"[a b]"``. :func:`person` and :func:`machine` make the claims
of a Cognito ID token and of a client-credentials access token.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import requests

from api import app as api_app
from common import aws
from common.settings import Settings
from extractor.processor import Deps, process_message
from portal.access import RESOURCE_SERVER
from tests.helpers.events import object_created

CLIENT = "4s0vpn1c7demo1client1abcd"
PROBLEM = "application/problem+json"
_SEQUENCERS = itertools.count(0x2000)


def person(sub: str, *groups: str, email: str = "", expires_at: int | None = None) -> dict[str, str]:
    """The claims of a person's Cognito ID token, as API Gateway passes them."""
    claims = {"sub": sub, "cognito:username": sub, "token_use": "id", "aud": CLIENT,
              "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test",
              "exp": str(expires_at if expires_at is not None else int(time.time()) + 3600),
              "email": email or f"{sub[:8]}@example.com", "email_verified": "true"}
    if groups:
        claims["cognito:groups"] = f"[{' '.join(groups)}]"
    return claims


def machine(client_id: str, *scopes: str, expires_at: int | None = None) -> dict[str, str]:
    """The claims of an app client's client-credentials access token (``scopes`` like ``data.read``)."""
    return {"sub": client_id, "client_id": client_id, "token_use": "access",
            "scope": " ".join(f"{RESOURCE_SERVER}/{s}" for s in scopes),
            "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test",
            "exp": str(expires_at if expires_at is not None else int(time.time()) + 3600)}


def event(method: str, path: str, *, claims: Mapping[str, str] | None = None,
          query: Mapping[str, str] | None = None, body: Any = None,
          content_type: str = "application/json") -> dict[str, Any]:
    """An HTTP API payload 2.0 event for ``method path``, authorized with ``claims`` (None: no token)."""
    context: dict[str, Any] = {
        "accountId": "123456789012", "apiId": "api1", "domainName": "api1.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "api1", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                         "sourceIp": "192.0.2.1", "userAgent": "tests"},
        "requestId": "req-1", "routeKey": "$default", "stage": "$default", "time": "01/Dec/2026:10:00:00 +0000",
        "timeEpoch": 1796119200000,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    text = "" if body is None else json.dumps(body)
    return {"version": "2.0", "routeKey": "$default", "rawPath": path,
            "rawQueryString": urlencode(query or {}), "cookies": [],
            "headers": {"content-type": content_type, "host": context["domainName"]},
            "queryStringParameters": dict(query) if query else None, "requestContext": context,
            "body": text or None, "isBase64Encoded": False}


def call(handler: Any, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """Run ``handler`` on the event; returns status, headers and the body (JSON decoded when it is JSON)."""
    response = handler(event(method, path, **kwargs), None)
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    body = response.get("body") or ""
    if "json" in headers.get("content-type", ""):
        body = json.loads(body)
    return response["statusCode"], headers, body


def api(method: str, path: str, claims: Mapping[str, str] | None, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """:func:`call` the API's Lambda handler as ``claims``' owner."""
    return call(api_app.lambda_handler, method, path, claims=claims, **kwargs)


def signed_in(server: Any, email: str, password: str, client_id: str | None = None) -> dict[str, str]:
    """The tokens (``IdToken``, ``AccessToken``, …) of ``email``'s password sign-in at ``server``'s pool."""
    result = server.client("cognito-idp").initiate_auth(
        ClientId=client_id or server.settings.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password})
    return dict(result["AuthenticationResult"])


def problem_type(body: Mapping[str, Any]) -> str:
    """The stable name of a problem's ``type`` (``urn:docportal:problem:<name>``)."""
    return str(body["type"]).rsplit(":", 1)[-1]


def upload_through_api(stack: Settings, claims: Mapping[str, str], name: str, body: bytes, *,
                       process: bool = True) -> str:
    """A file created with ``POST /v1/uploads``, its object sent with the form, then processed by the extractor."""
    status, _, created = api("POST", "/v1/uploads", claims, body={"name": name, "size": len(body), "content_type": "application/pdf"})
    assert status == 201, created
    form = created["upload"]
    sent = requests.post(form["url"], data=form["fields"], files={"file": (name, body)}, timeout=10)
    assert sent.status_code == 204, sent.text
    if process:
        process_object(stack, created["key"])
    return str(created["file_id"])


def send_parts(links: Mapping[str, Any], body: bytes, *, only: int | None = None) -> list[dict[str, Any]]:
    """PUT ``body``'s parts to a multipart upload's presigned part links (the first ``only``); their ETags."""
    size = int(links["part_size"])
    done = []
    for link in links["parts"][:only]:
        number = int(link["part_number"])
        sent = requests.put(link["url"], data=body[(number - 1) * size:number * size], timeout=30)
        assert sent.status_code == 200, sent.text
        done.append({"part_number": number, "etag": sent.headers["ETag"]})
    return done


def process_object(stack: Settings, key: str) -> None:
    """Hand the extractor the Object Created event of ``key``, as the queue would."""
    s3 = aws.client("s3")
    message = object_created(s3, stack.bucket, key, f"{next(_SEQUENCERS):X}")
    process_message(message, 1, Deps(s3=s3, ddb=aws.client("dynamodb"), table=stack.table))


@contextmanager
def serving(settings: Settings, port: int, also_trust: Any = None) -> Iterator[str]:
    """``make run``'s API server (devstack.api_server) for ``settings`` on ``port``, in a thread; its base URL.

    ``also_trust``: an :class:`~devstack.api_server.Authorizer` for a second issuer (machine tokens)."""
    from devstack import api_server

    httpd = api_server.server(settings, port, also_trust=also_trust)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
