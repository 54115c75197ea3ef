"""``python -m devstack.deploy`` against a moto server, as far as moto goes.

moto runs change sets (create, update, "no changes"), the artifacts bucket,
the upload and the stack deletion. It does not build Cognito through
CloudFormation, so the pool and client outputs are absent here; the test
checks that they reach the settings whenever the stack reports them.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from common import aws
from common import stack as stack_module
from common.settings import Settings, SettingsError
from devstack import deploy, package, processes
from tests.helpers.env import REGION, server_client

STACK = "docportal-deploy-test"
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of its own, so the deployed stack meets nobody else's."""
    port = processes.free_port()
    log = tmp_path_factory.mktemp("moto-deploy") / "moto.log"
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "AWS_PROFILE")}
    proc = processes.start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                           log=log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_http(f"{url}/moto-api/", timeout=60, proc=proc, log=log)
        yield url
    finally:
        processes.stop([proc])


@pytest.fixture
def fake_zip(tmp_path: Path) -> bytes:
    """A small stand-in for the Lambda package (no wheels are downloaded)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("extractor/handler.py", "def lambda_handler(event, context):\n    return {}\n")
    return buf.getvalue()


@pytest.fixture
def on_moto(endpoint: str, fake_zip: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the deploy code at the server, with a fake package build and fast polling."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("DOCPORTAL_STACK", STACK)
    monkeypatch.setenv("DOCPORTAL_ENVIRONMENT", "dev")
    monkeypatch.setenv("DOCPORTAL_ALARM_EMAIL", "ops@example.com")
    monkeypatch.setattr(deploy, "POLL_SECONDS", 1)
    monkeypatch.setattr(deploy, "MAX_WAIT_SECONDS", 30)

    def build(arch: str, python: str, out: Path, part: package.Part = package.PARTS["extractor"]) -> Path:
        assert (arch, python) == ("arm64", "3.13")  # what the template's function runs on
        path = tmp_path / out.name
        path.write_bytes(fake_zip)
        return path

    monkeypatch.setattr(package, "build", build)
    aws.reset()
    yield endpoint
    aws.reset()


def _env_lines(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_deploy_again_and_destroy(on_moto: str, fake_zip: bytes, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch):
    cfn, s3 = server_client(on_moto, "cloudformation"), server_client(on_moto, "s3")

    assert deploy.main(["deploy"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err

    artifacts = f"{STACK}-artifacts-{ACCOUNT}-{REGION}"
    key = f"extractor/{hashlib.sha256(fake_zip).hexdigest()}.zip"
    assert s3.get_object(Bucket=artifacts, Key=key)["Body"].read() == fake_zip
    assert s3.get_public_access_block(Bucket=artifacts)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rules = s3.get_bucket_encryption(Bucket=artifacts)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["ExtractorCodeBucket"] == artifacts
    assert params["ExtractorCodeKey"] == key
    assert params["Environment"] == "dev"
    assert params["AlarmEmail"] == "ops@example.com"
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                 for r in cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]}
    # The code bucket switched the function on.
    assert resources["ExtractorFunction"] == "docportal-dev-extractor"
    assert "ExtractorFunction (AWS::Lambda::Function)" in err  # the change set was shown before it ran

    # moto's change sets leave the stack's outputs empty; settings_from_stack then
    # reads the same values from the resources the outputs !Ref (on AWS: the outputs).
    settings = deploy.settings_from_stack(STACK, cfn)
    assert settings.bucket == f"docportal-dev-uploads-{ACCOUNT}" == resources["UploadsBucket"]
    assert settings.table == "docportal-dev-files" == resources["FilesTable"]
    assert settings.queue_url == resources["ExtractQueue"] and settings.queue_url.endswith("/docportal-dev-extract")
    assert settings.dlq_url == resources["ExtractDeadLetterQueue"]
    assert settings.region == REGION
    assert settings.endpoint_url == on_moto
    # moto's CloudFormation skips Cognito, so the pool and client exist only on AWS.
    assert settings.user_pool_id == resources.get("UserPool", "")
    assert settings.client_id == resources.get("UserPoolClient", "")
    assert _env_lines(out) == settings.to_env()
    assert _env_lines(out)["DOCPORTAL_BUCKET"] == settings.bucket
    # The portal configured by the stack's name alone reads the same settings.
    stack_module.cached_settings.cache_clear()
    # Only DOCPORTAL_STACK, the deploy's parameters and AWS_ENDPOINT_URL are set.
    assert Settings.from_env().to_env() == settings.to_env()
    stack_module.cached_settings.cache_clear()

    # Same package, same template, same parameters: nothing to change, and no error.
    # (Also takes the S3 route for the template, as a template over 51,200 bytes must.)
    monkeypatch.setattr(deploy, "TEMPLATE_BODY_LIMIT", 0)
    assert deploy.main(["deploy"]) == 0
    out, err = capsys.readouterr()
    assert "No changes" in err
    assert _env_lines(out) == settings.to_env()
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    assert deploy.main(["destroy"]) == 0
    _, err = capsys.readouterr()
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=STACK)
    assert f"docportal-dev-uploads-{ACCOUNT}" in err  # said what it kept
    assert "docportal-dev-files" in err
    assert s3.head_bucket(Bucket=settings.bucket)  # ... and kept it

    assert deploy.main(["destroy"]) == 0  # nothing left to destroy is fine
    assert "nothing to destroy" in capsys.readouterr().err


def test_a_changed_parameter_updates_the_stack(on_moto: str, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch):
    stack = "docportal-deploy-update"
    monkeypatch.setenv("DOCPORTAL_STACK", stack)
    monkeypatch.setenv("DOCPORTAL_ENVIRONMENT", "staging")
    assert deploy.main(["deploy"]) == 0
    monkeypatch.setenv("DOCPORTAL_RETENTION_DAYS", "365")
    assert deploy.main(["deploy"]) == 0
    _, err = capsys.readouterr()
    assert "(UPDATE)" in err
    cfn = server_client(on_moto, "cloudformation")
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}["RetentionDays"] == "365"
    assert deploy.main(["destroy"]) == 0


def test_no_credentials_is_one_clear_message(on_moto: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    aws.reset()
    assert deploy.main(["deploy"]) == 1
    err = capsys.readouterr().err
    assert "no AWS credentials found" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("status", "expected"), [
    (None, "CREATE"), ("REVIEW_IN_PROGRESS", "CREATE"),
    ("CREATE_COMPLETE", "UPDATE"), ("UPDATE_ROLLBACK_COMPLETE", "UPDATE"),
])
def test_change_set_type_follows_the_stack(status, expected):
    assert deploy._change_set_type("s", status) == expected


@pytest.mark.parametrize(("status", "advice"), [
    ("ROLLBACK_COMPLETE", "destroy"), ("UPDATE_IN_PROGRESS", "wait"),
    ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"), ("DELETE_FAILED", "destroy"),
])
def test_a_stack_in_a_failed_state_is_explained_not_deployed(status, advice):
    with pytest.raises(deploy.DeployError, match=advice):
        deploy._change_set_type("s", status)


def test_outputs_read_back_into_settings(monkeypatch: pytest.MonkeyPatch):
    """On AWS the outputs are there; they, not the resources, make the settings."""
    outputs = {"Region": "eu-west-1", "BucketName": "b", "TableName": "t", "QueueUrl": "q",
               "DeadLetterQueueUrl": "d", "UserPoolId": "eu-west-1_x", "UserPoolClientId": "c",
               "SessionsTableName": "s"}

    class Cfn:
        meta = type("Meta", (), {"region_name": "eu-west-1"})

        def describe_stacks(self, StackName):
            return {"Stacks": [{"StackStatus": "UPDATE_COMPLETE", "Outputs": [
                {"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}

        def get_paginator(self, name):
            raise AssertionError("resources are read only when outputs are missing")

    settings = deploy.settings_from_stack("s", Cfn())
    assert (settings.region, settings.bucket, settings.table, settings.queue_url, settings.dlq_url,
            settings.user_pool_id, settings.client_id, settings.sessions_table, settings.endpoint_url) == (
        "eu-west-1", "b", "t", "q", "d", "eu-west-1_x", "c", "s", "")


def test_each_fallback_resource_is_what_its_output_references():
    from devstack import template as tpl

    outputs = tpl.load()["Outputs"]
    for output, logical in deploy._OUTPUT_RESOURCES.items():
        assert outputs[output]["Value"] == {"Ref": logical}


def test_parameters_come_only_from_set_variables():
    chosen = Settings.from_env({"DOCPORTAL_ENVIRONMENT": "prod", "DOCPORTAL_ALARM_EMAIL": " ", "UNRELATED": "x"},
                               need_stack=False)
    assert chosen.template_parameters() == {"Environment": "prod"}


def test_artifacts_bucket_names_fit_s3():
    assert deploy.artifacts_bucket_name("DocPortal-Dev", "123456789012", "eu-west-1") == (
        "docportal-dev-artifacts-123456789012-eu-west-1")
    with pytest.raises(deploy.DeployError, match="63"):
        deploy.artifacts_bucket_name("x" * 40, "123456789012", "eu-west-1")


def test_a_named_stack_that_does_not_exist_is_a_clear_settings_error(endpoint: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("DOCPORTAL_STACK", "no-such-stack")
    aws.reset()
    stack_module.cached_settings.cache_clear()
    with pytest.raises(SettingsError, match="stack no-such-stack does not exist"):
        Settings.from_env()
    stack_module.cached_settings.cache_clear()


def test_resource_variables_win_over_a_named_stack():
    env = {"AWS_REGION": REGION, "DOCPORTAL_STACK": "ignored", "DOCPORTAL_BUCKET": "b", "DOCPORTAL_TABLE": "t"}
    assert (Settings.from_env(env).bucket, Settings.from_env(env).table) == ("b", "t")
