"""An invited user's first sign-in, in AppTest against Cognito on a moto server.

The admin invites them (portal.users, as the Users page does on the local
stand-in: the temporary password is handed over, not mailed); signing in with
it brings up the new-password form of portal.auth, and the new password signs
them in.
"""

from __future__ import annotations

import uuid

from streamlit.testing.v1 import AppTest

from portal.access import User
from portal.users import passwords, service
from portal.users.accounts import Delivery
from tests.helpers.signin import app, sign_in, texts
from tests.helpers.users import FIRST_SIGN_IN_PASSWORD

NEW_PASSWORD = FIRST_SIGN_IN_PASSWORD
ADMIN = User(sub="an-admin", email="admin@example.com", groups=frozenset({"admins"}), expires_at=2**40, second_factor=True)


def invited(on_server, *groups: str) -> tuple[str, str]:
    """A freshly invited user's e-mail and temporary password (the server is shared by the session)."""
    email = f"first-{uuid.uuid4().hex[:8]}@example.com"
    invitation = service.invite(on_server.client("cognito-idp"), on_server.settings.user_pool_id, ADMIN, email,
                              groups, Delivery.SHOW)
    assert invitation.temporary_password
    return email, invitation.temporary_password


def choose(at: AppTest, new: str, confirm: str) -> AppTest:
    next(t for t in at.text_input if t.label == "New Password").input(new)
    next(t for t in at.text_input if t.label == "Confirm Password").input(confirm)
    next(b for b in at.button if b.label == "Reset Password").click()
    return at.run()


def status(on_server, email: str) -> str:
    return on_server.client("cognito-idp").admin_get_user(
        UserPoolId=on_server.settings.user_pool_id, Username=email)["UserStatus"]


def test_an_invited_user_chooses_a_password_and_is_signed_in(on_server):
    email, temporary = invited(on_server, "uploaders")
    at = sign_in(app(), email, temporary)
    assert not at.exception
    assert {"New Password", "Confirm Password"} <= {t.label for t in at.text_input}
    assert "Username" not in {t.label for t in at.text_input}  # the package's word; people sign in by e-mail
    assert next(t for t in at.text_input if t.label == "E-mail").value == email
    assert "at least 12 characters" in texts(at)  # the pool's rules, before the password is typed
    assert "docportal_user" not in at.session_state
    at = choose(at, NEW_PASSWORD, NEW_PASSWORD)
    assert not at.exception
    assert at.title[0].value == "My files"
    assert email in texts(at)
    assert at.session_state["docportal_user"].email == email
    assert status(on_server, email) == "CONFIRMED"
    # From now on the chosen password is the one that works.
    again = sign_in(app(), email, NEW_PASSWORD)
    assert again.title[0].value == "My files"
    refused = sign_in(app(), email, temporary)
    assert "docportal_user" not in refused.session_state


def test_a_new_password_the_policy_refuses_keeps_the_form(on_server):
    email, temporary = invited(on_server, "uploaders")
    at = choose(sign_in(app(), email, temporary), "short", "short")
    assert not at.exception
    assert "docportal_user" not in at.session_state
    assert "New Password" in {t.label for t in at.text_input}
    assert "does not meet the rules" in texts(at)
    assert status(on_server, email) == "FORCE_CHANGE_PASSWORD"
    at = choose(at, NEW_PASSWORD, NEW_PASSWORD)  # a second try works
    assert at.session_state["docportal_user"].email == email
    assert at.title[0].value == "My files"


def test_mismatched_new_passwords_are_caught_before_cognito(on_server):
    email, temporary = invited(on_server, "uploaders")
    at = choose(sign_in(app(), email, temporary), NEW_PASSWORD, NEW_PASSWORD + "x")
    assert not at.exception
    assert passwords.MISMATCH in texts(at)
    assert status(on_server, email) == "FORCE_CHANGE_PASSWORD"


def test_an_invited_user_in_no_group_is_asked_to_get_access(on_server):
    email, temporary = invited(on_server)
    at = choose(sign_in(app(), email, temporary), NEW_PASSWORD, NEW_PASSWORD)
    assert not at.exception
    assert "ask an admin" in texts(at)
    assert "My files" not in [t.value for t in at.title]
