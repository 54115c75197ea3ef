"""E-mail messages (.eml): sender, recipients, subject, date and attachments.

The stdlib parser with ``policy.default`` decodes headers lazily, and some
malformed headers make that decoding raise (``To: "`` raises IndexError in
CPython 3.11). Every header is therefore read on its own, falling back to its
raw, unfolded text, so one bad header costs one field's polish, not the record.
"""

from __future__ import annotations

import contextlib
import io
import re
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.headerregistry import AddressHeader
from email.message import Message
from email.parser import BytesParser
from email.policy import Policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from extractor.formats import Limits, Parsed, ParseError

#: What decoding a malformed header can raise in the stdlib (parser bugs included).
_HEADER_ERRORS: tuple[type[Exception], ...] = (LookupError, AttributeError, TypeError, ValueError,
                                               MessageError)
#: What reading a malformed message can raise: the header errors, or nesting too deep to follow.
_READ_ERRORS: tuple[type[Exception], ...] = (*_HEADER_ERRORS, RecursionError)
#: MIME parts visited, and how deep multiparts may nest, before the walk stops.
_MAX_PARTS = 10_000
_MAX_DEPTH = 100
#: Attachments and addresses listed; attachment_count still counts every attachment found.
_MAX_LISTED = 100
_MAX_STRING = 1000
#: Lines a message may have for its structure to be read: the stdlib parser reads them one Python
#: call each, half a second a million (a real 5 MB message has about 70,000).
_MAX_LINES = 1_000_000
#: Lines times the multipart boundaries open around them, checked one by one: 90,000 lines
#: nested 200 deep take 3 s.
_MAX_BOUNDARY_CHECKS = 4_000_000
_HEADERS_END = re.compile(rb"\r?\n\r?\n")
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]*)"|([^\s;"]+))', re.IGNORECASE)
_DELIMITER = re.compile(rb"^--([^\r\n]*?)[ \t]*\r?$", re.MULTILINE)


def parse_eml(path: Path, limits: Limits) -> Parsed:
    """Sender, recipients, subject, date and attachments of an RFC 5322 message.

    Addresses are given as written for display (``Name <user@example.com>``).
    An address header that does not parse cleanly is given as its raw text in a
    one-element list. An unparseable Date is omitted, so that ``date`` only
    ever holds ISO 8601. Attachment sizes are of the decoded content, measured
    one attachment at a time.

    Parameters
    ----------
    path:
        The message on local disk.
    limits:
        Accepted for the parser contract; the MIME walk has fixed bounds.

    Raises
    ------
    ParseError
        When the file cannot be read as a message at all.
    """
    data = path.read_bytes()
    end = _HEADERS_END.search(data)
    try:
        message = _parse(data[:end.end()] if end else data, policy.default)
    except _READ_ERRORS as e:
        raise ParseError("damaged e-mail: the message structure cannot be read") from e
    metadata: dict[str, Any] = {}
    if senders := _addresses(message, "from"):
        metadata["from"] = ", ".join(senders)
    for name in ("to", "cc"):
        if addresses := _addresses(message, name):
            metadata[name] = addresses
    if subject := _text_header(message, "subject"):
        metadata["subject"] = subject
    if date := _date(message):
        metadata["date"] = date
    if costly := _too_costly(data):
        metadata["note"] = f"its attachments were not looked for: {costly}"
        return Parsed(metadata=metadata)
    data, cut = _first_parts(data)
    try:
        structure = _parse(data, policy.compat32)
    except _READ_ERRORS as e:
        raise ParseError("damaged e-mail: the message structure cannot be read", metadata=metadata) from e
    attachments, count, complete = _attachments(structure)
    if attachments:
        metadata["attachments"] = attachments
    metadata["attachment_count"] = count
    if cut or not complete:
        metadata["note"] = f"attachments were counted in its first {_MAX_PARTS:,} MIME parts only"
    return Parsed(metadata=metadata)


def _parse(data: bytes, kind: Policy) -> Message:
    """``data`` parsed as a file is (line endings read as LF, as attachment sizes have always been)."""
    return BytesParser(policy=kind).parse(io.BytesIO(data))


def _too_costly(data: bytes) -> str | None:
    """Why the stdlib parser would take too long over a message's structure, or None.

    It reads a message one Python call per line and checks every line against
    every multipart boundary open around it, so the lines and the nesting
    they sit in bound its time.
    """
    lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    if lines > _MAX_LINES:
        return f"it has more than {_MAX_LINES:,} lines"
    declared = {quoted or bare for quoted, bare in _BOUNDARY.findall(data)}
    if lines * (1 + len(declared)) > _MAX_BOUNDARY_CHECKS \
            and _boundary_checks(data, declared) > _MAX_BOUNDARY_CHECKS:
        return "its parts are nested too deeply for its length"
    return None


def _first_parts(data: bytes) -> tuple[bytes, bool]:
    """``data`` up to the line that would start part :data:`_MAX_PARTS` + 1, and whether it was cut.

    The walk looks at no more parts than that, so the parser need not read them.
    """
    for number, delimiter in enumerate(_DELIMITER.finditer(data), start=1):
        if number > _MAX_PARTS:
            return data[:delimiter.start()], True
    return data, False


def _boundary_checks(data: bytes, declared: set[bytes]) -> int:
    """Lines times the multipart boundaries open around them: what the stdlib parser checks."""
    opened: dict[bytes, int] = {}  # boundary -> its nesting depth, from 0
    checks = last = 0
    for delimiter in _DELIMITER.finditer(data):
        checks += data.count(b"\n", last, delimiter.start()) * len(opened)
        last = delimiter.start()
        text = delimiter[1]
        if text in declared and text not in opened:
            opened[text] = len(opened)
        elif text.endswith(b"--") and text[:-2] in opened:  # closes it and whatever it holds
            depth = opened[text[:-2]]
            opened = {boundary: at for boundary, at in opened.items() if at < depth}
    return checks


def _clean(text: str) -> str:
    """One line of printable text, capped."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text[: _MAX_STRING * 4]).split())
    return text[:_MAX_STRING]


def _raw(message: Message, name: str) -> list[str]:
    """A header's raw values, RFC 2047 words decoded where that works, unfolded."""
    values = []
    for key, value in message.raw_items():
        if key.lower() != name:
            continue
        text = str(value)
        with contextlib.suppress(*_HEADER_ERRORS):
            text = str(make_header(decode_header(text)))
        if cleaned := _clean(text):
            values.append(cleaned)
    return values


def _text_header(message: Message, name: str) -> str | None:
    """A header's decoded text, or its raw text when decoding fails."""
    try:
        value = message[name]
        text = _clean(str(value)) if value is not None else ""
    except _HEADER_ERRORS:
        text = next(iter(_raw(message, name)), "")
    return text or None


def _addresses(message: Message, name: str) -> list[str]:
    """Every address in every ``name`` header; raw text where one does not parse cleanly."""
    out: list[str] = []
    try:
        headers = message.get_all(name) or []
        for header in headers:
            if not isinstance(header, AddressHeader):
                raise TypeError("not an address header")
            parsed = list(header.addresses)
            if any(not address.domain for address in parsed):
                raise ValueError("an address without a domain")
            out += [_clean(str(address)) for address in parsed]
    except _HEADER_ERRORS:
        out = _raw(message, name)
    return [address for address in out if address][:_MAX_LISTED]


def _iso(moment: datetime) -> str:
    """ISO 8601 to the second, "Z" for UTC; a date sent as -0000 (zone unknown) stays naive."""
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _date(message: Message) -> str | None:
    """The Date header in ISO 8601, or None when it is missing or not a date."""
    try:
        header = message["date"]
        moment = getattr(header, "datetime", None)
    except _HEADER_ERRORS:
        moment = None
    if moment is None:
        for raw in _raw(message, "date"):
            try:
                moment = parsedate_to_datetime(raw)
                break
            except _HEADER_ERRORS:
                continue
    return _iso(moment) if isinstance(moment, datetime) else None


def _attachments(message: Message) -> tuple[list[dict[str, Any]], int, bool]:
    """Attachments described (up to :data:`_MAX_LISTED`), counted, and whether every part was seen.

    A part is an attachment when its disposition says so or it has a file
    name; an attached message (message/rfc822) is one attachment, not opened.
    The walk is iterative and bounded, as a message controls its own nesting.
    Only the attachments listed are measured. ``message`` is parsed with
    ``compat32``, whose headers are plain text: ``policy.default`` builds an
    object (and in CPython 3.11 a class) per header, ten times the cost for a
    message of thousands of parts; a file name in RFC 2047 words is decoded here.
    """
    listed: list[dict[str, Any]] = []
    count = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    visited = 0
    while stack and visited < _MAX_PARTS:
        part, depth = stack.pop()
        visited += 1
        try:
            content_type = part.get_content_type()
            disposition = part.get_content_disposition()
            filename = part.get_filename()
        except _HEADER_ERRORS:
            content_type, disposition, filename = "application/octet-stream", None, None
        attached_message = content_type == "message/rfc822" and depth > 0
        if part.is_multipart() and not attached_message:
            if depth < _MAX_DEPTH:
                children = part.get_payload()
                if isinstance(children, list):
                    stack += [(child, depth + 1) for child in reversed(children)
                              if isinstance(child, Message)]
        elif attached_message or disposition == "attachment" or filename:
            count += 1
            if len(listed) < _MAX_LISTED:
                listed.append(_describe(part, content_type, _decoded(filename)))
    return listed, count, not stack


def _decoded(filename: str | None) -> str | None:
    """A file name with its RFC 2047 encoded words decoded, as ``policy.default`` gives it."""
    if filename and "=?" in filename:
        with contextlib.suppress(*_HEADER_ERRORS):
            return str(make_header(decode_header(filename)))
    return filename


def _describe(part: Message, content_type: str, filename: str | None) -> dict[str, Any]:
    """File name, content type and decoded size of one attachment."""
    entry: dict[str, Any] = {}
    if filename and (name := _clean(filename)[:255]):
        entry["filename"] = name
    entry["content_type"] = content_type
    try:
        if part.is_multipart():  # an attached message: its size as sent
            inner = part.get_payload(0)
            size = len(inner.as_bytes()) if isinstance(inner, Message) else 0
        else:
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            del payload
    except _READ_ERRORS:
        return entry
    entry["size"] = size
    return entry
