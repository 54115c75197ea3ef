"""Decide what a file is from its content, never from its name alone. Pure.

Magic bytes say most; zip containers are told apart by their members (Office,
OpenDocument, EPUB), ISO media by their ``ftyp`` brand, and text by what it
looks like. The name's extension is only used to break ties between text
kinds and to flag a name that disagrees with the content.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import filetype

from common.catalogue import MIME_TYPES
from extractor.formats import Limits, zipdir
from extractor.formats.cfb import CFB_MAGIC, is_encrypted_package

#: Bytes of the file's start that detection looks at.
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Detected:
    """The format family (a short stable name) and its MIME type."""

    format: str
    mime_type: str


#: Formats the ``filetype`` library reports, renamed to ours.
_FILETYPE = {
    "pdf": "pdf", "jpg": "jpg", "png": "png", "tif": "tif", "gif": "gif", "webp": "webp",
    "bmp": "bmp", "heic": "heic", "mp3": "mp3", "wav": "wav", "flac": "flac", "ogg": "ogg",
    "mp4": "mp4", "m4a": "mp4", "m4v": "mp4", "mov": "mov", "zip": "zip", "epub": "epub",
    "docx": "docx", "xlsx": "xlsx", "pptx": "pptx", "odt": "odt", "ods": "ods", "odp": "odp",
}
_ODF = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
_OOXML = (("word/document.xml", "word", "docx", "docm"),
          ("xl/workbook.xml", "xl", "xlsx", "xlsm"),
          ("ppt/presentation.xml", "ppt", "pptx", "pptm"))
#: The only zip members detection looks for.
_ZIP_NAMES = frozenset({"mimetype"} | {part for part, *_ in _OOXML}
                       | {f"{folder}/vbaProject.bin" for _, folder, *_ in _OOXML})
_MIMETYPE_BYTES = 100
_OOXML_FORMATS = frozenset(fmt for *_, plain, macro in _OOXML for fmt in (plain, macro))
_MAIL_HEADER = re.compile(
    r"^(received|return-path|from|to|subject|date|message-id|mime-version|delivered-to|reply-to|cc)"
    r":[ \t]", re.IGNORECASE)


def detect(path: Path, extension: str = "", *, max_members: int = Limits.max_members) -> Detected:
    """What the file at ``path`` is; ``extension`` only breaks ties between text kinds.

    A zip with more than ``max_members`` entries is a plain ``zip`` whatever
    it holds: the zip parser refuses it, saying why.
    """
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
        size = f.seek(0, 2)
    if size == 0:
        return _detected("empty")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _detected(_zip_kind(path, max_members))
    if head.startswith(CFB_MAGIC):
        # Office wraps a package protected by a password to open in CFB: its name says which kind it is.
        protected = extension in _OOXML_FORMATS and is_encrypted_package(path)
        return _detected(extension if protected else "ole")
    if b"%PDF-" in head[:1024]:
        return _detected("pdf")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _detected(_ftyp_kind(head))
    kind = filetype.guess(head)
    if kind is not None and kind.extension in _FILETYPE:
        return _detected(_FILETYPE[kind.extension])
    text = _as_text(head, truncated=size > len(head))
    if text is None:
        return _detected("unknown")
    return _detected(_text_kind(text, extension, complete=size <= len(head)))


def _detected(fmt: str) -> Detected:
    return Detected(fmt, MIME_TYPES[fmt])


def _zip_kind(path: Path, max_members: int) -> str:
    """Tell Office, OpenDocument and EPUB apart from plain zips by their members.

    Never lists the archive (``zipfile`` would hold every entry in memory, in
    this process, before the sandbox sees the file): the declared entry count
    comes first, then a walk for the few names that matter.
    """
    try:
        found = zipdir.members(path, _ZIP_NAMES, max_members)
        if found is None:
            return "zip"  # too many entries to look at: the zip parser refuses it, with the count
        mimetype = found.get("mimetype")
        if mimetype is not None and mimetype.file_size <= _MIMETYPE_BYTES:
            raw = zipdir.read_small(path, mimetype, _MIMETYPE_BYTES) or b""
            declared = raw.decode("ascii", "replace").strip()
            if declared in _ODF:
                return _ODF[declared]
            if declared == "application/epub+zip":
                return "epub"
    except (zipdir.NotAZip, OSError):
        return "zip"  # damaged: the zip parser will say what is wrong
    for main_part, folder, plain, macro in _OOXML:
        if main_part in found:
            return macro if f"{folder}/vbaProject.bin" in found else plain
    return "zip"


def _ftyp_kind(head: bytes) -> str:
    """ISO base media: HEIC images, QuickTime and MP4 by major and compatible brands."""
    brands = {head[i:i + 4] for i in range(8, min(len(head), 64), 4)}
    if brands & {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}:
        return "heic"
    if b"qt  " in brands:
        return "mov"
    return "mp4"


def _as_text(head: bytes, truncated: bool) -> str | None:
    """``head`` decoded if it is text, else None (NULs and undecodable bytes say binary)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if truncated and e.start >= len(head) - 3:  # a character cut at the window's end
            return head[: e.start].decode("utf-8-sig")
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        return None
    text = str(best)
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t\f\v")
    return None if controls > len(text) // 100 + 1 else text


_TEXT_EXTENSIONS = {"md": "markdown", "markdown": "markdown", "csv": "csv", "tsv": "tsv", "tab": "tsv",
                    "json": "json", "geojson": "json", "xml": "xml", "html": "html", "htm": "html",
                    "eml": "eml"}


def _text_kind(text: str, extension: str, complete: bool) -> str:
    stripped = text.lstrip()
    lower = stripped[:512].lower()
    if lower.startswith(("<!doctype html", "<html")) or "<html" in lower[:256]:
        return "html"
    if stripped.startswith("<?xml") or (stripped.startswith("<") and extension in ("xml", "svg", "xsd")):
        return "xml"
    if stripped[:1] in ("{", "[") and (extension in ("json", "geojson") or _is_json(stripped, complete)):
        return "json"
    if _looks_like_mail(text):
        return "eml"
    hinted = _TEXT_EXTENSIONS.get(extension)
    if hinted in ("csv", "tsv", "markdown"):
        return hinted
    delimiter = _consistent_delimiter(text)
    if delimiter is not None:
        return "tsv" if delimiter == "\t" else "csv"
    return "text"


def _is_json(text: str, complete: bool) -> bool:
    if not complete:
        return text[:1] == "{" and re.match(r'\{\s*"', text) is not None
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return text[:1] == "[" and text.count("[") > 1000  # deep nesting: let the parser refuse it
    return True


def _looks_like_mail(text: str) -> bool:
    lines = text.splitlines()[:30]
    headers = [line for line in lines if _MAIL_HEADER.match(line)]
    names = {h.split(":", 1)[0].lower() for h in headers}
    return len(headers) >= 3 and bool(names & {"from", "received", "mime-version", "message-id"})


def _consistent_delimiter(text: str) -> str | None:
    """A delimiter that splits the first lines into the same number (>1) of fields."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 3:
        return None
    if not text.endswith(("\n", "\r")):
        lines = lines[:-1] or lines  # the last line may be cut
    for delimiter in ("\t", ";", ",", "|"):
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return delimiter
    return None
