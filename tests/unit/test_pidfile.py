"""make run's record of its processes: readers (tests, make reset, a second make run) never see it half written."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from devstack.processes import PidFile


def test_a_reader_never_sees_the_record_half_written(tmp_path: Path) -> None:
    """The CI run that found it: a test read pids.json while the supervisor rewrote it, and got ''."""
    record = PidFile(tmp_path / "pids.json")
    children = [subprocess.Popen([sys.executable, "-c", "pass"]) for _ in range(3)]
    for child in children:
        child.wait()
    record.write(children)
    done = threading.Event()
    torn: list[str] = []

    def read() -> None:
        while not done.is_set():
            text = record.path.read_text()
            try:
                json.loads(text)
            except ValueError:
                torn.append(text)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3000):
            record.write(children)
    finally:
        done.set()
        reader.join()
    assert torn == []
    assert [p.name for p in tmp_path.iterdir()] == ["pids.json"]
