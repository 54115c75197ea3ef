"""The admin's journey in a real browser (Debian's chromium) against `make run`'s system.

An admin who signed in with the password alone has an uploader's rights; they
turn on two-step sign-in on Account, sign in again with a code, invite someone
on Users, and the invited person signs in with the temporary password and
chooses their own. moto checks codes under `make run` (every user gets the
same fixed key, which the Account page shows).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.browser import sign_in
from tests.helpers.totp import fresh_code

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Chosen-by-Newcomer-2026!"


def type_code(page, secret: str, button: str) -> None:
    page.get_by_label("Authenticator code").fill(fresh_code(secret))
    page.get_by_role("button", name=button).click()


def test_admin_turns_on_two_step_sign_in_invites_someone_who_then_signs_in(page):
    sign_in(page, "admin@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
    page.get_by_text("Admin rights need two-step sign-in").wait_for()
    expect(page.get_by_role("link", name="Export")).to_have_count(0)  # a password alone: no admin rights

    page.get_by_role("link", name="Account").first.click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    key = page.get_by_test_id("stCode").first
    key.wait_for()
    secret = re.sub(r"\s", "", key.inner_text())
    type_code(page, secret, "Turn on two-step sign-in")
    page.get_by_text("Two-step sign-in is on").wait_for()

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("You have signed out.").wait_for()
    sign_in(page, "admin@example.com", DEFAULT_DEMO_PASSWORD)
    type_code(page, secret, "Verify")
    page.get_by_role("link", name="Export").first.wait_for()  # admin rights: everyone's files and exports
    expect(page.get_by_text("Admin rights need two-step sign-in")).to_have_count(0)

    page.get_by_role("link", name="Users").first.click()
    page.get_by_role("heading", name="Invite someone").wait_for()
    page.get_by_label("E-mail").fill("newcomer@example.com")
    page.get_by_role("button", name="Invite").click()
    page.get_by_text("is invited. Their temporary password:").wait_for()
    temporary = page.get_by_test_id("stCode").first.inner_text().strip()

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("You have signed out.").wait_for()
    sign_in(page, "newcomer@example.com", temporary)
    page.get_by_label("New Password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset Password").click()
    page.get_by_role("heading", name="My files").wait_for()
    page.get_by_text("No files yet").wait_for()
