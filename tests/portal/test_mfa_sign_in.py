"""Two-step sign-in with an authenticator app, in AppTest against Cognito on a moto server.

The moto server here is one of this module's own, started with
:data:`devstack.provision.MOTO_SERVER_ENV` so that it checks TOTP codes (the
shared one accepts any code). Codes come from tests/totp.py, computed from
the secret the Account page shows. Each test uses a fresh user.
"""

from __future__ import annotations

import types
import uuid
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from common import aws
from devstack.provision import MOTO_SERVER_ENV
from portal import auth
from portal.access import User
from portal.users import mfa
from tests.helpers import totp as codes
from tests.helpers.env import ROOT, Server, moto_server, point_at
from tests.helpers.pages import signed_in_as
from tests.helpers.signin import app, sign_in, texts
from tests.helpers.users import MFA_SIGN_IN_PASSWORD, new_uploader

PASSWORD = MFA_SIGN_IN_PASSWORD
ACCOUNT_PAGE = "app_pages/account.py"


@pytest.fixture(scope="module")
def totp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A moto server that checks authenticator codes, with the template provisioned."""
    with moto_server(tmp_path_factory.mktemp("moto-totp") / "moto.log", MOTO_SERVER_ENV) as server:
        yield server


@pytest.fixture
def server(totp_server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    point_at(totp_server, monkeypatch)
    yield totp_server
    aws.reset()


@pytest.fixture
def email(server: Server) -> str:
    """A fresh uploader with a permanent password."""
    return new_uploader(server, "totp", PASSWORD)


def mfa_settings(server: Server, email: str) -> list[str]:
    return server.client("cognito-idp").admin_get_user(
        UserPoolId=server.settings.user_pool_id, Username=email).get("UserMFASettingList", [])


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def type_code(at: AppTest, code: str, button: str) -> AppTest:
    next(t for t in at.text_input if t.label == auth.CODE_LABEL).input(code)
    return click(at, button)


def labels(at: AppTest) -> list[str]:
    return [t.label for t in at.text_input]


def account_page(email: str, code: str | None = None) -> AppTest:
    """Signed in (answering the code form when ``code`` is given), on the Account page."""
    at = sign_in(app(), email, PASSWORD)
    if code is not None:
        at = type_code(at, code, "Verify")
    at.switch_page(ACCOUNT_PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Account"
    return at


def turned_on_by_api(server: Server, email: str) -> str:
    """Turn TOTP on for ``email`` through portal.mfa, as the Account page does; the secret."""
    cognito = server.client("cognito-idp")
    tokens = cognito.initiate_auth(ClientId=server.settings.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})["AuthenticationResult"]
    user = User(sub="-", email=email, groups=frozenset({"uploaders"}), expires_at=2**40)
    secret = mfa.start_setup(cognito, user, tokens["AccessToken"])
    mfa.confirm_setup(cognito, user, tokens["AccessToken"], codes.fresh_code(secret))
    return secret


def test_turning_it_on_then_signing_in_needs_the_right_code(server, email):
    at = account_page(email)
    assert "Off." in texts(at)
    assert not sign_in(app(), email, PASSWORD).session_state["docportal_user"].second_factor  # password alone
    at = click(at, "Set up an authenticator app")
    assert not at.exception
    secret = at.code[0].value.replace(" ", "")
    uri = at.code[1].value
    assert uri.startswith(f"otpauth://totp/DocPortal:{email}?secret={secret.upper()}&")
    assert [i.captions for i in at.get("image")] == [["DocPortal set-up code"]], "the QR code is shown"
    # A wrong code is refused: nothing changes, the form stays for another try.
    at = type_code(at, codes.wrong_code(secret), "Turn on two-step sign-in")
    assert not at.exception
    assert mfa.WRONG_CODE in texts(at)
    assert mfa_settings(server, email) == []
    at = type_code(at, codes.fresh_code(secret), "Turn on two-step sign-in")
    assert not at.exception
    assert "Two-step sign-in is on" in texts(at)
    assert "On." in texts(at)
    assert mfa_settings(server, email) == ["SOFTWARE_TOKEN_MFA"]

    # Now the password alone does not sign in: the code form comes next.
    later = sign_in(app(), email, PASSWORD)
    assert not later.exception
    assert labels(later) == [auth.CODE_LABEL]
    assert "docportal_user" not in later.session_state
    assert "My files" not in [t.value for t in later.title]
    later = type_code(later, "12345", "Verify")
    assert "6-digit code" in texts(later)
    later = type_code(later, codes.wrong_code(secret), "Verify")
    assert not later.exception
    assert auth.WRONG_CODE in texts(later)
    assert labels(later) == [auth.CODE_LABEL]
    assert "docportal_user" not in later.session_state
    later = type_code(later, codes.fresh_code(secret), "Verify")
    assert not later.exception
    assert later.title[0].value == "My files"
    assert later.session_state["docportal_user"].email == email
    assert later.session_state["docportal_user"].second_factor  # what admins need to manage users


def _expire_with(code: str):
    """A botocore before-call hook: Cognito answers the challenge with error ``code``."""
    def answer(**_: object):
        return types.SimpleNamespace(status_code=400, headers={}), {
            "Error": {"Code": code, "Message": "Invalid session for the user, session is expired."},
            "ResponseMetadata": {"HTTPStatusCode": 400}}
    return answer


@pytest.mark.parametrize("how", ["session gone (moto)", "NotAuthorizedException (AWS)"])
def test_an_expired_challenge_goes_back_to_sign_in_with_a_message(server, email, how):
    secret = turned_on_by_api(server, email)
    at = sign_in(app(), email, PASSWORD)
    assert labels(at) == [auth.CODE_LABEL]
    if how.startswith("session"):
        pending = at.session_state["docportal_mfa_challenge"]
        at.session_state["docportal_mfa_challenge"] = type(pending)(username=pending.username, session=str(uuid.uuid4()))
    else:
        aws.client("cognito-idp").meta.events.register(
            "before-call.cognito-idp.RespondToAuthChallenge", _expire_with("NotAuthorizedException"))
    at = type_code(at, codes.fresh_code(secret), "Verify")
    assert not at.exception
    assert labels(at) == ["E-mail", "Password"]
    assert auth.CODE_EXPIRED in texts(at)
    assert "docportal_user" not in at.session_state


def test_back_to_sign_in_leaves_the_code_form(server, email):
    turned_on_by_api(server, email)
    at = click(sign_in(app(), email, PASSWORD), "Back to sign-in")
    assert not at.exception
    assert labels(at) == ["E-mail", "Password"]
    assert "docportal_mfa_challenge" not in at.session_state


def test_turning_it_off_signs_in_with_the_password_only_again(server, email):
    secret = turned_on_by_api(server, email)
    at = account_page(email, codes.fresh_code(secret))
    assert "On." in texts(at)
    at = click(at, "Turn off two-step sign-in")  # not confirmed: nothing happens
    assert "tick the box" in texts(at)
    assert mfa_settings(server, email) == ["SOFTWARE_TOKEN_MFA"]
    at.checkbox[0].check()
    at = click(at, "Turn off two-step sign-in")  # no password, no code: refused, still on
    assert not at.exception
    assert mfa_settings(server, email) == ["SOFTWARE_TOKEN_MFA"]
    next(t for t in at.text_input if t.label == "Password").input(PASSWORD)
    next(t for t in at.text_input if t.label == auth.CODE_LABEL).input(codes.fresh_code(secret))
    at = click(at, "Turn off two-step sign-in")
    assert not at.exception
    assert "Two-step sign-in is off" in texts(at)
    assert mfa_settings(server, email) == []
    again = sign_in(app(), email, PASSWORD)
    assert again.title[0].value == "My files"


def test_cancelling_the_set_up_changes_nothing(server, email):
    at = click(account_page(email), "Set up an authenticator app")
    at = click(at, "Cancel set-up")
    assert not at.exception
    assert "Off." in texts(at)
    assert mfa_settings(server, email) == []


def test_the_account_page_refuses_a_user_without_a_role():
    page = AppTest.from_file(str(ROOT / "portal" / "app_pages" / "account.py"), default_timeout=60)
    signed_in_as(page, User(sub="s", email="new@example.com", groups=frozenset(), expires_at=2**40))
    page.run()
    assert not page.exception
    assert "no DocPortal role" in texts(page)
    assert not page.button


@pytest.mark.parametrize("groups", [{"uploaders"}, {"analysts"}, {"admins"}])
def test_every_user_with_a_role_gets_the_account_page(groups):
    from portal import navigation

    user = User(sub="s", email="a@example.com", groups=frozenset(groups), expires_at=2**40)
    assert ("account", "Account", ":material/shield_person:") in navigation.entries(user)
    nobody = User(sub="s", email="a@example.com", groups=frozenset(), expires_at=2**40)
    assert "account" not in [name for name, _, _ in navigation.entries(nobody)]


def test_without_an_access_token_the_page_asks_to_sign_in_again():
    from tests.helpers.pages import page_as

    at = page_as(User(sub="s", email="a@example.com", groups=frozenset({"uploaders"}), expires_at=2**40), "account")
    assert not at.exception
    assert at.title[0].value == "Account"
    assert "sign out and sign in again" in texts(at)
    assert not at.button


def test_a_new_password_then_the_code_when_aws_asks_for_both(server, email):
    """AWS asks a user with TOTP whose password an admin reset for the code after the new password.

    moto signs them in straight after the new password, so the answer to it
    is replaced (botocore after-call hook) with the SOFTWARE_TOKEN_MFA
    challenge moto gives when that user signs in with the new password.
    """
    secret = turned_on_by_api(server, email)
    cognito, pool = server.client("cognito-idp"), server.settings.user_pool_id
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password="Temporary-pass-2026", Permanent=False)
    new_password = "Brand-new-password-2026"

    def then_the_code(parsed: dict, model, **_: object) -> None:
        if model.name == "RespondToAuthChallenge" and "AuthenticationResult" in parsed and not asked:
            asked.append(True)
            challenge = cognito.initiate_auth(ClientId=server.settings.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                              AuthParameters={"USERNAME": email, "PASSWORD": new_password})
            assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
            parsed.clear()
            parsed.update(challenge)

    asked: list[bool] = []
    aws.client("cognito-idp").meta.events.register("after-call.cognito-idp.RespondToAuthChallenge", then_the_code)
    at = sign_in(app(), email, "Temporary-pass-2026")
    next(t for t in at.text_input if t.label == "New Password").input(new_password)
    next(t for t in at.text_input if t.label == "Confirm Password").input(new_password)
    at = click(at, "Reset Password")
    assert not at.exception
    assert asked
    assert labels(at) == [auth.CODE_LABEL]
    at = type_code(at, codes.fresh_code(secret), "Verify")
    assert not at.exception
    assert at.title[0].value == "My files"


def test_a_link_opened_signed_out_is_followed_after_the_code(server, email):
    secret = turned_on_by_api(server, email)
    at = sign_in(app("/dashboard", range="90 days"), email, PASSWORD)
    assert labels(at) == [auth.CODE_LABEL]
    at = type_code(at, codes.fresh_code(secret), "Verify")
    assert not at.exception
    assert at.title[0].value == "Dashboard"
    assert at.selectbox(key="range").value == "90d"
