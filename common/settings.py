"""Every setting DocPortal reads, from one place: the environment.

Every process (Lambda, local worker, portal, command lines, tests) is
configured the same way. Names of the stack's resources come from
environment variables (or, when only ``DOCPORTAL_STACK`` is set, from that
stack's outputs), and boto3's standard configuration (credential chain,
``AWS_REGION``, ``AWS_ENDPOINT_URL``) decides where AWS is. Nothing else
hard-codes a bucket, table or queue, and no other module reads a
``DOCPORTAL_*`` variable: each is a field of :class:`Settings`, parsed and
checked here, so a wrong value is reported once, under its own name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.catalogue import FAMILY_NAMES

#: Environment variable of each setting.
ENV_NAMES: Mapping[str, str] = {
    # where the stack is
    "region": "AWS_REGION",
    "endpoint_url": "AWS_ENDPOINT_URL",
    "bucket": "DOCPORTAL_BUCKET",
    "table": "DOCPORTAL_TABLE",
    "queue_url": "DOCPORTAL_QUEUE_URL",
    "dlq_url": "DOCPORTAL_DLQ_URL",
    "user_pool_id": "DOCPORTAL_USER_POOL_ID",
    "client_id": "DOCPORTAL_CLIENT_ID",
    "stack": "DOCPORTAL_STACK",
    "sessions_table": "DOCPORTAL_SESSIONS_TABLE",
    # extraction
    "max_receive_count": "DOCPORTAL_MAX_RECEIVE_COUNT",
    "parse_memory_mb": "DOCPORTAL_PARSE_MEMORY_MB",
    "parse_seconds": "DOCPORTAL_PARSE_SECONDS",
    "max_parse_mb": "DOCPORTAL_MAX_PARSE_MB",
    # the portal's uploads
    "upload_max_mb": "DOCPORTAL_UPLOAD_MAX_MB",
    "upload_formats": "DOCPORTAL_UPLOAD_FORMATS",
    "upload_session_mb": "DOCPORTAL_UPLOAD_SESSION_MB",
    "upload_process_mb": "DOCPORTAL_UPLOAD_PROCESS_MB",
    "upload_multipart_mb": "DOCPORTAL_UPLOAD_MULTIPART_MB",
    # the portal's lasting sessions
    "session_key": "DOCPORTAL_SESSION_KEY",
    "session_hours": "DOCPORTAL_SESSION_HOURS",
    "session_check_seconds": "DOCPORTAL_SESSION_CHECK_SECONDS",
    # how people sign in: the portal's own form, or the Cognito Hosted UI (SSO)
    "sign_in": "DOCPORTAL_SIGN_IN",
    "hosted_domain": "DOCPORTAL_HOSTED_DOMAIN",
    "callback_url": "DOCPORTAL_CALLBACK_URL",
    "signout_url": "DOCPORTAL_SIGNOUT_URL",
    "client_secret": "DOCPORTAL_CLIENT_SECRET",
    "hosted_domain_prefix": "DOCPORTAL_HOSTED_DOMAIN_PREFIX",
    # the local stand-in (make run)
    "state_dir": "DOCPORTAL_STATE_DIR",
    "moto_port": "DOCPORTAL_MOTO_PORT",
    "portal_port": "DOCPORTAL_PORT",
    "api_port": "DOCPORTAL_API_PORT",
    # the API's command-line client (docportal, python -m api.cli)
    "api_url": "DOCPORTAL_API_URL",
    "api_token": "DOCPORTAL_API_TOKEN",
    "api_password": "DOCPORTAL_API_PASSWORD",
    "token_url": "DOCPORTAL_TOKEN_URL",
    "machine_client_id": "DOCPORTAL_MACHINE_CLIENT_ID",
    "machine_client_secret": "DOCPORTAL_MACHINE_CLIENT_SECRET",
    "compact_seconds": "DOCPORTAL_COMPACT_SECONDS",
    # template parameters for make deploy
    "environment": "DOCPORTAL_ENVIRONMENT",
    "alarm_email": "DOCPORTAL_ALARM_EMAIL",
    "portal_origin": "DOCPORTAL_PORTAL_ORIGIN",
    "retention_days": "DOCPORTAL_RETENTION_DAYS",
    "threat_protection": "DOCPORTAL_THREAT_PROTECTION",
    "uploads_tiering": "DOCPORTAL_UPLOADS_INTELLIGENT_TIERING",
}
#: The fields that say where a stack's resources are (what ``stack.json`` and :meth:`Settings.to_env` hold).
STACK_FIELDS = ("region", "bucket", "table", "endpoint_url", "queue_url", "dlq_url", "user_pool_id",
                "client_id", "sessions_table")
#: Settings a process that uses the stack cannot run without.
REQUIRED = ("region", "bucket", "table")
#: Template parameter <- setting, for ``make deploy``; empty settings leave the template's default.
TEMPLATE_PARAMETERS: Mapping[str, str] = {
    "Environment": "environment", "AlarmEmail": "alarm_email", "PortalOrigin": "portal_origin",
    "RetentionDays": "retention_days", "ThreatProtection": "threat_protection",
    "UploadsIntelligentTiering": "uploads_tiering",
    "HostedDomainPrefix": "hosted_domain_prefix", "CallbackUrls": "callback_url",
    "SignOutUrls": "signout_url",
}
#: The ways to sign in: ``form`` (the portal's own page) or ``hosted`` (Cognito Hosted UI, code flow + PKCE).
SIGN_IN_MODES = ("form", "hosted")
#: Where the Hosted UI sends the browser back (portal.hosted.flow.CALLBACK_ROUTE).
CALLBACK_PATH = "/_docportal/callback"
#: Hosts reached over plain HTTP during development, where ``http://`` URLs are allowed.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
#: The template's ``MaxFileSizeMB`` default and the extractor's parse limit.
DEFAULT_MAX_MB = 512


class SettingsError(RuntimeError):
    """The environment does not describe a usable stack, or a setting is unusable."""


@dataclass(frozen=True)
class Settings:
    """Everything a DocPortal process is configured with; every field has its variable in ENV_NAMES."""

    region: str = ""
    bucket: str = ""
    table: str = ""
    endpoint_url: str = ""
    queue_url: str = ""
    dlq_url: str = ""
    user_pool_id: str = ""
    client_id: str = ""
    #: A deployed stack whose outputs supply the resource names when they are not set.
    stack: str = ""
    #: The portal's sessions table (hashed session ids, encrypted refresh tokens); empty: no lasting sessions.
    sessions_table: str = ""
    #: Deliveries before a message goes to the dead-letter queue (the last one marks the file failed).
    max_receive_count: int = 5
    #: Memory cap and time limit for parsing one file.
    parse_memory_mb: int = 512
    parse_seconds: float = 30.0
    #: Larger files are hashed and measured but not parsed.
    max_parse_mb: int = DEFAULT_MAX_MB
    #: Largest upload the portal accepts; None: the parse limit.
    upload_max_mb: int | None = None
    #: Families (catalogue.FAMILIES) the portal accepts; empty: all.
    upload_formats: tuple[str, ...] = ()
    #: What one session may hold in the portal's memory through Streamlit's own upload endpoint
    #: (no page uses it: uploads go straight to S3).
    upload_session_mb: int = 4
    #: What all sessions together may hold there: the portal process's memory budget for it.
    upload_process_mb: int = 64
    #: Direct uploads (the API's) larger than this many MiB are sent as S3 multipart uploads, in parts.
    upload_multipart_mb: int = 100
    #: Fernet key (urlsafe base64 of 32 bytes) that encrypts stored refresh tokens; empty: one per process.
    session_key: str = ""
    #: A lasting session's life: the app client's RefreshTokenValidity (12 hours in the template).
    session_hours: int = 12
    #: How often a signed-in session is re-checked with Cognito and the sessions table.
    session_check_seconds: float = 60.0
    #: ``form`` (default) or ``hosted``: sign in through the Cognito Hosted UI (and any IdP federated to it).
    sign_in: str = "form"
    #: The pool's Hosted UI domain, ``https://<prefix>.auth.<region>.amazoncognito.com`` (or a custom one).
    hosted_domain: str = ""
    #: The portal's callback URL as registered on the app client: ``https://<portal>/_docportal/callback``.
    callback_url: str = ""
    #: Where the Hosted UI's ``/logout`` sends the browser afterwards (a registered sign-out URL).
    signout_url: str = ""
    #: The app client's secret, when it has one (HTTP Basic at the token endpoint); empty: a public client.
    client_secret: str = ""
    #: For ``make deploy``: the Hosted UI domain's prefix to create (the template's ``HostedDomainPrefix``).
    hosted_domain_prefix: str = ""
    state_dir: str = ""
    moto_port: int = 4566
    portal_port: int = 8501
    #: Where the local stand-in serves the API handler (devstack/api_server.py).
    api_port: int = 8502
    #: The API the command-line client calls (default: the local one), and how it gets a token:
    #: a token as it is; a script's client credentials at the pool's token endpoint; or a
    #: person's password (for ``--user``).
    api_url: str = ""
    api_token: str = field(default="", repr=False)
    api_password: str = field(default="", repr=False)
    token_url: str = ""
    machine_client_id: str = ""
    machine_client_secret: str = field(default="", repr=False)
    #: Seconds between the local worker's compaction runs; 0 turns them off.
    compact_seconds: float = 600.0
    environment: str = ""
    alarm_email: str = ""
    portal_origin: str = ""
    retention_days: str = ""
    threat_protection: str = ""
    uploads_tiering: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, need_stack: bool = True) -> Settings:
        """Read every setting from ``env`` (default ``os.environ``).

        When neither bucket nor table is set but ``DOCPORTAL_STACK`` is, the
        stack's outputs supply them (read once per process). ``need_stack``
        False is for processes that run before or without a stack (the
        command-line extractor, the local supervisor, ``make deploy``): they
        get what the environment says, and no stack is looked up.

        Raises
        ------
        SettingsError
            When a value is unusable, naming its variable; or, with
            ``need_stack``, when a required variable is missing (naming every
            missing one) or the named stack cannot be read.
        """
        env = os.environ if env is None else env
        raw = {name: env.get(var, "").strip() for name, var in ENV_NAMES.items()}
        if not raw["region"]:
            raw["region"] = env.get("AWS_DEFAULT_REGION", "").strip()
        settings = cls(**{f.name: _parse(f.name, raw[f.name]) for f in fields(cls)
                          if raw[f.name]})
        _check_sign_in(settings)
        if not need_stack:
            return settings
        if settings.stack and not (settings.bucket or settings.table):
            from common import stack  # boto3 only where a stack is named

            found = stack.cached_settings(settings.stack, settings.region, settings.endpoint_url)
            return replace(settings, **{name: getattr(found, name) for name in STACK_FIELDS})
        missing = [ENV_NAMES[name] for name in REQUIRED if not getattr(settings, name)]
        if missing:
            raise SettingsError(
                "DocPortal is not configured: set " + ", ".join(missing)
                + " (make run does this for the local stack),"
                " or DOCPORTAL_STACK to read a deployed stack's outputs."
            )
        return settings

    @property
    def issuer(self) -> str:
        """The ``iss`` claim Cognito puts in this pool's tokens (also on moto)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """Where the pool's signing keys are; a stand-in serves them itself."""
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.user_pool_id}/.well-known/jwks.json"
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def upload_limit_mb(self) -> int:
        """Largest upload in MB: ``DOCPORTAL_UPLOAD_MAX_MB``, else the parse limit."""
        return self.upload_max_mb if self.upload_max_mb is not None else self.max_parse_mb

    @property
    def upload_limit_variable(self) -> str:
        """The variable the upload limit comes from, for messages to operators."""
        return ENV_NAMES["upload_max_mb" if self.upload_max_mb is not None else "max_parse_mb"]

    def template_parameters(self) -> dict[str, str]:
        """Template parameters these settings choose (``TEMPLATE_PARAMETERS``); unset ones are left out."""
        return {name: value for name, field in TEMPLATE_PARAMETERS.items() if (value := getattr(self, field))}

    def to_env(self) -> dict[str, str]:
        """The environment variables that reproduce where the stack is."""
        env = {ENV_NAMES[name]: str(getattr(self, name)) for name in STACK_FIELDS}
        env["AWS_DEFAULT_REGION"] = self.region
        return {k: v for k, v in env.items() if v}

    def dump(self, path: Path) -> None:
        """Write where the stack is as JSON, so scripts and tests can attach to it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({name: getattr(self, name) for name in STACK_FIELDS}, indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings written by :meth:`dump`."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as e:
            raise SettingsError(f"{path} does not exist: is `make run` running?") from e
        values: dict[str, Any] = {name: str(data.get(name, "")) for name in STACK_FIELDS}
        return cls(**values)


_INTEGERS = {"max_receive_count": 1, "parse_memory_mb": 1, "max_parse_mb": 1, "upload_max_mb": 1,
             "upload_session_mb": 1, "upload_process_mb": 1, "upload_multipart_mb": 1,
             "moto_port": 1, "portal_port": 1, "session_hours": 1, "api_port": 1}
_SECONDS = {"parse_seconds": 0.001, "compact_seconds": 0.0, "session_check_seconds": 0.0}


def _check_sign_in(settings: Settings) -> None:
    """Refuse a sign-in mode that cannot work, naming what to set (checked when the settings are read)."""
    if settings.sign_in not in SIGN_IN_MODES:
        raise SettingsError(f"{ENV_NAMES['sign_in']} must be one of {', '.join(SIGN_IN_MODES)},"
                            f" not {settings.sign_in!r}")
    if settings.sign_in != "hosted":
        return
    needed = ("hosted_domain", "callback_url", "signout_url")
    missing = [ENV_NAMES[n] for n in needed if not getattr(settings, n)]
    if missing:
        raise SettingsError(f"{ENV_NAMES['sign_in']}=hosted needs " + ", ".join(missing)
                            + " (the pool's Hosted UI domain and the URLs registered on its app client)")
    checks = (("hosted_domain", settings.hosted_domain, ("", "/")),
              ("callback_url", settings.callback_url, (CALLBACK_PATH,)),
              ("signout_url", settings.signout_url, None))
    for name, url, paths in checks:
        problem = _url_problem(url, paths)
        if problem:
            raise SettingsError(f"{ENV_NAMES[name]} {problem}, not {url!r}")


def _url_problem(url: str, paths: tuple[str, ...] | None) -> str | None:
    """Why ``url`` cannot be a sign-in address (https, or http on localhost; no query); None if fine."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and (host in _LOCAL_HOSTS or host == "::1")):
        return "must be an https:// URL (http:// only for localhost)"
    if not host or parts.query or parts.fragment or "@" in parts.netloc:
        return "must be a plain URL (a host, no user, query or fragment)"
    if paths is not None and parts.path not in paths:
        return "must have the path " + " or ".join(p or "(none)" for p in paths)
    return None


def _parse(name: str, text: str) -> Any:
    """The value of setting ``name`` from its variable's (non-empty, stripped) text."""
    var = ENV_NAMES[name]
    if name in _INTEGERS:
        try:
            number = int(text)
        except ValueError as e:
            raise SettingsError(f"{var} must be a whole number, not {text!r}") from e
        if number < _INTEGERS[name]:
            raise SettingsError(f"{var} must be at least {_INTEGERS[name]}, not {number}")
        return number
    if name in _SECONDS:
        try:
            seconds = float(text)
        except ValueError as e:
            raise SettingsError(f"{var} must be a number of seconds, not {text!r}") from e
        if not seconds >= _SECONDS[name]:  # also refuses NaN
            raise SettingsError(f"{var} must be at least {_SECONDS[name]:g} seconds, not {text}")
        return seconds
    if name == "upload_formats":
        names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
        unknown = [n for n in names if n not in FAMILY_NAMES]
        if unknown:
            raise SettingsError(f"{var} names unknown families {', '.join(unknown)}"
                                f" (known: {', '.join(FAMILY_NAMES)})")
        return names
    return text
