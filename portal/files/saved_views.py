"""A user's saved Files views in the files table: read, save, delete. I/O; rules in :mod:`portal.files.saved`.

Each user has one small item, ``USER#<sub>`` / ``VIEWS`` (at most 20 views
of a name and a query string each), keyed by the verified user's ``sub``:
no caller can name another user's item. A write is conditioned on the item
being as it was read, so two tabs saving at once cannot lose a view
silently (the second is told to try again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from common.schema import requests
from common.schema.record import utc_now
from common.settings import Settings
from portal import access
from portal.access import User
from portal.files import saved
from portal.files.explorer import FileFilters
from portal.files.saved import SavedView
from portal.files.service import FilesUnavailable

_LATER = "Your saved views cannot be {} right now. Please try again in a minute."


def _read(user: User, ddb: Any, settings: Settings) -> tuple[tuple[SavedView, ...], str | None]:
    access.require_current(user, time.time())
    access.require(access.has_role(user), access.NO_ROLE)
    try:
        item = ddb.get_item(**requests.get_saved_views(settings.table, user.sub)).get("Item")
    except (ClientError, BotoCoreError) as e:
        raise FilesUnavailable(_LATER.format("read")) from e
    if not item:
        return (), None
    return saved.decode(item.get("views", {}).get("S", "")), item.get("updated_at", {}).get("S")


def list_views(*, user: User, ddb: Any, settings: Settings) -> tuple[SavedView, ...]:
    """The user's saved views, the last saved first."""
    return _read(user, ddb, settings)[0]


def _change(user: User, ddb: Any, settings: Settings,
            change: Callable[[tuple[SavedView, ...]], tuple[SavedView, ...]]) -> tuple[SavedView, ...]:
    views, read_at = _read(user, ddb, settings)
    changed = change(views)
    try:
        ddb.put_item(**requests.put_saved_views(settings.table, user.sub, saved.encode(changed), utc_now(),
                                                read_at))
    except ClientError as e:
        if aws_errors.code(e) == "ConditionalCheckFailedException":
            raise FilesUnavailable("Your saved views changed meanwhile (another tab?); try again.") from e
        raise FilesUnavailable(_LATER.format("saved")) from e
    except BotoCoreError as e:
        raise FilesUnavailable(_LATER.format("saved")) from e
    return changed


def save_view(*, user: User, ddb: Any, settings: Settings, name: str,
              filters: FileFilters) -> tuple[SavedView, ...]:
    """Save the view of ``filters`` as ``name`` (replacing a view of that name); returns the views.

    Raises
    ------
    portal.files.saved.InvalidView
        For a bad name, or too many views.
    FilesUnavailable
        When DynamoDB cannot be written, or the views changed since they were read.
    """
    view = saved.named(name, filters)
    return _change(user, ddb, settings, lambda views: saved.add(views, view))


def delete_view(*, user: User, ddb: Any, settings: Settings, name: str) -> tuple[SavedView, ...]:
    """Delete the view called ``name``; returns the views left."""
    return _change(user, ddb, settings, lambda views: saved.remove(views, name))
