"""The Lambda entry point: parse the SQS batch, delegate, report failures."""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from common import aws
from common.schema.record import to_timestamp
from common.settings import Settings
from extractor.extract import Config
from extractor.processor import Deps, process_message

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "extractor"))
# A batch whose every record failed is still answered with batchItemFailures:
# raising would make Lambda retry the records that did succeed, too.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@functools.cache
def _deps() -> Deps:
    """Clients and names, made on the first record, not at import time."""
    settings = Settings.from_env()
    return Deps(
        s3=aws.client("s3"),
        ddb=aws.client("dynamodb"),
        table=settings.table,
        max_receive_count=settings.max_receive_count,
        config=Config.from_settings(settings),
    )


def record_handler(record: SQSRecord, lambda_context: Any = None) -> None:
    """Process one SQS message; raising marks only this message as failed."""
    receive_count = int(record.attributes.approximate_receive_count or 1)
    outcomes = process_message(record.body, receive_count, _deps(), deadline=_deadline(lambda_context))
    logger.info("message handled", extra={"message_id": record.message_id,
                                           "outcomes": [str(o) for o in outcomes]})


def _deadline(context: Any) -> str:
    """When this invocation has ended for sure (its timeout), as items store times; "" without a context."""
    if context is None:
        return ""
    left = dt.timedelta(milliseconds=context.get_remaining_time_in_millis())
    return to_timestamp(dt.datetime.now(dt.UTC) + left)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process an SQS batch and return the failed message ids."""
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context)
    return dict(response)


def reset() -> None:
    """Drop cached clients and settings (tests switch stacks between cases)."""
    _deps.cache_clear()
