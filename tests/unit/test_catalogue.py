"""The catalogue both sides import: its tables agree with each other and with the extractor."""

from __future__ import annotations

import pytest

from common import catalogue
from common.catalogue import (
    COUNTED_STATUSES,
    EXTENSION_FORMATS,
    FAMILIES,
    FIELD_GROUPS,
    FORMAT_NAMES,
    METADATA_FIELDS,
    MIME_TYPES,
    PARSER_FLAGS,
    QUALITY_FLAGS,
    RISK_FLAGS,
    FileStatus,
    Flag,
)
from extractor.extract import PARSERS


def test_format_names_are_unique_and_each_has_a_mime_type():
    assert len(FORMAT_NAMES) == len(set(FORMAT_NAMES))
    assert all("/" in MIME_TYPES[name] for name in FORMAT_NAMES)


def test_every_extension_promises_catalogued_formats():
    for extension, formats in EXTENSION_FORMATS.items():
        assert formats and formats <= set(FORMAT_NAMES), extension


def test_the_extractor_parses_only_catalogued_formats():
    assert set(PARSERS) <= set(FORMAT_NAMES)


def test_every_upload_family_names_extensions_the_extractor_knows():
    assert len({f.name for f in FAMILIES}) == len(FAMILIES)
    for family in FAMILIES:
        assert family.extensions and family.extensions <= set(EXTENSION_FORMATS), family.name


def test_flags_are_risks_or_quality_notes_and_parsers_raise_only_some():
    assert set(RISK_FLAGS).isdisjoint(QUALITY_FLAGS)
    assert set(RISK_FLAGS) | set(QUALITY_FLAGS) == set(Flag)
    assert set(Flag) > PARSER_FLAGS
    assert {Flag.TYPE_MISMATCH, Flag.DUPLICATE, Flag.EMPTY}.isdisjoint(PARSER_FLAGS)  # the extractor adds these
    assert Flag.TYPE_MISMATCH.label == "type mismatch" and Flag("gps") is Flag.GPS


def test_metadata_fields_are_unique_grouped_and_labelled():
    names = [f.name for f in METADATA_FIELDS]
    assert len(names) == len(set(names))
    assert {f.group for f in METADATA_FIELDS} <= set(FIELD_GROUPS)
    assert catalogue.FIELDS_BY_NAME["pdfa"].title == "PDF/A"
    assert catalogue.FIELDS_BY_NAME["camera_make"].title == "Camera make"


def test_counted_statuses_are_the_finished_ones_that_still_count():
    assert set(COUNTED_STATUSES) == {s for s in FileStatus if s.terminal} - {FileStatus.DELETED}


@pytest.mark.parametrize(("extension", "fmt", "expected"), [
    ("pdf", "pdf", False), ("pdf", "png", True), ("docm", "docx", False), ("exe", "pdf", False),
    ("pdf", "unknown", False), ("txt", "empty", False),
])
def test_type_mismatch(extension, fmt, expected):
    assert catalogue.type_mismatch(extension, fmt) is expected


def test_a_pending_upload_is_not_terminal_and_counted_nowhere():
    from common.schema.lifecycle import is_counted
    from tests.helpers.records import sample_record

    assert not FileStatus.PENDING.terminal
    assert FileStatus.PENDING not in COUNTED_STATUSES
    assert not is_counted(sample_record(status=FileStatus.PENDING, expires_at=2**31))
