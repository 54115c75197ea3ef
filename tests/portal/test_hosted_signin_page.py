"""The portal in hosted mode (moto server): the sign-in page, the tab the callback's cookie brings back, sign-out.

The Hosted UI itself is not here (moto has none; tests/aws/test_hosted_signin.py
drives the routes against a local token endpoint). What the callback leaves
behind is: a stored session holding a refresh token Cognito issued, and its
id in the browser's cookie. These tests start from exactly that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import jwt
import pytest

from portal import lasting
from portal.access import NEEDS_SECOND_FACTOR_HOSTED, acts_as_admin
from portal.hosted.flow import MESSAGES, Refusal
from portal.sessions.service import Store, cipher
from tests.helpers.env import DOCPORTAL_VARS, ROOT
from tests.helpers.sessions import signed_in_as, tab_with_cookie
from tests.helpers.signin import app, texts
from tests.helpers.users import SESSION_PASSWORD, new_uploader, new_user

DOMAIN = "https://acme-docs.auth.us-east-1.amazoncognito.com"


@pytest.fixture
def hosted(on_server, monkeypatch) -> list[str]:
    """Hosted mode on; the scripts the pages emit (the browser's next steps), in order."""
    for name, value in {"DOCPORTAL_SIGN_IN": "hosted", "DOCPORTAL_HOSTED_DOMAIN": DOMAIN,
                        "DOCPORTAL_CALLBACK_URL": "http://localhost:8501/_docportal/callback",
                        "DOCPORTAL_SIGNOUT_URL": "http://localhost:8501/"}.items():
        monkeypatch.setenv(name, value)
    scripts: list[str] = []
    monkeypatch.setattr(lasting, "_script", scripts.append)
    return scripts


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_signed_out_there_is_no_password_form_only_the_company_sign_in(hosted):
    at = app("/dashboard", range="90 days")
    assert not at.exception
    assert "E-mail" not in [t.label for t in at.text_input]
    at = click(at, "Sign in")
    assert hosted == ['(window.top || window).location.assign('
                      '"/_docportal/signin?next=%2Fdashboard%3Frange%3D90%2Bdays");']


def test_a_failed_sign_in_says_why_in_the_portals_words(hosted):
    at = app("", signin_error="denied")
    assert MESSAGES[Refusal.DENIED] in texts(at)


def test_an_unknown_error_code_gets_the_generic_message_never_its_text(hosted):
    at = app("", signin_error="<img src=x onerror=alert(1)>")
    shown = texts(at)
    assert MESSAGES[Refusal.IDP_ERROR] in shown and "onerror" not in shown


def _stored_session(server, *groups: str) -> tuple[str, str]:
    """What the callback leaves: a session with a Cognito refresh token, and the cookie's id. (email, id)"""
    email = (new_user(server, "hosted", SESSION_PASSWORD, *groups) if groups
             else new_uploader(server, "hosted", SESSION_PASSWORD))
    tokens = server.client("cognito-idp").initiate_auth(
        ClientId=server.settings.client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": SESSION_PASSWORD})["AuthenticationResult"]
    sub = jwt.decode(tokens["IdToken"], options={"verify_signature": False})["sub"]
    store = Store(server.client("dynamodb"), server.settings.sessions_table, cipher(""))
    session_id, _ = store.create(sub, tokens["RefreshToken"], False, time.time(), 12)
    return email, session_id


def test_the_callbacks_cookie_brings_the_tab_back_signed_in_on_the_linked_page(on_server, hosted, monkeypatch):
    email, session_id = _stored_session(on_server)
    tab = tab_with_cookie(monkeypatch, session_id, "/dashboard", range="90 days")
    assert not tab.exception
    assert signed_in_as(tab) == email
    assert tab.title[0].value == "Dashboard"


def test_signing_out_also_ends_the_hosted_ui_session(on_server, hosted, monkeypatch):
    _, session_id = _stored_session(on_server)
    tab = click(tab_with_cookie(monkeypatch, session_id), "Sign out")
    assert hosted[-1] == (
        "fetch(\"/_docportal/session\", {method: 'DELETE', credentials: 'same-origin'})"
        ".finally(() => (window.top || window).location.assign(\"" + DOMAIN + "/logout?client_id="
        + on_server.settings.client_id + "&logout_uri=http%3A%2F%2Flocalhost%3A8501%2F\"));")
    assert signed_in_as(tab) is None


def test_the_server_refuses_to_start_with_an_incomplete_hosted_sign_in():
    env = {k: v for k, v in os.environ.items() if k not in DOCPORTAL_VARS}
    env.update(DOCPORTAL_SIGN_IN="hosted", DOCPORTAL_HOSTED_DOMAIN=DOMAIN, PYTHONPATH=str(ROOT))
    started = subprocess.run([sys.executable, "-c", "import portal.server"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert started.returncode != 0
    assert "DOCPORTAL_SIGN_IN=hosted needs DOCPORTAL_CALLBACK_URL, DOCPORTAL_SIGNOUT_URL" in started.stderr


def test_an_admin_signed_in_through_the_hosted_ui_is_told_why_admin_rights_wait(on_server, hosted, monkeypatch):
    _, session_id = _stored_session(on_server, "admins")
    tab = tab_with_cookie(monkeypatch, session_id)
    assert not tab.exception
    assert NEEDS_SECOND_FACTOR_HOSTED in [w.value for w in tab.sidebar.warning]
    user = tab.session_state["docportal_user"]
    assert "admins" in user.groups and not acts_as_admin(user)
