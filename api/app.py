"""The API's routes: one Powertools resolver, each route a thin call of the portal's own services.

API Gateway's HTTP API verifies the caller's Cognito token (its JWT
authorizer) and passes the claims; :func:`api.identity.caller` turns them
into the portal's user, and every route calls the same service the portal's
page calls (:mod:`portal.files.service`, :mod:`portal.files.uploads`,
:mod:`portal.dashboard`, :mod:`portal.export.service`), so each rule of who
may do what is :mod:`portal.access`'s alone. Errors leave as RFC 9457
problems (:mod:`api.problems`). Clients come from :mod:`common.aws`.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from api import document, identity
from api.identity import Caller, Unauthenticated
from api.models import (
    CompleteUpload,
    ExportLink,
    Figures,
    FileDetail,
    FileList,
    FileSummary,
    GatewayRefusal,
    Link,
    MultipartLinks,
    PartLink,
    ProblemBody,
    UploadCreated,
    UploadForm,
    UploadRequest,
)
from api.problems import CONTENT_TYPE, Kind, Problem
from common import aws
from common.catalogue import FileStatus
from common.schema.record import FileRecord
from common.settings import Settings
from portal import access
from portal.access import NotAllowed, Scope
from portal.dashboard import analytics, data
from portal.dashboard.filters import DashboardFilters, Viewer
from portal.export import service as export
from portal.files import actions, explorer, multipart, service, uploads
from portal.files.explorer import FileFilters

logger = logging.getLogger(__name__)

TITLE = "DocPortal API"
VERSION = "1.0.0"
#: CSV exports up to this size come back in the response; larger ones as a link (HTTP API's limit is 6 MB).
INLINE_EXPORT_BYTES = 4 * 1024 * 1024
FILE_ID = Annotated[str, Path(description="The file's id, as the upload returned it.")]

app = APIGatewayHttpResolver(enable_validation=True)

_WHY = {400: "The page token does not fit this request", 401: "No valid token, or it expired",
        403: "Not allowed, or the token lacks the scope",
        404: "No such file (or its original is gone)", 409: "Not possible in the file's current state",
        415: "The body is not sent as application/json",
        422: "The request is not valid", 503: "AWS could not be reached; try again in a minute"}


def answers(model: type[BaseModel] | None, *codes: int, status: int = 200,
            more: dict[int, OpenAPIResponse] | None = None) -> dict[int, OpenAPIResponse]:
    """A route's responses for the OpenAPI document: its ``model`` on success, and its problems."""
    done: dict[int, OpenAPIResponse] = {status: {"description": "Done", "content": {
        "application/json": {"model": model}}}} if model else {}
    problems: dict[int, OpenAPIResponse] = {code: {"description": _WHY[code], "content": {
        CONTENT_TYPE: {"model": ProblemBody}}} for code in (401, 403, 422, *codes)}
    problems[401]["content"]["application/json"] = {"model": GatewayRefusal}  # the authorizer's refusal
    return {**done, **(more or {}), **problems}


@functools.cache
def settings() -> Settings:
    """The stack's settings, read once per process (a Lambda container)."""
    return Settings.from_env()


def reset() -> None:
    """Forget the settings, so the next call reads the environment again (tests switch stacks)."""
    settings.cache_clear()


def current() -> Caller:
    """The verified caller of the request being handled."""
    claims = app.current_event.request_context.authorizer.jwt_claim
    return identity.caller(claims)


def needs(scope: Scope) -> Caller:
    """The caller, refused unless their token grants ``scope``."""
    who = current()
    if not who.machine:
        access.require(access.has_role(who.user), access.NO_ROLE)
    access.require_scope(who.scopes, scope)
    return who


# --- uploads -----------------------------------------------------------------------------


@app.post("/v1/uploads", summary="Register a file and get a form (or, when large, part links) that uploads "
                                  "it straight to S3", responses=answers(UploadCreated, 415, 503, status=201))
def create_upload(request: UploadRequest) -> Response[UploadCreated]:
    """Register the file (in the caller's own space) and sign a POST limited to its key, size and type.

    Above ``DOCPORTAL_UPLOAD_MULTIPART_MB`` the file goes in parts instead: an S3
    multipart upload of its key, one presigned PUT per part, then ``complete``.
    """
    who = needs(Scope.WRITE)
    args = {"user": who.user, "name": request.name, "size": request.size,
            "content_type": request.content_type, "s3": aws.client("s3"), "ddb": aws.client("dynamodb"),
            "settings": settings(), "tags": request.tags, "notes": request.notes}
    if request.size > multipart.multipart_threshold(settings()):
        started = multipart.start(**args)
        path = f"/v1/uploads/{started.record.file_id}"
        links = MultipartLinks(upload_id=started.upload_id, part_size=started.part_size,
                               part_count=len(started.urls), complete=f"{path}/complete", cancel=path,
                               parts=[PartLink(part_number=n, url=u) for n, u in enumerate(started.urls, 1)],
                               expires_in=started.expires_in)
        body = UploadCreated(file_id=started.record.file_id, key=started.record.key,
                             status=started.record.status.value, multipart=links)
    else:
        made = uploads.presign_upload(**args)
        form = UploadForm(url=made.url, fields=dict(made.fields), expires_in=made.expires_in)
        body = UploadCreated(file_id=made.record.file_id, key=made.record.key,
                             status=made.record.status.value, upload=form)
    return Response(status_code=201, content_type="application/json", body=body)


@app.post("/v1/uploads/<file_id>/complete", summary="Assemble a large file's parts, once every part is sent",
          responses=answers(FileSummary, 404, 409, 503))
def complete_upload(file_id: FILE_ID, request: CompleteUpload) -> FileSummary:
    """Complete the caller's own multipart upload, if the parts make exactly the declared size."""
    who = needs(Scope.WRITE)
    parts = [multipart.Part(p.part_number, p.etag) for p in request.parts]
    return FileSummary.of(multipart.complete(user=who.user, file_id=file_id, parts=parts, s3=aws.client("s3"),
                                             ddb=aws.client("dynamodb"), settings=settings()))


@app.delete("/v1/uploads/<file_id>", summary="Give up an upload that has not arrived (it counts nowhere)",
            responses=answers(None, 404, 409, 503, more={204: {"description": "Cancelled"}}))
def cancel_upload(file_id: FILE_ID) -> Response[None]:
    """Abort the caller's own pending upload and remove its item."""
    who = needs(Scope.WRITE)
    multipart.abort(user=who.user, file_id=file_id, s3=aws.client("s3"), ddb=aws.client("dynamodb"),
                    settings=settings())
    return Response(status_code=204, content_type=None, body=None)


# --- files -------------------------------------------------------------------------------


def _split(text: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


@app.get("/v1/files", summary="List files, newest first, a page at a time",
         responses=answers(FileList, 400, 503))
def list_files(
    status: Annotated[str | None, Query(description="Statuses, comma-separated.")] = None,
    format: Annotated[str | None, Query(description="Formats, comma-separated (pdf, docx, …).")] = None,
    start: Annotated[str | None, Query(alias="from", description="First upload day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, Query(alias="to", description="Last upload day (YYYY-MM-DD).")] = None,
    owner: Annotated[str | None, Query(description="One uploader's id (analysts and admins).")] = None,
    q: Annotated[str | None, Query(description="Text to search for.", max_length=200)] = None,
    sort: Annotated[str, Query(description="newest, oldest, name, size or status.")] = "newest",
    page_size: Annotated[int, Query(ge=1, le=explorer.MAX_PAGE_SIZE)] = 50,
    page_token: Annotated[str | None, Query(description="The previous page's next_token.")] = None,
) -> FileList:
    """The caller's view of the files, as the portal's explorer reads it."""
    who = needs(Scope.READ)
    try:
        statuses, order = frozenset(FileStatus(s) for s in _split(status)), explorer.SortKey(sort)
    except ValueError as e:
        raise explorer.InvalidFilter(f"unknown status or sort order: {e}") from e
    filters = FileFilters(statuses=statuses, formats=_split(format), start_day=start, end_day=end,
                          owner=owner, text=q or "", sort=order)
    page = service.list_files(user=who.user, ddb=aws.client("dynamodb"), settings=settings(),
                              filters=filters, page_token=page_token, page_size=page_size)
    return FileList(files=[FileSummary.of(r) for r in page.records], next_token=page.next_token)


@app.get("/v1/files/<file_id>", summary="One file, with its metadata",
         responses=answers(FileDetail, 404, 503))
def get_file(file_id: FILE_ID) -> FileDetail:
    """The file, if the caller may see it."""
    who = needs(Scope.READ)
    record = service.get_file(user=who.user, ddb=aws.client("dynamodb"), settings=settings(), file_id=file_id)
    return FileDetail.of(record)


@app.get("/v1/files/<file_id>/download", summary="A short-lived link to the original",
         responses=answers(Link, 404, 503))
def download(file_id: FILE_ID) -> Link:
    """A presigned GET of the original, valid five minutes."""
    who = needs(Scope.READ)
    url = service.download_url(user=who.user, s3=aws.client("s3"), ddb=aws.client("dynamodb"),
                               settings=settings(), file_id=file_id)
    return Link(url=url, expires_in=service.DOWNLOAD_SECONDS)


@app.delete("/v1/files/<file_id>", summary="Delete a file (its metadata is kept as deleted)",
            responses=answers(FileSummary, 404, 503))
def delete(file_id: FILE_ID) -> FileSummary:
    """Delete the file, as its owner or an admin."""
    return _changed(actions.delete_file, file_id)


@app.post("/v1/files/<file_id>/retry", summary="Send a failed file back for processing",
          responses=answers(FileSummary, 404, 409, 503))
def retry(file_id: FILE_ID) -> FileSummary:
    """Retry a failed file, as its owner or an admin."""
    return _changed(actions.retry_file, file_id)


def _changed(change: Callable[..., FileRecord], file_id: str) -> FileSummary:
    """The file after ``change`` (a service taking user, clients, settings and id), for a writing caller."""
    who = needs(Scope.WRITE)
    return FileSummary.of(change(user=who.user, s3=aws.client("s3"), ddb=aws.client("dynamodb"),
                                 settings=settings(), file_id=file_id))


# --- figures and exports -----------------------------------------------------------------

FROM = Annotated[str, Query(alias="from", description="First upload day (YYYY-MM-DD).")]
TO = Annotated[str, Query(alias="to", description="Last upload day (YYYY-MM-DD).")]


@app.get("/v1/dashboard", summary="The dashboard's headline figures for a period, from the counters",
         responses=answers(Figures, 503))
def dashboard(start: FROM, end: TO) -> Figures:
    """The figures the portal's dashboard shows the caller for the period."""
    who = needs(Scope.READ)
    access.require_current(who.user, time.time())  # the counters' read checks no user itself
    filters = DashboardFilters(start, end)
    viewer = Viewer.of(who.user)
    frame = data.load(aws.client("dynamodb"), settings().table, viewer, start, end).frame
    return Figures.of(start, end, analytics.build_dashboard(frame, filters, viewer).kpis)


@app.get("/v1/export", summary="The period's metadata as CSV (a link when large)",
         responses=answers(None, 503, more={
             200: {"description": "The CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
             303: {"description": "Too large to return: a link to the CSV in S3",
                   "content": {"application/json": {"model": ExportLink}}}}))
def export_csv(start: FROM, end: TO) -> Response[Any]:
    """Analysts' and admins' export, the portal's CSV, inline up to 4 MB and else through S3."""
    who = needs(Scope.READ)
    request = export.ExportRequest(start_day=start, end_day=end)
    chunks = export.csv_chunks(aws.client("dynamodb"), settings().table, request, who.user)
    head, rest = _first_bytes(chunks, INLINE_EXPORT_BYTES)
    if rest is None:
        name = f"docportal-{start}-{end}.csv"
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=b"".join(head).decode(),
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    key, url = export.export_to_s3(aws.client("s3"), settings().bucket, who.user, itertools.chain(head, rest))
    link = ExportLink(url=url, key=key, expires_in=export.LINK_SECONDS)
    return Response(status_code=303, content_type="application/json", body=link, headers={"Location": url})


def _first_bytes(chunks: Iterator[bytes], limit: int) -> tuple[list[bytes], Iterator[bytes] | None]:
    """The chunks up to ``limit`` bytes, and the rest (None when there was no more)."""
    head: list[bytes] = []
    size = 0
    for chunk in chunks:
        head.append(chunk)
        size += len(chunk)
        if size > limit:
            return head, chunks
    return head, None


# --- the document ------------------------------------------------------------------------


#: What the document says about the API as a whole (the JSON document and the docs page share it).
_ABOUT: dict[str, Any] = {
    "title": TITLE, "version": VERSION, "servers": [Server(url="/")],
    "description": "DocPortal's API. Send a Cognito token as 'Authorization: Bearer <token>': a person's "
                   "(their groups decide, as in the portal) or a script's client-credentials token with "
                   "docportal/data.read and/or docportal/data.write. Errors are RFC 9457 problems.",
    "security_schemes": {"cognito": HTTPBearer(bearerFormat="JWT")}, "security": [{"cognito": []}],
}
#: Swagger UI's page (public, like the document): :func:`api.document.swagger_page`.
DOCS_PATH = "/v1/docs"


def openapi_document() -> str:
    """The OpenAPI document of every route, as Powertools generates it from the routes and models."""
    return document.trimmed(app.get_openapi_json_schema(**_ABOUT))


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    """This API's OpenAPI document (API Gateway serves it without a token)."""
    return Response(status_code=200, content_type="application/json", body=openapi_document())


@app.get(DOCS_PATH, include_in_schema=False, compress=True)
def docs() -> Response[str]:
    """Swagger UI showing the document (``?format=json``: the document itself, which the page reloads)."""
    if (app.current_event.query_string_parameters or {}).get("format") == "json":
        return openapi()
    return Response(status_code=200, content_type="text/html; charset=utf-8",
                    body=document.swagger_page(openapi_document()))


# --- errors ------------------------------------------------------------------------------


def problem(kind: Kind, detail: str, **extensions: Any) -> Response[str]:
    """An RFC 9457 response for the request being handled."""
    body = Problem(kind, detail, app.current_event.path, extensions)
    return Response(status_code=kind.status, content_type=CONTENT_TYPE, body=body.json())


def _unauthenticated(e: Unauthenticated) -> Response[str]:
    return problem(Kind.UNAUTHENTICATED, str(e))


def _not_allowed(e: NotAllowed) -> Response[str]:
    message = str(e)
    if message == access.SESSION_ENDED:
        return problem(Kind.SESSION_EXPIRED, message)
    if message.startswith("This token lacks"):
        return problem(Kind.MISSING_SCOPE, message)
    return problem(Kind.FORBIDDEN, message)


def _not_found(e: service.NotFound) -> Response[str]:
    return problem(Kind.NOT_FOUND, str(e))


def _refused(e: service.ActionRefused) -> Response[str]:
    return problem(Kind.CONFLICT, str(e))


def _unavailable(e: service.FilesUnavailable) -> Response[str]:
    return problem(Kind.UNAVAILABLE, str(e))


def _upload_refused(e: uploads.UploadError) -> Response[str]:
    return problem(Kind.UPLOAD_REFUSED, str(e))


def _bad_token(e: explorer.BadPageToken) -> Response[str]:
    return problem(Kind.BAD_PAGE_TOKEN, f"{e}; start again without page_token.")


def _invalid(e: ValueError) -> Response[str]:
    """Filters, days and periods the services refused (their messages say what to change)."""
    return problem(Kind.VALIDATION, str(e))


def _not_json(e: RequestUnsupportedContentType) -> Response[str]:
    return problem(Kind.UNSUPPORTED_MEDIA_TYPE,
                   "Send the body as JSON, with 'Content-Type: application/json'.")


def _validation(e: RequestValidationError) -> Response[str]:
    errors = [{"where": ".".join(str(p) for p in err.get("loc", ())), "problem": str(err.get("msg", ""))}
              for err in e.errors()]
    detail = "; ".join(f"{err['where']}: {err['problem']}" for err in errors)
    return problem(Kind.VALIDATION, detail, errors=errors)


@app.not_found
def _no_route(e: Exception) -> Response[str]:
    return problem(Kind.NO_ROUTE, f"There is no {app.current_event.http_method} {app.current_event.path}; "
                                  "see /v1/openapi.json for the routes.")


def _internal(e: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return problem(Kind.INTERNAL, "The request could not be handled; it was logged. Please try again later.")


# Registered by call, not as decorators: Powertools' decorator is untyped.
_HANDLERS: tuple[tuple[type[Exception], Callable[[Any], Response[str]]], ...] = (
    (Unauthenticated, _unauthenticated),
    (NotAllowed, _not_allowed),
    (service.NotFound, _not_found),
    (service.ActionRefused, _refused),
    (service.FilesUnavailable, _unavailable),
    (uploads.UploadError, _upload_refused),
    (explorer.BadPageToken, _bad_token),
    (ValueError, _invalid),
    (RequestValidationError, _validation),
    (RequestUnsupportedContentType, _not_json),
    (Exception, _internal),
)
for _error, _handle in _HANDLERS:
    app.exception_handler(_error)(_handle)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda entry point: API Gateway's HTTP API (payload 2.0) event in, response out."""
    return app.resolve(event, context)
