"""Reading botocore's errors, and why a transaction was cancelled (common.aws_errors, common.filestore)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from common import aws_errors
from common.filestore import Cancelled, cancelled


def error(code: str, message: str = "", reasons: list[str] | None = None) -> ClientError:
    response: dict = {"Error": {"Code": code, "Message": message}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} if r else {} for r in reasons]
    return ClientError(response, "Operation")  # type: ignore[arg-type]


def test_code_and_message():
    assert aws_errors.code(error("ThrottlingException", "slow down")) == "ThrottlingException"
    assert aws_errors.message(error("ThrottlingException", "slow down")) == "slow down"
    assert aws_errors.code(ClientError({}, "Operation")) == "" == aws_errors.message(ClientError({}, "Operation"))


@pytest.mark.parametrize(("code", "missing"), [
    ("404", True), ("NoSuchKey", True), ("NoSuchVersion", True), ("NotFound", True),
    ("403", False), ("AccessDenied", False), ("NoSuchBucket", False),
])
def test_missing_objects(code, missing):
    assert aws_errors.is_missing(error(code)) is missing


def test_cancel_reasons_are_in_action_order_and_only_for_cancelled_transactions():
    cancelled_tx = error("TransactionCanceledException", reasons=["None", "ConditionalCheckFailed", ""])
    assert aws_errors.cancel_reasons(cancelled_tx) == ("None", "ConditionalCheckFailed", "None")
    assert aws_errors.cancel_reasons(error("ConditionalCheckFailedException", reasons=["x"])) == ()


@pytest.mark.parametrize(("reasons", "why"), [
    (["ConditionalCheckFailed", "None"], Cancelled.ITEM),
    (["ConditionalCheckFailed", "ConditionalCheckFailed"], Cancelled.ITEM),
    (["None", "None", "ConditionalCheckFailed"], Cancelled.OTHER),
    (["None", "TransactionConflict"], Cancelled.CONFLICT),
    (["TransactionConflict", "ConditionalCheckFailed"], Cancelled.OTHER),  # a failed condition wins
    (["ThrottlingError", "None"], None),
    (["ValidationError"], None),
])
def test_why_a_transaction_was_cancelled(reasons, why):
    assert cancelled(error("TransactionCanceledException", reasons=reasons)) is why


def test_other_errors_are_no_cancellation():
    assert cancelled(error("ProvisionedThroughputExceededException")) is None
