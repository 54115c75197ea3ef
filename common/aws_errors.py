"""Reading botocore's ``ClientError``: its code, and why a transaction was cancelled.

Every caller used to dig ``e.response["Error"]["Code"]`` out by hand; these
helpers are the one place that knows the shape of an error response.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

#: Codes S3 answers for an object (or version) that is not there; HEAD answers a bare 404.
MISSING_CODES = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})
#: DynamoDB's code for a transaction that one of its conditions or a conflict cancelled.
TRANSACTION_CANCELED = "TransactionCanceledException"


def code(error: ClientError) -> str:
    """The error's code (``"ConditionalCheckFailedException"``, ``"404"``…), or ``""``."""
    return str(error.response.get("Error", {}).get("Code", ""))


def message(error: ClientError) -> str:
    """The error's message as the service wrote it, or ``""``."""
    return str(error.response.get("Error", {}).get("Message", ""))


def is_missing(error: ClientError) -> bool:
    """True when S3 says the object or version does not exist."""
    return code(error) in MISSING_CODES


def cancel_reasons(error: ClientError) -> tuple[str, ...]:
    """Why each action of a cancelled transaction failed, in action order (``"None"`` where it did not).

    Empty for any error that is not a cancelled transaction.
    """
    if code(error) != TRANSACTION_CANCELED:
        return ()
    return tuple(str(r.get("Code") or "None") for r in error.response.get("CancellationReasons", []))
