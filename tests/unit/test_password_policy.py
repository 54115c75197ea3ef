"""Every password the project sets itself meets the pool's password policy, as Cognito checks it."""

from __future__ import annotations

import re

import pytest

from devstack import template as tpl
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal import accounts

#: The characters Cognito counts as symbols (its password-policy documentation; moto uses the same list).
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
POLICY = tpl.load()["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]


def problems(password: str) -> list[str]:
    """What the template's policy finds wrong with ``password`` (empty: it is accepted)."""
    checks = {
        "MinimumLength": len(password) >= POLICY["MinimumLength"],
        "RequireLowercase": not POLICY["RequireLowercase"] or bool(re.search("[a-z]", password)),
        "RequireUppercase": not POLICY["RequireUppercase"] or bool(re.search("[A-Z]", password)),
        "RequireNumbers": not POLICY["RequireNumbers"] or bool(re.search("[0-9]", password)),
        "RequireSymbols": not POLICY["RequireSymbols"] or bool(set(password) & SYMBOLS),
    }
    return [name for name, ok in checks.items() if not ok]


def test_the_checker_refuses_what_the_policy_refuses():
    assert problems("DocPortaldemo2026") == ["RequireSymbols"]
    assert problems("short-A1") == ["MinimumLength"]
    assert problems("no-upper-case-2026") == ["RequireUppercase"]


def _test_passwords() -> dict[str, str]:
    from tests.aws import test_mfa, test_users
    from tests.portal import test_first_sign_in, test_mfa_sign_in, test_sessions

    return {"tests/aws/test_users.py": test_users.PASSWORD, "tests/aws/test_users.py (reset)": "Another-password-2027",
            "tests/aws/test_mfa.py": test_mfa.PASSWORD, "tests/portal/test_sessions.py": test_sessions.PASSWORD,
            "tests/portal/test_first_sign_in.py": test_first_sign_in.NEW_PASSWORD,
            "tests/portal/test_mfa_sign_in.py": test_mfa_sign_in.PASSWORD}


@pytest.mark.parametrize(("where", "password"), [("devstack DEFAULT_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD),
                                                 *_test_passwords().items()])
def test_passwords_set_by_the_project_meet_the_policy(where, password):
    assert problems(password) == [], where


def test_temporary_passwords_meet_the_policy():
    for _ in range(200):
        password = accounts.temporary_password()
        assert problems(password) == [], password
