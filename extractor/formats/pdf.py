"""PDF: document properties, page geometry, text layer and risky content, fast whatever the structure.

PDFium (``pypdfium2``, the engine Chrome ships and fuzzes) opens the file and
gives the page count, page size, version, encryption, the Info dictionary and
the text layer. It repairs a broken cross-reference table in C in
milliseconds, where pypdf took 14.6 s on one 1.6 MB file. pypdf reads only
what PDFium does not expose (XMP, form fields, script actions), under a CPU
budget of its own (:mod:`extractor.formats.pdfdetail`). Whether the file was
damaged is told from its bytes (:mod:`extractor.formats.pdfcheck`).

Outcomes a business user can act on: a damaged file a viewer would open is
read and flagged ``damaged``; a file that needs a password to open is flagged
``password_protected`` with what its plain structure reveals (version, page
count), which is not a failure; only a file nothing can be recovered from
fails.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from common.catalogue import Flag
from extractor.formats import Limits, Parsed, ParseError, pdfcheck
from extractor.formats.pdfvalues import Detail, clean, pdf_date

#: Pages whose text layer is looked at, and the characters of each read.
_TEXT_PAGES = 3
_TEXT_CHARS = 4096
#: Bytes of the file's start searched for the %PDF-x.y header.
_HEADER_WINDOW = 1024

_INFO_TEXT = {"Title": "title", "Author": "author", "Subject": "subject", "Keywords": "keywords",
              "Creator": "creator", "Producer": "producer"}
_INFO_DATES = {"CreationDate": "created", "ModDate": "modified"}
_XMP_NAMES = (*_INFO_TEXT.values(), *_INFO_DATES.values())

_HEADER = re.compile(rb"%PDF-(\d\.\d)")

NOTE_DAMAGED = "damaged PDF, read after repair: {problems}"
NOTE_PASSWORD = ("password-protected PDF: it cannot be opened without its password, so only its version "  # noqa: S105
                 "and page count were read")
NOTE_PARTIAL = "some details ({what}) could not be read from this file"


def parse_pdf(path: Path, limits: Limits) -> Parsed:
    """Properties, geometry and flags of a PDF (its text layer is :func:`text_layer`'s step).

    Raises
    ------
    ParseError
        Only when nothing can be recovered: neither PDFium nor a rebuilt
        trailer opens the file, or its page tree leads to no page.
    """
    metadata: dict[str, Any] = {}
    with pdfcheck.mapped(path) as data:
        if version := _header_version(data):
            metadata["pdf_version"] = version
        problems = pdfcheck.problems(data)
        try:
            document, rebuilt = _open(path, data)
        except _Locked:
            return _password_protected(path, metadata, problems, limits)
        if document is None:
            raise ParseError("damaged PDF: its structure cannot be read", metadata=metadata)
        if rebuilt:
            problems = (*problems, pdfcheck.REBUILT)
        try:
            flags = _read(document, metadata)
        finally:
            document.close()
        found = pdfcheck.markers(data)
        detail = _detail(path, found, limits)
        for name in _XMP_NAMES:
            if name not in metadata and (value := detail.xmp.get(name)):
                metadata[name] = value
        if pdfa := detail.xmp.get("pdfa"):
            metadata["pdfa"] = pdfa
        if detail.form_fields is not None:
            metadata["form_fields"] = detail.form_fields
        if (found is not None and found.script) or detail.javascript:
            flags.add(Flag.JAVASCRIPT)
    notes = []
    if problems:
        flags.add(Flag.DAMAGED)
        notes.append(NOTE_DAMAGED.format(problems="; ".join(problems)))
    if not detail.complete:
        what = "XMP metadata, form fields" + (", script actions" if found is None else "")
        notes.append(NOTE_PARTIAL.format(what=what))
    if notes:
        metadata["note"] = ". ".join(notes)
    return Parsed(metadata=metadata, flags=frozenset(flags))


class _Locked(Exception):
    """The file needs a password to open."""


def _open(path: Path, data: bytes | mmap.mmap) -> tuple[pdfium.PdfDocument | None, bool]:
    """The document (None when nothing opens it), and whether it opened only with a trailer appended."""
    try:
        return pdfium.PdfDocument(path), False
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise _Locked from e
    repaired = pdfcheck.with_trailer(data)
    if repaired is None:
        return None, False
    try:
        return pdfium.PdfDocument(repaired), True
    except pdfium.PdfiumError:
        return None, False


def _detail(path: Path, found: pdfcheck.Markers | None, limits: Limits) -> Detail:
    """What only pypdf reads, when the file holds any of it (no XMP packet and no form: nothing to read).

    pypdf is imported only then: importing it costs a quarter of a second.
    """
    from extractor.formats.pdfdetail import read_detail

    if found is not None and not found.metadata and not found.form:
        return Detail(form_fields=0, complete=True)
    return read_detail(path, limits.pdf_detail_seconds, scripts=found is None)


def _read(document: pdfium.PdfDocument, metadata: dict[str, Any]) -> set[str]:
    """Fill ``metadata`` from PDFium; return the flags found. Raises ParseError without pages."""
    encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(document) != -1
    metadata["encrypted"] = encrypted
    flags: set[str] = {Flag.ENCRYPTED} if encrypted else set()
    if "pdf_version" not in metadata and (number := document.get_version()):
        metadata["pdf_version"] = f"{number // 10}.{number % 10}"
    pages = len(document)
    try:  # the page dictionary only: loading the page would parse its content, however large
        width, height = document.get_page_size(0)
    except pdfium.PdfiumError:
        pages = 0  # a page tree that declares pages but leads to none (a cycle, say) is unreadable
    if pages < 1:
        raise ParseError("damaged PDF: its pages cannot be listed", metadata=metadata, flags=flags)
    metadata["pages"] = pages
    info = document.get_metadata_dict(skip_empty=True)
    for key, name in _INFO_TEXT.items():
        if text := clean(info.get(key, "")):
            metadata[name] = text
    for key, name in _INFO_DATES.items():
        if date := pdf_date(info.get(key, "")):
            metadata[name] = date
    metadata["page_width"], metadata["page_height"] = round(width, 2), round(height, 2)
    if pdfium_c.FPDFDoc_GetJavaScriptActionCount(document) > 0:
        flags.add(Flag.JAVASCRIPT)
    return flags


def text_layer(path: Path, limits: Limits) -> Parsed:
    """``has_text`` (and the ``scanned`` flag) from the first pages; nothing when they cannot be read.

    A step of its own (``extractor.extract.TEXT_LAYERS``), run in the sandbox
    with a short deadline: loading a page parses its whole content stream in C,
    where no budget reaches, and a few deflated megabytes can hold a page whose
    content takes a minute to parse. A file PDFium opens only after repair (cut
    short) is not judged: it may have lost the dictionary that decrypts its text.
    """
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError:
        return Parsed()
    try:
        has_text = _has_text(document, len(document))
    finally:
        document.close()
    if has_text is None:
        return Parsed()
    return Parsed(metadata={"has_text": has_text},
                  flags=frozenset() if has_text else frozenset({Flag.SCANNED}))


def _has_text(document: pdfium.PdfDocument, pages: int) -> bool | None:
    """Whether the first pages carry any text; None when none of them could be read."""
    read = 0
    for number in range(min(pages, _TEXT_PAGES)):
        try:
            page = document[number]
        except pdfium.PdfiumError:
            continue
        try:
            text = page.get_textpage()
            try:
                chars = text.get_text_range(0, min(text.count_chars(), _TEXT_CHARS))
            finally:
                text.close()
        except pdfium.PdfiumError:
            continue
        finally:
            page.close()
        read += 1
        if any(not ch.isspace() for ch in chars):
            return True
    return False if read else None


def _password_protected(path: Path, metadata: dict[str, Any], problems: tuple[str, ...],
                        limits: Limits) -> Parsed:
    """A PDF that needs a password: what its unencrypted structure says, and a note; not a failure."""
    from extractor.formats.pdfdetail import declared_pages

    metadata["encrypted"] = True
    if (pages := declared_pages(path, limits.pdf_detail_seconds)) is not None:
        metadata["pages"] = pages
    flags = {Flag.PASSWORD_PROTECTED}
    notes = [NOTE_PASSWORD]
    if problems:
        flags.add(Flag.DAMAGED)
        notes.append(NOTE_DAMAGED.format(problems="; ".join(problems)))
    metadata["note"] = ". ".join(notes)
    return Parsed(metadata=metadata, flags=frozenset(flags))


def _header_version(data: bytes | mmap.mmap) -> str | None:
    """The version in the ``%PDF-x.y`` header, which readers tolerate after some junk."""
    match = _HEADER.search(data, 0, _HEADER_WINDOW)
    return match.group(1).decode("ascii") if match else None
