"""Run one parser isolated: its own process, a memory cap and a time limit.

A hostile file may make a parser allocate without bound, loop forever or
crash the interpreter. Parsing in a forked child bounded by ``RLIMIT_AS`` and
a deadline means such a file fails itself, with a reason a person can read,
and never takes the worker, its batch or other files down. Forking (rather
than spawning) keeps the cost per file to a few milliseconds: the parent
imports each parser module once, before the first fork that needs it.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import resource
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from extractor.formats import Limits, Parsed, ParseError

MiB = 1024 * 1024
Parser = Callable[[Path, Limits], Parsed]


@dataclass(frozen=True)
class Budget:
    """How much one parse may use."""

    memory_bytes: int = 512 * MiB
    seconds: float = 30.0


def _address_space() -> int:
    """This process's current virtual size; the cap is added on top of it."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(conn: Connection, parser: Parser, path: Path, limits: Limits, memory_bytes: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.disable()  # a crash is reported by the parent, in words
    cap = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        parsed = parser(path, limits)
        conn.send(("ok", dict(parsed.metadata), sorted(parsed.flags)))
    except ParseError as e:
        conn.send(("error", e.reason, e.metadata, sorted(e.flags)))
    except MemoryError:
        conn.send(("memory",))
    except RecursionError:
        conn.send(("error", "the file is nested too deeply to read", {}, []))
    except Exception as e:
        conn.send(("crash", f"{type(e).__name__}: {e}", traceback.format_exc(limit=5)))
    finally:
        conn.close()


def run_isolated(parser: Parser, path: Path, limits: Limits, budget: Budget) -> Parsed:
    """``parser(path, limits)`` in a child process within ``budget``.

    Raises
    ------
    ParseError
        What the parser raised, or a readable reason when the child ran out of
        memory or time, or died.
    """
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, parser, path, limits, budget.memory_bytes), daemon=True)
    child.start()
    send.close()
    message: Any = None
    answered = False
    try:
        answered = receive.poll(budget.seconds)  # also True when the child died
        if answered:
            message = receive.recv()
    except EOFError:
        pass
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    mib = budget.memory_bytes // MiB
    if not answered:
        raise ParseError(f"reading the file took longer than the {budget.seconds:g} s limit")
    if message is None:
        if child.exitcode in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
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
