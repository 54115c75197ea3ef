"""Settling a direct batch against moto: S3's word, not the browser's, decides (portal.files.direct)."""

from __future__ import annotations

import requests
from botocore.exceptions import ClientError

from common import aws
from common.catalogue import FileStatus
from portal.access import User
from portal.files.direct import settle_batch, sign_batch
from portal.files.direct_batch import Chosen, Outcome, Sent
from tests.helpers.files import tiny_pdf
from tests.helpers.stored import current

ANN = User(sub="aaaaaaaa-1111-4222-8333-000000000001", email="ann@example.com",
           groups=frozenset({"uploaders"}), expires_at=2**40)
BODY = tiny_pdf("direct")


def signed(stack):
    return sign_batch(user=ANN, batch_id="b-0", files=[Chosen(0, "a.pdf", len(BODY), "application/pdf")],
                      tags=(), notes="", s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack)


class _S3Unsure:
    """S3 that cannot answer a HEAD right now (throttled, a blip)."""

    def head_object(self, **kwargs):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "try later"}}, "HeadObject")


def test_a_file_reported_failed_that_arrived_all_the_same_counts_as_stored(stack):
    batch = signed(stack)
    (form,) = batch.signed
    assert requests.post(form.url, data=dict(form.fields), files={"file": ("a.pdf", BODY)}, timeout=30).ok
    (row,) = settle_batch(batch=batch, sent={0: Sent(0, False, "the connection to storage failed")},
                          s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack)
    assert row.outcome is Outcome.STORED
    assert current(stack, form.file_id).status is FileStatus.PENDING  # the extractor's to claim, not failed


def test_when_s3_cannot_say_the_file_is_not_ended_failed(stack):
    batch = signed(stack)
    (row,) = settle_batch(batch=batch, sent={0: Sent(0, False, "storage answered 503")}, s3=_S3Unsure(),
                          ddb=aws.client("dynamodb"), settings=stack)
    assert row.outcome is Outcome.UNFINISHED and "storage could not say whether it arrived" in row.details
    assert current(stack, batch.signed[0].file_id).status is FileStatus.PENDING  # its TTL, or it arrives
