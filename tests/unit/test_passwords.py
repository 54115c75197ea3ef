"""The pool's password rules in words, and Cognito's refusals (portal.users.passwords)."""

from __future__ import annotations

from portal.users import passwords
from portal.users.passwords import PasswordPolicy


def test_the_template_policy_reads_as_one_sentence():
    rules = PasswordPolicy.from_cognito({"MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True,
                                         "RequireNumbers": True, "RequireSymbols": True,
                                         "TemporaryPasswordValidityDays": 7})
    assert rules.describe() == ("Your password needs at least 12 characters, with a lower-case letter, "
                                "an upper-case letter, a digit and a symbol such as ! - # or %.")


def test_fewer_rules_fewer_words():
    assert PasswordPolicy.from_cognito({"MinimumLength": 10, "RequireLowercase": False, "RequireUppercase": False,
                                        "RequireNumbers": True, "RequireSymbols": False}).describe() == (
        "Your password needs at least 10 characters, with a digit.")
    assert PasswordPolicy(6, False, False, False, False).describe() == "Your password needs at least 6 characters."


def test_a_pool_that_says_nothing_has_cognitos_defaults():
    assert PasswordPolicy.from_cognito({}) == PasswordPolicy(8, True, True, True, True)


def test_unknown_refusals_have_no_words():
    assert passwords.refusal("InternalErrorException", PasswordPolicy()) is None
    assert passwords.refusal("CodeMismatchException", PasswordPolicy()) == passwords.WRONG_CODE
