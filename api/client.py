"""``python -m api.client``: upload, list and read files through the API, from a script or a shell.

Standard library only, so it runs wherever Python does. A token comes from,
in order: ``DOCPORTAL_API_TOKEN`` as it is; a script's client credentials
(``DOCPORTAL_MACHINE_CLIENT_ID`` and ``_SECRET``) at the pool's token
endpoint (``DOCPORTAL_TOKEN_URL``, the stack's ``TokenUrl`` output); or
``--user EMAIL`` with ``DOCPORTAL_API_PASSWORD`` (or a prompt), signed in at
the pool with the portal's app client. The API is ``DOCPORTAL_API_URL``
(default ``make run``'s, ``http://127.0.0.1:8502``). Exit codes: 0 done, 1 the
API refused (its problem's detail is printed), 2 usage or sign-in, 3 the API
or the pool could not be reached.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import mimetypes
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib import error, parse, request

from common.settings import Settings

TIMEOUT = 60


class ClientError(Exception):
    """A failure to report, with the exit code it ends the command with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type and body."""

    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body or b"null")


def send(method: str, url: str, *, headers: Mapping[str, str] | None = None,
         body: bytes | None = None) -> Reply:
    """One HTTP request; any status comes back as a :class:`Reply`, an unreachable host as exit code 3."""
    req = request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310 - http(s) only
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"{url} is not an http(s) URL", 2)
    try:
        with request.urlopen(req, timeout=TIMEOUT) as answer:  # noqa: S310 - checked above
            return Reply(answer.status, answer.headers.get("content-type", ""), answer.read())
    except error.HTTPError as e:
        return Reply(e.code, e.headers.get("content-type", ""), e.read())
    except (error.URLError, TimeoutError, ConnectionError) as e:
        raise ClientError(f"cannot reach {url}: {getattr(e, 'reason', e)}", 3) from e


def refused(reply: Reply) -> ClientError:
    """The API's refusal in words: a problem's title and detail, or API Gateway's message."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "detail" in body:
        return ClientError(f"{body.get('title', 'refused')} ({reply.status}): {body['detail']}", 1)
    if isinstance(body, dict) and "message" in body:
        return ClientError(f"{body['message']} ({reply.status}): sign in again or check the token", 1)
    return ClientError(f"the API answered {reply.status}", 1)


# --- tokens ------------------------------------------------------------------------------


def token(settings: Settings, user: str | None) -> str:
    """A bearer token for the API, from the first source the settings (or ``--user``) give."""
    if settings.api_token:
        return settings.api_token
    if user:
        return _password_token(settings, user)
    if settings.machine_client_id and settings.machine_client_secret and settings.token_url:
        return _client_credentials(settings)
    raise ClientError("no token: set DOCPORTAL_API_TOKEN, or DOCPORTAL_MACHINE_CLIENT_ID, _SECRET and "
                      "DOCPORTAL_TOKEN_URL, or sign in with --user EMAIL", 2)


def _client_credentials(settings: Settings) -> str:
    pair = f"{settings.machine_client_id}:{settings.machine_client_secret}".encode()
    grant = parse.urlencode({"grant_type": "client_credentials"}).encode()
    reply = send("POST", settings.token_url, body=grant,
                 headers={"Authorization": "Basic " + base64.b64encode(pair).decode(),
                          "Content-Type": "application/x-www-form-urlencoded"})
    if reply.status != 200:
        raise ClientError(f"the token endpoint refused the client credentials ({reply.status})", 2)
    return str(reply.json()["access_token"])


def _password_token(settings: Settings, user: str) -> str:
    """A person's ID token from the pool (Cognito's InitiateAuth, which needs no AWS credentials)."""
    if not settings.client_id or not settings.region:
        raise ClientError("--user needs DOCPORTAL_CLIENT_ID and AWS_REGION (or make run's stack)", 2)
    password = settings.api_password or getpass.getpass(f"Password for {user}: ")
    endpoint = settings.endpoint_url or f"https://cognito-idp.{settings.region}.amazonaws.com"
    body = json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": settings.client_id,
                       "AuthParameters": {"USERNAME": user, "PASSWORD": password}}).encode()
    reply = send("POST", endpoint.rstrip("/") + "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    result = reply.json() if reply.status == 200 else {}
    tokens = result.get("AuthenticationResult") if isinstance(result, dict) else None
    if not tokens:
        why = result.get("ChallengeName") if isinstance(result, dict) else None
        reason = (f"the pool asks for {why}, which this client cannot answer" if why
                  else "wrong e-mail or password")
        raise ClientError(f"sign-in as {user} failed: {reason}", 2)
    return str(tokens["IdToken"])


# --- commands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    """The API at ``base``, called with ``bearer``."""

    base: str
    bearer: str

    def call(self, method: str, path: str, payload: Any = None,
             query: Mapping[str, str] | None = None) -> Any:
        """The JSON answer of a successful call; a refusal raises :class:`ClientError`."""
        url = self.base.rstrip("/") + path + (f"?{parse.urlencode(query)}" if query else "")
        headers = {"Authorization": f"Bearer {self.bearer}"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        reply = send(method, url, headers=headers, body=body)
        if reply.status >= 300:
            raise refused(reply)
        return reply.json()


def multipart(fields: Mapping[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body: the presigned fields first, the file last (as S3 requires)."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    safe = name.replace('"', "_").replace("\r", "_").replace("\n", "_")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(api: Api, path: Path, tags: Sequence[str]) -> dict[str, Any]:
    """Register the file, send it straight to S3 with the form the API returned; its registration."""
    data = path.read_bytes()
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    created: dict[str, Any] = api.call("POST", "/v1/uploads", {"name": path.name, "size": len(data),
                                                               "content_type": kind, "tags": list(tags)})
    form = created["upload"]
    body, content_type = multipart(form["fields"], path.name, data)
    reply = send("POST", form["url"], body=body, headers={"Content-Type": content_type})
    if reply.status >= 300:
        raise ClientError(f"{path.name}: S3 refused the upload ({reply.status}): "
                          f"{reply.body[:300].decode(errors='replace')}", 1)
    return created


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    """Run one command; returns its exit code."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m api.client", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--user", help="sign in as this person (DOCPORTAL_API_PASSWORD, or asked)")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upload", help="upload files straight to S3")
    up.add_argument("paths", nargs="+", type=Path)
    up.add_argument("--tag", action="append", default=[], help="a tag for every file (repeatable)")
    listing = commands.add_parser("list", help="your files, newest first")
    listing.add_argument("--json", action="store_true", help="the API's JSON instead of a table")
    listing.add_argument("--status", help="only these statuses, comma-separated")
    one = commands.add_parser("get", help="one file with its metadata, as JSON")
    one.add_argument("file_id")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(need_stack=False)
        api = Api(settings.api_url or f"http://127.0.0.1:{settings.api_port}", token(settings, args.user))
        if args.command == "upload":
            missing = [str(p) for p in args.paths if not p.is_file()]
            if missing:
                raise ClientError(f"no such file: {', '.join(missing)}", 2)
            for path in args.paths:
                created = upload(api, path, args.tag)
                print(f"{created['file_id']}  {path.name}  stored ({created['status']})", file=out)
        elif args.command == "list":
            page = api.call("GET", "/v1/files", query={"status": args.status} if args.status else None)
            if args.json:
                print(json.dumps(page, indent=2), file=out)
            for f in [] if args.json else page["files"]:
                print(f"{f['file_id']}  {f['status']:<10} {f['size'] if f['size'] is not None else '-':>10}  "
                      f"{f['name']}", file=out)
        else:
            print(json.dumps(api.call("GET", f"/v1/files/{parse.quote(args.file_id, safe='')}"), indent=2),
                  file=out)
    except ClientError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
