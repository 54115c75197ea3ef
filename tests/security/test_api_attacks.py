"""Attacks on the API, one per test: each proves a defence holds (pytest -m security).

The calls are API Gateway HTTP API events with the claims its JWT authorizer
passes on; the files are real uploads through the API's presigned POST,
processed by the extractor's own code, in moto's in-process mock.
"""

from __future__ import annotations

from common import aws
from common.catalogue import FileStatus
from common.filestore import FileStore
from tests.helpers.api import api, machine, person, problem_type, upload_through_api
from tests.helpers.files import tiny_pdf
from tests.helpers.s3post import policy, refusal

ANN = "aaaaaaaa-1111-4222-8333-000000000001"
BOB = "bbbbbbbb-1111-4222-8333-000000000002"
SCRIPT = "7q2mdemoscript0client0abcd"
OTHER_SCRIPT = "9z9mdemoscript0client0wxyz"


def form(claims, size: int = 100) -> dict:
    status, _, created = api("POST", "/v1/uploads", claims,
                             body={"name": "a.pdf", "size": size, "content_type": "application/pdf"})
    assert status == 201
    return created


def test_a_machine_client_cannot_read_another_clients_file(stack):
    theirs = upload_through_api(stack, machine(OTHER_SCRIPT, "data.write"), "theirs.pdf", tiny_pdf())
    status, _, body = api("GET", f"/v1/files/{theirs}", machine(SCRIPT, "data.read"))
    assert (status, problem_type(body)) == (403, "forbidden")


def test_a_machine_client_cannot_list_another_clients_files(stack):
    upload_through_api(stack, machine(OTHER_SCRIPT, "data.write"), "theirs.pdf", tiny_pdf())
    status, _, body = api("GET", "/v1/files", machine(SCRIPT, "data.read"), query={"owner": OTHER_SCRIPT})
    assert (status, problem_type(body)) == (403, "forbidden")


def test_a_machine_client_cannot_download_a_persons_file(stack):
    anns = upload_through_api(stack, person(ANN, "uploaders"), "ann.pdf", tiny_pdf())
    status, _, body = api("GET", f"/v1/files/{anns}/download", machine(SCRIPT, "data.read", "data.write"))
    assert (status, problem_type(body)) == (403, "forbidden")


def test_an_uploader_cannot_delete_another_uploaders_file(stack):
    anns = upload_through_api(stack, person(ANN, "uploaders"), "ann.pdf", tiny_pdf())
    status, _, body = api("DELETE", f"/v1/files/{anns}", person(BOB, "uploaders"))
    assert (status, problem_type(body)) == (403, "forbidden")
    record = FileStore(aws.client("dynamodb"), stack.table).read(anns)
    assert record is not None and record.status is FileStatus.PROCESSED


def test_an_upload_form_cannot_store_another_key(stack):
    created = form(person(ANN, "uploaders"))
    fields = created["upload"]["fields"] | {"key": f"uploads/{BOB}/{'0' * 32}.pdf"}
    assert refusal(fields, stack.bucket, 100).startswith("key must be")
    assert refusal(created["upload"]["fields"], stack.bucket, 100) == ""


def test_an_upload_form_cannot_store_more_bytes_than_declared(stack):
    created = form(person(ANN, "uploaders"), size=100)
    assert refusal(created["upload"]["fields"], stack.bucket, 101).startswith("size 101 outside")
    assert ["content-length-range", 100, 100] in policy(created["upload"]["fields"])["conditions"]


def test_an_upload_form_cannot_change_the_content_type(stack):
    created = form(person(ANN, "uploaders"))
    fields = created["upload"]["fields"] | {"Content-Type": "text/html"}
    assert refusal(fields, stack.bucket, 100).startswith("Content-Type must be")


def test_a_token_without_data_write_cannot_upload(stack):
    status, _, body = api("POST", "/v1/uploads", machine(SCRIPT, "data.read"),
                          body={"name": "a.pdf", "size": 3, "content_type": "application/pdf"})
    assert (status, problem_type(body)) == (403, "missing-scope")


def test_a_token_without_data_read_cannot_list(stack):
    status, _, body = api("GET", "/v1/files", machine(SCRIPT, "data.write"))
    assert (status, problem_type(body)) == (403, "missing-scope")


def test_another_resource_servers_scope_grants_nothing(stack):
    claims = machine(SCRIPT) | {"scope": "other/data.read other/data.write"}
    status, _, body = api("GET", "/v1/files", claims)
    assert (status, problem_type(body)) == (403, "missing-scope")


def test_a_person_token_cannot_claim_a_machines_space_by_naming_its_client(stack):
    """A person's token carries the portal's app client id; it never makes them that client."""
    upload_through_api(stack, machine(SCRIPT, "data.write"), "script.pdf", tiny_pdf())
    claims = person(ANN, "uploaders") | {"client_id": SCRIPT}
    status, _, body = api("GET", "/v1/files", claims)
    assert status == 200 and body["files"] == []
