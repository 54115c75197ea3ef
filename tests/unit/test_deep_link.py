"""Which page a link names, and the query kept for it (portal.deep_link)."""

from __future__ import annotations

import pytest

from portal import deep_link
from portal.deep_link import DeepLink

PAGES = frozenset({"files", "dashboard", "users"})
ORIGIN = "https://portal.example.com"


@pytest.mark.parametrize(("url", "page"), [
    (ORIGIN + "/dashboard", "dashboard"),
    (ORIGIN + "/dashboard/", "dashboard"),
    ("http://localhost:8501/users", "users"),
    (ORIGIN, None),
    (ORIGIN + "/", None),
    (ORIGIN + "/nothing", None),
    (ORIGIN + "/Dashboard", None),
    (ORIGIN + "/dashboard/more", None),
    (None, None),
    ("", None),
])
def test_only_a_known_page_segment_counts(url, page):
    assert deep_link.page_of(url, PAGES) == page


def test_a_base_path_is_taken_off_first():
    assert deep_link.page_of(ORIGIN + "/docs/dashboard", PAGES, "/docs/") == "dashboard"
    assert deep_link.page_of(ORIGIN + "/docs", PAGES, "docs") is None


def test_the_query_keeps_repeated_values_in_order():
    link = deep_link.link_for(ORIGIN + "/dashboard", [("range", ["90 days"]), ("format", ["pdf", "docx"])], PAGES)
    assert link == DeepLink("dashboard", (("range", ("90 days",)), ("format", ("pdf", "docx"))))
    assert link.params() == {"range": ["90 days"], "format": ["pdf", "docx"]}


def test_the_query_is_bounded():
    kept = deep_link.kept_query([(f"k{i}", ["v"]) for i in range(100)])
    assert len(kept) == deep_link.MAX_PARAMS


def test_the_destination_must_be_a_page_the_user_may_open():
    link = DeepLink("users")
    assert deep_link.destination(link, ["files", "users"]) == link
    assert deep_link.destination(link, ["files"]) is None
    assert deep_link.destination(None, ["files"]) is None
