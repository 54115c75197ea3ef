"""CSV export against moto: filters, paging, roles, S3 links and the command line."""

import csv
import io
import urllib.parse

import pytest

from common import aws, schema
from common.schema import FileRecord, FileStatus
from portal import export
from portal.export import ExportRequest, Progress, csv_chunks, export_to_s3, iter_files
from portal.tokens import User

ANALYST = User(sub="analyst-1", email="an@example.com", groups=frozenset({"analysts"}), expires_at=0)
UPLOADER = User(sub="owner-a", email="a@example.com", groups=frozenset({"uploaders"}), expires_at=0)


def put_files(settings, specs):
    ddb = aws.client("dynamodb")
    for i, (owner, day, fmt, status) in enumerate(specs):
        ddb.put_item(TableName=settings.table, Item=schema.to_item(FileRecord(
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


def test_every_page_is_read(stack):
    put_files(stack, [("owner-a", "2026-11-02", "pdf", FileStatus.PROCESSED)] * 23)
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", page_size=5)
    assert len(list(iter_files(aws.client("dynamodb"), stack.table, request))) == 23
    by_owner = ExportRequest(start_day="2026-11-01", end_day="2026-11-30", owner="owner-a", page_size=5)
    assert len(list(iter_files(aws.client("dynamodb"), stack.table, by_owner))) == 23


def test_uploaders_may_not_export(stack):
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30")
    with pytest.raises(PermissionError, match="analysts and admins"):
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
    assert query["X-Amz-Expires"] == [str(export.LINK_SECONDS)]


def test_the_command_line_writes_the_same_export(stack, tmp_path, capsys):
    put_files(stack, SPECS)
    out = tmp_path / "export.csv"
    assert export.main(["--from", "2026-11-01", "--to", "2026-11-30", "--format", "pdf", "--columns", "name,pages",
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
        export.main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_deleted_files_are_never_exported(stack):
    put_files(stack, [("owner-a", "2026-11-01", "pdf", FileStatus.PROCESSED),
                      ("owner-a", "2026-11-02", "pdf", FileStatus.DELETED)])
    request = ExportRequest(start_day="2026-11-01", end_day="2026-11-30")
    assert names(iter_files(aws.client("dynamodb"), stack.table, request)) == ["=file0.pdf"]
