"""Actions on many files at once: which files each applies to, what happened, the ZIP's contents. Pure.

A bulk action is planned from the files the user selected: each file the
user may not act on (by :mod:`portal.access`'s rules, the same the single
file's buttons use) is left out with the reason, before anything changes.
The service (:mod:`portal.files.bulk_service`) then acts file by file, each
through the single-file service, and reports every file: done, or not and
why. Nothing is changed that the report does not name.

A new action is one more :class:`BulkAction` and one more entry in
:data:`ACTIONS`: its label, its rule and its refusals.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from common.catalogue import FileStatus
from common.schema.record import FileRecord
from portal import access
from portal.access import User
from portal.export.csv_shape import cell, encode_pages
from portal.text import human_size, plain

#: The most a ZIP may hold (the originals' sizes added up): a download, not a backup.
ZIP_MAX_BYTES = 500 * 1024 * 1024
#: The manifest's name inside every ZIP; no file may take it.
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file_id", "name", "name_in_zip", "status", "size", "sha256", "included", "why_not")
#: Characters of a name inside the ZIP, extension included (most file systems take 255 bytes).
MAX_ZIP_NAME = 120


class BulkAction(StrEnum):
    """What can be done to a selection of files."""

    DOWNLOAD = "download"
    RETRY = "retry"
    DELETE = "delete"
    LABEL = "label"


@dataclass(frozen=True)
class ActionSpec:
    """How an action is named, which files it applies to, and why it leaves a file out."""

    label: str
    #: Past tense, for the report ("3 files deleted").
    done: str
    allowed: Callable[[User, FileRecord], bool]
    #: Whether it changes the files (then only owners and admins may), or only reads them.
    changes: bool
    #: Why a file the user may act on is still left out, by its state.
    not_applicable: Callable[[FileRecord], str]


def _download_state(record: FileRecord) -> str:
    return "its original is no longer stored"


def _retry_state(record: FileRecord) -> str:
    return "only failed files can be retried"


def _delete_state(record: FileRecord) -> str:
    return "it is already deleted"


def _label_state(record: FileRecord) -> str:
    return "its tags can change once it is processed or failed"


ACTIONS: Mapping[BulkAction, ActionSpec] = {
    BulkAction.DOWNLOAD: ActionSpec("Download as ZIP", "put in the ZIP", access.may_download, False,
                                    _download_state),
    BulkAction.RETRY: ActionSpec("Retry failed", "sent back for processing", access.may_retry, True,
                                 _retry_state),
    BulkAction.DELETE: ActionSpec("Delete", "deleted", access.may_delete, True, _delete_state),
    BulkAction.LABEL: ActionSpec("Change tags", "retagged", access.may_label, True, _label_state),
}


@dataclass(frozen=True)
class Outcome:
    """One file of a bulk action: whether it was done and, if not, why (words for people)."""

    file_id: str
    name: str
    done: bool
    why: str = ""


@dataclass(frozen=True)
class Plan:
    """The files an action will be tried on, and those left out (with why) before anything changes."""

    action: BulkAction
    chosen: tuple[FileRecord, ...]
    refused: tuple[tuple[FileRecord, str], ...]

    @property
    def left_out(self) -> tuple[Outcome, ...]:
        return tuple(Outcome(r.file_id, r.name, False, why) for r, why in self.refused)


def refusal(action: BulkAction, user: User, record: FileRecord) -> str:
    """Why ``user`` may not apply ``action`` to ``record``; "" when they may."""
    spec = ACTIONS[action]
    if spec.allowed(user, record):
        return ""
    if not access.may_view(user, record):
        return "you may not see this file"
    if spec.changes and not access.may_change(user, record):
        return "only the file's owner or an admin can change it"
    return spec.not_applicable(record)


def plan(action: BulkAction, user: User, records: Iterable[FileRecord]) -> Plan:
    """Split the selection into the files the action applies to and those it leaves out (with why).

    Each file once, in the order given.
    """
    chosen: list[FileRecord] = []
    refused: list[tuple[FileRecord, str]] = []
    seen: set[str] = set()
    for record in records:
        if record.file_id in seen:
            continue
        seen.add(record.file_id)
        why = refusal(action, user, record)
        if why:
            refused.append((record, why))
        else:
            chosen.append(record)
    return Plan(action, tuple(chosen), tuple(refused))


@dataclass(frozen=True)
class Report:
    """Every file of a bulk action, done or not, in the order of the selection."""

    action: BulkAction
    outcomes: tuple[Outcome, ...]

    @property
    def done(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.done)

    @property
    def not_done(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.done)

    def summary(self) -> str:
        """One line: how many files the action was done to, and how many not."""
        done, rest = len(self.done), len(self.not_done)
        line = f"{_files(done)} {ACTIONS[self.action].done}."
        return line if not rest else f"{line} {_files(rest)} not: see below."

    def reasons(self) -> tuple[str, ...]:
        """One line for each file not done: its name and why."""
        return tuple(f"{plain(o.name)} ({o.file_id[:8]}): {o.why}" for o in self.not_done)


def _files(n: int) -> str:
    return f"{n} file{'' if n == 1 else 's'}"


def report(plan_: Plan, tried: Iterable[Outcome]) -> Report:
    """The plan's left-out files and the outcomes of those tried, in one report."""
    return Report(plan_.action, (*tried, *plan_.left_out))


def confirmation(count: int) -> str:
    """What a user confirms before a bulk delete: how many files, and that it cannot be undone."""
    return (f"Delete {_files(count)}? Their originals are removed and cannot be restored; "
            "their metadata is kept, marked deleted.")


# --- the ZIP --------------------------------------------------------------------------


def size_refusal(records: Iterable[FileRecord], cap: int = ZIP_MAX_BYTES) -> str:
    """Why the files are too large for one ZIP, or "" when they fit under ``cap``."""
    total = sum(r.size or 0 for r in records)
    if total <= cap:
        return ""
    return (f"These files add up to {human_size(total)} ({total:,} bytes); one ZIP holds at most "
            f"{human_size(cap)} ({cap:,} bytes). "
            "Please select fewer files.")


_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\ufffd]')


def _safe(name: str) -> str:
    """A name with no folder, no character a file system refuses and no direction trick."""
    text = unicodedata.normalize("NFC", plain(name)).replace("\\", "/")
    base = text.rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip().strip(".").strip()
    if not base:
        base = "file"
    if _WINDOWS_RESERVED.match(base):
        base = f"_{base}"
    return base


class ZipNames:
    """Safe, unique names inside one ZIP: no folders, no reserved names, no two equal ignoring case."""

    def __init__(self) -> None:
        self._used = {MANIFEST_NAME.casefold()}

    def take(self, name: str) -> str:
        """The name ``name`` gets in the ZIP: made safe, then ``name (2).ext`` for a repeated one."""
        base = _safe(name)
        suffix = PurePosixPath(base).suffix
        if len(suffix) > 16 or suffix == base:
            suffix = ""  # no real extension: kept whole as the stem, cut like one
        stem = base[: len(base) - len(suffix)]
        n = 1
        while True:
            tail = (f" ({n})" if n > 1 else "") + suffix
            candidate = stem[: MAX_ZIP_NAME - len(tail)] + tail
            if candidate.casefold() not in self._used:
                self._used.add(candidate.casefold())
                return candidate
            n += 1


@dataclass(frozen=True)
class ManifestRow:
    """One selected file in the ZIP's manifest: what it is, and whether it is in the ZIP and why not."""

    file_id: str
    name: str
    name_in_zip: str
    status: FileStatus
    size: int | None
    sha256: str
    included: bool
    why_not: str = ""


def manifest_csv(rows: Iterable[ManifestRow]) -> bytes:
    """The manifest as CSV (names users typed are neutralised for spreadsheets, as in exports)."""
    cells = [[cell(value) for value in (r.file_id, plain(r.name), r.name_in_zip, r.status.value, r.size,
                                        r.sha256, "yes" if r.included else "no", r.why_not)] for r in rows]
    return b"".join(encode_pages([cells], MANIFEST_COLUMNS))
