"""Sandbox tasks that misbehave as a hostile file can make a parser or a drawer misbehave.

They never return, so each serves as either; the worker imports them from here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NoReturn

from extractor.formats import Limits

MiB = 1024 * 1024


def hogs_memory(path: Path, limits: Limits) -> NoReturn:
    blocks = []
    while True:
        blocks.append(bytearray(16 * MiB))


def loops_forever(path: Path, limits: Limits) -> NoReturn:
    while True:
        time.sleep(0.01)
