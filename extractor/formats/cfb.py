"""OLE compound files (CFB) that wrap a password-protected Office Open XML package.

Office saves a document with a password to open as a CFB container holding an
``EncryptedPackage`` stream instead of the usual zip, so detection and the
Office parsers both need to recognise it: it is a protected document, not a
legacy one and not a damaged one.
"""

from __future__ import annotations

from pathlib import Path

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_CHUNK = 1024 * 1024


def is_encrypted_package(path: Path) -> bool:
    """True when ``path`` is a CFB file naming an ``EncryptedPackage`` stream (read in 1 MiB chunks)."""
    overlap = len(_ENCRYPTED_PACKAGE)
    try:
        with path.open("rb") as fh:
            if fh.read(len(CFB_MAGIC)) != CFB_MAGIC:
                return False
            tail = b""
            while chunk := fh.read(_CHUNK):
                if _ENCRYPTED_PACKAGE in tail + chunk:
                    return True
                tail = chunk[-overlap:]
    except OSError:
        return False
    return False
