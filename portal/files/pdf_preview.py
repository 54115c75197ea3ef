"""A PNG of a PDF's first page, drawn in a child process that cannot take the portal down. Pure.

PDFs are uploaded by anyone, and PDFium is a large C library: a hostile file
may make it loop, allocate without bound or crash. So the portal never draws
a PDF itself. :func:`first_page` starts this module as a script in a fresh
interpreter (``python -I``, so no environment variable or working directory
changes what it imports), hands it the bytes on stdin and reads the PNG from
stdout. The child caps its own address space (``RLIMIT_AS``) and CPU time
before it parses anything, and the parent kills it at a wall-clock deadline;
at most :data:`MAX_CONCURRENT` children run at once, so many people opening
PDFs together cannot exhaust the machine either.

The page is scaled so its longer side is the thumbnail's side: the bitmap is
never larger than ``side`` by ``side`` whatever size the page declares, and a
page whose size is not finite and positive, or so thin that one side would be
under a pixel, is refused. Every failure is an answer with a note, never an
exception.

This module imports nothing from the project, so the child starts quickly
and runs the same whether or not the project is installed.
"""

from __future__ import annotations

import logging
import math
import resource
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
#: Longest side of the thumbnail, in pixels (the portal passes explorer.THUMBNAIL_SIDE).
DEFAULT_SIDE = 480
#: Wall-clock seconds one drawing may take, interpreter start included.
DEFAULT_TIMEOUT = 5.0
#: Address space the child may add once PDFium and Pillow are loaded.
DEFAULT_MEMORY = 512 * MiB
#: Children drawing at once; a further request waits for a slot up to its own deadline.
MAX_CONCURRENT = 2
#: A page side, in PDF units, beyond any real page (the spec's maximum is 14,400).
MAX_PAGE_UNITS = 200_000.0

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOTE_ENCRYPTED = "This PDF is password-protected, so no preview can be made."
NOTE_DAMAGED = "This PDF is damaged, so no preview can be made."
NOTE_NO_PAGES = "This PDF has no pages to preview."
NOTE_PAGE_SIZE = "The first page declares a size no preview can show."
NOTE_CRASHED = "The PDF could not be drawn safely."
NOTE_BUSY = "Previews are busy; try again in a moment."
_REFUSALS = frozenset({NOTE_ENCRYPTED, NOTE_DAMAGED, NOTE_NO_PAGES, NOTE_PAGE_SIZE})

#: Exit codes of the child: drawn, refused (note on stderr), out of memory.
_OK, _REFUSED, _MEMORY = 0, 3, 4
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT)
_SCRIPT = Path(__file__).resolve()


@dataclass(frozen=True)
class Preview:
    """What drawing gave: a PNG, or None and a note a person can read."""

    png: bytes | None
    note: str = ""


def first_page(data: bytes, *, side: int = DEFAULT_SIDE, timeout: float = DEFAULT_TIMEOUT,
               memory_bytes: int = DEFAULT_MEMORY) -> Preview:
    """The first page of the PDF in ``data`` as a PNG at most ``side`` pixels wide or high.

    Drawn in a child process within ``timeout`` seconds and ``memory_bytes``
    of added address space; a PDF that is damaged, password-protected,
    empty, oddly sized, too slow or too greedy gives ``png=None`` and a note.
    While :data:`MAX_CONCURRENT` drawings run, a call waits up to ``timeout``
    for a slot first, so one call takes at most about twice ``timeout``.
    """
    if not data:
        return Preview(None, NOTE_DAMAGED)
    if not _SLOTS.acquire(timeout=timeout):
        return Preview(None, NOTE_BUSY)
    try:
        return _run_child(data, side, timeout, memory_bytes)
    finally:
        _SLOTS.release()


def _run_child(data: bytes, side: int, timeout: float, memory_bytes: int) -> Preview:
    command = [sys.executable, "-I", str(_SCRIPT), str(side), str(memory_bytes), str(math.ceil(timeout))]
    try:
        # The command is this file and numbers: nothing in it comes from the upload.
        done = subprocess.run(command, input=data, capture_output=True, timeout=timeout,  # noqa: S603
                              check=False)
    except subprocess.TimeoutExpired:  # run() has killed the child
        return Preview(None, f"Drawing the first page took longer than {timeout:g} s.")
    except OSError as e:
        logger.warning("the PDF preview process could not start: %s", e)
        return Preview(None, NOTE_CRASHED)
    if done.returncode == _OK and _plausible_png(done.stdout, side):
        return Preview(done.stdout)
    if done.returncode == _REFUSED:  # only a note of ours is passed on, whatever the child wrote
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]  # the note is written last
        return Preview(None, said[0] if said and said[0] in _REFUSALS else NOTE_DAMAGED)
    if done.returncode in (_MEMORY, -signal.SIGXCPU, -signal.SIGKILL):  # the CPU limit's soft and hard stops
        return Preview(None, f"Drawing the first page needs more than {memory_bytes // MiB} MiB or "
                             f"{math.ceil(timeout)} s of processor time.")
    logger.info("the PDF preview process ended with %s: %s", done.returncode,
                done.stderr.decode("utf-8", "replace")[-300:])
    return Preview(None, NOTE_CRASHED)


def _plausible_png(out: bytes, side: int) -> bool:
    """The child's answer looks like the PNG it was asked for (it may have been subverted)."""
    return out.startswith(PNG_SIGNATURE) and len(out) <= side * side * 4 + 64 * 1024


# --- the child ------------------------------------------------------------------


class Refused(Exception):
    """A PDF the child will not draw; the message is the note."""


def scale_for(width: float, height: float, side: int) -> float:
    """The factor that makes the page's longer side ``side`` pixels.

    Raises
    ------
    Refused
        When the declared size is not finite and positive, beyond any real
        page, or so thin that the shorter side would be under one pixel.
    """
    if not all(math.isfinite(v) and 0 < v <= MAX_PAGE_UNITS for v in (width, height)):
        raise Refused(NOTE_PAGE_SIZE)
    scale = side / max(width, height)
    if min(width, height) * scale < 1:
        raise Refused(NOTE_PAGE_SIZE)
    return scale


def render(data: bytes, side: int) -> bytes:
    """The PNG of page 1 (in this process: the child calls it under its limits).

    Raises
    ------
    Refused
        For an encrypted, damaged or empty PDF or an unusable page size.
    """
    import io

    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise Refused(NOTE_ENCRYPTED) from e
        if code == pdfium.raw.FPDF_ERR_SUCCESS:  # PDFium's answer to a well-formed empty page tree
            raise Refused(NOTE_NO_PAGES) from e
        raise Refused(NOTE_DAMAGED) from e
    try:
        if len(pdf) < 1:
            raise Refused(NOTE_NO_PAGES)
        try:
            page = pdf[0]
        except pdfium.PdfiumError as e:
            raise Refused(NOTE_DAMAGED) from e
        width, height = page.get_size()
        scale = scale_for(width, height, side)
        bitmap = page.render(scale=scale, may_draw_forms=False)
        image = bitmap.to_pil()
        if max(image.size) > side:  # the renderer rounds up: never hand back more than asked
            image.thumbnail((side, side))
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue()
    finally:
        pdf.close()


def _address_space() -> int:
    """This process's current virtual size; the cap is added on top of it."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    """Cap what the rest of this process may take (PDFium is loaded already)."""
    def within(wanted: int, hard: int) -> int:
        return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (within(_address_space() + memory_bytes, hard), hard))
    # SIGXCPU at the soft limit, SIGKILL a second later at the hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (within(cpu_seconds, hard), within(cpu_seconds + 1, hard)))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> int:
    """The child: PDF on stdin, PNG on stdout; a refusal's note on stderr."""
    side, memory_bytes, cpu_seconds = (int(v) for v in argv)
    # Loaded before the cap, so the cap bounds the drawing only.
    import PIL.PngImagePlugin  # noqa: F401
    import pypdfium2  # noqa: F401

    data = sys.stdin.buffer.read()
    _limit(memory_bytes, cpu_seconds)
    try:
        png = render(data, side)
    except Refused as e:
        sys.stderr.write(f"{e}\n")
        return _REFUSED
    except MemoryError:
        return _MEMORY
    sys.stdout.buffer.write(png)
    sys.stdout.buffer.flush()
    return _OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
