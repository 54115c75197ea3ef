"""Which pages a verified user gets: the one place that knows the portal's pages.

``app.py`` builds ``st.navigation`` from :func:`pages`; tests run a page
inside the same navigation (``tests/helpers/harness.py``), so links between
pages work there as they do in the app. Every page checks the user's role
again itself: hiding a page is a convenience, not the access control.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from portal import access
from portal.access import Role, User

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
DEFAULT_PAGE = "files"
#: Every page's name (its script, and its URL segment): the only places a deep link may lead.
PAGE_NAMES = frozenset({"no_access", "files", "upload", "dashboard", "export", "users", "account"})


def page_path(name: str) -> str:
    """The script of page ``name`` (absolute, so any entry script can register it)."""
    return str(PAGES_DIR / f"{name}.py")


def entries(user: User) -> list[tuple[str, str, str]]:
    """``(name, title, icon)`` of each page ``user``'s roles allow, in menu order."""
    if not access.has_role(user):
        return [("no_access", "Access", ":material/lock:")]
    allowed = [
        ("files", "Files", ":material/folder:"),
        ("upload", "Upload", ":material/upload:"),
        ("dashboard", "Dashboard", ":material/insights:"),
    ]
    if access.may_export(user):
        allowed.append(("export", "Export", ":material/download:"))
    if user.has(Role.ADMINS):  # offered to every admin; the page says when a code is needed first
        allowed.append(("users", "Users", ":material/group:"))
    allowed.append(("account", "Account", ":material/shield_person:"))
    return allowed


def names(user: User) -> list[str]:
    """The names of the pages ``user``'s roles allow."""
    return [name for name, _, _ in entries(user)]


def pages(user: User, default: str = DEFAULT_PAGE) -> list[st.Page]:
    """The pages ``user``'s roles allow; ``default`` is shown first if allowed."""
    allowed = entries(user)
    chosen = default if default in names(user) else allowed[0][0]
    return [st.Page(page_path(name), title=title, icon=icon, default=name == chosen)
            for name, title, icon in allowed]
