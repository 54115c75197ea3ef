"""Hostile parsers and drawers fail only themselves, with a reason a person can read."""

import ctypes
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from extractor import sandbox as sandbox_module
from extractor.extract import Config, extract_file
from extractor.formats import Limits, Parsed, ParseError
from extractor.sandbox import Budget, MiB, Sandbox, draw_isolated, run_isolated
from tests.helpers.procs import children
from tests.helpers.tasks import hogs_memory, loops_forever

BUDGET = Budget(memory_bytes=64 * MiB, seconds=2)


def fine(path: Path, limits: Limits) -> Parsed:
    return Parsed(metadata={"name": path.name, "cap": limits.max_depth}, flags=frozenset({"gps"}))


def refuses(path: Path, limits: Limits) -> Parsed:
    raise ParseError("encrypted PDF: metadata partially available", metadata={"pages": 3}, flags={"encrypted"})


def crashes_the_interpreter(path: Path, limits: Limits) -> Parsed:
    ctypes.string_at(0)  # a NULL read: SIGSEGV
    raise AssertionError("unreachable")


def recurses(path: Path, limits: Limits) -> Parsed:
    return recurses(path, limits)


def has_a_bug(path: Path, limits: Limits) -> Parsed:
    return {}["missing"]


def test_results_come_back_from_the_child(tmp_path):
    assert run_isolated(fine, tmp_path / "a.pdf", Limits(max_depth=7), BUDGET) == Parsed(
        metadata={"name": "a.pdf", "cap": 7}, flags=frozenset({"gps"}))


def test_parse_errors_keep_their_reason_metadata_and_flags(tmp_path):
    with pytest.raises(ParseError) as caught:
        run_isolated(refuses, tmp_path / "x", Limits(), BUDGET)
    assert caught.value.reason == "encrypted PDF: metadata partially available"
    assert caught.value.metadata == {"pages": 3}
    assert caught.value.flags == {"encrypted"}


@pytest.mark.parametrize(("parser", "reason"), [
    (hogs_memory, "reading the file needs more than the 64 MiB memory limit"),
    (loops_forever, "reading the file took longer than the 2 s limit"),
    (crashes_the_interpreter, "the file could not be read safely (the reader crashed on it)"),
    (recurses, "the file is nested too deeply to read"),
    (has_a_bug, "the file's metadata could not be read (unexpected reader error)"),
])
def test_hostile_behaviour_ends_in_a_readable_reason(tmp_path, parser, reason):
    with pytest.raises(ParseError) as caught:
        run_isolated(parser, tmp_path / "x", Limits(), BUDGET)
    assert caught.value.reason == reason


def test_the_parent_is_unharmed_and_can_go_on(tmp_path):
    with pytest.raises(ParseError):
        run_isolated(hogs_memory, tmp_path / "x", Limits(), BUDGET)
    assert run_isolated(fine, tmp_path / "y", Limits(), BUDGET).metadata["name"] == "y"


def test_a_parser_stopped_from_outside_is_not_blamed_on_the_file(tmp_path):
    """A worker shutting down (SIGTERM to its group) stops the parser too: the file is retried, not failed."""
    before = children(os.getpid())
    sandbox = Sandbox(Budget(memory_bytes=64 * MiB, seconds=10))

    def stop_the_parser() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            started = children(os.getpid()) - before
            if started:
                time.sleep(0.2)
                os.kill(started.pop(), signal.SIGTERM)
                return
            time.sleep(0.02)

    threading.Thread(target=stop_the_parser, daemon=True).start()
    try:
        with pytest.raises(Exception) as caught:
            sandbox.run(loops_forever, tmp_path / "x", Limits())
    finally:
        sandbox.close()
    assert not isinstance(caught.value, ParseError), caught.value
    assert isinstance(caught.value, sandbox_module.Interrupted)


def test_extraction_lets_an_interruption_through(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise sandbox_module.Interrupted("stopped")

    monkeypatch.setattr("extractor.extract.run_isolated", interrupted)
    (tmp_path / "a.txt").write_text("text")
    with pytest.raises(sandbox_module.Interrupted):
        extract_file(tmp_path / "a.txt", "a.txt", Config())


def draws(path: Path, limits: Limits) -> bytes:
    return bytes(range(256)) * 4  # any bytes: the caller checks they are the picture it asked for


def test_a_drawing_comes_back_as_the_bytes_the_worker_sent(tmp_path):
    assert draw_isolated(draws, tmp_path / "x", Limits(), BUDGET, 5) == bytes(range(256)) * 4


@pytest.mark.parametrize(("ask", "target"), [("draw", fine), ("run", draws)], ids=["parser drawn", "drawer run"])
def test_a_worker_answering_another_kind_of_answer_is_replaced(tmp_path, ask, target):
    sandbox = Sandbox(BUDGET)
    try:
        call = sandbox.run if ask == "run" else lambda *a: sandbox.draw(*a, 5)
        with pytest.raises(ParseError, match="unexpected reader error"):
            call(target, tmp_path / "x", Limits())
        assert sandbox._process is None, "not trusted with another file"
    finally:
        sandbox.close()


def test_a_drawing_has_its_own_deadline_within_the_budget(tmp_path):
    with pytest.raises(ParseError, match=r"longer than the 0\.5 s limit"):
        draw_isolated(loops_forever, tmp_path / "x", Limits(), BUDGET, 0.5)


@pytest.mark.parametrize("answer", [b'["bytes", "not base64!"]', b'["bytes", 3]', b'["bytes"]'])
def test_a_malformed_drawing_is_no_answer(answer):
    assert sandbox_module._decode(answer) is None
