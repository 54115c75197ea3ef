"""Attacks on Streamlit's upload endpoint, which any open session can post to.

``st.file_uploader`` sends files to ``PUT /_stcore/upload_file/{session}/{file}``
and the server keeps them in memory until the session ends. Streamlit accepts
such posts from any session, signed in or not, and its XSRF check is a double
submit a script fills in itself (``tests/helpers/streamlit_client.py``). Each
attack runs against the real portal (``portal/server.py`` under ``streamlit run``)
on a moto server and checks that the portal's guard, not something else,
refused it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from devstack import processes
from devstack.run import local_env
from tests.helpers.env import ROOT, Server
from tests.helpers.files import tiny_pdf
from tests.helpers.streamlit_client import session


@pytest.fixture(scope="module")
def portal(moto_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal, as ``make run`` starts it, on a free port; yields its base URL."""
    port, log = processes.free_port(), tmp_path_factory.mktemp("portal") / "portal.log"
    env = local_env(moto_server.endpoint) | moto_server.settings.to_env()
    proc = processes.start([sys.executable, "-m", "streamlit", "run", str(ROOT / "portal" / "server.py"),
                            "--server.port", str(port), "--server.address", "127.0.0.1"],
                           log=log, env=env, cwd=ROOT)
    try:
        processes.wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout=90, proc=proc, log=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        processes.stop([proc])


def test_a_session_that_never_signed_in_cannot_park_files_in_the_servers_memory(portal: str) -> None:
    with session(portal) as anonymous:
        answer = anonymous.upload("invoice.pdf", tiny_pdf())
    assert answer.status == 403, answer
    assert "sign in" in answer.body.lower(), answer  # the portal's guard said no, not the XSRF check


def test_a_session_that_never_signed_in_is_refused_before_its_body_is_read(portal: str) -> None:
    with session(portal) as anonymous:
        answer = anonymous.answer_before_the_body(256 * 1024 * 1024)
    assert answer.status == 403, answer
    assert "sign in" in answer.body.lower(), answer
