"""CSV shaping: columns, flattening and OWASP formula neutralisation."""

import csv
import io

import pytest

from common.catalogue import FileStatus
from common.schema.record import FileRecord
from portal.export import csv_shape
from portal.export.csv_shape import UnknownColumn, encode, neutralise, validate_columns


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
    hostile = record(name=payload, reason=payload, owner_email=payload, flags=(payload,), tags=(payload, "q3"),
                     notes=payload, metadata={"title": payload, "author": payload, "header": [payload, "x"]})
    columns = ["name", "reason", "owner_email", "flags", "tags", "notes", "title", "author", "header"]
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


def test_tags_are_joined_and_a_note_keeps_its_lines_in_one_quoted_cell():
    noted = record(tags=("q3", "r&d", "hr/payroll"), notes="line one, and\nline two; -not a formula")
    (_, cells) = parse(encode([noted], ["tags", "notes"]))
    assert cells == ["q3; r&d; hr/payroll", "'line one, and\nline two;' -not a formula"]
    assert parse(encode([record()], ["tags", "notes"]))[1] == ["", ""]


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
    from common.schema.record import to_item
    from portal.export.csv_shape import COMMON_COLUMNS, METADATA_COLUMNS, RowShaper

    records = [record(), record(metadata={}), record(name="+cmd|' /C calc'!A0", flags=(), size=None),
               record(tags=("q3", "board pack"), notes="=1+1\nsecond line"),
               record(metadata={"title": "=1+1", "pages": 3, "header": ["a", "=b"], "sheets": [{"n": 1}],
                                "gps_latitude": 1.5, "encrypted": True})]
    shaper = RowShaper([*COMMON_COLUMNS, *METADATA_COLUMNS])
    for r in records:
        assert shaper.from_item(to_item(r)) == shaper.from_record(r)


def _one_cell(cell: str, quoting: int) -> str:
    """A cell as ``csv.writer`` writes it inside a row (a lone empty cell aside)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n", quoting=quoting).writerow([cell, "x"])
    return buffer.getvalue().removesuffix("\r\n").rsplit(",", 1)[0]


def write_with_csv_module(pages, columns) -> bytes:
    """The csv module's bytes, segments guarded, and a row holding a guarded cell has that cell quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    rows = [[neutralise(c) for c in columns]] + [row for rows in pages for row in rows]
    # The writer neutralises what shaping leaves: a separator before a live segment.
    for row in [[neutralise(c) if csv_shape._LIVE_BREAK.search(c) else c for c in row] for row in rows]:
        if any(csv_shape.guarded(c) for c in row):
            buffer.write(",".join(_one_cell(c, csv.QUOTE_ALL if csv_shape.guarded(c) else csv.QUOTE_MINIMAL)
                                  for c in row) + "\r\n")
        else:
            writer.writerow(row)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("width", [1, 2, 5])
def test_pages_are_written_exactly_as_the_csv_module_writes_them(width):
    import random

    rng = random.Random(width)
    pieces = ["a", "é", " ", ",", '"', "\r", "\n", "\r\n", "'", "=", "\x00", "", ";", "|", "\t", "-"]
    columns = [f"c{i}" for i in range(width)]
    for _ in range(400):
        pages = [[["".join(rng.choices(pieces, k=rng.randrange(4))) for _ in range(width)]
                  for _ in range(rng.randrange(4))] for _ in range(rng.randrange(1, 4))]
        assert b"".join(csv_shape.encode_pages(pages, columns)) == write_with_csv_module(pages, columns), pages


def test_safe_pages_are_byte_identical_to_the_csv_module():
    """Pages without a guarded cell: exactly csv.writer's bytes, by the joined path or the writer's."""
    pages = [[["report.pdf", "Ann O'Brien"], ["a, b", 'say "hi"']], [["x;y", "x - draft"], ["1", "-2"]]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([["name", "author"], *pages[0], *pages[1]])
    assert b"".join(csv_shape.encode_pages(pages, ["name", "author"])) == buffer.getvalue().encode()


def test_plain_pages_take_the_joined_path_and_others_the_writer():
    assert csv_shape._plain_page([["a", "b"], ["", "c d"]], 2) == "a,b\r\n,c d\r\n"
    for hostile in (["a,b", "c"], ['a"', "c"], ["a\r", "c"], ["a\nb", "c"]):
        assert csv_shape._plain_page([["x", "y"], hostile], 2) is None
    assert csv_shape._plain_page([[""]], 1) is None  # the writer quotes a lone empty cell


def test_pages_chunks_header_bom_and_empty_pages():
    columns = ["name", "=size"]
    chunks = list(csv_shape.encode_pages([[], [["a", "1"]], [], [["b", "2"], ["c", "3"]]], columns, bom=True))
    assert chunks == [csv_shape.UTF8_BOM, b"name,\"'=size\"\r\na,1\r\n", b"b,2\r\nc,3\r\n"]
    assert list(csv_shape.encode_pages([[], []], ["name"])) == [b"name\r\n"]


@pytest.mark.parametrize("number", ["0", "12", "007", "-5", "1.0", "1.50", "1E+2", "-33.868", "1e-3", "٣"])
def test_numbers_from_items_are_the_cells_of_their_values(number):
    from common.schema.record import plain_value
    from portal.export.csv_shape import RowShaper, cell

    item = {"size": {"N": number}, "metadata": {"M": {"pages": {"N": number}}}}
    expected = cell(plain_value({"N": number}))  # taken as written only when that is the same text
    assert RowShaper(["size", "pages"]).from_items([item]) == [[expected, expected]]


def test_a_page_of_items_gives_the_cells_of_each_item():
    from common.schema.record import to_item
    from portal.export.csv_shape import RowShaper

    records = [record(), record(name="-1", metadata={}), record(metadata={"title": "@x", "header": ["=a", "b"]})]
    shaper = RowShaper(["name", "size", "title", "header", "flags", "pages"])
    assert shaper.from_items([to_item(r) for r in records]) == [shaper.from_record(r) for r in records]
    assert shaper.from_items([]) == []


def test_item_paths_are_top_level_for_common_fields_and_in_metadata_for_format_fields():
    assert csv_shape.item_paths(["name", "title", "from", "size"]) == (
        ("name",), ("metadata", "title"), ("metadata", "from"), ("size",))


@pytest.mark.parametrize(("text", "shaped"), [
    ("Q3 plan;=1+1;", "'Q3 plan;'=1+1;"),
    ("Eve; @SUM(1+1)", "'Eve;' @SUM(1+1)"),
    ("  =1+1", "'  =1+1"),
    ("a;\t=1", "'a;'\t'=1"),  # a tab is a separator and a trigger: both segments are guarded
    ('say "=1"', "'say \"'=1\""),
    ("line\n-1+1", "'line\n'-1+1"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
])
def test_unsafe_text_is_prefixed_and_so_is_each_live_segment(text, shaped):
    assert csv_shape.unsafe(text)
    assert neutralise(text) == shaped
    assert neutralise(shaped) == shaped  # twice changes nothing
    assert csv_shape.guarded(shaped)


@pytest.mark.parametrize("text", ["a; b", "Ann O'Brien", "2026-11-22T10:05:09.123Z", "x - y", "a,b", "'quoted'",
                                  "1+1", "user@example.com", "", "a;", "\u00a0x"])
def test_safe_text_is_left_as_it_is(text):
    assert not csv_shape.unsafe(text)
    assert neutralise(text) == text
    assert not csv_shape.guarded(text)


def test_numbers_stay_numeric_beside_unsafe_text():
    """A page holding unsafe text is neutralised cell by cell: numbers still go out as numbers."""
    from common.schema.record import to_item
    from portal.export.csv_shape import RowShaper

    records = [record(metadata={"title": "Q3;=1+1", "gps_latitude": -33.868, "pages": 4}),
               record(name="-1", size=7, metadata={"gps_latitude": -1.5})]
    shaper = RowShaper(["name", "size", "title", "gps_latitude", "pages"])
    for rows in (shaper.from_items([to_item(r) for r in records]), [shaper.from_record(r) for r in records]):
        text = b"".join(csv_shape.encode_pages([rows], shaper.columns)).decode()
        assert text.splitlines()[1:] == ['report.pdf,2048,"\'Q3;\'=1+1",-33.868,4', '"\'-1",7,,-1.5,']


def test_neutralise_changes_only_unsafe_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("a ;,\t|\"'\r\n=+-@")), max_size=10))
    def check(text):
        shaped = neutralise(text)
        assert (shaped != text) == csv_shape.unsafe(text)
        assert neutralise(shaped) == shaped and not csv_shape.unsafe(shaped)
        assert csv_shape.guarded(shaped) == csv_shape.unsafe(text) or text.startswith("'")
        assert shaped.replace("'", "") == text.replace("'", "")  # only guards are added

    check()
