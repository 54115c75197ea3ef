"""Attacks on what the stack keeps and who may reach it (infra/cloudformation.yaml, the portal's config)."""

from __future__ import annotations

import tomllib

from devstack import template as tpl
from portal.export.service import KEEP_DAYS
from tests.helpers.env import ROOT

TEMPLATE = tpl.load()
RESOURCES = TEMPLATE["Resources"]


def rules() -> dict[str, dict]:
    return {r["Id"]: r for r in RESOURCES["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}


def test_an_export_is_gone_a_day_after_it_was_written():
    """Attack: a CSV export (e-mails, authors and GPS of every user) leaks, or its link is found, weeks later;
    the object is still there because exports were kept forever."""
    exports = [r for r in rules().values() if r.get("Prefix") == "exports/"]
    assert len(exports) == 1
    (rule,) = exports
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == KEEP_DAYS == 1  # and the Export page says so
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}  # the versioned bucket keeps no copy


def test_a_page_on_the_portals_origin_cannot_write_to_the_bucket_through_cors():
    """Attack: script on the portal's origin (an XSS, a rogue page) uses the bucket's CORS rule to PUT,
    DELETE or POST objects, with any header. The Upload page posts presigned forms, so POST is admitted,
    but a POST stores nothing without a form the portal signed for one key, size and type (S3 checks the
    policy: tests/security/test_api_attacks.py); PUT, DELETE and extra request headers stay out."""
    (rule,) = RESOURCES["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST"]
    assert "AllowedHeaders" not in rule  # a form post needs none beyond the safelisted ones


def test_the_shortest_retention_the_original_design_asked_for_can_be_chosen():
    """Not an attack but the same rule: RetentionDays could not be 7, the period the design asked for."""
    assert "7" in TEMPLATE["Parameters"]["RetentionDays"]["AllowedValues"]
    assert TEMPLATE["Mappings"]["RetentionRule"]["7"] == {"Status": "Enabled", "Days": 7}


def test_the_portal_shows_no_traceback_to_anyone():
    """Attack: an anonymous browser triggers an error (e.g. AWS_DEFAULT_REGION unset) and reads a traceback
    with file paths; Streamlit shows full error details unless told otherwise."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_the_portals_aws_identity_is_in_the_template_and_reaches_only_its_stack():
    """Attack: the portal runs with a hand-made role broader than it needs, because its policy lived only in
    a document; the role belongs in the stack, scoped to the stack's bucket prefixes, table and pool."""
    role = RESOURCES["PortalTaskRole"]["Properties"]
    (principal,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert principal["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert "aws:SourceAccount" in principal["Condition"]["StringEquals"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in str(statement["Action"])
        assert statement["Resource"] != "*"
    s3 = [s["Resource"] for s in statements if any(a.startswith("s3:") for a in s["Action"])]
    assert sorted(s3, key=str) == [{"Fn::Sub": "${UploadsBucket.Arn}/exports/*"},
                                   {"Fn::Sub": "${UploadsBucket.Arn}/thumbnails/*"},
                                   {"Fn::Sub": "${UploadsBucket.Arn}/uploads/*"}]
    assert "PortalRoleArn" in TEMPLATE["Outputs"]


def test_uploads_can_move_to_intelligent_tiering():
    """Item 9's other half: an operator can let S3 move rarely read uploads to cheaper tiers."""
    parameter = TEMPLATE["Parameters"]["UploadsIntelligentTiering"]
    assert parameter["Default"] == "off" and sorted(parameter["AllowedValues"]) == ["off", "on"]
    rule = rules()["tier-uploads"]
    assert rule["Prefix"] == "uploads/"
    assert rule["Status"] == {"Fn::FindInMap": ["TieringRule", {"Ref": "UploadsIntelligentTiering"}, "Status"]}
    assert rule["Transitions"] == [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 0}]
    assert TEMPLATE["Mappings"]["TieringRule"] == {"off": {"Status": "Disabled"}, "on": {"Status": "Enabled"}}


def test_the_user_pool_cannot_be_deleted_by_accident_in_production():
    """Attack (or accident): deleting the prod pool, or the stack with a changed DeletionPolicy, would lock
    every user out for good; Cognito's deletion protection refuses it."""
    pool = RESOURCES["UserPool"]["Properties"]
    assert pool["DeletionProtection"] == {"Fn::FindInMap": ["EnvironmentRule", {"Ref": "Environment"},
                                                             "PoolDeletionProtection"]}
    assert {env: rule["PoolDeletionProtection"] for env, rule in TEMPLATE["Mappings"]["EnvironmentRule"].items()} \
        == {"local": "INACTIVE", "dev": "INACTIVE", "staging": "INACTIVE", "prod": "ACTIVE"}


def test_credential_stuffing_meets_cognitos_threat_protection():
    """Attack: sign-ins with leaked passwords or from risky places; Cognito's threat protection (enforced)
    blocks them, and is on unless an operator turns it off."""
    parameter = TEMPLATE["Parameters"]["ThreatProtection"]
    assert parameter["Default"] == "enforced" and sorted(parameter["AllowedValues"]) == ["audit", "enforced", "off"]
    pool = RESOURCES["UserPool"]["Properties"]
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": {
        "Fn::FindInMap": ["ThreatProtectionRule", {"Ref": "ThreatProtection"}, "Mode"]}}
    assert pool["UserPoolTier"] == {"Fn::FindInMap": ["ThreatProtectionRule", {"Ref": "ThreatProtection"}, "Tier"]}
    modes = TEMPLATE["Mappings"]["ThreatProtectionRule"]
    assert modes == {"off": {"Mode": "OFF", "Tier": "ESSENTIALS"}, "audit": {"Mode": "AUDIT", "Tier": "PLUS"},
                     "enforced": {"Mode": "ENFORCED", "Tier": "PLUS"}}
