"""The local stand-in's template resolver: Fn::If by the template's conditions, AWS::NoValue left out."""

from __future__ import annotations

import pytest

from devstack import template as tpl

CONDITIONS = {
    "Hosted": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Prefix"}, ""]}]},
    "Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "HostedProd": {"Fn::And": [{"Condition": "Hosted"}, {"Condition": "Prod"}]},
    "Either": {"Fn::Or": [{"Condition": "Hosted"}, {"Condition": "Prod"}]},
    "Odd": {"Fn::Contains": [["a"], "a"]},
}
NODE = {"Name": "x", "Flows": {"Fn::If": ["Hosted", ["code"], {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Fn::If": ["HostedProd", "b", {"Ref": "AWS::NoValue"}]}],
        "Level": {"Fn::If": ["Either", "on", "off"]}}


def ctx(**parameters: str) -> tpl.Context:
    return tpl.Context(parameters, {}, lambda *a: "", {}, CONDITIONS)


def test_a_false_condition_leaves_no_value_out_of_mappings_and_lists():
    assert tpl.resolve(NODE, ctx(Prefix="", Env="dev")) == {"Name": "x", "List": ["a"], "Level": "off"}


def test_a_true_condition_chooses_its_value():
    assert tpl.resolve(NODE, ctx(Prefix="acme", Env="prod")) == {
        "Name": "x", "Flows": ["code"], "List": ["a", "b"], "Level": "on"}
    assert tpl.resolve(NODE, ctx(Prefix="", Env="prod"))["Level"] == "on"


def test_a_condition_function_it_does_not_know_is_refused():
    with pytest.raises(tpl.UnsupportedIntrinsic, match="Fn::Contains"):
        tpl.resolve({"Fn::If": ["Odd", 1, 2]}, ctx())
