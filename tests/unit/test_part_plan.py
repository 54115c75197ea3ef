"""How a large direct upload is cut into parts, and from what size it is: S3's limits and ~100 MB."""

from __future__ import annotations

import pytest

from common.settings import Settings, SettingsError
from portal.files.upload_policy import MAX_PARTS, MIN_PART_BYTES, MiB, part_plan


def test_uploads_above_about_100_mb_go_in_parts_by_default():
    assert Settings().upload_multipart_mb == 100
    assert Settings.from_env({"DOCPORTAL_UPLOAD_MULTIPART_MB": "5"}, need_stack=False).upload_multipart_mb == 5


@pytest.mark.parametrize("size", [0, 1, 8 * MiB, 8 * MiB + 1, 100 * MiB + 1, 512 * MiB, 80_000 * MiB + 1,
                                  5 * 1024**4])
def test_parts_are_at_least_5_mib_but_the_last_and_never_more_than_10000(size):
    part, count = part_plan(size)
    assert part >= MIN_PART_BYTES and part % MiB == 0
    assert 1 <= count <= MAX_PARTS
    assert (count - 1) * part < max(size, 1) <= count * part


def test_a_100_mb_file_goes_in_13_parts_of_8_mib():
    assert part_plan(100 * MiB) == (8 * MiB, 13)


def test_a_refused_threshold_names_its_variable():
    with pytest.raises(SettingsError, match="DOCPORTAL_UPLOAD_MULTIPART_MB"):
        Settings.from_env({"DOCPORTAL_UPLOAD_MULTIPART_MB": "0"}, need_stack=False)
