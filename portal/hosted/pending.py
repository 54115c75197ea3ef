"""Started sign-ins waiting for their callback: in this process's memory, each taken at most once.

Like :mod:`portal.sessions.bindings`: a sign-in lives ten minutes and its
callback reaches the portal process that started it (one process, or sticky
sessions behind a load balancer, docs/DEPLOY.md), so nothing about it is
written down; a restart merely asks the user to sign in again.
"""

from __future__ import annotations

import threading

from portal.hosted.flow import Pending, Started, state_key

#: More started sign-ins than this at once is a flood, not people: the oldest are dropped.
MAX_WAITING = 10_000

_lock = threading.Lock()
_waiting: dict[str, Pending] = {}


def put(started: Started, now: float) -> None:
    """Keep ``started`` until its callback (or its expiry)."""
    key = state_key(started.state)
    if key is None:
        raise ValueError("not a state the portal made")
    with _lock:
        for old in [k for k, p in _waiting.items() if p.expires_at <= now]:
            del _waiting[old]
        while len(_waiting) >= MAX_WAITING:
            del _waiting[next(iter(_waiting))]
        _waiting[key] = started.pending


def take(state: str) -> Pending | None:
    """The sign-in ``state`` names, removed so it can never be finished twice; None if unknown or used."""
    key = state_key(state)
    if key is None:
        return None
    with _lock:
        return _waiting.pop(key, None)
