"""Password-reset codes on the local stand-in, which sends no e-mail: written down, said by `make run`.

Cognito e-mails the code a "Forgot password?" asks for; moto sends nothing
and only hands the code back in a response header, which the portal (rightly)
never reads. So ``make run``'s moto server (:mod:`devstack.moto_server`,
``--reset-codes FILE``) writes each code it issues to FILE, and ``make run``
prints it, labelled as local only. Nothing here exists on AWS: a deployed
stack's codes go by e-mail and are printed nowhere.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

LABEL = "LOCAL ONLY (the stand-in sends no e-mail)"


def wrap(original: Callable[..., Any], codes: Path) -> Callable[..., Any]:
    """moto's ``forgot_password``, also writing the code it issues to ``codes`` (none: unknown account)."""

    @functools.wraps(original)
    def forgot_password(self: Any, client_id: str, username: str) -> Any:
        result = original(self, client_id, username)
        code = result[0]
        if code:
            with codes.open("a", encoding="utf-8") as out:
                out.write(f"{username}\t{code}\n")
        return result

    return forgot_password


def patch(codes: Path) -> None:
    """Make this process's moto write every reset code to ``codes``."""
    from moto.cognitoidp.models import CognitoIdpBackend

    CognitoIdpBackend.forgot_password = wrap(  # type: ignore[method-assign]
        CognitoIdpBackend.forgot_password, codes)


def line(entry: str) -> str:
    """What ``make run`` prints for one line of the codes file."""
    email, _, code = entry.rstrip("\n").partition("\t")
    return f"{LABEL}: password reset code for {email}: {code}"


def relay(codes: Path, say: Callable[[str], None], stop: threading.Event, interval: float = 1.0,
          start: int | None = None) -> None:
    """Say each code written to ``codes`` after byte ``start`` (default: now) until ``stop`` is set."""
    offset = start if start is not None else (codes.stat().st_size if codes.exists() else 0)
    while not stop.wait(interval):
        if not codes.exists():
            continue
        with codes.open(encoding="utf-8") as lines:
            lines.seek(offset)
            chunk = lines.read()
        complete, _, _ = chunk.rpartition("\n")
        if not complete:
            continue
        offset += len((complete + "\n").encode("utf-8"))
        for entry in complete.split("\n"):
            say(line(entry))
