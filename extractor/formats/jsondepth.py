"""The nesting depth of JSON text, checked before :mod:`json`, which recurses, sees it. Pure.

A file of 200,000 ``[`` would exhaust the stack, so the depth is measured
first, without recursion, and without a Python step per character either:
a 5 MB file of tiny arrays or escapes is millions of characters that count.
"""

from __future__ import annotations

import array
import itertools
import re
from dataclasses import dataclass
from typing import IO, Any

from extractor.formats import ParseError

#: A backslash and the character it escapes.
_ESCAPE = re.compile(r"\\.", re.DOTALL)
#: Brackets and braces as steps of depth, +1 and -1 as signed bytes; every other byte deleted.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[{]}"))


@dataclass(frozen=True)
class Scan:
    """What the depth check saw of a JSON text."""

    #: Its first non-space character, None for blank text.
    first: str | None
    #: Brackets and braces outside strings: twice the arrays and objects :mod:`json` would build.
    brackets: int


def check(f: IO[str], max_depth: int, metadata: dict[str, Any], chunk_size: int) -> Scan:
    """The first character and the brackets of JSON text, after checking its nesting depth.

    The text is read ``chunk_size`` characters at a time, each in a few passes
    of regular expressions, ``str`` and ``bytes`` methods and ``itertools``
    (loops in C): escapes go first, so every quote left opens or closes a
    string; what lies between strings keeps its brackets and braces, which
    are summed up.
    Brackets inside strings do not nest; a string may run across chunks, and
    so may a backslash's escape. (A backslash outside a string is no JSON;
    it may hide the bracket after it, and :mod:`json` stops there.)

    Raises
    ------
    ParseError
        When brackets and braces nest deeper than ``max_depth``.
    """
    depth = brackets = 0
    in_string = escaped = False  # escaped: the chunk starts with a character a backslash escapes
    first: str | None = None
    while chunk := f.read(chunk_size):
        if first is None and (stripped := chunk.lstrip()):
            first = stripped[0]
        plain = _ESCAPE.sub("", chunk[1:] if escaped else chunk)
        escaped = plain.endswith("\\")  # a lone backslash left can only be the last character
        pieces = plain.split('"')
        outside = "".join(pieces[1 if in_string else 0::2])
        in_string ^= len(pieces) % 2 == 0
        steps = array.array("b", outside.encode("utf-8", "surrogatepass").translate(_STEPS, _NOT_BRACKETS))
        if max(itertools.accumulate(steps, initial=depth)) > max_depth:
            raise ParseError(f"JSON nested deeper than {max_depth} levels", metadata=metadata)
        depth = max(depth + sum(steps), 0)
        brackets += len(steps)
    return Scan(first, brackets)
