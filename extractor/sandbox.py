"""Run parsers isolated: another process, a memory cap and a time limit.

A hostile file may make a parser allocate without bound, loop forever or
crash the interpreter. Parsing happens in a worker process whose address
space is capped (``RLIMIT_AS``, re-armed before every file) and whose answer
is awaited only until a deadline, so such a file fails itself, with a reason
a person can read, and never takes the caller, its batch or other files down.

Forking a worker per file would cost more than most parses, so each thread
keeps one worker and reuses it. A worker that timed out, crashed or ran out
of memory is replaced before the next file; a healthy one is replaced after
:data:`RECYCLE_AFTER` files, so nothing one file leaves behind accumulates.

A worker is a process of its own, not a copy of its caller: default signal
handlers, no environment (no AWS credentials), only its own pipe end, and on
Linux it dies with the thread that started it (``PR_SET_PDEATHSIG``), so a
worker stopped or killed never leaves a parser behind. It answers in JSON,
never pickles, because a file may take the parser over.

The same worker draws previews (:func:`draw_isolated`): a drawer returns PNG
bytes, which travel base64-encoded in the same checked JSON answer, so a
picture is decoded from an upload only here, never by the caller or the portal.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ctypes
import faulthandler
import importlib
import json
import multiprocessing
import os
import resource
import signal
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from extractor.formats import Limits, Parsed, ParseError

MiB = 1024 * 1024
Parser = Callable[[Path, Limits], Parsed]
#: A drawer returns a picture's bytes instead (:mod:`extractor.formats.thumbnails`).
Drawer = Callable[[Path, Limits], bytes]
#: What a worker runs: a parser or a drawer.
Task = Callable[[Path, Limits], Parsed | bytes]
#: Files one worker parses before it is replaced by a fresh one.
RECYCLE_AFTER = 500
#: Largest answer the caller reads from a worker; metadata is cut far below this anyway.
MAX_ANSWER_BYTES = 16 * MiB
#: How a worker died when something outside stopped it (a shutdown), not the file it read.
_STOPPED = (-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP)
_CRASHED = (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS, -signal.SIGILL)
_UNEXPECTED = "the file's metadata could not be read (unexpected reader error)"
#: Linux's prctl, looked up now: loading a library in a child forked from threads may deadlock.
_PRCTL: Any = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1
#: The caller's ends of every worker pipe. A new worker closes them all, so each worker
#: holds only its own end and reads EOF as soon as the process that started it is gone.
_caller_ends: weakref.WeakSet[Connection] = weakref.WeakSet()


class Interrupted(RuntimeError):
    """The worker was stopped from outside (a shutdown's signal) while parsing: not the file's fault.

    Not a :class:`ParseError`, so the file is not failed: the message is retried.
    """


@dataclass(frozen=True)
class Budget:
    """How much one parse may use."""

    memory_bytes: int = 512 * MiB
    seconds: float = 30.0


def _address_space() -> int:
    """This process's current virtual size; the cap is added on top of it."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def resolve(target: Task | str) -> Task:
    """A parser or drawer given as itself or as ``"package.module:function"`` (imported here)."""
    if callable(target):
        return target
    module, function = target.split(":")
    task: Task = getattr(importlib.import_module(module), function)
    return task


def _parse_one(target: Task | str, path: Path, limits: Limits) -> tuple[Any, ...]:
    try:
        done = resolve(target)(path, limits)
        if isinstance(done, bytes):
            return ("bytes", base64.b64encode(done).decode("ascii"))
        return ("ok", dict(done.metadata), sorted(done.flags))
    except ParseError as e:
        return ("error", e.reason, e.metadata, sorted(e.flags))
    except MemoryError:
        return ("memory",)
    except RecursionError:
        return ("error", "the file is nested too deeply to read", {}, [])
    except Exception as e:
        return ("crash", f"{type(e).__name__}: {e}")


def _encode(answer: tuple[Any, ...]) -> bytes:
    """The answer as JSON: plain data only, so reading it can never run code in the caller."""
    try:
        return json.dumps(answer, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as e:  # e.g. an object JSON cannot carry
        return json.dumps(["crash", f"{type(e).__name__}: {e}"[:500]]).encode()


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _decode(data: bytes) -> list[Any] | None:
    """A worker's answer, or None when it is not one of the shapes :func:`_parse_one` makes."""
    try:
        answer = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, list) or not answer:
        return None
    kind, rest = answer[0], answer[1:]
    if kind == "ok" and len(rest) == 2 and isinstance(rest[0], dict) and _strings(rest[1]):
        return answer
    if kind == "error" and len(rest) == 3 and isinstance(rest[0], str) and isinstance(rest[1], dict) \
            and _strings(rest[2]):
        return answer
    if kind == "bytes" and len(rest) == 1 and isinstance(rest[0], str):
        try:
            return [kind, base64.b64decode(rest[0], validate=True)]
        except (binascii.Error, ValueError):
            return None
    if (kind == "memory" and not rest) or (kind == "crash" and len(rest) == 1 and isinstance(rest[0], str)):
        return answer
    return None


def _settle(conn: Connection, caller: int) -> None:
    """Make a freshly forked worker a process of its own that cannot outlive its caller.

    It inherited the caller's signal handlers (a worker's "stop polling" handler
    would make it ignore SIGTERM), every pipe end the caller held (so it would
    never read EOF) and the caller's environment (AWS credentials).
    """
    if _PRCTL is not None:  # killed when the caller's thread that forked it ends, however it ends
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != caller:  # the caller died before the line above
        os._exit(0)
    for sig in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError):
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_DFL)
    for end in list(_caller_ends):
        if end is not conn:
            end.close()
    os.environ.clear()
    faulthandler.disable()  # a crash is reported by the caller, in words


def _serve(conn: Connection, memory_bytes: int, caller: int) -> None:
    """The worker: parse requests one at a time until the pipe closes or memory runs out."""
    _settle(conn, caller)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    while True:
        try:
            parser, path, limits = conn.recv()  # the caller's requests are trusted; answers are not
        except (EOFError, OSError):
            return
        # Re-armed per file, on top of what the worker already holds (its imports).
        resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory_bytes, hard))
        answer = _parse_one(parser, path, limits)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        try:
            conn.send_bytes(_encode(answer))
        except OSError:
            return
        if answer[0] == "memory":
            return  # its heap may be fragmented beyond use: let a fresh worker take over


class Sandbox:
    """One reusable worker process and the budget each parse gets in it."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._served = 0

    def _start(self) -> Connection:
        ctx = multiprocessing.get_context("fork")
        ours, theirs = ctx.Pipe(duplex=True)
        _caller_ends.add(ours)  # before the fork: the worker closes its copy, and later workers theirs
        self._process = ctx.Process(target=_serve, args=(theirs, self.budget.memory_bytes, os.getpid()),
                                    daemon=True)
        self._process.start()
        theirs.close()
        self._conn, self._served = ours, 0
        return ours

    def close(self) -> None:
        """Stop the worker (a new one starts on the next parse)."""
        if self._conn is not None:
            _caller_ends.discard(self._conn)
            self._conn.close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
        self._process = self._conn = None

    def run(self, parser: Parser | str, path: Path, limits: Limits, seconds: float | None = None) -> Parsed:
        """``parser(path, limits)`` in the worker, within the budget (and ``seconds``, when shorter).

        A parser named as ``"module:function"`` is imported by the worker only,
        so the calling process stays small and imports nothing twice. The
        worker answers in JSON, checked for its shape: a worker a file took
        over can send wrong data, but never objects or code.

        Raises
        ------
        ParseError
            What the parser raised, or a readable reason when the worker ran
            out of memory or time, died, or answered with something else.
        Interrupted
            When the worker was stopped by a signal from outside (shutdown).
        """
        limit = self.budget.seconds if seconds is None else min(seconds, self.budget.seconds)
        answer = self._ask(parser, path, limits, limit)
        if answer[0] != "ok":
            raise self._distrust("the reader answered bytes")
        return Parsed(metadata=answer[1], flags=frozenset(answer[2]))

    def draw(self, drawer: Drawer | str, path: Path, limits: Limits, seconds: float) -> bytes:
        """``drawer(path, limits)`` in the worker, within the budget's memory and ``seconds``.

        The bytes are whatever the worker sent, checked only to be bytes: the
        caller checks that they are the picture it asked for.

        Raises
        ------
        ParseError, Interrupted
            As :meth:`run`.
        """
        answer = self._ask(drawer, path, limits, min(seconds, self.budget.seconds))
        if answer[0] != "bytes":
            raise self._distrust("the drawer answered no picture")
        data: bytes = answer[1]
        return data

    def _distrust(self, what: str) -> ParseError:
        """Replace a worker that answered another kind of answer than asked for; the error to raise."""
        self.close()
        return ParseError(_UNEXPECTED, metadata={"reader_error": what})

    def _ask(self, target: Task | str, path: Path, limits: Limits, seconds: float) -> list[Any]:
        """The worker's answer to one task: ``["ok", ...]`` or ``["bytes", data]``; every failure raised."""
        alive = self._conn is not None and self._process is not None and self._process.is_alive()
        conn = self._conn if alive and self._conn is not None else self._start()
        try:
            conn.send((target, path, limits))
        except OSError:  # the worker died between files (killed from outside): start afresh
            self.close()
            conn = self._start()
            conn.send((target, path, limits))
        answered = conn.poll(seconds)  # also True when the worker died
        data: bytes | None = None
        if answered:
            with contextlib.suppress(EOFError, OSError):  # OSError: longer than MAX_ANSWER_BYTES
                data = conn.recv_bytes(MAX_ANSWER_BYTES)
        answer = None if data is None else _decode(data)
        self._served += 1
        exitcode: int | None = None
        if answer is None or answer[0] in ("memory", "crash") or self._served >= RECYCLE_AFTER:
            if data is None and answered:
                self._process.join(timeout=5)  # type: ignore[union-attr]
            exitcode = self._process.exitcode  # type: ignore[union-attr]
            self.close()  # a worker that answered nonsense is not trusted with another file
        mib = self.budget.memory_bytes // MiB
        if not answered:
            raise ParseError(f"reading the file took longer than the {seconds:g} s limit")
        if data is None:
            if exitcode in _STOPPED:
                raise Interrupted(f"the reader was stopped by signal {-exitcode} (a shutdown)")
            if exitcode in _CRASHED:
                raise ParseError("the file could not be read safely (the reader crashed on it)")
            raise ParseError(f"reading the file needs more than the {mib} MiB memory limit")
        if answer is None:
            raise ParseError(_UNEXPECTED, metadata={"reader_error": "the reader answered malformed data"})
        kind = answer[0]
        if kind in ("ok", "bytes"):
            return answer
        if kind == "error":
            raise ParseError(answer[1], metadata=answer[2], flags=frozenset(answer[3]))
        if kind == "memory":
            raise ParseError(f"reading the file needs more than the {mib} MiB memory limit")
        raise ParseError(_UNEXPECTED, metadata={"reader_error": answer[1][:200]})


_local = threading.local()


def _sandbox(budget: Budget) -> Sandbox:
    """This thread's worker for ``budget`` (started on first use)."""
    sandboxes: dict[Budget, Sandbox] = _local.__dict__.setdefault("sandboxes", {})
    sandbox = sandboxes.get(budget)
    if sandbox is None:
        sandbox = sandboxes[budget] = Sandbox(budget)
    return sandbox


def run_isolated(parser: Parser | str, path: Path, limits: Limits, budget: Budget,
                 seconds: float | None = None) -> Parsed:
    """Parse in this thread's worker for ``budget`` (within ``seconds``, when shorter than its own)."""
    return _sandbox(budget).run(parser, path, limits, seconds)


def draw_isolated(drawer: Drawer | str, path: Path, limits: Limits, budget: Budget, seconds: float) -> bytes:
    """Draw in the same worker as :func:`run_isolated`, within ``seconds`` (and the budget's)."""
    return _sandbox(budget).draw(drawer, path, limits, seconds)
