"""The API's routes against the template in moto, one test per route and role, refusals included.

Events are API Gateway's HTTP API payload 2.0 with the claims its JWT
authorizer passes (:mod:`tests.helpers.api`); files are uploaded through the
presigned POST the API returns and processed by the extractor's own code.
"""

from __future__ import annotations

import csv
import io

import pytest
import requests

from api import app as api_app
from common import aws
from common.catalogue import FileStatus
from common.filestore import FileStore
from portal.access import NO_ROLE, User
from portal.dashboard import analytics, data
from portal.dashboard.filters import DashboardFilters, Viewer
from tests.helpers.api import PROBLEM, api, machine, person, problem_type, upload_through_api
from tests.helpers.files import tiny_pdf

ANN = "aaaaaaaa-1111-4222-8333-000000000001"
BOB = "bbbbbbbb-1111-4222-8333-000000000002"
ANA = "cccccccc-1111-4222-8333-000000000003"
ADM = "dddddddd-1111-4222-8333-000000000004"
SCRIPT = "7q2mdemoscript0client0abcd"


def uploaded(stack, claims, name: str = "report.pdf", body: bytes | None = None, *,
             process: bool = True) -> str:
    return upload_through_api(stack, claims, name, tiny_pdf(name) if body is None else body, process=process)


@pytest.fixture
def world(stack):
    """Ann's and Bob's processed PDFs, and a script's."""
    return {"ann": uploaded(stack, person(ANN, "uploaders")), "bob": uploaded(stack, person(BOB, "uploaders")),
            "script": uploaded(stack, machine(SCRIPT, "data.read", "data.write"))}


# --- uploads -----------------------------------------------------------------------------


def test_an_uploader_creates_an_upload_sends_it_and_it_ends_processed_with_metadata(stack):
    file_id = uploaded(stack, person(ANN, "uploaders"), "q3.pdf")
    status, _, body = api("GET", f"/v1/files/{file_id}", person(ANN, "uploaders"))
    assert status == 200
    assert (body["status"], body["owner"], body["name"], body["format"]) == ("processed", ANN, "q3.pdf", "pdf")
    assert body["metadata"]["pages"] == 1


def test_the_upload_form_is_for_the_files_own_key_size_and_type(stack):
    status, _, body = api("POST", "/v1/uploads", person(ANN, "uploaders"),
                          body={"name": "a.pdf", "size": 1234, "content_type": "application/pdf"})
    assert status == 201
    assert body["key"] == f"uploads/{ANN}/{body['file_id']}.pdf"
    assert body["upload"]["fields"]["key"] == body["key"]
    assert body["upload"]["fields"]["Content-Type"] == "application/pdf"
    assert body["upload"]["expires_in"] == 900


def test_a_machine_client_with_data_write_uploads_into_its_own_space(stack):
    file_id = uploaded(stack, machine(SCRIPT, "data.write"))
    record = FileStore(aws.client("dynamodb"), stack.table).read(file_id)
    assert record is not None and record.owner == SCRIPT and record.status is FileStatus.PROCESSED


def test_a_machine_client_with_only_data_read_may_not_upload(stack):
    status, headers, body = api("POST", "/v1/uploads", machine(SCRIPT, "data.read"),
                                body={"name": "a.pdf", "size": 3, "content_type": "application/pdf"})
    assert (status, headers["content-type"], problem_type(body)) == (403, PROBLEM, "missing-scope")
    assert "docportal/data.write" in body["detail"]


def test_a_file_type_the_policy_refuses_is_a_422_naming_the_file_and_nothing_is_stored(stack):
    status, _, body = api("POST", "/v1/uploads", person(ANN, "uploaders"),
                          body={"name": "run.exe", "size": 3, "content_type": "application/octet-stream"})
    assert (status, problem_type(body)) == (422, "upload-refused")
    assert "run.exe" in body["detail"]
    status, _, listed = api("GET", "/v1/files", person(ANN, "uploaders"))
    assert listed["files"] == []


def test_a_malformed_upload_request_is_a_422_listing_each_field(stack):
    status, headers, body = api("POST", "/v1/uploads", person(ANN, "uploaders"),
                                body={"name": "", "content_type": "not a type"})
    assert (status, headers["content-type"], problem_type(body)) == (422, PROBLEM, "validation")
    where = {e["where"] for e in body["errors"]}
    assert {"body.name", "body.size", "body.content_type"} <= where
    assert body["instance"] == "/v1/uploads"


def test_an_upload_request_that_is_not_json_is_a_415(stack):
    status, headers, body = api("POST", "/v1/uploads", person(ANN, "uploaders"), content_type="text/plain",
                                body={"name": "a.pdf", "size": 3, "content_type": "application/pdf"})
    assert (status, headers["content-type"], problem_type(body)) == (415, PROBLEM, "unsupported-media-type")
    assert "application/json" in body["detail"]


def test_no_token_is_a_401(stack):
    status, _, body = api("POST", "/v1/uploads", None, body={"name": "a.pdf", "size": 3,
                                                            "content_type": "application/pdf"})
    assert (status, problem_type(body), body["status"]) == (401, "unauthenticated", 401)


def test_an_expired_token_is_a_401_saying_so(stack):
    status, _, body = api("GET", "/v1/files", person(ANN, "uploaders", expires_at=1000))
    assert (status, problem_type(body)) == (401, "session-expired")


def test_an_account_without_a_role_may_not_upload(stack):
    status, _, body = api("POST", "/v1/uploads", person(BOB),
                          body={"name": "a.pdf", "size": 3, "content_type": "application/pdf"})
    assert (status, problem_type(body)) == (403, "forbidden")
    assert body["detail"] == NO_ROLE


# --- listing and reading -----------------------------------------------------------------


def listed(claims, **query) -> set[str]:
    status, _, body = api("GET", "/v1/files", claims, query=query)
    assert status == 200, body
    return {f["file_id"] for f in body["files"]}


def test_an_uploader_lists_only_their_own_files(stack, world):
    assert listed(person(ANN, "uploaders")) == {world["ann"]}


def test_an_analyst_lists_everyones_files_newest_first(stack, world):
    status, _, body = api("GET", "/v1/files", person(ANA, "analysts"))
    assert status == 200
    ids = [f["file_id"] for f in body["files"]]
    assert set(ids) == set(world.values())
    times = [f["uploaded_at"] for f in body["files"]]
    assert times == sorted(times, reverse=True)


def test_a_machine_client_reads_only_what_it_uploaded(stack, world):
    assert listed(machine(SCRIPT, "data.read")) == {world["script"]}


def test_an_uploader_asking_for_another_uploaders_files_is_refused(stack, world):
    status, _, body = api("GET", "/v1/files", person(ANN, "uploaders"), query={"owner": BOB})
    assert (status, problem_type(body)) == (403, "forbidden")


def test_pages_follow_on_with_the_token(stack):
    ann = person(ANN, "uploaders")
    made = {uploaded(stack, ann, f"f{i}.pdf", process=False) for i in range(3)}
    status, _, first = api("GET", "/v1/files", ann, query={"page_size": "2"})
    assert status == 200 and len(first["files"]) == 2 and first["next_token"]
    status, _, second = api("GET", "/v1/files", ann, query={"page_size": "2", "page_token": first["next_token"]})
    assert {f["file_id"] for f in first["files"] + second["files"]} == made
    assert second["next_token"] is None


def test_a_page_token_of_another_view_is_a_400(stack, world):
    status, _, body = api("GET", "/v1/files", person(ANN, "uploaders"), query={"page_token": "garbage"})
    assert (status, problem_type(body)) == (400, "bad-page-token")


def test_an_unknown_status_filter_is_a_422(stack):
    status, _, body = api("GET", "/v1/files", person(ANN, "uploaders"), query={"status": "lost"})
    assert (status, problem_type(body)) == (422, "validation")


def test_filters_narrow_the_list(stack, world):
    assert listed(person(ANA, "analysts"), owner=BOB) == {world["bob"]}
    assert listed(person(ANA, "analysts"), status="failed") == set()


def test_get_file_role_matrix(stack, world):
    assert api("GET", f"/v1/files/{world['ann']}", person(ANN, "uploaders"))[0] == 200
    assert api("GET", f"/v1/files/{world['ann']}", person(ANA, "analysts"))[0] == 200
    status, _, body = api("GET", f"/v1/files/{world['ann']}", person(BOB, "uploaders"))
    assert (status, problem_type(body)) == (403, "forbidden")


def test_an_unknown_file_is_a_404(stack):
    status, _, body = api("GET", "/v1/files/" + "0" * 32, person(ANN, "uploaders"))
    assert (status, problem_type(body)) == (404, "not-found")


def test_the_owner_gets_a_download_link_another_uploader_does_not(stack, world):
    status, _, body = api("GET", f"/v1/files/{world['ann']}/download", person(ANN, "uploaders"))
    assert status == 200 and body["expires_in"] == 300
    fetched = requests.get(body["url"], timeout=10)
    assert fetched.content == tiny_pdf("report.pdf")
    status, _, body = api("GET", f"/v1/files/{world['ann']}/download", person(BOB, "uploaders"))
    assert (status, problem_type(body)) == (403, "forbidden")


# --- changing ----------------------------------------------------------------------------


def test_the_owner_deletes_their_file(stack, world):
    status, _, body = api("DELETE", f"/v1/files/{world['ann']}", person(ANN, "uploaders"))
    assert (status, body["status"]) == (200, "deleted")
    status, _, body = api("GET", f"/v1/files/{world['ann']}/download", person(ANN, "uploaders"))
    assert (status, problem_type(body)) == (404, "not-found")


def test_an_analyst_may_not_delete_anothers_file(stack, world):
    status, _, body = api("DELETE", f"/v1/files/{world['ann']}", person(ANA, "analysts"))
    assert (status, problem_type(body)) == (403, "forbidden")


def test_an_admin_token_has_no_second_factor_so_it_deletes_only_its_own(stack, world):
    """Cognito's tokens do not say how the person signed in: admin rights need it, as in the portal."""
    status, _, body = api("DELETE", f"/v1/files/{world['ann']}", person(ADM, "admins"))
    assert (status, problem_type(body)) == (403, "forbidden")
    own = uploaded(stack, person(ADM, "admins"), process=False)
    assert api("DELETE", f"/v1/files/{own}", person(ADM, "admins"))[0] == 200


def test_retrying_a_processed_file_is_a_409(stack, world):
    status, _, body = api("POST", f"/v1/files/{world['ann']}/retry", person(ANN, "uploaders"))
    assert (status, problem_type(body)) == (409, "conflict")


def test_the_owner_retries_a_failed_file(stack):
    ann = person(ANN, "uploaders")
    file_id = uploaded(stack, ann, "broken.pdf", b"%PDF-1.7 not really")
    assert api("GET", f"/v1/files/{file_id}", ann)[2]["status"] == "failed"
    status, _, body = api("POST", f"/v1/files/{file_id}/retry", ann)
    assert (status, body["status"]) == (200, "uploaded")
    status, _, body = api("POST", f"/v1/files/{file_id}/retry", person(BOB, "uploaders"))
    assert (status, problem_type(body)) == (403, "forbidden")


def test_a_machine_client_with_only_data_read_may_not_delete_its_own_file(stack, world):
    status, _, body = api("DELETE", f"/v1/files/{world['script']}", machine(SCRIPT, "data.read"))
    assert (status, problem_type(body)) == (403, "missing-scope")


# --- figures and exports -----------------------------------------------------------------


def portal_kpis(stack, user: User, start: str, end: str):
    viewer = Viewer.of(user)
    frame = data.load(aws.client("dynamodb"), stack.table, viewer, start, end).frame
    return analytics.build_dashboard(frame, DashboardFilters(start, end), viewer).kpis


def test_the_dashboard_gives_each_role_the_portals_figures(stack, world):
    start, end = "2000-01-01", "2999-12-31"
    for claims, user, files in (
        (person(ANN, "uploaders"), User(ANN, "", frozenset({"uploaders"}), 2**40), 1),
        (person(ANA, "analysts"), User(ANA, "", frozenset({"analysts"}), 2**40), 3),
    ):
        status, _, body = api("GET", "/v1/dashboard", claims, query={"from": start, "to": end})
        assert status == 200, body
        kpis = portal_kpis(stack, user, start, end)
        assert (body["files"], body["processed"], body["storage_bytes"]) == (files, files, kpis.storage_bytes)
        assert body["files"] == kpis.files and body["failures"] == kpis.failures == 0


def test_a_dashboard_period_that_ends_before_it_starts_is_a_422(stack):
    status, _, body = api("GET", "/v1/dashboard", person(ANN, "uploaders"),
                          query={"from": "2026-02-01", "to": "2026-01-01"})
    assert (status, problem_type(body)) == (422, "validation")


def test_the_dashboard_needs_both_ends_of_the_period(stack):
    status, _, body = api("GET", "/v1/dashboard", person(ANN, "uploaders"), query={"from": "2026-02-01"})
    assert (status, problem_type(body)) == (422, "validation")
    assert any(e["where"] == "query.to" for e in body["errors"])


def test_an_analyst_exports_the_period_as_csv(stack, world):
    status, headers, body = api("GET", "/v1/export", person(ANA, "analysts"),
                                query={"from": "2000-01-01", "to": "2999-12-31"})
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 3


def test_a_large_export_is_a_link_to_s3(stack, world, monkeypatch):
    monkeypatch.setattr(api_app, "INLINE_EXPORT_BYTES", 10)
    status, headers, body = api("GET", "/v1/export", person(ANA, "analysts"),
                                query={"from": "2000-01-01", "to": "2999-12-31"})
    assert status == 303 and headers["location"] == body["url"]
    rows = list(csv.DictReader(io.StringIO(requests.get(body["url"], timeout=10).text)))
    assert len(rows) == 3


def test_an_uploader_may_not_export(stack, world):
    status, _, body = api("GET", "/v1/export", person(ANN, "uploaders"),
                          query={"from": "2000-01-01", "to": "2999-12-31"})
    assert (status, problem_type(body)) == (403, "forbidden")


def test_an_unknown_route_is_a_404_problem(stack):
    status, headers, body = api("GET", "/v1/nothing", person(ANN, "uploaders"))
    assert (status, headers["content-type"], problem_type(body)) == (404, PROBLEM, "no-such-route")
