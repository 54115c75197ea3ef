"""Tags and note in the Files page (AppTest, moto in-process): shown in the list and the detail,
edited from the detail by the owner and admins only, bad tags explained, nothing changed."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from portal.access import User
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import detail_values, page_as
from tests.helpers.stored import read, stored
from tests.helpers.users import ADMIN, ANALYST, ANN, BOB

FORM = "Save tags and note"


@pytest.fixture
def anns_file(stack):
    st.cache_data.clear()  # the cache is process-wide: nothing may come from an earlier test's stack
    yield stored(stack, ANN, "q3.pdf", tiny_pdf(), tags=("Draft", "Q3"), notes="first go")
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
    return [t.replace("\\", "") for t in at.table[0].value["Tags"]]


def test_the_list_and_the_detail_show_tags_and_note(stack, anns_file):
    at = files_page(ANN, file=anns_file.file_id)
    assert listed_tags(at) == ["draft, q3"]
    assert (detail_values(at)["Tags"], detail_values(at)["Note"]) == ("draft, q3", "first go")


@pytest.mark.parametrize("user", [ANN, ADMIN], ids=["owner", "admin"])
def test_the_owner_and_an_admin_edit_tags_and_note_from_the_detail(stack, anns_file, user):
    at = files_page(user, file=anns_file.file_id)
    field(at, "text_input", "Tags").input(" Board Pack, q3 ")
    field(at, "text_area", "Note").input("for the board")
    submit(at).click().run()
    assert not at.exception, at.exception
    saved = read(stack, anns_file.file_id)
    assert (saved.tags, saved.notes, saved.status) == (("board pack", "q3"), "for the board", anns_file.status)
    assert any("saved" in s.value for s in at.success)
    assert listed_tags(at) == ["board pack, q3"]


def test_bad_tags_are_explained_and_nothing_changes(stack, anns_file):
    at = files_page(ANN, file=anns_file.file_id)
    field(at, "text_input", "Tags").input("fine, not;fine")
    submit(at).click().run()
    assert any("may only hold letters" in e.value for e in at.error)
    assert read(stack, anns_file.file_id) == anns_file


@pytest.mark.parametrize("user", [ANALYST, BOB], ids=["analyst", "another uploader"])
def test_others_get_no_form(stack, anns_file, user):
    at = files_page(user, file=anns_file.file_id)
    assert FORM not in {b.label for b in at.button}
    assert "Tags" not in {w.label for w in at.text_input}
