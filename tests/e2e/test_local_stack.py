"""The local stack, provisioned on a moto server, against the template: the drift check.

``make run`` provisions through moto's CloudFormation and applies what it
skips from the template's own properties (devstack/provision.py); these tests
fail when the local tables, queues, rules, bucket or pool drift from
infra/cloudformation.yaml.
"""

import json

import pytest
import requests

from devstack import template as tpl
from devstack.provision import PARAMETERS

TEMPLATE = tpl.load()
RESOURCES = TEMPLATE["Resources"]


def props(logical_id: str) -> dict:
    return RESOURCES[logical_id]["Properties"]


@pytest.fixture(scope="module")
def local(moto_server):
    return moto_server


def test_local_table_matches_the_template(local):
    _assert_table_is(local.client("dynamodb"), local.settings.table, "FilesTable", "files")


def _assert_table_is(ddb, name: str, logical_id: str, suffix: str) -> None:
    """A local table has the template's name, keys, attributes, indexes and time to live."""
    table = ddb.describe_table(TableName=name)["Table"]
    expected = props(logical_id)
    assert table["TableName"] == f"docportal-{PARAMETERS['Environment']}-{suffix}"
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"])
    assert [(i["IndexName"], i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]] == [
        (i["IndexName"], i["KeySchema"], i["Projection"]) for i in expected["GlobalSecondaryIndexes"]]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == (
        "ENABLED", expected["TimeToLiveSpecification"]["AttributeName"])


def test_local_sessions_table_matches_the_template(local):
    _assert_table_is(local.client("dynamodb"), local.settings.sessions_table, "SessionsTable", "sessions")


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


def _take_keys(sqs, queue_url: str, ours: set[str]) -> list[str]:
    """Receive and delete one batch; the object keys among ``ours`` it delivered."""
    keys = []
    for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        key = json.loads(m["Body"]).get("detail", {}).get("object", {}).get("key")
        if key in ours:
            keys.append(key)
    return keys


def test_local_bucket_has_the_settings_moto_cloudformation_skips(local):
    s3, sqs = local.client("s3"), local.client("sqs")
    # moto does not echo EventBridgeConfiguration back, so prove it by delivery.
    s3.put_object(Bucket=local.settings.bucket, Key="elsewhere/not-an-upload.txt", Body=b"x")
    s3.put_object(Bucket=local.settings.bucket, Key="uploads/probe/eventbridge-check.txt", Body=b"x")
    # Other tests of this module share the stack and may have left deliveries of their own:
    # only the two keys put here are this test's business.
    ours = {"elsewhere/not-an-upload.txt", "uploads/probe/eventbridge-check.txt"}
    delivered: list[str] = []
    for _ in range(10):
        delivered += _take_keys(sqs, local.settings.queue_url, ours)
        if delivered:
            break
    delivered += _take_keys(sqs, local.settings.queue_url, ours)  # a late delivery of the other key
    assert delivered == ["uploads/probe/eventbridge-check.txt"]
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
    invite = pool["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]
    assert "Open http://localhost:8501 and sign in" in invite
    # CreateUserPool takes MfaConfiguration; the software-token switch needs SetUserPoolMfaConfig.
    assert pool["MfaConfiguration"] == expected_pool["MfaConfiguration"]
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=local.settings.user_pool_id)
    assert mfa["MfaConfiguration"] == expected_pool["MfaConfiguration"]
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": "SOFTWARE_TOKEN_MFA" in expected_pool["EnabledMfas"]}
    assert not mfa.get("SmsMfaConfiguration")
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
    from tests.helpers.env import server_client

    again = provision(local.endpoint, "us-east-1", client=functools.partial(server_client, local.endpoint))
    assert again == local.settings


def test_local_expired_rule_and_events_dlq_match_the_template(local):
    events, sqs = local.client("events"), local.client("sqs")
    env = PARAMETERS["Environment"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=local.settings.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events_dlq_url = sqs.get_queue_url(QueueName=f"docportal-{env}-events-dlq")["QueueUrl"]
    events_dlq_arn = sqs.get_queue_attributes(
        QueueUrl=events_dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for rule_name, logical in ((f"docportal-{env}-object-created", "ObjectCreatedRule"),
                               (f"docportal-{env}-object-expired", "ObjectExpiredRule")):
        pattern = json.loads(events.describe_rule(Name=rule_name)["EventPattern"])
        assert pattern["detail-type"] == props(logical)["EventPattern"]["detail-type"]
        (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
        assert target["Arn"] == queue_arn
        assert target["DeadLetterConfig"]["Arn"] == events_dlq_arn
    assert pattern["detail"]["reason"] == ["Lifecycle Expiration"]
    assert pattern["detail"]["deletion-type"] == ["Delete Marker Created"]


def test_local_bucket_answers_the_portals_cors_preflight_and_refuses_other_origins(local):
    """The Upload page posts forms to the moto server from the portal's origin: moto judges a preflight by
    the bucket's CORS rules (as S3 does), which moto's CloudFormation skips and provisioning applies."""
    (rule,) = local.client("s3").get_bucket_cors(Bucket=local.settings.bucket)["CORSRules"]
    (template_rule,) = props("UploadsBucket")["CorsConfiguration"]["CorsRules"]
    origin = TEMPLATE["Parameters"]["PortalOrigin"]["Default"]  # provisioned without origins of its own
    assert (rule["AllowedOrigins"], sorted(rule["AllowedMethods"]), rule["ExposeHeaders"], rule["MaxAgeSeconds"]) \
        == ([origin], sorted(template_rule["AllowedMethods"]), template_rule["ExposedHeaders"], template_rule["MaxAge"])
    url = f"{local.settings.endpoint_url}/{local.settings.bucket}"
    asked = {"Access-Control-Request-Method": "POST"}
    ours = requests.options(url, headers={"Origin": origin, **asked}, timeout=10)
    assert ours.status_code == 200 and ours.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in ours.headers["Access-Control-Allow-Methods"]
    theirs = requests.options(url, headers={"Origin": "https://evil.example", **asked}, timeout=10)
    assert theirs.status_code == 403
