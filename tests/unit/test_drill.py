"""Drill-through: every dashboard figure links to a Files view holding exactly the files it counts.

The oracle is the Files view's own matching (:func:`portal.files.explorer.matches`)
over the files themselves, the filters read back from each link's URL as the
Files page reads them. tests/aws/test_drill_through.py checks the same against
the counters and the Files view's reads on moto.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from common.catalogue import FileStatus
from portal.dashboard import analytics, drill
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.files import explorer, links
from tests.helpers.records import DAYS, OWNERS, aggregate_items, make_records, tagged

COUNTED = [replace(r, rev=f"00{i:04X}#finished", tags_counted=True)
           for i, r in enumerate(tagged(make_records(400, seed=16)))]
#: Files the counters leave out: the portal's own failures (no ``rev``: no transaction counted them),
#: deleted, waiting and retried files. The Files view holds them; the links must not count them.
UNCOUNTED = [replace(r, rev="") for r in tagged(make_records(30, seed=17)) if r.status is FileStatus.FAILED] + [
    replace(r, rev="00FF#x", status=s) for r, s in zip(tagged(make_records(30, seed=18)), [
        FileStatus.DELETED, FileStatus.UPLOADED, FileStatus.PROCESSING] * 10, strict=True)]
RECORDS = COUNTED + UNCOUNTED
FRAME = analytics.aggregate_frame(aggregate_items(COUNTED))
ANALYST = Viewer("analyst", sees_everyone=True)


def files_behind(link: drill.Link, viewer: Viewer) -> int:
    parsed = links.parse(link.params, owners=set(OWNERS) if viewer.sees_everyone else None)
    assert parsed.notes == (), parsed.notes  # a link the portal made is never refused
    mine = (lambda r: True) if viewer.sees_everyone else (lambda r: r.owner == viewer.sub)
    return sum(explorer.matches(r, parsed.filters) and mine(r) for r in RECORDS)


FILTERS = [
    DashboardFilters(DAYS[0], DAYS[-1]),
    DashboardFilters(DAYS[1], DAYS[3], status="failed"),
    DashboardFilters(DAYS[0], DAYS[-1], status="processed", formats=frozenset({"pdf", "unknown"})),
    DashboardFilters(DAYS[0], DAYS[-1], owner=OWNERS[1]),
    DashboardFilters(DAYS[2], DAYS[2], owner=OWNERS[2], formats=frozenset({"pdf"}), status="expired"),
]


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("viewer", [ANALYST, Viewer(OWNERS[1], sees_everyone=False)])
def test_every_figure_equals_the_files_its_link_shows(filters, viewer):
    board = analytics.build_dashboard(FRAME, filters, viewer)
    every = drill.links_for(board, everyone=viewer.sees_everyone)
    assert {"kpis", "uploads", "failures", "flags", "tags", "tags_over_time", "size_distribution",
            "pages_histogram"} <= set(every)
    assert ("uploaders" in every) is viewer.sees_everyone
    checked = 0
    for chart, found in every.items():
        for link in found:
            assert link.figure == files_behind(link, viewer), (chart, link)
            checked += 1
    assert checked > 10


def test_tag_figures_link_with_the_tag_filter_and_the_status():
    board = analytics.build_dashboard(FRAME, FILTERS[1], ANALYST)
    every = drill.links_for(board, everyone=True)
    assert every["tags"] and every["tags_over_time"]
    (tag,) = every["tags"][0].params["tag"]
    assert every["tags"][0].params["status"] == ["failed"] and every["tags"][0].label == tag
    day = every["tags_over_time"][0].params["from"]
    assert every["tags_over_time"][0].params["to"] == day and every["tags_over_time"][0].label.endswith(day[0])


def test_a_board_without_tags_has_no_tag_links():
    board = analytics.build_dashboard(analytics.aggregate_frame(aggregate_items(make_records(20))), FILTERS[0],
                                      ANALYST)
    assert board.tags.empty and board.tags_over_time.empty
    every = drill.links_for(board, everyone=True)
    assert every["tags"] == () and every["tags_over_time"] == ()


def test_kpi_links_name_their_tiles_and_carry_the_period():
    board = analytics.build_dashboard(FRAME, FILTERS[0], ANALYST)
    kpis = {link.label: link for link in drill.links_for(board, everyone=True)["kpis"]}
    assert set(kpis) == {"Files", "Processed", "Failures"}
    assert kpis["Files"].figure == board.kpis.files > 0
    assert kpis["Failures"].params["status"] == [FileStatus.FAILED.value]
    assert kpis["Files"].params["from"] == [DAYS[0]] and kpis["Files"].params["to"] == [DAYS[-1]]
    assert kpis["Files"].params["counted"] == ["1"]


def test_an_uploaders_links_name_no_uploader():
    board = analytics.build_dashboard(FRAME, FILTERS[0], Viewer(OWNERS[0], sees_everyone=False))
    assert all("owner" not in link.params for found in drill.links_for(board, everyone=False).values()
               for link in found)
