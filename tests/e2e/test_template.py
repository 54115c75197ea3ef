"""The template passes the linter, and the local stack is exactly what it says."""

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.schema.aggregates import AGG_GRAINS, aggregate_key
from common.schema.keys import INDEXES, PK, SK, UPLOAD_PREFIX
from common.settings import ENV_NAMES, Settings
from devstack import template as tpl

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
    assert table["KeySchema"] == [{"AttributeName": PK, "KeyType": "HASH"},
                                  {"AttributeName": SK, "KeyType": "RANGE"}]
    indexes = {
        (i["IndexName"], i["KeySchema"][0]["AttributeName"], i["KeySchema"][1]["AttributeName"])
        for i in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {(i.name, i.partition_key, i.sort_key) for i in INDEXES}


def test_the_rule_matches_exactly_the_uploads_prefix():
    pattern = props("ObjectCreatedRule")["EventPattern"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": UPLOAD_PREFIX}]
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
    # The parse limit follows MaxFileSizeMB; even its largest value fits in /tmp.
    assert variables["DOCPORTAL_MAX_PARSE_MB"] == {"Ref": "MaxFileSizeMB"}
    max_file_size = TEMPLATE["Parameters"]["MaxFileSizeMB"]
    assert function["EphemeralStorage"]["Size"] > int(max_file_size["MaxValue"]) >= int(max_file_size["Default"])
    # The parse worker's cap comes on top of the handler's own memory.
    assert int(TEMPLATE["Parameters"]["ExtractorMemoryMB"]["Default"]) >= int(variables["DOCPORTAL_PARSE_MEMORY_MB"]) + 256
    # Parsing one file must fit in the function's time limit.
    assert float(variables["DOCPORTAL_PARSE_SECONDS"]) < int(TEMPLATE["Parameters"]["ExtractorTimeoutSeconds"]["Default"])


# --- the security review, as tests ------------------------------------------------

def _statements(document: dict) -> list[dict]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _policy_documents() -> dict[str, dict]:
    """Every policy document in the template, by where it is."""
    documents = {}
    for name, resource in RESOURCES.items():
        properties = resource.get("Properties", {})
        for policy in properties.get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else []:
            documents[f"{name}/{policy['PolicyName']}"] = policy["PolicyDocument"]
        if "PolicyDocument" in properties:
            documents[name] = properties["PolicyDocument"]
        if "KeyPolicy" in properties:
            documents[name] = properties["KeyPolicy"]
    return documents


def test_the_bucket_blocks_every_kind_of_public_access():
    bucket = props("UploadsBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_the_bucket_refuses_requests_without_tls():
    policy = props("UploadsBucketPolicy")
    assert policy["Bucket"] == {"Ref": "UploadsBucket"}
    (deny,) = [s for s in _statements(policy["PolicyDocument"]) if s.get("Sid") == "DenyInsecureTransport"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {"Fn::GetAtt": ["UploadsBucket", "Arn"]} in deny["Resource"]
    assert {"Fn::Sub": "${UploadsBucket.Arn}/*"} in deny["Resource"]


def test_the_bucket_admits_cross_origin_requests_from_the_portal_only():
    (rule,) = props("UploadsBucket")["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [{"Ref": "PortalOrigin"}]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST"]  # POST: the Upload page's forms
    assert rule["ExposedHeaders"] == ["ETag"]
    assert TEMPLATE["Parameters"]["PortalOrigin"]["Default"] == "http://localhost:8501"


def test_data_is_encrypted_at_rest():
    encryption = props("UploadsBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    queues = tpl.resources_of_type(TEMPLATE, "AWS::SQS::Queue")
    assert set(queues) == {"ExtractQueue", "ExtractDeadLetterQueue", "EventsDeadLetterQueue"}
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert props("FilesTable")["SSESpecification"] == {"SSEEnabled": True}
    assert props("FilesTable")["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props("SessionsTable")["SSESpecification"] == {"SSEEnabled": True}
    # The topic's key is one CloudWatch alarms may use (the AWS managed aws/sns is not).
    assert props("AlarmTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlarmTopicKey", "Arn"]}
    assert props("AlarmTopicKey")["EnableKeyRotation"] is True
    (alarms,) = [s for s in _statements(props("AlarmTopicKey")["KeyPolicy"])
                 if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_no_policy_allows_wildcard_actions():
    documents = _policy_documents()
    assert {"ExtractorRole/extractor", "UploadsBucketPolicy", "ExtractQueuePolicy",
            "EventsDeadLetterQueuePolicy", "AlarmTopicPolicy", "AlarmTopicKey"} <= set(documents)
    for where, document in documents.items():
        for statement in _statements(document):
            if statement["Effect"] != "Allow":
                continue
            if where == "AlarmTopicKey" and statement["Principal"] == {
                    "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}:
                continue  # AWS's default key policy: the account's IAM policies decide
            assert all("*" not in action for action in _as_list(statement["Action"])), (where, statement)


def test_only_xray_is_granted_on_every_resource():
    for statement in _statements(_policy_documents()["ExtractorRole/extractor"]):
        if statement["Resource"] == "*":
            assert all(a.startswith("xray:") for a in _as_list(statement["Action"])), statement
    actions = {a for s in _statements(_policy_documents()["ExtractorRole/extractor"]) for a in _as_list(s["Action"])}
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= actions


def test_failed_deliveries_end_in_dead_letter_queues():
    redrive = props("ExtractQueue")["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ExtractDeadLetterQueue", "Arn"]}
    assert redrive["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    assert TEMPLATE["Parameters"]["MaxReceiveCount"]["Default"] == 5
    rules = {f"{{'Fn::GetAtt': ['{r}', 'Arn']}}" for r in ("ObjectCreatedRule", "ObjectExpiredRule")}
    for rule in ("ObjectCreatedRule", "ObjectExpiredRule"):
        (target,) = props(rule)["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["ExtractQueue", "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert props("EventsDeadLetterQueue")["QueueName"] == {"Fn::Sub": "${AppName}-${Environment}-events-dlq"}
    # Only the two rules may send, to the queue and to their dead-letter queue.
    for policy, queue in (("ExtractQueuePolicy", "ExtractQueue"), ("EventsDeadLetterQueuePolicy", "EventsDeadLetterQueue")):
        assert props(policy)["Queues"] == [{"Ref": queue}]
        (statement,) = _statements(props(policy)["PolicyDocument"])
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        assert {str(arn) for arn in statement["Condition"]["ArnEquals"]["aws:SourceArn"]} == rules


def test_the_expired_rule_matches_lifecycle_expirations_under_uploads():
    pattern = props("ObjectExpiredRule")["EventPattern"]
    assert props("ObjectExpiredRule")["Name"] == {"Fn::Sub": "${AppName}-${Environment}-object-expired"}
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Deleted"]
    assert pattern["detail"]["reason"] == ["Lifecycle Expiration"]
    # Not the permanent deletion of an old version: that file still exists.
    assert pattern["detail"]["deletion-type"] == ["Delete Marker Created"]
    assert props("UploadsBucket")["VersioningConfiguration"] == {"Status": "Enabled"}
    assert pattern["detail"]["object"]["key"] == [{"prefix": UPLOAD_PREFIX}]
    assert pattern["detail"]["bucket"] == props("ObjectCreatedRule")["EventPattern"]["detail"]["bucket"]


def test_retention_expires_uploads_only_when_asked():
    parameter = TEMPLATE["Parameters"]["RetentionDays"]
    mapping = TEMPLATE["Mappings"]["RetentionRule"]
    assert parameter["Default"] == "0"
    assert sorted(mapping, key=int) == sorted(parameter["AllowedValues"], key=int)
    assert mapping["0"]["Status"] == "Disabled"  # 0 keeps files forever
    for days, rule in mapping.items():
        if days != "0":
            assert rule == {"Status": "Enabled", "Days": int(days)}
    rules = {r["Id"]: r for r in props("UploadsBucket")["LifecycleConfiguration"]["Rules"]}
    expire = rules["expire-uploads"]
    assert expire["Prefix"] == UPLOAD_PREFIX
    assert expire["Status"] == {"Fn::FindInMap": ["RetentionRule", {"Ref": "RetentionDays"}, "Status"]}
    assert expire["ExpirationInDays"] == {"Fn::FindInMap": ["RetentionRule", {"Ref": "RetentionDays"}, "Days"]}
    tidy = rules["tidy-versions-and-multipart"]
    assert tidy["Status"] == "Enabled"
    assert tidy["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
    assert tidy["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_the_pool_is_admin_only_strong_email_named_and_offers_authenticator_apps():
    pool = props("UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[k] is True for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    # Optional, and only the kind the portal's sign-in answers (portal/auth.py): no SMS role needed.
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "SmsConfiguration" not in pool



def _client_for(prefix: str) -> dict:
    ctx = tpl.Context(tpl.parameter_values(TEMPLATE, {"HostedDomainPrefix": prefix}, {"AWS::Region": "eu-west-1"}),
                      {"UserPool": "pool-1"}, lambda *a: "", TEMPLATE.get("Mappings", {}), TEMPLATE["Conditions"])
    return tpl.resolve(props("UserPoolClient"), ctx)


def test_form_sign_in_leaves_the_app_client_without_oauth_and_names_no_hosted_domain():
    client = _client_for("")
    assert not {k for k in client if "OAuth" in k or k.endswith("URLs") or k == "SupportedIdentityProviders"}
    # The domain itself is always there (scripts' token endpoint); its prefix is the hosted one only then.
    assert props("UserPoolDomain")["Domain"]["Fn::If"][:2] == ["IsHostedSignIn", {"Ref": "HostedDomainPrefix"}]
    assert TEMPLATE["Outputs"]["HostedDomainUrl"]["Condition"] == "IsHostedSignIn"


def test_hosted_sign_in_offers_only_the_code_flow_with_openid_scopes():
    client = _client_for("acme-docs")
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]  # never implicit
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    # CommaDelimitedList parameters (the local resolver leaves them as their text)
    assert client["CallbackURLs"] == "http://localhost:8501/_docportal/callback"
    assert client["LogoutURLs"] == "http://localhost:8501/"
    assert client["SupportedIdentityProviders"] == "COGNITO"
    assert TEMPLATE["Parameters"]["CallbackUrls"]["Type"] == "CommaDelimitedList"
    assert client["GenerateSecret"] is False  # a public client: PKCE protects its codes


def test_data_outlives_the_stack():
    for name in ("UploadsBucket", "FilesTable", "UserPool"):
        assert RESOURCES[name]["DeletionPolicy"] == RESOURCES[name]["UpdateReplacePolicy"] == "Retain", name
    assert props("FilesTable")["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}


def test_the_function_is_traced_bounded_and_on_graviton():
    function = props("ExtractorFunction")
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert props("ExtractorEventSource")["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "MaxConcurrency"}}
    concurrency = TEMPLATE["Parameters"]["MaxConcurrency"]
    assert (concurrency["MinValue"], concurrency["MaxValue"]) == (2, 1000)
    assert props("ExtractorLogGroup")["RetentionInDays"] > 0


def test_the_compactor_runs_the_code_hourly_and_nightly_on_aggregate_items_only():
    function = props("CompactorFunction")
    assert function["Handler"] == "extractor.compactor.handler"
    module, name = function["Handler"].rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), name))
    assert function["Code"] == props("ExtractorFunction")["Code"]  # one package
    assert (function["Runtime"], function["Architectures"]) == (
        props("ExtractorFunction")["Runtime"], props("ExtractorFunction")["Architectures"])
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Environment"]["Variables"]["DOCPORTAL_TABLE"] == {"Ref": "FilesTable"}
    inputs = {props(rule)["ScheduleExpression"]: json.loads(props(rule)["Targets"][0]["Input"])
              for rule in ("CompactRecentDaysRule", "CompactAllDaysRule")}
    assert inputs == {"rate(1 hour)": {"days": 40}, "cron(30 3 * * ? *)": {"days": "all"}}
    for rule in ("CompactRecentDaysRule", "CompactAllDaysRule"):
        assert props(rule)["Targets"][0]["Arn"] == {"Fn::GetAtt": ["CompactorFunction", "Arn"]}
        permission = next(p for p in tpl.resources_of_type(TEMPLATE, "AWS::Lambda::Permission").values()
                          if p["Properties"]["SourceArn"] == {"Fn::GetAtt": [rule, "Arn"]})
        assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    (statement,) = [s for p in props("CompactorRole")["Policies"] for s in p["PolicyDocument"]["Statement"]
                    if any(a.startswith("dynamodb:") for a in s["Action"])]
    assert sorted(statement["Action"]) == ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query"]
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["AGG#*"]}}
    # Readers and the extractor agree: every aggregate partition key starts with AGG#.
    assert all(aggregate_key(g, "2026-11-30", "x", 0)[0].startswith("AGG#") for g in AGG_GRAINS)


def test_every_alarm_notifies_the_topic():
    alarms = tpl.resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")
    assert set(alarms) == {"DeadLetterQueueAlarm", "EventsDeadLetterQueueAlarm", "ExtractQueueAgeAlarm",
                           "ExtractorErrorsAlarm", "ExtractorThrottlesAlarm", "CompactorErrorsAlarm"}
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        if alarm["Properties"]["Namespace"] == "AWS/Lambda":
            assert alarm["Condition"] == "HasExtractorCode", name
    assert props("ExtractQueueAgeAlarm")["Threshold"] == 15 * 60
    assert RESOURCES["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def test_outputs_name_everything_the_portal_and_operators_need():
    assert {"BucketName", "TableName", "QueueUrl", "DeadLetterQueueUrl", "EventsDeadLetterQueueUrl",
            "UserPoolId", "UserPoolClientId", "Region", "AlarmTopicArn", "DashboardName",
            "FunctionName", "PortalRoleArn", "SessionsTableName"} <= set(TEMPLATE["Outputs"])
    assert TEMPLATE["Outputs"]["FunctionName"]["Condition"] == "HasExtractorCode"


def test_every_checkov_suppression_says_why():
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_") and len(skip.get("comment", "")) > 40, (name, skip)


def _checkov() -> str | None:
    """checkov pins its own boto3, so it lives in a venv of its own (.venv/checkov) or on PATH."""
    bin_dir = Path(sys.executable).parent
    candidates = [os.environ.get("CHECKOV", ""), str(bin_dir / "checkov"),
                  str(bin_dir.parent / "checkov" / "bin" / "checkov")]
    found = [c for c in candidates if c and Path(c).is_file()]
    return found[0] if found else shutil.which("checkov")


def test_checkov_reports_no_failed_check():
    checkov = _checkov()
    if checkov is None:
        message = "checkov is not installed: make install-dev puts it in .venv/checkov (its pins clash with ours)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [checkov, "-f", str(tpl.TEMPLATE_PATH), "--framework", "cloudformation", "--quiet", "--compact",
         "--skip-download"],  # no network: the policy metadata it would fetch changes no verdict
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout, result.stdout


def test_sessions_expire_with_the_refresh_token_and_the_portal_may_only_use_them():
    table = props("SessionsTable")
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    client = props("UserPoolClient")
    assert client["TokenValidityUnits"]["RefreshToken"] == "hours"
    assert client["RefreshTokenValidity"] == Settings().session_hours
    statements = [s for s in _statements(props("PortalTaskRole")["Policies"][0]["PolicyDocument"])
                  if "Sessions" in s["Sid"]]
    assert {s["Sid"]: (sorted(s["Action"]), s["Resource"]) for s in statements} == {
        "Sessions": (["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                     {"Fn::GetAtt": ["SessionsTable", "Arn"]}),
        "SessionsByUser": (["dynamodb:Query"], {"Fn::Sub": "${SessionsTable.Arn}/index/by_user"}),
    }


def test_the_invitation_says_where_the_portal_is():
    invite = props("UserPool")["AdminCreateUserConfig"]["InviteMessageTemplate"]
    message = invite["EmailMessage"]["Fn::Sub"]
    assert "${PortalOrigin}" in message  # filled by `make deploy` from DOCPORTAL_PORTAL_ORIGIN
    assert "{username}" in message and "{####}" in message  # Cognito refuses a template without them
    assert 6 <= len(message) <= 20_000 and invite["EmailSubject"]
    assert "EmailConfiguration" not in props("UserPool")  # Cognito's own e-mail until README's SES switch


def test_the_package_is_built_for_what_the_function_runs():
    # Runtime and architecture are read from the template by make package and make deploy.
    assert tpl.lambda_platform(TEMPLATE) == ("arm64", "3.13")
