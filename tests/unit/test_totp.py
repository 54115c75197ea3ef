"""Pure authenticator-app helpers: code checks, the otpauth:// URI, the QR code, MFA status."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from portal.users import totp
from tests.helpers import totp as codes

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of b"12345678901234567890", RFC 6238 appendix B


@pytest.mark.parametrize(("at", "expected"), [(59, "94287082"), (1111111109, "07081804"),
                                              (1234567890, "89005924"), (20000000000, "65353130")])
def test_the_test_code_generator_matches_rfc_6238(at, expected):
    assert codes.code(RFC_SECRET, at, digits=8) == expected
    assert codes.code(RFC_SECRET, at) == expected[-6:]


def test_a_wrong_code_is_no_code_of_the_neighbouring_steps():
    wrong = codes.wrong_code(RFC_SECRET)
    assert len(wrong) == 6 and wrong.isdigit()
    assert wrong not in {codes.code(RFC_SECRET), codes.code(RFC_SECRET, codes.time.time() - 30)}


@pytest.mark.parametrize(("raw", "code"), [("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"),
                                           ("000000", "000000")])
def test_codes_as_apps_show_them_are_accepted(raw, code):
    assert totp.normalize_code(raw) == code


@pytest.mark.parametrize("raw", ["", "   ", "12345", "1234567", "12345a", "１２３４５６", "12 34 5"])
def test_anything_but_six_digits_gets_a_clear_message(raw):
    with pytest.raises(totp.InvalidCode, match="6"):
        totp.normalize_code(raw)


def test_the_otpauth_uri_names_the_issuer_account_and_cognitos_parameters():
    uri = totp.otpauth_uri("abcd efgh", "jane.doe+x@example.com")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/DocPortal:jane.doe+x@example.com"
    assert "+" not in parts.path.replace("%2B", "")  # a literal + would read as a space
    assert parse_qs(parts.query) == {"secret": ["ABCDEFGH"], "issuer": ["DocPortal"], "algorithm": ["SHA1"],
                                     "digits": ["6"], "period": ["30"]}


def test_an_issuer_with_spaces_is_encoded_and_a_missing_secret_refused():
    uri = totp.otpauth_uri("ABCD", "a@example.com", issuer="Doc Portal")
    assert uri.startswith("otpauth://totp/Doc%20Portal:a@example.com?")
    assert "issuer=Doc%20Portal" in uri
    with pytest.raises(ValueError, match="secret"):
        totp.otpauth_uri("", "a@example.com")


def test_the_secret_is_grouped_for_typing():
    assert totp.grouped("abcdefghij") == "ABCD EFGH IJ"


def test_the_qr_code_is_a_png():
    png = totp.qr_png(totp.otpauth_uri("ABCD", "a@example.com"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 200


@pytest.mark.parametrize(("response", "enabled", "preferred"), [
    ({}, False, False),
    ({"UserMFASettingList": [], "PreferredMfaSetting": ""}, False, False),
    ({"UserMFASettingList": ["SOFTWARE_TOKEN_MFA"], "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA"}, True, True),
    ({"UserMFASettingList": ["SMS_MFA", "SOFTWARE_TOKEN_MFA"], "PreferredMfaSetting": "SMS_MFA"}, True, False),
])
def test_status_is_read_from_get_user(response, enabled, preferred):
    status = totp.status_from_user(response)
    assert (status.totp_enabled, status.totp_preferred, status.asks_for_code) == (enabled, preferred, enabled)
