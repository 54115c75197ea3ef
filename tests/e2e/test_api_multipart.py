"""A large upload in parts over HTTP: ``make run``'s API server, part PUTs straight to the moto server's S3.

The threshold is lowered to 5 MiB so a 10 MiB file goes in two parts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from api import app as api_app
from common import aws
from devstack import processes
from devstack.provision import DEFAULT_DEMO_PASSWORD
from portal.files.upload_policy import MiB
from tests.helpers.api import process_object, send_parts, serving, signed_in
from tests.helpers.users import new_uploader

pytestmark = pytest.mark.e2e

BODY = (b"Large text, sent in parts.\n" * (10 * MiB // 27 + 1))[:10 * MiB]


@pytest.fixture(scope="module")
def people(moto_server) -> tuple[str, str]:
    """Two uploaders of this module's own (the stand-in is shared)."""
    return (new_uploader(moto_server, "parts", DEFAULT_DEMO_PASSWORD),
            new_uploader(moto_server, "other", DEFAULT_DEMO_PASSWORD))


@pytest.fixture
def base(on_server, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("DOCPORTAL_UPLOAD_MULTIPART_MB", "5")
    api_app.reset()
    # A port per test: the extractor's parser processes, forked while a server listens, hold its socket.
    with serving(on_server.settings, processes.free_port()) as url:
        yield url
    api_app.reset()


def headers(server, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {signed_in(server, email, DEFAULT_DEMO_PASSWORD)['IdToken']}"}


def start(base: str, auth: dict[str, str], size: int = len(BODY)) -> dict:
    created = requests.post(f"{base}/v1/uploads", headers=auth, timeout=10,
                            json={"name": "large.txt", "size": size, "content_type": "text/plain"})
    assert created.status_code == 201, created.text
    return created.json()


def test_a_large_file_goes_up_in_parts_and_is_processed(base, on_server, people):
    auth = headers(on_server, people[0])
    created = start(base, auth)
    links = created["multipart"]
    assert (links["part_count"], links["part_size"]) == (2, 8 * MiB)
    done = requests.post(base + links["complete"], headers=auth, timeout=30,
                         json={"parts": send_parts(links, BODY)})
    assert done.status_code == 200, done.text
    s3 = aws.client("s3")
    assert s3.head_object(Bucket=on_server.settings.bucket, Key=created["key"])["ContentLength"] == len(BODY)
    process_object(on_server.settings, created["key"])
    got = requests.get(f"{base}/v1/files/{created['file_id']}", headers=auth, timeout=10).json()
    assert (got["status"], got["size"], got["name"]) == ("processed", len(BODY), "large.txt")


def test_parts_that_do_not_add_up_are_refused(base, on_server, people):
    auth = headers(on_server, people[0])
    created = start(base, auth)
    refused = requests.post(base + created["multipart"]["complete"], headers=auth, timeout=30,
                            json={"parts": send_parts(created["multipart"], BODY, only=1)})
    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:docportal:problem:upload-refused"
    assert refused.headers["content-type"] == "application/problem+json"


def test_another_uploader_can_neither_complete_nor_cancel(base, on_server, people):
    created = start(base, headers(on_server, people[0]))
    parts = send_parts(created["multipart"], BODY)
    other = headers(on_server, people[1])
    done = requests.post(base + created["multipart"]["complete"], headers=other, timeout=30, json={"parts": parts})
    cancelled = requests.delete(base + created["multipart"]["cancel"], headers=other, timeout=10)
    assert (done.status_code, cancelled.status_code) == (403, 403)
    assert done.json()["type"] == "urn:docportal:problem:forbidden"


def test_cancelling_aborts_the_parts_and_forgets_the_file(base, on_server, people):
    auth = headers(on_server, people[0])
    created = start(base, auth)
    send_parts(created["multipart"], BODY, only=1)
    assert requests.delete(base + created["multipart"]["cancel"], headers=auth, timeout=10).status_code == 204
    uploads = aws.client("s3").list_multipart_uploads(Bucket=on_server.settings.bucket, Prefix=created["key"])
    assert "Uploads" not in uploads
    gone = requests.get(f"{base}/v1/files/{created['file_id']}", headers=auth, timeout=10)
    assert gone.status_code == 404
