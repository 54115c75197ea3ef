"""What the Upload page's browser component may say, parsed strictly (portal.files.direct_batch)."""

from __future__ import annotations

import pytest

from portal.files.direct_batch import (
    MAX_BATCH_FILES,
    Chosen,
    Outcome,
    Row,
    Sent,
    headline,
    parse_chosen,
    parse_report,
)

BATCH = "c0ffee-3"


def test_the_chosen_files_of_this_batch_are_read_in_order():
    message = {"batch": BATCH, "files": [{"name": "a.pdf", "size": 10, "type": "application/pdf"},
                                         {"name": "b.csv", "size": 0}]}
    assert parse_chosen(message, BATCH) == (Chosen(0, "a.pdf", 10, "application/pdf"), Chosen(1, "b.csv", 0, ""))


@pytest.mark.parametrize("message", [None, {}, {"batch": "c0ffee-2", "files": []}, "files"])
def test_a_message_for_no_batch_or_another_is_not_this_batchs(message):
    assert parse_chosen(message, BATCH) is None
    assert parse_report(message, BATCH) is None


@pytest.mark.parametrize("files", [
    [], [{"name": "", "size": 1}], [{"name": "a.pdf", "size": -1}], [{"name": "a.pdf", "size": True}],
    [{"name": "a.pdf", "size": 1.5}], [{"name": "a.pdf"}], [{"name": 7, "size": 1}], ["a.pdf"],
    [{"name": "a.pdf", "size": 1, "type": 3}], [{"name": "x" * 1025, "size": 1}],
])
def test_a_malformed_file_list_is_refused(files):
    with pytest.raises(ValueError):
        parse_chosen({"batch": BATCH, "files": files}, BATCH)


def test_a_batch_has_a_bounded_number_of_files():
    files = [{"name": f"{i}.pdf", "size": 1} for i in range(MAX_BATCH_FILES + 1)]
    with pytest.raises(ValueError, match=f"at most {MAX_BATCH_FILES} files at once"):
        parse_chosen({"batch": BATCH, "files": files}, BATCH)


def test_a_report_keeps_well_formed_entries_and_cuts_long_errors():
    message = {"batch": BATCH, "results": [
        {"index": 0, "ok": True}, {"index": 1, "ok": False, "error": "storage answered 403" + "!" * 500},
        {"index": "2", "ok": True}, {"index": 3, "ok": "yes"}, {"index": True, "ok": True}, "junk",
    ]}
    sent = parse_report(message, BATCH)
    assert sent is not None and sorted(sent) == [0, 1]
    assert sent[0] == Sent(0, True)
    assert sent[1].ok is False and sent[1].error.startswith("storage answered 403") and len(sent[1].error) == 300


def test_the_headline_counts_each_outcome():
    rows = (Row("a", Outcome.STORED), Row("b", Outcome.STORED), Row("c", Outcome.REFUSED, "why"),
            Row("d", Outcome.UNFINISHED, "later"), Row("e", Outcome.FAILED, "no"))
    assert headline(rows) == "2 stored, 1 refused, 1 failed, 1 not finished."
    assert headline(()) == "Nothing was uploaded."
