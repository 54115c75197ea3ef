"""``make run``'s processes kept running: a crashed one is replaced after a pause, a crash loop given up on.

A dead process takes its own process group with it (the parser processes a
killed worker leaves behind), is reported in one line saying what happened
and what comes next, and is started again after a pause that doubles with
each crash in the last minute. Everything else keeps running meanwhile: the
portal keeps answering while the moto server comes back, as it does when
storage is away on AWS. When one process crashes
:attr:`RestartPolicy.crashes` times within :attr:`RestartPolicy.window`
seconds, something is wrong that a restart will not mend: the supervisor
gives up, with the end of that process's log, and ``make run`` stops.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devstack import processes


@dataclass(frozen=True)
class RestartPolicy:
    """How soon a crashed process is started again, and when to stop trying."""

    #: Pause before the first restart; it doubles with each crash in the window, up to ``longest_pause``.
    first_pause: float = 1.0
    longest_pause: float = 30.0
    #: Give up when one process crashes this many times within ``window`` seconds.
    crashes: int = 5
    window: float = 60.0


class GaveUp(RuntimeError):
    """A process kept crashing; the message says which, how often, and ends with its log."""


class Restarts:
    """The recent crashes of one process, under a :class:`RestartPolicy`."""

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self._times: list[float] = []

    def crashed(self, now: float) -> float | None:
        """Record a crash at ``now``; the pause before the restart, or None to give up."""
        self._times = [t for t in self._times if now - t < self.policy.window] + [now]
        if len(self._times) >= self.policy.crashes:
            return None
        return float(min(self.policy.longest_pause, self.policy.first_pause * 2 ** (len(self._times) - 1)))

    @property
    def recent(self) -> int:
        """Crashes counted in the current window (as of the last one)."""
        return len(self._times)


def describe_exit(code: int) -> str:
    """How a process ended, in words."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


@dataclass(eq=False)
class Child:
    """One supervised process: how to start it, how to tell it is ready, what to do when it dies."""

    name: str
    log: Path
    launch: Callable[[], subprocess.Popen[bytes]]
    #: Waits until a fresh process answers; raises processes.StartupError when it does not.
    ready: Callable[[subprocess.Popen[bytes]], None] = lambda proc: None
    #: Called with a dead process (its group already killed); returns words for the log line.
    on_death: Callable[[subprocess.Popen[bytes]], str] = lambda proc: ""
    #: Called after a restarted process is ready.
    on_restart: Callable[[], None] = lambda: None
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    proc: subprocess.Popen[bytes] | None = None
    due: float | None = None

    def __post_init__(self) -> None:
        self.restarts = Restarts(self.policy)

    def start(self) -> subprocess.Popen[bytes]:
        """Launch the process and wait until it is ready."""
        self.proc, self.due = self.launch(), None
        self.ready(self.proc)
        return self.proc


class Supervisor:
    """Watches the children twice a second, replacing the dead ones."""

    def __init__(self, children: Sequence[Child], *, say: Callable[[str], None],
                 on_change: Callable[[Sequence[subprocess.Popen[bytes]]], None] = lambda procs: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.children = list(children)
        self.say = say
        self.on_change = on_change
        self.clock = clock

    def running(self) -> list[subprocess.Popen[bytes]]:
        """The children's current processes, in the order they were given."""
        return [c.proc for c in self.children if c.proc is not None]

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Check until ``stop`` is set.

        Raises
        ------
        GaveUp
            When a child crashed too often.
        """
        while not stop.wait(interval):
            self.check(stop)

    def check(self, stop: threading.Event) -> None:
        """Reap the dead, and start those whose pause is over."""
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                self._died(child, child.proc)
        for child in self.children:
            due = child.due is not None and self.clock() >= child.due
            if child.proc is None and due and not stop.is_set():
                self._restart(child, stop)

    def _died(self, child: Child, proc: subprocess.Popen[bytes]) -> None:
        code = proc.returncode
        processes.kill_group(proc.pid)
        child.proc = None
        self.on_change(self.running())
        extra = child.on_death(proc)
        pause = child.restarts.crashed(self.clock())
        what = f"The {child.name} (pid {proc.pid}) {describe_exit(code)}{extra}"
        if pause is None:
            window = child.policy.window
            tail = child.log.read_text(errors="replace")[-2000:] if child.log.exists() else ""
            raise GaveUp(f"{what}: it crashed {child.restarts.recent} times within {window:.0f} s, so "
                         f"something is wrong that restarting will not mend; giving up. The end of "
                         f"{child.log}:\n{tail}")
        child.due = self.clock() + pause
        self.say(f"{what}; starting it again in {pause:.0f} s (crash {child.restarts.recent} within "
                 f"{child.policy.window:.0f} s; {child.policy.crashes} end the run).")

    def _restart(self, child: Child, stop: threading.Event) -> None:
        try:
            proc = child.start()
        except processes.StartupError as e:
            if stop.is_set():
                return
            if child.proc is not None and child.proc.poll() is None:  # started but never ready
                processes.stop([child.proc], grace=5)
            self.say(f"The {child.name} did not start again: {str(e).splitlines()[0]}")
            return  # _died sees it gone on the next check and counts the crash
        finally:
            self.on_change(self.running())
        self.say(f"The {child.name} is running again (pid {proc.pid}).")
        child.on_restart()
