"""Office Open XML files (DOCX/DOCM, XLSX/XLSM, PPTX/PPTM): properties and counts.

An Office file is a zip of XML parts. Every part is read through
:class:`~extractor.formats.safezip.SafeZip`, so a zip bomb stops at
``limits.max_unpacked_bytes``, and parsed with DTDs refused, so an entity
bomb or an external entity never expands. XML is parsed as a stream
(elements are dropped once seen), so a large document costs little memory
beyond its compressed bytes; a body or sheets are counted over their first
:data:`~extractor.formats.xmlparts.MAX_SCANNED_BYTES` only.

The XML streaming and value cleaning it shares with OpenDocument live in
:mod:`extractor.formats.xmlparts`; a sheet's cells are counted by
:mod:`extractor.formats.sheetscan`.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from common.catalogue import Flag
from extractor.formats import Limits, MiB, Parsed, ParseError
from extractor.formats.cfb import is_encrypted_package
from extractor.formats.safezip import SafeZip
from extractor.formats.sheetscan import scan_sheet
from extractor.formats.xmlparts import (
    MAX_SCANNED_BYTES,
    clean_text,
    count_value,
    expat_tags,
    iso_date,
    iter_xml,
    read_counted,
    scan_xml,
    too_deep,
    with_partial,
)

NOTE_PROTECTED = ("password-protected {what}: it cannot be opened without its password, so only its size "
                  "and type were read")
_IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "jpe", "jfif", "gif", "bmp", "dib", "tif", "tiff",
                               "emf", "wmf", "emz", "wmz", "svg", "webp", "ico", "pict", "heic"})

# Namespaces. Strict OOXML renames the main ones, so both spellings are accepted.
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_CP = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_W = ("http://schemas.openxmlformats.org/wordprocessingml/2006/main",
      "http://purl.oclc.org/ooxml/wordprocessingml/main")
_A = ("http://schemas.openxmlformats.org/drawingml/2006/main",
      "http://purl.oclc.org/ooxml/drawingml/main")
_P = ("http://schemas.openxmlformats.org/presentationml/2006/main",
      "http://purl.oclc.org/ooxml/presentationml/main")
_VML_IMAGE = "{urn:schemas-microsoft-com:vml}imagedata"


#: Bytes of sheet XML counted: about 75,000 cells. A cell costs Python calls in the scan: the 8 MiB
#: other parts get took up to 1.2 s here, 4 MiB up to 1.17 s on a busy machine (bench: xlsx-cells).
MAX_SHEET_BYTES = 2 * MiB
#: Sheets counted at most: each costs a part read and a parser whatever its size (bench: xlsx-sheets,
#: 9,000 sheets took 0.76-1.28 s); real workbooks have tens.
MAX_SCANNED_SHEETS = 1_000

def _tags(namespaces: tuple[str, ...], local: str) -> frozenset[str]:
    """Clark-notation tags for ``local`` in each of ``namespaces``."""
    return frozenset(f"{{{ns}}}{local}" for ns in namespaces)


_W_P, _W_T, _W_TBL = _tags(_W, "p"), _tags(_W, "t"), _tags(_W, "tbl")
_W_BREAKS = _tags(_W, "tab") | _tags(_W, "br") | _tags(_W, "cr")
_IMAGE_TAGS = _tags(_A, "blip") | {_VML_IMAGE}
_P_SLIDE_ID = _tags(_P, "sldId")
#: The same, as :func:`~extractor.formats.xmlparts.scan_xml` spells them.
_X_P, _X_T, _X_TBL, _X_BREAKS, _X_IMAGES = map(expat_tags, (_W_P, _W_T, _W_TBL, _W_BREAKS, _IMAGE_TAGS))
_X_FALLBACK = _MC_FALLBACK.lstrip("{")

_CORE_FIELDS = {
    f"{{{_DC}}}title": "title",
    f"{{{_DC}}}creator": "author",
    f"{{{_CP}}}lastModifiedBy": "last_modified_by",
    f"{{{_CP}}}revision": "revision",
    f"{{{_DCTERMS}}}created": "created",
    f"{{{_DCTERMS}}}modified": "modified",
}
_APP_STATS = {"Pages": "pages", "Words": "words", "Characters": "characters"}
#: Last segment of a package relationship type -> which part it points to.
_PACKAGE_RELS = {"officeDocument": "main", "core-properties": "core",
                 "extended-properties": "app", "extendedProperties": "app"}


# --- OPC package helpers ------------------------------------------------------------------------

def _local(tag: str) -> str:
    """The local part of a Clark-notation tag."""
    return tag.rpartition("}")[2]


def _protected(path: Path, what: str) -> Parsed | None:
    """A password-protected file's record (processed, flagged, with a note), or None for any other file.

    Protection is the owner's choice, not a failure: the dashboard's failures
    must mean that something went wrong.
    """
    if not is_encrypted_package(path):
        return None
    return Parsed(metadata={"note": NOTE_PROTECTED.format(what=what)},
                  flags=frozenset({Flag.PASSWORD_PROTECTED}))


def _resolve(target: str) -> str | None:
    """A package-root relationship target as a member name, or None if it escapes."""
    name = posixpath.normpath(target.lstrip("/"))
    return None if name.startswith("..") or name in {".", ""} else name


def _package_parts(zf: SafeZip, limits: Limits, what: str, main: str) -> dict[str, str]:
    """Member names of the main, core-properties and app-properties parts.

    The package relationships say where the parts are; the conventional names
    are the fallback, as some tools write no or broken relationships.
    """
    parts = {"main": main, "core": "docProps/core.xml", "app": "docProps/app.xml"}
    if not zf.has("_rels/.rels"):
        return parts
    found: set[str] = set()
    for event, elem, _ in iter_xml(zf.read("_rels/.rels"), limits, what, "_rels/.rels"):
        if event != "end" or _local(elem.tag) != "Relationship" or elem.get("TargetMode") == "External":
            continue
        role = _PACKAGE_RELS.get(elem.get("Type", "").rpartition("/")[2])
        target = _resolve(elem.get("Target", ""))
        if role and role not in found and target and zf.has(target):
            parts[role] = target
            found.add(role)
    return parts


def _core_properties(zf: SafeZip, limits: Limits, what: str, name: str) -> dict[str, Any]:
    """Title, author, last editor, revision and dates from the core properties part."""
    meta: dict[str, Any] = {}
    if not zf.has(name):
        return meta
    for event, elem, _ in iter_xml(zf.read(name), limits, what, name):
        key = _CORE_FIELDS.get(elem.tag) if event == "end" else None
        if key is None or key in meta:
            continue
        if key in {"created", "modified"}:
            value: Any = iso_date(elem.text)
        elif key == "revision":
            value = count_value(elem.text)
        else:
            value = clean_text(elem.text)
        if value is not None:
            meta[key] = value
    return meta


def _app_statistics(zf: SafeZip, limits: Limits, what: str, name: str) -> dict[str, int]:
    """Pages, words and characters as the saving application counted them, where present."""
    stats: dict[str, int] = {}
    if not zf.has(name):
        return stats
    for event, elem, depth in iter_xml(zf.read(name), limits, what, name):
        key = _APP_STATS.get(_local(elem.tag)) if event == "end" and depth == 2 else None
        if key is not None and key not in stats and (value := count_value(elem.text)) is not None:
            stats[key] = value
    return stats


def _macro_flags(zf: SafeZip, limits: Limits, what: str) -> frozenset[str]:
    """``{"macros"}`` when the file carries a VBA project or declares itself macro-enabled.

    A renamed VBA part still has to be declared in the content types, so both
    the member name and the declared types are checked.
    """
    macros = frozenset({Flag.MACROS})
    if any(posixpath.basename(n).lower() == "vbaproject.bin" for n in zf.names()):
        return macros
    if not zf.has("[Content_Types].xml"):
        return frozenset()
    for event, elem, _ in iter_xml(zf.read("[Content_Types].xml"), limits, what, "[Content_Types].xml"):
        content_type = elem.get("ContentType", "").lower() if event == "end" else ""
        if "macroenabled" in content_type or content_type == "application/vnd.ms-office.vbaproject":
            return macros
    return frozenset()


# --- DOCX ---------------------------------------------------------------------------------------

def _count_words(text: str, in_word: bool) -> tuple[int, bool]:
    """New words in ``text`` and whether it ends inside a word.

    Word splits text into runs anywhere, even mid-word, so a run that starts
    with a letter continues the previous run's word instead of starting one.
    """
    words = len(text.split())
    if not words:
        return 0, in_word and not text
    if in_word and not text[0].isspace():
        words -= 1
    return words, not text[-1].isspace()


def _body_counts(data: bytes, limits: Limits, name: str, *, complete: bool = True) -> dict[str, int]:
    """Paragraphs with text, tables, pictures and words of the main document part.

    Words are counted run by run as the XML streams past; the text itself is
    never assembled. ``mc:Fallback`` content repeats its ``mc:Choice`` for older
    readers, so it is skipped rather than counted twice. A body can be a
    hundred megabytes of tiny elements, so this is a bare expat scan of
    ``data``, which is the part's start when not ``complete``.
    """
    paragraphs = tables = images = words = 0
    depth = fallback = 0
    has_text: list[bool] = []  # one entry per open paragraph (text boxes nest them)
    in_word = False
    text: list[str] | None = None  # the open w:t element's text, while no child has started

    def start(tag: str, _: dict[str, str]) -> None:
        nonlocal depth, fallback, tables, images, in_word, text
        depth += 1
        if depth > limits.max_depth:
            raise too_deep("document", name, limits)
        text = None
        if tag == _X_FALLBACK:
            fallback += 1
        elif fallback:
            return
        elif tag in _X_P:
            has_text.append(False)
            in_word = False
        elif tag in _X_T:
            text = []
        elif tag in _X_TBL:
            tables += 1
        elif tag in _X_IMAGES:
            images += 1
        elif tag in _X_BREAKS:
            in_word = False

    def end(tag: str) -> None:
        nonlocal depth, fallback, paragraphs, words, in_word, text
        depth -= 1
        if tag == _X_FALLBACK:
            fallback -= 1
        elif fallback:
            return
        elif tag in _X_T and text:
            run = "".join(text)
            found, in_word = _count_words(run, in_word)
            words += found
            if has_text and not run.isspace():
                has_text[-1] = True
        elif tag in _X_P and has_text:
            paragraphs += has_text.pop()
            in_word = False
        text = None

    def characters(data: str) -> None:
        if text is not None:
            text.append(data)

    scan_xml(data, "document", name, {"StartElementHandler": start, "EndElementHandler": end,
                                      "CharacterDataHandler": characters}, complete=complete)
    return {"paragraphs": paragraphs, "tables": tables, "images": images, "word_count": words}


def parse_docx(path: Path, limits: Limits) -> Parsed:
    """Properties and counts of a Word document (DOCX, DOCM and their templates).

    ``pages``, ``words`` and ``characters`` are what Word stored when it last
    saved (present only if it did); ``word_count`` is counted from the text, so
    the two disagree when another tool edited the file. ``paragraphs`` counts
    paragraphs holding text, as Word's own statistics do. ``images`` is at least
    the pictures placed in the body and at least the picture files stored, since
    one file may be placed many times and header pictures live outside the body.

    Raises
    ------
    ParseError
        When the file is not a readable Word package,
        expands beyond the limit, holds unsafe XML, or lacks its main part.
    """
    if (protected := _protected(path, "document")) is not None:
        return protected
    with SafeZip(path, limits, "document") as zf:
        parts = _package_parts(zf, limits, "document", "word/document.xml")
        flags = _macro_flags(zf, limits, "document")
        meta = _core_properties(zf, limits, "document", parts["core"])
        try:
            meta.update(_app_statistics(zf, limits, "document", parts["app"]))
            body, complete = read_counted(zf, parts["main"])
            counts = _body_counts(body, limits, parts["main"], complete=complete)
        except ParseError as e:
            raise with_partial(e, meta, flags) from e
        media_dir = posixpath.dirname(parts["main"]) + "/media/"
        stored = sum(1 for n in zf.names() if n.startswith(media_dir)
                     and n.rpartition(".")[2].lower() in _IMAGE_EXTENSIONS)
    counts["images"] = max(counts["images"], stored)
    meta.update(counts)
    if not complete:
        meta["note"] = (f"paragraphs, tables, pictures and words were counted in the first "
                        f"{MAX_SCANNED_BYTES // MiB} MiB of the document's text only")
    return Parsed(metadata=meta, flags=flags)


# --- XLSX ---------------------------------------------------------------------------------------

_S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
def _relationships(zf: SafeZip, limits: Limits, part: str) -> dict[str, str]:
    """Relationship id -> member name, for the part ``part`` (e.g. the workbook)."""
    folder, _, base = part.rpartition("/")
    rels = f"{folder}/_rels/{base}.rels"
    targets: dict[str, str] = {}
    if not zf.has(rels):
        return targets
    for event, elem, _ in iter_xml(zf.read(rels), limits, "spreadsheet", rels):
        if event == "end" and _local(elem.tag) == "Relationship" and elem.get("TargetMode") != "External":
            target = elem.get("Target", "")
            resolved = _resolve(target if target.startswith("/") else f"{folder}/{target}")
            if resolved:
                targets[elem.get("Id", "")] = resolved
    return targets


def _workbook_contents(zf: SafeZip, limits: Limits, workbook: str) -> dict[str, Any]:
    """Sheets (name and used range), non-empty cells and formula presence, in workbook order.

    The sheets' cells are counted in their first :data:`MAX_SHEET_BYTES` in
    all; a ``note`` says when some were left uncounted.
    """
    targets = _relationships(zf, limits, workbook)
    sheets: list[dict[str, str]] = []
    cells, formulas = 0, False
    budget, partial, scanned = MAX_SHEET_BYTES, False, 0
    for event, elem, _ in iter_xml(zf.read(workbook), limits, "spreadsheet", workbook):
        if event != "end" or elem.tag != f"{{{_S_NS}}}sheet":
            continue
        sheet = {"name": clean_text(elem.get("name")) or ""}
        target = targets.get(elem.get(_R_ID, ""), "")
        if target and zf.has(target) and "/worksheets/" in f"/{target}":  # chart sheets have no cells
            if not budget or scanned == MAX_SCANNED_SHEETS:
                partial = True
                sheets.append(sheet)
                continue
            data, complete = read_counted(zf, target, budget)
            budget, scanned = budget - len(data), scanned + 1
            partial = partial or not complete
            found, has_formulas, dimension = scan_sheet(data, limits, target, complete=complete)
            cells += found
            formulas = formulas or has_formulas
            if dimension:
                sheet["dimension"] = dimension
        sheets.append(sheet)
    contents: dict[str, Any] = {"sheets": sheets, "sheet_count": len(sheets), "cells": cells,
                                "has_formulas": formulas}
    if partial:
        contents["note"] = (f"cells, formulas and used ranges were looked for in the first "
                            f"{MAX_SHEET_BYTES // MiB} MiB of the sheets, and in at most "
                            f"{MAX_SCANNED_SHEETS:,} sheets, only")
    return contents


def parse_xlsx(path: Path, limits: Limits) -> Parsed:
    """Sheets, cells, formulas and properties of an Excel workbook (XLSX, XLSM and templates).

    Each sheet is ``{"name", "dimension"}``, where ``dimension`` is the range
    holding data (e.g. ``"A1:D20"``), left out for a sheet without any. ``cells``
    counts cells with a value or formula.

    Raises
    ------
    ParseError
        When the file is not a readable workbook, expands
        beyond the limit, or holds unsafe XML.
    """
    if (protected := _protected(path, "spreadsheet")) is not None:
        return protected
    with SafeZip(path, limits, "spreadsheet") as zf:
        parts = _package_parts(zf, limits, "spreadsheet", "xl/workbook.xml")
        flags = _macro_flags(zf, limits, "spreadsheet")
        meta = _core_properties(zf, limits, "spreadsheet", parts["core"])
        try:
            contents = _workbook_contents(zf, limits, parts["main"])
        except ParseError as e:
            raise with_partial(e, meta, flags) from e
    meta.update(contents)
    return Parsed(metadata=meta, flags=flags)


# --- PPTX ---------------------------------------------------------------------------------------

def _slide_count(data: bytes, limits: Limits, name: str) -> int:
    """Slides listed in the presentation part (slide files not listed are not shown)."""
    return sum(1 for event, elem, _ in iter_xml(data, limits, "presentation", name)
               if event == "end" and elem.tag in _P_SLIDE_ID)


def parse_pptx(path: Path, limits: Limits) -> Parsed:
    """Slide count, speaker-notes presence and properties of a PowerPoint file (PPTX, PPTM).

    ``has_notes`` is true when any slide has a notes page, even an empty one.

    Raises
    ------
    ParseError
        When the file is not a readable presentation,
        expands beyond the limit, holds unsafe XML, or lacks its main part.
    """
    if (protected := _protected(path, "presentation")) is not None:
        return protected
    with SafeZip(path, limits, "presentation") as zf:
        parts = _package_parts(zf, limits, "presentation", "ppt/presentation.xml")
        flags = _macro_flags(zf, limits, "presentation")
        meta = _core_properties(zf, limits, "presentation", parts["core"])
        try:
            meta["slides"] = _slide_count(zf.read(parts["main"]), limits, parts["main"])
        except ParseError as e:
            raise with_partial(e, meta, flags) from e
        meta["has_notes"] = any(posixpath.basename(n).startswith("notesSlide") and n.endswith(".xml")
                                for n in zf.names())
    return Parsed(metadata=meta, flags=flags)
