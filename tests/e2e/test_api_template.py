"""The template's API: an HTTP API whose JWT authorizer guards every route the handler serves.

The routes are compared with the OpenAPI document the handler generates, so
a route added in code and not in the template (or the reverse) fails here.
"""

import json

from api import app as api_app
from devstack import template as tpl
from portal.access import RESOURCE_SERVER, Scope

TEMPLATE = tpl.load()
RESOURCES = TEMPLATE["Resources"]
#: The routes anyone may read: the document and the Swagger UI page that shows it.
PUBLIC = {"GET /v1/openapi.json", f"GET {api_app.DOCS_PATH}"}


def props(logical_id: str) -> dict:
    return RESOURCES[logical_id]["Properties"]


def of_type(kind: str) -> dict[str, dict]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def test_every_route_the_handler_serves_is_a_template_route_and_no_other():
    document = json.loads(api_app.openapi_document())
    served = {f"{method.upper()} {path}" for path, ops in document["paths"].items() for method in ops}
    served |= PUBLIC
    routes = {r["Properties"]["RouteKey"] for r in of_type("AWS::ApiGatewayV2::Route").values()}
    assert routes == served


def test_every_route_but_the_document_and_its_page_needs_a_cognito_token():
    for route in of_type("AWS::ApiGatewayV2::Route").values():
        p = route["Properties"]
        if p["RouteKey"] in PUBLIC:
            assert p["AuthorizationType"] == "NONE"
        else:
            assert (p["AuthorizationType"], p["AuthorizerId"]) == ("JWT", {"Ref": "ApiAuthorizer"}), p["RouteKey"]
        assert p["Target"] == {"Fn::Sub": "integrations/${ApiIntegration}"}


def test_the_authorizer_checks_the_pools_issuer_and_both_clients_as_audience():
    p = props("ApiAuthorizer")
    assert p["AuthorizerType"] == "JWT"
    assert p["JwtConfiguration"]["Issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"}
    assert p["JwtConfiguration"]["Audience"] == [{"Ref": "UserPoolClient"}, {"Ref": "MachineClient"}]


def test_the_stage_throttles_and_logs_to_a_group_that_expires():
    stage = props("ApiStage")
    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
                                             "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"}}
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert props("ApiAccessLogGroup")["RetentionInDays"] == 30


def test_browsers_may_call_the_api_from_the_portals_origin_only():
    assert props("HttpApi")["CorsConfiguration"]["AllowOrigins"] == [{"Ref": "PortalOrigin"}]


def test_the_function_runs_the_handler_from_its_own_package():
    p = props("ApiFunction")
    assert p["Handler"] == "api.app.lambda_handler"
    assert p["Code"] == {"S3Bucket": {"Ref": "ExtractorCodeBucket"}, "S3Key": {"Ref": "ApiCodeKey"}}
    assert p["Runtime"] == props("ExtractorFunction")["Runtime"]
    assert p["Architectures"] == props("ExtractorFunction")["Architectures"]
    assert RESOURCES["ApiInvokePermission"]["Properties"]["Principal"] == "apigateway.amazonaws.com"


def test_the_scopes_are_the_ones_the_handler_honours_and_only_the_machine_client_has_them():
    server = props("ApiResourceServer")
    assert server["Identifier"] == RESOURCE_SERVER
    assert {s["ScopeName"] for s in server["Scopes"]} == {s.value for s in Scope}
    machine = props("MachineClient")
    assert machine["AllowedOAuthFlows"] == ["client_credentials"] and machine["GenerateSecret"] is True
    assert set(machine["AllowedOAuthScopes"]) == {f"{RESOURCE_SERVER}/{s.value}" for s in Scope}
    # The portal's client asks for OpenID scopes only, and only with hosted sign-in.
    scopes = props("UserPoolClient").get("AllowedOAuthScopes", {"Fn::If": ["", [], []]})["Fn::If"][1:]
    assert not [s for mode in scopes if isinstance(mode, list) for s in mode if s.startswith(RESOURCE_SERVER)]
