"""Dashboard analytics (pure): every KPI and series equals a recount of the files.

The aggregate items are computed exactly as the extractor's transactions
leave them (the sum of ``contributions`` per cell), from generated
files in terminal states; each figure is then recounted from the files
themselves, under every kind of filter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from common.catalogue import FileStatus
from common.schema.aggregates import (
    AGG_SHARDS,
    PAGES_BOUNDS,
    SIZE_BOUNDS,
    document_people,
    latency_buckets,
    reason_key,
)
from common.schema.record import FileRecord, to_timestamp
from portal.access import User
from portal.dashboard import analytics, tags
from portal.dashboard.filters import ALL_START, DEFAULT_PRESET, DashboardFilters, Viewer, preset_range
from portal.dashboard.labels import bucket_label, kpi_tiles
from tests.helpers.records import (
    DAYS,
    OWNERS,
    aggregate_cells,
    aggregate_items,
    day_of,
    format_of,
    latency_of,
    make_records,
    tagged,
)
from tests.helpers.recount import bucket_name, recount_kpis, selected, status_ok


def pages_of(r: FileRecord) -> int | None:
    value = r.metadata.get("pages", r.metadata.get("slides"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rows(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records")


def by_format_key(r: FileRecord, f: DashboardFilters) -> str:
    return analytics.ALL_FORMATS if f.owner is not None else format_of(r)


def ranked(counter: Counter, key: str, value: str) -> list[dict]:
    """Largest first, ties by name; zero counts left out, as the series do."""
    return [{key: k, value: v} for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0]


# --- fixtures ----------------------------------------------------------------------------

RECORDS = make_records()
FRAME = analytics.aggregate_frame(aggregate_items(RECORDS))
FULL = DashboardFilters(DAYS[0], DAYS[-1])
FILTERS = {
    "everything": FULL,
    "some days": DashboardFilters(DAYS[1], DAYS[3]),
    "one day": DashboardFilters(DAYS[2], DAYS[2]),
    "formats": DashboardFilters(DAYS[0], DAYS[-1], frozenset({"pdf", "unknown"})),
    "a format with no files": DashboardFilters(DAYS[0], DAYS[-1], frozenset({"heic"})),
    "owner": DashboardFilters(DAYS[0], DAYS[-1], owner=OWNERS[1]),
    "owner and formats": DashboardFilters(DAYS[1], DAYS[4], frozenset({"pdf"}), OWNERS[2]),
    "processed": DashboardFilters(DAYS[0], DAYS[-1], status="processed"),
    "failed": DashboardFilters(DAYS[0], DAYS[-1], status="failed"),
    "expired": DashboardFilters(DAYS[0], DAYS[-1], status="expired"),
    "expired owner": DashboardFilters(DAYS[0], DAYS[-1], owner=OWNERS[2], status="expired"),
    "failed, formats, days": DashboardFilters(DAYS[2], DAYS[5], frozenset({"docx", "png"}), status="failed"),
    "processed owner": DashboardFilters(DAYS[0], DAYS[2], owner=OWNERS[0], status="processed"),
    "no files": DashboardFilters("2027-01-01", "2027-01-31"),
    "all time": DashboardFilters(ALL_START, "2030-12-31"),
}
CASES = pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())


def test_the_generated_files_exercise_every_counter():
    assert len(RECORDS) == 300
    assert {r.status for r in RECORDS} == {FileStatus.PROCESSED, FileStatus.FAILED, FileStatus.EXPIRED}
    assert any(r.status is FileStatus.EXPIRED and r.reason for r in RECORDS)  # a failure's reason is kept
    assert {bucket_name(latency_of(r)) for r in RECORDS if r.processed_at} == {n for n, _ in latency_buckets()}
    assert any(not r.processed_at for r in RECORDS) and any(r.size is None for r in RECORDS)
    assert {format_of(r) for r in RECORDS} == {"pdf", "docx", "pptx", "png", "text", "unknown"}


def test_the_frame_sums_the_shards_per_cell():
    cells = aggregate_cells(RECORDS)
    assert len({sk.rsplit("#s", 1)[1] for _, sk in cells}) == AGG_SHARDS  # shards really are spread
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
        for name, _ in latency_buckets():
            assert row[f"share_{name}"] == pytest.approx(counts[name] / len(latencies))


@CASES
def test_failures_by_reason_equal_a_recount(f):
    want = Counter(reason_key(r.reason) for r in selected(RECORDS, f)
                   if r.status is FileStatus.FAILED and status_ok(r, f))
    assert rows(analytics.failures_by_reason(FRAME, f).frame) == ranked(want, "reason", "failures")


TAGGED = [replace(r, tags_counted=True) for r in tagged(make_records())]  # as the transactions store them
TAG_FRAME = analytics.aggregate_frame(aggregate_items(TAGGED))


@CASES
def test_top_tags_and_files_per_tag_over_time_equal_a_recount(f):
    shown = [r for r in selected(TAGGED, f) if status_ok(r, f)]
    want = ranked(Counter(tag for r in shown for tag in r.tags), "tag", "files")
    assert rows(tags.top_tags(TAG_FRAME, f).frame) == want[:tags.TOP_TAGS]
    top = [row["tag"] for row in want[:tags.TAGS_OVER_TIME]]
    per_day = Counter((tag, day_of(r)) for r in shown for tag in r.tags if tag in top)
    over_time = [{"day": day, "tag": tag, "files": n} for (tag, day), n in
                 sorted(per_day.items(), key=lambda kv: (top.index(kv[0][0]), kv[0][1]))]
    assert rows(tags.tags_over_time(TAG_FRAME, f).frame) == over_time
    assert analytics.NOTE_STATUS_PARTIAL not in tags.top_tags(TAG_FRAME, f).notes  # split by status


def test_tags_uncounted_by_the_store_are_not_in_the_figures():
    assert tags.top_tags(analytics.aggregate_frame(aggregate_items(tagged(make_records()))), FULL).empty


@CASES
def test_risk_flags_equal_a_recount(f):
    want = Counter(flag for r in selected(RECORDS, f) for flag in r.flags)
    assert rows(analytics.risk_flags(FRAME, f).frame) == ranked(want, "flag", "files")


@CASES
def test_top_uploaders_equal_a_recount(f):
    # Per-uploader cells have no format: the format filter is ignored here.
    f_all_formats = DashboardFilters(f.start, f.end, frozenset(), f.owner, f.status)
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
    slow = FileRecord(**{**record.__dict__, "processed_at": to_timestamp(
        datetime.fromisoformat(record.uploaded_at.replace("Z", "+00:00")) + timedelta(hours=3))})
    frame = analytics.aggregate_frame(aggregate_items([slow]))
    k = analytics.kpis(frame, FULL)
    assert k.median_latency_ms == k.p95_latency_ms == 300_000
    assert kpi_tiles(k)[4].value == "> 1 min"


# --- filters, scope and the assembled dashboard --------------------------------------------


def test_filters_are_validated_and_canonical():
    with pytest.raises(ValueError):
        DashboardFilters("2026-11-31", "2026-12-01")
    with pytest.raises(ValueError):
        DashboardFilters("2026-11-20", "2026-11-19")
    with pytest.raises(ValueError):
        DashboardFilters("2026-11-19", "2026-11-20", status="processing")
    f = DashboardFilters("2026-11-19", "2026-11-20", {"png", "pdf"}, "", "failed")
    assert f.owner is None and f.formats == frozenset({"pdf", "png"})
    assert f.key() == ("2026-11-19", "2026-11-20", ("pdf", "png"), "", "failed")
    assert DashboardFilters.from_key(f.key()) == f
    hash(f)


def test_presets_end_today_and_custom_ranges_are_sorted():
    today = date(2026, 11, 22)
    assert preset_range("7d", today) == ("2026-11-16", "2026-11-22")
    assert preset_range("30d", today) == ("2026-10-24", "2026-11-22")
    assert preset_range("365d", today) == ("2025-11-23", "2026-11-22")
    assert preset_range("all", today) == (ALL_START, "2026-11-22")
    assert preset_range("custom", today, (date(2026, 11, 3), date(2026, 11, 1))) == ("2026-11-01", "2026-11-03")
    assert preset_range("custom", today, (date(2026, 11, 3),)) == ("2026-11-03", "2026-11-03")
    assert preset_range("custom", today) == preset_range(DEFAULT_PRESET, today)
    with pytest.raises(ValueError):
        preset_range("forever", today)


def user(*groups: str, sub: str = OWNERS[0]) -> User:
    """A user in ``groups``; admins signed in with their authenticator code, so their rights apply."""
    return User(sub=sub, email="someone@example.com", groups=frozenset(groups), expires_at=2**40,
                second_factor=True)


def test_only_analysts_and_admins_see_everyone():
    assert Viewer.of(user("analysts")).sees_everyone and Viewer.of(user("admins")).sees_everyone
    assert Viewer.of(user("uploaders", "analysts")).sees_everyone
    assert not Viewer.of(user("uploaders")).sees_everyone and not Viewer.of(user()).sees_everyone
    mine = Viewer.of(user("uploaders"))
    assert mine.scope(DashboardFilters(DAYS[0], DAYS[1], owner=OWNERS[3])).owner == OWNERS[0]
    assert mine.scope(FULL).owner == OWNERS[0]
    assert Viewer.of(user("analysts")).scope(DashboardFilters(DAYS[0], DAYS[1], owner=OWNERS[3])).owner == OWNERS[3]


def test_an_uploaders_dashboard_is_their_own_whatever_the_filters_say():
    board = analytics.build_dashboard(FRAME, DashboardFilters(DAYS[0], DAYS[-1], owner=OWNERS[3]),
                                      Viewer.of(user("uploaders", sub=OWNERS[1])))
    assert board.filters.owner == OWNERS[1]
    assert board.kpis == analytics.kpis(FRAME, DashboardFilters(DAYS[0], DAYS[-1], owner=OWNERS[1]))
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
    board = analytics.build_dashboard(FRAME, DashboardFilters(DAYS[0], DAYS[-1], frozenset({"pdf"}), OWNERS[0], "failed"),
                                      Viewer.of(user("admins")))
    assert len(board.notes) == len(set(board.notes))
    assert set(board.notes) == {analytics.NOTE_FORMAT_IGNORED, analytics.NOTE_NO_FORMAT_SPLIT,
                                analytics.NOTE_STATUS_PARTIAL, analytics.NOTE_PEOPLE}


def test_a_long_range_draws_its_axis_from_the_first_upload():
    assert analytics.day_axis(FRAME, FILTERS["all time"]) == (DAYS[0], "2030-12-31")
    assert analytics.day_axis(FRAME, DashboardFilters("2000-01-01", "2001-01-01")) is None
    assert analytics.day_axis(FRAME, FILTERS["some days"]) == (DAYS[1], DAYS[3])


def test_tiles_are_formatted_for_people():
    k = analytics.Kpis(files=12_345, storage_bytes=1_500_000, processed_share=0.975, failures=3,
                       median_latency_ms=1000, p95_latency_ms=30_000, mean_processing_ms=1234.0)
    assert [(t.label, t.value) for t in kpi_tiles(k)] == [
        ("Files", "12,345"), ("Volume", "1.5 MB"), ("Processed", "97.5%"), ("Failures", "3"),
        ("Median latency", "≤ 1 s"), ("95th pct latency", "≤ 30 s"), ("Mean processing", "1.2 s")]
    unknown = analytics.Kpis(0, None, None, 0, None, None, None)
    assert [t.value for t in kpi_tiles(unknown)] == ["0", "—", "—", "0", "—", "—", "—"]
    assert [bucket_label(n) for n, _ in latency_buckets()][::3] == [
        "≤ 250 ms", "≤ 2 s", "≤ 30 s", "> 5 min"]


# --- sizes and names, recounted from the files ---------------------------------------


@pytest.mark.parametrize("name", list(FILTERS))
def test_the_size_distribution_is_the_recount(name):
    f = FILTERS[name]
    got = analytics.size_distribution(FRAME, f).frame
    files = [r for r in selected(RECORDS, f) if r.size is not None]
    want = Counter(next((b for b in SIZE_BOUNDS if r.size <= b), None) for r in files)
    if not files:
        assert got.empty
        return
    assert list(got["upper"]) == [b for _, b in analytics.SIZE_BUCKETS]
    assert list(got["files"]) == [*(want.get(b, 0) for b in SIZE_BOUNDS), want.get(None, 0)]
    assert (got["bucket"].iloc[0], got["bucket"].iloc[-1]) == ("≤ 10 KB", "> 100 MB")


def _names(records: Iterable[FileRecord], f: DashboardFilters, kind: str) -> Counter:
    counted = Counter()
    for r in records:
        in_scope = f.start <= day_of(r) <= f.end and f.owner in (None, r.owner)
        if in_scope and r.status is FileStatus.PROCESSED:
            name = document_people(r.metadata).get(kind)
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
    want = Counter(next((b for b in PAGES_BOUNDS if n <= b), None) for n in lengths)
    assert list(got["files"]) == [*(want.get(b, 0) for b in PAGES_BOUNDS), want.get(None, 0)]
    assert list(got["bucket"]) == ["≤ 1 page", "2–5 pages", "6–10 pages", "11–50 pages", "51–100 pages",
                                   "> 100 pages"]
