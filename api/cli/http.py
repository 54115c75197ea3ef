"""HTTP for the command-line client, standard library only: requests, the API's refusals, exit codes.

Redirects are never followed automatically: urllib would carry the API's
``Authorization`` header to S3, which refuses a presigned link that has one;
the export's ``303`` is followed by :func:`download`, without it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib import error, parse, request

#: Seconds to wait for an answer (a part of 8 MiB on a slow line included).
TIMEOUT = 120
#: Exit codes: done; the API (or S3) refused; usage, sign-in or an expired login; no connection.
OK, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3


class CliError(Exception):
    """A failure to report, with the exit code it ends the command with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type, body and headers (names in lower case)."""

    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body or b"null")


class _NoRedirect(request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = request.build_opener(_NoRedirect)


def _open(method: str, url: str, headers: Mapping[str, str] | None,
          body: bytes | Iterable[bytes] | None) -> Any:
    if not url.startswith(("http://", "https://")):
        raise CliError(f"{url} is not an http(s) URL", USAGE)
    req = request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310 - checked
    try:
        return _OPENER.open(req, timeout=TIMEOUT)
    except error.HTTPError as e:
        return e
    except (error.URLError, TimeoutError, ConnectionError) as e:
        host = parse.urlsplit(url).netloc
        raise CliError(f"cannot reach {host}: {getattr(e, 'reason', e)}", UNREACHABLE) from e


def send(method: str, url: str, *, headers: Mapping[str, str] | None = None,
         body: bytes | Iterable[bytes] | None = None) -> Reply:
    """One HTTP request; any status comes back as a :class:`Reply`, an unreachable host as exit code 3.

    ``body`` may be an iterable of chunks (streamed; give its Content-Length in ``headers``).
    """
    answer = _open(method, url, headers, body)
    with answer:
        try:
            data = answer.read()
        except (TimeoutError, ConnectionError) as e:
            raise CliError(f"the connection to {parse.urlsplit(url).netloc} broke: {e}", UNREACHABLE) from e
        return Reply(answer.status if hasattr(answer, "status") else answer.code,
                     answer.headers.get("content-type", ""), data,
                     {k.lower(): v for k, v in answer.headers.items()})


def download(url: str, out: IO[bytes]) -> int:
    """Stream a (presigned) link's body into ``out``; its size. A refusal is exit code 1."""
    answer = _open("GET", url, None, None)
    with answer:
        status = answer.status if hasattr(answer, "status") else answer.code
        if status != 200:
            why = answer.read(300).decode(errors="replace")
            raise CliError(f"the link answered {status}: {why}", REFUSED)
        before = out.tell() if out.seekable() else 0
        shutil.copyfileobj(answer, out, 1024 * 1024)
        return (out.tell() - before) if out.seekable() else -1


def refused(reply: Reply) -> CliError:
    """The API's refusal in words: a problem's title and detail, or API Gateway's message.

    A 401 (no valid token, or it expired) ends with exit code 2, as a failed sign-in does.
    """
    try:
        body = reply.json()
    except ValueError:
        body = None
    code = USAGE if reply.status == 401 else REFUSED
    again = " Sign in again: docportal login." if reply.status == 401 else ""
    if isinstance(body, dict) and "detail" in body:
        return CliError(f"{body.get('title', 'refused')} ({reply.status}): {body['detail']}{again}", code)
    if isinstance(body, dict) and "message" in body:
        return CliError(f"{body['message']} ({reply.status}).{again}", code)
    return CliError(f"the API answered {reply.status}.{again}", code)


@dataclass(frozen=True)
class Api:
    """The API at ``base``, called with ``bearer``."""

    base: str
    bearer: str

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        """The absolute URL of ``path`` (with ``query``)."""
        return self.base.rstrip("/") + path + (f"?{parse.urlencode(query)}" if query else "")

    def reply(self, method: str, path: str, payload: Any = None,
              query: Mapping[str, str] | None = None) -> Reply:
        """The answer to a call, whatever its status."""
        headers = {"Authorization": f"Bearer {self.bearer}"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        return send(method, self.url(path, query), headers=headers, body=body)

    def call(self, method: str, path: str, payload: Any = None,
             query: Mapping[str, str] | None = None) -> Any:
        """The JSON answer of a successful call; a refusal raises :class:`CliError`."""
        answer = self.reply(method, path, payload, query)
        if answer.status >= 300:
            raise refused(answer)
        return answer.json()
