from common.schema import FileRecord, FileStatus
from portal import views


def test_human_size():
    assert views.human_size(None) == "—"
    assert views.human_size(0) == "0 B"
    assert views.human_size(999) == "999 B"
    assert views.human_size(1500) == "1.5 KB"
    assert views.human_size(3_200_000) == "3.2 MB"
    assert views.human_size(10**16) == "10000.0 TB"


def _record(status: FileStatus, **kw) -> FileRecord:
    return FileRecord(file_id="f" * 32, owner="o", name="a.pdf", bucket="b", key="k", status=status,
                      uploaded_at="2026-11-22T10:05:09.123Z", updated_at="2026-11-22T10:05:09.123Z", **kw)


def test_rows_show_status_reason_and_size():
    rows = views.file_rows([_record(FileStatus.FAILED, reason="the file was deleted"),
                            _record(FileStatus.PROCESSED, size=2048, sha256="ab" * 32, format="pdf")])
    assert rows[0]["Status"] == "✗ failed"
    assert rows[0]["Note"] == "the file was deleted"
    assert rows[1] | {"Name": "a.pdf"} == {
        "Name": "a.pdf", "Size": "2.0 KB", "Status": "✓ processed", "Type": "pdf",
        "Uploaded": "2026-11-22 10:05 UTC", "SHA-256": "ab" * 32, "Note": ""}


def test_in_flight_counts_non_terminal_files():
    records = [_record(s) for s in FileStatus]
    assert views.in_flight(records) == 2
