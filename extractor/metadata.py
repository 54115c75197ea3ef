"""Work out what a file is from its content. Pure: no AWS, no I/O.

The walking skeleton detects the type from magic bytes (the ``filetype``
library) with a text fallback, and reports the common fields every record
has. Format-specific parsers build on :func:`describe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import filetype

#: How much of the start of a file detection looks at.
HEAD_BYTES = 64 * 1024

#: Extensions that name the same kind of content, for the type_mismatch flag.
_TEXT_EXTENSIONS = frozenset({"txt", "text", "md", "markdown", "csv", "tsv", "json", "xml",
                              "html", "htm", "log", "yaml", "yml", "ini", "cfg", "eml"})
_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "tiff": "tif", "htm": "html", "docm": "docx",
            "xlsm": "xlsx", "pptm": "pptx", "oga": "ogg", "m4a": "mp4", "qt": "mov"}


@dataclass(frozen=True)
class Description:
    """Common fields of one file, decided from its first bytes and its name."""

    mime_type: str
    format: str
    extension: str
    flags: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)


def _looks_like_text(head: bytes, truncated: bool) -> str | None:
    """The text encoding of ``head`` if it is text, else None."""
    if b"\x00" in head:
        return None
    for encoding in ("utf-8",):
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError as e:
            # A multi-byte character cut at the end of the window is still text.
            if truncated and e.start >= len(head) - 3:
                return encoding
    return None


def describe(head: bytes, size: int, name: str, extension: str) -> Description:
    """Common fields for a file whose first bytes are ``head``.

    Parameters
    ----------
    head:
        The first :data:`HEAD_BYTES` bytes (or the whole file if smaller).
    size:
        The file's full size in bytes.
    name:
        The original file name; only its extension is used, never trusted.
    extension:
        The name's extension as the schema normalised it (may be empty).
    """
    flags: list[str] = []
    metadata: dict[str, Any] = {}
    if size == 0:
        return Description("application/x-empty", "empty", extension, ("empty",),
                           {"note": "the file is empty"})
    kind = filetype.guess(head)
    if kind is not None:
        mime, fmt = kind.mime, kind.extension
    elif (encoding := _looks_like_text(head, truncated=size > len(head))) is not None:
        mime, fmt = "text/plain", "text"
        metadata["encoding"] = encoding
    else:
        mime, fmt = "application/octet-stream", "unknown"
        metadata["note"] = "unrecognised content: only the common fields were extracted"
    if fmt == "pdf" and head.startswith(b"%PDF-"):
        metadata["pdf_version"] = head[5:8].decode("ascii", "replace")
    if _mismatch(extension, fmt):
        flags.append("type_mismatch")
    return Description(mime, fmt, extension, tuple(flags), metadata)


def _mismatch(extension: str, fmt: str) -> bool:
    """True when the name promises a different kind of content than it has."""
    if not extension or fmt == "unknown":
        return False
    ext = _ALIASES.get(extension, extension)
    if fmt == "text":
        return ext not in _TEXT_EXTENSIONS
    return ext != _ALIASES.get(fmt, fmt)
