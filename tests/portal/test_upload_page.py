"""The upload page in AppTest, against the stack in moto (in-process).

The page runs with a verified user in ``st.session_state["docportal_user"]``
(see test_dashboard.py), inside a two-page navigation like the portal's, so
that its link to My files resolves: the entry script sits next to a link to
``portal/app_pages``, as ``portal/app.py`` does. Files are handed to the
uploader as Streamlit's AppTest does for drag and drop or browsing.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from streamlit.testing.v1 import AppTest

from common import aws
from common.catalogue import FileStatus
from common.schema.keys import UPLOAD_PREFIX
from common.schema.record import FileRecord
from common.settings import ENV_NAMES
from portal.access import User
from portal.files import upload_policy
from tests.helpers.env import ROOT
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import signed_in_as
from tests.helpers.tables import files_of

ENTRY = """
import streamlit as st

st.navigation([st.Page("app_pages/upload.py", title="Upload", default=True),
               st.Page("app_pages/files.py", title="My files")]).run()
"""
ME = User(sub="eeeeeeee-1111-4222-8333-444455556666", email="me@example.com",
          groups=frozenset({"uploaders"}), expires_at=2**40)


@pytest.fixture(autouse=True)
def default_policy(monkeypatch):
    """No developer's upload settings leak in; tests that need one set it."""
    for var in (ENV_NAMES["upload_max_mb"], ENV_NAMES["upload_formats"], ENV_NAMES["max_parse_mb"]):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def entry(tmp_path) -> str:
    (tmp_path / "app_pages").symlink_to(ROOT / "portal" / "app_pages", target_is_directory=True)
    script = tmp_path / "entry.py"
    script.write_text(ENTRY)
    return str(script)


@pytest.fixture
def page(entry):
    return lambda: _page(entry)


def _page(entry: str) -> AppTest:
    at = AppTest.from_file(entry, default_timeout=60)
    signed_in_as(at, ME)
    at.run()
    assert not at.exception, at.exception
    return at


def plain(text: str) -> str:
    """What the user reads: the page escapes Markdown in names with backslashes."""
    return text.replace("\\", "")


def warnings(at: AppTest) -> list[str]:
    return [plain(w.value) for w in at.warning]


def errors(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.error]


def buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def labelled(widgets, label):
    return next(w for w in widgets if w.label == label)


def upload(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    at.file_uploader[0].set_value(files)
    at.run()
    assert not at.exception, at.exception
    return at


def press_upload(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label.startswith("Upload ")).click()
    at.run()
    assert not at.exception, at.exception
    return at


def my_items(stack) -> list[FileRecord]:
    return files_of(stack.table, ME.sub)


def result_rows(at: AppTest) -> list[dict[str, str]]:
    return at.dataframe[0].value.to_dict("records")


def test_the_page_states_the_limit_and_what_is_accepted(stack, page):
    at = page()
    caption = at.caption[0].value
    assert "Up to 512 MB each" in caption
    assert "Accepted: PDF, Word, Excel, PowerPoint" in caption
    assert at.file_uploader[0].accept_multiple_files
    assert at.file_uploader[0].proto.max_upload_size_mb == 512


def test_a_refused_type_is_explained_and_not_stored_while_the_rest_go(stack, page):
    at = upload(page(), [("report.exe", b"MZ\x90\x00", "application/x-msdownload"),
                         ("a.pdf", tiny_pdf(), "application/pdf")])
    (warning,) = warnings(at)
    assert warning.startswith("report.exe: this type of file is not accepted (allowed: PDF, Word, Excel")
    assert buttons(at) == ["Upload 1 file(s)"]
    press_upload(at)
    assert "1 file(s) uploaded. Extraction has started." in [s.value for s in at.success]
    assert result_rows(at) == [
        {"file": "report.exe", "result": "⊘ refused", "details": warning},
        {"file": "a.pdf", "result": "✓ uploaded", "details": ""},
    ]
    (item,) = my_items(stack)
    assert (item.name, item.status) == ("a.pdf", FileStatus.UPLOADED)
    objects = aws.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=UPLOAD_PREFIX)
    assert [o["Key"] for o in objects["Contents"]] == [item.key]
    assert at.file_uploader[0].value in (None, [])  # a fresh uploader for the next batch


def test_a_file_over_the_limit_is_refused_with_both_sizes(stack, page, monkeypatch):
    monkeypatch.setenv(ENV_NAMES["upload_max_mb"], "1")
    data = b"%PDF-1.7\n".ljust(3 * upload_policy.MiB // 2, b"\0")  # 1.5 MB
    at = upload(page(), [("big.pdf", data, "application/pdf")])
    assert warnings(at) == ["big.pdf is 1.5 MB; the limit is 1 MB"]
    assert not any(label.startswith("Upload ") for label in buttons(at))
    assert my_items(stack) == []


def test_tags_and_notes_go_with_every_file_of_the_batch(stack, page):
    at = page()
    labelled(at.text_input, "Tags (optional)").input("Q3, Finance , q3")
    labelled(at.text_area, "Notes (optional)").input("For the board\nsee p. 2")
    upload(at, [("a.pdf", tiny_pdf(), "application/pdf"), ("b.csv", b"x,y\n1,2\n", "text/csv")])
    assert "Tags: q3, finance" in [plain(c.value) for c in at.caption]
    press_upload(at)
    items = my_items(stack)
    assert sorted(i.name for i in items) == ["a.pdf", "b.csv"]
    assert {(i.tags, i.notes) for i in items} == {(("q3", "finance"), "For the board\nsee p. 2")}


def test_bad_tags_stop_the_upload_and_keep_what_was_typed(stack, page):
    at = page()
    tags = ", ".join(f"t{i}" for i in range(11))
    labelled(at.text_input, "Tags (optional)").input(tags)
    upload(at, [("a.pdf", tiny_pdf(), "application/pdf")])
    assert errors(at) == ["Please fix the tags or notes: at most 10 tags, please (there are 11)."]
    assert not any(label.startswith("Upload ") for label in buttons(at))
    assert labelled(at.text_input, "Tags (optional)").value == tags
    assert my_items(stack) == []


class _BrokenS3:
    def upload_fileobj(self, *args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")


def test_a_failed_upload_is_listed_with_its_reason(stack, page, monkeypatch):
    real = aws.client
    monkeypatch.setattr(aws, "client", lambda service: _BrokenS3() if service == "s3" else real(service))
    at = press_upload(upload(page(), [("a.pdf", tiny_pdf(), "application/pdf")]))
    reason = "a.pdf: the upload did not complete; please upload the file again."
    assert errors(at) == [reason]
    assert result_rows(at) == [{"file": "a.pdf", "result": "✗ failed", "details": reason}]
    assert not at.success
    (item,) = my_items(stack)
    assert item.status is FileStatus.FAILED


def test_a_name_with_a_direction_override_is_shown_with_a_visible_mark_in_the_results(stack, page):
    """Trojan Source: ``invoice<U+202E>fdp.exe`` would read as ``invoiceexe.pdf`` in the results table."""
    at = press_upload(upload(page(), [("invoice\u202efdp.pdf", tiny_pdf(), "application/pdf")]))
    (row,) = result_rows(at)
    assert row["file"] == "invoice\ufffdfdp.pdf"
    assert [r.name for r in my_items(stack)] == ["invoice\u202efdp.pdf"]  # stored as sent: nothing is lost
