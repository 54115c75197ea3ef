"""``/_docportal/session``: the only place the session cookie is set or cleared.

``POST`` takes a binding token (:mod:`portal.sessions.bindings`) and the tab
it was handed to, and answers with the ``HttpOnly`` cookie holding the
binding's session id, but only when

- the request comes from the portal's own pages (``Origin``, ``Sec-Fetch-Site``);
- the binding is known, unused and under a minute old (it is used up by the
  attempt, whatever its outcome);
- the tab named is the one it was handed to, that tab is open, and it holds
  the signed-in user the session belongs to.

``DELETE`` (same origin only) clears the cookie. Refusals are ``403`` with a
JSON error code; nothing else about the session is ever said.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from streamlit.runtime import Runtime

from portal import access, auth
from portal.lasting import ROUTE
from portal.sessions import bindings
from portal.sessions.records import CookieSpec, clearing_cookie, cookie_for, same_origin

logger = logging.getLogger(__name__)


class SessionRoute:
    """The route's two handlers; ``runtime`` and ``clock`` are seams for tests."""

    def __init__(self, runtime: Callable[[], Runtime] = Runtime.instance,
                 clock: Callable[[], float] = time.time) -> None:
        self._runtime = runtime
        self._clock = clock

    def routes(self) -> list[Route]:
        return [Route(ROUTE, self.bind, methods=["POST"]), Route(ROUTE, self.clear, methods=["DELETE"])]

    async def bind(self, request: Request) -> Response:
        host = request.headers.get("host", "")
        if not _same_origin(request):
            return _refuse("cross_origin")
        try:
            body: Any = await request.json()
        except ValueError:
            return _refuse("bad_request", 400)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("bind", "tab")):
            return _refuse("bad_request", 400)
        binding = bindings.take(body["bind"])
        if binding is None:
            return _refuse("binding_unknown")
        now = self._clock()
        refusal = binding.admits(body["tab"], now) or self._tab_refusal(body["tab"], binding.sub, now)
        if refusal is not None:
            return _refuse(refusal)
        response = JSONResponse({"ok": True})
        _set(response, cookie_for(binding.session_id, binding.session_expires_at, host, now))
        return response

    async def clear(self, request: Request) -> Response:
        if not _same_origin(request):
            return _refuse("cross_origin")
        response = JSONResponse({"ok": True})
        _set(response, clearing_cookie(request.headers.get("host", "")))
        return response

    def _tab_refusal(self, tab: str, sub: str, now: float) -> str | None:
        info = self._runtime()._session_mgr.get_active_session_info(tab)
        user = auth.stored_user(info.session.session_state) if info is not None else None
        if user is None or user.sub != sub or not access.is_current(user, now):
            return "tab_not_signed_in"
        return None


def _same_origin(request: Request) -> bool:
    return same_origin(request.headers.get("origin"), request.headers.get("sec-fetch-site"),
                       request.headers.get("host", ""))


def _set(response: Response, cookie: CookieSpec) -> None:
    response.set_cookie(cookie.name, cookie.value, max_age=cookie.max_age, path=cookie.path,
                        secure=cookie.secure, httponly=cookie.httponly, samesite=cookie.samesite)  # type: ignore[arg-type]


def _refuse(code: str, status: int = 403) -> Response:
    logger.warning("session cookie refused: %s", code)
    return JSONResponse({"error": code}, status_code=status)
