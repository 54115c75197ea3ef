"""A file's next tags and note from an edit (pure): the upload's rules, replace, add, remove."""

from __future__ import annotations

import pytest

from portal.files.labels import InvalidLabels, LabelEdit
from portal.files.upload_policy import MAX_NOTES_CHARS, MAX_TAG_CHARS, MAX_TAGS


def test_tags_typed_in_an_edit_follow_the_upload_rules():
    edit = LabelEdit.of(tags=" Q3 ,  Board   Pack, q3\n", notes="  keep\r\nthis  ")
    assert edit.apply(("old",), "was") == (("q3", "board pack"), "keep\nthis")


def test_add_and_remove_leave_the_other_tags_and_the_note_alone():
    edit = LabelEdit.of(add=["Urgent", "q3"], remove=["DRAFT"])
    assert edit.apply(("q3", "draft", "legal"), "note") == (("q3", "legal", "urgent"), "note")
    assert LabelEdit.of(remove="absent").apply(("a",), "") == (("a",), "")


@pytest.mark.parametrize("bad", ["x" * (MAX_TAG_CHARS + 1), "semi;colon", ",".join(f"t{i}" for i in range(11))])
def test_bad_tags_are_refused_with_a_reason(bad):
    with pytest.raises(InvalidLabels) as refused:
        LabelEdit.of(tags=bad)
    assert str(refused.value)


def test_adding_past_the_limit_is_refused_not_cut():
    full = tuple(f"t{i}" for i in range(MAX_TAGS))
    with pytest.raises(InvalidLabels, match=f"at most {MAX_TAGS} tags"):
        LabelEdit.of(add="one more").apply(full, "")


def test_a_note_over_the_limit_is_refused_not_cut():
    with pytest.raises(InvalidLabels, match="limit"):
        LabelEdit.of(notes="x" * (MAX_NOTES_CHARS + 1))
