"""The one place that creates AWS clients.

Clients are created lazily on first use, never at import time, and honour
boto3's standard configuration: the credential chain, ``AWS_REGION`` and
``AWS_ENDPOINT_URL`` (which points every client at the local stand-in).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}

#: Adaptive retries absorb throttling before an error reaches our code.
_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"}, connect_timeout=5, read_timeout=30)
#: Presigned links must be SigV4: newer regions accept nothing else.
_S3_CONFIG = Config(signature_version="s3v4")


def client(service: str) -> Any:
    """Return the shared client for ``service``, creating it on first use."""
    global _session
    with _lock:
        if service not in _clients:
            if _session is None:
                _session = boto3.session.Session()
            config = _CONFIG.merge(_S3_CONFIG) if service == "s3" else _CONFIG
            # The stubs type each service's client by its literal name; this factory serves them all.
            _clients[service] = _session.client(service, config=config)  # type: ignore[call-overload]
        return _clients[service]


def reset() -> None:
    """Forget every client, so the next call sees the current environment.

    Tests call this when they switch between moto's in-process mock and a
    moto server, because a client made before the switch would escape it.
    """
    global _session
    with _lock:
        _session = None
        _clients.clear()
