"""Extract one local file: detect, parse isolated, add flags; draw its preview isolated. No AWS.

The Lambda path (:mod:`extractor.processor`) and the command line
(``python -m extractor``) both call :func:`extract_file`, so they produce the
same record for the same file. The Lambda path also calls
:func:`draw_preview` for the PNG it stores beside the file.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.catalogue import (
    MIME_TYPES,
    PNG_SIGNATURE,
    PREVIEW_FORMATS,
    PREVIEW_MAX_BYTES,
    Flag,
    type_mismatch,
)
from common.schema.keys import safe_extension
from common.schema.record import Extracted
from extractor.detect import Detected, detect
from extractor.formats import Limits, Parsed, ParseError
from extractor.sandbox import Budget, Interrupted, MiB, draw_isolated, run_isolated

if TYPE_CHECKING:
    from common.settings import Settings

logger = logging.getLogger(__name__)

#: Format -> "module:function". Modules are imported on first use, so a cold
#: start imports only the parsers its first files need.
PARSERS: Mapping[str, str] = {
    "pdf": "pdf:parse_pdf",
    **dict.fromkeys(("docx", "docm"), "office:parse_docx"),
    **dict.fromkeys(("xlsx", "xlsm"), "office:parse_xlsx"),
    **dict.fromkeys(("pptx", "pptm"), "office:parse_pptx"),
    **dict.fromkeys(("odt", "ods", "odp"), "odf:parse_odf"),
    **dict.fromkeys(("jpg", "png", "tif", "gif", "webp", "bmp", "heic"), "images:parse_image"),
    **dict.fromkeys(("mp3", "wav", "flac", "ogg", "mp4", "mov"), "media:parse_media"),
    **dict.fromkeys(("csv", "tsv"), "text:parse_csv"),
    **dict.fromkeys(("text", "markdown"), "text:parse_text"),
    "json": "text:parse_json", "xml": "text:parse_xml", "html": "text:parse_html",
    "eml": "email:parse_eml",
    **dict.fromkeys(("zip", "epub"), "archive:parse_zip"),
}

#: Format -> a step of its own, with a short deadline (Config.text_layer_seconds), for what only
#: parsing page content tells: how long that takes depends on the content, not on the file's size.
TEXT_LAYERS: Mapping[str, str] = {"pdf": "pdf:text_layer"}
NOTE_NO_TEXT_LAYER = "the text layer was not checked: {reason}"

_NOTES = {
    "unknown": "unrecognised content: only the common fields were extracted",
    "ole": "legacy Office (OLE2) file: only the common fields were extracted",
    "empty": "the file is empty",
}
_MAX_LIST = 100
_MAX_STRING = 1000
_CHUNK = MiB


@dataclass(frozen=True)
class Config:
    """Limits on extraction, from the environment with safe defaults."""

    limits: Limits = field(default_factory=Limits)
    budget: Budget = field(default_factory=Budget)
    #: Larger files are hashed and measured but not parsed.
    max_parse_bytes: int = 512 * MiB
    #: Seconds drawing a preview may take (within the budget's): a real first page takes well under one.
    preview_seconds: float = 10.0
    #: Seconds looking for a text layer may take: real first pages take milliseconds.
    text_layer_seconds: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> Config:
        """The limits the parse settings choose (memory, seconds, largest file parsed)."""
        memory = settings.parse_memory_mb * MiB
        return cls(
            limits=Limits(max_unpacked_bytes=memory),
            budget=Budget(memory_bytes=memory, seconds=settings.parse_seconds),
            max_parse_bytes=settings.max_parse_mb * MiB,
        )


def file_digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a local file, read once in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def parser_for(fmt: str) -> str | None:
    """The parser of a format as ``"module:function"``, for the sandbox to import."""
    target = PARSERS.get(fmt)
    return None if target is None else f"extractor.formats.{target}"


def drawer_for(fmt: str) -> str | None:
    """What draws a format's preview, as ``"module:function"`` for the sandbox; None for no preview."""
    if fmt not in PREVIEW_FORMATS:
        return None
    return f"extractor.formats.thumbnails:{'draw_pdf' if fmt == 'pdf' else 'draw_image'}"


def plausible_png(data: bytes, side: int) -> bool:
    """``data`` looks like the preview asked for: a PNG whose header declares at most ``side`` squared.

    Only the signature and the header chunk are read (nothing is decoded): the
    worker that drew it read a hostile file and may have been taken over.
    """
    if len(data) < 24 or len(data) > side * side * 4 + 64 * 1024:
        return False
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return False
    width: int
    height: int
    width, height = struct.unpack(">II", data[16:24])
    return 0 < width <= side and 0 < height <= side


def draw_preview(path: Path, result: Extracted, config: Config) -> bytes | None:
    """The PNG preview of the file ``result`` describes, or None when it gets none.

    Only processed images and PDFs of at most
    :data:`~common.catalogue.PREVIEW_MAX_BYTES` are drawn, in the sandbox,
    within the parse budget's memory and :attr:`Config.preview_seconds`. A
    PDF whose first pages were not read within :attr:`Config.text_layer_seconds`
    is not drawn: drawing parses the same content, for longer. A drawing that
    fails, however it fails, costs the file its preview only.
    """
    drawer = drawer_for(result.format)
    if drawer is None or result.error or result.size > PREVIEW_MAX_BYTES:
        return None
    if result.format in TEXT_LAYERS and "has_text" not in result.metadata:
        return None  # its first page was not read in time (or at all): drawing parses the same, for longer
    try:
        png = draw_isolated(drawer, path, config.limits, config.budget, config.preview_seconds)
    except Interrupted:
        raise  # a shutdown, not the file: the message is tried again
    except ParseError as e:
        logger.info("no preview of a %s file: %s", result.format, e.reason)
        return None
    except Exception:  # a bug of ours must not cost the file its metadata
        logger.exception("drawing the preview of a %s file failed", result.format)
        return None
    if not plausible_png(png, config.limits.preview_side):
        logger.warning("the preview drawn of a %s file was no plausible PNG; dropped", result.format)
        return None
    return png


def extract_file(path: Path, name: str, config: Config, *,
                 digest: tuple[int, str] | None = None) -> Extracted:
    """Everything DocPortal records about the local file ``path`` named ``name``.

    A file that cannot be (fully) read still gets every field that could be
    found, with ``error`` saying why in words a business user understands.

    ``digest`` (size, SHA-256) may be passed when the caller computed it while
    downloading, so the file is not read twice for it.
    """
    started = time.perf_counter()
    size, sha256 = digest or file_digest(path)
    extension = safe_extension(name)
    detected = Detected("unknown", MIME_TYPES["unknown"])
    try:
        detected = detect(path, extension, max_members=config.limits.max_members)
        flags, metadata, error = _describe(path, detected, extension, size, config)
    except Interrupted:
        raise  # a shutdown stopped the reader: the file is not at fault, so it is tried again
    except Exception as e:  # a bug of ours must not hold the file hostage
        logger.exception("extraction failed for %r", name)
        flags, metadata = set(), {}
        error = f"the file's metadata could not be read ({type(e).__name__})"
    return Extracted(
        size=size, sha256=sha256, mime_type=detected.mime_type, format=detected.format,
        extension=extension, flags=tuple(sorted(flags)), metadata=bounded(metadata), error=error,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


def _describe(path: Path, detected: Detected, extension: str, size: int,
              config: Config) -> tuple[set[str], dict[str, Any], str]:
    flags: set[str] = set()
    metadata: dict[str, Any] = {}
    error = ""
    if detected.format in _NOTES:
        metadata["note"] = _NOTES[detected.format]
    if size == 0:
        flags.add(Flag.EMPTY)
    if type_mismatch(extension, detected.format):
        flags.add(Flag.TYPE_MISMATCH)
    parser = parser_for(detected.format)
    if parser is not None and size > config.max_parse_bytes:
        error = (f"file exceeds the {config.max_parse_bytes // MiB} MiB parse limit: "
                 "only its size and checksum were recorded")
    elif parser is not None:
        try:
            parsed: Parsed = run_isolated(parser, path, config.limits, config.budget)
            metadata.update(parsed.metadata)
            flags |= parsed.flags
        except ParseError as e:
            metadata.update(e.metadata)
            flags |= e.flags
            error = e.reason
        if not error and (look := TEXT_LAYERS.get(detected.format)):
            _look_for_text(f"extractor.formats.{look}", path, config, flags, metadata)
    return flags, metadata, error


def _look_for_text(target: str, path: Path, config: Config, flags: set[str],
                   metadata: dict[str, Any]) -> None:
    """Add ``has_text`` and ``scanned`` from the format's text-layer step; a note when it could not tell."""
    try:
        found = run_isolated(target, path, config.limits, config.budget, seconds=config.text_layer_seconds)
    except ParseError as e:  # interrupted by a shutdown goes up: the file is tried again
        note = NOTE_NO_TEXT_LAYER.format(reason=e.reason)
        metadata["note"] = f"{metadata['note']}. {note}" if metadata.get("note") else note
        return
    metadata.update(found.metadata)
    flags |= found.flags


def bounded(value: Any) -> Any:
    """``value`` with long lists and strings cut, so an item stays far below DynamoDB's 400 KB."""
    if isinstance(value, Mapping):
        return {str(k)[:_MAX_STRING]: bounded(v) for k, v in list(value.items())[:_MAX_LIST]}
    if isinstance(value, list | tuple):
        return [bounded(v) for v in value[:_MAX_LIST]]
    if isinstance(value, str):
        return value[:_MAX_STRING]
    return value
