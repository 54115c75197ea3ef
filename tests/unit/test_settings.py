"""One Settings for every DOCPORTAL_* variable: parsed once, each bad value named, nothing read elsewhere."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from common.settings import ENV_NAMES, STACK_FIELDS, TEMPLATE_PARAMETERS, Settings, SettingsError
from tests.helpers.env import ROOT

STACK = {"AWS_REGION": "eu-west-1", "DOCPORTAL_BUCKET": "b", "DOCPORTAL_TABLE": "t"}


def test_every_field_has_its_variable_and_every_variable_its_field():
    assert {f.name for f in fields(Settings)} == set(ENV_NAMES)


def test_no_other_module_reads_a_docportal_variable_of_its_own():
    """A DOCPORTAL_* name in the code is one of ENV_NAMES: settings.py is the only place that reads them."""
    known = set(ENV_NAMES.values())
    for package in ("common", "extractor", "portal", "devstack", "bench"):
        for path in (ROOT / package).rglob("*.py"):
            text, where = path.read_text(), path.relative_to(ROOT)
            for name in re.findall(r"DOCPORTAL_[A-Z_]+[A-Z]", text):
                assert name in known, f"{where} names {name}, which Settings does not read"
            if where.as_posix() != "common/settings.py":
                assert not re.search(r"(environ|getenv)\b[^\n]*DOCPORTAL_[A-Z]", text), f"{where} reads the environment"


def test_defaults_without_a_stack():
    settings = Settings.from_env({}, need_stack=False)
    assert (settings.max_receive_count, settings.parse_memory_mb, settings.parse_seconds) == (5, 512, 30.0)
    assert (settings.max_parse_mb, settings.upload_max_mb, settings.upload_limit_mb) == (512, None, 512)
    assert (settings.moto_port, settings.portal_port, settings.compact_seconds) == (4566, 8501, 600.0)
    assert settings.upload_formats == () and settings.template_parameters() == {}


def test_a_process_that_needs_the_stack_is_told_every_missing_variable():
    with pytest.raises(SettingsError, match="AWS_REGION, DOCPORTAL_BUCKET, DOCPORTAL_TABLE"):
        Settings.from_env({})
    with pytest.raises(SettingsError, match="DOCPORTAL_TABLE") as caught:
        Settings.from_env({"AWS_DEFAULT_REGION": "eu-west-1", "DOCPORTAL_BUCKET": "b"})
    assert "AWS_REGION" not in str(caught.value)  # the default region counts


def test_values_are_parsed_and_trimmed():
    settings = Settings.from_env({**STACK, "DOCPORTAL_MAX_RECEIVE_COUNT": " 7 ", "DOCPORTAL_PARSE_SECONDS": "2.5",
                                  "DOCPORTAL_UPLOAD_MAX_MB": "20", "DOCPORTAL_UPLOAD_FORMATS": "Word, pdf,word",
                                  "DOCPORTAL_COMPACT_SECONDS": "0", "DOCPORTAL_ENVIRONMENT": "prod"})
    assert (settings.max_receive_count, settings.parse_seconds, settings.upload_limit_mb) == (7, 2.5, 20)
    assert settings.upload_formats == ("word", "pdf") and settings.compact_seconds == 0
    assert settings.upload_limit_variable == "DOCPORTAL_UPLOAD_MAX_MB"
    assert settings.template_parameters() == {"Environment": "prod"}


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("DOCPORTAL_MAX_RECEIVE_COUNT", "five", "DOCPORTAL_MAX_RECEIVE_COUNT must be a whole number, not 'five'"),
    ("DOCPORTAL_PARSE_MEMORY_MB", "0", "DOCPORTAL_PARSE_MEMORY_MB must be at least 1, not 0"),
    ("DOCPORTAL_MOTO_PORT", "45.66", "DOCPORTAL_MOTO_PORT must be a whole number"),
    ("DOCPORTAL_PARSE_SECONDS", "soon", "DOCPORTAL_PARSE_SECONDS must be a number of seconds"),
    ("DOCPORTAL_PARSE_SECONDS", "0", "DOCPORTAL_PARSE_SECONDS must be at least 0.001 seconds"),
    ("DOCPORTAL_COMPACT_SECONDS", "nan", "DOCPORTAL_COMPACT_SECONDS must be at least 0 seconds"),
    ("DOCPORTAL_UPLOAD_FORMATS", "pdf,spreadsheets", "unknown families spreadsheets"),
])
def test_an_unusable_value_is_refused_under_its_own_name(variable, value, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env({**STACK, variable: value})
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env({variable: value}, need_stack=False)  # refused whatever else is missing


def test_a_named_stack_is_not_looked_up_by_a_process_that_needs_none():
    settings = Settings.from_env({"DOCPORTAL_STACK": "docportal-prod"}, need_stack=False)
    assert settings.stack == "docportal-prod" and settings.bucket == ""


def test_where_the_stack_is_round_trips_through_the_environment_and_a_file(tmp_path):
    settings = Settings.from_env({**STACK, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "DOCPORTAL_QUEUE_URL": "q",
                                  "DOCPORTAL_MAX_RECEIVE_COUNT": "3"})
    env = settings.to_env()
    assert set(env) == {ENV_NAMES[n] for n in STACK_FIELDS if getattr(settings, n)} | {"AWS_DEFAULT_REGION"}
    assert Settings.from_env(env).to_env() == env
    settings.dump(tmp_path / "stack.json")
    loaded = Settings.load(tmp_path / "stack.json")
    assert loaded.to_env() == env and loaded.max_receive_count == 5  # only where the stack is is written
    with pytest.raises(SettingsError, match="is `make run` running"):
        Settings.load(tmp_path / "missing.json")


def test_the_issuer_and_keys_follow_the_pool_and_the_stand_in():
    settings = Settings(region="eu-west-1", user_pool_id="eu-west-1_abc")
    assert settings.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert settings.jwks_url == f"{settings.issuer}/.well-known/jwks.json"
    local = Settings(region="us-east-1", user_pool_id="p", endpoint_url="http://127.0.0.1:4566/")
    assert local.jwks_url == "http://127.0.0.1:4566/p/.well-known/jwks.json"


def test_every_deploy_setting_names_a_parameter_of_the_template():
    from devstack import template

    parameters = template.load()["Parameters"]
    assert set(TEMPLATE_PARAMETERS) <= set(parameters)
    chosen = Settings.from_env({"DOCPORTAL_THREAT_PROTECTION": "audit",
                                "DOCPORTAL_UPLOADS_INTELLIGENT_TIERING": "on"}, need_stack=False)
    assert chosen.template_parameters() == {"ThreatProtection": "audit", "UploadsIntelligentTiering": "on"}
    for name, value in chosen.template_parameters().items():
        assert value in parameters[name]["AllowedValues"]


HOSTED = {"DOCPORTAL_SIGN_IN": "hosted", "DOCPORTAL_HOSTED_DOMAIN": "https://sso.auth.eu-west-1.amazoncognito.com",
          "DOCPORTAL_CALLBACK_URL": "https://portal.example/_docportal/callback",
          "DOCPORTAL_SIGNOUT_URL": "https://portal.example/"}


def test_sign_in_is_the_form_unless_hosted_is_asked_for():
    assert Settings.from_env({}, need_stack=False).sign_in == "form"
    assert Settings.from_env(HOSTED, need_stack=False).sign_in == "hosted"
    local = {**HOSTED, "DOCPORTAL_CALLBACK_URL": "http://localhost:8501/_docportal/callback"}
    assert Settings.from_env(local, need_stack=False).callback_url.startswith("http://localhost")


@pytest.mark.parametrize(("change", "message"), [
    ({"DOCPORTAL_SIGN_IN": "saml"}, "DOCPORTAL_SIGN_IN must be one of form, hosted"),
    ({"DOCPORTAL_HOSTED_DOMAIN": ""}, "DOCPORTAL_SIGN_IN=hosted needs DOCPORTAL_HOSTED_DOMAIN"),
    ({"DOCPORTAL_CALLBACK_URL": "", "DOCPORTAL_SIGNOUT_URL": ""},
     "needs DOCPORTAL_CALLBACK_URL, DOCPORTAL_SIGNOUT_URL"),
    ({"DOCPORTAL_HOSTED_DOMAIN": "http://sso.example"}, "DOCPORTAL_HOSTED_DOMAIN must be an https:// URL"),
    ({"DOCPORTAL_CALLBACK_URL": "https://portal.example/callback"},
     "DOCPORTAL_CALLBACK_URL must have the path /_docportal/callback"),
    ({"DOCPORTAL_SIGNOUT_URL": "https://portal.example/?next=x"}, "DOCPORTAL_SIGNOUT_URL must be a plain URL"),
    ({"DOCPORTAL_HOSTED_DOMAIN": "https://sso.example/login"}, "DOCPORTAL_HOSTED_DOMAIN must have the path"),
])
def test_an_unusable_hosted_sign_in_is_refused_at_start(change, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env({**HOSTED, **change}, need_stack=False)


def test_hosted_sign_in_is_deployed_from_the_same_variables_the_portal_reads():
    chosen = Settings.from_env({**HOSTED, "DOCPORTAL_HOSTED_DOMAIN_PREFIX": "acme-docs"}, need_stack=False)
    assert chosen.template_parameters() == {"HostedDomainPrefix": "acme-docs",
                                            "CallbackUrls": "https://portal.example/_docportal/callback",
                                            "SignOutUrls": "https://portal.example/"}
