"""``make package``: the extractor's Lambda zip, built for the Lambda platform.

Wheels are fetched for Lambda's platform (manylinux, the chosen architecture,
the runtime's Python), never built from this machine's interpreter, so the
zip runs on Lambda whatever machine builds it. boto3 is left out: the runtime
provides it. The zip is reproducible (sorted entries, fixed timestamps).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so any
#: manylinux wheel up to 2.34 fits.
GLIBC_TAGS = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
PLATFORMS = {"arm64": "aarch64", "x86_64": "x86_64"}
#: What Lambda allows for a directly uploaded zip.
MAX_ZIP_BYTES = 50 * 1000 * 1000
_SKIP = ("__pycache__", ".dist-info/RECORD")


def build(arch: str, python: str, out: Path) -> Path:
    """Build ``out`` (a zip) and return it; raises SystemExit with a clear message on failure."""
    staging = out.parent / f"lambda-{arch}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(staging),
         *[arg for tag in GLIBC_TAGS for arg in ("--platform", f"{tag}_{PLATFORMS[arch]}")],
         "--implementation", "cp",
         "--python-version", python, "--only-binary=:all:", "--no-compile",
         "-r", str(ROOT / "requirements-lambda.txt"), "-c", str(ROOT / "constraints.txt")],
        check=True)
    for package in ("common", "extractor"):
        shutil.copytree(ROOT / package, staging / package, ignore=shutil.ignore_patterns("__pycache__"))
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
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "extractor.zip")
    args = parser.parse_args(argv)
    zip_path = build(args.arch, args.python, args.out)
    size = zip_path.stat().st_size
    shown = zip_path.relative_to(ROOT) if zip_path.is_relative_to(ROOT) else zip_path
    print(f"{shown}: {size / 1e6:.1f} MB ({args.arch}, Python {args.python}); "
          f"Lambda's limit is {MAX_ZIP_BYTES / 1e6:.0f} MB")
    if size > MAX_ZIP_BYTES:
        print("The package is too large for a direct Lambda upload.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
