"""Provision the local stack on a moto server from ``infra/cloudformation.yaml``.

The template is deployed through moto's CloudFormation. What moto's
CloudFormation skips is applied through the API from the template's own
properties: the Cognito pool, app client and groups, and the bucket settings
(EventBridge notifications, versioning, encryption, public-access block).
Provisioning is idempotent: on a server that already has the stack it reads
the stack back, and brings a table saved before an index joined the template
up to date: the index is added and older items backfilled
(:func:`common.upload_index.backfill`), as ``make deploy`` and
``python -m devstack.backfill`` do on AWS.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from common import aws, upload_index
from common.settings import Settings
from devstack import template as tpl

logger = logging.getLogger(__name__)

STACK_NAME = "docportal-local"
PARAMETERS: Mapping[str, str] = {"Environment": "local"}
ACCOUNT_ID = "123456789012"  # moto's default account

ClientFactory = Callable[[str], Any]

# CloudFormation property name -> API parameter name, for what we apply by API.
# A property not listed here stops provisioning, so template and local stack
# cannot drift apart silently.
_POOL_PROPS = {
    "UserPoolName": "PoolName", "UsernameAttributes": "UsernameAttributes",
    "AutoVerifiedAttributes": "AutoVerifiedAttributes", "AdminCreateUserConfig": "AdminCreateUserConfig",
    "Policies": "Policies", "AccountRecoverySetting": "AccountRecoverySetting",
    "UserPoolTags": "UserPoolTags", "MfaConfiguration": "MfaConfiguration",
    "DeletionProtection": "DeletionProtection",
    "UserAttributeUpdateSettings": "UserAttributeUpdateSettings", "UserPoolTier": "UserPoolTier",
    "UserPoolAddOns": "UserPoolAddOns",
}
#: Pool properties CreateUserPool does not take; applied by their own calls (see _apply_mfa).
_POOL_SEPARATE = ("EnabledMfas",)
_CLIENT_PROPS = {
    "ClientName": "ClientName", "UserPoolId": "UserPoolId", "GenerateSecret": "GenerateSecret",
    "ExplicitAuthFlows": "ExplicitAuthFlows", "PreventUserExistenceErrors": "PreventUserExistenceErrors",
    "AccessTokenValidity": "AccessTokenValidity", "IdTokenValidity": "IdTokenValidity",
    "RefreshTokenValidity": "RefreshTokenValidity", "TokenValidityUnits": "TokenValidityUnits",
    "ReadAttributes": "ReadAttributes", "WriteAttributes": "WriteAttributes",
    # hosted sign-in only (absent unless HostedDomainPrefix is set; moto has no Hosted UI to use them)
    **{name: name for name in ("AllowedOAuthFlowsUserPoolClient", "AllowedOAuthFlows", "AllowedOAuthScopes",
                               "CallbackURLs", "LogoutURLs", "SupportedIdentityProviders")},
}
_GROUP_PROPS = {"GroupName": "GroupName", "Description": "Description",
                "UserPoolId": "UserPoolId", "Precedence": "Precedence"}


class ProvisioningError(RuntimeError):
    """The local stack could not be built; the message says why."""


@dataclass(frozen=True)
class DemoUser:
    """A ready-to-use account for trying the portal."""

    email: str
    group: str


DEMO_USERS = (
    DemoUser("uploader@example.com", "uploaders"),
    DemoUser("analyst@example.com", "analysts"),
    DemoUser("admin@example.com", "admins"),
)
#: Used when DEMO_PASSWORD is unset; meets the template's password policy ("-" is a symbol to Cognito).
DEFAULT_DEMO_PASSWORD = "DocPortal-demo-2026"  # noqa: S105 - documented demo default
#: Environment for the moto server: without it moto accepts any TOTP code (it then
#: checks codes against the fixed secret it hands out, as an authenticator app would).
MOTO_SERVER_ENV: Mapping[str, str] = {"MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true"}


def _api_args(props: Mapping[str, Any], names: Mapping[str, str], what: str) -> dict[str, Any]:
    unknown = sorted(set(props) - set(names))
    if unknown:
        raise ProvisioningError(f"{what}: template properties {unknown} are not applied locally; "
                                "teach devstack/provision.py to apply them")
    return {names[k]: v for k, v in props.items()}


def provision(endpoint_url: str, region: str, *, client: ClientFactory = aws.client,
              stack_name: str = STACK_NAME, template_path: Path = tpl.TEMPLATE_PATH,
              portal_origins: Sequence[str] = ()) -> Settings:
    """Create (or read back) the local stack and return its settings.

    ``portal_origins`` are where the local portal is served: the bucket's CORS
    rule admits them instead of the template's ``PortalOrigin``, so the Upload
    page's browser can post its forms to the moto server.
    """
    template = tpl.load(template_path)
    cfn = client("cloudformation")
    try:
        cfn.describe_stacks(StackName=stack_name)
    except ClientError:
        cfn.create_stack(
            StackName=stack_name, TemplateBody=template_path.read_text(),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()])
        cfn.get_waiter("stack_create_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise ProvisioningError(
            f"stack {stack_name} is {stack['StackStatus']}: {stack.get('StackStatusReason')}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
                 for r in cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]}
    params = tpl.parameter_values(template, PARAMETERS, {
        "AWS::Region": region, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": stack_name,
        "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"})

    def get_att(logical: str, attr: str) -> str:
        raise tpl.UnsupportedIntrinsic(f"Fn::GetAtt {logical}.{attr} is not resolved locally")

    ctx = tpl.Context(params, resources, get_att, template.get("Mappings", {}),
                      template.get("Conditions", {}))
    added = _apply_table_indexes(client("dynamodb"), template, outputs["TableName"])
    _apply_table_ttl(client("dynamodb"), template, "FilesTable", outputs["TableName"])
    if added:
        done = upload_index.backfill(client("dynamodb"), outputs["TableName"])
        logger.info("added the indexes %s to a saved table; backfilled %s", added, done)
    sessions_table = outputs.get("SessionsTableName") or resources["SessionsTable"]
    _apply_table_ttl(client("dynamodb"), template, "SessionsTable", sessions_table)
    _apply_bucket_settings(client("s3"), template, ctx, outputs["BucketName"], portal_origins)
    pool_id, client_id = _apply_cognito(client("cognito-idp"), template, ctx, resources)
    sqs = client("sqs")
    return Settings(
        region=region, endpoint_url=endpoint_url, bucket=outputs["BucketName"], table=outputs["TableName"],
        queue_url=sqs.get_queue_url(QueueName=outputs["QueueUrl"].rsplit("/", 1)[-1])["QueueUrl"],
        dlq_url=sqs.get_queue_url(QueueName=outputs["DeadLetterQueueUrl"].rsplit("/", 1)[-1])["QueueUrl"],
        user_pool_id=pool_id, client_id=client_id, sessions_table=sessions_table,
    )


def _apply_table_indexes(ddb: Any, template: Mapping[str, Any], table: str) -> list[str]:
    """Add the template's indexes a table lacks (one saved before they joined it); returns their names.

    One index per update, as DynamoDB allows; the attribute definitions are the template's.
    """
    props = tpl.resources_of_type(template, "AWS::DynamoDB::Table")["FilesTable"]["Properties"]
    described = ddb.describe_table(TableName=table)["Table"]
    have = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in props.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in have:
            continue
        ddb.update_table(TableName=table, AttributeDefinitions=props["AttributeDefinitions"],
                         GlobalSecondaryIndexUpdates=[{"Create": {
                             k: index[k] for k in ("IndexName", "KeySchema", "Projection")}}])
        added.append(index["IndexName"])
    return added


def _apply_table_ttl(ddb: Any, template: Mapping[str, Any], logical: str, table: str) -> None:
    """The time to live the template gives table ``logical``, which moto's CloudFormation skips."""
    spec = tpl.resources_of_type(template, "AWS::DynamoDB::Table")[logical]["Properties"].get(
        "TimeToLiveSpecification")
    if spec is None:
        return
    described = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    wanted = ("ENABLED" if spec["Enabled"] else "DISABLED", spec["AttributeName"])
    if (described.get("TimeToLiveStatus"), described.get("AttributeName")) != wanted:
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={
            "AttributeName": spec["AttributeName"], "Enabled": spec["Enabled"]})


def _apply_bucket_settings(s3: Any, template: Mapping[str, Any], ctx: tpl.Context, bucket: str,
                           portal_origins: Sequence[str] = ()) -> None:
    """Bucket properties moto's CloudFormation ignores, applied as the template says.

    The CORS rules admit ``portal_origins`` when given. (moto's server also
    answers every response without CORS headers with ``*``, through flask-cors;
    but it judges a preflight by the bucket's rules, refusing other origins, as S3 does.)
    """
    (props,) = [tpl.resolve(r["Properties"], ctx)
                for r in tpl.resources_of_type(template, "AWS::S3::Bucket").values()]
    eventbridge = props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration", {})
    if eventbridge.get("EventBridgeEnabled"):
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={
            "Status": props["VersioningConfiguration"]["Status"]})
    if "BucketEncryption" in props:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                      for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "CorsConfiguration" in props:
        rules = [_api_args(rule, _CORS_RULE_PROPS, "CorsRule")
                 for rule in props["CorsConfiguration"]["CorsRules"]]
        if portal_origins:
            rules = [{**rule, "AllowedOrigins": list(portal_origins)} for rule in rules]
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


_CORS_RULE_PROPS = {"Id": "ID", "AllowedOrigins": "AllowedOrigins", "AllowedMethods": "AllowedMethods",
                    "AllowedHeaders": "AllowedHeaders", "ExposedHeaders": "ExposeHeaders",
                    "MaxAge": "MaxAgeSeconds"}

#: The portal's app client in the template (the machine client beside it is the API's).
PORTAL_CLIENT = "UserPoolClient"


def _apply_cognito(cognito: Any, template: Mapping[str, Any], ctx: tpl.Context,
                   resources: dict[str, str]) -> tuple[str, str]:
    """Create the user pool, the portal's app client and the groups from the template.

    The API's resource server and machine client are not made locally: the
    local stand-in has no API Gateway, and moto's pool issues no
    client-credentials tokens (README, "API").
    """
    pools = tpl.resources_of_type(template, "AWS::Cognito::UserPool")
    clients = {name: client for name, client in tpl.resources_of_type(
        template, "AWS::Cognito::UserPoolClient").items() if name == PORTAL_CLIENT}
    if len(pools) != 1 or len(clients) != 1:
        raise ProvisioningError(f"the template must have one user pool and the app client {PORTAL_CLIENT}")
    (pool_name, pool), = pools.items()
    pool_props = tpl.resolve(pool.get("Properties", {}), ctx)
    separate = {k: pool_props.pop(k) for k in _POOL_SEPARATE if k in pool_props}
    pool_args = _api_args(pool_props, _POOL_PROPS, pool_name)
    existing = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"]
                if p["Name"] == pool_args["PoolName"]]
    pool_id = existing[0]["Id"] if existing else cognito.create_user_pool(**pool_args)["UserPool"]["Id"]
    _apply_mfa(cognito, pool_id, pool_args.get("MfaConfiguration", "OFF"), separate.get("EnabledMfas", []),
               pool_name)
    resources[pool_name] = pool_id
    (client_name, app_client), = clients.items()
    client_args = _api_args(tpl.resolve(app_client["Properties"], ctx), _CLIENT_PROPS, client_name)
    found = [c for c in cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
             if c["ClientName"] == client_args["ClientName"]]
    client_id = (found[0]["ClientId"] if found
                 else cognito.create_user_pool_client(**client_args)["UserPoolClient"]["ClientId"])
    for group_name, group in tpl.resources_of_type(template, "AWS::Cognito::UserPoolGroup").items():
        args = _api_args(tpl.resolve(group["Properties"], ctx), _GROUP_PROPS, group_name)
        with contextlib.suppress(cognito.exceptions.GroupExistsException):
            cognito.create_group(**args)
    return pool_id, client_id


def _apply_mfa(cognito: Any, pool_id: str, mfa: str, enabled: list[str], where: str) -> None:
    """The pool's second factors (``EnabledMfas``), which CreateUserPool cannot set.

    Only authenticator apps are supported locally: SMS would need an SNS role
    the local stack does not have. Idempotent, so a pool read back gets it too.
    """
    unknown = sorted(set(enabled) - {"SOFTWARE_TOKEN_MFA"})
    if unknown:
        raise ProvisioningError(f"{where}: EnabledMfas {unknown} are not applied locally; "
                                "teach devstack/provision.py to apply them")
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration=mfa,
        SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in enabled})


def create_demo_users(cognito: Any, pool_id: str, password: str,
                      users: tuple[DemoUser, ...] = DEMO_USERS) -> list[str]:
    """Create the demo accounts that do not exist yet, confirmed, with a permanent password and their group.

    An account that exists (kept from an earlier run) is left as it was: its
    password, groups and second factor may have been changed on purpose.
    Returns the e-mails of the accounts created.
    """
    created = []
    for user in users:
        try:
            cognito.admin_get_user(UserPoolId=pool_id, Username=user.email)
            continue
        except cognito.exceptions.UserNotFoundException:
            pass
        with contextlib.suppress(cognito.exceptions.UsernameExistsException):
            cognito.admin_create_user(
                UserPoolId=pool_id, Username=user.email, MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "email", "Value": user.email},
                                {"Name": "email_verified", "Value": "true"}])
        created.append(user.email)
        try:
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=user.email, Password=password, Permanent=True)
        except cognito.exceptions.InvalidPasswordException as e:
            raise ProvisioningError(
                "DEMO_PASSWORD does not meet the user pool's password policy "
                "(at least 12 characters with upper- and lower-case letters, digits and a symbol)") from e
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user.email, GroupName=user.group)
    return created
