"""The Files explorer page in AppTest, against the stack in moto (in-process).

The page file runs alone (see test_dashboard.py) with a verified
:class:`portal.access.User` in ``st.session_state["docportal_user"]``; files are
stored by :func:`portal.files.uploads.store_upload` and processed by the extractor's
own code, so the page reads what production writes.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import replace

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from common import aws
from common.catalogue import FileStatus
from extractor.processor import Deps, process_message
from portal import text
from portal.access import User
from portal.files import views
from tests.helpers.files import tiny_pdf
from tests.helpers.files_page import announce, buttons, current, listed, page, select, texts, upload
from tests.helpers.pages import detail_values, page_as


def test_a_new_uploader_sees_the_empty_state(stack, people):
    at = page(people["ann"])
    assert at.title[0].value == "My files"
    assert "No files yet" in texts(at)


def test_an_uploader_sees_only_their_own_files_with_badges(stack, people, world):
    at = page(people["ann"])
    assert at.title[0].value == "My files"
    assert sorted(listed(at)) == ["Q3 [draft] report.pdf", "photo.png"]
    assert "Uploader" not in {s.label for s in at.selectbox}
    statuses = at.dataframe[0].value["Status"].tolist()
    assert statuses == [views.status_badge(FileStatus.PROCESSED).label] * 2
    assert "all done" in texts(at)


def test_an_uploader_cannot_open_another_users_file_through_the_url(stack, people, world):
    at = page(people["ann"], file=world["bob_pdf"].file_id)
    assert "You may not see this file." in [w.value.replace("\\", "") for w in at.warning]
    assert "bob.pdf" not in str(detail_values(at)) and not at.get("link_button")
    assert not {"Delete", "Retry processing"} & buttons(at)


def test_an_analyst_sees_everyone_reads_any_file_but_cannot_change_others(stack, people, world):
    at = page(people["ana"])
    assert at.title[0].value == "Files"
    assert sorted(listed(at)) == ["Q3 [draft] report.pdf", "bob.pdf", "photo.png"]
    assert set(at.dataframe[0].value["Uploader"]) == {"ann@example.com", "bob@example.com"}
    select(at, "Uploader").select(people["bob"].sub).run()
    assert listed(at) == ["bob.pdf"]
    at = page(people["ana"], file=world["ann_pdf"].file_id)
    assert detail_values(at)["Name"] == "Q3 [draft] report.pdf"
    assert at.get("link_button")  # reading (downloading) is allowed
    assert not {"Delete", "Retry processing"} & buttons(at)


def test_the_owner_deletes_a_file_after_confirming(stack, people, world):
    record = world["ann_pdf"]
    at = page(people["ann"], file=record.file_id)
    next(b for b in at.button if b.label == "Delete").click().run()
    assert current(stack, record.file_id).status is FileStatus.PROCESSED  # nothing happens before confirming
    assert {"Yes, delete", "Cancel"} <= buttons(at)
    next(b for b in at.button if b.label == "Cancel").click().run()
    assert "Yes, delete" not in buttons(at)
    next(b for b in at.button if b.label == "Delete").click().run()
    next(b for b in at.button if b.label == "Yes, delete").click().run()
    assert not at.exception
    assert current(stack, record.file_id).status is FileStatus.DELETED
    assert any("was deleted" in s.value for s in at.success)
    assert listed(at) == ["photo.png"]


def test_retry_is_offered_only_for_failed_files_and_sends_the_file_back(stack, people, monkeypatch):
    ann = people["ann"]
    with monkeypatch.context() as m:
        m.setattr("extractor.extract.detect", lambda *a, **k: (_ for _ in ()).throw(RecursionError("deep")))
        failed = upload(stack, ann, "bad.json", b"[1]")
    done = upload(stack, ann, "good.txt", b"fine")
    assert "Retry processing" not in buttons(page(ann, file=done.file_id))
    assert "Retry processing" not in buttons(page(people["ana"], file=failed.file_id))
    at = page(ann, file=failed.file_id)
    assert "Reason: the file's metadata could not be read (RecursionError)" in texts(at).replace("\\", "")
    versions = len(aws.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=failed.key)["Versions"])
    next(b for b in at.button if b.label == "Retry processing").click().run()
    assert not at.exception
    assert any("sent back for processing" in s.value for s in at.success)
    after = len(aws.client("s3").list_object_versions(Bucket=stack.bucket, Prefix=failed.key)["Versions"])
    assert after == versions + 1
    assert current(stack, failed.file_id).status is FileStatus.UPLOADED
    assert "Retry processing" not in buttons(at)
    assert "1 file(s) in progress" in texts(at)


def test_search_and_filters_narrow_the_list(stack, people, world):
    at = page(people["ann"])
    at.text_input[0].input("Q3 [DRAFT]").run()
    assert listed(at) == ["Q3 [draft] report.pdf"]
    at.text_input[0].input("nothing like this").run()
    assert "No files match these filters." in texts(at)
    at.text_input[0].input("").run()
    next(m for m in at.multiselect if m.label == "Format").select("png").run()
    assert listed(at) == ["photo.png"]


def test_a_period_that_ends_before_it_starts_is_explained(stack, people, world):
    at = page(people["ann"])
    next(d for d in at.date_input if d.label == "Uploaded from").set_value(dt.date(2026, 11, 30)).run()
    next(d for d in at.date_input if d.label == "Uploaded to").set_value(dt.date(2026, 11, 1)).run()
    assert not at.exception
    assert any("Please check the filters" in e.value for e in at.error)


def test_next_and_previous_page_through_the_list(stack, people):
    ann = people["ann"]
    for i in range(27):
        upload(stack, ann, f"file {i:02d}.txt", b"x", process=False)
    at = page(ann)
    assert len(listed(at)) == 25
    assert "27 files match these filters" in texts(at).replace("\\", "")  # the view's total, over every page
    next(b for b in at.button if b.label == "Next").click().run()
    assert sorted(listed(at)) == ["file 00.txt", "file 01.txt"]  # the two oldest, newest first before them
    assert next(b for b in at.button if b.label == "Next").disabled
    next(b for b in at.button if b.label == "Previous").click().run()
    assert len(listed(at)) == 25
    assert next(b for b in at.button if b.label == "Previous").disabled


class _Killed(BaseException):
    """The worker dies mid-file (OOM, SIGKILL, a timeout): nothing after the claim runs."""


def test_a_file_whose_delivery_died_says_it_waits_for_a_retry_not_processing(stack, people, monkeypatch):
    """Issue 17: after a crash the file stayed "processing" for the queue's visibility timeout, silently."""
    record = upload(stack, people["ann"], "report.pdf", tiny_pdf(), process=False)
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    body = announce(stack, record.key)

    def killed(*args, **kwargs):
        raise _Killed

    monkeypatch.setattr("extractor.processor._extract", killed)
    with pytest.raises(_Killed):
        process_message(body, 2, Deps(s3=s3, ddb=ddb, table=stack.table), deadline="2026-01-01T00:00:00.000Z")
    at = page(people["ann"], file=record.file_id)
    (row,) = at.dataframe[0].value.to_dict("records")
    assert row["Status"].replace("\\", "") == views.WAITING.label
    assert "delivery 2 of 5" in row["Note"] and "retried automatically" in row["Note"].replace("\\", "")
    assert any("retried automatically" in w.value.replace("\\", "") for w in at.warning)


# --- filters in the URL -------------------------------------------------------------------


def multiselect(at: AppTest, label: str):
    return next(m for m in at.multiselect if m.label == label)


def test_a_shared_url_sets_the_filters_and_the_total(stack, people, world):
    ana, ann = people["ana"], people["ann"]
    at = page(ana, format="png", owner=ann.sub, status="processed", counted="1")
    assert listed(at) == ["photo.png"]
    assert multiselect(at, "Format").value == ["png"] and select(at, "Uploader").value == ann.sub
    assert next(c for c in at.checkbox if c.label.startswith("Only files")).value is True
    assert "1 file matches these filters" in texts(at).replace("\\", "")
    multiselect(at, "Format").select("pdf").run()  # a change goes back into the URL, shareable again
    assert sorted(listed(at)) == ["Q3 [draft] report.pdf", "photo.png"]
    assert at.query_params["format"] == ["pdf", "png"] and at.query_params["owner"] == ann.sub


def test_a_hostile_url_is_dropped_with_a_note_never_an_option(stack, people, world):
    evil = "[x](https://evil.example)<b>"
    at = page(people["ana"], format=evil, flag="nosuch", owner="someone-else", size="size_le_7",
              **{"from": "2026-99-01"})
    assert sorted(listed(at)) == ["Q3 [draft] report.pdf", "bob.pdf", "photo.png"]
    notes = [c.value for c in at.caption if "left out" in c.value]
    assert len(notes) == 5 and not any("](https" in n for n in notes)  # escaped: no link
    assert evil not in multiselect(at, "Format").options and multiselect(at, "Format").value == []
    assert "someone-else" not in select(at, "Uploader").options
    assert not {"format", "flag", "owner", "size", "from"} & set(at.query_params)  # the URL is cleaned too


def test_an_uploader_cannot_choose_an_uploader_through_the_url(stack, people, world):
    at = page(people["ann"], owner=people["bob"].sub)
    assert sorted(listed(at)) == ["Q3 [draft] report.pdf", "photo.png"]
    assert any("only your own files" in c.value for c in at.caption)


def in_app(user: User, **params: str) -> AppTest:
    """The Files page inside the app's navigation, where its links to itself resolve."""
    at = page_as(user, "files", **params)
    assert not at.exception, at.exception
    return at


def test_a_user_saves_a_view_and_finds_it_again_as_a_link(stack, people, world):
    at = in_app(people["ann"], format="png")
    next(t for t in at.text_input if t.label == "Name these filters").input("[My](https://evil.test) pictures").run()
    next(b for b in at.button if b.label == "Save view").click().run()
    assert not at.exception and not at.error
    again = in_app(people["ann"])  # a later visit
    (link,) = [p for p in again.get("page_link") if "pictures" in p.proto.label]
    assert link.proto.label == text.md_escape("[My](https://evil.test) pictures")
    assert urllib.parse.parse_qs(link.proto.query_string) == {"format": ["png"]}
    assert not [p for p in in_app(people["bob"]).get("page_link") if "pictures" in p.proto.label]
    next(b for b in again.button if b.label == "Delete view").click().run()
    assert not [p for p in again.get("page_link") if "pictures" in p.proto.label]


def test_opening_the_page_with_every_file_done_does_not_rerun_the_app(stack, people, world, monkeypatch):
    """A whole-app ``st.rerun()`` at the end of a run replaces a navigation click that arrived meanwhile.

    Streamlit folds pending reruns into one, and the latest request's page wins: a user who
    clicked "Export" while My files was still drawing stayed on My files (a CI failure). The
    first run of a session starts with auto-refresh on; switching it off must wait for the
    refresh's own tick, not rerun the app.
    """
    reruns: list[object] = []
    real = st.rerun
    monkeypatch.setattr(st, "rerun", lambda *a, **k: (reruns.append(a), real(*a, **k)))
    at = page(people["ann"])
    assert "all done" in texts(at)
    assert reruns == []


# --- selecting rows and acting on them --------------------------------------------------


def select_rows(at: AppTest, *names: str) -> AppTest:
    """Select the rows of ``names`` in the list, as a click on their checkboxes does, and run."""
    shown = listed(at)
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [shown.index(n) for n in names],
                                                          "columns": [], "cells": []}}
    return at.run()


def listed_ids(at: AppTest) -> dict[str, str]:
    """Name to file id of the files listed (names are unique in these tests)."""
    drawn = at.session_state["files_list_drawn"]
    return {r.name: r.file_id for r in drawn.records}


def button(at: AppTest, prefix: str):
    return next(b for b in at.button if b.label.startswith(prefix))


def test_one_selected_row_opens_its_detail(stack, people, world):
    at = select_rows(page(people["ann"]), "photo.png")
    assert not at.exception
    assert detail_values(at)["Name"] == "photo.png"
    assert at.query_params["file"] == world["ann_png"].file_id


def test_an_uploader_deletes_two_selected_files_after_confirming_the_count(stack, people, world):
    at = select_rows(page(people["ann"]), "photo.png", "Q3 [draft] report.pdf")
    assert "2 selected" in texts(at)
    button(at, "Delete (2)").click().run()
    assert current(stack, world["ann_png"].file_id).status is FileStatus.PROCESSED  # nothing before confirming
    assert "Delete 2 files?" in texts(at).replace("\\", "")
    button(at, "Yes, delete 2").click().run()
    assert not at.exception, at.exception
    assert {current(stack, world[k].file_id).status for k in ("ann_png", "ann_pdf")} == {FileStatus.DELETED}
    assert "2 files deleted." in texts(at).replace("\\", "")
    assert listed(at) == [] and "2 selected" not in texts(at), "the list is read again, nothing selected"


def test_an_analyst_may_zip_everyones_files_but_not_delete_or_retry(stack, people, world):
    at = select_rows(page(people["ana"]), "bob.pdf", "photo.png")
    assert button(at, "Delete (0)").disabled and button(at, "Retry failed (0)").disabled
    button(at, "Download as ZIP (2)").click().run()
    assert not at.exception, at.exception
    (link,) = [b for b in at.get("link_button") if "Save the ZIP" in b.proto.label]
    assert f"exports/{people['ana'].sub}/" in urllib.parse.unquote(link.proto.url)
    assert "2 files put in the ZIP." in texts(at).replace("\\", "")


def test_an_uploader_retries_the_failed_ones_of_a_selection_and_hears_why_not_the_rest(stack, people, monkeypatch):
    ann = people["ann"]
    with monkeypatch.context() as m:
        m.setattr("extractor.extract.detect", lambda *a, **k: (_ for _ in ()).throw(RecursionError("deep")))
        bad = upload(stack, ann, "bad.json", b"[1]")
    upload(stack, ann, "good.txt", b"fine")
    at = select_rows(page(ann), "bad.json", "good.txt")
    button(at, "Retry failed (1)").click().run()
    assert not at.exception, at.exception
    assert current(stack, bad.file_id).status is FileStatus.UPLOADED
    said = texts(at).replace("\\", "")
    assert "1 file sent back for processing. 1 file not: see below." in said
    assert f"good.txt ({listed_ids(at)['good.txt'][:8]}): only failed files can be retried" in said


def test_an_admin_deletes_another_users_file_an_uploader_is_never_offered_it(stack, people, world):
    adm = replace(people["adm"], second_factor=True)
    at = select_rows(page(adm), "bob.pdf")
    button(at, "Delete (1)").click().run()
    button(at, "Yes, delete 1").click().run()
    assert current(stack, world["bob_pdf"].file_id).status is FileStatus.DELETED
    assert "bob.pdf" not in listed(page(people["ann"]))


def test_the_selected_list_holds_still_while_files_are_in_flight(stack, people):
    ann = people["ann"]
    first = upload(stack, ann, "first.txt", b"1", process=False)
    at = select_rows(page(ann), "first.txt")
    assert "the list holds still" in texts(at)
    upload(stack, ann, "second.txt", b"2", process=False)  # arrives on top of the list
    st.cache_data.clear()
    at.run()
    assert listed(at) == ["first.txt"], "the selected row still is the file that was selected"
    assert at.session_state["files_live"] is False, "no refresh while rows are selected"
    assert current(stack, first.file_id).status is FileStatus.UPLOADED


def test_a_drill_link_keeps_the_status_the_dashboard_binds(stack, people, monkeypatch):
    """Streamlit strips, on a page change, the URL names a bound widget of the old page used."""
    ana = people["ana"]
    with monkeypatch.context() as m:
        m.setattr("extractor.extract.detect", lambda *a, **k: (_ for _ in ()).throw(RecursionError("deep")))
        upload(stack, ana, "bad.json", b"[1]")
    upload(stack, ana, "ok.txt", b"ok")
    at = page_as(ana, "dashboard")
    at.query_params["status"] = "failed"  # as the Failures tile's link names it
    at.switch_page("../../portal/app_pages/files.py").run()
    assert listed(at) == ["bad.json"]


def test_an_uploader_tags_two_selected_files_at_once_and_bad_tags_change_nothing(stack, people, world):
    at = select_rows(page(people["ann"]), "photo.png", "Q3 [draft] report.pdf")
    next(t for t in at.text_input if t.label == "Add tags").input("Q3, legal")
    button(at, "Change tags (2)").click().run()
    assert not at.exception, at.exception
    assert {current(stack, world[k].file_id).tags for k in ("ann_png", "ann_pdf")} == {("q3", "legal")}
    assert "2 files retagged." in texts(at).replace("\\", "")
    at = select_rows(at, "photo.png")
    next(t for t in at.text_input if t.label == "Add tags").input("x" * 200)
    button(at, "Change tags (1)").click().run()
    assert "Nothing was changed" in next(e.value for e in at.error)
    assert current(stack, world["ann_png"].file_id).tags == ("q3", "legal")
