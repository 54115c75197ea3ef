"""Format parsers: what each business format says about itself. Pure: no AWS.

Every parser has the signature ``parse(path: Path, limits: Limits) -> Parsed``
and reads a local file (a drawer, :mod:`extractor.formats.thumbnails`, returns
PNG bytes instead). Field names are snake_case and stable, because they
become CSV columns. Parsers extract only what the fields need (no full-text
dumps), never trust sizes a file declares, and signal a file they cannot read
by raising :class:`ParseError` with a reason a business user understands,
optionally with what they did manage to read.

Parsers run isolated (see :mod:`extractor.sandbox`) with a memory cap and a
time limit, so a hostile file can at worst fail itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps on what reading one file may cost."""

    #: Decompressed bytes a zip-based file may expand to, enforced while streaming.
    max_unpacked_bytes: int = 512 * MiB
    #: Members a zip-based file may have before it is refused.
    max_members: int = 20_000
    #: Pixels an image may declare before its decoder refuses it (bomb guard).
    max_image_pixels: int = 100_000_000
    #: Bytes of a text file scanned for counts; larger files are counted by streaming.
    max_text_bytes: int = 512 * MiB
    #: Nesting depth of JSON/XML accepted before the file is refused.
    max_depth: int = 256
    #: Longest side of a preview drawn at extraction, in pixels.
    preview_side: int = 480
    #: Pixels an image may declare and still get a preview: drawing decodes them, unlike parsing.
    max_preview_pixels: int = 40_000_000
    #: CPU seconds pypdf may spend on what only it reads of a PDF (XMP, form fields, scripts).
    pdf_detail_seconds: float = 0.4


@dataclass(frozen=True)
class Parsed:
    """What a parser found: format fields and flags."""

    metadata: Mapping[str, Any] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()


class ParseError(Exception):
    """The file cannot be (fully) read; ``reason`` is for a business user.

    ``metadata`` and ``flags`` carry whatever could be read before the problem,
    e.g. ``ParseError("encrypted PDF: metadata partially available",
    metadata={"pages": 3}, flags={Flag.ENCRYPTED})``. Flags are
    :data:`common.catalogue.PARSER_FLAGS`.
    """

    def __init__(self, reason: str, *, metadata: Mapping[str, Any] | None = None,
                 flags: frozenset[str] | set[str] = frozenset()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.metadata = dict(metadata or {})
        self.flags = frozenset(flags)
