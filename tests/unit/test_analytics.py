"""Dashboard analytics (pure): every KPI and series equals a recount of the files.

The aggregate items are computed exactly as the extractor's transactions
leave them (the sum of ``schema.contributions`` per cell), from generated
files in terminal states; each figure is then recounted from the files
themselves, under every kind of filter.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from common import schema
from common.schema import FileRecord, FileStatus
from portal import analytics
from portal.analytics import Filters, Viewer
from portal.tokens import User

DAYS = tuple((date(2026, 11, 15) + timedelta(days=i)).isoformat() for i in range(6))
OWNERS = ("aaaaaaaa-1111-4222-8333-444455556666", "bbbbbbbb-1111-4222-8333-444455556666",
          "cccccccc-1111-4222-8333-444455556666", "dddddddd-1111-4222-8333-444455556666")
FORMATS = ("pdf", "docx", "pptx", "png", "text", "")  # "" is counted as "unknown"
REASONS = ("encrypted PDF: metadata partially available", "the file was deleted before it could be processed",
           "processing failed 5 times; last error: boom", "reading the file needs more than the 512 MiB memory limit")
FLAGS = ("encrypted", "javascript", "macros", "gps", "scanned", "type_mismatch", "duplicate", "empty")
#: Latencies on, just under and just over every bucket bound, and far beyond the last.
LATENCIES = (0, 1, 249, 250, 251, 500, 999, 1000, 1001, 1999, 2000, 4999, 5000, 5001, 10_000, 29_999, 30_000,
             59_999, 60_000, 60_001, 299_999, 300_000, 300_001, 3_600_000)


def day_of(record: FileRecord) -> str:
    return record.uploaded_at[:10]


def format_of(record: FileRecord) -> str:
    return record.format or "unknown"


def latency_of(record: FileRecord) -> int:
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(record.processed_at) - parse(record.uploaded_at)).total_seconds() * 1000)


#: Names a document may carry: none, an author, an application, both, or an artist (media).
PEOPLE = ({}, {"author": "Ann Lee"}, {"author": "Bob"}, {"producer": "pdfTeX"}, {"creator": "Writer"},
          {"author": "Ann Lee", "producer": "LibreOffice"}, {"artist": "The Band"})


def make_records(n: int = 300, seed: int = 20261122, days: tuple[str, ...] = DAYS,
                 owners: tuple[str, ...] = OWNERS) -> list[FileRecord]:
    """Files in terminal states (processed, failed, expired), with every counter exercised (pages,
    slides, flags, reasons, no latency)."""
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        file_id = f"{rng.getrandbits(128):032x}"
        uploaded = datetime.fromisoformat(rng.choice(days)).replace(tzinfo=UTC) + timedelta(
            seconds=rng.randrange(86_400), milliseconds=rng.randrange(1000))
        failed = rng.random() < 0.25
        expired = rng.random() < 0.1  # removed by retention later; a failed one keeps its reason
        fmt = rng.choice(FORMATS)
        metadata: dict = {}
        roll = rng.random()
        if roll < 0.4:
            metadata = {"pages": rng.randrange(0, 400)}
        elif roll < 0.5:
            metadata = {"slides": rng.randrange(1, 80)}
        elif roll < 0.55:
            metadata = {"pages": True}  # not a page count: contributions ignore it
        latency = rng.choice(LATENCIES) if rng.random() < 0.6 else rng.randrange(0, 400_000)
        owner = rng.choice(owners)
        records.append(FileRecord(
            file_id=file_id, owner=owner, name=f"f.{fmt or 'bin'}", bucket="b",
            key=schema.upload_key(owner, file_id, "f.bin"),
            status=FileStatus.EXPIRED if expired else FileStatus.FAILED if failed else FileStatus.PROCESSED,
            uploaded_at=schema.to_timestamp(uploaded), updated_at=schema.to_timestamp(uploaded),
            size=None if rng.random() < 0.05 else rng.randrange(0, 50_000_000), format=fmt,
            reason=rng.choice(REASONS) if failed else "", flags=tuple(sorted(rng.sample(FLAGS, rng.randrange(0, 3)))),
            metadata=metadata, duration_ms=None if rng.random() < 0.05 else rng.randrange(0, 20_000),
            processed_at="" if rng.random() < 0.03 else schema.to_timestamp(uploaded + timedelta(milliseconds=latency)),
        ))
    # Names come from a generator of their own, so the files above stay what they were for every seed.
    names = random.Random(seed + 1)
    return [replace(r, metadata={**r.metadata, **names.choice(PEOPLE)}) for r in records]


def aggregate_cells(records: Iterable[FileRecord]) -> dict[tuple[str, str], dict[str, int]]:
    """What the table's aggregate items hold once every file's transaction is applied."""
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for record in records:
        for cell, counts in schema.contributions(record).items():
            target = cells.setdefault(cell, {})
            for name, value in counts.items():
                target[name] = target.get(name, 0) + value
    return cells


def aggregate_items(records: Iterable[FileRecord]) -> list[dict]:
    """The aggregate items as a low-level DynamoDB client returns them (zero counts left out, as
    the transactions leave them out)."""
    return [{"pk": {"S": pk}, "sk": {"S": sk}, **{name: {"N": str(v)} for name, v in counts.items() if v}}
            for (pk, sk), counts in aggregate_cells(records).items()]


# --- the recount: straight from the files ----------------------------------------------


def selected(records: Iterable[FileRecord], f: Filters) -> list[FileRecord]:
    """The files a filter covers, status aside; the uploader wins over formats."""
    out = []
    for r in records:
        if not (f.start <= day_of(r) <= f.end):
            continue
        if f.owner is not None:
            if r.owner != f.owner:
                continue
        elif f.formats and format_of(r) not in f.formats:
            continue
        out.append(r)
    return out


def status_ok(r: FileRecord, f: Filters) -> bool:
    return f.status == "all" or r.status.value == f.status


def bucket_bound(latency: int) -> int:
    return next((b for b in schema.LATENCY_BOUNDS_MS if latency <= b), schema.LATENCY_BOUNDS_MS[-1])


def bucket_name(latency: int) -> str:
    return next((f"latency_le_{b}" for b in schema.LATENCY_BOUNDS_MS if latency <= b),
                f"latency_gt_{schema.LATENCY_BOUNDS_MS[-1]}")


def percentile_bound(latencies: list[int], percent: int) -> int | None:
    """The bucket bound of the file at rank ceil(percent * n / 100) in latency order."""
    if not latencies:
        return None
    ordered = sorted(latencies)
    rank = max(1, -(-percent * len(ordered) // 100))
    return bucket_bound(ordered[rank - 1])


def recount_kpis(records: list[FileRecord], f: Filters) -> analytics.Kpis:
    sel = selected(records, f)
    shown = [r for r in sel if status_ok(r, f)]
    processed = sum(r.status is FileStatus.PROCESSED for r in shown)
    failed = sum(r.status is FileStatus.FAILED for r in shown)
    latencies = [latency_of(r) for r in sel if r.processed_at]
    everything = f.status == "all"
    return analytics.Kpis(
        files=len(shown),
        storage_bytes=sum(r.size or 0 for r in sel) if everything else None,
        processed_share=processed / (processed + failed) if processed + failed else None,
        failures=failed,
        median_latency_ms=percentile_bound(latencies, 50) if everything else None,
        p95_latency_ms=percentile_bound(latencies, 95) if everything else None,
        mean_processing_ms=(sum(r.duration_ms or 0 for r in sel) / len(sel) if sel else None) if everything else None,
    )


def pages_of(r: FileRecord) -> int | None:
    value = r.metadata.get("pages", r.metadata.get("slides"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rows(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records")


def by_format_key(r: FileRecord, f: Filters) -> str:
    return analytics.ALL_FORMATS if f.owner is not None else format_of(r)


def ranked(counter: Counter, key: str, value: str) -> list[dict]:
    """Largest first, ties by name; zero counts left out, as the series do."""
    return [{key: k, value: v} for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0]


# --- fixtures ----------------------------------------------------------------------------

RECORDS = make_records()
FRAME = analytics.aggregate_frame(aggregate_items(RECORDS))
FULL = Filters(DAYS[0], DAYS[-1])
FILTERS = {
    "everything": FULL,
    "some days": Filters(DAYS[1], DAYS[3]),
    "one day": Filters(DAYS[2], DAYS[2]),
    "formats": Filters(DAYS[0], DAYS[-1], frozenset({"pdf", "unknown"})),
    "a format with no files": Filters(DAYS[0], DAYS[-1], frozenset({"heic"})),
    "owner": Filters(DAYS[0], DAYS[-1], owner=OWNERS[1]),
    "owner and formats": Filters(DAYS[1], DAYS[4], frozenset({"pdf"}), OWNERS[2]),
    "processed": Filters(DAYS[0], DAYS[-1], status="processed"),
    "failed": Filters(DAYS[0], DAYS[-1], status="failed"),
    "expired": Filters(DAYS[0], DAYS[-1], status="expired"),
    "expired owner": Filters(DAYS[0], DAYS[-1], owner=OWNERS[2], status="expired"),
    "failed, formats, days": Filters(DAYS[2], DAYS[5], frozenset({"docx", "png"}), status="failed"),
    "processed owner": Filters(DAYS[0], DAYS[2], owner=OWNERS[0], status="processed"),
    "no files": Filters("2027-01-01", "2027-01-31"),
    "all time": Filters(analytics.ALL_START, "2030-12-31"),
}
CASES = pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())


def test_the_generated_files_exercise_every_counter():
    assert len(RECORDS) == 300
    assert {r.status for r in RECORDS} == {FileStatus.PROCESSED, FileStatus.FAILED, FileStatus.EXPIRED}
    assert any(r.status is FileStatus.EXPIRED and r.reason for r in RECORDS)  # a failure's reason is kept
    assert {bucket_name(latency_of(r)) for r in RECORDS if r.processed_at} == {n for n, _ in schema.latency_buckets()}
    assert any(not r.processed_at for r in RECORDS) and any(r.size is None for r in RECORDS)
    assert {format_of(r) for r in RECORDS} == {"pdf", "docx", "pptx", "png", "text", "unknown"}


def test_the_frame_sums_the_shards_per_cell():
    cells = aggregate_cells(RECORDS)
    assert len({sk.rsplit("#s", 1)[1] for _, sk in cells}) == schema.AGG_SHARDS  # shards really are spread
    assert list(FRAME.columns[:3]) == ["grain", "day", "dimension"]
    per_day = FRAME[FRAME["grain"] == "DAY"].set_index("day")
    assert per_day["files"].to_dict() == dict(Counter(day_of(r) for r in RECORDS))
    assert (per_day["dimension"] == "").all()
    per_format = FRAME[FRAME["grain"] == "DAY_FORMAT"].set_index(["day", "dimension"])
    want_bytes: Counter = Counter()
    for r in RECORDS:
        want_bytes[(day_of(r), format_of(r))] += r.size or 0
    assert per_format["bytes"].to_dict() == dict(want_bytes)
    per_owner = FRAME[FRAME["grain"] == "DAY_OWNER"].set_index(["day", "dimension"])
    assert per_owner["status_failed"].to_dict() == {
        key: sum(r.status is FileStatus.FAILED for r in RECORDS if (day_of(r), r.owner) == key)
        for key in {(day_of(r), r.owner) for r in RECORDS}}
    assert FRAME["format_pdf"].sum() == sum(format_of(r) == "pdf" for r in RECORDS)  # on AGG#DAY only
    assert str(FRAME["files"].dtype) == "int64"


def test_a_counter_absent_from_an_item_is_zero_and_an_empty_read_has_every_column():
    items = [{"pk": {"S": "AGG#DAY"}, "sk": {"S": "2026-11-15#s0"}, "files": {"N": "2"}, "flag_gps": {"N": "1"}},
             {"pk": {"S": "AGG#DAY"}, "sk": {"S": "2026-11-15#s3"}, "files": {"N": "1"}}]
    frame = analytics.aggregate_frame(items)
    assert rows(frame[["day", "files", "flag_gps", "bytes", "latency_gt_300000"]]) == [
        {"day": "2026-11-15", "files": 3, "flag_gps": 1, "bytes": 0, "latency_gt_300000": 0}]
    empty = analytics.aggregate_frame([])
    assert empty.empty and {"files", "bytes", "latency_le_250", "status_failed"} <= set(empty.columns)
    assert analytics.kpis(empty, FULL) == analytics.Kpis(0, 0, None, 0, None, None, None)


@CASES
def test_kpis_equal_a_recount(f):
    got = analytics.kpis(FRAME, f)
    want = recount_kpis(RECORDS, f)
    assert (got.files, got.storage_bytes, got.failures, got.median_latency_ms, got.p95_latency_ms) == (
        want.files, want.storage_bytes, want.failures, want.median_latency_ms, want.p95_latency_ms)
    assert got.processed_share == pytest.approx(want.processed_share)
    assert got.mean_processing_ms == pytest.approx(want.mean_processing_ms)
    assert (analytics.NOTE_FORMAT_IGNORED in got.notes) == bool(f.owner and f.formats)
    assert (analytics.NOTE_STATUS_PARTIAL in got.notes) == (f.status != "all")


def test_the_kpis_of_everything_are_what_they_seem():
    k = analytics.kpis(FRAME, FULL)
    assert k.files == 300
    assert 0 < k.processed_share < 1
    assert k.failures == sum(r.status is FileStatus.FAILED for r in RECORDS)
    assert k.median_latency_ms <= k.p95_latency_ms


@CASES
def test_uploads_over_time_equal_a_recount(f):
    want = Counter((day_of(r), by_format_key(r, f)) for r in selected(RECORDS, f) if status_ok(r, f))
    series = analytics.uploads_over_time(FRAME, f)
    assert rows(series.frame) == [{"day": d, "format": fmt, "files": n} for (d, fmt), n in sorted(want.items())]
    assert (analytics.NOTE_NO_FORMAT_SPLIT in series.notes) == (f.owner is not None)


@CASES
def test_format_mix_equals_a_recount(f):
    series = analytics.format_mix(FRAME, f)
    if f.owner is not None:
        assert series.empty and analytics.NOTE_NO_FORMAT_SPLIT in series.notes
        return
    want = Counter(format_of(r) for r in selected(RECORDS, f) if status_ok(r, f))
    assert rows(series.frame[["format", "files"]]) == ranked(want, "format", "files")
    if want:
        assert series.frame["share"].tolist() == pytest.approx(
            [v["files"] / sum(want.values()) for v in ranked(want, "format", "files")])


@CASES
def test_pages_distribution_equals_a_recount(f):
    pages: Counter = Counter()
    paged: Counter = Counter()
    for r in selected(RECORDS, f):  # pages are not split by status: every status counts
        if pages_of(r) is not None:
            pages[by_format_key(r, f)] += pages_of(r)
            paged[by_format_key(r, f)] += 1
    series = analytics.pages_distribution(FRAME, f)
    got = {row["format"]: row for row in rows(series.frame)}
    assert set(got) == set(paged)
    for fmt, row in got.items():
        assert (row["pages"], row["paged_files"]) == (pages[fmt], paged[fmt])
        assert row["pages_per_file"] == pytest.approx(pages[fmt] / paged[fmt])
    assert list(series.frame["pages_per_file"]) == sorted(series.frame["pages_per_file"], reverse=True)
    assert (analytics.NOTE_STATUS_PARTIAL in series.notes) == (f.status != "all")


@CASES
def test_latency_trend_equals_a_recount(f):
    by_day: dict[str, list[int]] = {}
    for r in selected(RECORDS, f):
        if r.processed_at:
            by_day.setdefault(day_of(r), []).append(latency_of(r))
    frame = analytics.latency_trend(FRAME, f).frame
    assert list(frame["day"]) == sorted(by_day)
    for row in rows(frame):
        latencies = by_day[row["day"]]
        assert row["files"] == len(latencies)
        assert row["mean_latency_ms"] == pytest.approx(sum(latencies) / len(latencies))
        counts = Counter(bucket_name(x) for x in latencies)
        for name, _ in schema.latency_buckets():
            assert row[f"share_{name}"] == pytest.approx(counts[name] / len(latencies))


@CASES
def test_failures_by_reason_equal_a_recount(f):
    want = Counter(schema.reason_key(r.reason) for r in selected(RECORDS, f)
                   if r.status is FileStatus.FAILED and status_ok(r, f))
    assert rows(analytics.failures_by_reason(FRAME, f).frame) == ranked(want, "reason", "failures")


@CASES
def test_risk_flags_equal_a_recount(f):
    want = Counter(flag for r in selected(RECORDS, f) for flag in r.flags)
    assert rows(analytics.risk_flags(FRAME, f).frame) == ranked(want, "flag", "files")


@CASES
def test_top_uploaders_equal_a_recount(f):
    # Per-uploader cells have no format: the format filter is ignored here.
    f_all_formats = Filters(f.start, f.end, frozenset(), f.owner, f.status)
    shown = [r for r in selected(RECORDS, f_all_formats) if status_ok(r, f)]
    files = Counter(r.owner for r in shown)
    failures = Counter(r.owner for r in shown if r.status is FileStatus.FAILED)
    series = analytics.top_uploaders(FRAME, f, limit=3)
    assert rows(series.frame) == [{**row, "failures": failures[row["owner"]]}
                                  for row in ranked(files, "owner", "files")][:3]
    assert (analytics.NOTE_UPLOADERS_ALL_FORMATS in series.notes) == bool(f.formats and f.owner is None)


@CASES
def test_size_per_format_equals_a_recount(f):
    files: Counter = Counter()
    size: Counter = Counter()
    for r in selected(RECORDS, f):  # bytes are not split by status: every status counts
        files[by_format_key(r, f)] += 1
        size[by_format_key(r, f)] += r.size or 0
    frame = analytics.size_per_format(FRAME, f).frame
    assert {row["format"]: (row["files"], row["bytes"]) for row in rows(frame)} == {
        k: (files[k], size[k]) for k in files}
    for row in rows(frame):
        assert row["mean_bytes"] == pytest.approx(size[row["format"]] / files[row["format"]])
    assert list(frame["mean_bytes"]) == sorted(frame["mean_bytes"], reverse=True)


def test_histogram_quantile_takes_the_upper_bound_where_the_rank_is_crossed():
    bounds = [250, 500, 1000]
    assert analytics.histogram_quantile([0, 0, 0], bounds, 50) is None
    assert analytics.histogram_quantile([1, 0, 0], bounds, 50) == 250
    assert analytics.histogram_quantile([2, 2, 0], bounds, 50) == 250  # rank 2 of 4 is the second file
    assert analytics.histogram_quantile([2, 3, 0], bounds, 50) == 500  # rank 3 of 5
    assert analytics.histogram_quantile([19, 0, 1], bounds, 95) == 250  # rank 19 of 20
    assert analytics.histogram_quantile([18, 0, 2], bounds, 95) == 1000


def test_a_file_slower_than_the_last_bound_is_reported_as_that_bound():
    record = next(r for r in RECORDS if r.processed_at)
    slow = FileRecord(**{**record.__dict__, "processed_at": schema.to_timestamp(
        datetime.fromisoformat(record.uploaded_at.replace("Z", "+00:00")) + timedelta(hours=3))})
    frame = analytics.aggregate_frame(aggregate_items([slow]))
    k = analytics.kpis(frame, FULL)
    assert k.median_latency_ms == k.p95_latency_ms == 300_000
    assert analytics.kpi_tiles(k)[4].value == "> 1 min"


# --- filters, scope and the assembled dashboard --------------------------------------------


def test_filters_are_validated_and_canonical():
    with pytest.raises(ValueError):
        Filters("2026-11-31", "2026-12-01")
    with pytest.raises(ValueError):
        Filters("2026-11-20", "2026-11-19")
    with pytest.raises(ValueError):
        Filters("2026-11-19", "2026-11-20", status="processing")
    f = Filters("2026-11-19", "2026-11-20", {"png", "pdf"}, "", "failed")
    assert f.owner is None and f.formats == frozenset({"pdf", "png"})
    assert f.key() == ("2026-11-19", "2026-11-20", ("pdf", "png"), "", "failed")
    assert Filters.from_key(f.key()) == f
    hash(f)


def test_presets_end_today_and_custom_ranges_are_sorted():
    today = date(2026, 11, 22)
    assert analytics.preset_range("7d", today) == ("2026-11-16", "2026-11-22")
    assert analytics.preset_range("30d", today) == ("2026-10-24", "2026-11-22")
    assert analytics.preset_range("365d", today) == ("2025-11-23", "2026-11-22")
    assert analytics.preset_range("all", today) == (analytics.ALL_START, "2026-11-22")
    assert analytics.preset_range("custom", today, (date(2026, 11, 3), date(2026, 11, 1))) == ("2026-11-01", "2026-11-03")
    assert analytics.preset_range("custom", today, (date(2026, 11, 3),)) == ("2026-11-03", "2026-11-03")
    assert analytics.preset_range("custom", today) == analytics.preset_range(analytics.DEFAULT_PRESET, today)
    with pytest.raises(ValueError):
        analytics.preset_range("forever", today)


def user(*groups: str, sub: str = OWNERS[0]) -> User:
    return User(sub=sub, email="someone@example.com", groups=frozenset(groups), expires_at=2**40)


def test_only_analysts_and_admins_see_everyone():
    assert Viewer.of(user("analysts")).sees_everyone and Viewer.of(user("admins")).sees_everyone
    assert Viewer.of(user("uploaders", "analysts")).sees_everyone
    assert not Viewer.of(user("uploaders")).sees_everyone and not Viewer.of(user()).sees_everyone
    mine = Viewer.of(user("uploaders"))
    assert mine.scope(Filters(DAYS[0], DAYS[1], owner=OWNERS[3])).owner == OWNERS[0]
    assert mine.scope(FULL).owner == OWNERS[0]
    assert Viewer.of(user("analysts")).scope(Filters(DAYS[0], DAYS[1], owner=OWNERS[3])).owner == OWNERS[3]


def test_an_uploaders_dashboard_is_their_own_whatever_the_filters_say():
    board = analytics.build_dashboard(FRAME, Filters(DAYS[0], DAYS[-1], owner=OWNERS[3]),
                                      Viewer.of(user("uploaders", sub=OWNERS[1])))
    assert board.filters.owner == OWNERS[1]
    assert board.kpis == analytics.kpis(FRAME, Filters(DAYS[0], DAYS[-1], owner=OWNERS[1]))
    assert board.kpis.files == sum(r.owner == OWNERS[1] for r in RECORDS)
    assert board.uploaders is None and board.owners_available == ()
    assert not board.format_split and analytics.NOTE_NO_FORMAT_SPLIT in board.notes


def test_an_analysts_dashboard_has_everything_and_the_choices():
    board = analytics.build_dashboard(FRAME, FULL, Viewer.of(user("analysts")))
    assert board.kpis == analytics.kpis(FRAME, FULL) and board.kpis.files == 300
    assert board.format_split and board.uploaders is not None and len(board.uploaders.frame) == len(OWNERS)
    assert board.formats_available == tuple(sorted({format_of(r) for r in RECORDS}))
    assert board.owners_available == tuple(sorted(OWNERS))
    assert board.day_axis == (DAYS[0], DAYS[-1])
    assert board.notes == ()
    pd.testing.assert_frame_equal(board.uploads.frame, analytics.uploads_over_time(FRAME, FULL).frame)


def test_notes_are_collected_once():
    board = analytics.build_dashboard(FRAME, Filters(DAYS[0], DAYS[-1], frozenset({"pdf"}), OWNERS[0], "failed"),
                                      Viewer.of(user("admins")))
    assert len(board.notes) == len(set(board.notes))
    assert set(board.notes) == {analytics.NOTE_FORMAT_IGNORED, analytics.NOTE_NO_FORMAT_SPLIT,
                                analytics.NOTE_STATUS_PARTIAL, analytics.NOTE_PEOPLE}


def test_a_long_range_draws_its_axis_from_the_first_upload():
    assert analytics.day_axis(FRAME, FILTERS["all time"]) == (DAYS[0], "2030-12-31")
    assert analytics.day_axis(FRAME, Filters("2000-01-01", "2001-01-01")) is None
    assert analytics.day_axis(FRAME, FILTERS["some days"]) == (DAYS[1], DAYS[3])


def test_tiles_are_formatted_for_people():
    k = analytics.Kpis(files=12_345, storage_bytes=1_500_000, processed_share=0.975, failures=3,
                       median_latency_ms=1000, p95_latency_ms=30_000, mean_processing_ms=1234.0)
    assert [(t.label, t.value) for t in analytics.kpi_tiles(k)] == [
        ("Files", "12,345"), ("Volume", "1.5 MB"), ("Processed", "97.5%"), ("Failures", "3"),
        ("Median latency", "≤ 1 s"), ("95th pct latency", "≤ 30 s"), ("Mean processing", "1.2 s")]
    unknown = analytics.Kpis(0, None, None, 0, None, None, None)
    assert [t.value for t in analytics.kpi_tiles(unknown)] == ["0", "—", "—", "0", "—", "—", "—"]
    assert [analytics.bucket_label(n) for n, _ in schema.latency_buckets()][::3] == [
        "≤ 250 ms", "≤ 2 s", "≤ 30 s", "> 5 min"]


# --- sizes and names, recounted from the files ---------------------------------------


@pytest.mark.parametrize("name", list(FILTERS))
def test_the_size_distribution_is_the_recount(name):
    f = FILTERS[name]
    got = analytics.size_distribution(FRAME, f).frame
    files = [r for r in selected(RECORDS, f) if r.size is not None]
    want = Counter(next((b for b in schema.SIZE_BOUNDS if r.size <= b), None) for r in files)
    if not files:
        assert got.empty
        return
    assert list(got["upper"]) == [b for _, b in analytics.SIZE_BUCKETS]
    assert list(got["files"]) == [*(want.get(b, 0) for b in schema.SIZE_BOUNDS), want.get(None, 0)]
    assert (got["bucket"].iloc[0], got["bucket"].iloc[-1]) == ("≤ 10 KB", "> 100 MB")


def _names(records: Iterable[FileRecord], f: Filters, kind: str) -> Counter:
    counted = Counter()
    for r in records:
        in_scope = f.start <= day_of(r) <= f.end and f.owner in (None, r.owner)
        if in_scope and r.status is FileStatus.PROCESSED:
            name = schema.document_people(r.metadata).get(kind)
            if name:
                counted[name] += 1
    return counted


@pytest.mark.parametrize("kind", ["author", "producer"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_top_names_are_the_recount(name, kind):
    f = FILTERS[name]
    got = analytics.top_names(FRAME, f, kind)
    want = _names(RECORDS, f, kind)
    assert dict(zip(got.frame["name"], got.frame["files"], strict=True)) == dict(want.most_common(10))
    assert list(got.frame["files"]) == sorted(got.frame["files"], reverse=True)
    if f.formats or f.status != "all":
        assert got.notes == (analytics.NOTE_PEOPLE,)


def test_names_include_artists_and_creators():
    authors = set(analytics.top_names(FRAME, FULL, "author").frame["name"])
    producers = set(analytics.top_names(FRAME, FULL, "producer").frame["name"])
    assert {"Ann Lee", "Bob", "The Band"} <= authors
    assert {"pdfTeX", "Writer", "LibreOffice"} <= producers
    with pytest.raises(ValueError, match="unknown kind"):
        analytics.top_names(FRAME, FULL, "editor")


@pytest.mark.parametrize("name", list(FILTERS))
def test_the_pages_histogram_is_the_recount(name):
    f = FILTERS[name]
    got = analytics.pages_histogram(FRAME, f).frame
    lengths = []
    for r in selected(RECORDS, f):
        pages = r.metadata.get("pages", r.metadata.get("slides"))
        if isinstance(pages, int) and not isinstance(pages, bool):
            lengths.append(pages)
    if not lengths:
        assert got.empty
        return
    want = Counter(next((b for b in schema.PAGES_BOUNDS if n <= b), None) for n in lengths)
    assert list(got["files"]) == [*(want.get(b, 0) for b in schema.PAGES_BOUNDS), want.get(None, 0)]
    assert list(got["bucket"]) == ["≤ 1 page", "2–5 pages", "6–10 pages", "11–50 pages", "51–100 pages",
                                   "> 100 pages"]
