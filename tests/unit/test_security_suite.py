"""``pytest -m security`` runs every attack in tests/security, as docs/SECURITY.md promises.

The marker is how a reader runs the attacks alone; a file that forgets it
drops out of that run silently, so the whole folder's collection is compared
with the marked one.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers.env import ROOT


def _collected(*args: str) -> set[str]:
    """The test ids pytest collects under tests/security with ``args``."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                          *args, "tests/security"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return {line for line in out.stdout.splitlines() if "::" in line}


def test_the_security_marker_selects_every_test_in_the_security_folder():
    everything = _collected()
    assert everything, "no tests collected under tests/security"
    assert _collected("-m", "security") == everything


def test_every_test_security_md_names_exists():
    """A defence whose named test was renamed or removed would be claimed without proof."""
    text = (ROOT / "docs" / "SECURITY.md").read_text()
    missing, named = [], 0
    for cell in re.findall(r"`(tests/[\w/]+\.py)((?:::[\w…\[\]-]+)?)`((?:, `::[\w…\[\]-]+`)*)", text):
        path, first, more = cell
        source = ROOT / path
        assert source.exists(), f"SECURITY.md names {path}, which does not exist"
        for name in [first, *re.findall(r"`(::[\w…\[\]-]+)`", more)]:
            test = name.removeprefix("::").split("[")[0]
            if not test:
                continue
            named += 1
            pattern = re.escape(test).replace("…", ".*")
            if not re.search(rf"^(async )?def {pattern}\(", source.read_text(), re.MULTILINE):
                missing.append(f"{path}::{test}")
    assert named >= 40, "the pattern no longer finds the tests SECURITY.md names"
    assert not missing, missing
