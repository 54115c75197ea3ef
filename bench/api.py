"""Benchmark: the API's latency over HTTP against the same service call made in-process.

A moto server of its own is provisioned from the template, and the API is
served as ``make run`` serves it (``python -m devstack.api_server``: the JWT
authorizer's stand-in, then :func:`api.app.lambda_handler`). Each figure is
the p50 and p95 of many calls over one keep-alive connection. The baseline
is the same service call made in this process against the same server (the
portal's own read of the caller's files; the same registration and signing
for create-upload), taken turn about with the HTTP calls so a busy spell
slows both sides, so the ratio is what the API layer adds: HTTP, the token
check, the event, routing, validation and JSON.

:func:`upload_rows` times a large file sent through the API as the
``docportal`` client sends it (registered, then its parts PUT straight to S3
with presigned links, then completed) against a plain boto3 ``upload_file``
of the same file to the same server (what ``aws s3 cp`` does: multipart, 8 MiB
parts, ten threads), the two taking turns.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt

from api import identity
from api.cli import transfer
from api.cli.http import Api
from bench import pipeline
from common.schema.keys import file_key
from common.schema.record import from_item
from common.settings import Settings
from devstack import processes
from portal.files import service, uploads
from portal.files.explorer import FileFilters

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Bench-api-2026!"  # noqa: S105  (a throwaway user on a throwaway stack)
#: Files the caller owns when its list is timed (one page of the API's default 50).
FILES = 60
_AWS = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _percentile(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _sign_in(stack: pipeline.Stack) -> tuple[str, dict[str, Any]]:
    """A fresh uploader's ID token on the stack's pool, and its claims."""
    cognito, s = stack.client("cognito-idp"), stack.settings
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    cognito.admin_create_user(UserPoolId=s.user_pool_id, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=s.user_pool_id, Username=email, Password=PASSWORD,
                                    Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=s.user_pool_id, Username=email, GroupName="uploaders")
    token = cognito.initiate_auth(ClientId=s.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": email, "PASSWORD": PASSWORD})["AuthenticationResult"]["IdToken"]
    return token, jwt.decode(token, options={"verify_signature": False})


class _Http:
    """One keep-alive connection to the local API, with the caller's token."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
        self.conn.request(method, path, body=json.dumps(body) if body else None, headers=self.headers)
        answer = self.conn.getresponse()
        data = answer.read()
        if answer.status != expect:
            raise RuntimeError(f"{method} {path} answered {answer.status}: {data[:300]!r}")
        return json.loads(data)


def _taking_turns(sides: list[Callable[[], object]], calls: int) -> list[list[float]]:
    """Seconds per call of each side, the sides called in turn ``calls`` times each."""
    times: list[list[float]] = [[] for _ in sides]
    for _ in range(calls):
        for i, side in enumerate(sides):
            started = time.perf_counter()
            side()
            times[i].append(time.perf_counter() - started)
    return times


def _row(name: str, api: list[float], direct: list[float]) -> list[tuple[str, str, str, str]]:
    rows = []
    for label, q in (("p50", 0.50), ("p95", 0.95)):
        ours, theirs = _percentile(api, q), _percentile(direct, q)
        rows.append((f"API {name}: {label}", f"{ours * 1000:.1f} ms", f"{theirs * 1000:.1f} ms in-process",
                     f"{ours / theirs:.2f}"))
    return rows


@contextlib.contextmanager
def _serving(**settings: str) -> Iterator[tuple[pipeline.Stack, int, Path]]:
    """A stack of its own and ``make run``'s API server for it (with ``settings`` added); its port."""
    with tempfile.TemporaryDirectory(prefix="docportal-bench-api-") as tmp, \
            pipeline.local_stack(Path(tmp)) as stack:
        port = processes.free_port()
        env = {k: v for k, v in os.environ.items() if k not in _AWS and not k.startswith("DOCPORTAL_")}
        env |= stack.settings.to_env() | settings | {"AWS_ACCESS_KEY_ID": "testing",
                                                     "AWS_SECRET_ACCESS_KEY": "testing"}
        server = processes.start([sys.executable, "-m", "devstack.api_server", "--port", str(port)],
                                 log=Path(tmp) / "api.log", env=env, cwd=ROOT)
        try:
            processes.wait_http(f"http://127.0.0.1:{port}/v1/openapi.json", timeout=60, proc=server,
                                log=Path(tmp) / "api.log")
            yield stack, port, Path(tmp)
        finally:
            processes.stop([server])


def latency_rows(calls: int) -> list[tuple[str, str, str, str]]:
    """p50/p95 of ``GET /v1/files`` and ``POST /v1/uploads`` against their service calls in-process."""
    with _serving() as (stack, port, _):
        settings: Settings = stack.settings
        token, claims = _sign_in(stack)
        http = _Http(port, token)
        ddb, s3 = stack.client("dynamodb"), stack.client("s3")
        for i in range(FILES):
            http.call("POST", "/v1/uploads", {"name": f"seed-{i}.pdf", "size": 1000,
                                              "content_type": "application/pdf"}, expect=201)

        def listed() -> object:
            who = identity.caller(claims)
            return service.list_files(user=who.user, ddb=ddb, settings=settings, filters=FileFilters(),
                                      page_token=None, page_size=50)

        def created() -> object:
            who = identity.caller(claims)
            return uploads.presign_upload(user=who.user, name="report.pdf", size=1000, s3=s3, ddb=ddb,
                                          content_type="application/pdf", settings=settings)

        body = {"name": "report.pdf", "size": 1000, "content_type": "application/pdf"}
        first = http.call("GET", "/v1/files?page_size=50")
        if len(first["files"]) != 50:
            raise RuntimeError(f"the caller's first page holds {len(first['files'])} files, not 50")
        lists = _taking_turns([lambda: http.call("GET", "/v1/files?page_size=50"), listed], calls)
        creates = _taking_turns([lambda: http.call("POST", "/v1/uploads", body, expect=201), created],
                                calls)
    return [*_row(f"list files ({calls} calls)", *lists), *_row(f"create upload ({calls} calls)", *creates)]


def upload_rows(megabytes: int, runs: int) -> list[tuple[str, str, str, str]]:
    """A ``megabytes`` MB file through the API in parts against boto3's ``upload_file``: median seconds."""
    with _serving(DOCPORTAL_UPLOAD_MAX_MB=str(megabytes + 1)) as (stack, port, tmp):
        path = tmp / "large.mp4"
        with path.open("wb") as f:
            for _ in range(megabytes):
                f.write(os.urandom(1_000_000))
        size = path.stat().st_size
        token, _ = _sign_in(stack)
        api, s3, ddb = Api(f"http://127.0.0.1:{port}", token), stack.client("s3"), stack.client("dynamodb")
        keys: list[str] = []

        def through_api() -> None:
            file_id = transfer.upload(api, path, size, (), lambda _: None)
            item = ddb.get_item(TableName=stack.settings.table, Key=file_key(file_id))["Item"]
            keys.append(from_item(item).key)

        def with_boto3() -> None:
            keys.append(f"bench/{uuid.uuid4().hex}.mp4")
            s3.upload_file(str(path), stack.settings.bucket, keys[-1])

        seconds: list[list[float]] = [[], []]
        for _ in range(runs):
            for i, side in enumerate((through_api, with_boto3)):
                started = time.perf_counter()
                side()
                seconds[i].append(time.perf_counter() - started)
                head = s3.head_object(Bucket=stack.settings.bucket, Key=keys[-1])
                if head["ContentLength"] != size:
                    raise RuntimeError(f"{keys[-1]} holds {head['ContentLength']} bytes, not {size}")
                s3.delete_object(Bucket=stack.settings.bucket, Key=keys[-1])  # moto keeps bodies in memory
    ours, theirs = statistics.median(seconds[0]), statistics.median(seconds[1])
    return [(f"{megabytes} MB upload through the API, in parts (median of {runs})", f"{ours:.2f} s",
             f"{theirs:.2f} s boto3 upload_file", f"{ours / theirs:.2f} (goal <= 1.20)")]
