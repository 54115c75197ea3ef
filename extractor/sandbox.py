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
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from extractor.formats import Limits, Parsed, ParseError

MiB = 1024 * 1024
Parser = Callable[[Path, Limits], Parsed]
#: Files one worker parses before it is replaced by a fresh one.
RECYCLE_AFTER = 500


@dataclass(frozen=True)
class Budget:
    """How much one parse may use."""

    memory_bytes: int = 512 * MiB
    seconds: float = 30.0


def _address_space() -> int:
    """This process's current virtual size; the cap is added on top of it."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def resolve(target: Parser | str) -> Parser:
    """A parser given as itself or as ``"package.module:function"`` (imported here)."""
    if callable(target):
        return target
    module, function = target.split(":")
    parser: Parser = getattr(importlib.import_module(module), function)
    return parser


def _parse_one(target: Parser | str, path: Path, limits: Limits) -> tuple[Any, ...]:
    try:
        parsed = resolve(target)(path, limits)
        return ("ok", dict(parsed.metadata), sorted(parsed.flags))
    except ParseError as e:
        return ("error", e.reason, e.metadata, sorted(e.flags))
    except MemoryError:
        return ("memory",)
    except RecursionError:
        return ("error", "the file is nested too deeply to read", {}, [])
    except Exception as e:
        return ("crash", f"{type(e).__name__}: {e}")


def _serve(conn: Connection, memory_bytes: int) -> None:
    """The worker: parse requests one at a time until the pipe closes or memory runs out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.disable()  # a crash is reported by the parent, in words
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    while True:
        try:
            parser, path, limits = conn.recv()
        except (EOFError, OSError):
            return
        # Re-armed per file, on top of what the worker already holds (its imports).
        resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory_bytes, hard))
        answer = _parse_one(parser, path, limits)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        try:
            conn.send(answer)
        except Exception as e:  # e.g. a value that cannot be pickled
            conn.send(("crash", f"{type(e).__name__}: {e}"))
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
        parent, child = ctx.Pipe(duplex=True)
        self._process = ctx.Process(target=_serve, args=(child, self.budget.memory_bytes), daemon=True)
        self._process.start()
        child.close()
        self._conn, self._served = parent, 0
        return parent

    def close(self) -> None:
        """Stop the worker (a new one starts on the next parse)."""
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
        self._process = self._conn = None

    def run(self, parser: Parser | str, path: Path, limits: Limits) -> Parsed:
        """``parser(path, limits)`` in the worker, within the budget.

        A parser named as ``"module:function"`` is imported by the worker only,
        so the calling process stays small and imports nothing twice.

        Raises
        ------
        ParseError
            What the parser raised, or a readable reason when the worker ran
            out of memory or time, or died.
        """
        alive = self._conn is not None and self._process is not None and self._process.is_alive()
        conn = self._conn if alive and self._conn is not None else self._start()
        try:
            conn.send((parser, path, limits))
        except OSError:  # the worker died between files (killed from outside): start afresh
            self.close()
            conn = self._start()
            conn.send((parser, path, limits))
        answered = conn.poll(self.budget.seconds)  # also True when the worker died
        message: Any = None
        if answered:
            with contextlib.suppress(EOFError):
                message = conn.recv()
        self._served += 1
        if message is None or message[0] in ("memory", "crash") or self._served >= RECYCLE_AFTER:
            if message is None and answered:
                self._process.join(timeout=5)  # type: ignore[union-attr]
            exitcode = self._process.exitcode  # type: ignore[union-attr]
            self.close()
        mib = self.budget.memory_bytes // MiB
        if not answered:
            raise ParseError(f"reading the file took longer than the {self.budget.seconds:g} s limit")
        if message is None:
            if exitcode in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS, -signal.SIGILL):
                raise ParseError("the file could not be read safely (the reader crashed on it)")
            raise ParseError(f"reading the file needs more than the {mib} MiB memory limit")
        kind = message[0]
        if kind == "ok":
            return Parsed(metadata=message[1], flags=frozenset(message[2]))
        if kind == "error":
            raise ParseError(message[1], metadata=message[2], flags=frozenset(message[3]))
        if kind == "memory":
            raise ParseError(f"reading the file needs more than the {mib} MiB memory limit")
        raise ParseError("the file's metadata could not be read (unexpected reader error)",
                         metadata={"reader_error": message[1][:200]})


_local = threading.local()


def run_isolated(parser: Parser | str, path: Path, limits: Limits, budget: Budget) -> Parsed:
    """Parse in this thread's worker for ``budget`` (started on first use)."""
    sandboxes: dict[Budget, Sandbox] = _local.__dict__.setdefault("sandboxes", {})
    sandbox = sandboxes.get(budget)
    if sandbox is None:
        sandbox = sandboxes[budget] = Sandbox(budget)
    return sandbox.run(parser, path, limits)
