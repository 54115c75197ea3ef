"""Sending files straight to S3 through the API: a form for most, parts in parallel for large ones.

Each file is registered first (``POST /v1/uploads``), so a file the API
refuses (too large, a type not accepted) is refused before a byte is sent.
Bytes are streamed from disk in chunks, never read whole, and counted for the
progress line. A file whose parts cannot all be sent is cancelled
(``DELETE /v1/uploads/{id}``), so nothing is left waiting.
"""

from __future__ import annotations

import contextlib
import mimetypes
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from api.cli.http import REFUSED, Api, CliError, send

#: Files sent at once, and parts of one file sent at once.
FILES_AT_ONCE = 4
PARTS_AT_ONCE = 4
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Outcome:
    """What became of one file: stored (its id) or refused (why)."""

    path: Path
    size: int
    file_id: str = ""
    error: str = ""


class Progress:
    """Bytes sent of all files: a bar redrawn with ``\\r`` on a terminal, a line per file elsewhere."""

    def __init__(self, total: int, files: int, out: IO[str] | None = None) -> None:
        self.total, self.files, self.out = total, files, out or sys.stderr
        self.sent, self.done = 0, 0
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        """``count`` more bytes were sent."""
        with self._lock:
            self.sent += count
            if self.tty:
                self._draw()

    def finished(self, outcome: Outcome) -> None:
        """One file is stored or refused."""
        with self._lock:
            self.done += 1
            if self.tty:
                self._draw(end=self.done == self.files)
            else:
                what = f"stored {outcome.file_id}" if outcome.file_id else f"refused: {outcome.error}"
                print(f"[{self.done}/{self.files}] {outcome.path.name}: {what}", file=self.out, flush=True)

    def _draw(self, end: bool = False) -> None:
        share = self.sent / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        print(f"\r[{bar:<30}] {share:4.0%} {self.sent / 1e6:.1f}/{self.total / 1e6:.1f} MB "
              f"{self.done}/{self.files} files", end="\n" if end else "", file=self.out, flush=True)


def upload_all(api: Api, paths: Sequence[Path], tags: Sequence[str], progress: Progress) -> list[Outcome]:
    """Send every file (a few at once); their outcomes, in the order given."""
    def one(path: Path) -> Outcome:
        size = path.stat().st_size
        try:
            outcome = Outcome(path, size, file_id=upload(api, path, size, tags, progress.add))
        except CliError as e:
            if e.code != REFUSED:
                raise
            outcome = Outcome(path, size, error=str(e))
        progress.finished(outcome)
        return outcome

    with ThreadPoolExecutor(FILES_AT_ONCE) as pool:
        return list(pool.map(one, paths))


def upload(api: Api, path: Path, size: int, tags: Sequence[str], sent: Callable[[int], None]) -> str:
    """Register ``path`` and send it: one form, or its parts; its file id."""
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    created: dict[str, Any] = api.call("POST", "/v1/uploads", {"name": path.name, "size": size,
                                                               "content_type": kind, "tags": list(tags)})
    if created.get("multipart"):
        _send_parts(api, path, created["multipart"], sent)
    else:
        _send_form(path, size, created["upload"], sent)
    return str(created["file_id"])


def _send_form(path: Path, size: int, form: Mapping[str, Any], sent: Callable[[int], None]) -> None:
    """POST the presigned fields, then the file, as multipart/form-data (S3 wants the file last)."""
    boundary = uuid.uuid4().hex
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in form["fields"].items())
    safe = path.name.replace('"', "_").replace("\r", "_").replace("\n", "_")
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from _chunks(path, 0, size, sent)
        yield tail

    reply = send("POST", form["url"], body=body(), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail))})
    if reply.status >= 300:
        raise CliError(f"S3 refused the upload ({reply.status}): {reply.body[:300].decode(errors='replace')}",
                       REFUSED)


def _send_parts(api: Api, path: Path, links: Mapping[str, Any], sent: Callable[[int], None]) -> None:
    """PUT every part (a few at once), then complete; cancel the upload if any part fails."""
    size, part_size = path.stat().st_size, int(links["part_size"])

    def put(link: Mapping[str, Any]) -> dict[str, Any]:
        number = int(link["part_number"])
        start = (number - 1) * part_size
        length = min(part_size, size - start)
        reply = send("PUT", link["url"], body=_chunks(path, start, length, sent),
                     # urllib would call it a form otherwise (and moto would read it as one)
                     headers={"Content-Length": str(length), "Content-Type": "application/octet-stream"})
        if reply.status != 200:
            raise CliError(f"S3 refused part {number} ({reply.status}): "
                           f"{reply.body[:300].decode(errors='replace')}", REFUSED)
        return {"part_number": number, "etag": reply.headers["etag"]}

    try:
        with ThreadPoolExecutor(PARTS_AT_ONCE) as pool:
            parts = list(pool.map(put, links["parts"]))
        api.call("POST", links["complete"], {"parts": parts})
    except BaseException:
        # If even that fails, the pending item expires by itself and the bucket's rule aborts the parts.
        with contextlib.suppress(CliError):
            api.reply("DELETE", links["cancel"])
        raise


def _chunks(path: Path, start: int, length: int, sent: Callable[[int], None]) -> Iterator[bytes]:
    """``length`` bytes of ``path`` from ``start``, a chunk at a time, each counted as sent."""
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                raise CliError(f"{path} shrank while it was being sent", REFUSED)
            left -= len(chunk)
            yield chunk
            sent(len(chunk))
