"""``/_docportal/signin`` and ``/_docportal/callback``: the Hosted UI's code flow, outside Streamlit.

The browser leaves the Streamlit session for the IdP, so the flow lives in
two plain routes next to :mod:`portal.session_route`:

- ``GET /_docportal/signin?next=/dashboard?range=...`` starts a sign-in
  (:func:`portal.hosted.flow.start`), keeps it in memory under the hash of its
  ``state``, ties it to this browser with an ``HttpOnly`` ``SameSite=Lax``
  cookie on the callback's path (Lax: the IdP's redirect back is a cross-site
  top-level ``GET``), and redirects to ``/oauth2/authorize``;
- ``GET /_docportal/callback?code&state`` (or ``?error``) takes the sign-in
  once, checks the cookie and its age, trades the code (with the PKCE
  verifier) for tokens, verifies the ID token as every token is verified
  (:mod:`portal.tokens`, plus the nonce), stores a lasting session
  (:mod:`portal.sessions`) and sets its cookie, then redirects to the page the
  sign-in was started for. The Streamlit tab that opens resumes from that
  cookie as after a reload.

Every failure ends on the sign-in page with a fixed message for its code
(:data:`portal.hosted.flow.MESSAGES`); nothing from the IdP is shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from common import aws
from common.settings import Settings
from portal import navigation
from portal.hosted import flow, pending
from portal.hosted.exchange import ExchangeFailed, Tokens, exchange
from portal.sessions.records import cookie_for, is_local
from portal.sessions.service import Store, cipher
from portal.tokens import KeysUnavailable, TokenError, TokenVerifier

logger = logging.getLogger(__name__)

Exchange = Callable[[Settings, str, str], Tokens]


def _exchange(settings: Settings, code: str, verifier: str) -> Tokens:
    return exchange(settings.hosted_domain, settings.client_id, settings.client_secret, settings.callback_url,
                    code, verifier)


def _store(settings: Settings) -> Store | None:
    if not settings.sessions_table:
        return None
    return Store(aws.client("dynamodb"), settings.sessions_table, cipher(settings.session_key))


def _verifier(settings: Settings) -> TokenVerifier:
    from portal import auth  # the process's one verifier (and JWKS cache)

    return auth._verifier(settings)


class HostedRoute:
    """The two handlers; settings, verifier, store, token exchange and clock are seams for tests."""

    def __init__(self, settings: Callable[[], Settings] = Settings.from_env,
                 verifier: Callable[[Settings], TokenVerifier] = _verifier,
                 store: Callable[[Settings], Store | None] = _store,
                 trade: Exchange = _exchange, clock: Callable[[], float] = time.time) -> None:
        self._settings, self._verifier, self._store = settings, verifier, store
        self._trade, self._clock = trade, clock

    def routes(self) -> list[Route]:
        return [Route(flow.SIGNIN_ROUTE, self.signin, methods=["GET"]),
                Route(flow.CALLBACK_ROUTE, self.callback, methods=["GET"])]

    async def signin(self, request: Request) -> Response:
        settings = self._settings()
        if settings.sign_in != "hosted":
            return PlainTextResponse("Not found", status_code=404)
        started = flow.start(flow.next_link(request.query_params.get("next"), navigation.PAGE_NAMES),
                             self._clock())
        pending.put(started, self._clock())
        response = RedirectResponse(flow.authorize_url(settings.hosted_domain, settings.client_id,
                                                       settings.callback_url, started), status_code=302)
        _no_store(response)
        response.set_cookie(flow.STATE_COOKIE, started.browser, max_age=flow.PENDING_SECONDS,
                            path=flow.CALLBACK_ROUTE, secure=not _local(request), httponly=True,
                            samesite="lax")
        return response

    async def callback(self, request: Request) -> Response:
        settings = self._settings()
        if settings.sign_in != "hosted":
            return PlainTextResponse("Not found", status_code=404)
        outcome = await self._finish(request, settings)
        if isinstance(outcome, flow.Refusal):
            logger.warning("hosted sign-in refused: %s", outcome.value)
            response: Response = RedirectResponse(flow.error_address(outcome), status_code=302)
        else:
            session_id, expires_at, address = outcome
            response = RedirectResponse(address, status_code=302)
            cookie = cookie_for(session_id, expires_at, request.headers.get("host", ""), self._clock())
            response.set_cookie(cookie.name, cookie.value, max_age=cookie.max_age, path=cookie.path,
                                secure=cookie.secure, httponly=cookie.httponly,
                                samesite=cookie.samesite)  # type: ignore[arg-type]
        _no_store(response)
        response.delete_cookie(flow.STATE_COOKIE, path=flow.CALLBACK_ROUTE, secure=not _local(request),
                               httponly=True, samesite="lax")
        return response

    async def _finish(self, request: Request, settings: Settings) -> tuple[str, int, str] | flow.Refusal:
        parsed = flow.parse_callback({k: request.query_params.getlist(k) for k in request.query_params})
        if isinstance(parsed, flow.Refusal):
            return parsed
        started = pending.take(parsed.state)  # used up by this attempt, whatever its outcome
        if started is None:
            return flow.Refusal.STATE_UNKNOWN
        refusal = flow.admits(started, request.cookies.get(flow.STATE_COOKIE), self._clock())
        if refusal is not None:
            return refusal
        try:
            return await run_in_threadpool(self._sign_in, settings, parsed.code, started)
        except ExchangeFailed as e:
            return e.refusal

    def _sign_in(self, settings: Settings, code: str,
                 started: flow.Pending) -> tuple[str, int, str] | flow.Refusal:
        tokens = self._trade(settings, code, started.code_verifier)
        verifier = self._verifier(settings)
        try:
            user = verifier.verify_id_token(tokens.id_token, nonce=started.nonce)
            verifier.verify_access_token(tokens.access_token)
        except TokenError:
            logger.warning("the Hosted UI's tokens were rejected", exc_info=True)
            return flow.Refusal.TOKEN_INVALID
        except KeysUnavailable:
            logger.exception("the pool's signing keys cannot be fetched")
            return flow.Refusal.UNAVAILABLE
        store = self._store(settings)
        if store is None:
            logger.error("hosted sign-in needs the sessions table: the tab signs in from its cookie")
            return flow.Refusal.UNAVAILABLE
        try:
            session_id, record = store.create(user.sub, tokens.refresh_token, False, self._clock(),
                                              settings.session_hours)
        except (ClientError, BotoCoreError):
            logger.exception("the session could not be stored")
            return flow.Refusal.UNAVAILABLE
        return session_id, record.expires_at, flow.page_address(started.link)


def _local(request: Request) -> bool:
    return is_local(request.headers.get("host", ""))


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
