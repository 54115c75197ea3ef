"""The Upload page's direct batches: what the browser says, checked, and the rows a person reads. Pure.

The page's component (``portal/components/direct_upload``) sends the bytes
from the browser straight to S3, so the portal never holds them. It talks to
the page twice per batch: ``chosen`` (each picked file's name, size and type)
and ``report`` (for each signed form, whether S3 accepted the POST). Both come
from the browser, so both are parsed here strictly: a message for another
batch is ignored, a malformed one refused, and a report is only ever a hint:
whether a file arrived is read from S3 (:mod:`portal.files.direct`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: Most files one batch may hold: each is signed (one item, one form) before any byte is sent.
MAX_BATCH_FILES = 100
#: Longest file name and error text the browser may send; S3 keys and messages are far shorter.
MAX_NAME_CHARS = 1024
MAX_ERROR_CHARS = 300


class Outcome(StrEnum):
    """What became of one file of a batch, as the summary says it."""

    STORED = "✓ stored"
    REFUSED = "⊘ refused"
    FAILED = "✗ failed"
    #: Signed but not reported: the page was left (or reloaded) before its upload ended.
    UNFINISHED = "… not finished"


@dataclass(frozen=True)
class Chosen:
    """One file the user picked, as the browser describes it (``index``: its place in the batch)."""

    index: int
    name: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Sent:
    """The browser's word on one signed file: did S3 accept the POST, and if not what it said."""

    index: int
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class Row:
    """One line of the summary: the file, what became of it, and why."""

    name: str
    outcome: Outcome
    details: str = ""


def _for_batch(message: Any, batch: str) -> Mapping[str, Any] | None:
    if not isinstance(message, Mapping) or message.get("batch") != batch:
        return None
    return message


def parse_chosen(message: Any, batch: str) -> tuple[Chosen, ...] | None:
    """The files of a ``chosen`` message for ``batch``; None when there is none for this batch.

    Raises
    ------
    ValueError
        When the message is malformed or names more than :data:`MAX_BATCH_FILES` files.
    """
    found = _for_batch(message, batch)
    if found is None:
        return None
    files = found.get("files")
    if not isinstance(files, list) or not files:
        raise ValueError("no files were chosen")
    if len(files) > MAX_BATCH_FILES:
        raise ValueError(f"at most {MAX_BATCH_FILES} files at once, please (there are {len(files)})")
    chosen = []
    for index, item in enumerate(files):
        if not isinstance(item, Mapping):
            raise ValueError("the browser sent a file list this page does not understand")
        name, size, kind = item.get("name"), item.get("size"), item.get("type", "")
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS or not isinstance(size, int) \
                or isinstance(size, bool) or size < 0 or not isinstance(kind, str):
            raise ValueError("the browser sent a file list this page does not understand")
        chosen.append(Chosen(index, name, size, kind[:255]))
    return tuple(chosen)


def parse_report(message: Any, batch: str) -> dict[int, Sent] | None:
    """What the browser reports for ``batch``, by file index; None when it has not reported.

    Entries that are not well formed are left out: their files count as not
    reported, and S3 decides whether they arrived.
    """
    found = _for_batch(message, batch)
    if found is None or not isinstance(found.get("results"), list):
        return None
    sent: dict[int, Sent] = {}
    for item in found["results"]:
        if not isinstance(item, Mapping):
            continue
        index, ok, error = item.get("index"), item.get("ok"), item.get("error", "")
        if isinstance(index, int) and not isinstance(index, bool) and isinstance(ok, bool):
            sent[index] = Sent(index, ok, str(error)[:MAX_ERROR_CHARS] if error else "")
    return sent


def headline(rows: tuple[Row, ...] | list[Row]) -> str:
    """One sentence for a batch: how many files were stored, refused, failed or not finished."""
    counts = {o: sum(1 for r in rows if r.outcome is o) for o in Outcome}
    parts = [f"{n} {label}" for o, label in ((Outcome.STORED, "stored"), (Outcome.REFUSED, "refused"),
                                             (Outcome.FAILED, "failed"), (Outcome.UNFINISHED, "not finished"))
             if (n := counts[o])]
    return ", ".join(parts) + "." if parts else "Nothing was uploaded."
