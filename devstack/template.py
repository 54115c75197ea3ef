"""Read ``infra/cloudformation.yaml`` and resolve what the local stack needs.

moto's CloudFormation creates most of the stack but skips some resource types
(Cognito) and some properties (the bucket's EventBridge switch). Those are
applied through the API from the template's own properties, so names and
settings live only in the template. This module loads the YAML (with the
short-form intrinsic tags) and resolves the few intrinsics those properties use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "infra" / "cloudformation.yaml"


class _Loader(yaml.SafeLoader):
    """SafeLoader that turns ``!Ref x`` into ``{"Ref": x}`` and ``!Sub`` into ``Fn::Sub``."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected !{suffix} node", node.start_mark)
    return {name: value}


_Loader.add_multi_constructor("!", _intrinsic)


def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, intrinsics in their long form."""
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    return loaded


class UnsupportedIntrinsic(ValueError):
    """The template uses an intrinsic the local resolver does not know."""


@dataclass(frozen=True)
class Context:
    """What intrinsics resolve against."""

    parameters: Mapping[str, str]
    resources: Mapping[str, str]
    get_att: Callable[[str, str], str]
    mappings: Mapping[str, Any]
    #: The template's ``Conditions`` (what ``Fn::If`` chooses by).
    conditions: Mapping[str, Any] = field(default_factory=dict)


#: What ``Ref: AWS::NoValue`` resolves to: the property (or list item) holding it is left out.
_NO_VALUE = object()


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str],
                     pseudo: Mapping[str, str]) -> dict[str, str]:
    """Parameter defaults, then overrides, then pseudo parameters."""
    values = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values.update(overrides)
    values.update(pseudo)
    return values


_SUB = re.compile(r"\$\{([^}!]+)\}")


def resolve(node: Any, ctx: Context) -> Any:
    """Resolve Ref, Fn::Sub, Fn::GetAtt, Fn::FindInMap and Fn::If (with ``AWS::NoValue``) in ``node``."""
    if isinstance(node, list):
        return [v for v in (resolve(v, ctx) for v in node) if v is not _NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (name, arg), = node.items()
        if name == "Ref":
            return _ref(arg, ctx)
        if name == "Fn::GetAtt":
            return ctx.get_att(arg[0], arg[1])
        if name == "Fn::Sub":
            return _sub(arg, ctx)
        if name == "Fn::FindInMap":
            table, key, attr = (resolve(a, ctx) for a in arg)
            return ctx.mappings[table][key][attr]
        if name == "Fn::If":
            return resolve(arg[1] if condition(arg[0], ctx) else arg[2], ctx)
        if name.startswith("Fn::"):
            raise UnsupportedIntrinsic(f"{name} is not resolved by the local stack")
    resolved = {k: resolve(v, ctx) for k, v in node.items()}
    return {k: v for k, v in resolved.items() if v is not _NO_VALUE}


def condition(name: str, ctx: Context) -> bool:
    """The value of the template's condition ``name`` (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)."""
    return _truth(ctx.conditions[name], ctx)


def _truth(node: Any, ctx: Context) -> bool:
    (name, arg), = node.items()
    if name == "Condition":
        return condition(arg, ctx)
    if name == "Fn::Equals":
        return bool(resolve(arg[0], ctx) == resolve(arg[1], ctx))
    if name == "Fn::Not":
        return not _truth(arg[0], ctx)
    if name in ("Fn::And", "Fn::Or"):
        values = [_truth(a, ctx) for a in arg]
        return all(values) if name == "Fn::And" else any(values)
    raise UnsupportedIntrinsic(f"{name} in a condition is not resolved by the local stack")


def _ref(name: str, ctx: Context) -> Any:
    if name == "AWS::NoValue":
        return _NO_VALUE
    if name in ctx.parameters:
        return ctx.parameters[name]
    if name in ctx.resources:
        return ctx.resources[name]
    raise UnsupportedIntrinsic(f"Ref to unknown {name!r}")


def _sub(arg: Any, ctx: Context) -> str:
    text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(arg[1], ctx))

    def one(match: re.Match[str]) -> str:
        token = match.group(1)
        if token in extra:
            return str(extra[token])
        if "." in token:
            logical, attr = token.split(".", 1)
            return ctx.get_att(logical, attr)
        return str(_ref(token, ctx))

    return _SUB.sub(one, text)


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource, for every resource of ``resource_type``."""
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def lambda_platform(template: Mapping[str, Any]) -> tuple[str, str]:
    """``(architecture, Python version)`` of the extractor function, as the template declares them.

    The package is built for exactly what the function runs, so changing the
    runtime or architecture in the template is the only edit needed.
    """
    function = template["Resources"]["ExtractorFunction"]["Properties"]
    (arch,) = function["Architectures"]
    return arch, str(function["Runtime"]).removeprefix("python")
