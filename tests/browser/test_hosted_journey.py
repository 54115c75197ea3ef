"""Hosted sign-in (SSO) in a real browser (Debian's chromium) against `make run`'s system in hosted mode.

moto has no Hosted UI: the IdP here is the test suite's local endpoint
(tests/helpers/token_endpoint.py), on another site (127.0.0.1) than the portal
(localhost), so the redirect back is cross-site as with Cognito. It signs the
user in at the moto pool, so the session the portal stores resumes with
Cognito (moto) exactly as a form sign-in's does.
"""

from __future__ import annotations

import pytest

from devstack.processes import free_ports
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal.hosted.flow import STATE_COOKIE
from portal.sessions.records import COOKIE_NAME
from tests.helpers.system import System
from tests.helpers.token_endpoint import CognitoBackedEndpoint
from tests.helpers.users import create_user

pytestmark = pytest.mark.browser

MOTO_PORT, PORTAL_PORT, *IDP_PORTS = free_ports(3)
PORTAL = f"http://localhost:{PORTAL_PORT}"


@pytest.fixture(scope="module")
def idp():
    with CognitoBackedEndpoint("", f"{PORTAL}/_docportal/callback", ports=IDP_PORTS) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def system(tmp_path_factory, idp):
    running = System(tmp_path_factory.mktemp("system") / "state", moto_port=MOTO_PORT, portal_port=PORTAL_PORT,
                     env={"DOCPORTAL_SIGN_IN": "hosted", "DOCPORTAL_HOSTED_DOMAIN": idp.url,
                          "DOCPORTAL_CALLBACK_URL": f"{PORTAL}/_docportal/callback",
                          "DOCPORTAL_SIGNOUT_URL": f"{PORTAL}/"}).start()
    idp.client_id = running.stack_settings.client_id
    idp.cognito = running.client("cognito-idp")
    yield running
    assert running.stop() == 0


@pytest.fixture
def user(system, idp) -> str:
    email = create_user(system.client("cognito-idp"), system.stack_settings.user_pool_id, "sso",
                        DEFAULT_DEMO_PASSWORD, "uploaders")
    idp.login = (email, DEFAULT_DEMO_PASSWORD)
    return email


def test_a_shared_link_signs_in_through_the_idp_and_lands_on_it_and_lasts(browser, system, user):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{PORTAL}/dashboard?range=90+days")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.url == f"{PORTAL}/dashboard?range=90+days"
    assert page.get_by_label("E-mail").count() == 0
    names = {c["name"]: c for c in context.cookies()}
    assert names[COOKIE_NAME]["httpOnly"] and names[COOKIE_NAME]["sameSite"] == "Strict"
    assert STATE_COOKIE not in names  # cleared by the callback
    page.reload()  # the session lasts
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(f"{PORTAL}/")  # by way of the IdP's /logout
    page.get_by_role("button", name="Sign in", exact=True).wait_for()
    context.close()


def test_signing_out_ends_the_idps_session_too(browser, system, user, idp):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(PORTAL)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_role("button", name="Sign in", exact=True).wait_for()
    assert idp.logouts[-1] == {"client_id": system.stack_settings.client_id, "logout_uri": f"{PORTAL}/"}
    assert not any(c["name"] == COOKIE_NAME and c["value"] for c in context.cookies())
    context.close()
