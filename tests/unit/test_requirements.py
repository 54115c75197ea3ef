"""Each deployable part installs what it imports, and nothing of the others' (requirements-*.txt).

The portal's container image installs requirements-portal.txt and copies
``common/`` and ``portal/``; the Lambda zip installs requirements-lambda.txt
beside ``common/`` and ``extractor/`` (boto3 comes with Lambda's runtime).
Every third-party module those packages import must come from a distribution
that file installs (its dependencies included), and the portal's must not
pull in the local stand-in or the extractor's parsers.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from importlib import metadata

import grimp
import pytest
from packaging.requirements import Requirement

from tests.helpers.env import ROOT

#: What the Lambda runtime brings: the extractor's zip leaves these out (devstack/package.py).
LAMBDA_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"})


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _requirements(file: str) -> set[str]:
    """The distributions a requirements file names, following ``-r`` includes."""
    names: set[str] = set()
    for line in (ROOT / file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= _requirements(line[3:].strip())
        elif line:
            names.add(_name(Requirement(line).name))
    return names


@cache
def _dependencies(distribution: str) -> frozenset[str]:
    """``distribution`` and everything it installs, as pip would on this machine."""
    found = {distribution}
    for spec in metadata.requires(distribution) or ():
        requirement = Requirement(spec)
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        found |= _dependencies(_name(requirement.name))
    return frozenset(found)


def installed_by(file: str) -> set[str]:
    """Every distribution installing ``file`` brings, dependencies included."""
    out: set[str] = set()
    for name in _requirements(file):
        out |= _dependencies(name)
    return out


def imported_distributions(*packages: str) -> dict[str, set[str]]:
    """Third-party distributions the packages import (anywhere, type-checking imports aside), by module."""
    graph = grimp.build_graph(*packages, include_external_packages=True, exclude_type_checking_imports=True)
    owners = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for module in graph.modules:
        top = module.split(".")[0]
        if top in packages or top in sys.stdlib_module_names:
            continue
        for importer in graph.find_modules_that_directly_import(module):
            for distribution in owners.get(top, [top]):
                found.setdefault(_name(distribution), set()).add(importer)
    return found


def test_the_portal_image_has_every_distribution_the_portal_imports():
    available = installed_by("requirements-portal.txt")
    missing = {d: sorted(m) for d, m in imported_distributions("portal", "common").items() if d not in available}
    assert missing == {}


@pytest.mark.parametrize("distribution", ["moto", "pypdf", "pypdfium2", "mutagen", "filetype", "pillow-heif",
                                          "aws-lambda-powertools", "pyyaml", "pytest"])
def test_the_portal_image_installs_neither_the_stand_in_nor_the_extractors_parsers(distribution):
    assert distribution not in installed_by("requirements-portal.txt")


def test_the_lambda_zip_has_every_distribution_the_extractor_imports():
    available = installed_by("requirements-lambda.txt") | LAMBDA_RUNTIME
    missing = {d: sorted(m) for d, m in imported_distributions("extractor", "common").items() if d not in available}
    assert missing == {}


@pytest.mark.parametrize("distribution", ["moto", "streamlit", "pandas", "plotly", "pytest"])
def test_the_lambda_zip_installs_nothing_of_the_portal_or_the_stand_in(distribution):
    assert distribution not in installed_by("requirements-lambda.txt")


def api_imports() -> dict[str, set[str]]:
    """Third-party distributions the API's modules import, and those of ours they import, by module."""
    graph = grimp.build_graph("api", "portal", "common", include_external_packages=True,
                              exclude_type_checking_imports=True)
    used = graph.find_upstream_modules("api", as_package=True) | {m for m in graph.modules if m.startswith("api")}
    owners = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for module in used:
        top = module.split(".")[0]
        if top in ("api", "portal", "common") or top in sys.stdlib_module_names:
            continue
        for importer in graph.find_modules_that_directly_import(module) & used:
            for distribution in owners.get(top, [top]):
                found.setdefault(_name(distribution), set()).add(importer)
    return found


def test_the_api_zip_has_every_distribution_the_api_imports():
    available = installed_by("requirements-api.txt") | LAMBDA_RUNTIME
    missing = {d: sorted(m) for d, m in api_imports().items() if d not in available}
    assert missing == {}


@pytest.mark.parametrize("distribution", ["moto", "streamlit", "plotly", "pypdf", "pillow", "pytest"])
def test_the_api_zip_installs_neither_the_portals_pages_nor_the_parsers_nor_the_stand_in(distribution):
    assert distribution not in installed_by("requirements-api.txt")


def test_the_image_copies_only_what_the_portal_imports():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (\S+)", dockerfile, flags=re.M)
    assert copied == ["requirements-portal.txt", "common", "portal", ".streamlit"]
    assert "pip install --no-cache-dir -r requirements-portal.txt -c constraints.txt" in dockerfile


def test_everything_make_run_needs_is_the_four_parts():
    assert _requirements("requirements.txt") == (_requirements("requirements-portal.txt")
                                                 | _requirements("requirements-lambda.txt")
                                                 | _requirements("requirements-api.txt")
                                                 | _requirements("requirements-local.txt"))
