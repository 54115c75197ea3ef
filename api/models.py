"""The API's request and response bodies: pydantic models, so validation and the OpenAPI document agree.

Responses are built from the portal's own records and figures
(:class:`~common.schema.record.FileRecord`, :class:`~portal.dashboard.analytics.Kpis`):
no number is computed here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from common.schema.record import FileRecord
from portal.dashboard.analytics import Kpis
from portal.files.upload_policy import MAX_NOTES_CHARS, MAX_TAGS

#: A MIME type as browsers and scripts send it: ``type/subtype`` with optional parameters.
MIME_PATTERN = (r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
                r"(;[ -~]{0,128})?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UploadRequest(_Strict):
    """A file the caller is about to send straight to S3."""

    name: str = Field(min_length=1, max_length=255, description="The file's name, with its extension.")
    size: int = Field(ge=0, description="Exact size in bytes; the upload form accepts only this size.")
    content_type: str = Field(pattern=MIME_PATTERN, max_length=200,
                              description="The MIME type the file is sent with.")
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    notes: str = Field(default="", max_length=MAX_NOTES_CHARS)


class UploadForm(_Strict):
    """A presigned POST: send ``fields`` then the file (field ``file``) as multipart/form-data to ``url``."""

    url: str
    fields: dict[str, str]
    expires_in: int = Field(description="Seconds the form is valid for.")


class PartLink(_Strict):
    """Where one part goes: PUT its bytes to ``url`` and keep the ``ETag`` header S3 answers with."""

    part_number: int
    url: str


class MultipartLinks(_Strict):
    """A large file's upload in parts: every part ``part_size`` bytes but the last, then ``complete``."""

    upload_id: str
    part_size: int
    part_count: int
    parts: list[PartLink]
    complete: str = Field(description="POST the parts' numbers and ETags here once every part is sent.")
    cancel: str = Field(description="DELETE this to give the upload up.")
    expires_in: int = Field(description="Seconds the part links are valid for.")


class UploadCreated(_Strict):
    """The registered file and how to send it: one form (``upload``), or parts (``multipart``) when large."""

    file_id: str
    key: str
    status: str
    upload: UploadForm | None = None
    multipart: MultipartLinks | None = None


class PartDone(_Strict):
    """One part sent: its number and the ETag its PUT answered."""

    part_number: int = Field(ge=1, le=10_000)
    etag: str = Field(min_length=1, max_length=200)


class CompleteUpload(_Strict):
    """Every part of a multipart upload, in ascending order of part number."""

    parts: list[PartDone] = Field(min_length=1, max_length=10_000)


class FileSummary(_Strict):
    """One file as a list shows it."""

    file_id: str
    name: str
    owner: str
    owner_email: str
    status: str
    uploaded_at: str
    updated_at: str
    size: int | None
    content_type: str
    format: str
    mime_type: str
    sha256: str
    tags: list[str]
    notes: str
    flags: list[str]
    reason: str
    processed_at: str
    duration_ms: int | None

    @classmethod
    def of(cls, record: FileRecord) -> FileSummary:
        """The summary of a stored record."""
        return cls(**_summary_fields(record))


class FileDetail(FileSummary):
    """One file with the metadata the extractor read from it."""

    metadata: dict[str, Any]

    @classmethod
    def of(cls, record: FileRecord) -> FileDetail:
        """The detail of a stored record."""
        return cls(**_summary_fields(record), metadata=dict(record.metadata))


def _summary_fields(record: FileRecord) -> dict[str, Any]:
    return {"file_id": record.file_id, "name": record.name, "owner": record.owner,
            "owner_email": record.owner_email, "status": record.status.value,
            "uploaded_at": record.uploaded_at, "updated_at": record.updated_at, "size": record.size,
            "content_type": record.content_type, "format": record.format, "mime_type": record.mime_type,
            "sha256": record.sha256, "tags": list(record.tags), "notes": record.notes,
            "flags": list(record.flags), "reason": record.reason, "processed_at": record.processed_at,
            "duration_ms": record.duration_ms}


class FileList(_Strict):
    """One page of files, newest first unless asked otherwise; ``next_token`` fetches the next page."""

    files: list[FileSummary]
    next_token: str | None


class Link(_Strict):
    """A short-lived link."""

    url: str
    expires_in: int


class Figures(_Strict):
    """The dashboard's headline figures for a period, from the counters, as the portal shows them."""

    start: str
    end: str
    files: int
    storage_bytes: int | None
    processed: int
    processed_share: float | None
    failures: int
    median_latency_ms: int | None
    p95_latency_ms: int | None
    mean_processing_ms: float | None
    notes: list[str]

    @classmethod
    def of(cls, start: str, end: str, kpis: Kpis) -> Figures:
        """The figures of the portal's KPIs for a period."""
        return cls(start=start, end=end, files=kpis.files, storage_bytes=kpis.storage_bytes,
                   processed=kpis.processed, processed_share=kpis.processed_share, failures=kpis.failures,
                   median_latency_ms=kpis.median_latency_ms, p95_latency_ms=kpis.p95_latency_ms,
                   mean_processing_ms=kpis.mean_processing_ms, notes=list(kpis.notes))


class ExportLink(_Strict):
    """An export too large to return inline: a short-lived link to the CSV in S3."""

    url: str
    key: str
    expires_in: int


class GatewayRefusal(_Strict):
    """API Gateway's own answer when its JWT authorizer refuses the token (missing, expired, wrong issuer
    or audience), before the API runs: not a problem document."""

    message: str = Field(description="Always 'Unauthorized'.")


class FieldProblem(_Strict):
    """One invalid part of a request: where (``body.size``, ``query.to``) and what is wrong."""

    where: str
    problem: str


class ProblemBody(_Strict):
    """An RFC 9457 problem (``application/problem+json``); ``type`` is stable, ``detail`` is for people."""

    type: str = Field(description="urn:docportal:problem:<name>, stable for scripts to branch on.")
    title: str
    status: int
    detail: str
    instance: str = Field(description="The path of the request that failed.")
    errors: list[FieldProblem] | None = Field(default=None, description="For validation problems.")
