"""Where the tests' AWS is: the region, throwaway credentials, and clients bound to a moto server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from common import aws
from common.settings import ENV_NAMES, Settings
from extractor import handler

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
#: Variables that could point a test at a real account, a profile or a leftover stack.
AWS_VARS = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE")
DOCPORTAL_VARS = tuple(v for v in ENV_NAMES.values() if v.startswith("DOCPORTAL_"))


def reset_clients() -> None:
    """Forget every shared client and cached setting, so the next call sees the current environment."""
    aws.reset()
    handler.reset()


def server_client(endpoint: str, service: str) -> Any:
    """A client bound to a moto server, whatever the environment says."""
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclass(frozen=True)
class Server:
    """A running moto server and the stack provisioned on it."""

    endpoint: str
    settings: Settings

    def client(self, service: str) -> Any:
        """A client bound to this server."""
        return server_client(self.endpoint, service)
