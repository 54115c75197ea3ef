"""`python -m extractor`: one JSON record per file per line."""

import json
import subprocess
import sys

from tests.helpers.env import ROOT
from tests.helpers.files import tiny_pdf, tiny_png


def test_records_for_a_walked_directory_and_an_unreadable_path(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.pdf").write_bytes(tiny_pdf())
    (tmp_path / "sub" / "b.png").write_bytes(tiny_png())
    (tmp_path / "sub" / "empty.txt").write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "extractor", "--jobs", "2", str(tmp_path),
                             str(tmp_path / "missing.pdf")], capture_output=True, text=True, cwd=ROOT, check=False)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"].removeprefix(str(tmp_path)) for r in records] == [
        "/a.pdf", "/sub/b.png", "/sub/empty.txt", "/missing.pdf"]
    pdf, png, empty, missing = records
    assert set(pdf) == {"path", "status", "size", "sha256", "mime_type", "format", "extension", "flags",
                        "metadata", "duration_ms"}
    assert (pdf["status"], pdf["format"], pdf["metadata"]["pages"]) == ("processed", "pdf", 1)
    assert (png["format"], png["metadata"]["width"]) == ("png", 2)
    assert empty["flags"] == ["empty"]
    assert missing["status"] == "failed" and "cannot read" in missing["reason"]
    assert result.returncode == 2


def test_exit_status_is_zero_when_every_file_got_a_record_even_a_failed_one(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(tiny_pdf()[:40])
    result = subprocess.run([sys.executable, "-m", "extractor", str(tmp_path)], capture_output=True, text=True,
                            cwd=ROOT, check=False)
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["format"] == "pdf"
    assert result.returncode == 0
