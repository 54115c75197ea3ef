"""Signing in through ``portal/app.py`` in AppTest, as a person would with the form."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from portal.auth import CODE_LABEL
from tests.helpers.env import ROOT
from tests.helpers.totp import code, fresh_code

APP = str(ROOT / "portal" / "app.py")
TIMEOUT = 60


PORTAL_URL = "http://localhost:8501"


def app(path: str = "", **params: str | list[str]) -> AppTest:
    """The portal as a signed-out browser opens it at ``path`` (a link's path) with query ``params``."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.context = {"url": PORTAL_URL + path}
    for key, value in params.items():
        at.query_params[key] = value
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


def enrol_authenticator(cognito: object, client_id: str, email: str, password: str) -> str:
    """Turn on two-step sign-in for ``email`` straight against Cognito, as the Account page would; its secret."""
    tokens = cognito.initiate_auth(  # type: ignore[attr-defined]
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password})["AuthenticationResult"]
    secret = cognito.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]  # type: ignore[attr-defined]
    cognito.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=code(secret))  # type: ignore[attr-defined]
    cognito.set_user_mfa_preference(  # type: ignore[attr-defined]
        AccessToken=tokens["AccessToken"], SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    return str(secret)


def sign_in_with_code(at: AppTest, email: str, password: str, secret: str) -> AppTest:
    """Sign in and answer the authenticator-code form: a session with its second factor."""
    at = sign_in(at, email, password)
    next(t for t in at.text_input if t.label == CODE_LABEL).input(fresh_code(secret))
    next(b for b in at.button if b.label == "Verify").click()
    return at.run()
