"""The upload page in AppTest, against the stack in moto (in-process).

The page runs with a verified user in ``st.session_state["docportal_user"]``
(see test_dashboard.py), inside a two-page navigation like the portal's, so
that its link to My files resolves: the entry script sits next to a link to
``portal/app_pages``, as ``portal/app.py`` does. The browser component's part
(choose, post each form to S3, report) is played by tests/helpers/direct_upload.py.
"""

from __future__ import annotations

import pytest
import requests
from streamlit.testing.v1 import AppTest

from common import aws
from common.catalogue import FileStatus
from common.schema.keys import UPLOAD_PREFIX
from common.schema.record import FileRecord
from common.settings import ENV_NAMES
from portal.access import User
from portal.files import upload_policy
from tests.helpers.direct_upload import choose, data, post_forms, report, set_state
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


def my_items(stack) -> list[FileRecord]:
    return files_of(stack.table, ME.sub)


def result_rows(at: AppTest) -> list[dict[str, str]]:
    return at.dataframe[0].value.to_dict("records")


def objects(stack) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=UPLOAD_PREFIX)
    return [o["Key"] for o in listed.get("Contents", [])]


def send(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    """Choose, post every form, report: a batch as the browser runs it."""
    choose(at, files)
    return report(at, post_forms(at, files))


PDF = ("a.pdf", tiny_pdf(), "application/pdf")


def test_the_page_states_the_limit_and_sends_nothing_through_the_portal(stack, page):
    at = page()
    caption = at.caption[0].value
    assert "straight from your browser" in caption
    assert "Up to 512 MB each" in caption  # the policy's limit, not Streamlit's 1 MB endpoint
    assert "Accepted: PDF, Word, Excel, PowerPoint" in caption
    assert not at.file_uploader  # no byte goes through Streamlit's own upload endpoint
    given = data(at)
    assert given["forms"] is None and given["maxBytes"] == 512 * upload_policy.MiB
    assert ".pdf" in given["accept"].split(",")


def test_a_refused_type_is_explained_and_signs_nothing_while_the_rest_go_straight_to_s3(stack, page):
    files = [("report.exe", b"MZ\x90\x00", "application/x-msdownload"), PDF]
    at = choose(page(), files)
    given = data(at)
    assert [f["index"] for f in given["forms"]] == [1]
    refused = given["refused"]["0"]
    assert refused.startswith("report.exe: this type of file is not accepted (allowed: PDF, Word, Excel")
    (item,) = my_items(stack)
    assert (item.name, item.status) == ("a.pdf", FileStatus.PENDING)  # counted nowhere until it arrives
    assert objects(stack) == []  # the portal stored no byte itself
    report(at, post_forms(at, files))
    assert [s.value for s in at.success] == []
    assert [i.value for i in at.info] == ["1 stored, 1 refused. Extraction has started."]
    assert result_rows(at) == [
        {"file": "report.exe", "result": "⊘ refused", "details": refused},
        {"file": "a.pdf", "result": "✓ stored", "details": ""},
    ]
    assert objects(stack) == [item.key]
    assert data(at)["forms"] is None and data(at)["batch"] != given["batch"]  # a fresh component


def test_a_file_over_the_limit_is_refused_with_both_sizes(stack, page, monkeypatch):
    monkeypatch.setenv(ENV_NAMES["upload_max_mb"], "1")
    at = choose(page(), [("big.pdf", b"%PDF".ljust(3 * upload_policy.MiB // 2, b"\0"), "application/pdf")])
    assert warnings(at) == ["big.pdf is 1.5 MB; the limit is 1 MB"]
    assert result_rows(at) == [{"file": "big.pdf", "result": "⊘ refused",
                                "details": "big.pdf is 1.5 MB; the limit is 1 MB"}]
    assert [i.value for i in at.info] == ["1 refused."]
    assert my_items(stack) == []


def test_tags_and_notes_go_with_every_file_of_the_batch(stack, page):
    at = page()
    labelled(at.text_input, "Tags (optional)").input("Q3, Finance , q3")
    labelled(at.text_area, "Notes (optional)").input("For the board\nsee p. 2")
    at.run()
    assert "Tags: q3, finance" in [plain(c.value) for c in at.caption]
    send(at, [PDF, ("b.csv", b"x,y\n1,2\n", "text/csv")])
    assert [s.value for s in at.success] == ["2 stored. Extraction has started."]
    items = my_items(stack)
    assert sorted(i.name for i in items) == ["a.pdf", "b.csv"]
    assert {(i.tags, i.notes) for i in items} == {(("q3", "finance"), "For the board\nsee p. 2")}


def test_bad_tags_hold_the_batch_until_they_are_fixed(stack, page):
    at = page()
    tags = ", ".join(f"t{i}" for i in range(11))
    labelled(at.text_input, "Tags (optional)").input(tags)
    choose(at, [PDF])
    problem = "Please fix the tags or notes: at most 10 tags, please (there are 11)."
    assert errors(at) == [problem]
    assert data(at)["blocked"] == problem and data(at)["forms"] is None
    assert labelled(at.text_input, "Tags (optional)").value == tags
    assert my_items(stack) == []
    labelled(at.text_input, "Tags (optional)").input("q3")
    at.run()
    assert [f["index"] for f in data(at)["forms"]] == [0]  # the files chosen are signed now
    assert [i.tags for i in my_items(stack)] == [("q3",)]


def test_a_post_that_s3_refused_ends_the_file_failed_with_s3s_reason(stack, page):
    at = choose(page(), [PDF])
    report(at, [{"index": 0, "ok": False, "error": "storage answered 403: AccessDenied: Policy expired"}])
    reason = ("a.pdf: the upload to storage failed (storage answered 403: AccessDenied: Policy expired);"
              " please upload the file again.")
    assert errors(at) == [reason]
    assert result_rows(at) == [{"file": "a.pdf", "result": "✗ failed", "details": reason}]
    assert not at.success
    (item,) = my_items(stack)
    assert item.status is FileStatus.FAILED and item.expires_at is None  # not left pending


def test_the_browsers_word_is_checked_against_s3(stack, page):
    """A report of success for a file that never reached S3 (a forged or confused report) is not believed."""
    at = choose(page(), [PDF])
    report(at, [{"index": 0, "ok": True}])
    (row,) = result_rows(at)
    assert row["result"] == "✗ failed" and "the browser said it was sent, but it is not in storage" in row["details"]
    assert my_items(stack)[0].status is FileStatus.FAILED


def test_a_report_for_another_batch_changes_nothing(stack, page):
    at = choose(page(), [PDF])
    set_state(at, report={"batch": "someone-else", "results": []})
    assert not at.dataframe and data(at)["forms"]
    assert my_items(stack)[0].status is FileStatus.PENDING


def test_a_batch_left_unreported_is_settled_honestly_by_hand(stack, page):
    """The page was left before the uploads ended: what arrived is stored, the rest 'not finished'."""
    files = [PDF, ("b.csv", b"x,y\n", "text/csv")]
    at = choose(page(), files)
    forms = data(at)["forms"]
    assert forms
    first = forms[0]
    # the browser got the first file out before the page was left
    assert requests.post(first["url"], data=first["fields"], files={"file": ("a.pdf", PDF[1])}, timeout=30).ok
    next(b for b in at.button if b.label == "Check what has arrived").click()
    at.run()
    rows = result_rows(at)
    assert [(r["file"], r["result"]) for r in rows] == [("a.pdf", "✓ stored"), ("b.csv", "… not finished")]
    assert [i.value for i in at.info] == ["1 stored, 1 not finished. Extraction has started."]
    statuses = {i.name: i.status for i in my_items(stack)}
    assert statuses == {"a.pdf": FileStatus.PENDING, "b.csv": FileStatus.PENDING}  # b.csv: its TTL, or it arrives


def test_a_name_with_a_direction_override_is_shown_with_a_visible_mark_in_the_results(stack, page):
    """Trojan Source: ``invoice<U+202E>fdp.exe`` would read as ``invoiceexe.pdf`` in the results table."""
    at = send(page(), [("invoice\u202efdp.pdf", tiny_pdf(), "application/pdf")])
    (row,) = result_rows(at)
    assert row["file"] == "invoice\ufffdfdp.pdf"
    assert [r.name for r in my_items(stack)] == ["invoice\u202efdp.pdf"]  # stored as sent: nothing is lost


def test_too_many_files_are_refused_whole_until_the_user_chooses_again(stack, page):
    at = choose(page(), [(f"{i}.pdf", b"%PDF", "application/pdf") for i in range(101)])
    problem = "Please choose again: at most 100 files at once, please (there are 101)."
    assert data(at)["blocked"] == problem and data(at)["forms"] is None
    assert warnings(at) == [problem]
    set_state(at, chosen=None)  # the component's "Choose other files"
    assert data(at)["blocked"] == "" and not warnings(at)
    assert my_items(stack) == []
