"""CSV shaping: columns, flattening and OWASP formula neutralisation."""

import csv
import io

import pytest

from common.schema import FileRecord, FileStatus
from portal import csv_shape
from portal.csv_shape import UnknownColumn, encode, neutralise, validate_columns


def record(**kw) -> FileRecord:
    values = dict(file_id="f" * 32, owner="o", name="report.pdf", bucket="b", key="k", status=FileStatus.PROCESSED,
                  uploaded_at="2026-11-22T10:05:09.123Z", updated_at="2026-11-22T10:05:10.000Z", size=2048,
                  sha256="ab" * 32, format="pdf", flags=("gps", "scanned"),
                  metadata={"title": "Q3", "pages": 4, "gps_latitude": -33.868, "encrypted": False,
                            "header": ["date", "amount"], "sheets": [{"name": "A", "dimension": "A1:B2"}]})
    values.update(kw)
    return FileRecord(**values)


def parse(chunks) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd",
                                     "=cmd|' /C calc'!A0"])
def test_formula_triggers_are_neutralised_in_every_text_column(payload):
    hostile = record(name=payload, reason=payload, owner_email=payload, flags=(payload,),
                     metadata={"title": payload, "author": payload, "header": [payload, "x"]})
    columns = ["name", "reason", "owner_email", "flags", "title", "author", "header"]
    (_, cells) = parse(encode([hostile], columns))
    assert all(c.startswith("'") for c in cells), cells
    assert cells[0] == "'" + payload


def test_safe_text_and_numbers_are_left_alone():
    assert neutralise("Quarterly report") == "Quarterly report"
    (_, cells) = parse(encode([record()], ["size", "pages", "gps_latitude", "encrypted", "uploaded_at"]))
    assert cells == ["2048", "4", "-33.868", "false", "2026-11-22T10:05:09.123Z"]


def test_lists_are_joined_and_structures_are_json():
    (_, cells) = parse(encode([record()], ["flags", "header", "sheets"]))
    assert cells == ["gps; scanned", "date; amount", '[{"dimension": "A1:B2", "name": "A"}]']


def test_absent_fields_are_empty_cells():
    (_, cells) = parse(encode([record(metadata={})], ["title", "reason", "pages"]))
    assert cells == ["", "", ""]


def test_header_row_bom_and_crlf():
    data = b"".join(encode([record()], ["name", "status"], bom=True))
    assert data.startswith(csv_shape.UTF8_BOM)
    assert data == csv_shape.UTF8_BOM + b"name,status\r\nreport.pdf,processed\r\n"
    assert not b"".join(encode([record()], ["name"])).startswith(csv_shape.UTF8_BOM)


def test_streams_in_chunks_without_holding_all_rows():
    chunks = list(encode((record(file_id=f"{i:032x}") for i in range(1001)), ["file_id"], rows_per_chunk=100))
    assert len(chunks) == 11  # ten full chunks of 100 rows and the rest with the header
    assert len(parse(chunks)) == 1002


def test_columns_are_validated():
    assert validate_columns(["name", "pages", "name"]) == ("name", "pages")
    with pytest.raises(UnknownColumn, match="bogus, other"):
        validate_columns(["name", "bogus", "other"])
    with pytest.raises(UnknownColumn, match="at least one"):
        validate_columns([])
    assert set(csv_shape.DEFAULT_COLUMNS) <= set(csv_shape.COMMON_COLUMNS) | set(csv_shape.METADATA_COLUMNS)


def test_the_catalogue_covers_every_field_the_parsers_report(tmp_path):
    from bench.corpus import generate
    from extractor.extract import Config, extract_file

    reported = set()
    for path in generate(tmp_path, 2 * 17, max_scale=1):
        reported |= set(extract_file(path, path.name, Config()).metadata)
    assert reported - set(csv_shape.METADATA_COLUMNS) == set()


def test_cells_from_items_are_the_cells_from_records():
    from common import schema
    from portal.csv_shape import COMMON_COLUMNS, METADATA_COLUMNS, RowShaper

    records = [record(), record(metadata={}), record(name="+cmd|' /C calc'!A0", flags=(), size=None),
               record(metadata={"title": "=1+1", "pages": 3, "header": ["a", "=b"], "sheets": [{"n": 1}],
                                "gps_latitude": 1.5, "encrypted": True})]
    shaper = RowShaper([*COMMON_COLUMNS, *METADATA_COLUMNS])
    for r in records:
        assert shaper.from_item(schema.to_item(r)) == shaper.from_record(r)
