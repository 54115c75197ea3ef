"""Attacks by hostile files and objects, one per test; each docstring names the attack.

A file may take over the parser that reads it (the sandbox's worker process),
may be shaped to exhaust the extractor before any parser runs, or may be put
where it claims another user's file.
"""

import os
import tracemalloc
from pathlib import Path

import pytest

from bench.corpus import million_entries_zip
from extractor.detect import detect
from extractor.extract import Config, extract_file
from extractor.formats import Limits, Parsed, ParseError
from extractor.sandbox import Budget, MiB, run_isolated

BUDGET = Budget(memory_bytes=64 * MiB, seconds=5)


class _RunsWhenUnpickled:
    """A value whose unpickling calls ``os.mkdir(marker)`` in whichever process unpickles it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def answers_with_code(path: Path, limits: Limits) -> Parsed:
    return Parsed(metadata={"title": _RunsWhenUnpickled(str(path.with_suffix(".pwned")))})


def reads_the_environment(path: Path, limits: Limits) -> Parsed:
    return Parsed(metadata={"variables": sorted(os.environ)})


def test_a_taken_over_parser_cannot_run_code_in_the_extractor(tmp_path):
    """Attack: a parser taken over by a file answers with a pickle that runs code when the extractor reads it."""
    with pytest.raises(ParseError) as caught:
        run_isolated(answers_with_code, tmp_path / "x.pdf", Limits(), BUDGET)
    assert not (tmp_path / "x.pwned").exists(), "the parser's answer ran code in the extractor"
    assert caught.value.reason == "the file's metadata could not be read (unexpected reader error)"


def test_a_taken_over_parser_finds_no_credentials_in_its_environment(tmp_path, monkeypatch):
    """Attack: a parser taken over by a file reads the extractor's AWS credentials from its environment."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-secret-the-parser-must-not-see")
    fresh = Budget(memory_bytes=64 * MiB, seconds=4)  # a worker forked after the variable was set
    assert run_isolated(reads_the_environment, tmp_path / "x.pdf", Limits(), fresh).metadata == {"variables": []}


@pytest.fixture(scope="module")
def million_entries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zip") / "entries.zip"
    path.write_bytes(million_entries_zip())
    return path


def test_a_zip_of_a_million_entries_is_classified_without_listing_them(million_entries):
    """Attack: a 52 MB zip of a million empty entries makes detection, in the extractor's own process,
    list them all (about 480 MB), so a few such files exhaust a 1 GB Lambda and the batch is retried forever."""
    tracemalloc.start()
    try:
        fmt = detect(million_entries, "zip").format
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fmt == "zip"
    assert peak < 2 * MiB, f"detection allocated {peak / MiB:.0f} MiB"


def test_a_zip_of_a_million_entries_is_refused_for_its_count_before_it_is_listed(million_entries):
    """Attack: the same zip makes the zip parser list a million entries before it checks the member cap,
    so it fails for memory (or exhausts a larger budget) instead of being refused for what it is."""
    config = Config(budget=Budget(memory_bytes=96 * MiB, seconds=20))
    record = extract_file(million_entries, "entries.zip", config)
    assert record.error == "zip archive has 1000000 entries, more than the 20000 allowed"
