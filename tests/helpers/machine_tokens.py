"""A stand-in for the pool's token endpoint's client-credentials grant (moto issues no such tokens).

It checks the client's HTTP Basic credentials and the form body, answers a
new ``access_token`` each time (``machine-token-1``, ``-2``, …) valid for
:attr:`ClientCredentials.expires_in` seconds, and records every request.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class ClientCredentials:
    """The endpoint's one client, what it answers and what it was asked."""

    client_id: str = "script"
    secret: str = "s3cret"
    expires_in: int = 3600
    url: str = ""
    seen: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)

    def expected_basic(self) -> str:
        """The Authorization header a correct request carries."""
        return "Basic " + base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()


@contextmanager
def client_credentials_endpoint(**kwargs: object) -> Iterator[ClientCredentials]:
    """The endpoint on a free local port, its token URL in ``.url``."""
    endpoint = ClientCredentials(**kwargs)  # type: ignore[arg-type]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = parse_qs(self.rfile.read(int(self.headers["content-length"])).decode())
            endpoint.seen.append((self.headers.get("authorization", ""), body))
            good = (self.headers.get("authorization") == endpoint.expected_basic()
                    and body == {"grant_type": ["client_credentials"]})
            answer = ({"access_token": f"machine-token-{len(endpoint.seen)}", "token_type": "Bearer",
                       "expires_in": endpoint.expires_in} if good else {"error": "invalid_client"})
            data = json.dumps(answer).encode()
            self.send_response(200 if good else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as httpd:
        endpoint.url = f"http://127.0.0.1:{httpd.server_address[1]}/oauth2/token"
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield endpoint
        finally:
            httpd.shutdown()
