"""Benchmark: the Lambda's cold imports, from its zip with bytecode against the same zip without.

Lambda extracts the zip into a read-only /var/task, so a module the zip holds
no bytecode for is compiled on every cold start. This builds the zip as
``make package`` does, for the template's runtime Python but this machine's
architecture (an arm64 zip does not run on x86_64), and makes a copy without
its ``__pycache__`` entries. Each side is extracted and imported in fresh
processes of the runtime's Python, with ``-B`` (nothing is written, as on
Lambda), the sides taking turns in alternating order so that a busy spell
slows both: first ``extractor.handler`` (what Lambda imports before the first
event), then what the first PDF needs in the parser process (its parser and
its preview's drawer). boto3 comes from
outside the zip, as the runtime provides it, compiled once for both sides; it
is imported first and timed on its own as well: a control, whose ratio
should stay near 1, and what is left once it is taken off is the zip's share.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devstack import package, template

#: What the Lambda runtime provides besides the zip (boto3 and what it needs).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
#: Prints seconds to import boto3, the handler (boto3 included), then also the first PDF's parser and drawer.
CHILD = ("import json, time; t0 = time.perf_counter(); "
         "import boto3, botocore.config; t1 = time.perf_counter(); "
         "import extractor.handler; t2 = time.perf_counter(); "
         "import extractor.formats.pdf, extractor.formats.thumbnails; t3 = time.perf_counter(); "
         "print(json.dumps([t1 - t0, t2 - t0, t3 - t0]))")
Row = tuple[str, str, str, str]


@dataclass(frozen=True)
class Figure:
    """One figure, taken from each run's answer (seconds for boto3, the handler, the handler and PDF)."""

    name: str
    of: Callable[[list[float]], float]
    worst_too: bool = False


FIGURES = (
    Figure("extractor.handler", lambda t: t[1], worst_too=True),
    Figure("extractor.handler + first PDF's parser and drawer", lambda t: t[2], worst_too=True),
    Figure("the same, less boto3: the zip's own modules", lambda t: t[2] - t[0]),
    Figure("boto3 alone (the runtime's, compiled either way)", lambda t: t[0]),
)


def rows(runs: int = 11) -> list[Row]:
    """Cold import times with and without bytecode (median and worst of ``runs`` each), and the zip sizes."""
    _, python = template.lambda_platform(template.load())
    runtime = package.find_python(python)
    if runtime is None:
        return [("cold start: import from the Lambda zip", "skipped",
                 f"no Python {python} (the runtime's) installed", "")]
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    with tempfile.TemporaryDirectory(prefix="docportal-coldstart-") as tmp:
        root = Path(tmp)
        with_pyc = package.build(arch, python, root / "with" / "extractor.zip")
        without_pyc = _without_bytecode(with_pyc, root / "without.zip")
        provided = _runtime_packages(root / "runtime", runtime)
        trees = {}
        for side, zip_path in (("with", with_pyc), ("without", without_pyc)):
            with zipfile.ZipFile(zip_path) as z:
                z.extractall(root / f"task-{side}")
            trees[side] = root / f"task-{side}"
        times: dict[str, list[list[float]]] = {"with": [], "without": []}
        for run in range(runs + 1):  # the first round warms the page cache and is not counted
            for side in ("with", "without") if run % 2 else ("without", "with"):
                measured = _import_times(runtime, trees[side], provided)
                if run:
                    times[side].append(measured)
        sizes = {"with": with_pyc.stat().st_size, "without": without_pyc.stat().st_size}
    label = f"cold import, Python {python} {arch}"
    result: list[Row] = []
    for figure in FIGURES:
        ours = [figure.of(t) for t in times["with"]]
        theirs = [figure.of(t) for t in times["without"]]
        result.append((f"{label}: {figure.name}", f"{statistics.median(ours):.2f} s",
                       f"{statistics.median(theirs):.2f} s (no bytecode)",
                       f"{statistics.median(ours) / statistics.median(theirs):.2f}x time"))
        if figure.worst_too:
            result.append((f"{label}: {figure.name}, worst of {runs}", f"{max(ours):.2f} s",
                           f"{max(theirs):.2f} s (no bytecode)", f"{max(ours) / max(theirs):.2f}x time"))
    with_mb, without_mb = sizes["with"] / 1e6, sizes["without"] / 1e6
    result.append(("Lambda zip with bytecode", f"{with_mb:.1f} MB", f"{without_mb:.1f} MB (no bytecode)",
                   f"{with_mb / without_mb:.2f}x"))
    return result


def _without_bytecode(source: Path, out: Path) -> Path:
    """``source`` less its ``__pycache__`` entries, entries otherwise as they are."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if "__pycache__/" not in info.filename:
                zout.writestr(info, zin.read(info))
    return out


def _runtime_packages(target: Path, runtime: str) -> Path:
    """boto3 and its dependencies copied from this environment, compiled by ``runtime``."""
    target.mkdir(parents=True)
    for name in RUNTIME_PACKAGES:
        origin = Path(str(importlib.import_module(name).__file__))
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, target / origin.parent.name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(origin, target / origin.name)
    subprocess.run([runtime, "-m", "compileall", "-q", "-j", "0", str(target)], check=True,
                   stdout=subprocess.DEVNULL)
    return target


def _import_times(runtime: str, task: Path, provided: Path) -> list[float]:
    """One fresh process's seconds to import boto3, the handler, and then the first PDF's modules too."""
    env = {"PYTHONPATH": f"{task}:{provided}", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
    done = subprocess.run([runtime, "-S", "-B", "-c", CHILD], env=env, cwd=task, capture_output=True,
                          text=True, check=True)
    return [float(seconds) for seconds in json.loads(done.stdout.splitlines()[-1])]


def main(argv: list[str] | None = None) -> int:
    """Print the rows as a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh processes per side (default 11)")
    args = parser.parse_args(argv)
    table = rows(args.runs)
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for row in table:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
