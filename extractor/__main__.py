"""``python -m extractor [--jobs N] PATH...``: one JSON record per file, per line.

The record is the one the Lambda writes. Directories are walked. The exit
status is 0 when every file got a record, even a failed one, and 2 when a
path could not be read at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from common.settings import Settings, SettingsError
from extractor.extract import Config, extract_file


def walk(paths: list[str]) -> Iterator[Path]:
    """Files named, and files below directories named, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def record(path: Path, config: Config) -> dict[str, Any]:
    """The JSON record of one file (``status`` processed or failed)."""
    try:
        result = extract_file(path, path.name, config)
    except OSError as e:
        return {"path": str(path), "status": "failed", "reason": f"cannot read the file: {e.strerror}"}
    out: dict[str, Any] = {"path": str(path), "status": result.status.value}
    if result.error:
        out["reason"] = result.error
    fields = asdict(result)
    for name in ("size", "sha256", "mime_type", "format", "extension", "flags", "metadata", "duration_ms"):
        out[name] = fields[name]
    out["flags"] = list(out["flags"])
    return out


def main(argv: list[str] | None = None) -> int:
    """Extract every file named and print its record as JSON lines, in input order."""
    parser = argparse.ArgumentParser(prog="python -m extractor", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="files extracted at once (default: the number of cores)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        config = Config.from_settings(Settings.from_env(need_stack=False))
    except SettingsError as e:
        parser.error(str(e))
    unreadable = False
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for rec in pool.map(lambda p: record(p, config), walk(args.paths)):
            unreadable |= "sha256" not in rec
            print(json.dumps(rec, ensure_ascii=False, default=str), flush=True)
    return 2 if unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
