"""A step's CPU budget: it ends the step, not the file, and nothing a reader catches can stop it."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

import pytest

from bench.broken_pdfs import ten_thousand_pages_flat
from extractor.formats.deadline import OutOfTime, cpu_budget
from extractor.formats.pdfdetail import read_detail


def spin_swallowing_exceptions() -> None:
    """A reader that catches every Exception, as pypdf's lenient mode does, and never ends."""
    while True:
        with contextlib.suppress(Exception):  # the point: a broad except must not catch the budget
            sum(range(1000))


@pytest.mark.timeout(10)
def test_the_budget_ends_a_step_that_catches_everything() -> None:
    before = signal.getsignal(signal.SIGPROF)
    with pytest.raises(OutOfTime), cpu_budget(0.05):
        spin_swallowing_exceptions()
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGPROF) == before


def test_a_step_within_its_budget_is_untouched() -> None:
    with cpu_budget(5):
        total = sum(range(1000))
    assert total == 499500
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_off_the_main_thread_the_step_runs_unbounded() -> None:
    done: list[int] = []

    def work() -> None:
        with cpu_budget(0.001):
            done.append(sum(range(200_000)))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert done == [sum(range(200_000))]


@pytest.mark.timeout(30)
def test_pypdf_gives_up_on_a_damaged_table_within_its_budget(tmp_path: Path) -> None:
    """Without the budget, pypdf spends about 100 s on this file's 10,000 wrongly indexed pages."""
    path = tmp_path / "flat.pdf"
    path.write_bytes(ten_thousand_pages_flat())
    detail = read_detail(path, 0.2, scripts=True)
    assert detail.complete is False
