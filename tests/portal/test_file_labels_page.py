"""Tags and note in the Files page (AppTest, moto in-process): shown in the list and the detail,
edited from the detail by the owner and admins only, bad tags explained, nothing changed."""

from __future__ import annotations

import csv
import io
import urllib.parse

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from common import aws
from portal.access import User
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import detail_values, page_as
from tests.helpers.stored import current, upload
from tests.helpers.users import ADMIN, ANALYST, ANN, BOB

FORM = "Save tags and note"


@pytest.fixture
def anns_file(stack):
    st.cache_data.clear()  # the cache is process-wide: nothing may come from an earlier test's stack
    yield upload(stack, ANN, "q3.pdf", tiny_pdf(), tags=("Draft", "Q3"), notes="first go")
    st.cache_data.clear()


def files_page(user: User, **params: str) -> AppTest:
    at = page_as(user, "files", **params)
    assert not at.exception, at.exception
    return at


def field(at: AppTest, kind: str, label: str):
    return next(w for w in getattr(at, kind) if w.label == label)


def submit(at: AppTest):
    return next(b for b in at.button if b.label == FORM)


def listed_tags(at: AppTest) -> list[str]:
    return [t.replace("\\", "") for t in at.dataframe[0].value["Tags"]]


def test_the_list_and_the_detail_show_tags_and_note(stack, anns_file):
    at = files_page(ANN, file=anns_file.file_id)
    assert listed_tags(at) == ["draft, q3"]
    assert (detail_values(at)["Tags"], detail_values(at)["Note"]) == ("draft, q3", "first go")


@pytest.mark.parametrize("user", [ANN, ADMIN], ids=["owner", "admin"])
def test_the_owner_and_an_admin_edit_tags_and_note_from_the_detail(stack, anns_file, user):
    at = files_page(user, file=anns_file.file_id)
    field(at, "text_input", "This file's tags").input(" Board Pack, q3 ")
    field(at, "text_area", "Note").input("for the board")
    submit(at).click().run()
    assert not at.exception, at.exception
    saved = current(stack, anns_file.file_id)
    assert (saved.tags, saved.notes, saved.status) == (("board pack", "q3"), "for the board", anns_file.status)
    assert any("saved" in s.value for s in at.success)
    assert listed_tags(at) == ["board pack, q3"]


def test_bad_tags_are_explained_and_nothing_changes(stack, anns_file):
    at = files_page(ANN, file=anns_file.file_id)
    field(at, "text_input", "This file's tags").input("fine, not;fine")
    submit(at).click().run()
    assert any("may only hold letters" in e.value for e in at.error)
    assert current(stack, anns_file.file_id) == anns_file


@pytest.mark.parametrize("user", [ANALYST, BOB], ids=["analyst", "another uploader"])
def test_others_get_no_form(stack, anns_file, user):
    at = files_page(user, file=anns_file.file_id)
    assert FORM not in {b.label for b in at.button}
    assert "This file's tags" not in {w.label for w in at.text_input} and not at.text_area


def names(at: AppTest) -> list[str]:
    return sorted(n.replace("\\", "") for n in at.dataframe[0].value["Name"]) if at.dataframe else []


def url(at: AppTest, name: str) -> list[str]:
    value = at.query_params.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def test_the_tag_filter_reads_and_writes_the_url_with_any_or_all(stack, anns_file):
    upload(stack, ANN, "legal.pdf", tiny_pdf(), tags=("legal", "q3"))
    at = files_page(ANN, tag=["Q3", "legal"], tags="all")
    assert names(at) == ["legal.pdf"]
    assert field(at, "text_input", "Tags").value == "legal, q3"
    field(at, "selectbox", "Tags match").select("any").run()
    assert names(at) == ["legal.pdf", "q3.pdf"]
    assert url(at, "tag") == ["legal", "q3"] and url(at, "tags") == []
    field(at, "text_input", "Tags").input("draft").run()
    assert names(at) == ["q3.pdf"] and url(at, "tag") == ["draft"]
    field(at, "text_input", "Tags").input("not;a tag").run()
    assert any("may only hold letters" in e.value for e in at.error)


def test_an_analyst_exports_the_files_of_a_tag_with_their_tags_and_notes(stack, anns_file):
    upload(stack, BOB, "bob.pdf", tiny_pdf(), tags=("legal",), notes="-not a formula")
    upload(stack, BOB, "untagged.pdf", tiny_pdf())
    at = page_as(ANALYST, "export")
    field(at, "text_input", "Tags").input("Legal, q3")
    field(at, "multiselect", "Columns").set_value(["name", "tags", "notes"])
    next(b for b in at.button if b.label == "Prepare export").click().run()
    assert not at.exception, at.exception
    s3 = aws.client("s3")
    (obj,) = s3.list_objects_v2(Bucket=stack.bucket, Prefix="exports/")["Contents"]
    rows = list(csv.reader(io.StringIO(s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read().decode())))
    assert rows[0] == ["name", "tags", "notes"]
    assert sorted(rows[1:]) == [["bob.pdf", "legal", "'-not a formula"], ["q3.pdf", "draft; q3", "first go"]]


def test_a_tag_on_the_dashboard_links_to_exactly_its_files(stack, anns_file):
    upload(stack, ANN, "other.pdf", tiny_pdf(), tags=("legal",))
    at = page_as(ANN, "dashboard")
    assert not at.exception, at.exception
    found = [link for e in at.expander if e.label.startswith("Open these files") for link in e.get("page_link")]
    tagged = {link.proto.label.replace("\\", ""): urllib.parse.parse_qs(link.proto.query_string)
              for link in found if "tag=" in link.proto.query_string}
    day = anns_file.uploaded_at[:10]
    assert {"draft: 1 files", "q3: 1 files", "legal: 1 files", f"q3 on {day}: 1 files"} <= set(tagged)
    files = files_page(ANN, **tagged["q3: 1 files"])
    assert names(files) == ["q3.pdf"]
    assert any("1 file match" in m.value.replace("\\", "") for m in files.markdown)
