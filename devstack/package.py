"""``make package``: the Lambda zips (the extractor's, the API's), built for the Lambda platform.

Each function has its own zip (:data:`PARTS`): the API runs the portal's
services, whose pandas the extractor's zip must not carry, and the
extractor's parsers have no place in the API's.

Wheels are fetched for Lambda's platform (manylinux, the chosen architecture,
the runtime's Python), never built from this machine's interpreter, so the
zip runs on Lambda whatever machine builds it. boto3 is left out: the runtime
provides it. The zip carries bytecode for the runtime's Python (see
:func:`compile_bytecode`) when an interpreter of that version is installed, and
is reproducible (sorted entries, fixed timestamps, hash-based pycs).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so any
#: manylinux wheel up to 2.34 fits.
GLIBC_TAGS = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
PLATFORMS = {"arm64": "aarch64", "x86_64": "x86_64"}
#: What Lambda allows for a directly uploaded zip.
MAX_ZIP_BYTES = 50 * 1000 * 1000
#: RECORD lists files pip installed, not what the zip holds (bytecode included).
_SKIP = (".dist-info/RECORD",)
#: What a usable interpreter prints: its version, and that it is a final, GIL build of CPython.
_PROBE = ("import sys, sysconfig; v = sys.version_info; "
          "print(f'{v.major}.{v.minor}', v.releaselevel, sys.implementation.name, "
          "bool(sysconfig.get_config_var('Py_GIL_DISABLED')))")


def find_python(version: str) -> str | None:
    """An interpreter of exactly ``version`` ("3.13") on this machine, or None.

    Tried in order: this interpreter, ``pyenv prefix``, pyenv's versions
    directory (newest patch first), then ``pythonX.Y`` on PATH. Each candidate
    is run once to check it, since a pyenv shim exists for versions it then
    refuses to run, and a free-threaded or pre-release build compiles bytecode
    the runtime would not use.
    """
    candidates = [sys.executable]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    pyenv = shutil.which("pyenv") or str(pyenv_root / "bin" / "pyenv")
    if Path(pyenv).is_file():
        prefix = subprocess.run([pyenv, "prefix", version], capture_output=True, text=True,
                                check=False).stdout
        candidates += [f"{p.strip()}/bin/python{version}" for p in prefix.split(os.pathsep) if p.strip()]

    def patch(path: str) -> tuple[int, ...]:
        number = Path(path).parents[1].name.removeprefix(version).lstrip(".")
        return tuple(int(p) for p in number.split(".") if p.isdigit())

    candidates += sorted(glob.glob(str(pyenv_root / "versions" / f"{version}*" / "bin" / f"python{version}")),
                         key=patch, reverse=True)
    candidates += [found for found in [shutil.which(f"python{version}")] if found]
    for candidate in dict.fromkeys(c.strip() for c in candidates):
        try:
            probe = subprocess.run([candidate, "-c", _PROBE], capture_output=True, text=True, timeout=30,
                                   check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and probe.stdout.split() == [version, "final", "cpython", "False"]:
            return candidate
    return None


def compile_bytecode(staging: Path, python: str) -> None:
    """Compile every module in ``staging`` with ``python``, as unchecked hash-based pycs.

    Lambda extracts the zip into /var/task, which is read-only, so modules the
    zip holds no usable bytecode for are compiled from source on every cold
    start (Powertools alone imports in 0.49 s so, against 0.12 s). Default
    pycs are validated against the source's mtime, which a zip keeps only to
    2 seconds in local time (and ours are fixed at 1980): the runtime would
    find them stale, compile anyway and fail to write. Unchecked hash-based
    pycs (PEP 552) are used without looking at the source, which is right for
    a tree nobody can change; they hold no timestamp, so the zip stays
    reproducible. ``-s``/``-p`` record /var/task rather than the build directory
    as the source path, so where the zip is built changes no byte of it.
    """
    for stale in list(staging.rglob("__pycache__")):  # a wheel's own bytecode may be for any Python
        shutil.rmtree(stale)
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
         "-s", str(staging), "-p", "/var/task", str(staging)],
        check=True)


@dataclass(frozen=True)
class Part:
    """One function's zip: our packages it copies, the requirements file it installs, what it leaves out."""

    packages: tuple[str, ...]
    requirements: str
    #: Installed folders the function never imports (globs under the zip's root), left out.
    prune: tuple[str, ...] = ()


PARTS = {
    "extractor": Part(("common", "extractor"), "requirements-lambda.txt"),
    # pandas' and numpy's own test suites are 15 of the zip's 49 MB; nothing imports them.
    "api": Part(("common", "portal", "api"), "requirements-api.txt",
                prune=("pandas/tests", "numpy/**/tests")),
}


def build(arch: str, python: str, out: Path, part: Part = PARTS["extractor"]) -> Path:
    """Build ``out`` (a zip) and return it; raises SystemExit with a clear message on failure.

    Without an interpreter of the runtime's version (:func:`find_python`) the
    zip is still built, without bytecode, and a warning says what to install.
    """
    staging = out.parent / f"lambda-{arch}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(staging),
         *[arg for tag in GLIBC_TAGS for arg in ("--platform", f"{tag}_{PLATFORMS[arch]}")],
         "--implementation", "cp",
         "--python-version", python, "--only-binary=:all:", "--no-compile",
         "-r", str(ROOT / part.requirements), "-c", str(ROOT / "constraints.txt")],
        check=True)
    for pattern in part.prune:
        for path in sorted(staging.glob(pattern), reverse=True):
            shutil.rmtree(path, ignore_errors=True)
    for package in part.packages:
        shutil.copytree(ROOT / package, staging / package, ignore=shutil.ignore_patterns("__pycache__"))
    interpreter = find_python(python)
    if interpreter:
        compile_bytecode(staging, interpreter)
    else:
        print(f"warning: no Python {python} found (pyenv, or python{python} on PATH), so the zip carries "
              f"no bytecode and every cold start compiles its imports: install Python {python} "
              f"(e.g. pyenv install {python}) and build again.", file=sys.stderr)
    out.unlink(missing_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            name = path.relative_to(staging).as_posix()
            if any(part in name for part in _SKIP):
                continue
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    return out


def main(argv: list[str] | None = None) -> int:
    """Build the zip and check Lambda's size limit."""
    from devstack import template  # the template says what the function runs on

    arch, python = template.lambda_platform(template.load())
    parser = argparse.ArgumentParser(prog="python -m devstack.package", description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default=arch,
                        help=f"the function's architecture (the template's: {arch})")
    parser.add_argument("--python", default=python,
                        help=f"the Lambda runtime's Python version (the template's: {python})")
    parser.add_argument("--part", choices=sorted(PARTS), default="extractor", help="which function's zip")
    parser.add_argument("--out", type=Path, help="where to write it (default build/<part>.zip)")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "build" / f"{args.part}.zip"
    zip_path = build(args.arch, args.python, out, PARTS[args.part])
    size = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as z:
        pycs = sum(name.endswith(".pyc") for name in z.namelist())
    shown = zip_path.relative_to(ROOT) if zip_path.is_relative_to(ROOT) else zip_path
    print(f"{shown}: {size / 1e6:.1f} MB ({args.arch}, Python {args.python}, "
          f"{f'bytecode for {pycs} modules' if pycs else 'no bytecode'}); "
          f"Lambda's limit is {MAX_ZIP_BYTES / 1e6:.0f} MB")
    if size > MAX_ZIP_BYTES:
        print("The package is too large for a direct Lambda upload.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
