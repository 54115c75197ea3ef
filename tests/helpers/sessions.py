"""Lasting sessions in AppTest: the cookie a signed-in tab would have been given, and tabs that send it.

AppTest cannot seed cookies (``st.context.cookies`` comes from the websocket's
handshake), so a tab "with the cookie" is an AppTest whose
:func:`portal.lasting.browser_cookie` answers with the session id the
binding of a signed-in tab grants, exactly what the route would have set.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from portal import lasting
from portal.sessions import bindings
from tests.helpers.signin import app


def cookie_of(at: AppTest) -> str:
    """Take the binding a freshly signed-in tab holds, as its browser would; the session id it grants."""
    token = at.session_state[lasting._BINDING]
    binding = bindings.take(token)
    assert binding is not None, "the tab's binding was already used or has expired"
    return binding.session_id


def tab_with_cookie(monkeypatch: pytest.MonkeyPatch, cookie: str | None, path: str = "",
                    **params: str) -> AppTest:
    """A new tab of a browser that holds ``cookie``, opened at ``path``."""
    monkeypatch.setattr(lasting, "browser_cookie", lambda: cookie)
    return app(path, **params)


def signed_in_as(at: AppTest) -> str | None:
    """The e-mail of the tab's signed-in user, or None."""
    try:
        return str(at.session_state["docportal_user"].email)
    except KeyError:
        return None
