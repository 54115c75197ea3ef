"""A CPU-time budget for one slow step of a parser, so one file's structure cannot set its cost.

Pure-Python readers (pypdf rebuilding a cross-reference table, say) can spend
seconds on a few megabytes of damaged input. The sandbox's time limit fails
the whole file; a step's own budget instead gives up on that step alone and
keeps what the fast steps found. CPU time, not wall time, so that a busy
machine does not change what a file yields.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class OutOfTime(BaseException):
    """The step's budget ran out. A BaseException, so that readers' ``except Exception`` cannot swallow it."""


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`OutOfTime` inside the block once it has used ``seconds`` of CPU time.

    Only the main thread can take signals: elsewhere (a caller's thread) the
    block runs unbounded, as the sandbox's worker always runs parsers on its
    main thread.
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise OutOfTime

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
