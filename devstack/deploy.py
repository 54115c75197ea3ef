"""``python -m devstack.deploy deploy|destroy``: the stack on AWS in one command.

``deploy`` builds the extractor's Lambda zip, uploads it under its content hash
to an artifacts bucket (created on first use), then creates and executes a
CloudFormation change set for ``infra/cloudformation.yaml``, so every deploy
shows what it changes before it changes it. It ends by printing the settings
the portal needs as ``NAME=value`` lines on standard output (progress goes to
standard error, so ``deploy > portal.env`` keeps only the settings).

``destroy`` deletes the stack. The bucket, table and user pool carry
``DeletionPolicy: Retain`` in the template, so people's files and accounts
outlive the stack; the command says what it kept.

Where and as whom comes from boto3's standard configuration (``AWS_PROFILE``,
``AWS_REGION``, the credential chain, ``AWS_ENDPOINT_URL`` for a stand-in);
which stack and its parameters from ``DOCPORTAL_*`` variables (see
:data:`common.settings.TEMPLATE_PARAMETERS`).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, WaiterError

from common import aws, aws_errors, stack
from common.settings import ENV_NAMES, Settings, SettingsError
from devstack import package
from devstack import template as tpl

logger = logging.getLogger(__name__)

STACK_ENV = ENV_NAMES["stack"]
DEFAULT_STACK = "docportal-dev"
ZIP_PATH = package.ROOT / "build" / "extractor.zip"
API_ZIP_PATH = package.ROOT / "build" / "api.zip"
#: CloudFormation takes at most this many bytes inline; larger templates go through S3.
TEMPLATE_BODY_LIMIT = 51_200
POLL_SECONDS = 5
MAX_WAIT_SECONDS = 3600

_OUTPUT_RESOURCES = stack.OUTPUT_RESOURCES
#: How CloudFormation says a change set would change nothing (both wordings occur).
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
              "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}

Say = Callable[[str], None]


class DeployError(RuntimeError):
    """An expected failure (credentials, stack state, a failed change); the message says what to do."""


def settings_from_stack(stack_name: str, cfn_client: Any) -> Settings:
    """The portal's settings, read from the stack's outputs (see :mod:`common.stack`).

    Raises
    ------
    DeployError
        When the stack does not exist or names no bucket or table.
    """
    try:
        return stack.settings_from_stack(stack_name, cfn_client)
    except stack.StackError as e:
        raise DeployError(str(e)) from e


def artifacts_bucket_name(stack_name: str, account: str, region: str) -> str:
    """``<stack>-artifacts-<account>-<region>``: unique per account and region, as bucket names must be."""
    name = f"{stack_name}-artifacts-{account}-{region}".lower()
    if len(name) > 63:
        raise DeployError(f"the artifacts bucket name {name} is longer than S3's 63 characters; "
                          f"choose a shorter {STACK_ENV}")
    return name


def deploy(stack_name: str, *, settings: Settings | None = None, say: Say = logger.info) -> Settings:
    """Build, upload and deploy; return the deployed stack's settings.

    A change set that would change nothing is not an error: the stack's
    current settings are returned.
    """
    settings = Settings.from_env(need_stack=False) if settings is None else settings
    cfn, s3 = aws.client("cloudformation"), aws.client("s3")
    account, region = _account(), s3.meta.region_name
    change_type = _change_set_type(stack_name, _status(cfn, stack_name))

    arch, python = tpl.lambda_platform(tpl.load())
    say(f"Building the extractor package ({arch}, Python {python})…")
    try:
        zip_path = package.build(arch, python, ZIP_PATH)
        say(f"Building the API package ({arch}, Python {python})…")
        api_zip = package.build(arch, python, API_ZIP_PATH, package.PARTS["api"])
    except subprocess.CalledProcessError as e:
        raise DeployError(f"building a Lambda package failed (pip exited with {e.returncode}; "
                          "its output is above)") from e
    bucket = artifacts_bucket_name(stack_name, account, region)
    _ensure_artifacts_bucket(s3, bucket, region, say)
    code_key = _upload(s3, bucket, "extractor", zip_path.read_bytes(), ".zip", say)
    api_key = _upload(s3, bucket, "api", api_zip.read_bytes(), ".zip", say)

    parameters = {**settings.template_parameters(), "ExtractorCodeBucket": bucket,
                  "ExtractorCodeKey": code_key, "ApiCodeKey": api_key}
    template = tpl.TEMPLATE_PATH.read_text()
    if len(template.encode()) <= TEMPLATE_BODY_LIMIT:
        source = {"TemplateBody": template}
    else:
        key = _upload(s3, bucket, "templates", template.encode(), ".yaml", say)
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        source = {"TemplateURL": f"https://{bucket}.s3.{region}.{suffix}/{key}"}

    name = "docportal-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    say(f"Creating change set {name} ({change_type}) for stack {stack_name} in {region}…")
    created = cfn.create_change_set(
        StackName=stack_name, ChangeSetName=name, ChangeSetType=change_type, **source,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
        Capabilities=["CAPABILITY_NAMED_IAM"], Tags=[{"Key": "app", "Value": "docportal"}])
    change_set = created["Id"]
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set, StackName=stack_name, WaiterConfig=_waiting())
    except WaiterError as e:
        described = cfn.describe_change_set(ChangeSetName=change_set, StackName=stack_name)
        reason = described.get("StatusReason", "")
        if any(text in reason for text in _NO_CHANGES):
            cfn.delete_change_set(ChangeSetName=change_set, StackName=stack_name)
            say(f"No changes: stack {stack_name} is already up to date.")
            return settings_from_stack(stack_name, cfn)
        raise DeployError(f"change set {name} failed: {reason or e}") from e

    say("It changes:")
    for line in _describe_changes(cfn, change_set, stack_name):
        say("  " + line)
    cfn.execute_change_set(ChangeSetName=change_set, StackName=stack_name)
    waiter = "stack_create_complete" if change_type == "CREATE" else "stack_update_complete"
    say(f"Executing; waiting for stack {stack_name} (this takes minutes on AWS)…")
    try:
        cfn.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig=_waiting())
    except WaiterError as e:
        raise DeployError(_failure_report(cfn, stack_name)) from e
    say(f"Stack {stack_name}: {_status(cfn, stack_name)}")
    return settings_from_stack(stack_name, cfn)


def destroy(stack_name: str, *, say: Say = logger.info) -> list[str]:
    """Delete the stack; return what it kept (resources with ``DeletionPolicy: Retain``)."""
    cfn = aws.client("cloudformation")
    _account()
    status = _status(cfn, stack_name)
    if status is None:
        say(f"Stack {stack_name} does not exist; nothing to destroy.")
        return []
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(
            f"stack {stack_name} is {status}: wait for that operation to finish, then try again")
    retained = _retained_logical_ids(cfn, stack_name)
    kept = [f"{r['ResourceType']} {r['PhysicalResourceId']}"
            for r in _stack_resources(cfn, stack_name)
            if r["LogicalResourceId"] in retained and r.get("PhysicalResourceId")]
    say(f"Deleting stack {stack_name} ({status})…")
    cfn.delete_stack(StackName=stack_name)
    try:
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name, WaiterConfig=_waiting())
    except WaiterError as e:
        raise DeployError(_failure_report(cfn, stack_name)) from e
    return kept


# --- steps ---------------------------------------------------------------------


def _waiting() -> dict[str, int]:
    return {"Delay": POLL_SECONDS, "MaxAttempts": max(1, MAX_WAIT_SECONDS // max(POLL_SECONDS, 1))}


def _account() -> str:
    """The caller's account id; the first call, so missing credentials fail here, clearly."""
    try:
        return str(aws.client("sts").get_caller_identity()["Account"])
    except NoCredentialsError as e:
        raise DeployError("no AWS credentials found: set AWS_PROFILE (after `aws sso login` or "
                          "`aws configure`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from e
    except ClientError as e:
        raise DeployError(f"AWS rejected the credentials: {aws_errors.message(e) or e}") from e


def _describe(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    return stack.describe(cfn, stack_name)


def _status(cfn: Any, stack_name: str) -> str | None:
    described = _describe(cfn, stack_name)
    return None if described is None else str(described["StackStatus"])


def _change_set_type(stack_name: str, status: str | None) -> str:
    """CREATE or UPDATE, or a DeployError saying why the stack cannot be deployed now."""
    if status is None or status == "REVIEW_IN_PROGRESS":
        return "CREATE"
    if status in _UPDATABLE:
        return "UPDATE"
    if status.endswith("_IN_PROGRESS"):
        raise DeployError(
            f"stack {stack_name} is {status}: wait for that operation to finish, then deploy again")
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
        raise DeployError(f"stack {stack_name} is {status}: CloudFormation cannot update it. Run "
                          "`python -m devstack.deploy destroy` (data resources are kept), then deploy again")
    if status == "UPDATE_ROLLBACK_FAILED":
        raise DeployError(f"stack {stack_name} is {status}: continue the rollback first "
                          f"(aws cloudformation continue-update-rollback --stack-name {stack_name})")
    raise DeployError(f"stack {stack_name} is {status} and cannot be deployed to")


def _ensure_artifacts_bucket(s3: Any, bucket: str, region: str, say: Say) -> None:
    """Create the private, encrypted artifacts bucket unless it exists."""
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as e:
        if aws_errors.code(e) in ("403", "AccessDenied", "Forbidden"):
            raise DeployError(f"bucket {bucket} exists but this account cannot use it") from e
        if aws_errors.code(e) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    say(f"Creating artifacts bucket {bucket}…")
    location = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})


def _upload(s3: Any, bucket: str, prefix: str, body: bytes, suffix: str, say: Say) -> str:
    """Put ``body`` under its SHA-256 (once) and return the key: same content, same key."""
    key = f"{prefix}/{hashlib.sha256(body).hexdigest()}{suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
        say(f"s3://{bucket}/{key} is already there")
    except ClientError as e:
        if not aws_errors.is_missing(e):
            raise
        say(f"Uploading s3://{bucket}/{key} ({len(body) / 1e6:.1f} MB)…")
        s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")
    return key


def _describe_changes(cfn: Any, change_set: str, stack_name: str) -> list[str]:
    lines: list[str] = []
    kwargs: dict[str, Any] = {"ChangeSetName": change_set, "StackName": stack_name}
    while True:
        page = cfn.describe_change_set(**kwargs)
        for change in page.get("Changes", []):
            rc = change.get("ResourceChange", {})
            replace = " (REPLACEMENT)" if rc.get("Replacement") == "True" else ""
            lines.append(f"{rc.get('Action', '?'):<8} {rc.get('LogicalResourceId', '?')} "
                         f"({rc.get('ResourceType', '?')}){replace}")
        if not page.get("NextToken"):
            return lines or ["(no resource changes: outputs, parameters or metadata only)"]
        kwargs["NextToken"] = page["NextToken"]


def _failure_report(cfn: Any, stack_name: str) -> str:
    """The stack's state and the reasons CloudFormation gave, newest first."""
    status = _status(cfn, stack_name) or "gone"
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except ClientError:
        events = []
    reasons = [f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
               for e in events if e.get("ResourceStatus", "").endswith("_FAILED")][:10]
    hint = (" Run `python -m devstack.deploy destroy`, then deploy again."
            if status == "ROLLBACK_COMPLETE" else "")
    return "\n".join([f"stack {stack_name} is {status}.{hint}", *reasons])


class _AnyTagLoader(yaml.SafeLoader):
    """Reads a deployed template's YAML; intrinsic tags are irrelevant to deletion policies."""


_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _retained_logical_ids(cfn: Any, stack_name: str) -> set[str]:
    """Resources the deployed template (not the local one) keeps on deletion."""
    body = cfn.get_template(StackName=stack_name).get("TemplateBody") or {}
    template = body if isinstance(body, dict) else yaml.load(body, Loader=_AnyTagLoader)  # noqa: S506
    return {name for name, res in (template or {}).get("Resources", {}).items()
            if res.get("DeletionPolicy") == "Retain"}


def _stack_resources(cfn: Any, stack_name: str) -> list[dict[str, Any]]:
    return stack.stack_resources(cfn, stack_name)


# --- the command ---------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run ``deploy`` or ``destroy``; expected failures print one message and return 1."""
    parser = argparse.ArgumentParser(prog="python -m devstack.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["deploy", "destroy"])
    args = parser.parse_args(argv)
    try:
        chosen = Settings.from_env(need_stack=False)
    except SettingsError as e:
        parser.error(str(e))
    stack_name = chosen.stack or DEFAULT_STACK
    # botocore reads AWS_DEFAULT_REGION (or the profile's region), not AWS_REGION,
    # which the rest of DocPortal documents; bridge the two for this process.
    if os.environ.get("AWS_REGION") and not os.environ.get("AWS_DEFAULT_REGION"):
        os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"]
        aws.reset()

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        if args.command == "deploy":
            settings = deploy(stack_name, settings=chosen, say=say)
            say("Settings for the portal (also on standard output):")
            for name, value in settings.to_env().items():
                print(f"{name}={value}", flush=True)
            missing = [n for n in ("user_pool_id", "client_id", "queue_url") if not getattr(settings, n)]
            if missing:
                say(f"Warning: the stack reports no {', '.join(missing)}; "
                    "sign-in or status updates will not work.")
            if chosen.alarm_email:
                say("Alarm e-mails start once the address confirms the subscription AWS sent it.")
        else:
            kept = destroy(stack_name, say=say)
            say(f"Stack {stack_name} is deleted.")
            if kept:
                say("Kept, with their data (delete them by hand when no longer needed):")
                for line in kept:
                    say("  " + line)
            say(f"The artifacts bucket ({stack_name}-artifacts-<account>-<region>) is kept too.")
    except DeployError as e:
        say(f"{args.command} failed: {e}")
        return 1
    except NoRegionError:
        say(f"{args.command} failed: no AWS region: set AWS_REGION (or a region in your AWS profile)")
        return 1
    except (ClientError, BotoCoreError) as e:
        say(f"{args.command} failed: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
