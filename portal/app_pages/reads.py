"""Every cached read the pages make, each keyed by the verified user. Not a page itself.

``st.cache_data`` is shared by every session of the process, so each read
here takes the user's id and roles (and the table) as arguments and runs the
service as that user: one user's cached answer is never served to another,
and the services check access on every call that fills the cache. Pages
call :func:`loading` around a read to show a spinner and, should AWS fail,
a message instead of a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError

from common import aws
from common.schema.record import FileRecord
from common.settings import Settings
from portal import access
from portal.access import User
from portal.dashboard import analytics, data
from portal.dashboard.analytics import Dashboard
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.files import service
from portal.files.explorer import FileFilters
from portal.files.service import FileCount, FilePage
from portal.users import service as users

logger = logging.getLogger(__name__)

#: Dashboards are read at most this often per user and period.
FIGURES_SECONDS = 30
#: The Files list refreshes every two seconds while files are in flight.
FILES_SECONDS = 2
UNAVAILABLE = "The figures cannot be loaded right now. Please try again in a minute."
T = TypeVar("T")


#: Whose read it is: id, e-mail, groups and token expiry (see :func:`user_key`).
UserKey = tuple[str, str, tuple[str, ...], int, bool]


def user_key(user: User) -> UserKey:
    """The part of every cache key that says whose read it is: id, e-mail, groups, expiry, second factor.

    The expiry is in it so that the service, which refuses expired users, sees
    the user exactly as verified, and a cached answer never outlives the
    tokens it was read with by more than the cache's time to live.
    """
    return user.sub, user.email, tuple(sorted(user.groups)), user.expires_at, user.second_factor


def as_user(who: UserKey) -> User:
    """The verified user a cached read runs for, rebuilt from its cache key."""
    sub, email, groups, expires_at, second_factor = who
    return User(sub=sub, email=email, groups=frozenset(groups), expires_at=expires_at,
                second_factor=second_factor)


def _settings() -> Settings:
    return Settings.from_env()


def loading(read: Callable[..., T], *args: Any, what: str = "Loading…") -> T:
    """Run a (cached) read under a spinner; on an AWS error say so and stop the page."""
    try:
        with st.spinner(what):
            return read(*args)
    except (ClientError, BotoCoreError):
        logger.exception("read failed: %s", getattr(read, "__name__", read))
        st.error(UNAVAILABLE)
        st.stop()
        raise  # st.stop() raises; this tells type checkers


# --- the dashboard and export ---------------------------------------------------------


@st.cache_data(ttl=FIGURES_SECONDS, show_spinner=False)
def cells(table: str, who: UserKey, start: str, end: str) -> data.Loaded:
    """The aggregate cells this user may see for the days."""
    return data.load(aws.client("dynamodb"), table, Viewer.of(as_user(who)), start, end)


@st.cache_data(ttl=FIGURES_SECONDS, show_spinner=False)
def dashboard(table: str, who: UserKey, filters_key: tuple[Any, ...]) -> Dashboard:
    """This user's dashboard for the filters (keyed by every filter too)."""
    filters = DashboardFilters.from_key(filters_key)
    loaded = cells(table, who, filters.start, filters.end)
    return analytics.build_dashboard(loaded.frame, filters, Viewer.of(as_user(who)))


@st.cache_data(ttl=300, show_spinner=False)
def uploader_emails(user_pool_id: str, who: UserKey) -> dict[str, str]:
    """User id to e-mail, to name and choose uploaders: only analysts and admins see others' e-mails."""
    if not access.sees_everyone(as_user(who)):
        return {}
    return users.owner_emails(aws.client("cognito-idp"), user_pool_id)


# --- files ----------------------------------------------------------------------------


@st.cache_data(ttl=FILES_SECONDS, show_spinner=False)
def file_page(table: str, who: UserKey, filters_key: tuple[Any, ...], token: str | None,
              page_size: int) -> FilePage:
    """One page of this user's Files view."""
    return service.list_files(user=as_user(who), ddb=aws.client("dynamodb"), settings=_settings(),
                              filters=FileFilters.from_key(filters_key), page_token=token,
                              page_size=page_size)


@st.cache_data(ttl=FIGURES_SECONDS, show_spinner=False)
def file_count(table: str, who: UserKey, filters_key: tuple[Any, ...]) -> FileCount:
    """How many files this user's Files view holds for the filters (as long as the dashboard's figures)."""
    return service.count_files(user=as_user(who), ddb=aws.client("dynamodb"), settings=_settings(),
                               filters=FileFilters.from_key(filters_key))


@st.cache_data(ttl=FILES_SECONDS, show_spinner=False)
def file(table: str, who: UserKey, file_id: str) -> FileRecord:
    """One file, if this user may see it."""
    return service.get_file(user=as_user(who), ddb=aws.client("dynamodb"), settings=_settings(),
                            file_id=file_id)


@st.cache_data(ttl=300, show_spinner=False, max_entries=200)
def preview(table: str, who: UserKey, file_id: str, preview_key: str) -> bytes | None:
    """The stored thumbnail or PDF first page (keyed by the preview's key too: a new version's shows)."""
    return service.preview_bytes(user=as_user(who), s3=aws.client("s3"), ddb=aws.client("dynamodb"),
                                 settings=_settings(), file_id=file_id)


def forget_files() -> None:
    """After a change, nobody may be shown a file as it was."""
    file_page.clear()
    file_count.clear()
    file.clear()
