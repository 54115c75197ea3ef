"""The upload-time index read as one stream: shards merged, pages resumed from one position."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.schema.keys import UPLOAD_INDEX, UPLOAD_SHARDS, upload_keys, upload_shard
from common.schema.timeline import Chunk, Span, chunks, merged, position, span


class Shards:
    """An in-memory index: each shard's items sorted by position, queried like DynamoDB (inclusive BETWEEN)."""

    def __init__(self, files):
        self.shards = {s: [] for s in range(UPLOAD_SHARDS)}
        for uploaded_at, file_id in files:
            keys = upload_keys(uploaded_at, file_id)
            self.shards[upload_shard(file_id)].append({k: {"S": v} for k, v in keys.items()})
        for items in self.shards.values():
            items.sort(key=position)
        self.calls = []

    def fetch(self, shard: int, part: Span, limit: int) -> Chunk:
        self.calls.append((shard, part, limit))
        found = [i for i in self.shards[shard] if part.low <= position(i) <= part.high]
        if part.newest_first:
            found.reverse()
        return Chunk(found[:limit], more=len(found) > limit)


def files_on(days, per_day, seed=0):
    ids = (f"{seed:08x}{n:024x}" for n in itertools.count())
    return [(f"{day}T{h % 24:02d}:{h % 60:02d}:00.000Z", next(ids)) for day in days for h in range(per_day)]


def every(files, newest_first):
    return sorted((f"{t}#{i}" for t, i in files), reverse=newest_first)


def test_shards_are_a_stable_even_spread_of_the_file_ids():
    counts = [0] * UPLOAD_SHARDS
    for n in range(8000):
        counts[upload_shard(f"{n:032x}")] += 1
    assert upload_shard("ab" * 16) == upload_shard("ab" * 16)
    assert min(counts) > 800 and max(counts) < 1200
    assert upload_keys("2026-11-01T10:00:00.000Z", "ab" * 16) == {
        UPLOAD_INDEX.partition_key: f"UPLOADS#{upload_shard('ab' * 16)}",
        UPLOAD_INDEX.sort_key: f"2026-11-01T10:00:00.000Z#{'ab' * 16}"}


@pytest.mark.parametrize("newest_first", [True, False])
def test_the_merge_is_the_global_order_across_shards_and_days(newest_first):
    files = files_on(["2026-11-01", "2026-11-02", "2026-11-03"], 40)
    index = Shards(files)
    got = [position(i) for i in merged(index.fetch, span("2026-11-01", "2026-11-03", newest_first=newest_first),
                                       first=3, most=50)]
    assert got == every(files, newest_first)


def test_only_the_days_asked_for_are_read():
    files = files_on(["2026-10-31", "2026-11-01", "2026-11-02"], 30)
    index = Shards(files)
    got = [position(i) for i in merged(index.fetch, span("2026-11-01", "2026-11-01", newest_first=True),
                                       first=5, most=50)]
    assert got == every([f for f in files if f[0].startswith("2026-11-01")], True)
    assert all(call[1] == Span("2026-11-01", "2026-11-01~", True) for call in index.calls[:UPLOAD_SHARDS])


def test_empty_days_and_empty_shards_end_the_stream():
    index = Shards(files_on(["2026-11-01"], 3))
    assert list(merged(index.fetch, span("2026-12-01", "2026-12-31", newest_first=True), first=5, most=50)) == []
    assert len(index.calls) == UPLOAD_SHARDS  # one query per shard, nothing more


def test_a_first_page_reads_little_more_than_it_shows():
    index = Shards(files_on([f"2026-11-{d:02d}" for d in range(1, 29)], 100))
    stream = merged(index.fetch, span("2026-11-01", "2026-11-28", newest_first=True), first=8, most=100)
    page = list(itertools.islice(stream, 50))
    assert len(page) == 50
    read = sum(limit for _, _, limit in index.calls)
    assert read <= 50 + 2 * 8 * UPLOAD_SHARDS


@pytest.mark.parametrize("newest_first", [True, False])
def test_a_position_resumes_every_shard_exactly(newest_first):
    files = files_on(["2026-11-01", "2026-11-02"], 37)
    index = Shards(files)
    seen, after = [], None
    while True:
        whole = span("2026-11-01", "2026-11-02", newest_first=newest_first, after=after)
        page = [position(i) for i in itertools.islice(merged(index.fetch, whole, first=2, most=4), 9)]
        if not page:
            break
        seen += page
        after = page[-1]
    assert seen == every(files, newest_first)


def test_a_position_outside_the_days_is_refused():
    with pytest.raises(ValueError, match="outside"):
        span("2026-11-01", "2026-11-02", newest_first=True, after="2026-11-03T00:00:00.000Z#" + "0" * 32)
    with pytest.raises(ValueError, match="outside"):
        span("2026-11-01", "2026-11-02", newest_first=False, after="2026-10-31T23:59:59.999Z#" + "0" * 32)


def test_chunks_cut_a_stream_into_pages():
    assert [len(c) for c in chunks(({"n": n} for n in range(7)), 3)] == [3, 3, 1]
    assert list(chunks([], 3)) == []


@settings(max_examples=60, deadline=None)
@given(times=st.lists(st.integers(0, 2000), max_size=120), page=st.integers(1, 30), first=st.integers(1, 9),
       newest_first=st.booleans())
def test_paging_through_any_index_shows_every_file_once_in_order(times, page, first, newest_first):
    files = [(f"2026-11-{1 + t // 100:02d}T00:00:{t % 60:02d}.000Z", f"{n:032x}") for n, t in enumerate(times)]
    index = Shards(files)
    seen, after = [], None
    while True:
        whole = span("2026-11-01", "2026-11-30", newest_first=newest_first, after=after)
        got = [position(i) for i in itertools.islice(merged(index.fetch, whole, first=first, most=16), page)]
        if not got:
            break
        seen += got
        after = got[-1]
    assert seen == every(files, newest_first)
