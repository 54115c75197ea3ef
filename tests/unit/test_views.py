"""How files are shown (pure): table rows, badges, the grouped detail, previews, GPS points, download names."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from common.catalogue import (
    FIELD_GROUPS,
    METADATA_FIELD_NAMES,
    METADATA_FIELDS,
    PREVIEW_MAX_BYTES,
    FileStatus,
)
from portal.files import views
from tests.helpers.records import sample_record

BERLIN = ZoneInfo("Europe/Berlin")


def test_rows_carry_status_and_flag_badges_and_local_times():
    rows = views.file_rows([sample_record(flags=("gps", "macros", "type_mismatch"), reason="")], BERLIN)
    (row,) = rows
    assert row["Status"] == "✓ processed"
    assert row["Flags"] == "⚠ macros  ⚠ type mismatch  • gps"  # risks first
    assert (row["Size"], row["Uploaded"], row["Type"]) == ("1.5 KB", "2026-11-22 11:00 CET", "pdf")
    assert "Uploader" not in row
    (with_owner,) = views.file_rows([sample_record(owner_email="")], dt.UTC, uploaders={"ann": "ann@example.com"})
    assert with_owner["Uploader"] == "ann@example.com"
    assert list(with_owner) == ["Name", "Status", "Flags", "Tags", "Type", "Size", "Uploaded", "Uploader",
                              "SHA-256", "Note"]


def test_tags_show_in_the_list_and_tags_and_note_in_the_detail():
    tagged = sample_record(tags=("q3", "board pack"), notes="for the\nboard")
    (row,) = views.file_rows([tagged], dt.UTC)
    assert row["Tags"] == "q3, board pack"
    assert views.file_rows([sample_record()], dt.UTC)[0]["Tags"] == "—"
    file_group = dict(views.detail_groups(tagged, dt.UTC)[0].rows)
    assert (file_group["Tags"], file_group["Note"]) == ("q3, board pack", "for the board")  # one line in the table
    untagged = dict(views.detail_groups(sample_record(), dt.UTC)[0].rows)
    assert (untagged["Tags"], untagged["Note"]) == ("none", "—")


def test_every_status_has_a_badge():
    assert {views.status_badge(s).color for s in FileStatus} <= {"gray", "blue", "green", "red", "violet"}
    assert views.flag_badges(["encrypted"]) == (views.Badge("⚠ encrypted", "orange"),)


def test_every_catalogued_field_is_shown_in_a_group_of_the_detail():
    assert {f.group for f in METADATA_FIELDS} <= set(FIELD_GROUPS)
    assert len(METADATA_FIELD_NAMES) == len(set(METADATA_FIELD_NAMES))


def test_the_detail_is_grouped_and_readable():
    r = sample_record(sha256="ab" * 32, flags=("encrypted",), duration_ms=1234, processed_at="2026-11-22T10:00:02.000Z",
               metadata={"title": "Plan", "pages": 12, "created": "2026-01-02T03:04:05Z", "encrypted": True,
                         "gps_latitude": 48.5, "gps_longitude": 2.25, "uncompressed_bytes": 2_500_000,
                         "duration_seconds": 83.5, "sample_rate": 44100, "member_types": ["pdf", "png"],
                         "sheets": [{"name": "A", "range": "A1:B2"}], "custom_field": "kept"})
    groups = {g.title: dict(g.rows) for g in views.detail_groups(r, BERLIN, uploader="ann@example.com")}
    assert list(groups) == ["File", "Processing", "Document", "Dates", "Location", "Audio and video",
                            "Archive and e-mail", "Other"]
    assert groups["File"]["Size"] == "1.5 KB" and groups["File"]["Uploader"] == "ann@example.com"
    assert groups["File"]["Flags"] == "⚠ encrypted"
    assert groups["Processing"] == {"Uploaded": "2026-11-22 11:00 CET", "Finished": "2026-11-22 11:00 CET",
                                    "Last change": "2026-11-22 11:00 CET", "Extraction time": "1.23 s"}
    assert groups["Document"]["Title"] == "Plan" and groups["Document"]["Encrypted"] == "yes"
    assert groups["Document"]["Pages"] == "12"
    assert groups["Document"]["Sheets"] == '[{"name": "A", "range": "A1:B2"}]'
    assert groups["Dates"] == {"Created": "2026-01-02 04:04 CET"}
    assert groups["Location"] == {"Latitude": "48.5", "Longitude": "2.25"}
    assert groups["Audio and video"] == {"Duration": "1 min 23 s", "Sample rate": "44.1 kHz"}
    assert groups["Archive and e-mail"] == {"Uncompressed bytes": "2.5 MB", "Member types": "pdf, png"}
    assert groups["Other"] == {"Custom field": "kept"}
    failed = {g.title: dict(g.rows) for g in views.detail_groups(sample_record(reason="bad", metadata={}), dt.UTC)}
    assert failed["File"]["Reason"] == "bad" and set(failed) == {"File", "Processing"}


def test_long_values_are_cut():
    assert len(views.readable("title", "x" * 10_000, dt.UTC)) == 500


@pytest.mark.parametrize(("meta", "point"), [
    ({"gps_latitude": 48.85, "gps_longitude": 2.29}, (48.85, 2.29)),
    ({"gps_latitude": -90, "gps_longitude": 180}, (-90.0, 180.0)),
    ({"gps_latitude": 91, "gps_longitude": 0}, None),
    ({"gps_latitude": True, "gps_longitude": 1}, None),
    ({"gps_latitude": "48", "gps_longitude": "2"}, None),
    ({"gps_latitude": float("nan"), "gps_longitude": 2}, None),
    ({"gps_latitude": 48.85}, None),
])
def test_gps_point(meta, point):
    assert views.gps_point(sample_record(metadata=meta)) == point


@pytest.mark.parametrize(("name", "expected"), [
    ("Q3 report.pdf", "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''Q3%20report.pdf"),
    ('evil"\r\nX-Injected: 1.pdf', "attachment; filename=\"evil___X-Injected_ 1.pdf\"; "
                                   "filename*=UTF-8''evil%22%EF%BF%BD%EF%BF%BDX-Injected%3A%201.pdf"),
    ("Übersicht – März.docx", "attachment; filename=\"_bersicht _ M_rz.docx\"; "
                              "filename*=UTF-8''%C3%9Cbersicht%20%E2%80%93%20M%C3%A4rz.docx"),
    ("C:\\Users\\me\\a.txt", "attachment; filename=\"a.txt\"; filename*=UTF-8''a.txt"),
    ("", "attachment; filename=\"download\"; filename*=UTF-8''download"),
])
def test_content_disposition_is_safe_and_keeps_the_name(name, expected):
    header = views.content_disposition(name)
    assert header == expected
    assert "\r" not in header and "\n" not in header


def test_in_flight_counts_non_terminal_files():
    assert views.in_flight([sample_record(status=s) for s in FileStatus]) == 3  # pending, uploaded, processing


def test_preview_notes():
    png = sample_record(format="png", size=100, preview_key="thumbnails/ann/x/1.png")
    assert views.preview_note(png) == ""
    assert views.preview_note(replace(png, preview_key="")) == "No preview could be made for this image."
    no_key = replace(png, preview_key="")
    assert views.preview_note(replace(no_key, size=PREVIEW_MAX_BYTES + 1)).startswith("No preview for images")
    assert views.preview_note(replace(png, status=FileStatus.DELETED)) == "The file is no longer stored."
    assert views.preview_note(replace(png, status=FileStatus.EXPIRED)) == "The file is no longer stored."
    assert views.preview_note(replace(no_key, status=FileStatus.PROCESSING)).startswith("A preview is shown")
    assert views.preview_note(sample_record(format="mp3")) == "No preview for this type of file."
    assert views.preview_note(replace(no_key, status=FileStatus.FAILED)) == "No preview: the file could not be processed."


def test_pdf_preview_notes():
    pdf = sample_record()  # processed, 1,500 bytes, drawn by no extractor
    assert views.preview_note(pdf) == "No preview could be made for this PDF."
    assert views.preview_note(replace(pdf, preview_key="thumbnails/ann/x/1.png")) == ""
    assert views.preview_note(replace(pdf, size=PREVIEW_MAX_BYTES + 1)).startswith("No preview for PDFs over")
    assert views.preview_note(replace(pdf, status=FileStatus.UPLOADED)).startswith("A preview is shown")
    # What the extractor records for a PDF that needs a password to open.
    locked = replace(pdf, status=FileStatus.FAILED, flags=("encrypted",),
                     reason="encrypted PDF: metadata partially available")
    assert views.preview_note(locked) == "This PDF is password-protected, so no preview can be made."
    assert views.preview_note(replace(locked, flags=())) == views.preview_note(locked)
    damaged = replace(pdf, status=FileStatus.FAILED, reason="damaged PDF: its structure cannot be read")
    assert views.preview_note(damaged) == "No preview: the file could not be processed."


def test_a_preview_is_handed_to_the_browser_as_it_is():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    url = views.png_data_url(png)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == png


# --- a delivery that died ------------------------------------------------------

NOW = dt.datetime(2026, 11, 22, 10, 10, tzinfo=dt.UTC)


def in_work(deadline: str, **changes):
    return sample_record(**{"status": FileStatus.PROCESSING, "delivery": 2, "deadline": deadline, **changes})


def test_a_file_whose_delivery_ended_without_a_word_is_shown_waiting_for_a_retry():
    (row,) = views.file_rows([in_work("2026-11-22T10:09:00.000Z")], dt.UTC, now=NOW, deliveries=5)
    assert row["Status"] == views.WAITING.label
    assert row["Note"] == "processing was interrupted (delivery 2 of 5); it is retried automatically"


def test_a_file_still_within_its_deliverys_time_is_processing():
    (row,) = views.file_rows([in_work("2026-11-22T10:11:00.000Z")], dt.UTC, now=NOW, deliveries=5)
    assert row["Status"] == views.status_badge(FileStatus.PROCESSING).label


def test_a_file_whose_last_delivery_died_is_said_to_wait_for_an_operator():
    (row,) = views.file_rows([in_work("2026-11-22T10:09:00.000Z", delivery=5)], dt.UTC, now=NOW, deliveries=5)
    assert row["Status"] == views.STALLED.label
    assert row["Note"] == ("processing was interrupted on its last try (delivery 5 of 5);"
                           " its message is in the dead-letter queue for an admin")


def test_a_retry_after_an_error_keeps_its_reason_as_the_note():
    record = in_work("2026-11-22T10:09:00.000Z", reason="retrying after an error: SlowDown")
    (row,) = views.file_rows([record], dt.UTC, now=NOW, deliveries=5)
    assert (row["Status"], row["Note"]) == (views.WAITING.label, "retrying after an error: SlowDown")


def test_a_views_total_says_at_least_when_counting_stopped():
    assert views.total_line(1, True, 10_000) == "1 file matches these filters."
    assert views.total_line(1234, True, 10_000) == "1,234 files match these filters."
    assert views.total_line(0, True, 10_000) == "0 files match these filters."
    assert views.total_line(870, False, 10_000).startswith("At least 870 files match")


def test_a_pending_upload_says_its_file_has_not_arrived_and_when_its_entry_goes():
    record = sample_record(status=FileStatus.PENDING, expires_at=1_800_000_000)
    badge, note = views.state(record, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert badge.label == "⇡ waiting for its upload"
    assert "has not arrived" in note and "2027-01-15T08:00:00.000Z" in note
