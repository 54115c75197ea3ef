"""The shared OOXML and OpenDocument property readers (extractor.formats.xmlparts): dates and counts."""

from __future__ import annotations

import pytest

from extractor.formats.xmlparts import count_value, iso_date


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
    (" 2026-01-02T03:04:05z ", "2026-01-02T03:04:05Z"),
    ("2026-01-02T03:04:05.125+00:00", "2026-01-02T03:04:05.125Z"),
    ("2026-01-02T03:04:05+0000", "2026-01-02T03:04:05Z"),
    ("2026-01-02T03:04:05+02:00", "2026-01-02T03:04:05+02:00"),
    ("2026-01-02T03:04:05.123456789", "2026-01-02T03:04:05.123456789"),
    ("2026-01-02", "2026-01-02"),
    ("", None), (None, None), ("02/01/2026", None),
])
def test_iso_date(value: str | None, expected: str | None) -> None:
    assert iso_date(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (" 0 ", 0), ("-3", None), ("1.5", None),
                                                 ("", None), (None, None), ("9" * 40, None)])
def test_count_value(value: str | None, expected: int | None) -> None:
    assert count_value(value) == expected
