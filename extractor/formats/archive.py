"""Zip archives: what they hold, read from the central directory alone.

Nothing is decompressed: sizes are the ones the archive declares (a zip bomb
declares honestly or lies, and either way nothing here expands it), and the
member cap is enforced by :class:`~extractor.formats.safezip.SafeZip` before
any entry is looked at.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from common.catalogue import Flag
from extractor.formats import Limits, Parsed
from extractor.formats.safezip import SafeZip

#: Extensions listed in member_types, most frequent first.
_TOP_TYPES = 20
#: Member names ending like this are archives themselves.
_ARCHIVE_SUFFIXES = (".zip", ".7z", ".rar", ".gz", ".tar")
#: What counts as an extension; anything else (spaces, 30 characters) is a name with a dot.
_EXTENSION = re.compile(r"[a-z0-9_+\-]{1,16}")
_ENCRYPTED_BIT = 0x1


def parse_zip(path: Path, limits: Limits) -> Parsed:
    """Entry count, declared size, member types, encrypted and nested archives of a zip.

    Directory entries count as entries but have no type and are never nested
    archives.

    Parameters
    ----------
    path:
        The archive on local disk.
    limits:
        ``max_members`` refuses archives with more entries.

    Raises
    ------
    ParseError
        When the file is not a readable zip or has too many entries.
    """
    with SafeZip(path, limits, what="zip archive") as archive:
        infos = archive.infos
    files = [info for info in infos if not info.filename.endswith("/")]
    types = Counter(_extension(info.filename) for info in files)
    encrypted = sum(1 for info in infos if info.flag_bits & _ENCRYPTED_BIT)
    metadata: dict[str, Any] = {
        "entries": len(infos),
        "uncompressed_bytes": sum(info.file_size for info in infos),
        "member_types": dict(sorted(types.items(), key=lambda item: (-item[1], item[0]))[:_TOP_TYPES]),
        "encrypted_entries": encrypted,
        "nested_archives": sum(1 for info in files if info.filename.lower().endswith(_ARCHIVE_SUFFIXES)),
    }
    if not metadata["member_types"]:
        del metadata["member_types"]
    return Parsed(metadata=metadata, flags=frozenset({Flag.ENCRYPTED} if encrypted else ()))


def _extension(name: str) -> str:
    """The lower-case extension of a member's file name, or "(none)"."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem or not _EXTENSION.fullmatch(extension):
        return "(none)"
    return extension
