"""Shape file records as CSV for spreadsheets. Pure: no AWS, no Streamlit.

Two concerns decide the shape. Columns must be known before the first row,
because exports stream page by page and never hold the whole table; so the
format fields come from a fixed catalogue (what the parsers report), chosen
by the user, not discovered from the data. And a spreadsheet must never run a
cell as a formula (OWASP's CSV injection), in any locale: Excel where the list
separator is ``;`` (most of Europe) splits a comma CSV on ``;``, and honours a
quote only at the start of what it takes for a field, so in the middle of a
row a quoted cell is no protection. A text is *unsafe* when it, or any
segment of it after a separator (``,`` ``;`` tab ``|``), a quote or a line
break, starts (after spaces) with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return; :func:`neutralise` puts a single quote in front of it and of
each such segment. Every exported cell ends up neutralised, in every column,
the header included, and every cell that holds such a guard is quoted, its
quotes doubled, as OWASP asks (a ``;``-locale Excel then keeps it one cell
where it sees the quote first). Numbers are written by us and are left
numeric.

The work is split for speed, since exports run it for every cell: shaping
(:class:`RowShaper`, which knows what is text) neutralises text whose first
character may start a formula; writing (:func:`encode_pages`) neutralises
any cell holding a separator before a live segment, which only text can
(numbers hold no separator), and looks for both in a whole page at once.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from common.catalogue import METADATA_FIELD_NAMES
from common.schema.record import FileRecord, plain_value

#: Columns every export can have, in this order.
COMMON_COLUMNS: tuple[str, ...] = (
    "file_id", "name", "owner_email", "status", "reason", "uploaded_at", "processed_at", "size",
    "sha256", "mime_type", "format", "extension", "flags", "tags", "notes", "duration_ms",
)

#: Format fields the parsers report (common.catalogue.METADATA_FIELDS), exported under these names.
METADATA_COLUMNS: tuple[str, ...] = METADATA_FIELD_NAMES

DEFAULT_COLUMNS: tuple[str, ...] = (
    "name", "owner_email", "status", "reason", "uploaded_at", "size", "sha256", "format", "flags",
    "title", "author", "pages",
)

#: Leading characters a spreadsheet may treat as the start of a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Characters after which a spreadsheet may start a new field: every locale's list separator, the
#: quote and line breaks.
SEGMENT_BREAKS = (",", ";", "\t", "|", '"', "\r", "\n")
UTF8_BOM = "\ufeff".encode()

_SPACES = r"[^\S\t\r\n]*"  # what a spreadsheet may skip; tab, CR and LF count as themselves
_TRIGGER = r"[=+\-@\t\r]"
_BREAK = r'[,;\t|"\r\n]'
#: A segment (from where the match starts) that would run.
_LIVE_START = re.compile(_SPACES + _TRIGGER)
#: A break whose next segment would run (the segment is looked at, not taken: breaks may follow breaks).
_LIVE_BREAK = re.compile(f"{_BREAK}(?={_SPACES}{_TRIGGER})")
#: A guard, if a break or the start of the cell comes before it (:func:`_holds_guard` looks).
_GUARD = re.compile(f"'(?={_SPACES}{_TRIGGER})")
_BREAKS = frozenset(SEGMENT_BREAKS)


def _live_after(breaks: str, triggers: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One search per break, for ``text`` holding it: a pattern starting with a fixed character is
    found several times faster than one starting with a choice of characters."""
    return tuple((b, re.compile(f"{re.escape(b)}(?={_SPACES}[{re.escape(triggers)}])")) for b in breaks)


#: A break before a live segment.
_LIVE_AFTER_BREAK = _live_after("".join(SEGMENT_BREAKS), "".join(FORMULA_TRIGGERS))
#: In a page joined by commas and line breaks that holds no other comma nor line break: a separator
#: inside a cell before a live segment (a carriage return there only ends a row).
_LIVE_AFTER_SEPARATOR = _live_after(";\t|", "=+-@\t")
#: First characters that may make a text unsafe: a trigger, or whitespace a trigger may follow.
_SUSPECT_HEADS = frozenset(FORMULA_TRIGGERS) | frozenset(  # U+3000 is the last whitespace character
    c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\t\r\n")
#: What makes ``csv.writer`` quote a cell (the delimiter, the quote, line breaks).
_QUOTED_BY_WRITER = re.compile(r'[,"\r\n]')


class UnknownColumn(ValueError):
    """A column that is neither a common field nor a catalogued format field."""


def validate_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """The chosen columns, checked and without repeats.

    Raises
    ------
    UnknownColumn
        Naming every unknown column, so the caller can say which.
    """
    known = set(COMMON_COLUMNS) | set(METADATA_COLUMNS)
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise UnknownColumn(f"unknown column(s): {', '.join(unknown)}")
    if not columns:
        raise UnknownColumn("choose at least one column")
    return tuple(dict.fromkeys(columns))


def unsafe(text: str) -> bool:
    """Whether a spreadsheet might run ``text``, or a segment of it, as a formula (see the module)."""
    return _LIVE_START.match(text) is not None or _LIVE_BREAK.search(text) is not None


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet (OWASP CSV injection), in any locale.

    An unsafe text gets a single quote in front, and so does every segment
    that would run: a quoted cell holds together only where the spreadsheet
    sees its opening quote first, so each segment must be inert by itself.
    Safe text is returned as it is, and neutralising twice changes nothing.
    """
    if not unsafe(text):
        return text
    return "'" + _LIVE_BREAK.sub(r"\g<0>'", text)


def guarded(text: str) -> bool:
    """Whether a cell holds a guard (a single quote before what would run), so must be written quoted.

    Every text :func:`neutralise` changed does; so does text that came with its own guard.
    """
    return text.startswith("'") and _holds_guard(text)


def _holds_guard(text: str) -> bool:
    """Whether ``text`` (a cell, or cells joined by commas and line breaks) holds a guard."""
    if "'" not in text:  # most pages: one scan
        return False
    return any(m.start() == 0 or text[m.start() - 1] in _BREAKS for m in _GUARD.finditer(text))


def _holds_live_segment(text: str, searches: tuple[tuple[str, re.Pattern[str]], ...]) -> bool:
    """Whether ``text`` holds a break before a live segment (``searches``: from :func:`_live_after`)."""
    return any(b in text and search.search(text) is not None for b, search in searches)


def cell(value: Any) -> str:
    """One value as CSV text: numbers as written, lists joined, structures as JSON.

    Text whose first character may start a formula is neutralised here; the
    rest of the guard is :func:`encode_pages`'s (see the module).
    """
    kind = type(value)
    if kind is str:  # most cells: checked first
        text: str = value
        return neutralise(text) if text[:1] in _SUSPECT_HEADS else text
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
        return neutralise("; ".join(str(v) for v in value))
    if isinstance(value, list | tuple | dict):
        return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
    return neutralise(str(value))


def item_paths(columns: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """The attribute paths of a file item that ``columns`` read, in column order.

    A common field is a top-level attribute, a format field one key of the
    ``metadata`` map; an export asks DynamoDB for these paths only, so the
    rest of each item is neither sent nor parsed.
    """
    common = set(COMMON_COLUMNS)
    return tuple((column,) if column in common else ("metadata", column) for column in columns)


def _canonical_int(text: str) -> bool:
    """Whether a DynamoDB number's text is written exactly as :func:`cell` would write its int."""
    return text.isdigit() and text.isascii() and (text[0] != "0" or text == "0")


class RowShaper:
    """The cells of chosen columns, from a record or straight from DynamoDB items.

    The plan (which column is a common field, which a format field) is made
    once per export, not per row. :meth:`from_items` shapes a whole page in
    one loop and decodes only the attributes the columns need: text and
    plain integers, most cells, are taken as they come (text whose first
    character may start a formula through :func:`neutralise`, as in
    :func:`cell`); anything else goes through :func:`cell`. Both paths give
    the same cells.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        common = set(COMMON_COLUMNS)
        self.columns = tuple(columns)
        self._plan = tuple((column, column in common) for column in self.columns)

    def from_record(self, record: FileRecord) -> list[str]:
        """One record as CSV cells, in column order."""
        out = []
        for column, is_common in self._plan:
            if is_common:
                value = getattr(record, column)
                out.append(cell(value.value if column == "status" else value))
            else:
                out.append(cell(record.metadata.get(column)))
        return out

    def from_item(self, item: Mapping[str, Any]) -> list[str]:
        """One low-level DynamoDB file item as CSV cells, in column order."""
        return self.from_items((item,))[0]

    def from_items(self, items: Iterable[Mapping[str, Any]]) -> list[list[str]]:
        """Low-level DynamoDB file items (a page) as rows of CSV cells, in column order."""
        plan, heads = self._plan, _SUSPECT_HEADS
        empty: dict[str, Any] = {}
        rows = []
        for item in items:
            metadata = item.get("metadata", empty).get("M", empty)
            out = []
            for column, is_common in plan:
                attribute = item.get(column) if is_common else metadata.get(column)
                if attribute is None:
                    out.append("")
                elif "S" in attribute:  # most cells: no decoding needed beyond the guard
                    text = attribute["S"]
                    out.append(neutralise(text) if text[:1] in heads else text)
                elif "N" in attribute and _canonical_int(number := attribute["N"]):
                    out.append(number)
                else:
                    out.append(cell(plain_value(attribute)))
            rows.append(out)
        return rows


def _joined(rows: list[list[str]], width: int) -> str | None:
    """The page's cells joined by commas and row ends, if ``csv.writer`` writes them so; else None.

    Joining is several times faster than ``csv.writer``, and gives the same
    text when no cell holds a comma, a quote or a line break (which the
    counts below detect for the whole page at once). A lone column is left
    to the writer, which quotes an empty cell there.
    """
    if width < 2:
        return None
    text = "\r\n".join([",".join(cells) for cells in rows]) + "\r\n"
    count = len(rows)
    if ('"' in text or text.count(",") != count * (width - 1) or text.count("\r") != count
            or text.count("\n") != count):
        return None
    return text


def _plain_page(rows: list[list[str]], width: int) -> str | None:
    """A page as CSV text when joining is all it needs, else None (it takes :func:`_quoting_page`).

    Joined, the page holds no cell that needs quoting, and now needs neither
    a separator before a live segment neutralised nor a guard quoted.
    """
    text = _joined(rows, width)
    if text is None or _holds_live_segment(text, _LIVE_AFTER_SEPARATOR) or _holds_guard(text):
        return None
    return text


def _quoting_page(rows: list[list[str]], width: int, writer: Any, buffer: io.StringIO) -> str:
    """A page as CSV text, separators before live segments neutralised and guarded cells quoted."""
    text = _joined(rows, width)
    if text is None:  # some cell needs the writer's quoting
        return _written(_segments_guarded(rows), writer, buffer)
    if _holds_live_segment(text, _LIVE_AFTER_SEPARATOR):
        rows = _live_cells_neutralised(rows)
        text = "\r\n".join([",".join(cells) for cells in rows]) + "\r\n"
    # Only guards need quoting: the page stays joined, the few rows holding one with it quoted.
    lines = text.split("\r\n")[:-1]  # a row end only ends a row here
    return "\r\n".join([",".join([_quoted(c) if guarded(c) else c for c in cells]) if "'" in line else line
                         for cells, line in zip(rows, lines, strict=True)]) + "\r\n"


def _segments_guarded(rows: list[list[str]]) -> list[list[str]]:
    """``rows``, every cell holding a separator before a live segment neutralised (see the module)."""
    if not _holds_live_segment("\x00".join(["\x00".join(cells) for cells in rows]), _LIVE_AFTER_BREAK):
        return rows  # most pages
    return _live_cells_neutralised(rows)


def _live_cells_neutralised(rows: list[list[str]]) -> list[list[str]]:
    """``rows``, each cell holding a break before a live segment neutralised: looked for row by row."""
    live = _LIVE_BREAK.search
    return [[neutralise(c) if live(c) else c for c in cells] if live("\x00".join(cells)) else cells
            for cells in rows]


def _quoted(text: str) -> str:
    """A cell in quotes, its quotes doubled (OWASP: a guarded cell is always quoted)."""
    return '"' + text.replace('"', '""') + '"'


def _row_with_guards(cells: Sequence[str]) -> str:
    """One row as CSV text: guarded cells quoted, the others as ``csv.writer`` writes them."""
    return ",".join(_quoted(c) if guarded(c) or _QUOTED_BY_WRITER.search(c) else c for c in cells) + "\r\n"


def _written(rows: list[list[str]], writer: Any, buffer: io.StringIO) -> str:
    """Rows as CSV text through ``csv.writer``, except that a row holding a guard has it quoted."""
    buffer.seek(0)
    buffer.truncate()
    lines = [",".join(cells) for cells in rows]
    if not _holds_guard("\r\n".join(lines)):
        writer.writerows(rows)  # most pages
        return buffer.getvalue()
    plain = 0  # rows from here on, up to a row with a guard, go to the writer at once
    for i, (cells, line) in enumerate(zip(rows, lines, strict=True)):
        if "'" in line and any(guarded(c) for c in cells):
            writer.writerows(rows[plain:i])
            buffer.write(_row_with_guards(cells))
            plain = i + 1
    writer.writerows(rows[plain:])
    return buffer.getvalue()


def encode_pages(pages: Iterable[list[list[str]]], columns: Sequence[str], *,
                 bom: bool = False) -> Iterator[bytes]:
    """Pages of rows of text cells as UTF-8 CSV byte chunks, header first, one chunk a page.

    Cells come shaped (:class:`RowShaper`); any cell holding a separator
    before a live segment is neutralised here, and so is the header. The
    same bytes as ``csv.writer`` writes, except that a guarded cell is always
    quoted (pages that need quoting go through the writer); memory stays one
    page and its chunk.
    """
    if bom:
        yield UTF8_BOM
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    head, width = _written([[neutralise(c) for c in columns]], writer, buffer), len(columns)
    for rows in pages:
        if not rows:
            continue
        text = _plain_page(rows, width)
        if text is None:
            text = _quoting_page(rows, width, writer, buffer)
        yield (head + text).encode()
        head = ""
    if head:  # no page had a row
        yield head.encode()


def encode(records: Iterable[FileRecord], columns: Sequence[str], *, bom: bool = False,
           rows_per_chunk: int = 500) -> Iterator[bytes]:
    """Records as UTF-8 CSV byte chunks of ``rows_per_chunk`` rows (see :func:`encode_pages`)."""
    shaper = RowShaper(columns)
    rows = (shaper.from_record(r) for r in records)
    return encode_pages(iter(lambda: list(itertools.islice(rows, rows_per_chunk)), []), columns, bom=bom)
