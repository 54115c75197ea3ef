"""Issue 14's lasting session in a real browser (Debian's chromium) against `make run`'s system.

A sign-in survives a reload and reaches a second tab; signing out in one tab
signs the other out on its next action; an admin disabling the user signs
their open tab out within the check interval (2 s here, a minute by default).
Each journey signs in a user of its own: signing out and disabling end that
user's sessions. The system runs on this suite's own ports.
"""

from __future__ import annotations

import pytest

from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal import auth
from portal.sessions.records import COOKIE_NAME
from tests.helpers.browser import sign_in
from tests.helpers.system import System
from tests.helpers.users import create_user

pytestmark = pytest.mark.browser

CHECK_SECONDS = "2"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """`make run` with a two-second check interval, so a disabled account's tab ends quickly."""
    running = System(tmp_path_factory.mktemp("system") / "state",
                     env={"DOCPORTAL_SESSION_CHECK_SECONDS": CHECK_SECONDS}).start()
    yield running
    assert running.stop() == 0


@pytest.fixture
def user(system) -> str:
    return create_user(system.client("cognito-idp"), system.stack_settings.user_pool_id, "lasting",
                       DEFAULT_DEMO_PASSWORD, "uploaders")


def signed_in(page, email: str) -> None:
    """Sign in and wait until the browser holds the session cookie."""
    sign_in(page, email, DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
    page.wait_for_function("() => true")  # let the page's script run
    for _ in range(100):
        if any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the session cookie was never set")


def signed_out_with_reason(page) -> None:
    """Wait until the tab shows the sign-in with the reason its session ended.

    Sometimes Streamlit's frontend instead crashes on a late message of the run
    that signed the tab out ("Bad delta path index 6 (should be between [0, 2])")
    and the tab goes blank: no data is shown then either, and the caller's
    reload must still find the session over.
    """
    for _ in range(240):
        if page.get_by_label("E-mail").is_visible() and page.get_by_text(auth.ENDED).is_visible():
            return
        if not page.locator("#root").inner_html().strip():  # also when it crashed after drawing the sign-in
            return
        page.wait_for_timeout(250)
    raise AssertionError("the tab still shows the app 60 s after its session ended")


def test_the_session_cookie_is_httponly_strict_and_opaque(page, user):
    signed_in(page, user)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > 0  # lasts beyond the browser's life: a Max-Age
    assert len(cookie["value"]) == 43 and "." not in cookie["value"]  # no JWT
    assert page.evaluate("document.cookie").find(COOKIE_NAME) == -1  # scripts cannot read it


def test_a_reload_keeps_the_user_signed_in_on_the_same_page(page, system, user):
    signed_in(page, user)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.reload()
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.url.endswith("/dashboard")
    assert page.get_by_label("E-mail").count() == 0


def second_tab(page, system, path: str, heading: str):
    """Another tab of the same browser opened at ``path``, once it shows ``heading``, signed in."""
    second = page.context.new_page()
    second.goto(f"http://localhost:{system.portal_port}{path}")
    second.get_by_role("heading", name=heading).wait_for()
    second.get_by_role("button", name="Sign out", exact=True).wait_for()
    return second


def test_a_second_tab_is_signed_in(page, system, user):
    signed_in(page, user)
    second_tab(page, system, "/upload", "Upload")


def test_signing_out_in_one_tab_signs_the_other_out_on_its_next_action(page, system, user):
    signed_in(page, user)
    second = second_tab(page, system, "/", "My files")
    second.get_by_role("button", name="Sign out", exact=True).click()
    second.get_by_label("E-mail").wait_for()
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Upload").click()
    signed_out_with_reason(page)
    page.reload()  # and the cookie no longer signs anyone in
    page.get_by_label("E-mail").wait_for()
    assert not any(c["name"] == COOKIE_NAME and c["value"] for c in page.context.cookies())


def test_a_disabled_account_is_signed_out_of_its_open_tab_within_the_check_interval(page, system, user):
    signed_in(page, user)
    system.client("cognito-idp").admin_disable_user(UserPoolId=system.stack_settings.user_pool_id,
                                                     Username=user)
    signed_out_with_reason(page)  # no action: the idle tab re-checks by itself
    page.reload()
    page.get_by_label("E-mail").wait_for()
