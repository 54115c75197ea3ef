"""Signing in through ``portal/app.py`` in AppTest, as a person would with the form."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.helpers.env import ROOT

APP = str(ROOT / "portal" / "app.py")
TIMEOUT = 60


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    return at


def sign_in(at: AppTest, email: str, password: str) -> AppTest:
    next(t for t in at.text_input if t.label == "E-mail").input(email)
    next(t for t in at.text_input if t.label == "Password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("error", "warning", "info", "success", "title", "markdown", "caption", "text")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)
