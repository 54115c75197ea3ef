"""OpenDocument files (ODT, ODS, ODP): properties, statistics and their kind.

Like Office files these are zips of XML parts, read through
:class:`~extractor.formats.safezip.SafeZip` and parsed as streams with DTDs
refused (see :mod:`extractor.formats.office` for the shared helpers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.catalogue import Flag
from extractor.formats import Limits, MiB, Parsed, ParseError
from extractor.formats.safezip import SafeZip
from extractor.formats.xmlparts import (
    MAX_SCANNED_BYTES,
    clean_text,
    count_value,
    iso_date,
    iter_xml,
    read_counted,
    scan_xml,
    too_deep,
    with_partial,
)

_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
_DC = "http://purl.org/dc/elements/1.1/"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"

_MIME_PREFIX = "application/vnd.oasis.opendocument."
_KINDS = frozenset({"text", "spreadsheet", "presentation"})
NOTE_PROTECTED = ("password-protected {what}: it cannot be opened without its password, so only the "
                  "properties it keeps unencrypted were read")
_WHAT = {"text": "document", "spreadsheet": "spreadsheet", "presentation": "presentation"}

_TEXT_FIELDS = {f"{{{_DC}}}title": "title", f"{{{_META}}}initial-creator": "initial_creator",
                f"{{{_DC}}}creator": "creator"}
_DATE_FIELDS = {f"{{{_META}}}creation-date": "created", f"{{{_DC}}}date": "modified"}
_STATISTIC = f"{{{_META}}}document-statistic"
_STAT_ATTRS = {f"{{{_META}}}page-count": "pages", f"{{{_META}}}word-count": "words",
               f"{{{_META}}}table-count": "tables"}
#: Kind -> the field counted in content.xml, the element holding them, and what is counted.
_COUNTED = {"spreadsheet": ("sheet_count", f"{{{_OFFICE}}}spreadsheet", f"{{{_TABLE}}}table"),
            "presentation": ("slides", f"{{{_OFFICE}}}presentation", f"{{{_DRAW}}}page")}
_FILE_ENTRY = f"{{{_MANIFEST}}}file-entry"
_FULL_PATH = f"{{{_MANIFEST}}}full-path"
_MEDIA_TYPE = f"{{{_MANIFEST}}}media-type"
_ENCRYPTION = f"{{{_MANIFEST}}}encryption-data"


def _kind(media_type: str | None) -> str | None:
    """``text``, ``spreadsheet`` or ``presentation`` for an OpenDocument media type.

    Templates and master documents (``...text-template``, ``...text-master``)
    are the same kind as the documents made from them.
    """
    if not media_type or not media_type.startswith(_MIME_PREFIX):
        return None
    kind = media_type[len(_MIME_PREFIX):].split("-")[0]
    return kind if kind in _KINDS else None


def _manifest(zf: SafeZip, limits: Limits) -> tuple[str | None, set[str]]:
    """The package's declared media type and the members it lists as encrypted."""
    name = "META-INF/manifest.xml"
    media_type: str | None = None
    encrypted: set[str] = set()
    if not zf.has(name):
        return media_type, encrypted
    entry: str | None = None
    for event, elem, _ in iter_xml(zf.read(name), limits, "document", name):
        if elem.tag == _FILE_ENTRY and event == "start":
            entry = elem.get(_FULL_PATH)
            if entry == "/":
                media_type = clean_text(elem.get(_MEDIA_TYPE))
        elif elem.tag == _ENCRYPTION and event == "end" and entry:
            encrypted.add(entry)
    return media_type, encrypted


def _meta(data: bytes, limits: Limits, what: str) -> dict[str, Any]:
    """Title, creators, dates and document statistics from ``meta.xml``."""
    found: dict[str, Any] = {}
    for event, elem, _ in iter_xml(data, limits, what, "meta.xml"):
        if event != "end":
            continue
        if (key := _TEXT_FIELDS.get(elem.tag)) and key not in found:
            value: Any = clean_text(elem.text)
        elif (key := _DATE_FIELDS.get(elem.tag)) and key not in found:
            value = iso_date(elem.text)
        elif elem.tag == _STATISTIC:
            for attr, stat in _STAT_ATTRS.items():
                if stat not in found and (number := count_value(elem.get(attr))) is not None:
                    found[stat] = number
            continue
        else:
            continue
        if value is not None:
            found[key] = value
    return found


class _Counted(Exception):
    """The element whose children are counted has ended: the rest of the part is not read."""


def _count_children(data: bytes, limits: Limits, what: str, parent: str, child: str, *,
                    complete: bool = True) -> tuple[int, bool]:
    """How many ``child`` elements sit directly in the first ``parent`` element, and whether it ended.

    A content part can be a hundred megabytes of cells, so this is a bare
    expat scan that stops where ``parent`` ends; ``data`` is the part's start
    when not ``complete``, and then ``parent`` may not end in it.
    """
    parent, child = parent.lstrip("{"), child.lstrip("{")
    depth = parent_depth = count = 0

    def start(tag: str, _: dict[str, str]) -> None:
        nonlocal depth, parent_depth, count
        depth += 1
        if depth > limits.max_depth:
            raise too_deep(what, "content.xml", limits)
        if not parent_depth:
            parent_depth = depth if tag == parent else 0
        elif depth == parent_depth + 1 and tag == child:
            count += 1

    def end(_: str) -> None:
        nonlocal depth
        if depth == parent_depth:
            raise _Counted
        depth -= 1

    try:
        scan_xml(data, what, "content.xml", {"StartElementHandler": start, "EndElementHandler": end},
                 complete=complete)
    except _Counted:
        return count, True
    return count, complete


def parse_odf(path: Path, limits: Limits) -> Parsed:
    """Properties and size of an OpenDocument text, spreadsheet or presentation.

    ``odf_type`` comes from the ``mimetype`` member (or the manifest when it is
    missing). ``author`` is the document's initial creator, falling back to
    ``dc:creator``, which OpenDocument defines as the person who last saved it.
    Text documents report the ``pages`` and ``words`` their application
    counted; spreadsheets their ``sheet_count`` (the declared table count, else the
    sheets in the content); presentations their ``slides``, counted in the
    content. Basic or script libraries in the package raise the ``macros`` flag.

    Raises
    ------
    ParseError
        When the file is not a readable OpenDocument package, expands beyond the
        limit, holds unsafe XML, or its content is missing
        (with whatever properties could still be read).
    """
    with SafeZip(path, limits, "document") as zf:
        media_type = None
        if zf.has("mimetype"):
            media_type = clean_text(zf.read("mimetype", max_bytes=256).decode("ascii", "replace"))
        declared, encrypted = _manifest(zf, limits)
        media_type = media_type or declared
        if not (media_type or "").startswith(_MIME_PREFIX) and not zf.has("content.xml"):
            raise ParseError("damaged document: it is not an OpenDocument file")
        kind = _kind(media_type)
        what = zf.what = _WHAT.get(kind or "", "document")  # name the kind in SafeZip's errors too
        flags = frozenset({Flag.MACROS} if any(n.startswith(("Basic/", "Scripts/")) for n in zf.names())
                          else ())
        found: dict[str, Any] = {}
        if zf.has("meta.xml") and "meta.xml" not in encrypted:
            found = _meta(zf.read("meta.xml"), limits, what)
        meta = _metadata(found, kind)
        if encrypted:  # the owner's choice, not a failure: what the plain parts say is kept
            meta["note"] = NOTE_PROTECTED.format(what=what)
            return Parsed(metadata=meta, flags=flags | {Flag.PASSWORD_PROTECTED})
        counted = _COUNTED.get(kind or "")
        if counted and counted[0] not in meta:
            key, parent, child = counted
            try:
                content, complete = read_counted(zf, "content.xml")
                meta[key], finished = _count_children(content, limits, what, parent, child, complete=complete)
            except ParseError as e:
                raise with_partial(e, meta, flags) from e
            if not finished:
                meta["note"] = (f"{'sheets' if key == 'sheet_count' else key} were counted in the first "
                                f"{MAX_SCANNED_BYTES // MiB} MiB of the content only")
    return Parsed(metadata=meta, flags=flags)


def _metadata(found: dict[str, Any], kind: str | None) -> dict[str, Any]:
    """The reported fields, from what ``meta.xml`` held and the document's kind.

    Statistics only mean what the field says for the matching kind: a text
    document's table count is not a sheet count.
    """
    meta: dict[str, Any] = {}
    if kind:
        meta["odf_type"] = kind
    if "title" in found:
        meta["title"] = found["title"]
    if author := found.get("initial_creator") or found.get("creator"):
        meta["author"] = author
    for key in ("created", "modified"):
        if key in found:
            meta[key] = found[key]
    if kind == "text":
        meta.update({k: found[k] for k in ("pages", "words") if k in found})
    elif kind == "spreadsheet" and "tables" in found:
        meta["sheet_count"] = found["tables"]
    return meta
