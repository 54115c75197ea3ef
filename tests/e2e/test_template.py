"""The template passes the linter, and the local stack is exactly what it says."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common import schema
from common.settings import ENV_NAMES
from devstack import template as tpl
from devstack.provision import PARAMETERS

TEMPLATE = tpl.load()
RESOURCES = TEMPLATE["Resources"]


def props(logical_id: str) -> dict:
    return RESOURCES[logical_id]["Properties"]


def test_cfn_lint_reports_nothing():
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run([cfn_lint, str(tpl.TEMPLATE_PATH)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "")


def test_table_keys_and_indexes_are_the_schemas():
    table = props("FilesTable")
    assert table["KeySchema"] == [{"AttributeName": schema.PK, "KeyType": "HASH"},
                                  {"AttributeName": schema.SK, "KeyType": "RANGE"}]
    indexes = {
        (i["IndexName"], i["KeySchema"][0]["AttributeName"], i["KeySchema"][1]["AttributeName"])
        for i in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {(i.name, i.partition_key, i.sort_key) for i in schema.INDEXES}


def test_the_rule_matches_exactly_the_uploads_prefix():
    pattern = props("ObjectCreatedRule")["EventPattern"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": schema.UPLOAD_PREFIX}]
    assert pattern["detail-type"] == ["Object Created"]


def test_visibility_timeout_is_six_times_every_allowed_function_timeout():
    allowed = TEMPLATE["Parameters"]["ExtractorTimeoutSeconds"]["AllowedValues"]
    mapping = TEMPLATE["Mappings"]["VisibilityTimeout"]
    assert sorted(mapping) == sorted(allowed)
    for timeout in allowed:
        assert mapping[timeout]["Seconds"] == 6 * int(timeout)


def test_iam_actions_are_never_wildcards():
    roles = tpl.resources_of_type(TEMPLATE, "AWS::IAM::Role")
    assert roles
    for resource in roles.values():
        for policy in resource["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), statement


def test_the_function_gets_its_settings_under_the_names_the_code_reads():
    variables = props("ExtractorFunction")["Environment"]["Variables"]
    assert variables["DOCPORTAL_BUCKET"] == {"Ref": "UploadsBucket"}
    assert variables["DOCPORTAL_TABLE"] == {"Ref": "FilesTable"}
    assert {"DOCPORTAL_BUCKET", "DOCPORTAL_TABLE"} <= set(ENV_NAMES.values())
    assert props("ExtractorFunction")["Handler"] == "extractor.handler.lambda_handler"
    assert props("ExtractorEventSource")["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_function_has_room_for_what_it_parses():
    function = props("ExtractorFunction")
    variables = function["Environment"]["Variables"]
    assert function["EphemeralStorage"]["Size"] > int(variables["DOCPORTAL_MAX_PARSE_MB"])
    # The parse worker's cap comes on top of the handler's own memory.
    assert int(TEMPLATE["Parameters"]["ExtractorMemoryMB"]["Default"]) >= int(variables["DOCPORTAL_PARSE_MEMORY_MB"]) + 256
    # Parsing one file must fit in the function's time limit.
    assert float(variables["DOCPORTAL_PARSE_SECONDS"]) < int(TEMPLATE["Parameters"]["ExtractorTimeoutSeconds"]["Default"])


# --- the local stack, provisioned on a moto server, against the template --------

@pytest.fixture(scope="module")
def local(moto_server):
    return moto_server


def test_local_table_matches_the_template(local):
    table = local.client("dynamodb").describe_table(TableName=local.settings.table)["Table"]
    expected = props("FilesTable")
    assert table["TableName"] == f"docportal-{PARAMETERS['Environment']}-files"
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    assert [(i["IndexName"], i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]] == [
        (i["IndexName"], i["KeySchema"], i["Projection"]) for i in expected["GlobalSecondaryIndexes"]]


def test_local_queues_match_the_template(local):
    sqs = local.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=local.settings.queue_url, AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=local.settings.dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    default_timeout = TEMPLATE["Parameters"]["ExtractorTimeoutSeconds"]["Default"]
    assert int(attrs["VisibilityTimeout"]) == TEMPLATE["Mappings"]["VisibilityTimeout"][default_timeout]["Seconds"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == TEMPLATE["Parameters"]["MaxReceiveCount"]["Default"]


def test_local_rule_matches_the_template(local):
    events = local.client("events")
    rule_name = f"docportal-{PARAMETERS['Environment']}-object-created"
    rule = events.describe_rule(Name=rule_name)
    pattern = json.loads(rule["EventPattern"])
    expected = props("ObjectCreatedRule")["EventPattern"]
    assert pattern["source"] == expected["source"]
    assert pattern["detail-type"] == expected["detail-type"]
    assert pattern["detail"]["object"] == expected["detail"]["object"]
    assert pattern["detail"]["bucket"]["name"] == [local.settings.bucket]
    (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    queue_arn = local.client("sqs").get_queue_attributes(
        QueueUrl=local.settings.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert target["Arn"] == queue_arn


def test_local_bucket_has_the_settings_moto_cloudformation_skips(local):
    s3, sqs = local.client("s3"), local.client("sqs")
    # moto does not echo EventBridgeConfiguration back, so prove it by delivery.
    s3.put_object(Bucket=local.settings.bucket, Key="elsewhere/not-an-upload.txt", Body=b"x")
    s3.put_object(Bucket=local.settings.bucket, Key="uploads/probe/eventbridge-check.txt", Body=b"x")
    messages = []
    for _ in range(10):
        messages += sqs.receive_message(QueueUrl=local.settings.queue_url, MaxNumberOfMessages=10,
                                        WaitTimeSeconds=1).get("Messages", [])
        if messages:
            break
    for m in messages:
        sqs.delete_message(QueueUrl=local.settings.queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert [json.loads(m["Body"])["detail"]["object"]["key"] for m in messages] == [
        "uploads/probe/eventbridge-check.txt"]
    assert s3.get_bucket_versioning(Bucket=local.settings.bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=local.settings.bucket)["PublicAccessBlockConfiguration"]
    assert block == props("UploadsBucket")["PublicAccessBlockConfiguration"]


def test_local_cognito_matches_the_template(local):
    cognito = local.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=local.settings.user_pool_id)["UserPool"]
    expected_pool = props("UserPool")
    assert pool["Policies"]["PasswordPolicy"] == expected_pool["Policies"]["PasswordPolicy"]
    assert pool["UsernameAttributes"] == expected_pool["UsernameAttributes"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    client = cognito.describe_user_pool_client(
        UserPoolId=local.settings.user_pool_id, ClientId=local.settings.client_id)["UserPoolClient"]
    assert client["ExplicitAuthFlows"] == props("UserPoolClient")["ExplicitAuthFlows"]
    groups = {g["GroupName"]: g.get("Precedence") for g in cognito.list_groups(
        UserPoolId=local.settings.user_pool_id)["Groups"]}
    assert groups == {r["Properties"]["GroupName"]: r["Properties"]["Precedence"]
                      for r in tpl.resources_of_type(TEMPLATE, "AWS::Cognito::UserPoolGroup").values()}


def test_provisioning_again_reads_the_same_stack_back(local):
    import functools

    from devstack.provision import provision
    from tests.conftest import server_client

    again = provision(local.endpoint, "us-east-1", client=functools.partial(server_client, local.endpoint))
    assert again == local.settings
