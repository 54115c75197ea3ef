"""``make bench``: measured figures, each against a baseline taken in the same run.

Machines here are noisy, so every figure is the median of several runs and is
reported as a ratio to a baseline measured alongside it, never as a bare time
to be compared across runs. The table is printed and written to
``build/bench.txt``. Sections: extraction, CSV export, dashboard load and the
local pipeline (:mod:`bench.pipeline`: latency, a 2,000-upload burst,
throughput per worker count); ``--only SECTION`` runs some, ``--quick`` runs
smaller versions of all. docs/PERFORMANCE.md says how to read each figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import dashboard, pipeline
from bench.corpus import generate
from bench.export import rows as export_rows
from extractor.extract import file_digest

ROOT = Path(__file__).resolve().parents[1]


def _timed(args: list[str]) -> tuple[float, int]:
    """Wall seconds of a command, and the peak RSS (KiB) of it or its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    elapsed = time.perf_counter() - started
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def _median(runs: list[float]) -> float:
    return statistics.median(runs)


def extraction(corpus: Path, files: int, repeats: int) -> list[tuple[str, str, str, str]]:
    """Extraction with --jobs 1 against a bare read of the same files, and against exiftool."""
    paths = sorted(corpus.iterdir())
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    bare = []
    for _ in range(repeats):
        started = time.perf_counter()
        for path in paths:
            file_digest(path)
        bare.append(time.perf_counter() - started)
    ours, peak = [], 0
    for _ in range(repeats):
        seconds, rss = _timed([sys.executable, "-m", "extractor", "--jobs", "1", str(corpus)])
        ours.append(seconds)
        peak = max(peak, rss)
    rows = [
        ("extract --jobs 1: files/s", f"{files / _median(ours):.1f}",
         f"{files / _median(bare):.1f} (read+hash)", f"{_median(ours) / _median(bare):.1f}x time"),
        ("extract --jobs 1: peak RSS", f"{peak / 1024:.0f} MiB", "", ""),
        ("corpus", f"{files} files, {megabytes:.1f} MB", "", ""),
    ]
    exiftool = shutil.which("exiftool")
    if exiftool:
        theirs = [_timed([exiftool, "-json", "-q", "-r", str(corpus)])[0] for _ in range(repeats)]
        rows.append(("extract --jobs 1 vs exiftool -json", f"{_median(ours):.2f} s",
                     f"{_median(theirs):.2f} s", f"{_median(ours) / _median(theirs):.2f} (goal <= 1.00)"))
    else:
        rows.append(("extract vs exiftool -json", "skipped", "exiftool not installed", ""))
    return rows


SECTIONS = ("extraction", "export", "dashboard", "pipeline")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks (all, or those named with --only) and print one table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this section (repeatable); default: all of them")
    parser.add_argument("--quick", action="store_true",
                        help="smaller runs of everything (a few minutes), to try the bench out")
    parser.add_argument("--files", type=int, help="extraction corpus size (default 170; quick 60)")
    parser.add_argument("--repeats", type=int, help="runs per timed figure (default 3; quick 1)")
    parser.add_argument("--export-rows", type=int, default=None, help="default 100,000; quick 20,000")
    parser.add_argument("--dashboard-files", type=int, default=None, help="default 100,000; quick 10,000")
    parser.add_argument("--uploads", type=int, help="pipeline burst size (default 2,000; quick 200)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench.txt")
    args = parser.parse_args(argv)
    sections = args.only or list(SECTIONS)
    quick = args.quick
    files = args.files or (60 if quick else 170)
    repeats = args.repeats or (1 if quick else 3)
    rows: list[tuple[str, str, str, str]] = []
    timings: list[str] = []
    for section in SECTIONS:
        if section not in sections:
            continue
        started = time.perf_counter()
        if section == "extraction":
            with tempfile.TemporaryDirectory(prefix="docportal-bench-") as tmp:
                corpus = Path(tmp) / "corpus"
                generate(corpus, files)
                rows += extraction(corpus, files, repeats)
        elif section == "export":
            rows += export_rows(args.export_rows or (20_000 if quick else 100_000), repeats)
        elif section == "dashboard":
            rows += dashboard.rows(args.dashboard_files or (10_000 if quick else 100_000))
        else:
            sizes = pipeline.QUICK if quick else pipeline.FULL
            if args.uploads:
                sizes = dataclasses.replace(sizes, uploads=args.uploads)
            rows += pipeline.rows(sizes)
        timings.append(f"{section} {time.perf_counter() - started:.0f} s")
        print(f"[bench] {timings[-1]}", file=sys.stderr, flush=True)
    header = ("figure", "value", "baseline", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    table = "\n".join(lines) + f"\n\n({'quick; ' if quick else ''}took {', '.join(timings)})"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
