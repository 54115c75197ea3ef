"""A Streamlit client without a browser: what a script (or an attacker) can do with the portal's endpoints.

Opens a websocket session the way the browser does, reads the session id the
server gives it, and sends files straight to ``/_stcore/upload_file``.
Streamlit's XSRF check is a double submit (cookie equals header), so a client
that is not a browser simply makes up a token and sends it both ways.
"""

from __future__ import annotations

import binascii
import http.client
import os
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect


def made_up_xsrf_token() -> str:
    """A well-formed v2 token (``2|mask|masked|time``), valid as long as cookie and header agree."""
    mask, token = os.urandom(4), os.urandom(16)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{binascii.b2a_hex(mask).decode()}|{binascii.b2a_hex(masked).decode()}|{int(time.time())}"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


@dataclass
class Session:
    """One open websocket session of the app at ``base``."""

    base: str
    session_id: str
    socket: ClientConnection

    def upload(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> Answer:
        """PUT one file to the upload endpoint, as the file uploader widget does."""
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return self._put(boundary, len(body), body)

    def answer_before_the_body(self, size: int) -> Answer:
        """Announce a ``size``-byte upload, send only its first line, and read the answer.

        A server that reads the body before deciding never answers (the read
        times out); one that refuses first answers at once.
        """
        boundary = uuid.uuid4().hex
        return self._put(boundary, size, f"--{boundary}\r\n".encode())

    def _put(self, boundary: str, length: int, body: bytes, timeout: float = 30.0) -> Answer:
        token = made_up_xsrf_token()
        url = urllib.parse.urlsplit(self.base)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
        try:
            connection.putrequest("PUT", f"/_stcore/upload_file/{self.session_id}/{uuid.uuid4()}")
            for name, value in {"Content-Type": f"multipart/form-data; boundary={boundary}",
                                "Content-Length": str(length), "X-Xsrftoken": token,
                                "Cookie": f"_streamlit_xsrf={token}", "Origin": self.base}.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            return Answer(response.status, response.read().decode(errors="replace"))
        finally:
            connection.close()

@contextmanager
def session(base: str, timeout: float = 30.0) -> Iterator[Session]:
    """A fresh session of the app at ``base`` (``http://host:port``): the app's first run has started."""
    ws_url = base.replace("http://", "ws://", 1) + "/_stcore/stream"
    with connect(ws_url, subprotocols=["streamlit"], origin=base, open_timeout=timeout) as socket:  # type: ignore[list-item]
        first_run = BackMsg()
        first_run.rerun_script.query_string = ""
        first_run.rerun_script.page_script_hash = ""
        socket.send(first_run.SerializeToString())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = ForwardMsg()
            message.ParseFromString(socket.recv(timeout=deadline - time.monotonic()))
            if message.WhichOneof("type") == "new_session":
                yield Session(base, message.new_session.initialize.session_id, socket)
                return
        raise TimeoutError(f"{base} opened no session within {timeout} s")
