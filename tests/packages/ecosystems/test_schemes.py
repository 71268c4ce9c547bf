"""Every ecosystem behind the one interface: the registry, the protocol, the shared algebra."""

from __future__ import annotations

from typing import Any

import pytest

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages.ecosystems import MODULES, scheme
from tuskops.packages.ecosystems.base import Constraint, VersionScheme
from tuskops.packages.versions import Ranges

#: For each ecosystem: (a constraint in its own syntax, versions inside, versions outside).
CASES: dict[str, tuple[str, list[str], list[str]]] = {
    "npm": ("^1.2.3", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2", "1.3.0-beta.1"]),
    "pypi": (">=1.2.3,<2", ["1.2.3", "1.9"], ["2.0", "1.2.2", "1.5rc1"]),
    "cargo": ("1.2.3", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2", "1.3.0-beta.1"]),
    "maven": ("[1.2.3,2.0)", ["1.2.3", "1.9"], ["2.0", "1.2.2"]),
    "nuget": ("[1.2.3, 2.0.0)", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2", "1.5.0-beta"]),
    "rubygems": ("~> 1.2", ["1.2.3", "1.9"], ["2.0", "1.1"]),
    "composer": ("^1.2.3", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2"]),
}


def test_every_registered_ecosystem_has_cases() -> None:
    assert sorted(CASES) == sorted(MODULES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_scheme_reads_its_own_syntax(name: str) -> None:
    eco: VersionScheme[Any] = scheme(name)
    assert eco.name == name
    text, inside, outside = CASES[name]
    constraint: Constraint[Any] = eco.parse_constraint(text)
    assert constraint.text.strip() == text
    assert isinstance(constraint.ranges, Ranges)
    for version in inside:
        assert constraint.contains(eco.parse_version(version)), (name, version)
    for version in outside:
        assert not constraint.contains(eco.parse_version(version)), (name, version)


@pytest.mark.parametrize("name", sorted(CASES))
def test_scheme_orders_versions(name: str) -> None:
    eco = scheme(name)
    low, high = eco.parse_version("1.2.3"), eco.parse_version("1.10.0")
    assert low < high  # numeric, not lexical, everywhere


@pytest.mark.parametrize("name", sorted(CASES))
def test_set_operations_agree_with_contains(name: str) -> None:
    eco = scheme(name)
    text, inside, _ = CASES[name]
    constraint = eco.parse_constraint(text)
    complement = constraint.complement()
    both = constraint.intersection(complement)
    assert both.is_empty()
    for version in map(eco.parse_version, inside):
        assert not complement.contains(version)
        assert constraint.union(complement).contains(version)


#: Maven reads any other text as a (soft) version, so its bad input is a broken range.
BAD = {"maven": "[1.0,2.0"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_constraints_are_syntax_errors_with_a_caret(name: str) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        scheme(name).parse_constraint(BAD.get(name, ">=>1.0 @@"))
    assert "^" in str(info.value)
    assert info.value.ecosystem == name


def test_aliases_and_unknown_names() -> None:
    assert scheme("pip") is scheme("pypi")
    assert scheme("gem") is scheme("rubygems")
    with pytest.raises(PackageError, match="unknown ecosystem 'cpan'"):
        scheme("cpan")


@pytest.mark.parametrize(
    ("ecosystem", "stable", "pre"),
    [
        ("npm", ["1.0.0", "2.3.4+build.1"], ["1.0.0-beta.1", "2.0.0-0"]),
        ("pypi", ["1.0", "1.0.post1"], ["1.0a1", "1.0rc2", "1.0.dev3"]),
        ("cargo", ["1.0.0"], ["1.0.0-alpha.1"]),
        (
            "maven",
            ["1.0", "5.0.0.Final", "1.0.0.RELEASE", "33.0.0-jre"],
            ["1.0-SNAPSHOT", "2.0.0-M1", "1.0rc1", "3.0.0-alpha1", "2.0-b3"],
        ),
        ("nuget", ["1.0.0", "1.0.0.1"], ["1.0.0-beta", "2.0.0-rc.1"]),
        ("rubygems", ["1.0", "7.1.3.4"], ["1.0.a", "2.0.0.rc1", "1.0.pre"]),
        ("composer", ["1.0.0", "v2.1"], ["1.0.0-RC1", "2.0.0-beta2", "dev-main", "2.0.x-dev"]),
    ],
)
def test_is_prerelease(ecosystem: str, stable: list[str], pre: list[str]) -> None:
    s = scheme(ecosystem)
    assert [s.is_prerelease(s.parse_version(v)) for v in stable] == [False] * len(stable)
    assert [s.is_prerelease(s.parse_version(v)) for v in pre] == [True] * len(pre)
