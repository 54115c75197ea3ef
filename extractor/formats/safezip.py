"""Read zip-based files (Office, OpenDocument, plain zip) without trusting them.

Declared sizes lie in zip bombs, so the cap on decompressed bytes is enforced
while streaming, across all members read through one :class:`SafeZip`. The
member cap is checked before ``zipfile`` lists the archive (a million empty
entries cost it about 480 MB): against the count the end record declares,
then against a count of the central directory's entries, which may differ.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from types import TracebackType

from common.catalogue import Flag
from extractor.formats import Limits, ParseError, zipdir

_CHUNK = 64 * 1024


class SafeZip:
    """A zip archive whose reads count against ``limits.max_unpacked_bytes``."""

    def __init__(self, path: Path, limits: Limits, what: str = "archive") -> None:
        self.limits = limits
        self.what = what
        self.unpacked = 0
        cap = limits.max_members
        try:
            entries = zipdir.directory(path).entries
            if entries > cap:
                raise ParseError(f"{what} has {entries} entries, more than the {cap} allowed")
            if zipdir.members(path, frozenset(), cap) is None:
                raise ParseError(f"{what} has more than the {cap} entries allowed")
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as e:  # zipdir.NotAZip is a ValueError
            raise ParseError(f"damaged {what}: it is not a readable zip container") from e
        self.infos = self.zip.infolist()
        if len(self.infos) > limits.max_members:
            raise ParseError(f"{what} has {len(self.infos)} entries, more than the "
                             f"{limits.max_members} allowed")

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.zip.close()

    def names(self) -> list[str]:
        """Member names, in archive order."""
        return [i.filename for i in self.infos]

    def has(self, name: str) -> bool:
        """True when a member called ``name`` exists."""
        return name in self.zip.NameToInfo

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """A member's bytes, stopping at the archive-wide decompression cap.

        Raises
        ------
        ParseError
            When the member is missing, damaged, encrypted, or expands past the cap.
        """
        cap = self.limits.max_unpacked_bytes
        out = bytearray()
        try:
            with self.zip.open(name) as member:
                while chunk := member.read(_CHUNK):
                    self.unpacked += len(chunk)
                    if self.unpacked > cap:
                        raise ParseError(f"{self.what} expands beyond the {cap // (1024 * 1024)} MiB "
                                         "limit (possible zip bomb)")
                    out += chunk
                    if max_bytes is not None and len(out) >= max_bytes:
                        return bytes(out[:max_bytes])
        except KeyError as e:
            raise ParseError(f"damaged {self.what}: {name} is missing") from e
        except RuntimeError as e:  # zipfile raises this for encrypted members
            raise ParseError(f"encrypted {self.what}: its contents cannot be read",
                             flags={Flag.ENCRYPTED}) from e
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise ParseError(f"damaged {self.what}: {name} cannot be decompressed") from e
        return bytes(out)
