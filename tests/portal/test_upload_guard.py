"""The upload endpoint's guard (portal/upload_guard.py) as ASGI middleware, in front of a stand-in Streamlit.

The stand-in reads the whole body and keeps it, as Streamlit's upload route
does; the runtime is a fake holding the sessions' state and files. The real
portal under ``streamlit run`` is attacked in tests/security/test_upload_endpoint.py.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import pytest

from portal.access import User
from portal.files.upload_policy import FRAMING_BYTES, MemoryBudget, MiB
from portal.upload_guard import UploadGuard

NOW_PLUS = 2**40
UPLOADER = User(sub="u-1", email="up@example.com", groups=frozenset({"uploaders"}), expires_at=NOW_PLUS)
BUDGET = MemoryBudget(file_bytes=4 * MiB, session_bytes=6 * MiB, process_bytes=10 * MiB)


@dataclass
class FakeRuntime:
    """Sessions' state and the files Streamlit holds for them."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    storage: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._session_mgr = SimpleNamespace(get_active_session_info=self._info)
        self.uploaded_file_mgr = SimpleNamespace(file_storage=self.storage)

    def _info(self, session_id: str) -> Any:
        state = self.states.get(session_id)
        return None if state is None else SimpleNamespace(session=SimpleNamespace(session_state=state))

    def is_active_session(self, session_id: str) -> bool:
        return session_id in self.states

    def open(self, user: User | None) -> str:
        session_id = uuid.uuid4().hex
        self.states[session_id] = {} if user is None else {"docportal_user": user}
        return session_id

    def held(self, session_id: str) -> int:
        return sum(len(f.data) for f in self.storage.get(session_id, {}).values())


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: dict[str, str]
    read: int = 0  # body bytes the stand-in read (put() fills it in)


def stand_in(runtime: FakeRuntime, read: list[int], gate: asyncio.Event | None = None) -> Any:
    """Streamlit's upload route as far as the guard can tell: read the whole body, keep it, answer 204.

    ``read`` gets the bytes read; with a ``gate``, the file is kept only once the gate opens.
    """
    from starlette.middleware.exceptions import ExceptionMiddleware

    async def route(scope: Any, receive: Any, send: Any) -> None:
        session_id = scope["path"].split("/")[-2]
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            read.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        if gate is not None:
            await gate.wait()
        runtime.storage.setdefault(session_id, {})[uuid.uuid4().hex] = SimpleNamespace(data=bytes(body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return ExceptionMiddleware(route)


async def send_body(guard: UploadGuard, session_id: str, size: int, *, announce: bool = True,
                    chunk: int = 256 * 1024) -> Answer:
    """PUT a ``size``-byte body to the upload path through ``guard``; ``announce``: send Content-Length."""
    pieces = [b"x" * min(chunk, size - i) for i in range(0, size, chunk)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
                for i, p in enumerate(pieces)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(0)  # the network: other requests get a turn between pieces
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", str(size).encode())] if announce else []
    scope = {"type": "http", "method": "PUT", "path": f"/_stcore/upload_file/{session_id}/{uuid.uuid4()}",
             "headers": headers, "query_string": b""}
    await guard(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], body.decode(), {k.decode().lower(): v.decode() for k, v in start["headers"]})


def put(runtime: FakeRuntime, session_id: str, size: int, *, announce: bool = True) -> Answer:
    read: list[int] = []
    guard = UploadGuard(stand_in(runtime, read), budget=BUDGET, runtime=lambda: runtime)
    answer = asyncio.run(send_body(guard, session_id, size, announce=announce))
    return replace(answer, read=sum(read))


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


def test_a_signed_in_uploaders_file_is_kept(runtime: FakeRuntime) -> None:
    session = runtime.open(UPLOADER)
    assert put(runtime, session, MiB).status == 204
    assert runtime.held(session) == MiB


@pytest.mark.parametrize("user", [
    None,
    User(sub="u-2", email="old@example.com", groups=frozenset({"uploaders"}), expires_at=1),
    User(sub="u-3", email="nobody@example.com", groups=frozenset(), expires_at=NOW_PLUS),
], ids=["never signed in", "tokens expired", "no role that uploads"])
def test_a_session_without_a_current_uploader_is_refused_before_the_body_is_read(
        runtime: FakeRuntime, user: User | None) -> None:
    session = runtime.open(user)
    answer = put(runtime, session, MiB)
    assert (answer.status, answer.read) == (403, 0)
    assert "Sign in" in answer.body and runtime.held(session) == 0


def test_an_announced_body_over_the_file_limit_is_refused_before_it_is_read(runtime: FakeRuntime) -> None:
    answer = put(runtime, runtime.open(UPLOADER), 4 * MiB + FRAMING_BYTES + 1)
    assert (answer.status, answer.read) == (413, 0)


def test_an_unannounced_body_is_stopped_once_it_passes_the_file_limit(runtime: FakeRuntime) -> None:
    session = runtime.open(UPLOADER)
    answer = put(runtime, session, 5 * MiB, announce=False)
    assert answer.status == 413
    assert answer.read <= 4 * MiB + FRAMING_BYTES and runtime.held(session) == 0


def test_a_session_over_its_share_is_refused_and_keeps_what_it_held(runtime: FakeRuntime) -> None:
    session = runtime.open(UPLOADER)
    assert put(runtime, session, 4 * MiB).status == 204
    answer = put(runtime, session, 3 * MiB)
    assert answer.status == 413 and "Upload or remove" in answer.body
    assert runtime.held(session) == 4 * MiB


def test_a_full_portal_refuses_with_retry_after_and_other_sessions_keep_their_files(runtime: FakeRuntime) -> None:
    first, second, third = (runtime.open(UPLOADER) for _ in range(3))
    assert put(runtime, first, 4 * MiB).status == 204
    assert put(runtime, second, 4 * MiB).status == 204
    answer = put(runtime, third, 3 * MiB)
    assert answer.status == 503 and answer.headers.get("retry-after") == "60"
    assert (runtime.held(first), runtime.held(second), runtime.held(third)) == (4 * MiB, 4 * MiB, 0)


def test_bytes_still_arriving_count_against_the_budget(runtime: FakeRuntime) -> None:
    """Bodies arriving at once cannot together squeeze into the room left for fewer."""
    first, second, third = (runtime.open(UPLOADER) for _ in range(3))

    async def at_once() -> tuple[Answer, Answer, Answer]:
        gate = asyncio.Event()
        guard = UploadGuard(stand_in(runtime, [], gate), budget=BUDGET, runtime=lambda: runtime)
        arriving = [asyncio.create_task(send_body(guard, s, 4 * MiB)) for s in (first, second)]
        while sum(guard._arriving.values()) < 8 * MiB:  # both bodies read, neither kept yet
            await asyncio.sleep(0)
        late = await asyncio.wait_for(send_body(guard, third, 3 * MiB), 10)  # kept only after the gate: a hang
        gate.set()
        done = await asyncio.gather(*arriving)
        assert not guard._arriving, "bytes that arrived are no longer counted once their request ends"
        return done[0], done[1], late

    one, two, late = asyncio.run(at_once())
    assert (one.status, two.status, late.status) == (204, 204, 503)
    assert runtime.held(first) + runtime.held(second) == 8 * MiB and runtime.held(third) == 0


def test_nothing_else_passes_through_the_guard(runtime: FakeRuntime) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])

    guard = UploadGuard(app, budget=BUDGET, runtime=lambda: runtime)
    for scope in ({"type": "http", "method": "GET", "path": "/_stcore/health", "headers": []},
                  {"type": "http", "method": "DELETE", "path": "/_stcore/upload_file/s/f", "headers": []},
                  {"type": "websocket", "path": "/_stcore/stream", "headers": []}):
        asyncio.run(guard(scope, None, None))  # type: ignore[arg-type]
    assert seen == ["/_stcore/health", "/_stcore/upload_file/s/f", "/_stcore/stream"]
