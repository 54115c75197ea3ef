"""The Files explorer's pure logic: filters, matching, sorting, page tokens, the pager."""

from __future__ import annotations

import pytest

from common.catalogue import FileStatus
from portal.files import explorer
from portal.files.explorer import BadPageToken, FileFilters, InvalidFilter, Pager, SortKey
from tests.helpers.records import sample_record


@pytest.mark.parametrize("kw", [
    {"start_day": "2026-13-01"}, {"end_day": "yesterday"}, {"start_day": "2026-11-30", "end_day": "2026-11-01"},
    {"text": "x" * (explorer.MAX_SEARCH_LENGTH + 1)}, {"statuses": frozenset({"lost"})}, {"sort": "random"},
])
def test_bad_filters_are_refused_with_a_message(kw):
    with pytest.raises(InvalidFilter):
        FileFilters(**kw)


def test_filters_are_normalised_and_survive_their_key():
    f = FileFilters(statuses=frozenset({"failed"}), formats=frozenset({" PDF ", ""}), text="  q3   report ",
                owner="", start_day="2026-11-01", sort="oldest")
    assert f.statuses == {FileStatus.FAILED} and f.formats == {"pdf"} and f.text == "q3 report"
    assert f.owner is None and f.sort is SortKey.OLDEST and not f.newest_first
    assert FileFilters.from_key(f.key()) == f
    assert f.day_range == ("2026-11-01", "9999-12-31")
    assert hash(f.key()) == hash(FileFilters.from_key(f.key()).key())


@pytest.mark.parametrize(("filters", "expected"), [
    (FileFilters(), True),
    (FileFilters(text="q3 report"), True),
    (FileFilters(text="QUARTERLY"), True),           # title
    (FileFilters(text="jane"), True),                # author
    (FileFilters(text="secret"), False),             # subject is not searched
    (FileFilters(statuses=frozenset({FileStatus.FAILED})), False),
    (FileFilters(formats=frozenset({"pdf", "png"})), True),
    (FileFilters(formats=frozenset({"png"})), False),
    (FileFilters(flags=frozenset({"macros"})), False),
    (FileFilters(start_day="2026-11-22", end_day="2026-11-22"), True),
    (FileFilters(start_day="2026-11-23"), False),
    (FileFilters(end_day="2026-11-21"), False),
    (FileFilters(owner="bob"), False),
])
def test_matching(filters, expected):
    assert explorer.matches(sample_record(), filters) is expected


def test_deleted_files_are_hidden_unless_asked_for_and_flags_match_any():
    gone = sample_record(status=FileStatus.DELETED)
    assert not explorer.matches(gone, FileFilters())
    assert explorer.matches(gone, FileFilters(statuses=frozenset({FileStatus.DELETED})))
    flagged = sample_record(flags=("gps", "macros"))
    assert explorer.matches(flagged, FileFilters(flags=frozenset({"macros", "encrypted"})))
    assert explorer.matches(sample_record(format=""), FileFilters(formats=frozenset({"unknown"})))
    assert explorer.matches(sample_record(metadata={"author": ["Ann", "Jane Doe"]}), FileFilters(text="jane doe"))
    assert explorer.matches(sample_record(metadata={"author": None}), FileFilters(text="report"))


def test_sorting_a_page():
    a = sample_record(file_id="a" * 32, name="b.txt", size=5, uploaded_at="2026-11-01T00:00:00.000Z",
               status=FileStatus.FAILED)
    b = sample_record(file_id="b" * 32, name="A.txt", size=None, uploaded_at="2026-11-02T00:00:00.000Z")
    c = sample_record(file_id="c" * 32, name="c.txt", size=50, uploaded_at="2026-11-03T00:00:00.000Z",
               status=FileStatus.UPLOADED)
    ids = lambda rs: [r.file_id[0] for r in rs]  # noqa: E731
    assert ids(explorer.sort_records([a, b, c], SortKey.NEWEST)) == ["c", "b", "a"]
    assert ids(explorer.sort_records([c, a, b], SortKey.OLDEST)) == ["a", "b", "c"]
    assert ids(explorer.sort_records([a, b, c], SortKey.NAME)) == ["b", "a", "c"]
    assert ids(explorer.sort_records([a, b, c], SortKey.SIZE)) == ["c", "a", "b"]
    assert ids(explorer.sort_records([a, b, c], SortKey.STATUS)) == ["c", "b", "a"]


KEY = {"pk": {"S": "FILE#1"}, "sk": {"S": "FILE"}, "gsi1pk": {"S": "OWNER#ann"}, "gsi1sk": {"S": "2026#1"}}


def test_tokens_round_trip_only_for_their_view():
    bound = explorer.fingerprint("ann|uploaders", FileFilters())
    token = explorer.encode_token(KEY, bound)
    assert explorer.decode_token(token, bound) == KEY
    assert token.replace("-", "").replace("_", "").isalnum()  # URL-safe, no padding
    for other in (explorer.fingerprint("bob|uploaders", FileFilters()),
                  explorer.fingerprint("ann|uploaders", FileFilters(text="x")),
                  explorer.fingerprint("ann|uploaders", FileFilters(sort=SortKey.OLDEST))):
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


# --- the dashboard's cuts: failure reason, size and page buckets, counted files only -------


@pytest.mark.parametrize(("record", "filters", "expected"), [
    (sample_record(status=FileStatus.FAILED, reason="encrypted PDF: no password"),
     FileFilters(reason="encrypted PDF"), True),
    (sample_record(status=FileStatus.FAILED, reason="encrypted PDF: no password"),
     FileFilters(reason="boom"), False),
    (sample_record(status=FileStatus.PROCESSED, reason="encrypted PDF: old"), FileFilters(reason="encrypted PDF"),
     False),  # the counters count reasons of failed files only
    (sample_record(size=1500), FileFilters(size_bucket="size_le_10000"), True),
    (sample_record(size=10_001), FileFilters(size_bucket="size_le_10000"), False),
    (sample_record(size=None), FileFilters(size_bucket="size_le_10000"), False),
    (sample_record(size=200_000_000), FileFilters(size_bucket="size_gt_100000000"), True),
    (sample_record(metadata={"pages": 4}), FileFilters(pages_bucket="pages_le_5"), True),
    (sample_record(metadata={"slides": 7}), FileFilters(pages_bucket="pages_le_10"), True),
    (sample_record(metadata={"pages": True}), FileFilters(pages_bucket="pages_le_1"), False),
    (sample_record(metadata={}), FileFilters(pages_bucket="pages_le_1"), False),
    (sample_record(rev="00AB#finished"), FileFilters(counted=True), True),
    (sample_record(rev=""), FileFilters(counted=True), False),  # the portal's own failures were never counted
    (sample_record(rev="00AB#claimed", status=FileStatus.PROCESSING), FileFilters(counted=True), False),
    (sample_record(rev="00AB#deleted", status=FileStatus.DELETED),
     FileFilters(counted=True, statuses=frozenset({FileStatus.DELETED})), False),
])
def test_the_dashboards_cuts(record, filters, expected):
    assert explorer.matches(record, filters) is expected


@pytest.mark.parametrize("kw", [{"size_bucket": "size_le_7"}, {"pages_bucket": "latency_le_250"},
                                {"reason": "x" * 101}])
def test_unknown_buckets_and_overlong_reasons_are_refused(kw):
    with pytest.raises(InvalidFilter):
        FileFilters(**kw)


def test_the_new_filters_survive_their_key():
    f = FileFilters(reason=" boom ", size_bucket="size_le_10000", pages_bucket="pages_gt_100", counted=True)
    assert f.reason == "boom"
    assert FileFilters.from_key(f.key()) == f
    assert explorer.fingerprint("x", f) != explorer.fingerprint("x", FileFilters())


@pytest.mark.parametrize(("filters", "expected"), [
    (FileFilters(tags=frozenset({"Q3 "})), True),                                   # normalised as at upload
    (FileFilters(tags=frozenset({"q3", "legal"})), True),                           # any
    (FileFilters(tags=frozenset({"q3", "legal"}), all_tags=True), False),           # all
    (FileFilters(tags=frozenset({"q3", "board pack"}), all_tags=True), True),
    (FileFilters(tags=frozenset({"legal"})), False),
    (FileFilters(all_tags=True), True),                                             # no tags: no cut
])
def test_tags_match_any_or_all(filters, expected):
    assert explorer.matches(sample_record(tags=("q3", "board pack")), filters) is expected
    assert not explorer.matches(sample_record(), filters) or not filters.tags


def test_the_tag_filter_survives_its_key_and_bad_tags_are_refused():
    f = FileFilters(tags=explorer.tag_filter(" Board Pack, q3"), all_tags=True)
    assert f.tags == {"board pack", "q3"} and FileFilters.from_key(f.key()) == f
    assert not FileFilters(all_tags=True).all_tags  # "all" of no tags is no filter
    assert explorer.fingerprint("x", f) != explorer.fingerprint("x", FileFilters(tags=f.tags))
    for bad in ("semi;colon", "x" * 40, ",".join(f"t{i}" for i in range(11))):
        with pytest.raises(InvalidFilter):
            explorer.tag_filter(bad)
