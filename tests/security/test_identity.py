"""Attacks on who the portal believes a user is (portal.tokens)."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack import template as tpl
from portal.files import actions
from portal.tokens import TokenVerifier

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "client-123"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(**claims: object) -> str:
    now = int(time.time())
    base: dict[str, object] = {"iss": ISSUER, "aud": CLIENT, "sub": "sub-1", "token_use": "id", "iat": now,
                               "exp": now + 3600, "email": "eve@example.com", "email_verified": True}
    return jwt.encode({k: v for k, v in {**base, **claims}.items() if v is not None}, KEY, algorithm="RS256")


def verifier() -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, client_id=CLIENT, resolve_key=lambda _: KEY.public_key())


@pytest.mark.parametrize("verified", [False, "false", None])
def test_an_unverified_email_is_never_trusted_as_who_the_user_is(verified):
    """Attack: a user sets their e-mail to cfo@example.com straight against Cognito (not verified);
    the portal trusted the ID token's e-mail and recorded it as the owner of new uploads and exports."""
    user = verifier().verify_id_token(token(email="cfo@example.com", email_verified=verified))
    assert user.email == ""
    assert verifier().verify_id_token(token(email_verified="true")).email == "eve@example.com"


def test_a_user_cannot_change_the_email_cognito_vouches_for():
    """Attack: with their own access token a user calls Cognito's UpdateUserAttributes and sets their e-mail
    to cfo@example.com; any client a person signs in through let them write every attribute, and the pool
    took a new e-mail at once, unverified."""
    resources = tpl.load()["Resources"]
    clients = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Cognito::UserPoolClient"}
    people = {name for name, c in clients.items() if "ExplicitAuthFlows" in c or ("AllowedOAuthScopes" in c
              and "client_credentials" not in str(c.get("AllowedOAuthFlows")))}
    assert people == {"UserPoolClient"}
    assert all(clients[name]["WriteAttributes"] == [] for name in people)
    pool = resources["UserPool"]["Properties"]
    assert pool["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"] == ["email"]


def test_a_few_seconds_of_clock_skew_do_not_end_a_session():
    """Not an attack, the other side of strict checks: a server whose clock runs 20 s behind Cognito's
    refused every fresh token ("issued in the future"), signing everyone out."""
    now = int(time.time())
    assert verifier().verify_id_token(token(iat=now + 20)).sub == "sub-1"
    assert verifier().verify_id_token(token(exp=now - 20)).sub == "sub-1"  # within the allowed skew


def test_an_admin_signed_in_with_a_password_alone_cannot_manage_users(stack):
    """Attack: an admin's password leaks (phishing, reuse); with it alone the attacker invites accounts,
    promotes them to admins and disables everyone else. Admins must have signed in with their
    authenticator code to manage users."""
    from common import aws
    from portal.access import NotAllowed, User
    from portal.users import service
    from portal.users.accounts import Delivery

    password_only = User(sub="adm", email="adm@example.com", groups=frozenset({"admins"}), expires_at=2**40)
    with pytest.raises(NotAllowed, match="two-step sign-in"):
        service.invite(aws.client("cognito-idp"), stack.user_pool_id, password_only, "mallory@example.com",
                       ["admins"], Delivery.SHOW)
    with_code = User(sub="adm", email="adm@example.com", groups=frozenset({"admins"}), expires_at=2**40,
                     second_factor=True)
    invited = service.invite(aws.client("cognito-idp"), stack.user_pool_id, with_code, "ok@example.com", [],
                             Delivery.SHOW)
    assert invited.account.email == "ok@example.com"


def test_an_admin_signed_in_with_a_password_alone_cannot_delete_anyones_files(stack):
    """Attack: with a leaked admin password alone, the attacker deletes every user's files."""
    import io

    from common import aws
    from portal.access import NotAllowed, User
    from portal.files.uploads import store_upload
    from tests.helpers.files import tiny_pdf
    from tests.helpers.users import ANN

    record = store_upload(user=ANN, name="contract.pdf", body=io.BytesIO(tiny_pdf()), content_type="",
                          s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack)
    password_only = User(sub="adm", email="adm@example.com", groups=frozenset({"admins"}), expires_at=2**40)
    with pytest.raises(NotAllowed):
        actions.delete_file(user=password_only, s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack,
                            file_id=record.file_id)


def test_an_admin_signed_in_with_a_password_alone_reads_no_one_elses_files_or_exports():
    """Attack: with a leaked admin password alone, the attacker reads every user's files and exports them."""
    from portal import access
    from portal.access import User
    from tests.helpers.records import sample_record

    password_only = User(sub="adm", email="adm@example.com", groups=frozenset({"admins"}), expires_at=2**40)
    assert not access.sees_everyone(password_only)
    assert not access.may_export(password_only)
    assert not access.may_view(password_only, sample_record(owner="ann"))
    with_code = User(sub="adm", email="adm@example.com", groups=frozenset({"admins"}), expires_at=2**40,
                     second_factor=True)
    assert access.sees_everyone(with_code) and access.may_export(with_code)
