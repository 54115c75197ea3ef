"""CSV export against moto: filters, paging, roles, S3 links and the command line."""

import csv
import io
import threading
import urllib.parse
from collections.abc import Iterator

import pytest

from common import aws
from common.catalogue import FileStatus
from common.schema.keys import OWNER_INDEX, UPLOAD_INDEX
from common.schema.record import FileRecord, from_item, to_item
from portal.access import NotAllowed, User
from portal.export import __main__ as command
from portal.export import service
from portal.export.service import ExportRequest, Progress, csv_chunks, export_to_s3, iter_pages


def iter_files(ddb, table: str, request: ExportRequest) -> Iterator[FileRecord]:
    """The files an export selects, read whole: the oracle the projected export is checked against."""
    return (from_item(item) for page in iter_pages(ddb, table, request) for item in page)


ANALYST = User(sub="analyst-1", email="an@example.com", groups=frozenset({"analysts"}), expires_at=2**40)
UPLOADER = User(sub="owner-a", email="a@example.com", groups=frozenset({"uploaders"}), expires_at=2**40)


def put_files(settings, specs):
    ddb = aws.client("dynamodb")
    for i, (owner, day, fmt, status) in enumerate(specs):
        ddb.put_item(TableName=settings.table, Item=to_item(FileRecord(
            file_id=f"{i:032x}", owner=owner, name=f"=file{i}.{fmt}", bucket="b", key="k", status=status,
            uploaded_at=f"{day}T12:00:00.000Z", updated_at=f"{day}T12:00:01.000Z", size=100 + i, format=fmt,
            metadata={"title": f"Title {i}", "pages": i})))


SPECS = [("owner-a", "2026-11-01", "pdf", FileStatus.PROCESSED), ("owner-a", "2026-11-15", "docx", FileStatus.FAILED),
         ("owner-a", "2026-11-30", "pdf", FileStatus.PROCESSED), ("owner-b", "2026-11-15", "pdf", FileStatus.PROCESSED),
         ("owner-b", "2026-12-01", "png", FileStatus.PROCESSED), ("owner-b", "2026-10-31", "pdf", FileStatus.PROCESSED)]


def names(records):
    return sorted(r.name for r in records)


def test_the_period_is_inclusive_and_owner_queries_use_the_index(stack):
    put_files(stack, SPECS)
    ddb = aws.client("dynamodb")
    november = ExportRequest(start_day="2026-11-01", end_day="2026-11-30")
    assert names(iter_files(ddb, stack.table, november)) == ["=file0.pdf", "=file1.docx", "=file2.pdf", "=file3.pdf"]
    mine = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", owner="owner-a")
    assert names(iter_files(ddb, stack.table, mine)) == ["=file0.pdf", "=file1.docx", "=file2.pdf"]


def test_format_and_status_filters(stack):
    put_files(stack, SPECS)
    ddb = aws.client("dynamodb")
    pdfs = ExportRequest(start_day="2026-10-01", end_day="2026-12-31", formats=frozenset({"pdf"}), status="processed")
    assert names(iter_files(ddb, stack.table, pdfs)) == ["=file0.pdf", "=file2.pdf", "=file3.pdf", "=file5.pdf"]
    failed = ExportRequest(start_day="2026-10-01", end_day="2026-12-31", status="failed")
    assert names(iter_files(ddb, stack.table, failed)) == ["=file1.docx"]


def test_the_tag_filter_matches_any_or_all_and_tags_and_notes_are_columns(stack, tmp_path):
    ddb = aws.client("dynamodb")
    tagged = {"q3": ("q3",), "both": ("q3", "legal"), "legal": ("legal",), "none": ()}
    for i, (name, tags) in enumerate(tagged.items()):
        ddb.put_item(TableName=stack.table, Item=to_item(FileRecord(
            file_id=f"{0xfeed0 + i:032x}", owner="owner-a", name=name, bucket="b", key="k",
            status=FileStatus.PROCESSED, uploaded_at="2026-11-20T12:00:00.000Z", updated_at="2026-11-20T12:00:00.000Z",
            tags=tags, notes="=HYPERLINK(1)" if tags else "")))
    for owner in (None, "owner-a"):
        anyof = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", owner=owner, tags=frozenset({" Q3", "legal"}),
                              columns=("name", "tags", "notes"))
        assert names(iter_files(ddb, stack.table, anyof)) == ["both", "legal", "q3"]
        every = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", owner=owner, all_tags=True,
                              tags=frozenset({"q3", "legal"}), columns=("name", "tags", "notes"))
        rows = list(csv.reader(io.StringIO(b"".join(csv_chunks(ddb, stack.table, every, ANALYST)).decode())))
        assert rows == [["name", "tags", "notes"], ["both", "q3; legal", "'=HYPERLINK(1)"]]
    assert "tags" in service.projection(every)["ExpressionAttributeNames"].values()
    out = tmp_path / "tagged.csv"
    assert command.main(["--from", "2026-11-01", "--to", "2026-11-30", "--tag", "legal", "--tag", "Q3", "--all-tags",
                         "--columns", "name,tags", "--out", str(out)]) == 0
    assert out.read_bytes() == b"name,tags\r\nboth,q3; legal\r\n"
    with pytest.raises(ValueError, match="may only hold"):
        ExportRequest(start_day="2026-11-01", end_day="2026-11-30", tags=frozenset({"=cmd"}))


def test_every_page_is_read(stack):
    put_files(stack, [("owner-a", "2026-11-02", "pdf", FileStatus.PROCESSED)] * 23)
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", page_size=5)
    assert len(list(iter_files(aws.client("dynamodb"), stack.table, request))) == 23
    by_owner = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", owner="owner-a", page_size=5)
    assert len(list(iter_files(aws.client("dynamodb"), stack.table, by_owner))) == 23


def test_uploaders_may_not_export(stack):
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30")
    with pytest.raises(NotAllowed, match="analysts and admins"):
        csv_chunks(aws.client("dynamodb"), stack.table, request, user=UPLOADER)


def test_csv_rows_columns_and_neutralised_names(stack):
    put_files(stack, SPECS)
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", columns=("name", "status", "size", "title"),
                            bom=True)
    progress = Progress()
    data = b"".join(csv_chunks(aws.client("dynamodb"), stack.table, request, ANALYST, progress))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["name", "status", "size", "title"]
    assert sorted(rows[1:]) == [["'=file0.pdf", "processed", "100", "Title 0"], ["'=file1.docx", "failed", "101", "Title 1"],
                                ["'=file2.pdf", "processed", "102", "Title 2"], ["'=file3.pdf", "processed", "103", "Title 3"]]
    assert progress.rows == 4


def test_large_exports_go_to_s3_with_a_short_lived_link(stack):
    put_files(stack, SPECS)
    request = ExportRequest(start_day="2026-10-01", end_day="2026-12-31", columns=("name",))
    s3 = aws.client("s3")
    expected = b"".join(csv_chunks(aws.client("dynamodb"), stack.table, request, ANALYST))
    key, link = export_to_s3(s3, stack.bucket, ANALYST, csv_chunks(aws.client("dynamodb"), stack.table, request, ANALYST))
    assert key.startswith(f"exports/{ANALYST.sub}/") and key.endswith(".csv")
    assert s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read() == expected
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)
    assert query["X-Amz-Expires"] == [str(service.LINK_SECONDS)]


def test_an_export_to_s3_reads_its_rows_on_the_calling_thread(stack):
    """The page reports progress from the rows as they are read: Streamlit only takes that from its own thread."""
    readers = []

    def chunks():
        for i in range(40):  # over 8 MiB: a multipart upload of several parts
            readers.append(threading.get_ident())
            yield (f"{i:04d}," + "x" * 250_000 + "\n").encode()

    key, _ = export_to_s3(aws.client("s3"), stack.bucket, ANALYST, chunks())
    assert set(readers) == {threading.get_ident()}
    body = aws.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    assert body == b"".join((f"{i:04d}," + "x" * 250_000 + "\n").encode() for i in range(40))


def test_the_command_line_writes_the_same_export(stack, tmp_path, capsys):
    put_files(stack, SPECS)
    out = tmp_path / "export.csv"
    assert command.main(["--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf", "--columns", "name,pages",
                        "--out", str(out)]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["name", "pages"] and sorted(rows[1:]) == [["'=file0.pdf", "0"], ["'=file2.pdf", "2"], ["'=file3.pdf", "3"]]
    assert "3 file(s) exported" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-13-01"], "month must be"), (["--from", "2026-11-30", "--to", "2026-11-01"], "starts"),
    (["--columns", "name,bogus"], "unknown column"),
])
def test_the_command_line_explains_bad_input(stack, args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        command.main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_deleted_files_are_never_exported(stack):
    put_files(stack, [("owner-a", "2026-11-01", "pdf", FileStatus.PROCESSED),
                      ("owner-a", "2026-11-02", "pdf", FileStatus.DELETED)])
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30")
    assert names(iter_files(aws.client("dynamodb"), stack.table, request)) == ["=file0.pdf"]


class Recording:
    """A DynamoDB client that keeps the keyword arguments of every scan and query."""

    def __init__(self, client):
        self.client, self.calls = client, []

    def scan(self, **kwargs):
        self.calls.append(("scan", kwargs))
        return self.client.scan(**kwargs)

    def query(self, **kwargs):
        self.calls.append(("query", kwargs))
        return self.client.query(**kwargs)


def test_the_projection_names_the_columns_and_what_the_filters_read():
    plain = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", columns=("name", "title", "from", "size"))
    assert service.projection(plain) == {
        "ProjectionExpression": "#x0, #x1.#x2, #x1.#x3, #x4, #x5",
        "ExpressionAttributeNames": {"#x0": "name", "#x1": "metadata", "#x2": "title", "#x3": "from",
                                     "#x4": "size", "#x5": "status"}}
    by_format = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", columns=("status", "format"),
                              formats=frozenset({"pdf"}))
    assert service.projection(by_format) == {"ProjectionExpression": "#x0, #x1",
                                            "ExpressionAttributeNames": {"#x0": "status", "#x1": "format"}}
    assert service.projection(ExportRequest(start_day="2026-11-01", end_day="2026-11-30", columns=("name",),
                                           formats=frozenset({"pdf"})))["ProjectionExpression"] == "#x0, #x1, #x2"


@pytest.mark.parametrize("owner", [None, "owner-a"])
def test_exports_ask_for_their_attributes_only_and_filter_on_them(stack, owner):
    put_files(stack, SPECS)
    ddb = Recording(aws.client("dynamodb"))
    request = ExportRequest(start_day="2026-10-01", end_day="2026-12-31", owner=owner, columns=("name", "pages"),
                            formats=frozenset({"pdf"}), status="processed", page_size=2)
    seen = []
    progress = Progress(on_page=seen.append)
    data = b"".join(csv_chunks(ddb, stack.table, request, ANALYST, progress))
    rows = list(csv.reader(io.StringIO(data.decode())))
    expected = [["'=file0.pdf", "0"], ["'=file2.pdf", "2"]] + ([] if owner else [["'=file3.pdf", "3"], ["'=file5.pdf", "5"]])
    assert rows[0] == ["name", "pages"] and sorted(rows[1:]) == expected
    assert progress.rows == len(expected) and seen == []  # told every 500 rows only
    assert len(ddb.calls) > 1  # several pages, each with the projection
    keep = () if owner else (UPLOAD_INDEX.sort_key,)  # the shards' merge orders by it
    wanted = service.projection(request, keep=keep)
    assert {method for method, _ in ddb.calls} == {"query"}
    assert {call["IndexName"] for _, call in ddb.calls} == {OWNER_INDEX.name if owner else UPLOAD_INDEX.name}
    for _, call in ddb.calls:
        assert call["ProjectionExpression"] == wanted["ProjectionExpression"]
        assert wanted["ExpressionAttributeNames"].items() <= call["ExpressionAttributeNames"].items()
    items = [item for method, call in ddb.calls for item in getattr(aws.client("dynamodb"), method)(**call)["Items"]]
    assert items and {key for item in items for key in item} <= {"name", "metadata", "status", "format", *keep}
    assert {key for item in items for key in item.get("metadata", {}).get("M", {})} == {"pages"}


def test_an_export_of_every_column_is_the_shape_of_the_whole_items(stack):
    from portal.export.csv_shape import COMMON_COLUMNS, METADATA_COLUMNS, encode

    ddb = aws.client("dynamodb")
    for i, name in enumerate(["plain.pdf", "=cmd|' /C calc'!A0", "a, \"quoted\"\nname", "-1"]):
        ddb.put_item(TableName=stack.table, Item=to_item(FileRecord(
            file_id=f"{i:032x}", owner="owner-a", owner_email="a@example.com", name=name, bucket="b", key="k",
            status=FileStatus.PROCESSED, uploaded_at="2026-11-02T12:00:00.000Z", updated_at="2026-11-02T12:00:01.000Z",
            processed_at="2026-11-02T12:00:02.000Z", size=100 + i, sha256="ab" * 32, format="pdf", flags=("gps",),
            duration_ms=12, metadata={"title": "@t", "pages": i, "gps_latitude": -33.868, "encrypted": bool(i % 2),
                                      "header": ["=a", "b"], "sheets": [{"name": "A"}], "from": "x@example.com"})))
    columns = (*COMMON_COLUMNS, *METADATA_COLUMNS)
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", columns=columns, page_size=3)
    exported = b"".join(csv_chunks(ddb, stack.table, request, ANALYST))
    assert exported == b"".join(encode(iter_files(ddb, stack.table, request), columns))
    rows = list(csv.reader(io.StringIO(exported.decode())))
    assert len(rows) == 5 and sorted(r[1] for r in rows[1:]) == ["'-1", "'=cmd|' /C calc'!A0", "a, \"quoted\"\nname",
                                                                 "plain.pdf"]


def test_progress_hears_of_every_so_many_rows_page_by_page():
    seen = []
    progress = Progress(on_page=seen.append)
    pages = [[1, 2, 3], [], [4], [5, 6, 7, 8], [9]]
    assert list(service._counted(pages, progress, every=2)) == pages
    assert progress.rows == 9 and seen == [3, 4, 8]
