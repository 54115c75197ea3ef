"""Streamlit's upload endpoint answers only signed-in uploaders, within a memory budget.

No page sends files there any more (the Upload page's bytes go straight to
S3, :mod:`portal.components.direct_upload`), and ``server.maxUploadSize`` is
1 MB; but Streamlit serves the endpoint to every session all the same, so it
stays guarded.

``st.file_uploader`` sends each chosen file to ``PUT /_stcore/upload_file/{session}/{file}``
and Streamlit keeps it in the server's memory until the session ends. Streamlit
accepts such posts from any open session, signed in or not, and its XSRF check
is a double submit any script fills in. :class:`UploadGuard` is ASGI
middleware (``portal/server.py`` puts it in front of the app) that, before
Streamlit reads a byte of the body,

- refuses a session that holds no current user who may upload (403);
- refuses a body larger than Streamlit's ``server.maxUploadSize`` (413), by
  its ``Content-Length`` and again as the bytes arrive;
- keeps what the sessions hold, plus what is still arriving, within the
  :class:`~portal.files.upload_policy.MemoryBudget` (413 over a session's
  share, 503 with ``Retry-After`` when the whole portal is full).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config
from streamlit.runtime import Runtime

from common.settings import Settings
from portal import access, auth
from portal.files.upload_policy import SIGN_IN_FIRST, MemoryBudget, Refusal

logger = logging.getLogger(__name__)

_UPLOAD_PATH = re.compile(r"/_stcore/upload_file/(?P<session>[^/]+)/[^/]+$")


def may_send_files(runtime: Runtime, session_id: str, now: float) -> bool:
    """True when ``session_id`` is open and holds a current user who may upload."""
    info = runtime._session_mgr.get_active_session_info(session_id)
    if info is None:
        return False
    user = auth.stored_user(info.session.session_state)
    return user is not None and access.is_current(user, now) and access.may_upload(user)


def held_bytes(runtime: Runtime, session_id: str) -> tuple[int, int, int]:
    """What Streamlit holds now: the session's bytes and files, and everyone's bytes."""
    storage = runtime.uploaded_file_mgr.file_storage  # type: ignore[attr-defined]
    everyone = [list(files.values()) for files in list(storage.values())]
    mine = list(storage.get(session_id, {}).values())
    return sum(len(f.data) for f in mine), len(mine), sum(len(f.data) for files in everyone for f in files)


class UploadGuard:
    """ASGI middleware in front of Streamlit's upload endpoint; see the module's docstring."""

    def __init__(self, app: ASGIApp, budget: MemoryBudget | None = None,
                 runtime: Callable[[], Runtime] = Runtime.instance) -> None:
        self.app = app
        self.budget = budget or MemoryBudget.from_settings(Settings.from_env(need_stack=False),
                                                           file_mb=config.get_option("server.maxUploadSize"))
        self._runtime = runtime
        self._lock = threading.Lock()
        self._arriving: Counter[str] = Counter()  # body bytes still arriving, by session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _UPLOAD_PATH.search(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope["method"] != "PUT":
            await self.app(scope, receive, send)
            return
        session_id = match["session"]
        runtime = self._runtime()
        if not runtime.is_active_session(session_id):
            await self.app(scope, receive, send)  # Streamlit answers an unknown session itself
            return
        refusal = self._check(runtime, session_id, _content_length(scope))
        if refusal is not None:
            await self._answer(refusal, session_id, scope, receive, send)
            return
        counted = 0

        async def counted_receive() -> Message:
            nonlocal counted
            message = await receive()
            size = len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if size:
                refusal = self._check(runtime, session_id, counted + size, arriving=counted)
                if refusal is not None:
                    _log(refusal, session_id)
                    raise HTTPException(refusal.status, refusal.message, headers=_headers(refusal))
                counted += size
                with self._lock:
                    self._arriving[session_id] += size
            return message

        try:
            await self.app(scope, counted_receive, send)
        finally:
            with self._lock:
                self._arriving[session_id] -= counted
                if self._arriving[session_id] <= 0:
                    del self._arriving[session_id]

    def _check(self, runtime: Runtime, session_id: str, body: int | None,
               arriving: int = 0) -> Refusal | None:
        """Why a body of ``body`` bytes (None: unknown) may not arrive; ``arriving``: its bytes counted."""
        if not may_send_files(runtime, session_id, time.time()):
            return SIGN_IN_FIRST
        if body is None:
            return None
        session_bytes, session_files, process_bytes = held_bytes(runtime, session_id)
        with self._lock:
            session_bytes += self._arriving[session_id] - arriving
            process_bytes += sum(self._arriving.values()) - arriving
        return self.budget.refusal(body, session_bytes=session_bytes, session_files=session_files,
                                   process_bytes=process_bytes)

    async def _answer(self, refusal: Refusal, session_id: str, scope: Scope, receive: Receive,
                      send: Send) -> None:
        _log(refusal, session_id)
        response = PlainTextResponse(refusal.message, refusal.status, headers=_headers(refusal))
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return None
    return None


def _headers(refusal: Refusal) -> dict[str, str] | None:
    return {"Retry-After": "60"} if refusal.status == 503 else None


def _log(refusal: Refusal, session_id: str) -> None:
    logger.warning("upload endpoint refused a file from session %s: %d %s", session_id, refusal.status,
                   refusal.message)
