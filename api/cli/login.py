"""Signing in, and the tokens kept between commands: a person's or a script's, refreshed when they expire.

A person signs in with their e-mail and password (Cognito's
``USER_PASSWORD_AUTH`` with the portal's app client) and their ID token is
refreshed with ``REFRESH_TOKEN_AUTH``; a script signs in with its machine
client's id and secret at the pool's token endpoint (client credentials) and
simply gets a new token. Both need no AWS credentials.

The login lives in ``$XDG_CONFIG_HOME/docportal/login.json`` (else
``~/.config/docportal/``): the folder mode 0700, the file 0600, since it holds
a refresh token (or the script's secret). A file that others may read is
refused rather than used: someone may have copied it.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib import parse

from api.cli.http import UNREACHABLE, USAGE, CliError, send

#: A token this close to its expiry is refreshed first, so it cannot expire mid-command.
MARGIN_SECONDS = 60
FILE_NAME = "login.json"


@dataclass(frozen=True)
class Login:
    """Who is signed in and their current token; what refreshes it."""

    kind: str  # "person" or "machine"
    who: str  # the e-mail, or the machine client's id
    token: str
    expires_at: float
    refresh_token: str = ""  # a person's
    client_id: str = ""  # the app client a person signed in with
    cognito_url: str = ""  # where Cognito's API is (a stand-in's endpoint, or the region's)
    token_url: str = ""  # a script's token endpoint
    client_secret: str = ""  # a script's secret

    def fresh(self, now: float) -> Login:
        """This login with a token valid for at least :data:`MARGIN_SECONDS` more."""
        if self.expires_at - MARGIN_SECONDS > now:
            return self
        if self.kind == "machine":
            return machine_login(self.token_url, self.who, self.client_secret, now)
        result = _initiate_auth(self.cognito_url, self.client_id, "REFRESH_TOKEN_AUTH",
                                {"REFRESH_TOKEN": self.refresh_token}, self.who)
        return replace(self, token=str(result["IdToken"]), expires_at=now + int(result["ExpiresIn"]))


# --- signing in ---------------------------------------------------------------------------


def person_login(cognito_url: str, client_id: str, email: str, password: str, now: float) -> Login:
    """A person's login: their pool's tokens for ``email`` and ``password``."""
    result = _initiate_auth(cognito_url, client_id, "USER_PASSWORD_AUTH",
                            {"USERNAME": email, "PASSWORD": password}, email)
    return Login(kind="person", who=email, token=str(result["IdToken"]),
                 expires_at=now + int(result["ExpiresIn"]), refresh_token=str(result["RefreshToken"]),
                 client_id=client_id, cognito_url=cognito_url)


def machine_login(token_url: str, client_id: str, secret: str, now: float) -> Login:
    """A script's login: a client-credentials access token from the pool's token endpoint."""
    pair = f"{client_id}:{secret}".encode()
    reply = send("POST", token_url, body=parse.urlencode({"grant_type": "client_credentials"}).encode(),
                 headers={"Authorization": "Basic " + base64.b64encode(pair).decode(),
                          "Content-Type": "application/x-www-form-urlencoded"})
    if reply.status != 200:
        raise CliError(f"the token endpoint refused the client credentials of {client_id} ({reply.status})",
                       USAGE)
    body = reply.json()
    return Login(kind="machine", who=client_id, token=str(body["access_token"]),
                 expires_at=now + int(body.get("expires_in", 3600)), token_url=token_url,
                 client_secret=secret)


def _initiate_auth(cognito_url: str, client_id: str, flow: str, params: Mapping[str, str],
                   who: str) -> Mapping[str, Any]:
    """Cognito's InitiateAuth (a plain JSON call that needs no AWS credentials); its tokens."""
    body = json.dumps({"AuthFlow": flow, "ClientId": client_id, "AuthParameters": dict(params)}).encode()
    reply = send("POST", cognito_url.rstrip("/") + "/", body=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    if reply.status >= 500:
        raise CliError(f"the user pool answered {reply.status}; try again in a minute", UNREACHABLE)
    result = reply.json() if reply.status == 200 else {}
    tokens = result.get("AuthenticationResult") if isinstance(result, dict) else None
    if tokens:
        return dict(tokens)
    if flow == "REFRESH_TOKEN_AUTH":
        raise CliError(f"the login of {who} has expired: sign in again with docportal login", USAGE)
    why = result.get("ChallengeName") if isinstance(result, dict) else None
    reason = (f"the pool asks for {why}, which this client cannot answer" if why
              else "wrong e-mail or password")
    raise CliError(f"sign-in as {who} failed: {reason}", USAGE)


# --- the cache ----------------------------------------------------------------------------


def folder(env: Mapping[str, str]) -> Path:
    """Where the login is kept."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "docportal"


def save(login: Login, env: Mapping[str, str]) -> Path:
    """Keep ``login`` (folder 0700, file 0600, replaced at once); its path."""
    where = folder(env)
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    where.chmod(0o700)
    path = where / FILE_NAME
    partial = where / f".{FILE_NAME}.{os.getpid()}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(login), out)
    partial.chmod(0o600)
    partial.replace(path)
    return path


def load(env: Mapping[str, str]) -> Login | None:
    """The kept login, or None; refused (exit code 2) when others may read it or it is damaged."""
    path = folder(env) / FILE_NAME
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CliError(f"{path} may be read by others (mode {stat.S_IMODE(mode):o}), so it is not used: "
                       "remove it (docportal logout) and sign in again", USAGE)
    try:
        return Login(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as e:
        raise CliError(f"{path} is damaged: remove it (docportal logout) and sign in again", USAGE) from e


def forget(env: Mapping[str, str]) -> bool:
    """Remove the kept login; False when there was none."""
    try:
        (folder(env) / FILE_NAME).unlink()
    except FileNotFoundError:
        return False
    return True


def current(env: Mapping[str, str], now: float | None = None) -> Login | None:
    """The kept login with a fresh token (kept again when it was refreshed), or None."""
    kept = load(env)
    if kept is None:
        return None
    fresh = kept.fresh(time.time() if now is None else now)
    if fresh is not kept:
        save(fresh, env)
    return fresh
