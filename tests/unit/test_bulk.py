"""Bulk actions, pure: planning per role and state, the report, ZIP names and the manifest."""

from __future__ import annotations

import csv
import io

from common.catalogue import FileStatus
from portal.access import User
from portal.files import bulk
from portal.files.bulk import BulkAction, ManifestRow, Outcome, ZipNames
from tests.helpers.records import sample_record
from tests.helpers.users import ADMIN, ANALYST, ANN

MINE_FAILED = sample_record(file_id="01" * 16, name="bad.pdf", status=FileStatus.FAILED, reason="broken")
MINE_DONE = sample_record(file_id="02" * 16, name="good.pdf")
BOBS_FAILED = sample_record(file_id="03" * 16, owner="bob", name="bob.pdf", status=FileStatus.FAILED)
MINE_DELETED = sample_record(file_id="04" * 16, name="gone.pdf", status=FileStatus.DELETED)
SELECTION = (MINE_FAILED, MINE_DONE, BOBS_FAILED, MINE_DELETED)


def why(p: bulk.Plan) -> dict[str, str]:
    return {o.name: o.why for o in p.left_out}


def test_an_uploader_retries_only_their_own_failed_files_and_is_told_why_not_the_others():
    p = bulk.plan(BulkAction.RETRY, ANN, SELECTION)
    assert [r.name for r in p.chosen] == ["bad.pdf"]
    assert why(p) == {"good.pdf": "only failed files can be retried", "bob.pdf": "you may not see this file",
                      "gone.pdf": "only failed files can be retried"}


def test_an_analyst_downloads_everyones_stored_files_but_changes_none():
    assert [r.name for r in bulk.plan(BulkAction.DOWNLOAD, ANALYST, SELECTION).chosen] == [
        "bad.pdf", "good.pdf", "bob.pdf"]
    assert why(bulk.plan(BulkAction.DOWNLOAD, ANALYST, SELECTION)) == {
        "gone.pdf": "its original is no longer stored"}
    for action in (BulkAction.RETRY, BulkAction.DELETE):
        p = bulk.plan(action, ANALYST, SELECTION)
        assert not p.chosen
        assert why(p)["bob.pdf"] == "only the file's owner or an admin can change it"


def test_an_admin_deletes_anyones_files_but_not_a_deleted_one_twice():
    p = bulk.plan(BulkAction.DELETE, ADMIN, SELECTION)
    assert [r.name for r in p.chosen] == ["bad.pdf", "good.pdf", "bob.pdf"]
    assert why(p) == {"gone.pdf": "it is already deleted"}


def test_an_admin_without_the_second_factor_acts_as_an_uploader():
    half = User(sub="adm", email="a@example.com", groups=frozenset({"admins"}), expires_at=2**40)
    assert why(bulk.plan(BulkAction.DELETE, half, [BOBS_FAILED])) == {"bob.pdf": "you may not see this file"}


def test_a_file_selected_twice_is_planned_once():
    assert len(bulk.plan(BulkAction.DELETE, ANN, [MINE_DONE, MINE_DONE]).chosen) == 1


def test_the_report_names_every_file_not_done_and_why():
    p = bulk.plan(BulkAction.RETRY, ANN, SELECTION)
    r = bulk.report(p, [Outcome(MINE_FAILED.file_id, "bad.pdf", True)])
    assert r.summary() == "1 file sent back for processing. 3 files not: see below."
    assert r.reasons()[0] == f"good.pdf ({MINE_DONE.file_id[:8]}): only failed files can be retried"
    assert bulk.report(bulk.plan(BulkAction.DELETE, ANN, [MINE_DONE]),
                       [Outcome(MINE_DONE.file_id, "good.pdf", True)]).summary() == "1 file deleted."


def test_the_delete_confirmation_names_the_count():
    assert bulk.confirmation(3).startswith("Delete 3 files?")
    assert bulk.confirmation(1).startswith("Delete 1 file?")


def test_a_selection_over_the_cap_is_refused_with_its_size():
    files = [sample_record(size=600), sample_record(size=500)]
    assert bulk.size_refusal(files, cap=1100) == ""
    assert bulk.size_refusal(files, cap=1000) == ("These files add up to 1.1 KB (1,100 bytes); one ZIP holds at most "
                                                  "1.0 KB (1,000 bytes). "
                                                  "Please select fewer files.")


def test_names_in_the_zip_are_safe_and_unique():
    names = ZipNames()
    taken = [names.take(n) for n in ("report.pdf", "REPORT.pdf", "report.pdf", "../../etc/passwd", "C:\\x\\y.txt",
                                     "manifest.csv", "con.txt", "a\u202egpj.exe", "...", "<b>?.pdf", "x" * 300 + ".pdf")]
    assert taken[:7] == ["report.pdf", "REPORT (2).pdf", "report (3).pdf", "passwd", "y.txt", "manifest (2).csv",
                         "_con.txt"]
    assert taken[7] == "a_gpj.exe"  # the right-to-left override is gone, not obeyed
    assert taken[8] == "file" and taken[9] == "_b__.pdf"
    assert len(taken[10]) == bulk.MAX_ZIP_NAME and taken[10].endswith(".pdf")
    assert len({t.casefold() for t in taken}) == len(taken)
    long_twice = names.take("x" * 300 + ".pdf")
    assert long_twice.endswith(" (2).pdf") and len(long_twice) == bulk.MAX_ZIP_NAME


def test_the_manifest_lists_every_file_and_neutralises_formulas():
    rows = [ManifestRow("01" * 16, "=HYPERLINK(1).pdf", "=HYPERLINK(1).pdf", FileStatus.PROCESSED, 1500,
                        "ab" * 32, True),
            ManifestRow("02" * 16, "gone.pdf", "", FileStatus.DELETED, None, "", False,
                        "its original is no longer stored")]
    parsed = list(csv.reader(io.StringIO(bulk.manifest_csv(rows).decode())))
    assert parsed[0] == list(bulk.MANIFEST_COLUMNS)
    assert parsed[1] == ["01" * 16, "'=HYPERLINK(1).pdf", "'=HYPERLINK(1).pdf", "processed", "1500", "ab" * 32,
                         "yes", ""]
    assert parsed[2] == ["02" * 16, "gone.pdf", "", "deleted", "", "", "no", "its original is no longer stored"]


def test_tags_change_on_finished_files_the_user_may_change_and_not_while_one_is_processing():
    finished = sample_record(file_id="05" * 16, name="done.pdf", rev="00A#finished")
    busy = sample_record(file_id="06" * 16, name="busy.pdf", status=FileStatus.PROCESSING, rev="00B#claimed")
    bobs = sample_record(file_id="07" * 16, owner="bob", name="bob.pdf", rev="00C#finished")
    p = bulk.plan(BulkAction.LABEL, ANN, (finished, busy, bobs, MINE_DELETED))
    assert [r.name for r in p.chosen] == ["done.pdf"]
    assert why(p) == {"busy.pdf": "its tags can change once it is processed or failed",
                      "bob.pdf": "you may not see this file",
                      "gone.pdf": "its tags can change once it is processed or failed"}
    assert why(bulk.plan(BulkAction.LABEL, ANALYST, (bobs,))) == {
        "bob.pdf": "only the file's owner or an admin can change it"}
    assert [r.name for r in bulk.plan(BulkAction.LABEL, ADMIN, (bobs,)).chosen] == ["bob.pdf"]
