"""Words and numbers as people read them, on every page. Pure: no AWS, no Streamlit."""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.catalogue import FileStatus

STATUS_LABELS = {
    # Symbols every common font has; emoji turn into boxes without an emoji font.
    FileStatus.PENDING: "⇡ waiting for its upload",
    FileStatus.UPLOADED: "… uploaded",
    FileStatus.PROCESSING: "↻ processing",
    FileStatus.PROCESSED: "✓ processed",
    FileStatus.FAILED: "✗ failed",
    FileStatus.EXPIRED: "⌛ expired",
    FileStatus.DELETED: "⊘ deleted",
}


def human_size(size: int | None) -> str:
    """Bytes as a person reads them: ``1.5 MB``."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_ms(ms: float | None) -> str:
    """Milliseconds as a person reads them: ``850 ms``, ``1.5 s``, ``5 min``."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    value, unit = (ms / 1000, "s") if ms < 60_000 else (ms / 60_000, "min")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def zone(name: str | None) -> dt.tzinfo:
    """The time zone called ``name`` (a browser's IANA name), UTC when unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.UTC


def local_time(value: str, tz: dt.tzinfo) -> str:
    """An ISO timestamp in ``tz``, to the minute; a time without zone is shown as written.

    Text that is not a timestamp is returned unchanged, so nothing is hidden.
    """
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M") if len(value) > 10 else moment.strftime("%Y-%m-%d")
    moment = moment.astimezone(tz)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".rstrip()


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md_escape(text: str) -> str:
    """``text`` shown literally where Streamlit renders Markdown (tables, headings, badges).

    File names, titles and authors come from users and their files; unescaped,
    ``[x](https://…)`` would become a link and ``![x](…)`` fetch a remote image.
    CommonMark lets every ASCII punctuation character be backslash-escaped,
    which also defuses Streamlit's ``:color[…]`` and ``:material/…:`` directives.
    """
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", plain(" ".join(str(text).splitlines())))


def plot_escape(text: str) -> str:
    """``text`` shown literally in a plotly label, tick, legend, hover text or title.

    Plotly draws a subset of HTML there (``<a href>`` becomes a link, ``<br>``
    a line break, ``<b>`` or ``<span style>`` styling) and reads entities back
    as characters. Authors, producers, e-mails, failure reasons and formats
    come from users and their files: with ``&``, ``<`` and ``>`` as entities
    they are drawn as written. Line breaks, which plotly draws too, become spaces.
    """
    return html.escape(plain(" ".join(str(text).splitlines())), quote=False)

#: Invisible characters that reorder text (Trojan Source, CVE-2021-42574): embeddings, overrides,
#: isolates and the direction marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: What :func:`plain` shows in their place, so a person sees that something was there.
REPLACEMENT = "\ufffd"


def plain(text: str) -> str:
    """``text`` with control characters and direction controls shown as ``�``.

    File names, titles and reasons come from users and their files: a
    right-to-left override makes ``invoice<U+202E>fdp.exe`` read as
    ``invoiceexe.pdf``, an escape sequence can restyle a terminal. Every other
    character, whatever its script, is kept.
    """
    return "".join(REPLACEMENT if c in BIDI_CONTROLS or unicodedata.category(c) == "Cc" else c
                   for c in str(text))
