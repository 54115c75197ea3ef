"""Saved Files views: a user's named Files URLs, kept small on one item per user. Pure.

A view is its canonical query (:func:`portal.files.links.to_params`), so
opening one is opening a link: the Files page parses it as it parses any
URL, and a stored value that is no longer valid is dropped with a note.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from portal.files import links
from portal.files.explorer import FileFilters

#: Views one user may keep: enough to come back to, small enough for one item.
MAX_VIEWS = 20
MAX_NAME = 60
#: A stored query longer than this is not one of ours.
MAX_QUERY = 2000


class InvalidView(ValueError):
    """A view that cannot be saved; the message is for the user."""


@dataclass(frozen=True)
class SavedView:
    """A name and the Files view's query string it stands for."""

    name: str
    query: str

    @property
    def params(self) -> Mapping[str, list[str]]:
        """The query as URL parameters (name -> values), for a link."""
        return parse_qs(self.query)


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidView(f"Give the view a name of 1 to {MAX_NAME} characters.")
    if any(unicodedata.category(c).startswith("C") for c in text if c != " "):
        raise InvalidView("A view's name cannot hold control characters.")
    return name


def named(name: str, filters: FileFilters) -> SavedView:
    """The view of ``filters`` under ``name`` (whitespace folded).

    Raises
    ------
    InvalidView
        For an empty or overlong name, or one with control characters.
    """
    return SavedView(_name(name), urlencode(links.to_params(filters), doseq=True))


def add(views: Sequence[SavedView], view: SavedView) -> tuple[SavedView, ...]:
    """``views`` with ``view`` first; a view of the same name is replaced.

    Raises
    ------
    InvalidView
        When :data:`MAX_VIEWS` views are kept already.
    """
    others = tuple(v for v in views if v.name != view.name)
    if len(others) >= MAX_VIEWS:
        raise InvalidView(f"You keep {MAX_VIEWS} views already; delete one first.")
    return view, *others


def remove(views: Sequence[SavedView], name: str) -> tuple[SavedView, ...]:
    """``views`` without the view called ``name``."""
    return tuple(v for v in views if v.name != name)


def encode(views: Sequence[SavedView]) -> str:
    """Views as the stored text (JSON)."""
    return json.dumps([{"name": v.name, "query": v.query} for v in views], separators=(",", ":"))


def decode(text: str) -> tuple[SavedView, ...]:
    """Stored views; anything damaged reads as no view (a damaged entry as nothing)."""
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(data, list):
        return ()
    views = []
    for entry in data[:MAX_VIEWS]:
        if not isinstance(entry, dict):
            continue
        name, query = entry.get("name"), entry.get("query")
        if isinstance(name, str) and isinstance(query, str) and name and len(name) <= MAX_NAME \
                and len(query) <= MAX_QUERY:
            views.append(SavedView(name, query))
    return tuple(views)
