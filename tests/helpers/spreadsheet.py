"""How spreadsheets read an exported CSV, to check that none of them would run a cell.

Excel splits a CSV on the locale's list separator (``;`` in most of Europe,
``,`` elsewhere); others split on a tab or ``|``. Each honours a quote only at
the start of what it takes for a field, so a quoted cell in the middle of a
row is not one cell in a ``;`` locale. A field runs as a formula when it
starts, after any whitespace, with ``=``, ``+``, ``-`` or ``@``.
"""

from __future__ import annotations

import csv
import io
import re

#: Separators a spreadsheet may split a CSV line on.
SEPARATORS = (",", ";", "\t", "|")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_RAW_BREAKS = re.compile(r'[,;\t|"\r\n]')
#: A formula's first character, after any whitespace: a tab, a carriage return or a line break in
#: front (OWASP lists the first two as triggers) is skipped by spreadsheets that trim, so what
#: follows must not start a formula either. (Unquoted, a cell that starts with a tab or a carriage
#: return is itself neutralised: the attack tests check that cell by cell.)
_RUNS = re.compile(r"\s*[=+\-@]")


def runs(field: str) -> bool:
    """Whether a spreadsheet would take ``field`` for a formula: a trigger first, or after whitespace."""
    return _RUNS.match(field) is not None


def views(text: str) -> dict[str, list[list[str]]]:
    """The fields a spreadsheet splitting on each separator (honouring quotes) sees in ``text``."""
    return {sep: list(csv.reader(io.StringIO(text, newline=""), delimiter=sep)) for sep in SEPARATORS}


def live_fields(text: str) -> list[tuple[str, str]]:
    """Every (view, field) of ``text`` that some spreadsheet would run.

    The views: each separator with quotes honoured, and the bytes split on
    every separator, quote and line break, as a reader ignoring quotes would.
    """
    found = [(sep, field) for sep, rows in views(text).items() for row in rows for field in row if runs(field)]
    found += [("raw", part) for part in _RAW_BREAKS.split(text) if runs(part)]
    return found


def segments(cell: str) -> list[str]:
    """A parsed cell split on every separator and quote: what a spreadsheet may take for fields."""
    return re.split(r'[,;\t|"\r\n]', cell)
