"""The Files view's filters in its URL: read defensively, written back canonically."""

from __future__ import annotations

import pytest

from common.catalogue import FileStatus
from portal.files import links
from portal.files.explorer import FileFilters, SortKey

OWNERS = {"sub-ann", "sub-bob"}


def test_every_filter_round_trips_through_the_url():
    f = FileFilters(statuses=frozenset({FileStatus.FAILED, FileStatus.PROCESSED}), formats=frozenset({"pdf", "png"}),
                    flags=frozenset({"macros"}), start_day="2026-11-01", end_day="2026-11-30", owner="sub-ann",
                    text="q3 report", sort=SortKey.NAME, reason="encrypted PDF", size_bucket="size_le_10000",
                    pages_bucket="pages_le_5", counted=True, tags=frozenset({"q3", "board pack"}), all_tags=True)
    params = links.to_params(f)
    assert all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in params.values())
    parsed = links.parse(params, owners=OWNERS)
    assert parsed.filters == f and parsed.notes == ()


def test_defaults_leave_the_url_empty():
    assert links.to_params(FileFilters()) == {}
    assert links.parse({}, owners=OWNERS) == links.ParsedUrl(FileFilters(), ())


@pytest.mark.parametrize(("params", "kept"), [
    ({"format": ["pdf", "exe<script>"]}, FileFilters(formats=frozenset({"pdf"}))),
    ({"flag": ["nosuchflag"]}, FileFilters()),
    ({"status": ["lost", "failed"]}, FileFilters(statuses=frozenset({FileStatus.FAILED}))),
    ({"from": ["2026-13-01"], "to": ["2026-11-02"]}, FileFilters(end_day="2026-11-02")),
    ({"from": ["2026-11-30"], "to": ["2026-11-01"]}, FileFilters()),
    ({"owner": ["sub-eve"]}, FileFilters()),
    ({"size": ["size_le_7"]}, FileFilters()),
    ({"pages": ["DROP TABLE"]}, FileFilters()),
    ({"sort": ["random"]}, FileFilters()),
    ({"q": ["x" * 500]}, FileFilters()),
    ({"tag": ["Q3", "semi;colon", "x" * 40]}, FileFilters(tags=frozenset({"q3"}))),
    ({"tag": [f"t{i}" for i in range(11)]}, FileFilters()),
    ({"tag": ["q3"], "tags": ["every<b>"]}, FileFilters(tags=frozenset({"q3"}))),
    ({"reason": ["y" * 500]}, FileFilters()),
    ({"counted": ["maybe"]}, FileFilters()),
])
def test_invalid_values_are_dropped_with_a_note_never_an_exception(params, kept):
    parsed = links.parse(params, owners=OWNERS)
    assert parsed.filters == kept
    assert parsed.notes and all(len(n) < 200 for n in parsed.notes)


def test_an_uploader_cannot_choose_an_uploader_through_the_url():
    parsed = links.parse({"owner": ["sub-bob"], "format": ["pdf"]}, owners=None)
    assert parsed.filters == FileFilters(formats=frozenset({"pdf"}))
    assert parsed.notes


def test_repeated_single_values_take_the_first_and_unknown_names_are_ignored():
    parsed = links.parse({"owner": ["sub-ann", "sub-bob"], "file": ["abc"], "range": ["7d"]}, owners=OWNERS)
    assert parsed.filters == FileFilters(owner="sub-ann")
