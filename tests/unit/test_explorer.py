"""The Files explorer's pure logic: filters, search, policy, tokens, rows, detail, previews."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from common.schema import FileRecord, FileStatus
from portal import explorer
from portal.csv_shape import METADATA_COLUMNS
from portal.explorer import BadPageToken, Filters, InvalidFilter, Pager, SortKey
from portal.tokens import User
from tests.fixtures import tiny_png

BERLIN = ZoneInfo("Europe/Berlin")


def user(sub: str, *groups: str) -> User:
    return User(sub=sub, email=f"{sub}@example.com", groups=frozenset(groups), expires_at=2**40)


ANN, BOB = user("ann", "uploaders"), user("bob", "uploaders")
ANALYST, ADMIN, NOBODY = user("ana", "analysts"), user("adm", "admins"), user("new")


def record(**kw) -> FileRecord:
    values = dict(file_id="0a" * 16, owner="ann", name="Q3 Report.pdf", bucket="b", key="uploads/ann/x.pdf",
                  status=FileStatus.PROCESSED, uploaded_at="2026-11-22T10:00:00.000Z",
                  updated_at="2026-11-22T10:00:01.000Z", size=1500, format="pdf",
                  metadata={"title": "Quarterly Numbers", "author": "Jane Doe", "subject": "secret"})
    values.update(kw)
    return FileRecord(**values)


# --- filters --------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [
    {"start_day": "2026-13-01"}, {"end_day": "yesterday"}, {"start_day": "2026-11-30", "end_day": "2026-11-01"},
    {"text": "x" * (explorer.MAX_SEARCH_LENGTH + 1)}, {"statuses": frozenset({"lost"})}, {"sort": "random"},
])
def test_bad_filters_are_refused_with_a_message(kw):
    with pytest.raises(InvalidFilter):
        Filters(**kw)


def test_filters_are_normalised_and_survive_their_key():
    f = Filters(statuses=frozenset({"failed"}), formats=frozenset({" PDF ", ""}), text="  q3   report ",
                owner="", start_day="2026-11-01", sort="oldest")
    assert f.statuses == {FileStatus.FAILED} and f.formats == {"pdf"} and f.text == "q3 report"
    assert f.owner is None and f.sort is SortKey.OLDEST and not f.newest_first
    assert Filters.from_key(f.key()) == f
    assert f.day_range == ("2026-11-01", "9999-12-31")
    assert hash(f.key()) == hash(Filters.from_key(f.key()).key())


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(), True),
    (Filters(text="q3 report"), True),
    (Filters(text="QUARTERLY"), True),           # title
    (Filters(text="jane"), True),                # author
    (Filters(text="secret"), False),             # subject is not searched
    (Filters(statuses=frozenset({FileStatus.FAILED})), False),
    (Filters(formats=frozenset({"pdf", "png"})), True),
    (Filters(formats=frozenset({"png"})), False),
    (Filters(flags=frozenset({"macros"})), False),
    (Filters(start_day="2026-11-22", end_day="2026-11-22"), True),
    (Filters(start_day="2026-11-23"), False),
    (Filters(end_day="2026-11-21"), False),
    (Filters(owner="bob"), False),
])
def test_matching(filters, expected):
    assert explorer.matches(record(), filters) is expected


def test_deleted_files_are_hidden_unless_asked_for_and_flags_match_any():
    gone = record(status=FileStatus.DELETED)
    assert not explorer.matches(gone, Filters())
    assert explorer.matches(gone, Filters(statuses=frozenset({FileStatus.DELETED})))
    flagged = record(flags=("gps", "macros"))
    assert explorer.matches(flagged, Filters(flags=frozenset({"macros", "encrypted"})))
    assert explorer.matches(record(format=""), Filters(formats=frozenset({"unknown"})))
    assert explorer.matches(record(metadata={"author": ["Ann", "Jane Doe"]}), Filters(text="jane doe"))
    assert explorer.matches(record(metadata={"author": None}), Filters(text="report"))


def test_sorting_a_page():
    a = record(file_id="a" * 32, name="b.txt", size=5, uploaded_at="2026-11-01T00:00:00.000Z",
               status=FileStatus.FAILED)
    b = record(file_id="b" * 32, name="A.txt", size=None, uploaded_at="2026-11-02T00:00:00.000Z")
    c = record(file_id="c" * 32, name="c.txt", size=50, uploaded_at="2026-11-03T00:00:00.000Z",
               status=FileStatus.UPLOADED)
    ids = lambda rs: [r.file_id[0] for r in rs]  # noqa: E731
    assert ids(explorer.sort_records([a, b, c], SortKey.NEWEST)) == ["c", "b", "a"]
    assert ids(explorer.sort_records([c, a, b], SortKey.OLDEST)) == ["a", "b", "c"]
    assert ids(explorer.sort_records([a, b, c], SortKey.NAME)) == ["b", "a", "c"]
    assert ids(explorer.sort_records([a, b, c], SortKey.SIZE)) == ["c", "a", "b"]
    assert ids(explorer.sort_records([a, b, c], SortKey.STATUS)) == ["c", "b", "a"]


# --- who may do what ----------------------------------------------------------------------


def test_the_role_matrix():
    mine, failed = record(), record(status=FileStatus.FAILED)
    assert [explorer.may_view(u, mine) for u in (ANN, BOB, ANALYST, ADMIN, NOBODY)] == [True, False, True, True, False]
    assert [explorer.may_change(u, mine) for u in (ANN, BOB, ANALYST, ADMIN, NOBODY)] == [True, False, False, True, False]
    assert explorer.may_retry(ANN, failed) and explorer.may_retry(ADMIN, failed)
    assert not explorer.may_retry(ANN, mine) and not explorer.may_retry(ANALYST, failed)
    assert explorer.may_delete(ANN, mine) and not explorer.may_delete(ANN, record(status=FileStatus.DELETED))
    assert explorer.may_download(ANALYST, mine) and not explorer.may_download(BOB, mine)
    assert not explorer.may_download(ANN, record(status=FileStatus.EXPIRED))
    owner_without_role = User(sub="ann", email="", groups=frozenset({"other"}), expires_at=0)
    assert not explorer.may_view(owner_without_role, mine)
    assert explorer.sees_everyone(ANALYST) and explorer.sees_everyone(ADMIN) and not explorer.sees_everyone(ANN)


# --- page tokens ----------------------------------------------------------------------------

KEY = {"pk": {"S": "FILE#1"}, "sk": {"S": "FILE"}, "gsi1pk": {"S": "OWNER#ann"}, "gsi1sk": {"S": "2026#1"}}


def test_tokens_round_trip_only_for_their_view():
    bound = explorer.fingerprint("ann|uploaders", Filters())
    token = explorer.encode_token(KEY, bound)
    assert explorer.decode_token(token, bound) == KEY
    assert token.replace("-", "").replace("_", "").isalnum()  # URL-safe, no padding
    for other in (explorer.fingerprint("bob|uploaders", Filters()),
                  explorer.fingerprint("ann|uploaders", Filters(text="x")),
                  explorer.fingerprint("ann|uploaders", Filters(sort=SortKey.OLDEST))):
        with pytest.raises(BadPageToken):
            explorer.decode_token(token, other)


@pytest.mark.parametrize("key", [
    {}, {"pk": {"N": "1"}}, {"pk": {"S": 1}}, {"pk": {"S": "x"}, "owner": {"S": "bob"}}, ["pk"],
])
def test_tokens_with_anything_but_string_key_attributes_are_refused(key):
    with pytest.raises(BadPageToken):
        explorer.decode_token(explorer.encode_token(key, "f"), "f")  # type: ignore[arg-type]


@pytest.mark.parametrize("token", ["", "!!!", "bm90IGpzb24", "x" * (explorer.MAX_TOKEN_LENGTH + 1)])
def test_damaged_tokens_are_refused(token):
    with pytest.raises(BadPageToken):
        explorer.decode_token(token, "f")


def test_the_pager_goes_forward_and_back():
    pager = Pager()
    assert (pager.current, pager.number, pager.has_previous) == (None, 1, False)
    two = pager.forward("t2").forward("t3")
    assert (two.current, two.number) == ("t3", 3)
    assert two.back().current == "t2" and two.back().back().back() == Pager()


# --- shaping ---------------------------------------------------------------------------------


def test_rows_carry_status_and_flag_badges_and_local_times():
    rows = explorer.file_rows([record(flags=("gps", "macros", "type_mismatch"), reason="")], BERLIN)
    (row,) = rows
    assert row["Status"] == "✓ processed"
    assert row["Flags"] == "⚠ macros  ⚠ type mismatch  • gps"  # risks first
    assert (row["Size"], row["Uploaded"], row["Type"]) == ("1.5 KB", "2026-11-22 11:00 CET", "pdf")
    assert "Uploader" not in row
    (with_owner,) = explorer.file_rows([record(owner_email="")], dt.UTC, uploaders={"ann": "ann@example.com"})
    assert with_owner["Uploader"] == "ann@example.com"
    assert list(with_owner) == ["Name", "Status", "Flags", "Type", "Size", "Uploaded", "Uploader", "SHA-256", "Note"]


def test_every_status_has_a_badge():
    assert {explorer.status_badge(s).color for s in FileStatus} <= {"gray", "blue", "green", "red", "violet"}
    assert explorer.flag_badges(["encrypted"]) == (explorer.Badge("⚠ encrypted", "orange"),)


@pytest.mark.parametrize(("value", "tz", "expected"), [
    ("2026-11-22T10:00:00.000Z", BERLIN, "2026-11-22 11:00 CET"),
    ("2026-07-01T10:00:00+00:00", BERLIN, "2026-07-01 12:00 CEST"),
    ("2026-11-22T10:00:00Z", dt.UTC, "2026-11-22 10:00 UTC"),
    ("2026-11-21T09:30:00", BERLIN, "2026-11-21 09:30"),        # EXIF: no zone, shown as written
    ("2026-11-21", BERLIN, "2026-11-21"),
    ("D:20260101", BERLIN, "D:20260101"),                      # not a timestamp: unchanged
    ("", BERLIN, "—"),
])
def test_local_time(value, tz, expected):
    assert explorer.local_time(value, tz) == expected


def test_unknown_zones_fall_back_to_utc():
    assert explorer.zone("Europe/Berlin") == BERLIN
    assert explorer.zone("Mars/Olympus") is dt.UTC and explorer.zone(None) is dt.UTC and explorer.zone("../x") is dt.UTC


def test_every_catalogued_field_has_a_group():
    assert set(METADATA_COLUMNS) <= set(explorer.FIELD_GROUP)


def test_the_detail_is_grouped_and_readable():
    r = record(sha256="ab" * 32, flags=("encrypted",), duration_ms=1234, processed_at="2026-11-22T10:00:02.000Z",
               metadata={"title": "Plan", "pages": 12, "created": "2026-01-02T03:04:05Z", "encrypted": True,
                         "gps_latitude": 48.5, "gps_longitude": 2.25, "uncompressed_bytes": 2_500_000,
                         "duration_seconds": 83.5, "sample_rate": 44100, "member_types": ["pdf", "png"],
                         "sheets": [{"name": "A", "range": "A1:B2"}], "custom_field": "kept"})
    groups = {g.title: dict(g.rows) for g in explorer.detail_groups(r, BERLIN, uploader="ann@example.com")}
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
    failed = {g.title: dict(g.rows) for g in explorer.detail_groups(record(reason="bad", metadata={}), dt.UTC)}
    assert failed["File"]["Reason"] == "bad" and set(failed) == {"File", "Processing"}


def test_long_values_are_cut():
    assert len(explorer.readable("title", "x" * 10_000, dt.UTC)) == 500


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
    assert explorer.gps_point(record(metadata=meta)) == point


@pytest.mark.parametrize(("name", "expected"), [
    ("Q3 report.pdf", "attachment; filename=\"Q3 report.pdf\"; filename*=UTF-8''Q3%20report.pdf"),
    ('evil"\r\nX-Injected: 1.pdf', "attachment; filename=\"evil___X-Injected_ 1.pdf\"; "
                                   "filename*=UTF-8''evil%22%0D%0AX-Injected%3A%201.pdf"),
    ("Übersicht – März.docx", "attachment; filename=\"_bersicht _ M_rz.docx\"; "
                              "filename*=UTF-8''%C3%9Cbersicht%20%E2%80%93%20M%C3%A4rz.docx"),
    ("C:\\Users\\me\\a.txt", "attachment; filename=\"a.txt\"; filename*=UTF-8''a.txt"),
    ("", "attachment; filename=\"download\"; filename*=UTF-8''download"),
])
def test_content_disposition_is_safe_and_keeps_the_name(name, expected):
    header = explorer.content_disposition(name)
    assert header == expected
    assert "\r" not in header and "\n" not in header


def test_markdown_is_shown_literally():
    assert explorer.md_escape("![x](https://e.test/t.png) :red[a] *b*") == (
        r"\!\[x\]\(https\:\/\/e\.test\/t\.png\) \:red\[a\] \*b\*")
    assert explorer.md_escape("two\nlines") == "two lines"


# --- previews ----------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size but carries almost no data: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_a_thumbnail_is_a_small_png():
    from PIL import Image

    data = explorer.thumbnail(tiny_png(1000, 500), side=100)
    with Image.open(io.BytesIO(data)) as im:
        assert (im.format, im.size) == ("PNG", (100, 50))


def test_bombs_and_garbage_get_no_thumbnail():
    # The declared size is checked before decoding: one pixel over the cap and there is no thumbnail.
    assert explorer.thumbnail(tiny_png(100, 100), max_pixels=10_000) is not None
    assert explorer.thumbnail(tiny_png(100, 100), max_pixels=9_999) is None
    assert explorer.thumbnail(png_header_only(7_000, 7_000)) is None  # over the default cap
    assert explorer.thumbnail(png_header_only(100_000, 100_000)) is None  # Pillow's own guard
    assert explorer.thumbnail(b"not an image") is None
    assert explorer.thumbnail(tiny_png(10, 10)[:40]) is None  # truncated


def test_preview_notes():
    png = record(format="png", size=100)
    assert explorer.preview_note(png) == ""
    assert explorer.preview_note(replace(png, size=explorer.PREVIEW_MAX_BYTES + 1)).startswith("No preview for images")
    assert explorer.preview_note(replace(png, status=FileStatus.DELETED)) == "The file is no longer stored."
    assert explorer.preview_note(replace(png, status=FileStatus.PROCESSING)).startswith("A preview is shown")
    assert explorer.preview_note(record(format="mp3")) == "No preview for this type of file."
    assert explorer.preview_note(replace(png, status=FileStatus.FAILED)) == "No preview: the file could not be processed."


def test_pdf_preview_notes():
    pdf = record()  # processed, 1,500 bytes
    assert explorer.preview_note(pdf) == ""
    assert explorer.preview_note(replace(pdf, size=explorer.PREVIEW_MAX_BYTES)) == ""
    assert explorer.preview_note(replace(pdf, size=explorer.PREVIEW_MAX_BYTES + 1)).startswith("No preview for PDFs over")
    assert explorer.preview_note(replace(pdf, status=FileStatus.EXPIRED)) == "The file is no longer stored."
    assert explorer.preview_note(replace(pdf, status=FileStatus.UPLOADED)).startswith("A preview is shown")
    # What the extractor records for a PDF that needs a password to open.
    locked = replace(pdf, status=FileStatus.FAILED, flags=("encrypted",),
                     reason="encrypted PDF: metadata partially available")
    assert explorer.preview_note(locked) == "This PDF is password-protected, so no preview can be made."
    assert explorer.preview_note(replace(locked, flags=())) == explorer.preview_note(locked)
    # Only editing restricted: it opened, was processed, and is drawn like any other.
    assert explorer.preview_note(replace(pdf, flags=("encrypted",), metadata={"encrypted": True})) == ""
    damaged = replace(pdf, status=FileStatus.FAILED, reason="damaged PDF: its structure cannot be read")
    assert explorer.preview_note(damaged) == "No preview: the file could not be processed."
