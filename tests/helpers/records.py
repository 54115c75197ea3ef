"""Generated files in terminal states, and the aggregate items their transactions leave.

:func:`make_records` exercises every counter (pages, slides, flags, reasons,
missing latency or size); :func:`aggregate_items` is what the table holds once
each file's transaction has been applied, computed from ``contributions``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from common.catalogue import FileStatus
from common.schema.aggregates import contributions
from common.schema.keys import upload_key
from common.schema.record import Extracted, FileRecord, ObjectRef, to_timestamp

#: Three recent days: inside the portal's default 30-day period whatever the time of day.
RECENT_DAYS = tuple((datetime.now(UTC).date() - timedelta(days=i)).isoformat() for i in (3, 2, 1))
DAYS = tuple((date(2026, 11, 15) + timedelta(days=i)).isoformat() for i in range(6))
OWNERS = ("aaaaaaaa-1111-4222-8333-444455556666", "bbbbbbbb-1111-4222-8333-444455556666",
          "cccccccc-1111-4222-8333-444455556666", "dddddddd-1111-4222-8333-444455556666")
FORMATS = ("pdf", "docx", "pptx", "png", "text", "")  # "" is counted as "unknown"
REASONS = ("encrypted PDF: metadata partially available", "the file was deleted before it could be processed",
           "processing failed 5 times; last error: boom", "reading the file needs more than the 512 MiB memory limit")
FLAGS = ("encrypted", "javascript", "macros", "gps", "scanned", "type_mismatch", "duplicate", "empty")
#: Latencies on, just under and just over every bucket bound, and far beyond the last.
LATENCIES = (0, 1, 249, 250, 251, 500, 999, 1000, 1001, 1999, 2000, 4999, 5000, 5001, 10_000, 29_999, 30_000,
             59_999, 60_000, 60_001, 299_999, 300_000, 300_001, 3_600_000)


def day_of(record: FileRecord) -> str:
    return record.uploaded_at[:10]


def format_of(record: FileRecord) -> str:
    return record.format or "unknown"


def latency_of(record: FileRecord) -> int:
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(record.processed_at) - parse(record.uploaded_at)).total_seconds() * 1000)


#: Names a document may carry: none, an author, an application, both, or an artist (media).
PEOPLE = ({}, {"author": "Ann Lee"}, {"author": "Bob"}, {"producer": "pdfTeX"}, {"creator": "Writer"},
          {"author": "Ann Lee", "producer": "LibreOffice"}, {"artist": "The Band"})


def make_records(n: int = 300, seed: int = 20261122, days: tuple[str, ...] = DAYS,
                 owners: tuple[str, ...] = OWNERS) -> list[FileRecord]:
    """Files in terminal states (processed, failed, expired), with every counter exercised (pages,
    slides, flags, reasons, no latency)."""
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        file_id = f"{rng.getrandbits(128):032x}"
        uploaded = datetime.fromisoformat(rng.choice(days)).replace(tzinfo=UTC) + timedelta(
            seconds=rng.randrange(86_400), milliseconds=rng.randrange(1000))
        failed = rng.random() < 0.25
        expired = rng.random() < 0.1  # removed by retention later; a failed one keeps its reason
        fmt = rng.choice(FORMATS)
        metadata: dict = {}
        roll = rng.random()
        if roll < 0.4:
            metadata = {"pages": rng.randrange(0, 400)}
        elif roll < 0.5:
            metadata = {"slides": rng.randrange(1, 80)}
        elif roll < 0.55:
            metadata = {"pages": True}  # not a page count: contributions ignore it
        latency = rng.choice(LATENCIES) if rng.random() < 0.6 else rng.randrange(0, 400_000)
        owner = rng.choice(owners)
        records.append(FileRecord(
            file_id=file_id, owner=owner, name=f"f.{fmt or 'bin'}", bucket="b",
            key=upload_key(owner, file_id, "f.bin"),
            status=FileStatus.EXPIRED if expired else FileStatus.FAILED if failed else FileStatus.PROCESSED,
            uploaded_at=to_timestamp(uploaded), updated_at=to_timestamp(uploaded),
            size=None if rng.random() < 0.05 else rng.randrange(0, 50_000_000), format=fmt,
            reason=rng.choice(REASONS) if failed else "", flags=tuple(sorted(rng.sample(FLAGS, rng.randrange(0, 3)))),
            metadata=metadata, duration_ms=None if rng.random() < 0.05 else rng.randrange(0, 20_000),
            processed_at="" if rng.random() < 0.03 else to_timestamp(uploaded + timedelta(milliseconds=latency)),
        ))
    # Names come from a generator of their own, so the files above stay what they were for every seed.
    names = random.Random(seed + 1)
    return [replace(r, metadata={**r.metadata, **names.choice(PEOPLE)}) for r in records]


def aggregate_cells(records: Iterable[FileRecord]) -> dict[tuple[str, str], dict[str, int]]:
    """What the table's aggregate items hold once every file's transaction is applied."""
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for record in records:
        for cell, counts in contributions(record).items():
            target = cells.setdefault(cell, {})
            for name, value in counts.items():
                target[name] = target.get(name, 0) + value
    return cells


def aggregate_items(records: Iterable[FileRecord]) -> list[dict]:
    """The aggregate items as a low-level DynamoDB client returns them (zero counts left out, as
    the transactions leave them out)."""
    return [{"pk": {"S": pk}, "sk": {"S": sk}, **{name: {"N": str(v)} for name, v in counts.items() if v}}
            for (pk, sk), counts in aggregate_cells(records).items()]


def sample_record(**changes: object) -> FileRecord:
    """One processed PDF of the uploader ``ann`` with a title, an author and a subject; ``changes`` override."""
    values: dict[str, object] = dict(
        file_id="0a" * 16, owner="ann", name="Q3 Report.pdf", bucket="b", key="uploads/ann/x.pdf",
        status=FileStatus.PROCESSED, uploaded_at="2026-11-22T10:00:00.000Z", updated_at="2026-11-22T10:00:01.000Z",
        size=1500, format="pdf", metadata={"title": "Quarterly Numbers", "author": "Jane Doe", "subject": "secret"})
    values.update(changes)
    return FileRecord(**values)  # type: ignore[arg-type]


def object_ref(file_id: str, owner: str = "owner-1", **changes: object) -> ObjectRef:
    """What an S3 event says about a 100-byte PDF uploaded for ``file_id``; ``changes`` override."""
    values: dict[str, object] = dict(bucket="b", key=f"uploads/{owner}/{file_id}.pdf", size=100, etag="e",
                                     version_id="v2", sequencer="00AB")
    values.update(changes)
    return ObjectRef(**values)  # type: ignore[arg-type]


def portal_item(file_id: str, owner: str = "owner-1") -> FileRecord:
    """The item the portal writes for an upload of ``Q3.pdf``, before its object is announced."""
    return FileRecord(file_id=file_id, owner=owner, owner_email="o@example.com", name="Q3.pdf", bucket="b",
                      key=object_ref(file_id, owner).key, status=FileStatus.UPLOADED,
                      uploaded_at="2026-11-22T10:00:00.000Z", updated_at="2026-11-22T10:00:00.000Z")


def extraction(**changes: object) -> Extracted:
    """What extracting a 4-page scanned PDF finds; ``changes`` override."""
    values: dict[str, object] = dict(size=100, sha256="ab" * 32, mime_type="application/pdf", format="pdf",
                                     extension="pdf", flags=("scanned",), metadata={"pages": 4}, duration_ms=30)
    values.update(changes)
    return Extracted(**values)  # type: ignore[arg-type]


#: Tags files carry in the tag tests: spaces and symbols the rules allow, and one on almost every file.
TAGS = ("q3", "board pack", "legal", "r&d", "hr/payroll", "2026")


def tagged(records: Iterable[FileRecord], seed: int = 16) -> list[FileRecord]:
    """``records`` with zero to three tags each (from :data:`TAGS`) and a note on some."""
    rng = random.Random(seed)
    return [replace(r, tags=tuple(rng.sample(TAGS, rng.randrange(0, 4))),
                    notes="see the minutes" if rng.random() < 0.3 else "") for r in records]
