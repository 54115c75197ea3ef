"""The hosted sign-in routes served over real HTTP, against the local token endpoint and a sessions table.

:func:`hosted_portal` serves :class:`portal.hosted_route.HostedRoute` with
uvicorn on 127.0.0.1 (ports the system picks) next to a
:class:`~tests.helpers.token_endpoint.TokenEndpoint`; a "browser" is a
``requests.Session`` (it keeps cookies by path, as a browser does, and
follows no redirect on its own, so every hop can be checked).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import requests
import uvicorn
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from common import aws
from common.settings import Settings
from portal.hosted.flow import CALLBACK_ROUTE, SIGNIN_ROUTE
from portal.hosted_route import HostedRoute
from portal.sessions.records import COOKIE_NAME
from portal.sessions.service import Store, cipher
from tests.helpers.token_endpoint import TokenEndpoint

CLIENT_ID = "portal-client"


@dataclass
class HostedPortal:
    """The routes' address, the IdP they use, and the sessions table they write."""

    url: str
    idp: TokenEndpoint
    store: Store
    clock: list[float]

    def browser(self) -> requests.Session:
        return requests.Session()

    def start(self, browser: requests.Session, next_path: str | None = "/dashboard?range=90+days") -> str:
        """Press "Sign in": the ``/oauth2/authorize`` address the portal sends the browser to."""
        params = {"next": next_path} if next_path is not None else {}
        answer = browser.get(self.url + SIGNIN_ROUTE, params=params, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return str(answer.headers["Location"])

    def at_idp(self, authorize: str) -> str:
        """The IdP's part (it signs :attr:`TokenEndpoint.user` in): the callback address it sends back."""
        answer = requests.get(authorize, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return str(answer.headers["Location"])

    def back(self, browser: requests.Session, callback: str) -> requests.Response:
        """The browser arrives at the callback address."""
        return browser.get(callback, allow_redirects=False, timeout=10)

    def sign_in(self, browser: requests.Session, next_path: str | None = "/dashboard?range=90+days"
                ) -> requests.Response:
        return self.back(browser, self.at_idp(self.start(browser, next_path)))


def session_cookie(answer: requests.Response) -> str | None:
    value = answer.cookies.get(COOKIE_NAME)
    return str(value) if value else None


def landed_on(answer: requests.Response) -> str:
    """Where a redirect sends the browser: path and query."""
    where = urlsplit(answer.headers["Location"])
    return where.path + (f"?{where.query}" if where.query else "")


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def hosted_portal(stack: Settings, client_secret: str = "",
                  configure: Callable[[Settings], Settings] = lambda s: s) -> Iterator[HostedPortal]:
    """The routes of a portal in hosted mode, its IdP, and the stack's sessions table."""
    sock = _socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    store = Store(aws.client("dynamodb"), stack.sessions_table, cipher(Fernet.generate_key().decode()))
    clock = [time.time()]
    with TokenEndpoint(CLIENT_ID, url + CALLBACK_ROUTE, client_secret=client_secret) as idp:
        settings = configure(replace(stack, sign_in="hosted", client_id=CLIENT_ID, client_secret=client_secret,
                                     hosted_domain=idp.url, callback_url=url + CALLBACK_ROUTE,
                                     signout_url=url + "/"))
        route = HostedRoute(settings=lambda: settings, verifier=lambda s: idp.verifier(),
                            store=lambda s: store, clock=lambda: clock[0])
        server = uvicorn.Server(uvicorn.Config(Starlette(routes=route.routes()), log_level="warning",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        try:
            yield HostedPortal(url=url, idp=idp, store=store, clock=clock)
        finally:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
