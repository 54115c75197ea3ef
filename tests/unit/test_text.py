"""Words and numbers as people read them (portal.text): times in a zone, sizes, escaped Markdown."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from portal import text

BERLIN = ZoneInfo("Europe/Berlin")


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
    assert text.local_time(value, tz) == expected


def test_unknown_zones_fall_back_to_utc():
    assert text.zone("Europe/Berlin") == BERLIN
    assert text.zone("Mars/Olympus") is dt.UTC and text.zone(None) is dt.UTC and text.zone("../x") is dt.UTC


def test_markdown_is_shown_literally():
    assert text.md_escape("![x](https://e.test/t.png) :red[a] *b*") == (
        r"\!\[x\]\(https\:\/\/e\.test\/t\.png\) \:red\[a\] \*b\*")
    assert text.md_escape("two\nlines") == "two lines"


def test_human_size():
    assert text.human_size(None) == "—"
    assert text.human_size(0) == "0 B"
    assert text.human_size(999) == "999 B"
    assert text.human_size(1500) == "1.5 KB"
    assert text.human_size(3_200_000) == "3.2 MB"
    assert text.human_size(10**16) == "10000.0 TB"
