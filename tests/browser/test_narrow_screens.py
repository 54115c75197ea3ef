"""Issue 16's narrow screens in a real browser (Debian's chromium) against `make run`'s system.

On a phone-sized screen (390 x 844) the Files list fits: the page never
scrolls sideways, the table stays inside the screen and scrolls inside
itself, and no two of the page's buttons overlap or leave the screen. The
dashboard's charts are stacked, each within the screen. The
sidebar is folded away on a phone, so the journey follows links in the pages.
"""

from __future__ import annotations

import pytest

from devstack.provision import DEFAULT_DEMO_PASSWORD
from tests.helpers.browser import sign_in, upload_files
from tests.helpers.files import tiny_pdf

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


#: Streamlit's own buttons on the page, outermost only (not the table's toolbar).
_CONTROLS = "[data-testid=stMain] [data-testid^=stBaseButton]"


def controls(page) -> list[dict]:
    return page.evaluate("""sel => [...document.querySelectorAll(sel)]
        .filter(e => !e.parentElement.closest(sel) && !e.closest('[data-testid=stDataFrame]')
                     && !e.closest('[data-testid=stElementToolbar]'))
        .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0)
        .map(r => ({x: r.x, y: r.y, width: r.width, height: r.height}))""", _CONTROLS)


def boxes(page, selector: str) -> list[dict]:
    return [b for b in (e.bounding_box() for e in page.locator(selector).all() if e.is_visible()) if b]


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] - 1 and b["x"] < a["x"] + a["width"] - 1
            and a["y"] < b["y"] + b["height"] - 1 and b["y"] < a["y"] + a["height"] - 1)


def page_width(page) -> int:
    """The widest the page or its scrolling main part is drawn (Streamlit's main part scrolls by itself)."""
    return int(page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth,"
                             " document.querySelector('[data-testid=stMain]').scrollWidth)"))


def test_the_files_list_and_the_dashboard_fit_a_phone_screen(page, tmp_path):
    page.set_viewport_size(PHONE)
    sign_in(page, "uploader@example.com", DEFAULT_DEMO_PASSWORD)
    page.get_by_role("heading", name="My files").wait_for()
    # The sidebar is folded away on a phone: the empty list's own link leads to Upload.
    upload_files(page, "Upload files", {f"A rather long quarterly report name {i}.pdf": tiny_pdf(f"q{i}")
                                        for i in range(3)}, tmp_path)
    page.get_by_text("3 file(s), all done.").wait_for()

    assert page_width(page) <= PHONE["width"], "the page does not scroll sideways"
    (table,) = boxes(page, "[data-testid=stDataFrame]")
    assert table["x"] >= 0 and table["x"] + table["width"] <= PHONE["width"]
    scroller = page.locator("[data-testid=stDataFrame] .dvn-scroller").first
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth"), "the table scrolls inside itself"
    shown = controls(page)
    assert len(shown) >= 3 and all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] + 1 for b in shown)
    clashes = [(a, b) for i, a in enumerate(shown) for b in shown[i + 1:] if overlap(a, b)]
    assert not clashes, "no two buttons overlap"

    # The dashboard of the same files: charts stacked, each within the screen.
    origin = "/".join(page.url.split("/")[:3])
    page.goto(f"{origin}/dashboard")  # the sidebar is folded away on a phone; the session lasts
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_timeout(1000)  # plotly sizes its charts to their columns after drawing

    assert page_width(page) <= PHONE["width"], "the page does not scroll sideways"
    charts = boxes(page, ".js-plotly-plot")
    assert len(charts) >= 2
    assert all(c["x"] >= 0 and c["x"] + c["width"] <= PHONE["width"] + 1 for c in charts), "charts fit the screen"
    beside = [(a, b) for i, a in enumerate(charts) for b in charts[i + 1:]
              if a["y"] < b["y"] + b["height"] - 1 and b["y"] < a["y"] + a["height"] - 1]
    assert not beside, "the charts are stacked, not side by side"
