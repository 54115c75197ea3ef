"""Saved Files views: named, canonical URLs, a few per user, read back defensively."""

from __future__ import annotations

import pytest

from common.catalogue import FileStatus
from portal.files import links, saved
from portal.files.explorer import FileFilters
from portal.files.saved import InvalidView, SavedView

FAILED_PDFS = FileFilters(statuses=frozenset({FileStatus.FAILED}), formats=frozenset({"pdf"}), counted=True)


def test_a_view_holds_its_filters_canonical_url():
    view = saved.named("  Failed  PDFs ", FAILED_PDFS)
    assert view.name == "Failed PDFs"
    assert links.parse(view.params, owners=None).filters == FAILED_PDFS


@pytest.mark.parametrize("name", ["", "   ", "x" * (saved.MAX_NAME + 1), "tab\there", "nul\x00"])
def test_bad_names_are_refused_with_a_message(name):
    with pytest.raises(InvalidView):
        saved.named(name, FAILED_PDFS)


def test_a_name_saved_again_replaces_its_view_and_the_list_is_bounded():
    views = saved.add((), saved.named("a", FileFilters()))
    views = saved.add(views, saved.named("b", FAILED_PDFS))
    views = saved.add(views, saved.named("a", FAILED_PDFS))
    assert [v.name for v in views] == ["a", "b"] and views[0].query == views[1].query
    for i in range(saved.MAX_VIEWS - 2):
        views = saved.add(views, saved.named(f"v{i}", FileFilters()))
    with pytest.raises(InvalidView):
        saved.add(views, saved.named("one too many", FileFilters()))
    assert [v.name for v in saved.remove(views, "a")][:1] == [f"v{saved.MAX_VIEWS - 3}"]


def test_stored_text_round_trips_and_damaged_text_reads_as_nothing():
    views = (saved.named("a", FAILED_PDFS), saved.named("b", FileFilters()))
    assert saved.decode(saved.encode(views)) == views
    for damaged in ("", "not json", "{}", '[{"name": 3}]', '[{"name": "x", "query": 5}]', "[1, 2]"):
        assert saved.decode(damaged) == ()
    assert saved.decode('[{"name": "ok", "query": "status=failed"}, {"name": ""}]') == (
        SavedView("ok", "status=failed"),)
