"""What the portal accepts for upload: size limit, allowed types, tags and notes.

Pure: no AWS, no Streamlit. The page checks every chosen file against an
:class:`UploadPolicy` before anything is stored, so a refused file leaves no
item and no object behind and the user reads why in plain words.

The type check goes by the name's extension, because that is all there is
before the bytes are stored; the extractor later decides what the content
really is and flags a ``type_mismatch``. The allow-list is the extractor's
catalogue of families (:data:`common.catalogue.FAMILIES`).

Configuration: ``DOCPORTAL_UPLOAD_MAX_MB`` (largest accepted file in MB, MiB
as Streamlit counts them; default the parse limit ``DOCPORTAL_MAX_PARSE_MB``,
512, the template's ``MaxFileSizeMB``) and ``DOCPORTAL_UPLOAD_FORMATS``
(comma-separated families of :data:`common.catalogue.FAMILIES` to accept;
default all), both read by :class:`common.settings.Settings`.

The bytes go from the browser straight to S3 (a presigned POST allows up to
5 GB), so Streamlit's own upload limit (``server.maxUploadSize``, kept tiny)
has no part in this policy; it bounds only :class:`MemoryBudget`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.catalogue import FAMILIES, Family
from common.schema.keys import safe_extension
from portal.text import BIDI_CONTROLS

if TYPE_CHECKING:
    from common.settings import Settings


MiB = 1024 * 1024

MAX_TAGS = 10
MAX_TAG_CHARS = 32
MAX_NOTES_CHARS = 1000
_TAG_RE = re.compile(r"^\w[\w .&+/-]*$")


@dataclass(frozen=True)
class Verdict:
    """Whether one file may be uploaded; ``message`` says why not, naming the file."""

    name: str
    accepted: bool
    message: str = ""


@dataclass(frozen=True)
class UploadPolicy:
    """The size limit and the accepted families of one portal process."""

    max_bytes: int
    families: tuple[Family, ...] = FAMILIES

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadPolicy:
        """The policy the settings ask for."""
        max_mb = settings.upload_limit_mb
        chosen = settings.upload_formats
        families = tuple(f for f in FAMILIES if f.name in chosen) if chosen else FAMILIES
        return cls(max_bytes=max_mb * MiB, families=families)

    @property
    def max_mb(self) -> int:
        """The limit in whole MB, as the page states it (at least 1)."""
        return max(1, self.max_bytes // MiB)

    @property
    def extensions(self) -> frozenset[str]:
        """Every accepted extension, lower case, without the dot."""
        return frozenset().union(*(f.extensions for f in self.families))

    @property
    def allowed_text(self) -> str:
        """The accepted families for people: ``PDF, Word, Excel``."""
        return ", ".join(f.label for f in self.families)

    def check(self, name: str, size: int) -> Verdict:
        """Whether a file called ``name`` of ``size`` bytes may be uploaded, and if not why."""
        extension = safe_extension(name)
        if not extension:
            return Verdict(name, False, f"{name}: files without a type in their name are not accepted"
                                        f" (allowed: {self.allowed_text})")
        if extension not in self.extensions:
            return Verdict(name, False, f"{name}: this type of file is not accepted"
                                        f" (allowed: {self.allowed_text})")
        if size > self.max_bytes:
            return Verdict(name, False,
                           f"{name} is {_mb(size, up=True)} MB; the limit is {_mb(self.max_bytes)} MB")
        return Verdict(name, True)


#: Most files one session may hold chosen but not yet stored (each costs server memory too).
MAX_SESSION_FILES = 1000


@dataclass(frozen=True)
class Refusal:
    """Why Streamlit's upload endpoint refuses a file: an HTTP status and words for a person."""

    status: int
    message: str


SIGN_IN_FIRST = Refusal(403, "Sign in with an account that may upload before sending files.")


#: Room for the multipart framing around a file: the body of a request is a little larger than its file.
FRAMING_BYTES = 64 * 1024


@dataclass(frozen=True)
class MemoryBudget:
    """How much the portal holds in memory of files sent to Streamlit's own upload endpoint.

    No page uses that endpoint (uploads go straight to S3), but Streamlit
    answers it for every session and keeps what it receives in the server's
    memory until the session ends, so without a budget a few sessions could
    exhaust the portal (OWASP API4:2023, unrestricted resource consumption).
    A request's body may be ``file_bytes`` (plus framing); one
    session may hold ``session_bytes`` in at most ``session_files`` files; all
    sessions together ``process_bytes``.
    """

    file_bytes: int
    session_bytes: int
    process_bytes: int
    session_files: int = MAX_SESSION_FILES

    @classmethod
    def from_settings(cls, settings: Settings, file_mb: int) -> MemoryBudget:
        """Streamlit's ``server.maxUploadSize`` (``file_mb``), ``DOCPORTAL_UPLOAD_SESSION_MB`` and
        ``DOCPORTAL_UPLOAD_PROCESS_MB``, in bytes."""
        return cls(file_bytes=file_mb * MiB,
                   session_bytes=settings.upload_session_mb * MiB,
                   process_bytes=settings.upload_process_mb * MiB)

    def refusal(self, body: int, *, session_bytes: int, session_files: int,
                process_bytes: int) -> Refusal | None:
        """Why a request body of ``body`` bytes may not join what is held now, or None when it may.

        ``session_bytes``/``session_files`` are what the sending session holds
        and ``process_bytes`` what all sessions hold, without this body.
        """
        if body > self.file_bytes + FRAMING_BYTES:
            return Refusal(413, f"This file is over {_mb(body - FRAMING_BYTES, up=True)} MB;"
                                f" the limit is {_mb(self.file_bytes)} MB.")
        if session_files + 1 > self.session_files:
            return Refusal(413, f"This session already holds {session_files:,} chosen files; upload or remove"
                                f" some before choosing more (at most {self.session_files:,}).")
        if session_bytes + body > self.session_bytes:
            total = _mb(session_bytes + body, up=True)
            return Refusal(413, f"The files chosen in this session would come to {total}"
                                f" MB; at most {_mb(self.session_bytes)} MB may wait for upload at once."
                                " Upload or remove some first.")
        if process_bytes + body > self.process_bytes:
            return Refusal(503, "The portal is holding as many uploads as it can right now."
                                " Please try again in a minute.")
        return None


def _mb(size: int, *, up: bool = False) -> str:
    """Bytes as MB to a tenth; ``up`` rounds up, so a file just over the limit never reads as the limit."""
    tenths = math.ceil(size * 10 / MiB) if up else round(size * 10 / MiB)
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths / 10:.1f}"


def _clean(text: str, keep: str = "") -> str:
    """``text`` without control characters and invisible direction overrides, except ``keep``."""
    return "".join(c for c in text if c in keep or not (
        unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS))


def parse_tags(raw: str | Iterable[str]) -> tuple[str, ...]:
    """Tags from what a user typed (comma- or line-separated) or a list, normalised.

    Labels are trimmed, inner whitespace is collapsed, they are lower-cased
    (so ``Q3`` and ``q3`` are one tag) and repeats are dropped, first kept.

    Raises
    ------
    ValueError
        When there are too many tags, or one is too long or holds other
        characters than letters, digits, spaces and ``- _ . & + /``.
    """
    parts = re.split(r"[,\n]", raw) if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    for part in parts:
        tag = " ".join(_clean(unicodedata.normalize("NFC", str(part))).split()).lower()
        if not tag or tag in tags:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"the tag “{tag[:MAX_TAG_CHARS]}…” is longer than {MAX_TAG_CHARS} characters")
        if not _TAG_RE.match(tag):
            raise ValueError(f"the tag “{tag}” may only hold letters, digits, spaces and - _ . & + /")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags, please (there are {len(tags)})")
    return tuple(tags)


def clean_notes(raw: str) -> str:
    """Notes with control characters removed (new lines and tabs kept) and ends trimmed.

    Raises
    ------
    ValueError
        When the cleaned notes are longer than :data:`MAX_NOTES_CHARS`; they are
        not cut, so nothing the user wrote is silently lost.
    """
    text = _clean(unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")), keep="\n\t")
    text = text.strip()
    if len(text) > MAX_NOTES_CHARS:
        raise ValueError(f"notes are {len(text):,} characters; the limit is {MAX_NOTES_CHARS:,}")
    return text



#: S3's multipart rules: every part but the last at least 5 MiB, at most 10,000 parts.
MIN_PART_BYTES = 5 * MiB
MAX_PARTS = 10_000
#: The part size a multipart upload starts from: few requests, little held in memory per part.
PART_BYTES = 8 * MiB


def part_plan(size: int) -> tuple[int, int]:
    """The part size and the number of parts a direct upload of ``size`` bytes is sent in.

    :data:`PART_BYTES`, grown in whole MiB when the file would need more than
    :data:`MAX_PARTS` parts; every part but the last is full.
    """
    fewest = -(-size // MAX_PARTS)  # the smallest part that keeps the count within MAX_PARTS
    part = max(PART_BYTES, -(-fewest // MiB) * MiB)
    return part, max(1, -(-size // part))
