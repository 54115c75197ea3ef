from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from common.catalogue import FileStatus
from common.schema.keys import (
    UploadKey,
    new_file_id,
    parse_upload_key,
    safe_extension,
    sequencer_order,
    thumbnail_key,
    upload_key,
)
from common.schema.record import FileRecord, attribute, from_item, plain_value, to_item

OWNER = "3f1c2b9e-1111-4222-8333-444455556666"


def test_upload_key_never_uses_the_file_name_as_a_path():
    file_id = new_file_id()
    for name in ["../../etc/passwd", "a/b/c.PDF", "rapport été.pdf", "x.p?f", "noext", ".bashrc"]:
        key = upload_key(OWNER, file_id, name)
        assert key.startswith(f"uploads/{OWNER}/{file_id}")
        assert ".." not in key and key.count("/") == 2
    assert upload_key(OWNER, file_id, "a/b/c.PDF").endswith(f"{file_id}.pdf")
    assert upload_key(OWNER, file_id, "x.p?f") == f"uploads/{OWNER}/{file_id}"


@pytest.mark.parametrize(("owner", "file_id"), [("../x", "a" * 32), (OWNER, "short"), ("", "a" * 32)])
def test_upload_key_rejects_malformed_ids(owner, file_id):
    with pytest.raises(ValueError, match="invalid"):
        upload_key(owner, file_id, "a.pdf")


def test_a_preview_is_keyed_by_owner_file_and_version_never_by_name():
    file_id = new_file_id()
    key = thumbnail_key(OWNER, file_id, "62E99A88DC407460")
    assert key == f"thumbnails/{OWNER}/{file_id}/{sequencer_order('62E99A88DC407460')}.png"
    assert thumbnail_key(OWNER, file_id, sequencer_order("62e99a88dc407460")) == key  # as the item stores it
    assert thumbnail_key(OWNER, file_id, "62E99A88DC407461") != key  # another version, another key
    for owner, fid, sequencer in (("../x", file_id, "1"), (OWNER, "report.pdf", "1"), (OWNER, file_id, "../1")):
        with pytest.raises(ValueError, match="invalid"):
            thumbnail_key(owner, fid, sequencer)


def test_parse_upload_key_round_trips_portal_keys():
    file_id = new_file_id()
    key = upload_key(OWNER, file_id, "report.pdf")
    assert parse_upload_key("b", key) == UploadKey(OWNER, file_id)


def test_parse_upload_key_gives_foreign_objects_a_stable_id_per_bucket_and_key():
    first = parse_upload_key("b", "uploads/someone/report 1+2.pdf")
    assert first.owner == "someone"
    assert first == parse_upload_key("b", "uploads/someone/report 1+2.pdf")
    assert first.file_id != parse_upload_key("b", "uploads/someone/report 1 2.pdf").file_id
    assert first.file_id != parse_upload_key("other", "uploads/someone/report 1+2.pdf").file_id


@pytest.mark.parametrize("key", ["other/x.pdf", "uploads/x.pdf", "uploads/someone/", "uploads/bad owner!/x"])
def test_parse_upload_key_rejects_keys_outside_the_layout(key):
    with pytest.raises(ValueError, match=r"outside|owner"):
        parse_upload_key("b", key)


@given(st.integers(min_value=0, max_value=16**40), st.integers(min_value=0, max_value=16**40))
def test_padded_sequencers_sort_like_the_numbers_they_are(a, b):
    sa, sb = sequencer_order(f"{a:X}"), sequencer_order(f"{b:x}")
    assert (sa < sb) == (a < b)
    assert (sa == sb) == (a == b)


@pytest.mark.parametrize("bad", ["", "xyz", "1" * 65])
def test_invalid_sequencers_are_refused(bad):
    with pytest.raises(ValueError, match="sequencer"):
        sequencer_order(bad)


def test_items_round_trip_including_nested_metadata_and_floats():
    record = FileRecord(
        file_id="a" * 32, owner=OWNER, name="é.pdf", bucket="b", key="uploads/x/y.pdf",
        status=FileStatus.PROCESSED, uploaded_at="2026-11-22T10:00:00.000Z",
        updated_at="2026-11-22T10:00:01.000Z", size=12, sha256="0" * 64, flags=("empty",),
        metadata={"pages": 3, "ratio": 0.5, "sheets": [{"name": "A", "rows": 2}]}, duration_ms=4,
        preview_key=f"thumbnails/x/{'a' * 32}/{'0' * 63}1.png",
    )
    item = to_item(record)
    assert item["pk"] == {"S": "FILE#" + "a" * 32}
    assert item["gsi1pk"] == {"S": f"OWNER#{OWNER}"}
    assert "reason" not in item  # empty values are not stored
    assert item["preview_key"] == {"S": record.preview_key}
    assert "preview_key" not in to_item(FileRecord(**{**record.__dict__, "preview_key": ""}))
    assert from_item(item) == record


def test_terminal_statuses():
    assert {s for s in FileStatus if s.terminal} == {FileStatus.PROCESSED, FileStatus.FAILED, FileStatus.EXPIRED,
                                                     FileStatus.DELETED}


def test_safe_extension():
    assert safe_extension("A.TAR.GZ") == "gz"
    assert safe_extension("C:\\docs\\x.Docx") == "docx"
    assert safe_extension("noext") == ""
    assert safe_extension("bad.ex t") == ""


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda f: abs(f) < 1e20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20))
def test_values_are_stored_as_boto3_stores_them_and_decode_exactly(value):
    stored = attribute(value)
    assert stored == TypeSerializer().serialize(_as_boto3_takes_it(value))
    assert plain_value(stored) == _plain(TypeDeserializer().deserialize(stored))


def _as_boto3_takes_it(value):
    """Floats as the Decimal of their shortest text, which is how the codec writes them."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [_as_boto3_takes_it(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_boto3_takes_it(v) for k, v in value.items()}
    return value


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**40, object()])
def test_values_dynamodb_cannot_hold_are_refused_like_boto3_refuses_them(value):
    with pytest.raises((TypeError, ArithmeticError)):
        attribute(value)
    with pytest.raises((TypeError, ArithmeticError)):
        TypeSerializer().serialize(_as_boto3_takes_it(value))


def test_sets_and_binary_round_trip():
    for value in ({"a", "b"}, {1, 2.5}, b"\x00\xff"):
        assert plain_value(attribute(value)) == value
