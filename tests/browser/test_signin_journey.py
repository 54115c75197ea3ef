"""Issue 14's sign-in journeys in a real browser (Debian's chromium) against `make run`'s system.

A shared dashboard link opened signed out leads, after sign-in, to the same
dashboard with the same filters. Then "Forgot password?": `make run` prints
the code (the stand-in sends no e-mail), the code and a new password set it,
and the new password signs in.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from devstack import reset_codes
from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.browser import sign_in
from tests.helpers.users import RESET_PASSWORD, create_user

pytestmark = pytest.mark.browser


def test_a_shared_dashboard_link_opened_signed_out_returns_to_the_same_dashboard(page, system):
    page.goto(f"http://localhost:{system.portal_port}/dashboard?range=90+days")
    page.get_by_label("E-mail").wait_for()
    sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="Dashboard").wait_for()
    expect(page).to_have_url(re.compile(r"/dashboard\?range=90\+days$"))
    expect(page.get_by_role("combobox", name="Period")).to_match_aria_snapshot('- combobox "Period": 90 days')


def test_a_forgotten_password_is_reset_with_the_code_make_run_prints(page, system):
    email = create_user(system.client("cognito-idp"), system.stack_settings.user_pool_id, "forgetful",
                        DEFAULT_DEMO_PASSWORD, "uploaders")
    page.get_by_role("button", name="Forgot password?").click()
    page.get_by_role("button", name="Send code").wait_for()  # the reset form, not the sign-in form going away
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Send code").click()
    page.get_by_text("If an account exists for that e-mail").wait_for()
    page.get_by_text("at least 12 characters").first.wait_for()  # the rules before typing
    said = f"{reset_codes.LABEL}: password reset code for {email}: "
    out = system.wait_for_output(said, timeout=30)
    code = out.split(said, 1)[1].split("\n", 1)[0].strip()
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_label("New password", exact=True).fill(RESET_PASSWORD)
    page.get_by_label("Repeat the new password").fill(RESET_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    page.get_by_text("Your password has been changed").wait_for()
    sign_in(page, email, RESET_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
