"""README's curl examples (API, "With curl"), run exactly as written with bash, curl and jq.

Against a local stack of this module's own: the moto server, the extractor's
worker polling its queue, and make run's API server on an ephemeral port; the
variables are the ones the README tells the reader to set. The PowerShell
example is not run (no pwsh here), as the README says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from devstack import processes
from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.api import serving
from tests.helpers.env import ROOT, worker_thread
from tests.helpers.files import tiny_pdf
from tests.helpers.users import new_user

pytestmark = pytest.mark.e2e

PORT = processes.free_port()
SECTION = "### With curl"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)


def curl_blocks() -> list[str]:
    """The ```sh blocks of README's "With curl" part of the API section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    api = text[text.index("\n## API\n"):]
    part = api[api.index(SECTION) + len(SECTION):]
    part = part[:re.search(r"^#{2,3} ", part, re.M).start()]  # type: ignore[union-attr]
    return BLOCK.findall(part)


@pytest.fixture
def worker(on_server) -> Iterator[None]:
    """The extractor's worker (as make run runs it) polling the server's queue, in a thread."""
    with worker_thread(on_server.settings):
        yield


def test_the_readme_has_the_curl_walk_through():
    blocks = curl_blocks()
    assert len(blocks) == 5
    assert "InitiateAuth" in blocks[1] and "/v1/uploads" in blocks[2] and "/v1/export" in blocks[4]


def test_the_readmes_curl_examples_sign_in_upload_wait_list_and_export(on_server, worker, tmp_path):
    assert shutil.which("curl") and shutil.which("jq"), "the README's examples need curl and jq"
    pdf = tmp_path / "readme.pdf"
    pdf.write_bytes(tiny_pdf("README"))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LC_ALL": "C.UTF-8",
           "API": f"http://127.0.0.1:{PORT}", "COGNITO": on_server.endpoint,
           "CLIENT_ID": on_server.settings.client_id,
           "EMAIL": new_user(on_server, "readme", DEFAULT_DEMO_PASSWORD, "uploaders"),
           "ANALYST_EMAIL": new_user(on_server, "readme-analyst", DEFAULT_DEMO_PASSWORD, "analysts"),
           "PASSWORD": DEFAULT_DEMO_PASSWORD, "FILE": str(pdf)}
    script = "set -euo pipefail\n" + "\n".join(curl_blocks())
    with serving(on_server.settings, PORT):
        done = subprocess.run([str(shutil.which("bash")), "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=180)
    assert done.returncode == 0, done.stderr
    file_id = re.search(r"^(\S+) processed$", done.stdout, re.M)
    assert file_id, done.stdout
    assert f"{file_id[1]}\tprocessed\treadme.pdf" in done.stdout.splitlines()  # the list, newest first
    exported = [line for line in (tmp_path / "export.csv").read_text().splitlines() if env["EMAIL"] in line]
    assert len(exported) == 1 and exported[0].startswith(f"readme.pdf,{env['EMAIL']},processed,")
    assert done.stdout.splitlines()[-1] == exported[0]
