"""TOTP codes for tests, from the standard library (RFC 6238: HMAC-SHA1 over the 30-second counter).

moto hands every user the same fixed secret and, with
``MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true``, accepts only the code of the
current 30-second step (no window either side). :func:`fresh_code` therefore
waits for the next step when the current one is about to end, so a right code
cannot turn wrong on its way to the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP = 30
#: Seconds a code must stay valid for: an AppTest run and a moto round trip.
MARGIN = 8


def code(secret: str, at: float | None = None, digits: int = 6) -> str:
    """The code an authenticator app shows for ``secret`` (base32, padding optional) at ``at``."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // STEP)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def fresh_code(secret: str) -> str:
    """The current code, once at least :data:`MARGIN` seconds of its step are left."""
    left = STEP - time.time() % STEP
    if left < MARGIN:
        time.sleep(left + 0.1)
    return code(secret)


def wrong_code(secret: str) -> str:
    """Six digits that are not the code of this, the previous or the next step."""
    now = time.time()
    near = {code(secret, now + d * STEP) for d in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(0, 10**6, 111111)) if c not in near)
