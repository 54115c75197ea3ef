"""Every password the project sets itself meets the pool's password policy, as Cognito checks it."""

from __future__ import annotations

import re

import pytest

from devstack import template as tpl
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal.users import accounts
from tests.helpers.users import PASSWORDS

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


@pytest.mark.parametrize("password", [DEFAULT_DEMO_PASSWORD, *PASSWORDS])
def test_passwords_set_by_the_project_meet_the_policy(password):
    assert problems(password) == []


def test_temporary_passwords_meet_the_policy():
    for _ in range(200):
        password = accounts.temporary_password()
        assert problems(password) == [], password
