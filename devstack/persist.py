"""The local stand-in's state on disk: every moto backend in one pickled snapshot, object bodies beside it.

Why a snapshot of the backends and not moto's recorder (``MOTO_ENABLE_RECORDING``)
or a log of requests: replaying requests draws new random ids (the user
pool's id, message ids, S3 version ids), new receipt handles and new
timestamps, so the replayed stack is not the one the settings, items and
messages refer to; and it grows with every request ever made. A snapshot
restores exactly the objects that were, ids and all.

A snapshot is one pickle of every ``BackendDict`` in use (so objects shared
between services, such as the queues CloudFormation created, stay shared),
written to a temporary file and renamed over the last one, so a crash
mid-write leaves the previous snapshot whole. Object bodies are not pickled
each time: each S3 key's body is written once to ``objects/<token>``
(a token given whenever a key's body is set) and read back lazily, so a
snapshot costs what the metadata costs, and start-up does not read the bodies.
"""

from __future__ import annotations

import _thread
import collections
import contextlib
import importlib
import io
import os
import pickle
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import moto
from cryptography.hazmat.primitives import serialization
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.s3.models import FakeKey

SNAPSHOT = "moto.pickle"
OBJECTS = "objects"
_FORMAT = 1
_TOKEN = "_docportal_body"  # noqa: S105 - an attribute name, not a secret
_CHUNK = 1 << 20


class StateError(RuntimeError):
    """The saved state cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Saved:
    """What one save wrote, for the log."""

    seconds: float
    snapshot_bytes: int
    objects_written: int
    objects_removed: int


# --- object bodies ----------------------------------------------------------------


def patch_keys() -> None:
    """Give every S3 key a fresh token whenever its body is set, so a body is written to disk once."""
    prop: Any = FakeKey.__dict__["value"]
    if getattr(prop.fset, "_docportal_patched", False):
        return
    original_set = prop.fset

    def set_value(self: FakeKey, new_value: bytes) -> None:
        if isinstance(self.__dict__.get("_value_buffer"), BodyFile):
            # A key read back from disk: its body file is shared, so take a buffer of its own.
            self._value_buffer = tempfile.SpooledTemporaryFile(self._max_buffer_size)  # noqa: SIM115 - moto's own
        original_set(self, new_value)
        self.__dict__[_TOKEN] = uuid.uuid4().hex

    set_value._docportal_patched = True  # type: ignore[attr-defined]
    FakeKey.value = property(prop.fget, set_value)  # type: ignore[method-assign,assignment]


class BodyFile(io.RawIOBase):
    """A key's body read back from ``objects/``: opened per read, so 10,000 keys hold no file open."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        size = self.path.stat().st_size
        self._pos = max(0, {0: 0, 1: self._pos, 2: size}[whence] + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        with self.path.open("rb") as f:
            f.seek(self._pos)
            data = f.read() if size is None or size < 0 else f.read(size)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)


def _fill_key(key: Any, state: tuple[dict[str, Any], str]) -> Any:
    attrs, token = state
    key.__dict__.update(attrs)
    key._value_buffer = _body_file(token)
    key.lock = threading.Lock()
    return key


#: Dict subclasses whose order or default lives outside the plain dict: pickled their own way.
_ORDERED = (collections.OrderedDict, collections.defaultdict)


def _blank(cls: Any) -> Any:
    return cls.__new__(cls)


def _fill(obj: dict[Any, Any], state: tuple[dict[Any, Any], dict[str, Any] | None]) -> dict[Any, Any]:
    items, attrs = state
    dict.update(obj, items)  # straight into the dict, past any __setitem__ of the subclass
    if attrs:
        obj.__dict__.update(attrs)
    return obj


def _load_private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def _load_public_key(pem: bytes) -> Any:
    return serialization.load_pem_public_key(pem)


class _Pickler(pickle.Pickler):
    """Pickles moto's objects: locks made afresh, keys as PEM, S3 bodies as files of their own.

    How each type is pickled is decided once per type: a snapshot holds
    hundreds of thousands of objects, and this method sees each of them.
    """

    def __init__(self, file: IO[bytes], objects: Path, present: set[str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.objects, self.present = objects, present
        self.referenced: set[str] = set()
        self.written = 0
        self._ways: dict[type, Callable[[Any], Any] | None] = {}

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        try:
            way = self._ways[kind]
        except KeyError:
            way = self._ways[kind] = self._way_for(kind)
        return NotImplemented if way is None else way(obj)

    def _way_for(self, kind: type) -> Callable[[Any], Any] | None:
        if kind in (_thread.LockType, _thread.RLock, threading.Condition):
            fresh = {_thread.LockType: threading.Lock, _thread.RLock: threading.RLock}.get(kind, kind)
            return lambda obj: (fresh, ())
        if kind.__module__.startswith("cryptography.") and hasattr(kind, "private_bytes"):
            pem = serialization.Encoding.PEM
            pkcs8 = pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            return lambda obj: (_load_private_key, (obj.private_bytes(*pkcs8),))
        if kind.__module__.startswith("cryptography.") and hasattr(kind, "public_bytes"):
            return lambda obj: (_load_public_key, (obj.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),))
        if issubclass(kind, FakeKey):
            # State set after the key exists, so an object that refers back to its key pickles too.
            return lambda obj: (_blank, (kind,), (self._key_state(obj), self._body(obj)),
                                None, None, _fill_key)
        if issubclass(kind, dict) and kind is not dict and not issubclass(kind, _ORDERED):
            # A dict subclass as it is stored, not as its methods show it: moto's S3 key store
            # shows only the latest version of a key from items(), and some __setitem__ check sizes.
            return lambda obj: (_blank, (kind,), (dict(dict.items(obj)), getattr(obj, "__dict__", None)),
                                None, None, _fill)
        return None

    def _key_state(self, key: FakeKey) -> dict[str, Any]:
        return {k: v for k, v in key.__dict__.items() if k not in ("_value_buffer", "lock")}

    def _body(self, key: FakeKey) -> str:
        """The key's token, its body written to ``objects/`` unless it is there already."""
        token = key.__dict__.get(_TOKEN) or key.__dict__.setdefault(_TOKEN, uuid.uuid4().hex)
        self.referenced.add(token)
        if token in self.present:
            return str(token)
        target = self.objects / token
        tmp = target.with_name(f".{token}.tmp")
        with tmp.open("wb") as out:
            _copy_body(key._value_buffer, out)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(target)
        self.present.add(token)
        self.written += 1
        return str(token)


def _copy_body(buffer: Any, out: IO[bytes]) -> None:
    """Copy a key's body without moving its buffer's position.

    A snapshot may be written by a forked child, which shares the file offset
    of every open file with the server: a seek there would move the server's
    reads. So a file is read with ``pread``, and memory straight from its buffer.
    """
    inner = getattr(buffer, "_file", buffer)  # a SpooledTemporaryFile's BytesIO or file
    if getattr(buffer, "closed", False) or getattr(inner, "closed", False):
        return  # a deleted key's buffer is closed: its body is gone
    if isinstance(inner, io.BytesIO):
        out.write(inner.getbuffer())
    elif isinstance(inner, BodyFile):
        with inner.path.open("rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)
    else:
        fd, offset = inner.fileno(), 0
        while block := os.pread(fd, _CHUNK, offset):
            out.write(block)
            offset += len(block)


#: The ``objects/`` folder of the state being loaded (bodies are found there by token).
_loading_from: list[Path] = []


def _body_file(token: str) -> BodyFile:
    return BodyFile(_loading_from[-1] / token)


# --- the backends ---------------------------------------------------------------------


def _instances() -> list[BackendDict[Any]]:
    """Every ``BackendDict`` in use (moto keeps the list to reset them)."""
    found: list[BackendDict[Any]] = vars(BackendDict)["_instances"]
    return found


def _homes() -> dict[int, tuple[str, str]]:
    """Where each ``BackendDict`` in use lives, as (module, attribute), so loading can find it again."""
    wanted = {id(b): b for b in _instances()}
    found: dict[int, tuple[str, str]] = {}
    for name, module in sorted(sys.modules.items()):
        if not name.startswith("moto.") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in wanted and value is wanted[id(value)] and id(value) not in found:
                found[id(value)] = (name, attr)
    return found


def _state() -> dict[str, Any]:
    homes = _homes()
    backends = {homes[id(b)]: dict(b) for b in _instances() if id(b) in homes and len(b)}
    return {"format": _FORMAT, "moto": moto.__version__, "saved_at": time.time(), "backends": backends}


def save(state_dir: Path) -> Saved:
    """Write a snapshot of every backend; the caller makes sure no request is half-done meanwhile."""
    started = time.perf_counter()
    objects = state_dir / OBJECTS
    objects.mkdir(parents=True, exist_ok=True)
    present = {p.name for p in objects.iterdir() if not p.name.startswith(".")}
    target = state_dir / SNAPSHOT
    tmp = state_dir / f".{SNAPSHOT}.{os.getpid()}.tmp"
    with tmp.open("wb") as out:
        pickler = _Pickler(out, objects, present)
        pickler.dump(_state())
        out.flush()
        os.fsync(out.fileno())
    size = tmp.stat().st_size
    tmp.replace(target)
    _fsync_dir(state_dir)
    removed = 0
    for token in present - pickler.referenced:  # bodies of keys no snapshot refers to any more
        with contextlib.suppress(FileNotFoundError):
            (objects / token).unlink()
            removed += 1
    return Saved(time.perf_counter() - started, size, pickler.written, removed)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load(state_dir: Path) -> dict[str, int] | None:
    """Put the saved backends in place of moto's empty ones; None when nothing was saved.

    Messages that were in flight become visible again at once: whoever was
    working on them is gone (a stop) or may be (a crash), and the extractor
    handles a second delivery. Returns how many objects of each kind came back.

    Raises
    ------
    StateError
        When the snapshot cannot be read, or was written by another moto version.
    """
    for leftover in [*state_dir.glob(".*.tmp"), *(state_dir / OBJECTS).glob(".*.tmp")]:
        leftover.unlink(missing_ok=True)  # from a save cut short by a crash
    path = state_dir / SNAPSHOT
    if not path.exists():
        return None
    _loading_from.append(state_dir / OBJECTS)
    try:
        with path.open("rb") as f:
            data = pickle.load(f)  # noqa: S301 - our own file, in our own folder
    except Exception as e:
        raise StateError(f"the saved state {path} cannot be read ({type(e).__name__}: {e}); "
                         "`make reset` starts empty") from e
    finally:
        _loading_from.pop()
    if data.get("format") != _FORMAT or data.get("moto") != moto.__version__:
        raise StateError(f"the saved state {path} was written by moto {data.get('moto')} "
                         f"(format {data.get('format')}); this is moto {moto.__version__}: "
                         "`make reset` starts empty")
    for (module, attr), accounts in data["backends"].items():
        live: BackendDict[Any] = getattr(importlib.import_module(module), attr)
        for account_id, backend in accounts.items():
            dict.__setitem__(live, account_id, backend)
        if live not in _instances():
            _instances().append(live)
    return {"messages returned": _return_in_flight(), **_counts()}


def _regional(service: str) -> Iterator[Any]:
    for module, attr in (("moto.sqs.models", "sqs_backends"), ("moto.s3.models", "s3_backends"),
                         ("moto.dynamodb.models", "dynamodb_backends"),
                         ("moto.cognitoidp.models", "cognitoidp_backends")):
        if module.split(".")[1] == service:
            backends: BackendDict[Any] = getattr(importlib.import_module(module), attr)
            for account in backends.values():
                yield from AccountSpecificBackend.values(account)


def _return_in_flight() -> int:
    returned = 0
    for backend in _regional("sqs"):
        for queue in backend.queues.values():
            for message in queue._messages:
                if not message.visible:
                    message.visible_at = 0.0
                    returned += 1
    return returned


def _counts() -> dict[str, int]:
    return {
        "objects": sum(len(b.keys) for s3 in _regional("s3") for b in s3.buckets.values()),
        "items": sum(len(t) for ddb in _regional("dynamodb") for t in ddb.tables.values()),
        "messages": sum(len(q._messages) for sqs in _regional("sqs") for q in sqs.queues.values()),
        "users": sum(len(p.users) for c in _regional("cognitoidp") for p in c.user_pools.values()),
    }
