"""Errors whose message is written for the person using the portal."""

from __future__ import annotations


class CognitoRefused(Exception):
    """A change that did not happen; the message is for people.

    ``code`` is Cognito's error code when Cognito refused, else empty, so
    callers and tests can tell the reasons apart without parsing messages.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code
