"""Cells of one XLSX sheet part, counted by a bare expat scan. Pure.

Sheets can hold millions of cells, so no object is made per cell (as openpyxl
would) and the handlers do as little as they can.
"""

from __future__ import annotations

import re
from typing import Any
from xml.parsers import expat

from extractor.formats import Limits, ParseError
from extractor.formats.xmlparts import UNSAFE_XML

_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def scan_sheet(data: bytes, limits: Limits, name: str, *, complete: bool = True) -> tuple[int, bool, str]:
    """Non-empty cells, whether any has a formula, and the used range of one sheet part.

    Sheets can hold millions of cells, so this is a bare expat scan (no object
    per cell, as openpyxl would build) whose handlers do as little as they
    can: tags and column letters are looked up, not parsed, once seen. Any
    DTD or entity declaration is refused before it could be expanded; the
    range is worked out from the cells, because the range a sheet declares can
    be wrong or hostile. ``data`` is the part's start when not ``complete``.
    """
    cells = depth = row = col = 0
    formulas = filled = False
    ref = ""
    low_row = low_col = 1 << 30
    high_row = high_col = 0
    local: dict[str, str] = {}  # tag -> its local name
    columns: dict[str, int] = {}  # column letters -> number
    match = _CELL_REF.fullmatch

    def refuse(*_: Any) -> Any:
        raise ParseError(UNSAFE_XML)

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, filled, formulas, ref, row, col
        depth += 1
        if depth > limits.max_depth:
            raise ParseError(f"spreadsheet XML is nested deeper than {limits.max_depth} levels")
        kind = local.get(tag) or local.setdefault(tag, tag.rpartition("}")[2])
        if kind == "c":
            filled, ref = False, attrs.get("r", "")
        elif kind == "v" or kind == "is":
            filled = True
        elif kind == "f":
            filled = formulas = True
        elif kind == "row":
            number = attrs.get("r", "")
            row = int(number) if number.isdigit() else row + 1
            col = 0

    def end(tag: str) -> None:
        nonlocal depth, cells, row, col, low_row, low_col, high_row, high_col
        depth -= 1
        if local.get(tag) != "c":
            return
        found = match(ref)
        if found:
            letters, digits = found.groups()
            row = int(digits)
            col = columns.get(letters) or columns.setdefault(letters, _column_number(letters))
        else:
            col += 1
        if not filled:
            return
        cells += 1
        low_row, high_row = min(low_row, row), max(high_row, row)
        low_col, high_col = min(low_col, col), max(high_col, col)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, complete)
    except expat.ExpatError as e:
        raise ParseError(f"damaged spreadsheet: {name} is not well-formed XML") from e
    dimension = ""
    if cells:
        dimension = f"{_column_letters(low_col)}{low_row}:{_column_letters(high_col)}{high_row}"
    return cells, formulas, dimension
