"""The token request against the local token endpoint: what Cognito would say, and what the user is told."""

from __future__ import annotations

import contextlib
import socket

import pytest

from portal.hosted.exchange import ExchangeFailed, exchange
from portal.hosted.flow import Refusal, pkce_pair
from tests.helpers.token_endpoint import TokenEndpoint

REDIRECT = "http://127.0.0.1:8501/_docportal/callback"


@pytest.fixture
def idp():
    with TokenEndpoint("client-1", REDIRECT) as endpoint:
        yield endpoint


def test_a_code_with_its_verifier_buys_tokens(idp):
    verifier, challenge = pkce_pair()
    tokens = exchange(idp.url, "client-1", "", REDIRECT, idp.code_for(challenge, "n"), verifier)
    assert tokens.refresh_token == idp.issued_refresh_tokens[-1]
    assert idp.verifier().verify_id_token(tokens.id_token, nonce="n").sub == idp.user.sub


@pytest.mark.parametrize(("change", "refusal", "answered"), [
    ({"verifier": "wrong"}, Refusal.TOKEN_FAILED, (400, "invalid_grant")),
    ({"redirect": "http://127.0.0.1:8501/elsewhere"}, Refusal.TOKEN_FAILED, (400, "invalid_grant")),
    ({"client": "other-client"}, Refusal.TOKEN_FAILED, (401, "invalid_client")),
    ({"secret": "a secret the public client does not have"}, Refusal.TOKEN_FAILED, (401, "invalid_client")),
])
def test_a_refused_code_is_token_failed(idp, change, refusal, answered):
    verifier, challenge = pkce_pair()
    code = idp.code_for(challenge, "n")
    with pytest.raises(ExchangeFailed) as failed:
        exchange(idp.url, change.get("client", "client-1"), change.get("secret", ""),
                 change.get("redirect", REDIRECT), code, change.get("verifier", verifier))
    assert failed.value.refusal is refusal and idp.answered == [answered]


def test_a_code_is_good_once(idp):
    verifier, challenge = pkce_pair()
    code = idp.code_for(challenge, "n")
    exchange(idp.url, "client-1", "", REDIRECT, code, verifier)
    with pytest.raises(ExchangeFailed) as failed:
        exchange(idp.url, "client-1", "", REDIRECT, code, verifier)
    assert failed.value.refusal is Refusal.TOKEN_FAILED


def test_a_failing_endpoint_is_unavailable(idp):
    idp.fail_with = 503
    with pytest.raises(ExchangeFailed) as failed:
        exchange(idp.url, "client-1", "", REDIRECT, "code", "verifier")
    assert failed.value.refusal is Refusal.UNAVAILABLE


def test_an_unreachable_endpoint_is_unavailable():
    # bound, not listening: the connection is refused
    with closing_socket() as port, pytest.raises(ExchangeFailed) as failed:
        exchange(f"http://127.0.0.1:{port}", "client-1", "", REDIRECT, "code", "verifier")
    assert failed.value.refusal is Refusal.UNAVAILABLE


@contextlib.contextmanager
def closing_socket():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
