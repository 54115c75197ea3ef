"""A deployed stack's settings, read from its CloudFormation outputs.

The portal can be configured by the stack's name alone (``DOCPORTAL_STACK``):
:meth:`common.settings.Settings.from_env` falls back to this module when the
resource variables are unset, and ``make deploy`` uses it to print them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import aws_errors
from common.settings import Settings, SettingsError

#: Settings field <- stack output.
SETTINGS_OUTPUTS: Mapping[str, str] = {
    "region": "Region", "bucket": "BucketName", "table": "TableName", "queue_url": "QueueUrl",
    "dlq_url": "DeadLetterQueueUrl", "user_pool_id": "UserPoolId", "client_id": "UserPoolClientId",
    "sessions_table": "SessionsTableName",
}
#: Output -> the resource it is ``!Ref`` of.
OUTPUT_RESOURCES: Mapping[str, str] = {
    "BucketName": "UploadsBucket", "TableName": "FilesTable", "QueueUrl": "ExtractQueue",
    "DeadLetterQueueUrl": "ExtractDeadLetterQueue", "UserPoolId": "UserPool",
    "UserPoolClientId": "UserPoolClient", "SessionsTableName": "SessionsTable",
}


class StackError(SettingsError):
    """The named stack does not exist, cannot be read, or names no bucket or table."""


def describe(cfn_client: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack's description, or ``None`` when there is no such stack."""
    try:
        found: dict[str, Any] = cfn_client.describe_stacks(StackName=stack_name)["Stacks"][0]
        return found
    except ClientError as e:
        if aws_errors.code(e) == "ValidationError" and "does not exist" in aws_errors.message(e):
            return None
        raise


def stack_resources(cfn_client: Any, stack_name: str) -> list[dict[str, Any]]:
    """Every resource of the stack (summaries), all pages."""
    pages = cfn_client.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    return [r for page in pages for r in page["StackResourceSummaries"]]


def settings_from_stack(stack_name: str, cfn_client: Any) -> Settings:
    """The portal's settings, read from the stack's outputs.

    Each of these outputs is a ``!Ref`` of one resource, which is that
    resource's physical id; so where an output is missing (moto's change sets
    never fill them in), the resource's physical id is the same value and is
    used instead. ``endpoint_url`` comes from ``AWS_ENDPOINT_URL``, as every
    client's does, so a stack on a stand-in yields settings that reach it.

    Raises
    ------
    StackError
        When the stack does not exist or names no bucket or table.
    """
    stack = describe(cfn_client, stack_name)
    if stack is None:
        raise StackError(f"stack {stack_name} does not exist")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    if not set(SETTINGS_OUTPUTS.values()) <= set(outputs):
        physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
                    for r in stack_resources(cfn_client, stack_name)}
        for output, logical in OUTPUT_RESOURCES.items():
            outputs.setdefault(output, physical.get(logical, ""))
    values = {field: outputs.get(output, "") for field, output in SETTINGS_OUTPUTS.items()}
    values["region"] = values["region"] or cfn_client.meta.region_name
    if not (values["bucket"] and values["table"]):
        raise StackError(
            f"stack {stack_name} ({stack['StackStatus']}) names no uploads bucket or files table")
    return Settings(endpoint_url=os.environ.get("AWS_ENDPOINT_URL", ""), **values)


@functools.lru_cache(maxsize=8)
def cached_settings(stack_name: str, region: str, endpoint_url: str) -> Settings:
    """:func:`settings_from_stack` once per process and stack: pages resolve settings on every run.

    Raises
    ------
    StackError
        When the stack cannot be read; the message says which and why.
    """
    from common import aws  # here, not at import: settings must stay importable without boto3 sessions

    try:
        return settings_from_stack(stack_name, aws.client("cloudformation"))
    except (ClientError, BotoCoreError) as e:
        raise StackError(f"the outputs of stack {stack_name} cannot be read: {e}") from e
