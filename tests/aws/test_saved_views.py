"""Saved Files views in the files table on moto: per user, bounded, never lost silently."""

from __future__ import annotations

import pytest

from common import aws
from common.catalogue import FileStatus
from common.schema import requests
from common.schema.keys import saved_views_key
from portal.access import NotAllowed, User
from portal.files import links, saved_views
from portal.files.explorer import FileFilters
from portal.files.service import FilesUnavailable

ANN = User(sub="aaaaaaaa-1111-4222-8333-000000000001", email="ann@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)
BOB = User(sub="bbbbbbbb-1111-4222-8333-000000000002", email="bob@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)
NOBODY = User(sub="eeeeeeee-1111-4222-8333-000000000005", email="new@example.com", groups=frozenset(),
              expires_at=2**40)
FAILED = FileFilters(statuses=frozenset({FileStatus.FAILED}), formats=frozenset({"pdf"}))


def test_a_user_saves_finds_replaces_and_deletes_their_views(stack):
    ddb = aws.client("dynamodb")
    assert saved_views.list_views(user=ANN, ddb=ddb, settings=stack) == ()
    saved_views.save_view(user=ANN, ddb=ddb, settings=stack, name="Failed PDFs", filters=FAILED)
    saved_views.save_view(user=ANN, ddb=ddb, settings=stack, name="Everything", filters=FileFilters())
    views = saved_views.list_views(user=ANN, ddb=ddb, settings=stack)
    assert [v.name for v in views] == ["Everything", "Failed PDFs"]
    assert links.parse(views[1].params, owners=None).filters == FAILED
    assert saved_views.list_views(user=BOB, ddb=ddb, settings=stack) == ()  # one item per user
    saved_views.delete_view(user=ANN, ddb=ddb, settings=stack, name="Everything")
    assert [v.name for v in saved_views.list_views(user=ANN, ddb=ddb, settings=stack)] == ["Failed PDFs"]


def test_a_write_over_views_changed_meanwhile_is_refused_not_lost(stack, monkeypatch):
    ddb = aws.client("dynamodb")
    saved_views.save_view(user=ANN, ddb=ddb, settings=stack, name="first", filters=FAILED)
    real = saved_views._read

    def stale(user, ddb, settings):  # another tab saves between this read and its write
        read = real(user, ddb, settings)
        ddb.put_item(**requests.put_saved_views(stack.table, user.sub, "[]", "2099-01-01T00:00:00.000Z", read[1]))
        return read

    monkeypatch.setattr(saved_views, "_read", stale)
    with pytest.raises(FilesUnavailable, match="changed meanwhile"):
        saved_views.save_view(user=ANN, ddb=ddb, settings=stack, name="second", filters=FAILED)


def test_no_role_no_views(stack):
    with pytest.raises(NotAllowed):
        saved_views.save_view(user=NOBODY, ddb=aws.client("dynamodb"), settings=stack, name="x", filters=FAILED)
    assert "Item" not in aws.client("dynamodb").get_item(TableName=stack.table, Key=saved_views_key(NOBODY.sub))
