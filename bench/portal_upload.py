"""Benchmark: the portal process's memory while a browser uploads a large file through the Upload page.

``python -m devstack run`` (what ``make run`` runs) is started on ports and a
state folder of its own, Debian's chromium signs in as the demo uploader and
sends a ``megabytes`` MB file through the Upload page, whose component posts
it from the browser straight to S3 (the moto server). The portal's RSS is
sampled every 50 ms from /proc. The baseline is the same process's RSS just
before the upload, after a 1 MB file went the same way (pages, signing,
settling and the summary all run once), so what the path first allocates
whatever the file's size is not counted; the goal is flat: the upload's bytes
never pass through the portal. (Before issue 13 they did: Streamlit's uploader held each
file in the portal's memory, so the peak grew by at least the file's size.)
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.corpus import SIZED
from devstack import processes
from devstack.provision import DEFAULT_DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
MiB = 1024 * 1024
WAIT_MS = 120_000


def rss(pid: int) -> int:
    """A process's resident memory in bytes, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"process {pid} has no VmRSS")


class PeakRss:
    """Samples a process's RSS every 50 ms in a thread; ``peak`` is the largest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, rss(pid), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss(self.pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def _system(folder: Path) -> Iterator[tuple[int, int]]:
    """``python -m devstack run`` on free ports with its state in ``folder``: the portal's port and pid."""
    state, output = folder / "state", folder / "supervisor.out"
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCPORTAL_"))}
    env |= {"DOCPORTAL_STATE_DIR": str(state), "DOCPORTAL_MOTO_PORT": str(processes.free_port()),
            "DOCPORTAL_PORT": str(port), "DOCPORTAL_API_PORT": str(processes.free_port()),
            "PYTHONUNBUFFERED": "1"}
    with output.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "DocPortal is running" not in output.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"make run did not come up:\n{output.read_text()[-3000:]}")
            time.sleep(0.2)
        yield port, _portal_pid(state)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _portal_pid(state: Path) -> int:
    """The running portal (``streamlit run``) among the supervisor's children."""
    for pid in json.loads((state / "pids.json").read_text())["children"]:
        with contextlib.suppress(OSError):
            if b"streamlit run" in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "):
                return int(pid)
    raise RuntimeError("no portal process among make run's children")


def _send(page: Any, path: Path) -> None:
    """Choose ``path`` in the Upload page's component and press Upload."""
    page.locator("input[type=file]").wait_for(state="attached")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Upload 1 file(s)").click()


def rows(megabytes: int) -> list[tuple[str, str, str, str]]:
    """The portal's peak RSS during a ``megabytes`` MB browser upload against its RSS just before."""
    name = f"portal RSS during a {megabytes} MB browser upload"
    if not CHROMIUM.exists():
        return [(name, "skipped", "Debian's chromium is not installed", "")]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="docportal-bench-upload-") as tmp, \
            _system(Path(tmp)) as (port, pid):
        small, big = Path(tmp) / "Warm-up.pdf", Path(tmp) / "Large report.pdf"
        small.write_bytes(SIZED["pdf"](random.Random(12), 1_000_000))
        big.write_bytes(SIZED["pdf"](random.Random(13), megabytes * 1_000_000))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.goto(f"http://localhost:{port}")
            page.get_by_label("E-mail").fill("uploader@example.com")
            page.get_by_label("Password", exact=True).fill(DEFAULT_DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="My files").wait_for()
            page.get_by_role("link", name="Upload").first.click()
            page.get_by_role("heading", name="Upload documents").wait_for()
            done = page.get_by_text("1 stored. Extraction has started.")
            _send(page, small)
            done.wait_for()
            time.sleep(2)  # let the warm-up's allocations settle before the baseline
            before = rss(pid)
            started = time.perf_counter()
            with PeakRss(pid) as memory:
                _send(page, big)
                done.wait_for(state="detached")  # the warm-up's summary goes when the new batch is signed
                done.wait_for(timeout=600_000)
            seconds = time.perf_counter() - started
            browser.close()
    growth = (memory.peak - before) / MiB
    return [(f"{name}: peak", f"{memory.peak / MiB:.0f} MiB (+{growth:.1f})",
             f"{before / MiB:.0f} MiB just before (after 1 MB)",
             f"{memory.peak / before:.2f} (goal: flat, +< 20 MiB)"),
            (f"  the upload took (browser to S3, {megabytes} MB)", f"{seconds:.1f} s", "", "")]
