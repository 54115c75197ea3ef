"""When the moto server saves its state: soon after each change, without stopping the world to do it.

Every request runs inside a shared :class:`Gate`; a snapshot takes the gate
alone just long enough to ``fork``, and the child, a frozen copy of the
server, pickles it to disk while the server goes on answering. So a snapshot
is a consistent point in time (no request half-done in it), a burst pauses
for the fork only, and a crash loses at most what changed since the last
snapshot began (:data:`SETTLE` seconds, or as long as the last snapshot took,
plus how long one snapshot takes).

Requests that change nothing (reads, and receives, whose only effect a crash
may undo is a redelivery) do not make the state dirty, so an idle stack with
polling workers writes nothing. A long-polling ``ReceiveMessage`` is served
as short polls outside the gate, so it does not hold a snapshot up for its
20 seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from devstack import persist

logger = logging.getLogger("devstack.state")

#: Seconds a change may wait before the snapshot that holds it begins (changes in between share it).
SETTLE = 1.0
#: Operations (the part of ``X-Amz-Target`` after the dot) that change nothing worth saving.
_READS = frozenset({"Query", "Scan", "BatchGetItem", "ReceiveMessage"})
_READ_PREFIXES = ("Get", "Describe", "List")
_RECEIVE = "AmazonSQS.ReceiveMessage"
#: Longest wait between two short polls of a long poll; a change to any state wakes it sooner.
_POLL = 1.0

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


class Gate:
    """Requests share it; a snapshot holds it alone, so no request is half-done in a snapshot.

    A snapshot that waits goes first: requests arriving meanwhile wait for it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._held = False
        self._waiting = 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not (self._held or self._waiting))
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not (self._held or self._active))
            self._waiting -= 1
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()


def operation(environ: Environ) -> str:
    """The request's operation: its ``X-Amz-Target``, else its HTTP method."""
    return str(environ.get("HTTP_X_AMZ_TARGET") or environ.get("REQUEST_METHOD", ""))


def changes_state(environ: Environ) -> bool:
    """False for requests that only read (or only receive messages)."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        name = str(target).rsplit(".", 1)[-1]
        return not (name in _READS or name.startswith(_READ_PREFIXES))
    return environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "OPTIONS")


class Persisted:
    """Moto's WSGI app behind the gate, saving the state in a background thread after changes."""

    def __init__(self, app: App, state_dir: Path) -> None:
        self.app = app
        self.state_dir = state_dir
        self.gate = Gate()
        self._dirty = threading.Event()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._child: int | None = None
        self._saving = threading.Lock()
        self.snapshots = 0
        #: What each request thread is doing, and since when: logged when a snapshot waits for them.
        self._under_way: dict[int, tuple[str, float]] = {}
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)

    # --- serving ------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        _buffer_body(environ)
        if environ.get("HTTP_X_AMZ_TARGET") == _RECEIVE:
            status, headers, body = self._receive(environ)
        else:
            status, headers, body = self._call(environ)
        if changes_state(environ):
            self._dirty.set()
            with self._changed:
                self._changed.notify_all()
        start_response(status, headers)
        return [body]

    def _call(self, environ: Environ) -> tuple[str, list[tuple[str, str]], bytes]:
        got: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            got["status"], got["headers"] = status, headers
            return written.append

        me = threading.get_ident()
        with self.gate.shared():
            self._under_way[me] = (_describe_request(environ), time.perf_counter())
            try:
                result = self.app(environ, start_response)
            finally:
                self._under_way.pop(me, None)
            try:
                body = b"".join([*written, *result])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return got["status"], got["headers"], body

    def _receive(self, environ: Environ) -> tuple[str, list[tuple[str, str]], bytes]:
        """A long poll as short polls, so the gate is never held while waiting."""
        raw = environ["wsgi.input"].getvalue()
        try:
            request = json.loads(raw or b"{}")
            wait = float(request.get("WaitTimeSeconds") or 0)
        except (ValueError, AttributeError):
            return self._call(environ)
        deadline = time.monotonic() + wait
        short = json.dumps({**request, "WaitTimeSeconds": 0}).encode()
        while True:
            one = {**environ, "wsgi.input": io.BytesIO(short), "CONTENT_LENGTH": str(len(short))}
            status, headers, body = self._call(one)
            left = deadline - time.monotonic()
            if not status.startswith("200") or left <= 0 or _has_messages(body) or self._stop.is_set():
                return status, headers, body
            with self._changed:
                self._changed.wait(min(left, _POLL))

    # --- saving -------------------------------------------------------------------

    def start(self) -> None:
        """Start saving after changes."""
        self._thread.start()

    def _run(self) -> None:
        took = 0.0
        while not self._stop.is_set():
            if not self._dirty.wait(0.5):
                continue
            # Changes settle for a second, or as long as the last snapshot took: under a steady stream
            # of changes, snapshots then take at most half of one core.
            if self._stop.wait(max(SETTLE, took)):
                return
            self._dirty.clear()
            started = time.perf_counter()
            try:
                self._snapshot_in_child()
                took = time.perf_counter() - started
            except Exception:
                logger.exception("saving the state failed; it is tried again after the next change")
                self._dirty.set()
                self._stop.wait(5)

    def _snapshot_in_child(self) -> None:
        with self._saving:
            if self._stop.is_set():
                return
            read, write = os.pipe()
            started = time.perf_counter()
            waited_for = sorted(self._under_way.values(), key=lambda w: w[1])
            with self.gate.alone():
                alone = time.perf_counter()
                as_of = datetime.now().astimezone().isoformat(timespec="milliseconds")
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child
                    os.close(read)
                    _child_save(self.state_dir, write)
                forked = time.perf_counter()
            os.close(write)
            self._child = pid
            try:
                with os.fdopen(read, "rb") as answer:
                    report = answer.read()
                _, status = os.waitpid(pid, 0)
            finally:
                self._child = None
            if status != 0 or not report:
                raise RuntimeError(f"the snapshot process ended with status {status}: "
                                   f"{report.decode()[-500:]}")
            self.snapshots += 1
            if alone - started > 1.0:
                under_way = [f"{what} (since {started - since:.1f} s)" for what, since in waited_for[:5]]
                logger.info("the snapshot waited %.1f s for the requests under way: %s", alone - started,
                            ", ".join(under_way))
            logger.info("state as of %s saved: %s; requests held %.0f ms (%.0f ms for those under way to "
                        "finish, %.0f ms to fork)", as_of, report.decode().strip(), (forked - started) * 1000,
                        (alone - started) * 1000, (forked - alone) * 1000)

    def close(self) -> None:
        """Stop saving in the background, then save once more with every request finished or held."""
        self._stop.set()
        child = self._child
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        with self._saving, self.gate.alone():
            as_of = datetime.now().astimezone().isoformat(timespec="milliseconds")
            saved = persist.save(self.state_dir)
        logger.info("state as of %s saved on stop: %s", as_of, _describe(saved))


def _child_save(state_dir: Path, answer: int) -> None:  # pragma: no cover - runs in the forked child
    """Save, write one line to ``answer``, and end without running anything of the server's."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.write(answer, _describe(persist.save(state_dir)).encode())
        code = 0
    except BaseException as e:  # reported to the parent, which logs it
        with contextlib.suppress(OSError):
            os.write(answer, f"{type(e).__name__}: {e}".encode()[-2000:])
    finally:
        os._exit(code)


def _describe(saved: persist.Saved) -> str:
    return (f"{saved.snapshot_bytes / 1e6:.1f} MB in {saved.seconds:.2f} s, "
            f"{saved.objects_written} new object bodies, {saved.objects_removed} removed")


def _buffer_body(environ: Environ) -> None:
    """Read the request body before the gate, so a slow client never holds a snapshot up."""
    stream = environ.get("wsgi.input")
    if stream is None or isinstance(stream, io.BytesIO):
        return
    length = environ.get("CONTENT_LENGTH")
    if length:
        data = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        data = stream.read()
    else:
        data = b""
    environ["wsgi.input"] = io.BytesIO(data)


def _describe_request(environ: Environ) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    return str(target) if target else f"{environ.get('REQUEST_METHOD')} {str(environ.get('PATH_INFO'))[:60]}"


def _has_messages(body: bytes) -> bool:
    try:
        return bool(json.loads(body or b"{}").get("Messages"))
    except (ValueError, AttributeError):
        return True  # not what we expected: hand it back as it is
