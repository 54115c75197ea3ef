import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.access import Role
from portal.tokens import TokenError, TokenExpired, TokenVerifier

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "client-123"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def verifier() -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, client_id=CLIENT, resolve_key=lambda token: KEY.public_key())


def id_token(key=KEY, algorithm="RS256", **overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "sub-1", "token_use": "id", "iat": now,
              "exp": now + 3600, "email": "a@example.com", "email_verified": True,
              "cognito:groups": ["uploaders", "other"]}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def access_token(**overrides) -> str:
    return id_token(**{"token_use": "access", "aud": None, "client_id": CLIENT, **overrides})


def test_a_valid_id_token_gives_the_user_and_roles():
    user = verifier().verify_id_token(id_token())
    assert (user.sub, user.email) == ("sub-1", "a@example.com")
    assert user.groups == {"uploaders", "other"}
    assert user.roles == {Role.UPLOADERS}
    assert user.has(Role.UPLOADERS) and not user.has(Role.ADMINS)


def test_expired_tokens_are_told_apart():
    with pytest.raises(TokenExpired):
        verifier().verify_id_token(id_token(exp=int(time.time()) - 120))


@pytest.mark.parametrize("overrides", [
    {"iss": "https://cognito-idp.us-east-1.amazonaws.com/another_pool"},
    {"aud": "another-client"},
    {"token_use": "access"},
    {"sub": None},
    {"exp": None},
])
def test_tokens_with_wrong_claims_are_refused(overrides):
    with pytest.raises(TokenError):
        verifier().verify_id_token(id_token(**overrides))


def test_tokens_signed_by_another_key_are_refused():
    with pytest.raises(TokenError):
        verifier().verify_id_token(id_token(key=OTHER_KEY))


def test_unsigned_and_symmetric_tokens_are_refused():
    with pytest.raises(TokenError):
        verifier().verify_id_token(id_token(key=None, algorithm="none"))
    with pytest.raises(TokenError):
        verifier().verify_id_token(id_token(key="shared-secret-that-is-long-enough-for-hs256", algorithm="HS256"))


def test_access_tokens_must_belong_to_our_client():
    assert verifier().verify_access_token(access_token())["client_id"] == CLIENT
    with pytest.raises(TokenError, match="another app client"):
        verifier().verify_access_token(access_token(client_id="someone-else"))
    with pytest.raises(TokenError):
        verifier().verify_access_token(id_token())


def test_a_hosted_sign_ins_id_token_must_carry_its_nonce():
    assert verifier().verify_id_token(id_token(nonce="n-1"), nonce="n-1").sub == "sub-1"
    with pytest.raises(TokenError, match="nonce"):
        verifier().verify_id_token(id_token(nonce="n-2"), nonce="n-1")
    with pytest.raises(TokenError, match="nonce"):
        verifier().verify_id_token(id_token(), nonce="n-1")
