"""Shape file records as CSV for spreadsheets. Pure: no AWS, no Streamlit.

Two concerns decide the shape. Columns must be known before the first row,
because exports stream page by page and never hold the whole table; so the
format fields come from a fixed catalogue (what the parsers report), chosen
by the user, not discovered from the data. And a spreadsheet must never run a
cell as a formula: following OWASP's CSV-injection guidance, any text cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
prefixed with a single quote, in every column, file names and document titles
included. Numbers are written by us and are left numeric.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from common.catalogue import METADATA_FIELD_NAMES
from common.schema.record import FileRecord, plain_value

#: Columns every export can have, in this order.
COMMON_COLUMNS: tuple[str, ...] = (
    "file_id", "name", "owner_email", "status", "reason", "uploaded_at", "processed_at", "size",
    "sha256", "mime_type", "format", "extension", "flags", "duration_ms",
)

#: Format fields the parsers report (common.catalogue.METADATA_FIELDS), exported under these names.
METADATA_COLUMNS: tuple[str, ...] = METADATA_FIELD_NAMES

DEFAULT_COLUMNS: tuple[str, ...] = (
    "name", "owner_email", "status", "reason", "uploaded_at", "size", "sha256", "format", "flags",
    "title", "author", "pages",
)

#: Leading characters a spreadsheet may treat as the start of a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff".encode()


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


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell(value: Any) -> str:
    """One value as CSV text: numbers as written, lists joined, structures as JSON."""
    kind = type(value)
    if kind is str:  # most cells: checked first, exports run this for every cell of every row
        text: str = value
        return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
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
    plain integers, most cells, are taken as they come (text still through
    the formula guard); anything else goes through :func:`cell`. Both paths
    give the same cells.
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
        plan, triggers = self._plan, FORMULA_TRIGGERS
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
                    out.append("'" + text if text.startswith(triggers) else text)
                elif "N" in attribute and _canonical_int(number := attribute["N"]):
                    out.append(number)
                else:
                    out.append(cell(plain_value(attribute)))
            rows.append(out)
        return rows


def _plain_page(rows: list[list[str]], width: int) -> str | None:
    """A page as CSV text when no cell needs quoting, else None.

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


def encode_pages(pages: Iterable[list[list[str]]], columns: Sequence[str], *,
                 bom: bool = False) -> Iterator[bytes]:
    """Pages of rows of text cells as UTF-8 CSV byte chunks, header first, one chunk a page.

    The same bytes as ``csv.writer`` writes (pages that need quoting go
    through it); memory stays one page and its chunk.
    """
    if bom:
        yield UTF8_BOM
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in columns])
    head, width = buffer.getvalue(), len(columns)  # the header goes out with the first rows
    for rows in pages:
        if not rows:
            continue
        text = _plain_page(rows, width)
        if text is None:
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(rows)
            text = buffer.getvalue()
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
