"""Where the running stack lives, read from the environment.

Every process (Lambda, local worker, portal, tests) is configured the same way:
names of the stack's resources come from environment variables (or, when
only ``DOCPORTAL_STACK`` is set, from that stack's outputs), and boto3's
standard configuration (credential chain, ``AWS_REGION``, ``AWS_ENDPOINT_URL``)
decides where AWS is. Nothing else hard-codes a bucket, table or queue.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

#: Environment variable for each setting.
ENV_NAMES: dict[str, str] = {
    "region": "AWS_REGION",
    "endpoint_url": "AWS_ENDPOINT_URL",
    "bucket": "DOCPORTAL_BUCKET",
    "table": "DOCPORTAL_TABLE",
    "queue_url": "DOCPORTAL_QUEUE_URL",
    "dlq_url": "DOCPORTAL_DLQ_URL",
    "user_pool_id": "DOCPORTAL_USER_POOL_ID",
    "client_id": "DOCPORTAL_CLIENT_ID",
}

#: Settings a process cannot run without; the others default to empty.
REQUIRED = ("region", "bucket", "table")


class SettingsError(RuntimeError):
    """The environment does not describe a usable stack."""


@dataclass(frozen=True)
class Settings:
    """Resolved names of one DocPortal stack."""

    region: str
    bucket: str
    table: str
    endpoint_url: str = ""
    queue_url: str = ""
    dlq_url: str = ""
    user_pool_id: str = ""
    client_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default ``os.environ``).

        When neither bucket nor table is set but ``DOCPORTAL_STACK`` is, the
        stack's outputs supply them (read once per process).

        Raises
        ------
        SettingsError
            When a required variable is missing, naming every missing one, or
            the named stack cannot be read.
        """
        env = os.environ if env is None else env
        values = {name: env.get(var, "").strip() for name, var in ENV_NAMES.items()}
        if not values["region"]:
            values["region"] = env.get("AWS_DEFAULT_REGION", "").strip()
        stack_name = env.get("DOCPORTAL_STACK", "").strip()
        if stack_name and not (values["bucket"] or values["table"]):
            from common import stack  # boto3 only where a stack is named

            return stack.cached_settings(stack_name, values["region"], values["endpoint_url"])
        missing = [ENV_NAMES[name] for name in REQUIRED if not values[name]]
        if missing:
            raise SettingsError(
                "DocPortal is not configured: set " + ", ".join(missing)
                + " (make run does this for the local stack),"
                " or DOCPORTAL_STACK to read a deployed stack's outputs."
            )
        return cls(**values)

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

    def to_env(self) -> dict[str, str]:
        """The environment variables that reproduce these settings."""
        env = {ENV_NAMES[f.name]: getattr(self, f.name) for f in fields(self)}
        env["AWS_DEFAULT_REGION"] = self.region
        return {k: v for k, v in env.items() if v}

    def dump(self, path: Path) -> None:
        """Write the settings as JSON so scripts and tests can attach to a stack."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings written by :meth:`dump`."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as e:
            raise SettingsError(f"{path} does not exist: is `make run` running?") from e
        return cls(**data)
