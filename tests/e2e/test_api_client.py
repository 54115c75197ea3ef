"""``python -m api.client`` against make run's API server and the moto pool: upload, list, get, and its failures."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from api import client
from common.settings import Settings
from devstack.processes import free_ports
from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.api import serving
from tests.helpers.files import tiny_pdf
from tests.helpers.users import new_uploader

pytestmark = pytest.mark.e2e

#: The API, a token endpoint, and one nothing listens on.
API_PORT, TOKEN_PORT, DEAD_PORT = free_ports(3)


@pytest.fixture(scope="module")
def uploader(moto_server) -> str:
    """An uploader of this module's own: the stand-in is shared, and the demo uploader's files are others'."""
    return new_uploader(moto_server, "cli", DEFAULT_DEMO_PASSWORD)


@pytest.fixture
def api_url(on_server, monkeypatch):
    with serving(on_server.settings, API_PORT) as url:
        monkeypatch.setenv("DOCPORTAL_API_URL", url)
        monkeypatch.setenv("DOCPORTAL_API_PASSWORD", DEFAULT_DEMO_PASSWORD)
        yield url


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return client.main(list(argv), out=out), out.getvalue()


def test_a_person_uploads_lists_and_reads_their_files(api_url, uploader, tmp_path, capsys):
    pdf = tmp_path / "cli.pdf"
    pdf.write_bytes(tiny_pdf("cli"))
    code, out = run("--user", uploader, "upload", str(pdf), "--tag", "q3")
    assert code == 0, capsys.readouterr().err
    file_id = out.split()[0]
    assert out.strip().endswith("stored (pending)")
    code, out = run("--user", uploader, "list", "--json")
    assert code == 0 and file_id in {f["file_id"] for f in json.loads(out)["files"]}
    code, out = run("--user", uploader, "get", file_id)
    assert code == 0 and json.loads(out)["tags"] == ["q3"]


def test_a_refusal_prints_the_problems_detail_and_exits_1(api_url, uploader, capsys):
    code, _ = run("--user", uploader, "get", "0" * 32)
    assert code == 1
    assert "There is no such file." in capsys.readouterr().err


def test_a_wrong_password_exits_2(api_url, uploader, monkeypatch, capsys):
    monkeypatch.setenv("DOCPORTAL_API_PASSWORD", "not-the-password-1A!")
    assert run("--user", uploader, "list")[0] == 2
    assert "wrong e-mail or password" in capsys.readouterr().err


def test_a_file_that_is_not_there_exits_2_before_anything_is_sent(api_url, uploader, tmp_path, capsys):
    assert run("--user", uploader, "upload", str(tmp_path / "missing.pdf"))[0] == 2
    assert "no such file" in capsys.readouterr().err


def test_an_unreachable_api_exits_3(on_server, monkeypatch, capsys):
    monkeypatch.setenv("DOCPORTAL_API_URL", f"http://127.0.0.1:{DEAD_PORT}")
    monkeypatch.setenv("DOCPORTAL_API_TOKEN", "anything")
    assert run("list")[0] == 3
    assert "cannot reach" in capsys.readouterr().err


def test_no_way_to_a_token_exits_2_saying_what_to_set(on_server, capsys):
    assert run("list")[0] == 2
    assert "DOCPORTAL_MACHINE_CLIENT_ID" in capsys.readouterr().err


def test_client_credentials_are_sent_as_basic_auth_to_the_token_endpoint():
    seen: list[tuple[str, dict]] = []

    class TokenEndpoint(BaseHTTPRequestHandler):
        def do_POST(self):
            body = parse_qs(self.rfile.read(int(self.headers["content-length"])).decode())
            seen.append((self.headers["authorization"], body))
            data = json.dumps({"access_token": "machine-token", "token_type": "Bearer"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    with ThreadingHTTPServer(("127.0.0.1", TOKEN_PORT), TokenEndpoint) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        settings = Settings(token_url=f"http://127.0.0.1:{TOKEN_PORT}/oauth2/token",
                            machine_client_id="script", machine_client_secret="s3cret")
        try:
            assert client.token(settings, None) == "machine-token"
        finally:
            httpd.shutdown()
    assert seen == [("Basic " + base64.b64encode(b"script:s3cret").decode(),
                     {"grant_type": ["client_credentials"]})]
