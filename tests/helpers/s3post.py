"""S3's check of a browser-based POST upload against its signed policy, for tests.

moto stores whatever a presigned POST sends and checks none of the policy's
conditions, so the attack tests judge a form with the rules S3 documents
("Creating a POST policy": exact match, ``starts-with``, ``content-length-range``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any


def policy(fields: Mapping[str, str]) -> dict[str, Any]:
    """The policy document a presigned POST's fields carry."""
    decoded: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return decoded


def refusal(fields: Mapping[str, str], bucket: str, size: int) -> str:
    """Why S3 would refuse a POST of these form fields and ``size`` bytes to ``bucket``; "" when it accepts."""
    form = {k.lower(): v for k, v in fields.items()} | {"bucket": bucket}
    for condition in policy(fields)["conditions"]:
        if isinstance(condition, dict):
            (name, value), = condition.items()
            if form.get(name.lower()) != value:
                return f"{name} must be {value!r}"
        elif condition[0] == "content-length-range":
            if not condition[1] <= size <= condition[2]:
                return f"size {size} outside {condition[1]}..{condition[2]}"
        else:
            op, name, value = condition
            actual = form.get(name.lstrip("$").lower(), "")
            if (op == "eq" and actual != value) or (op == "starts-with" and not actual.startswith(value)):
                return f"{name} must {op} {value!r}"
    signed = {k.lower() for k in ("policy", "x-amz-signature", "x-amz-algorithm", "x-amz-credential",
                                  "x-amz-date", "x-amz-security-token", "file", "bucket")}
    named = {c and next(iter(c)).lower() if isinstance(c, dict) else str(c[1]).lstrip("$").lower()
             for c in policy(fields)["conditions"]}
    extra = set(form) - signed - named
    return f"fields not in the policy: {sorted(extra)}" if extra else ""
