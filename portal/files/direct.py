"""Direct uploads from the Upload page: sign a batch of forms, then settle it by what reached S3.

The browser sends each file's bytes straight to S3 with a presigned POST
(:func:`portal.files.uploads.presign_upload`: a ``pending`` item, counted
nowhere, removed by TTL unless its object arrives), so the portal process
never holds an upload. This module does the two steps the page needs:

- :func:`sign_batch` checks every chosen file with the upload policy and signs
  a form for each accepted one, as the verified user, with the page's tags and notes;
- :func:`settle_batch` says what became of each signed file. S3 is asked, not
  the browser: a file is stored when its object is there. A file the browser
  reports as failed is ended ``failed`` at once with S3's reason (through
  :func:`portal.files.uploads.end_upload_failed`, which leaves it alone should
  its object arrive after all); one it never reported (the page was left or
  reloaded first) stays ``pending`` and says "upload not finished" on My files
  until it arrives or its entry expires.

Clients and settings are passed in, as in :mod:`portal.files.uploads`. No Streamlit here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from common.settings import Settings
from portal import access
from portal.access import User
from portal.files.direct_batch import Chosen, Outcome, Row, Sent
from portal.files.upload_policy import UploadPolicy
from portal.files.uploads import UploadError, end_upload_failed, presign_upload

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signed:
    """A chosen file with its registered item and the form that stores its object (and no other)."""

    index: int
    name: str
    size: int
    file_id: str
    key: str
    url: str
    fields: Mapping[str, str]


@dataclass(frozen=True)
class Batch:
    """A batch as signed: its id, the forms, and the files refused (by index) before anything was stored."""

    id: str
    signed: tuple[Signed, ...]
    refused: tuple[tuple[int, Row], ...]

    def for_browser(self) -> list[dict[str, Any]]:
        """What the component needs to send each file: its index, the form's URL and fields."""
        return [{"index": s.index, "url": s.url, "fields": dict(s.fields)} for s in self.signed]

    def refusals_for_browser(self) -> dict[str, str]:
        """Why each refused file was refused, by its index (a JSON object's keys are strings)."""
        return {str(index): row.details for index, row in self.refused}


def sign_batch(*, user: User, batch_id: str, files: Sequence[Chosen], tags: Sequence[str], notes: str,
               s3: Any, ddb: Any, settings: Settings) -> Batch:
    """Check each file with the upload policy and sign a form for each accepted one.

    A refused file (type, size, a failed registration) is a :class:`Row` and
    leaves nothing behind; the others are ``pending`` items with their forms.

    Raises
    ------
    portal.access.NotAllowed
        When ``user`` may not upload, or their tokens expired: nothing is signed.
    """
    access.require(access.may_upload(user), "Only uploaders, analysts and admins may upload files.")
    access.require_current(user, time.time())
    policy = UploadPolicy.from_settings(settings)
    signed: list[Signed] = []
    refused: list[tuple[int, Row]] = []
    for chosen in files:
        verdict = policy.check(chosen.name, chosen.size)
        if not verdict.accepted:
            refused.append((chosen.index, Row(chosen.name, Outcome.REFUSED, verdict.message)))
            continue
        try:
            made = presign_upload(user=user, name=chosen.name, size=chosen.size,
                                  content_type=chosen.content_type, s3=s3, ddb=ddb, settings=settings,
                                  tags=tags, notes=notes)
        except UploadError as e:
            refused.append((chosen.index, Row(chosen.name, Outcome.REFUSED, str(e))))
            continue
        signed.append(Signed(chosen.index, chosen.name, chosen.size, made.record.file_id, made.record.key,
                             made.url, made.fields))
    return Batch(batch_id, tuple(signed), tuple(refused))


def settle_batch(*, batch: Batch, sent: Mapping[int, Sent] | None, s3: Any, ddb: Any,
                 settings: Settings) -> tuple[Row, ...]:
    """What became of each file of ``batch``, refused ones first; ``sent``: the browser's report, if any.

    Stored when the object is in S3, whatever the browser said. Otherwise a
    file the browser reported is ended ``failed`` with its reason; one it did
    not report is ``not finished`` and keeps its ``pending`` item.
    """
    rows = [row for _, row in batch.refused]
    for signed in batch.signed:
        arrived = _arrived(s3, settings, signed.key)
        if arrived:
            rows.append(Row(signed.name, Outcome.STORED))
            continue
        report = (sent or {}).get(signed.index)
        if report is None or arrived is None:
            why = ("storage could not say whether it arrived" if arrived is None
                   else "its upload had not finished when the page last heard of it")
            rows.append(Row(signed.name, Outcome.UNFINISHED,
                            f"{signed.name}: {why}; My files shows it as 'upload not finished' until it "
                            "arrives. If it does not, upload it again."))
            continue
        why = report.error or ("the browser said it was sent, but it is not in storage" if report.ok
                               else "the browser could not send it")
        reason = f"the upload to storage failed ({why}); please upload the file again"
        end_upload_failed(ddb, settings, signed.file_id, reason)
        rows.append(Row(signed.name, Outcome.FAILED, f"{signed.name}: {reason}."))
    return tuple(rows)


def _arrived(s3: Any, settings: Settings, key: str) -> bool | None:
    """Whether the object at ``key`` exists (S3 is read-after-write consistent); None: S3 did not say."""
    try:
        s3.head_object(Bucket=settings.bucket, Key=key)
    except ClientError as e:
        if aws_errors.is_missing(e):
            return False
        logger.exception("could not check whether %s arrived", key)
        return None
    except BotoCoreError:
        logger.exception("could not check whether %s arrived", key)
        return None
    return True
