"""Deep links: which of the portal's pages a signed-out visitor's link asked for.

Someone opening a shared link (``/dashboard?range=90+days``) signs in first;
afterwards they should be on that page with that query. The link is
attacker-controlled text, so it is never followed as a URL: its path either
names exactly one of the portal's own pages, or it is ignored and the default
page opens (OWASP Unvalidated Redirects: map to a fixed list, never pass the
destination through). Anything odd in the path (a scheme, ``//host``,
backslashes, percent-encoding, dots, more than one segment) is refused rather
than decoded or normalised, so no decoding quirk can turn it into another
place. Pure: no Streamlit, no AWS.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

#: A page's URL segment as ``st.Page`` makes it from the portal's file names.
_SEGMENT = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: Characters a path of the portal may hold at all; everything else (``%``, ``\``, ``:``, ``.``,
#: ``@``, whitespace, control characters, non-ASCII) means the link was not made by the portal.
_PATH = re.compile(r"[A-Za-z0-9_/-]*")
#: Enough for the dashboard's filters; a link with more is not one the portal made.
MAX_PARAMS = 20
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class DeepLink:
    """A page of the portal and the query it was asked with."""

    page: str
    query: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def params(self) -> dict[str, list[str]]:
        """The query as ``st.switch_page`` takes it (repeated keys kept)."""
        return {key: list(values) for key, values in self.query}


def page_of(url: str | None, pages: Collection[str], base_path: str = "") -> str | None:
    """The page ``url`` names, when it names one of ``pages`` under ``base_path`` exactly; None otherwise.

    ``url`` is the browser's address as Streamlit reports it (scheme, host,
    path; no query). Only its path is read, and only a path made of one known
    page segment below the portal's base path (``/dashboard``, ``/dashboard/``)
    counts. The root, unknown pages and anything unusual give None.
    """
    if not url or len(url) > 2048:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    if not url.startswith(("http://", "https://")) or not _PATH.fullmatch(path) or "//" in path:
        return None
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    if base and not (path == base or path.startswith(base + "/")):
        return None
    rest = path[len(base):]
    if rest.endswith("/"):
        rest = rest[:-1]
    if not rest.startswith("/"):
        return None
    name = rest[1:]
    if not _SEGMENT.fullmatch(name) or name not in pages:
        return None
    return name


def kept_query(pairs: Iterable[tuple[str, Iterable[str]]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The link's query, bounded: it is handed back to the page, which validates every value itself.

    Keys must be short plain names; over-long values and surplus keys are dropped.
    """
    kept: list[tuple[str, tuple[str, ...]]] = []
    for key, values in pairs:
        if len(kept) >= MAX_PARAMS or not _SEGMENT.fullmatch(key):
            continue
        short = tuple(v for v in values if len(v) <= MAX_VALUE_CHARS)[:MAX_PARAMS]
        if short:
            kept.append((key, short))
    return tuple(kept)


def link_for(url: str | None, query: Iterable[tuple[str, Iterable[str]]], pages: Collection[str],
             base_path: str = "") -> DeepLink | None:
    """The deep link a signed-out visitor followed, or None when it names no page of the portal."""
    page = page_of(url, pages, base_path)
    if page is None:
        return None
    return DeepLink(page=page, query=kept_query(query))


def destination(link: DeepLink | None, allowed: Collection[str]) -> DeepLink | None:
    """Where to go after sign-in: the link, when its page is one the user may open; else None."""
    if link is None or link.page not in allowed:
        return None
    return link
