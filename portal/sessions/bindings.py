"""The bindings waiting for their browser: in this process's memory, each taken at most once.

A binding lives a minute and is presented by the same portal process that
issued it (the tab's websocket and its ``fetch`` reach the same server), so
memory is the right place: nothing about it is ever written down.
"""

from __future__ import annotations

import threading
import time

from portal.sessions.records import Binding, NotASessionId, key_of, new_binding

_lock = threading.Lock()
_waiting: dict[str, Binding] = {}


def issue(session_id: str, sub: str, tab: str, session_expires_at: int, now: float | None = None) -> str:
    """A new binding token for ``session_id`` (ending at ``session_expires_at``), handed to tab ``tab``."""
    now = time.time() if now is None else now
    token, binding = new_binding(session_id, sub, tab, session_expires_at, now)
    with _lock:
        for key in [k for k, b in _waiting.items() if b.expires_at <= now]:
            del _waiting[key]  # expired ones go when the next is issued
        _waiting[key_of(token)] = binding
    return token


def take(token: str) -> Binding | None:
    """The binding ``token`` grants, removed so it can never be used again; None if unknown or used."""
    try:
        key = key_of(token)
    except NotASessionId:
        return None
    with _lock:
        return _waiting.pop(key, None)


def waiting(token: str, now: float | None = None) -> bool:
    """True while ``token`` has not been taken and has not expired."""
    now = time.time() if now is None else now
    try:
        key = key_of(token)
    except NotASessionId:
        return False
    with _lock:
        binding = _waiting.get(key)
    return binding is not None and now < binding.expires_at
