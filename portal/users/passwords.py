"""Words for choosing a password: the pool's policy, said before anyone types, and Cognito's refusals.

Pure: the policy comes in as DescribeUserPool's ``Policies.PasswordPolicy``
(read by :mod:`portal.users.recovery`); Cognito stays the judge of every
password, these words only tell people the rules first and explain a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: What the forgot-password form says after a request, whether or not the account exists (OWASP).
CODE_SENT = ("If an account exists for that e-mail, a code to reset its password is on its way. "
             "Type it below with your new password. The code is valid for one hour.")
PASSWORD_CHANGED = "Your password has been changed. Sign in with the new one."  # noqa: S105 - a message
WRONG_CODE = "That code is not right. Check the latest e-mail, or ask for a new code."
EXPIRED_CODE = "That code has expired or was already used. Ask for a new code."
TOO_MANY = "Too many attempts. Please wait a few minutes, then try again."
WRONG_CURRENT = "The current password is not right."
MISMATCH = "The two new passwords differ. Type the same new password twice."
EMPTY = "Please fill in every field."
SAME = "The new password must differ from the current one."
NOT_ACCEPTED = "The new password was not accepted."


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules a pool sets for passwords (Cognito's defaults when it says nothing)."""

    minimum_length: int = 8
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True

    @classmethod
    def from_cognito(cls, policy: Mapping[str, Any]) -> PasswordPolicy:
        """From DescribeUserPool's ``UserPool.Policies.PasswordPolicy``."""
        default = cls()
        return cls(minimum_length=int(policy.get("MinimumLength", default.minimum_length)),
                   require_lowercase=bool(policy.get("RequireLowercase", default.require_lowercase)),
                   require_uppercase=bool(policy.get("RequireUppercase", default.require_uppercase)),
                   require_numbers=bool(policy.get("RequireNumbers", default.require_numbers)),
                   require_symbols=bool(policy.get("RequireSymbols", default.require_symbols)))

    def describe(self) -> str:
        """One sentence for the form: what a new password needs."""
        needs = [name for name, wanted in (
            ("a lower-case letter", self.require_lowercase),
            ("an upper-case letter", self.require_uppercase),
            ("a digit", self.require_numbers),
            ("a symbol such as ! - # or %", self.require_symbols)) if wanted]
        sentence = f"Your password needs at least {self.minimum_length} characters"
        if not needs:
            return sentence + "."
        listed = needs[0] if len(needs) == 1 else ", ".join(needs[:-1]) + " and " + needs[-1]
        return f"{sentence}, with {listed}."


def invalid_password(policy: PasswordPolicy) -> str:
    """Cognito's InvalidPasswordException, in words that repeat the rules."""
    return f"That password does not meet the rules. {policy.describe()}"


def refusal(code: str, policy: PasswordPolicy) -> str | None:
    """Words for Cognito error ``code`` on a reset or change; None when it is not the user's to fix."""
    words = {
        "CodeMismatchException": WRONG_CODE,
        # With PreventUserExistenceErrors an unknown account gets CodeMismatch too; moto may not.
        "UserNotFoundException": WRONG_CODE,
        "ExpiredCodeException": EXPIRED_CODE,
        "LimitExceededException": TOO_MANY,
        "TooManyRequestsException": TOO_MANY,
        "TooManyFailedAttemptsException": TOO_MANY,
        "InvalidPasswordException": invalid_password(policy),
        "PasswordHistoryPolicyViolationException": "That password was used recently. Choose another one.",
    }
    return words.get(code)
