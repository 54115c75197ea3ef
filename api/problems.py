"""Errors as RFC 9457 problem details (``application/problem+json``), one type per reason. Pure.

Each service refusal (:mod:`portal.access`, :mod:`portal.files.service`, …)
already carries a message written for people; here it gets its HTTP status
and a stable ``type`` a script can branch on, so clients never parse words.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

CONTENT_TYPE = "application/problem+json"
#: Where each problem type is described (docs/openapi.json names the same).
TYPE_BASE = "urn:docportal:problem:"


class Kind(Enum):
    """A problem's stable name, its HTTP status and its title."""

    slug: str
    status: int
    title: str

    UNAUTHENTICATED = ("unauthenticated", 401, "Sign-in required")
    SESSION_EXPIRED = ("session-expired", 401, "The token has expired")
    FORBIDDEN = ("forbidden", 403, "Not allowed")
    MISSING_SCOPE = ("missing-scope", 403, "The token lacks a scope")
    NOT_FOUND = ("not-found", 404, "No such file")
    NO_ROUTE = ("no-such-route", 404, "No such route")
    CONFLICT = ("conflict", 409, "Not possible in the file's current state")
    VALIDATION = ("validation", 422, "The request is not valid")
    UPLOAD_REFUSED = ("upload-refused", 422, "The upload is not accepted")
    UNSUPPORTED_MEDIA_TYPE = ("unsupported-media-type", 415, "The body must be JSON")
    BAD_PAGE_TOKEN = ("bad-page-token", 400, "The page token does not fit this request")
    UNAVAILABLE = ("unavailable", 503, "Try again in a minute")
    INTERNAL = ("internal", 500, "Something went wrong on our side")

    def __init__(self, slug: str, status: int, title: str) -> None:
        #: The last part of the type URI; the HTTP status; the short, fixed summary.
        self.slug, self.status, self.title = slug, status, title

    @property
    def type_uri(self) -> str:
        """The problem's ``type``."""
        return TYPE_BASE + self.slug


@dataclass(frozen=True)
class Problem:
    """One problem: its kind, what exactly went wrong and where."""

    kind: Kind
    detail: str
    instance: str
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The problem as RFC 9457's JSON object."""
        return {"type": self.kind.type_uri, "title": self.kind.title, "status": self.kind.status,
                "detail": self.detail, "instance": self.instance, **self.extensions}

    def json(self) -> str:
        """The body, serialised."""
        return json.dumps(self.body(), ensure_ascii=False, default=str)
