"""Shape records for people to read. Pure: no AWS, no Streamlit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from common.schema import FileRecord, FileStatus

STATUS_LABELS = {
    # Symbols every common font has; emoji turn into boxes without an emoji font.
    FileStatus.UPLOADED: "… uploaded",
    FileStatus.PROCESSING: "↻ processing",
    FileStatus.PROCESSED: "✓ processed",
    FileStatus.FAILED: "✗ failed",
    FileStatus.EXPIRED: "⌛ expired",
    FileStatus.DELETED: "⊘ deleted",
}


def human_size(size: int | None) -> str:
    """Bytes as a person reads them: ``1.5 MB``."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_time(timestamp: str) -> str:
    """An item timestamp in UTC, to the minute."""
    if not timestamp:
        return "—"
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def file_rows(records: Iterable[FileRecord]) -> list[dict[str, str]]:
    """One row per file for the files table."""
    return [
        {
            "Name": r.name,
            "Size": human_size(r.size),
            "Status": STATUS_LABELS[r.status],
            "Type": r.format or "—",
            "Uploaded": human_time(r.uploaded_at),
            "SHA-256": r.sha256 or "—",
            "Note": r.reason or ", ".join(r.flags),
        }
        for r in records
    ]


def in_flight(records: Iterable[FileRecord]) -> int:
    """How many files are not yet in a terminal state."""
    return sum(not r.status.terminal for r in records)
