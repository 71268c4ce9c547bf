"""Composer versions and constraints.

The tables restate the examples of getcomposer.org's "Versions and constraints" article and
composer/semver's VersionParserTest (normalisation, constraint parsing, failures) as data;
property tests check the order and that set operations agree with membership.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuskops.errors import VersionSyntaxError
from tuskops.packages.ecosystems import scheme
from tuskops.packages.ecosystems.base import VersionScheme
from tuskops.packages.ecosystems.composer import (
    SCHEME,
    TOP,
    ComposerConstraint,
    ComposerScheme,
    ComposerVersion,
    parse_stability,
)
from tuskops.packages.versions import Ranges


def v(text: str) -> ComposerVersion:
    return SCHEME.parse_version(text)


def c(text: str) -> ComposerConstraint:
    return SCHEME.parse_constraint(text)


def n(normalized: str) -> ComposerVersion:
    return ComposerVersion.of(normalized)


def test_registry() -> None:
    assert scheme("composer") is SCHEME
    assert scheme("packagist") is SCHEME
    assert isinstance(SCHEME, ComposerScheme)
    assert SCHEME.name == "composer"


def test_protocols() -> None:
    versions: VersionScheme[ComposerVersion] = SCHEME
    # Not annotated as base.Constraint: its ``text: str`` asks for a settable attribute, and
    # constraints are frozen (base.py would need ``text`` as a read-only property).
    constraint = c("1.0")
    assert isinstance(versions.parse_constraint("1.0"), ComposerConstraint)
    assert constraint.contains(versions.parse_version("1.0"))


# --- normalisation ----------------------------------------------------------------------------

NORMALIZED = [
    ("1.0.0", "1.0.0.0"),
    ("1.2.3.4", "1.2.3.4"),
    ("1.2", "1.2.0.0"),
    ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
    ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
    ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
    ("1.0.0-rc1", "1.0.0.0-RC1"),
    ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
    ("1.0-dev", "1.0.0.0-dev"),
    ("0", "0.0.0.0"),
    ("10.4.13-beta", "10.4.13.0-beta"),
    ("10.4.13beta2", "10.4.13.0-beta2"),
    ("10.4.13beta.2", "10.4.13.0-beta2"),
    ("v1.13.11-beta.0", "1.13.11.0-beta0"),
    ("1.13.11.0-beta0", "1.13.11.0-beta0"),
    ("10.4.13-b", "10.4.13.0-beta"),
    ("10.4.13-b5", "10.4.13.0-beta5"),
    ("1.0.0-beta2", "1.0.0.0-beta2"),
    ("1.0-p1", "1.0.0.0-patch1"),
    ("1.0-stable", "1.0.0.0"),
    ("v1.0.0", "1.0.0.0"),
    ("v1.2.3", "1.2.3.0"),
    ("2010.01", "2010.01.0.0"),
    ("2010.01.02", "2010.01.02.0"),
    ("2010.1.555", "2010.1.555.0"),
    ("2010.10.200", "2010.10.200.0"),
    ("v20100102", "20100102"),
    ("2010-01-02", "2010.01.02"),
    ("2012.06.07", "2012.06.07.0"),
    ("2010-01-02.5", "2010.01.02.5"),
    ("20100102-203040", "20100102.203040"),
    ("20100102203040-10", "20100102203040.10"),
    ("20100102-203040-p1", "20100102.203040-patch1"),
    ("201903.0", "201903.0"),
    ("201903.x-dev", "201903.9999999.9999999.9999999-dev"),
    ("201903.0-p2", "201903.0-patch2"),
    ("dev-master", "dev-master"),
    ("master", "dev-master"),
    ("dev-trunk", "dev-trunk"),
    ("dev-main", "dev-main"),
    ("1.x-dev", "1.9999999.9999999.9999999-dev"),
    ("2.1.*-dev", "2.1.9999999.9999999-dev"),
    ("dev-feature-foo", "dev-feature-foo"),
    ("DEV-FOOBAR", "dev-FOOBAR"),
    ("dev-feature/foo", "dev-feature/foo"),
    ("dev-feature+issue-1", "dev-feature+issue-1"),
    ("dev-master as 1.0.0", "dev-master"),
    ("dev-load-varnish-only-when-used as ^2.0", "dev-load-varnish-only-when-used"),
    ("1.0.0+foo@dev", "1.0.0.0"),
    ("dev-load-varnish-only-when-used@stable", "dev-load-varnish-only-when-used"),
    ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
    ("1.0.0+foo", "1.0.0.0"),
    ("1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"),
    ("1.0.0-alpha2.1+foo", "1.0.0.0-alpha2.1"),
    ("1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"),
    ("1.0.0+foo as 2.0", "1.0.0.0"),
    ("00.01.03.04", "00.01.03.04"),
    ("000.001.003.004", "000.001.003.004"),
    ("0.000.103.204", "0.000.103.204"),
    ("0700", "0700.0.0.0"),
    ("041.x-dev", "041.9999999.9999999.9999999-dev"),
    ("dev-041.003", "dev-041.003"),
    ("dev-1.0.0-dev<1.0.5-dev", "dev-1.0.0-dev<1.0.5-dev"),
    ("dev-foo bar", "dev-foo bar"),
    (" 1.0.0", "1.0.0.0"),
    ("1.0.0 ", "1.0.0.0"),
    ("99999", "99999.0.0.0"),
    ("20230131.0.0", "20230131.0.0"),
    ("202301310000.0.0", "202301310000.0.0"),
    ("20100102", "20100102"),
    ("20100102.0", "20100102.0"),
    ("20100102.1.0", "20100102.1.0"),
    ("20100102.0.3", "20100102.0.3"),
    ("100000", "100000"),
    ("2010-01-02-10-20-30.0.3", "2010.01.02.10.20.30.0.3"),
    ("2010-01-02-10-20-30.5", "2010.01.02.10.20.30.5"),
    ("20100102.x-dev", "20100102.9999999.9999999.9999999-dev"),
    ("20100102.203040.x-dev", "20100102.203040.9999999.9999999-dev"),
]


@pytest.mark.parametrize(("text", "normalized"), NORMALIZED)
def test_normalize(text: str, normalized: str) -> None:
    assert v(text).normalized == normalized
    assert v(text).pretty == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "1.0.0-meh",
        "1.0.0.0.0",
        "feature-foo",
        "1.0.0+foo bar",
        "1.0.1-SNAPSHOT",
        "1.0.0<1.0.5-dev",
        "1.0.0-dev<1.0.5-dev",
        "foo bar-dev",
        "1.0 .2",
        " as ",
        "as 1.0",
        "foo as 1.0",
        " as 1.2",
        "^",
        "~1",
        "^1",
        "1.*",
        "20100102.0.3.4",
        "100000.0.0.0",
        "2023013.0.0",
        "202301311.0.0",
        "20230131000.0.0",
        "2023013100000.0.0",
    ],
)
def test_normalize_failures(text: str) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        v(text)
    assert info.value.ecosystem == "composer"
    assert "Invalid version string" in info.value.reason


@pytest.mark.parametrize(
    ("text", "stability"),
    [
        ("1", "stable"),
        ("1.0", "stable"),
        ("3.2.1", "stable"),
        ("v3.2.1", "stable"),
        ("v2.0.x-dev", "dev"),
        ("v2.0.x-dev#abc123", "dev"),
        ("v2.0.x-dev#trunk/@123", "dev"),
        ("3.0-RC2", "RC"),
        ("dev-master", "dev"),
        ("3.1.2-dev", "dev"),
        ("dev-feature+issue-1", "dev"),
        ("3.1.2-p1", "stable"),
        ("3.1.2-pl2", "stable"),
        ("3.1.2-patch", "stable"),
        ("3.1.2-alpha5", "alpha"),
        ("3.1.2-beta", "beta"),
        ("2.0B1", "beta"),
        ("1.2.0a1", "alpha"),
        ("1.2_a1", "alpha"),
        ("2.0.0rc1", "RC"),
        ("1.0.0-alpha11+cs-1.1.0", "alpha"),
        ("1-2_dev", "dev"),
    ],
)
def test_stability(text: str, stability: str) -> None:
    assert parse_stability(text) == stability


# --- ordering ---------------------------------------------------------------------------------


def test_stability_order() -> None:
    chain = [
        "1.0.0-dev",
        "1.0.0-alpha1",
        "1.0.0-alpha2",
        "1.0.0-beta1",
        "1.0.0-beta2",
        "1.0.0-beta10",
        "1.0.0-RC1-dev",
        "1.0.0-RC1",
        "1.0.0",
        "1.0.0-patch1",
        "1.0.0-p2",
        "1.0.1-dev",
        "1.0.1",
        "1.1",
        "1.x-dev",
        "2.0",
        "20100102",
    ]
    for left, right in itertools.pairwise(chain):
        assert v(left) < v(right), (left, right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("1.0", "1.0.0.0"),
        ("v1.0.0", "1.0"),
        ("1.0.0-a1", "1.0.0-alpha1"),
        ("1.0.0-b2", "1.0.0-beta.2"),
        ("1.0.0-pl1", "1.0.0-patch1"),
        ("01.2", "1.2"),
        ("master", "dev-master"),
    ],
)
def test_equal_versions(left: str, right: str) -> None:
    assert v(left) == v(right)
    assert hash(v(left)) == hash(v(right))


def test_branches_sit_above_numbers_and_top() -> None:
    assert v("99999999") < TOP < v("dev-a") < v("dev-main")
    assert v("dev-main").is_branch
    assert v("dev-main").branch == "main"
    assert v("1.x-dev").branch is None


# --- constraints ------------------------------------------------------------------------------

PARSED = [
    # composer/semver simple constraints
    ("<>1.0.0", ["!=1.0.0.0"]),
    ("!=1.0.0", ["!=1.0.0.0"]),
    (">1.0.0", [">1.0.0.0"]),
    ("<1.2.3.4", ["<1.2.3.4-dev"]),
    ("<=1.2.3", ["<=1.2.3.0"]),
    (">=1.2.3", [">=1.2.3.0-dev"]),
    ("=1.2.3", ["=1.2.3.0"]),
    ("==1.2.3", ["=1.2.3.0"]),
    ("1.2.3", ["=1.2.3.0"]),
    ("=1.0", ["=1.0.0.0"]),
    ("1.2.3b5", ["=1.2.3.0-beta5"]),
    ("1.2.3a1", ["=1.2.3.0-alpha1"]),
    ("1.2.3p1234", ["=1.2.3.0-patch1234"]),
    ("1.2.3pl1234", ["=1.2.3.0-patch1234"]),
    (">= 1.2.3", [">=1.2.3.0-dev"]),
    ("< 1.2.3", ["<1.2.3.0-dev"]),
    ("> 1.2.3", [">1.2.3.0"]),
    ("dev-master", ["=dev-master"]),
    ("dev-feature-a", ["=dev-feature-a"]),
    ("dev-CAPS", ["=dev-CAPS"]),
    ("dev-master as 1.0.0", ["=dev-master"]),
    ("<1.2.3.4-stable", ["<1.2.3.4"]),
    ("<=3.0@dev", ["<=3.0.0.0-dev"]),
    (">=1.0@beta", [">=1.0.0.0-beta"]),
    ("1.0@beta", ["=1.0.0.0"]),
    ("dev-foo#bar", ["=dev-foo"]),
    ("1.0.x-dev#abcd123", ["=1.0.9999999.9999999-dev"]),
    ("1.x-dev", ["=1.9999999.9999999.9999999-dev"]),
    ("<1.0-RC1", ["<1.0.0.0-RC1-dev"]),  # the modifier check is case-sensitive
    ("<1.0-beta1", ["<1.0.0.0-beta1"]),
    ("foo-dev", ["=dev-foo"]),
    # wildcards
    ("v2.*", [">=2.0.0.0-dev", "<3.0.0.0-dev"]),
    ("2.*.*", [">=2.0.0.0-dev", "<3.0.0.0-dev"]),
    ("20.*", [">=20.0.0.0-dev", "<21.0.0.0-dev"]),
    ("2.0.*", [">=2.0.0.0-dev", "<2.1.0.0-dev"]),
    ("2.x", [">=2.0.0.0-dev", "<3.0.0.0-dev"]),
    ("2.x.x", [">=2.0.0.0-dev", "<3.0.0.0-dev"]),
    ("2.2.X", [">=2.2.0.0-dev", "<2.3.0.0-dev"]),
    ("2.10.x", [">=2.10.0.0-dev", "<2.11.0.0-dev"]),
    ("2.1.3.*", [">=2.1.3.0-dev", "<2.1.4.0-dev"]),
    ("0.*", ["<1.0.0.0-dev"]),
    ("0.*.*", ["<1.0.0.0-dev"]),
    ("0.x", ["<1.0.0.0-dev"]),
    ("1.2.*", [">=1.2.0.0-dev", "<1.3.0.0-dev"]),
    ("v*", [">=0.0.0.0-dev"]),
    ("*.*", [">=0.0.0.0-dev"]),
    # tilde
    ("~v1", [">=1.0.0.0-dev", "<2.0.0.0-dev"]),
    ("~1", [">=1.0.0.0-dev", "<2.0.0.0-dev"]),
    ("~1.0", [">=1.0.0.0-dev", "<2.0.0.0-dev"]),
    ("~1.0.0", [">=1.0.0.0-dev", "<1.1.0.0-dev"]),
    ("~1.2", [">=1.2.0.0-dev", "<2.0.0.0-dev"]),
    ("~1.2.3", [">=1.2.3.0-dev", "<1.3.0.0-dev"]),
    ("~1.2.3.4", [">=1.2.3.4-dev", "<1.2.4.0-dev"]),
    ("~1.2-beta", [">=1.2.0.0-beta", "<2.0.0.0-dev"]),
    ("~1.2-b2", [">=1.2.0.0-beta2", "<2.0.0.0-dev"]),
    ("~1.2-BETA2", [">=1.2.0.0-beta2", "<2.0.0.0-dev"]),
    ("~1.2.2-dev", [">=1.2.2.0-dev", "<1.3.0.0-dev"]),
    ("~1.2.2-stable", [">=1.2.2.0", "<1.3.0.0-dev"]),
    ("~1.x-dev", [">=1.9999999.9999999.9999999-dev", "<2.0.0.0-dev"]),
    # caret
    ("^v1", [">=1.0.0.0-dev", "<2.0.0.0-dev"]),
    ("^0", [">=0.0.0.0-dev", "<1.0.0.0-dev"]),
    ("^0.0", [">=0.0.0.0-dev", "<0.1.0.0-dev"]),
    ("^1.2", [">=1.2.0.0-dev", "<2.0.0.0-dev"]),
    ("^1.2.3-beta.2", [">=1.2.3.0-beta2", "<2.0.0.0-dev"]),
    ("^1.2.3.4", [">=1.2.3.4-dev", "<2.0.0.0-dev"]),
    ("^1.2.3", [">=1.2.3.0-dev", "<2.0.0.0-dev"]),
    ("^0.2.3", [">=0.2.3.0-dev", "<0.3.0.0-dev"]),
    ("^0.2", [">=0.2.0.0-dev", "<0.3.0.0-dev"]),
    ("^0.2.0", [">=0.2.0.0-dev", "<0.3.0.0-dev"]),
    ("^0.0.3", [">=0.0.3.0-dev", "<0.0.4.0-dev"]),
    ("^0.0.3-alpha", [">=0.0.3.0-alpha", "<0.0.4.0-dev"]),
    ("^0.0.3-dev", [">=0.0.3.0-dev", "<0.0.4.0-dev"]),
    ("^1.0@dev", [">=1.0.0.0-dev", "<2.0.0.0-dev"]),
    # hyphen: a partial upper bound means "below the next"
    ("1 - 2", [">=1.0.0.0-dev", "<3.0.0.0-dev"]),
    ("1.2.3 - 2.3.4.5", [">=1.2.3.0-dev", "<=2.3.4.5"]),
    ("1.2-beta - 2.3", [">=1.2.0.0-beta", "<2.4.0.0-dev"]),
    ("1.2-beta - 2.3-dev", [">=1.2.0.0-beta", "<=2.3.0.0-dev"]),
    ("1.2-RC - 2.3.1", [">=1.2.0.0-RC", "<=2.3.1.0"]),
    ("1.2.3-alpha - 2.3-RC", [">=1.2.3.0-alpha", "<=2.3.0.0-RC"]),
    ("1 - 2.0", [">=1.0.0.0-dev", "<2.1.0.0-dev"]),
    ("1 - 2.1", [">=1.0.0.0-dev", "<2.2.0.0-dev"]),
    ("1.2 - 2.1.0", [">=1.2.0.0-dev", "<=2.1.0.0"]),
    ("1.3 - 2.1.3", [">=1.3.0.0-dev", "<=2.1.3.0"]),
    ("1.0 - 2.0", [">=1.0.0.0-dev", "<2.1.0.0-dev"]),
    ("1.0.0 - 2.1.0", [">=1.0.0.0-dev", "<=2.1.0.0"]),
    ("1.0 - 2.0.0", [">=1.0.0.0-dev", "<=2.0.0.0"]),
    # AND by comma or space
    (">2.0,<=3.0", [">2.0.0.0", "<=3.0.0.0"]),
    (">2.0@stable,<=3.0@dev", [">2.0.0.0", "<=3.0.0.0-dev"]),
    (">2.0 <=3.0", [">2.0.0.0", "<=3.0.0.0"]),
    (">2.0  <=3.0", [">2.0.0.0", "<=3.0.0.0"]),
    (">2.0, <=3.0", [">2.0.0.0", "<=3.0.0.0"]),
    (">2.0 ,<=3.0", [">2.0.0.0", "<=3.0.0.0"]),
    (">2.0 , <=3.0", [">2.0.0.0", "<=3.0.0.0"]),
    (">2.0   , <=3.0", [">2.0.0.0", "<=3.0.0.0"]),
    ("> 2.0   <=  3.0", [">2.0.0.0", "<=3.0.0.0"]),
    ("> 2.0  ,  <=  3.0", [">2.0.0.0", "<=3.0.0.0"]),
    ("  > 2.0  ,  <=  3.0 ", [">2.0.0.0", "<=3.0.0.0"]),
    (">=1.0 <1.1", [">=1.0.0.0-dev", "<1.1.0.0-dev"]),
    (">=1.2.3.4-stable", [">=1.2.3.4"]),
    ("20.*.*", [">=20.0.0.0-dev", "<21.0.0.0-dev"]),
    ("0.x.x", ["<1.0.0.0-dev"]),
    ("~201903.0", [">=201903.0-dev", "<201904.0.0.0-dev"]),
    ("~201903.0-beta", [">=201903.0-beta", "<201904.0.0.0-dev"]),
    ("~201903.0-stable", [">=201903.0", "<201904.0.0.0-dev"]),
    ("~201903.205830.1-stable", [">=201903.205830.1", "<201903.205831.0.0-dev"]),
    ("~2.x-dev", [">=2.9999999.9999999.9999999-dev", "<3.0.0.0-dev"]),
    ("~2.0.x-dev", [">=2.0.9999999.9999999-dev", "<2.1.0.0-dev"]),
    ("~2.0.3.x-dev", [">=2.0.3.9999999-dev", "<2.0.4.0-dev"]),
    ("~0.x-dev", [">=0.9999999.9999999.9999999-dev", "<1.0.0.0-dev"]),
    ("^0.0.3-stable", [">=0.0.3.0", "<0.0.4.0-dev"]),
    ("^201903.0", [">=201903.0-dev", "<201904.0.0.0-dev"]),
    ("^201903.0-beta", [">=201903.0-beta", "<201904.0.0.0-dev"]),
    ("^201903.205830.1-stable", [">=201903.205830.1", "<201904.0.0.0-dev"]),
    ("^2.x-dev", [">=2.9999999.9999999.9999999-dev", "<3.0.0.0-dev"]),
    ("^2.0.*-dev", [">=2.0.9999999.9999999-dev", "<3.0.0.0-dev"]),
    ("^2.0.x-dev", [">=2.0.9999999.9999999-dev", "<3.0.0.0-dev"]),
    ("^2.0.3.x-dev", [">=2.0.3.9999999-dev", "<3.0.0.0-dev"]),
    ("^0.x-dev", [">=0.9999999.9999999.9999999-dev", "<1.0.0.0-dev"]),
    ("v1 - v2", [">=1.0.0.0-dev", "<3.0.0.0-dev"]),
    ("2.0.3.x-dev - 3.0.3.x-dev", [">=2.0.3.9999999-dev", "<=3.0.3.9999999-dev"]),
    ("2.0.x-dev - 3.0.x-dev", [">=2.0.9999999.9999999-dev", "<=3.0.9999999.9999999-dev"]),
    ("2.x-dev - 3.x-dev", [">=2.9999999.9999999.9999999-dev", "<=3.9999999.9999999.9999999-dev"]),
    ("0.x-dev - 1.x-dev", [">=0.9999999.9999999.9999999-dev", "<=1.9999999.9999999.9999999-dev"]),
    ("3.x-dev", ["=3.9999999.9999999.9999999-dev"]),
    ("3-dev", ["=3.0.0.0-dev"]),
    ("dev-3.x", ["=dev-3.x"]),
    ("xsd2php-dev", ["=dev-xsd2php"]),
    ("3.next-dev", ["=dev-3.next"]),
    ("dev-1.0.0-dev<1.0.5-dev", ["=dev-1.0.0-dev<1.0.5-dev"]),
    ("foobar-dev as 2.1.0", ["=dev-foobar"]),
    ("2.1.0 - 2.3-dev", [">=2.1.0.0-dev", "<=2.3.0.0-dev"]),
    ("1.0 - 2.0.x-dev", [">=1.0.0.0-dev", "<=2.0.9999999.9999999-dev"]),
    ("^1.", [">=1.0.0.0-dev", "<2.0.0.0-dev"]),
    ("~1.", [">=1.0.0.0-dev", "<2.0.0.0-dev"]),
    ("1.2.", ["=1.2.0.0"]),
    ("1.2..dev", ["=1.2.0.0-dev"]),
    ("1.2-.dev", ["=1.2.0.0-dev"]),
    ("1.2_-dev", ["=1.2.0.0-dev"]),
    (">=1.1.0-alpha4,<1.2.x-dev", [">=1.1.0.0-alpha4", "<1.2.9999999.9999999-dev"]),
    (">=1.1.0-alpha4,<1.2-beta2", [">=1.1.0.0-alpha4", "<1.2.0.0-beta2"]),
    (">2.0@stable,@dev", [">2.0.0.0"]),
]


def _expected(parts: list[str]) -> Ranges[ComposerVersion]:
    out: Ranges[ComposerVersion] = Ranges.full()
    for part in parts:
        op = next(o for o in ("!=", ">=", "<=", ">", "<", "=") if part.startswith(o))
        version = n(part[len(op) :])
        out &= {
            "=": Ranges.singleton(version),
            "!=": ~Ranges.singleton(version),
            ">": Ranges.between(version, TOP, lower_inclusive=False),
            ">=": Ranges.between(version, TOP),
            "<": Ranges.lower_than(version),
            "<=": Ranges.lower_than(version, inclusive=True),
        }[op]
    return out


@pytest.mark.parametrize(("text", "parts"), PARSED)
def test_parse_constraint(text: str, parts: list[str]) -> None:
    assert c(text).ranges == _expected(parts), str(c(text).ranges)


@pytest.mark.parametrize(
    ("constraint", "equivalent"),
    [
        # getcomposer.org "Versions and constraints": each constraint and its stated range.
        ("1.0 - 2.0", ">=1.0.0 <2.1"),
        ("1.0.0 - 2.1.0", ">=1.0.0 <=2.1.0"),
        ("1.0.*", ">=1.0 <1.1"),
        ("~1.2", ">=1.2 <2.0.0"),
        ("~1.2.3", ">=1.2.3 <1.3.0"),
        ("^1.2.3", ">=1.2.3 <2.0.0"),
        ("^0.3", ">=0.3.0 <0.4.0"),
        ("^0.0.3", ">=0.0.3 <0.0.4"),
        (">=1.0 <1.1 || >=1.2", ">=1.0,<1.1 | >=1.2"),
    ],
)
def test_documented_equivalences(constraint: str, equivalent: str) -> None:
    assert c(constraint).ranges == c(equivalent).ranges


@pytest.mark.parametrize("text", ["*", "x", "X", "@dev", "*@dev"])
def test_match_all(text: str) -> None:
    assert c(text).ranges.is_full()
    assert c(text).contains(v("dev-main"), "dev")


@pytest.mark.parametrize(
    ("text", "alternatives"),
    [
        ("<1.1 || >2.0", [["<1.1.0.0-dev"], [">2.0.0.0"]]),
        ("<1.1||>2.0", [["<1.1.0.0-dev"], [">2.0.0.0"]]),
        ("<1.1 | >2.0", [["<1.1.0.0-dev"], [">2.0.0.0"]]),
        ("<1.1|>2.0", [["<1.1.0.0-dev"], [">2.0.0.0"]]),
        (
            ">=1.0 <1.1 || >=1.2",
            [[">=1.0.0.0-dev", "<1.1.0.0-dev"], [">=1.2.0.0-dev"]],
        ),
        ("^1.0 || ^2.0", [[">=1.0.0.0-dev", "<2.0.0.0-dev"], [">=2.0.0.0-dev", "<3.0.0.0-dev"]]),
        ("dev-main || ^1.0", [["=dev-main"], [">=1.0.0.0-dev", "<2.0.0.0-dev"]]),
        ("foobar-dev as 2.1.0 || 3.5 as 1.5", [["=dev-foobar"], ["=3.5.0.0"]]),
        (
            "~2.5.9|~2.6,>=2.6.2",
            [[">=2.5.9.0-dev", "<2.6.0.0-dev"], [">=2.6.0.0-dev", "<3.0.0.0-dev", ">=2.6.2.0-dev"]],
        ),
        (">2.0,<2.0.5 | >2.0.6", [[">2.0.0.0", "<2.0.5.0-dev"], [">2.0.6.0"]]),
        ("> 2.0 , <2.0.5 | >  2.0.6", [[">2.0.0.0", "<2.0.5.0-dev"], [">2.0.6.0"]]),
        (">2.0@stable || 0@dev", [[">2.0.0.0"], ["=0.0.0.0"]]),
    ],
)
def test_alternatives(text: str, alternatives: list[list[str]]) -> None:
    expected: Ranges[ComposerVersion] = Ranges.empty()
    for parts in alternatives:
        expected |= _expected(parts)
    assert c(text).ranges == expected


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("", 0),
        ("1.0.0-meh", 0),
        (">2.0,,<=3.0", 0),
        (">2.0 ,, <=3.0", 0),
        (">2.0 ||| <=3.0", 7),
        ("~>1.2", 0),
        ("^1.0 foo", 5),
        ("^1.0 || 2.0-SNAPSHOT", 8),
        ("1.0 ||", 6),
    ],
)
def test_constraint_failures(text: str, start: int) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        c(text)
    assert info.value.start == start, str(info.value)
    assert info.value.what == "constraint"
    assert "^" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        ",^1@dev || ^4@dev",
        ",^1@dev",
        "|| ^1@dev",
        "^1@dev ||",
        "^1@dev ,",
        "^2.0.*",
        "^2.0.x",
        "^2.0.x-beta",
        "^2.*",
        "^2.x",
        "^2.x-beta",
        "^2.1.2.*",
        "^2.1.2.x",
        "^2.1.2.x-beta",
        "~2.0.*",
        "~2.0.x",
        "~2.0.x-beta",
        "~2.*",
        "~2.x",
        "~2.x-beta",
        "~2.1.2.*",
        "~2.1.2.x",
        "~2.1.2.x-beta",
        "1.x - 2.*",
        "2.x.x.x-dev - 3.x.x.x-dev",
        "^1.*-beta-dev",
        "^1. *-dev",
        "~1.*-beta-dev",
        "1.0.0-dev<1.0.5-dev",
        "*-dev",
        "^",
        "^8 || ^",
        "~",
        "~1 ~",
        "1.0#abcd123",
    ],
)
def test_semver_failing_constraints(text: str) -> None:
    with pytest.raises(VersionSyntaxError):
        c(text)


def test_complex_conjunctive() -> None:
    assert not c("~0.1 || ~1.0 !=1.0.1").ranges.contains(v("1.0.1"))


def test_tilde_arrow_message() -> None:
    with pytest.raises(VersionSyntaxError, match='you probably meant to use the "~" operator'):
        c("~>1.2")


# --- branches, the docs' examples, stability ----------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        (">=1.0", "dev-main", False),
        ("<1.0", "dev-main", False),
        (">=dev-main", "dev-main", False),
        ("!=1.0", "dev-main", True),
        ("!=dev-main", "dev-main", False),
        ("!=dev-main", "dev-other", True),
        ("!=dev-main", "1.0", True),
        ("*", "dev-main", True),
        ("v*", "dev-main", False),
        ("dev-main", "dev-main", True),
        ("dev-main", "dev-master", False),
        ("master", "dev-master", True),
        ("dev-main || ^1.0", "1.5", True),
        ("1.x-dev", "1.x-dev", True),
        ("^1.0", "1.x-dev", True),  # 1.9999999.9999999.9999999-dev
        ("~1.2", "1.9.9", True),
        ("~1.2", "2.0.0-dev", False),
        ("~1.2.3", "1.3.0", False),
        ("^1.2.3", "1.99", True),
        ("^1.2.3", "2.0.0-alpha1", False),
        ("^0.3", "0.3.9", True),
        ("^0.3", "0.4.0", False),
        ("^0.0.3", "0.0.4", False),
        ("1.0 - 2.0", "2.0.5", True),
        ("1.0 - 2.0", "2.1.0-beta1", False),
        ("1.0.0 - 2.1.0", "2.1.0", True),
        ("1.0.0 - 2.1.0", "2.1.0-patch1", False),
        ("1.0.0 - 2.1.0", "1.0.0-beta1", True),
        ("1.0.*", "1.0.0-beta1", True),
        ("1.0.*", "1.1.0-dev", False),
        ("1.0", "1.0.0.0", True),
        (">1.0", "1.0.0-patch1", True),
        ("<1.0", "1.0.0-RC1", False),  # < adds -dev: no pre-release of 1.0
        ("<1.0", "0.9.0-RC1", True),
        ("<=1.0", "1.0.0-patch1", False),
    ],
)
def test_ranges_membership(constraint: str, version: str, expected: bool) -> None:
    assert c(constraint).ranges.contains(v(version)) is expected
    assert c(constraint).contains(v(version), "dev", use_flags=False) is expected


@pytest.mark.parametrize(
    ("constraint", "version", "minimum", "expected"),
    [
        ("^1.0", "1.1.0-beta1", "stable", False),
        ("^1.0", "1.1.0-beta1", "beta", True),
        ("^1.0", "1.1.0-beta1", "alpha", True),
        ("^1.0", "1.1.0-beta1", "RC", False),
        ("^1.0", "1.1.0-RC1", "rc", True),
        ("^1.0", "1.1.0", "dev", True),
        ("^1.0", "1.1.0-patch2", "stable", True),
        ("^1.0@beta", "1.1.0-beta1", "stable", True),
        ("^1.0@beta", "1.1.0-alpha1", "stable", False),
        ("^1.0@stable", "1.1.0-beta1", "dev", False),  # an explicit flag overrides
        ("^1.0@RC || ^2.0@alpha", "1.1.0-alpha1", "stable", True),  # least stable wins
        ("1.0.0-beta2", "1.0.0-beta2", "stable", True),  # inferred from the version
        ("1.0.0-beta2", "1.0.0-beta2", "alpha", True),
        ("dev-main", "dev-main", "stable", True),
        ("1.x-dev", "1.x-dev", "stable", True),
        ("^1.0-beta", "1.1.0-beta1", "stable", True),
        (">=1.0-beta <2", "1.1.0-beta1", "stable", True),  # each AND part is a token
        (">= 1.0-beta", "1.1.0-beta1", "stable", False),  # this one is not
        ("^1.0@dev", "1.x-dev", "stable", True),
        ("*", "dev-main", "stable", False),
        ("*@dev", "dev-main", "stable", True),
    ],
)
def test_minimum_stability_and_flags(
    constraint: str, version: str, minimum: str, expected: bool
) -> None:
    assert c(constraint).contains(v(version), minimum) is expected


def test_flags_ignored_for_dependencies() -> None:
    assert not c("^1.0@beta").contains(v("1.1.0-beta1"), "stable", use_flags=False)
    assert not c("1.0.0-beta2").contains(v("1.0.0-beta2"), "stable", use_flags=False)


def test_unknown_stability() -> None:
    with pytest.raises(ValueError, match="unknown stability"):
        c("*").contains(v("1.0"), "nightly")


def test_set_operations() -> None:
    a, b = c("^1.0"), c(">=1.5, !=1.7.0")
    assert (a & b).contains(v("1.6"))
    assert not (a & b).contains(v("1.7"))
    assert (a | b).contains(v("3"))
    assert not (a | b).contains(v("0.9"))
    assert (~a).contains(v("dev-main"), "dev")
    assert (a - b).contains(v("1.7"))
    assert c("<1").intersection(c(">2")).is_empty()
    assert c("~1.2") == c("^1.2")
    assert c("1.0 - 2.0").ranges == c(">=1.0 <2.1-dev").ranges
    assert c("1.0 - 2.0") != c(">=1.0 <2.1-dev")  # the -dev part infers a dev flag
    assert (c("^1.0@beta") & c("^1.0")).contains(v("1.2-beta1"))


# --- properties -------------------------------------------------------------------------------

_VERSIONS = [
    "0",
    "0.1",
    "1.0-dev",
    "1.0-alpha1",
    "1.0-beta1",
    "1.0-beta2",
    "1.0-RC1",
    "1.0",
    "1.0-p1",
    "1.0.1",
    "1.1-dev",
    "1.1",
    "1.x-dev",
    "2.0-alpha1",
    "2.0",
    "2.1",
    "dev-main",
    "dev-feature",
]
versions = st.sampled_from(_VERSIONS).map(v)
_ATOMS = [
    "*",
    "^1.0",
    "~1.0",
    "~1.0.1",
    "1.*",
    "1.0 - 2.0",
    "1.0.0 - 2.0.0",
    ">=1.0",
    ">1.0",
    "<2.0",
    "<=1.1",
    "!=1.0",
    "1.0",
    "dev-main",
    "!=dev-main",
    "^2.0@alpha",
    ">=1.0-beta1",
]
constraints = st.lists(
    st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=2).map(" ".join), min_size=1, max_size=2
).map(lambda alternatives: c(" || ".join(alternatives)))


@given(versions, versions, versions)
def test_total_order(a: ComposerVersion, b: ComposerVersion, third: ComposerVersion) -> None:
    assert (a < b) + (a == b) + (a > b) == 1
    if a == b:
        assert hash(a) == hash(b)
    if a <= b <= third:
        assert a <= third


@given(constraints, constraints, versions)
def test_set_operations_agree_with_contains(
    a: ComposerConstraint, b: ComposerConstraint, version: ComposerVersion
) -> None:
    def has(x: ComposerConstraint) -> bool:
        return x.contains(version, "dev", use_flags=False)

    assert has(a & b) is (has(a) and has(b))
    assert has(a | b) is (has(a) or has(b))
    assert has(~a) is (not has(a))
    assert has(a - b) is (has(a) and not has(b))
