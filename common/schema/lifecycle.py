"""How a file's record changes over its life. Pure.

``pending`` (registered through the API; expires by TTL unless its object
arrives) or ``uploaded`` (the portal's item, before the object) → ``processing``
(:func:`claimed`) → ``processed`` or ``failed`` (:func:`finished`); later
``expired`` (:func:`expired`, the retention rule removed the object) or
``deleted`` (:func:`deleted`, by its owner or an admin). A failed file can be
sent back (:func:`queued_for_retry`), or put back when that did not start
(:func:`retry_abandoned`). A finished file's tags and note change by
:func:`relabelled`, which keeps its status.

Each function returns the next record; writing it is one transaction
(:func:`common.schema.requests.transition`) conditioned on the ``rev`` of the
record it came from, which also moves the aggregate counters and the
duplicate markers by the difference between the two states. A duplicate or
concurrent delivery finds the revision changed and cancels the whole
transaction, so no count is ever applied twice; an older event is recognised
by its sequencer before anything is written.
"""

from __future__ import annotations

from dataclasses import replace

from common.catalogue import FileStatus, Flag
from common.schema.keys import duplicate_pk, sequencer_order
from common.schema.record import Extracted, FileRecord, ObjectRef


def is_own_object(record: FileRecord, bucket: str, key: str, owner: str) -> bool:
    """True when the object at ``bucket``/``key``, in ``owner``'s folder, is the file's own.

    An object's key names the file (its id) and its owner (its folder), but
    anyone able to put an object could name another owner's file: only the
    key the file already has identifies it. Sequencers, too, are comparable
    only within one key.
    """
    return (record.bucket, record.key, record.owner) == (bucket, key, owner)


def claimed(old: FileRecord | None, file_id: str, owner: str, name: str, ref: ObjectRef,
            now: str, *, delivery: int | None = None, deadline: str = "") -> FileRecord:
    """The file as it is while ``ref``'s object version is processed.

    Identity fields (owner, name, upload time, who uploaded, tags and notes)
    survive from the portal's item; results of an earlier version are dropped.
    A claim of the same version that is still unfinished and noted no error
    (:func:`attempt_failed`) ended without a word: it is counted in ``interrupted``.
    ``delivery`` (the SQS receive count) and ``deadline`` (when that delivery
    has ended for sure) let people tell a file in work from one waiting for a retry.
    """
    rev = f"{sequencer_order(ref.sequencer)}#claimed"
    interrupted = None
    if old is not None and old.status is FileStatus.PROCESSING and old.rev == rev:  # claimed again
        interrupted = (old.interrupted or 0) + (0 if old.reason else 1) or None
    return FileRecord(
        file_id=file_id, owner=old.owner if old else owner, owner_email=old.owner_email if old else "",
        tags=old.tags if old else (), notes=old.notes if old else "",
        name=old.name if old else name, bucket=ref.bucket, key=ref.key, status=FileStatus.PROCESSING,
        uploaded_at=old.uploaded_at if old else now, updated_at=now, size=ref.size,
        content_type=old.content_type if old else "", version_id=ref.version_id, etag=ref.etag,
        sequencer=sequencer_order(ref.sequencer), started_at=now, rev=rev, interrupted=interrupted,
        delivery=delivery, deadline=deadline,
    )


def finished(current: FileRecord, result: Extracted, now: str, *, duplicate: bool = False,
             preview_key: str = "") -> FileRecord:
    """The file after extraction: processed, or failed with a reason; ``preview_key`` names its preview."""
    flags = set(result.flags) | ({Flag.DUPLICATE.value} if duplicate else set())
    return replace(
        current, status=result.status, reason=result.error, size=result.size, sha256=result.sha256,
        mime_type=result.mime_type, format=result.format, extension=result.extension,
        flags=tuple(sorted(flags)), metadata=dict(result.metadata), duration_ms=result.duration_ms,
        processed_at=now, updated_at=now, rev=f"{current.sequencer}#finished", preview_key=preview_key,
    )


def attempt_failed(current: FileRecord, note: str, now: str) -> FileRecord:
    """The file still processing, with a note of why the attempt that claimed it did not finish.

    The next claim clears the note, and does not count that attempt as
    interrupted: it ended, with an error worth another try.
    """
    return replace(current, reason=note, updated_at=now)


def expired(current: FileRecord, sequencer: str, now: str) -> FileRecord:
    """The file after the retention rule removed its object: everything known is kept."""
    seq = sequencer_order(sequencer)
    return replace(current, status=FileStatus.EXPIRED, sequencer=seq, updated_at=now, rev=f"{seq}#expired")


def deleted(current: FileRecord, now: str) -> FileRecord:
    """The file after its owner or an admin deleted it: a tombstone that counts nowhere.

    Its ``rev`` changes, so an extraction in flight cannot finish over it; the
    extractor never claims a deleted item again, whatever event arrives later.
    """
    return replace(current, status=FileStatus.DELETED, updated_at=now, rev=f"{current.sequencer}#deleted")


def queued_for_retry(current: FileRecord, now: str) -> FileRecord:
    """A failed file sent back for processing: ``uploaded`` again, waiting for its new event.

    Not terminal, so the extractor claims it even for an event whose sequencer
    equals the failed one (moto's stand-in gives every event the same sequencer;
    on AWS the copy's event is newer anyway).
    """
    return replace(current, status=FileStatus.UPLOADED, reason="", updated_at=now,
                   rev=f"{current.sequencer}#retry")


def retry_abandoned(failed: FileRecord, now: str) -> FileRecord:
    """The failed file again, when it could not be sent back after all (the copy failed)."""
    return replace(failed, updated_at=now, rev=f"{failed.sequencer}#failed")


def labels_editable(record: FileRecord) -> bool:
    """True when a file's tags and note may change now: finished by the extractor, not deleted.

    Not while it is uploaded or processing: the extractor's next write is
    decided from the state it claimed, and would put the old labels back. Not
    a portal-ended upload (no ``rev``): it never moved a counter.
    """
    return is_counted(record) and bool(record.rev)


def relabelled(current: FileRecord, tags: tuple[str, ...], notes: str, now: str, token: str) -> FileRecord:
    """The file with new tags and note; status, results and everything else kept.

    Its ``rev`` changes (``<sequencer>#labels.<token>``, the token unique to this
    edit), so a concurrent edit or transition decided from the old state is
    cancelled rather than undoing this one; the sequencer is kept, so the
    extractor still tells older and duplicate events apart.
    """
    return replace(current, tags=tags, notes=notes, updated_at=now, rev=f"{current.sequencer}#labels.{token}")


def is_counted(record: FileRecord | None) -> bool:
    """True while a file contributes to the counters and its duplicate marker: finished, not deleted."""
    return record is not None and record.status.terminal and record.status is not FileStatus.DELETED


def duplicate_marker(record: FileRecord | None) -> str:
    """The partition key of the duplicate marker naming this state of the file, or "" for none."""
    if record is None or not is_counted(record) or not record.sha256:
        return ""
    return duplicate_pk(record.owner, record.sha256)
