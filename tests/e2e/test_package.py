"""`make package`: a zip built for the Lambda platform that holds everything but boto3."""

import importlib
import os
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

from devstack import package
from tests.helpers.env import ROOT


def test_the_package_is_small_complete_and_importable(tmp_path):
    arch = "arm64" if platform.machine() == "aarch64" else "x86_64"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    out = package.build(arch, python, tmp_path / "extractor.zip")
    assert out.stat().st_size < package.MAX_ZIP_BYTES
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        z.extractall(tmp_path / "unzipped")
    assert "extractor/handler.py" in names and "common/schema/record.py" in names
    assert not any(n.startswith(("boto3/", "botocore/", "portal/", "devstack/", "tests/")) for n in names)
    # Import the handler and every parser from the zip alone, as Lambda would,
    # with only boto3 (which the runtime provides) from outside it.
    runtime = tmp_path / "runtime"  # what the Lambda runtime provides, and nothing else
    runtime.mkdir()
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"):
        origin = Path(importlib.import_module(name).__file__)
        source = origin.parent if origin.name == "__init__.py" else origin
        (runtime / source.name).symlink_to(source)
    unzipped = tmp_path / "unzipped"
    code = ("import importlib, extractor.handler as h, extractor.compactor; from extractor.extract import PARSERS; "
            "[importlib.import_module('extractor.formats.' + t.split(':')[0]) for t in PARSERS.values()]; "
            "importlib.import_module('extractor.formats.thumbnails'); "
            f"assert h.__file__.startswith({str(unzipped)!r})")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join([str(unzipped), str(runtime)]),
           "PYTHONNOUSERSITE": "1"}
    result = subprocess.run([sys.executable, "-S", "-c", code], env=env, cwd=tmp_path, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ROOT.exists()
