"""Each Lambda zip holds its part's packages and leaves out what its function never imports."""

from __future__ import annotations

import zipfile
from pathlib import Path

from devstack import package


def fake_pip(created: list[str]):
    def run(command, check):
        target = Path(command[command.index("--target") + 1])
        for name in created:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text("# installed\n")
    return run


def test_the_api_zip_has_the_api_and_the_portals_services_but_no_test_suites(tmp_path, monkeypatch):
    monkeypatch.setattr(package.subprocess, "run", fake_pip(
        ["pandas/__init__.py", "pandas/core/frame.py", "pandas/tests/test_frame.py",
         "numpy/_core/multiarray.py", "numpy/_core/tests/test_multiarray.py", "numpy/tests/test_x.py"]))
    monkeypatch.setattr(package, "find_python", lambda version: None)
    out = package.build("arm64", "3.13", tmp_path / "api.zip", package.PARTS["api"])
    names = set(zipfile.ZipFile(out).namelist())
    assert {"api/app.py", "portal/files/service.py", "common/aws.py", "pandas/core/frame.py",
            "numpy/_core/multiarray.py"} <= names
    assert not any("/tests/" in name for name in names)
    assert not any(name.startswith("extractor/") for name in names)


def test_the_extractor_zip_has_no_portal_and_no_api(tmp_path, monkeypatch):
    monkeypatch.setattr(package.subprocess, "run", fake_pip(["filetype/__init__.py"]))
    monkeypatch.setattr(package, "find_python", lambda version: None)
    names = set(zipfile.ZipFile(package.build("arm64", "3.13", tmp_path / "x.zip")).namelist())
    assert "extractor/handler.py" in names and "filetype/__init__.py" in names
    assert not any(name.startswith(("portal/", "api/")) for name in names)
