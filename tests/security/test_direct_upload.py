"""Attacks through the Upload page's browser component, whose messages a script in the tab can forge.

The component tells the page which files were chosen and what S3 answered;
both come from the browser. Each attack sends the forged message as the
component would (tests/helpers/direct_upload.py) to the real page in AppTest,
against the stack in moto.
"""

from __future__ import annotations

import pytest

from common import aws
from common.catalogue import FileStatus
from portal.access import User
from portal.files.direct_batch import MAX_BATCH_FILES
from tests.helpers.direct_upload import choose, data, report
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import page_as
from tests.helpers.stored import current, upload
from tests.helpers.tables import files_of

pytestmark = pytest.mark.security

MALLORY = User(sub="dddddddd-1111-4222-8333-000000000004", email="mallory@example.com",
               groups=frozenset({"uploaders"}), expires_at=2**40)
VICTIM = User(sub="aaaaaaaa-1111-4222-8333-000000000001", email="ann@example.com",
              groups=frozenset({"uploaders"}), expires_at=2**40)


def test_a_forged_report_cannot_end_anyone_elses_upload(stack):
    """Attack: the report names indexes beyond the batch, hoping to reach other pending files (the victim's)."""
    theirs = upload(stack, VICTIM, "board.pdf", tiny_pdf("board"), process=False)
    at = choose(page_as(MALLORY, "upload"), [("a.pdf", tiny_pdf(), "application/pdf")])
    report(at, [{"index": i, "ok": False, "error": "forged"} for i in range(50)])
    assert current(stack, theirs.file_id).status is FileStatus.UPLOADED  # untouched
    (mine,) = files_of(stack.table, MALLORY.sub)
    assert mine.status is FileStatus.FAILED  # only the session's own signed file is ended


def test_a_forged_success_does_not_make_a_file_stored(stack):
    """Attack: report success without sending the bytes, so the summary and counts show a file that is not there."""
    at = choose(page_as(MALLORY, "upload"), [("a.pdf", tiny_pdf(), "application/pdf")])
    report(at, [{"index": 0, "ok": True}])
    assert at.dataframe[0].value.to_dict("records")[0]["result"] == "✗ failed"
    assert aws.client("s3").list_objects_v2(Bucket=stack.bucket).get("KeyCount", 0) == 0


def test_a_forged_choice_cannot_sign_without_limit(stack):
    """Attack: one message names thousands of files, each of which would be registered and signed."""
    at = page_as(MALLORY, "upload")
    choose(at, [(f"{i}.pdf", b"%PDF", "application/pdf") for i in range(MAX_BATCH_FILES * 50)])
    assert data(at)["forms"] is None
    assert f"at most {MAX_BATCH_FILES} files at once" in data(at)["blocked"]
    assert files_of(stack.table, MALLORY.sub) == []
