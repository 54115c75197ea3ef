"""``pytest -m security`` runs every attack in tests/security, as docs/SECURITY.md promises.

The marker is how a reader runs the attacks alone; a file that forgets it
drops out of that run silently, so the whole folder's collection is compared
with the marked one.
"""

from __future__ import annotations

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
