"""NuGet: versions, normalisation, ordering, ranges, floating versions, pre-release rule.

Cases follow NuGet's "Package versioning" documentation: the range notation table, the
normalised version number examples, SemVer 2.0 precedence, and the floating version table.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuskops.errors import VersionSyntaxError
from tuskops.packages.ecosystems import scheme
from tuskops.packages.ecosystems.nuget import (
    SCHEME,
    FloatBehavior,
    NugetConstraint,
    NuGetVersion,
)


def v(text: str) -> NuGetVersion:
    return SCHEME.parse_version(text)


def parse(text: str) -> NugetConstraint:
    return SCHEME.parse_constraint(text)


def test_registry() -> None:
    assert scheme("nuget") is SCHEME
    assert SCHEME.name == "nuget"


# --- versions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        # leading zeros removed
        ("1.00", "1.0.0"),
        ("1.01.1", "1.1.1"),
        ("1.00.0.1", "1.0.0.1"),
        # a zero fourth part is dropped
        ("1.0.0.0", "1.0.0"),
        ("1.0.01.0", "1.0.1"),
        # build metadata is dropped
        ("1.0.7+r3456", "1.0.7"),
        # missing parts are zero
        ("1", "1.0.0"),
        ("1.0", "1.0.0"),
        ("6.11.1231", "6.11.1231"),
        ("4.3.1-rc", "4.3.1-rc"),
        ("2.2.44-beta.1", "2.2.44-beta.1"),
        ("1.0.0-Beta+Meta.1", "1.0.0-Beta"),
        ("1.0.0.1-alpha", "1.0.0.1-alpha"),
    ],
)
def test_normalisation(text: str, normalized: str) -> None:
    version = v(text)
    assert version.normalized == normalized
    assert version == v(normalized)
    assert hash(version) == hash(v(normalized))
    assert str(version) == text


SEMVER_PRECEDENCE = [
    "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
    "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0.1", "1.0.1-alpha", "1.0.1", "1.1",
    "2.0.0", "2.1.0", "2.1.1",
]  # fmt: skip


def test_ordering() -> None:
    versions = [v(t) for t in SEMVER_PRECEDENCE]
    for a, b in itertools.combinations(versions, 2):
        assert a < b, f"{a} < {b}"
        assert b > a
        assert a != b


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0.0-BETA", "1.0.0-beta"),  # case-insensitive labels
        ("1.0.0-beta+build1", "1.0.0-beta+build2"),  # metadata is not identity
        ("1.0.0.0", "1.0.0"),
        ("01.002.0003", "1.2.3"),
        ("1.0.0-beta.01", "1.0.0-beta.1"),  # numeric labels compare as numbers
    ],
)
def test_equal(a: str, b: str) -> None:
    assert v(a) == v(b)
    assert hash(v(a)) == hash(v(b))
    assert not v(a) < v(b)
    assert not v(b) < v(a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0.0-2", "1.0.0-10"),  # numeric labels numerically
        ("1.0.0-10", "1.0.0-a"),  # numeric before alphanumeric
        ("1.0.0-alpha", "1.0.0-Beta"),  # case-insensitive ordinal
        ("1.0.0-a", "1.0.0-a.0"),  # a prefix list first
        ("1.0.0-rc", "1.0.0"),  # pre-release before its release
        ("1.0.0-99999999999", "1.0.0-a"),  # too large for int: compared as text, still below
        ("1.0.0", "1.0.0.1"),
    ],
)
def test_less(a: str, b: str) -> None:
    assert v(a) < v(b)
    assert v(b) > v(a)


@pytest.mark.parametrize(
    ("text", "caret"),
    [
        ("", "^"),
        ("1.0.0.0.0", "        ^"),
        ("1..0", "  ^"),
        ("1.a", "  ^"),
        ("v1.0", "^~"),
        ("1.0.0-", "      ^"),
        ("1.0.0-beta..1", "           ^"),
        ("1.0.0-be_ta", "      ^~~~~"),
        ("1.0.0+", "      ^"),
        ("1.0.0+a..b", "        ^"),
        ("99999999999.0", "^~~~~~~~~~~"),
    ],
)
def test_version_errors(text: str, caret: str) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        v(text)
    assert str(info.value).splitlines()[-1] == "    " + caret


_labels = st.sampled_from(["alpha", "Alpha", "beta", "1", "2", "10", "01", "rc", "a-b", "-1"])


@st.composite
def versions(draw: st.DrawFn) -> NuGetVersion:
    numbers = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    text = ".".join(str(n) for n in numbers)
    labels = draw(st.lists(_labels, max_size=3))
    if labels:
        text += "-" + ".".join(labels)
    if draw(st.booleans()):
        text += "+meta"
    return v(text)


@given(versions(), versions(), versions())
def test_total_order(a: NuGetVersion, b: NuGetVersion, c: NuGetVersion) -> None:
    assert (a < b) + (a == b) + (a > b) == 1
    if a == b:
        assert hash(a) == hash(b)
    if a <= b <= c:
        assert a <= c
    assert v(a.normalized) == a


# --- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("1.0", ["1.0", "1.0.0.0", "2.0", "100"], ["0.9", "0.9.9.9"]),
        ("(1.0,)", ["1.0.0.1", "1.0.1", "2.0"], ["1.0", "0.1"]),
        ("[1.0]", ["1.0", "1.0.0.0"], ["1.0.1", "0.9"]),
        ("(,1.0]", ["0.1", "1.0"], ["1.0.0.1", "1.1"]),
        ("(,1.0)", ["0.1", "0.9.9"], ["1.0"]),
        ("[1.0,2.0]", ["1.0", "1.5", "2.0"], ["0.9", "2.0.0.1"]),
        ("(1.0,2.0)", ["1.0.0.1", "1.9"], ["1.0", "2.0"]),
        ("[1.0,2.0)", ["1.0", "1.9.9.9"], ["2.0", "0.9"]),
        (" [ 1.0 , 2.0 ) ", ["1.5"], ["2.0"]),
        ("[1.0,]", ["1.0", "9"], ["0.9"]),
    ],
)
def test_range_notation_table(spec: str, inside: list[str], outside: list[str]) -> None:
    constraint = parse(spec)
    assert constraint.float_behavior is FloatBehavior.NONE
    for text in inside:
        assert constraint.contains(v(text)), text
    for text in outside:
        assert not constraint.contains(v(text)), text


@pytest.mark.parametrize(
    ("spec", "prerelease", "allowed"),
    [
        ("1.0", "1.5.0-beta", False),  # stable bounds: no pre-releases
        ("[1.0,2.0)", "1.5.0-beta", False),
        ("[1.0,2.0)", "2.0.0-beta", False),
        ("1.0.0-beta", "1.0.0-rc", True),  # a pre-release bound admits them
        ("1.0.0-beta", "3.0.0-alpha", True),
        ("1.0.0-beta", "1.0.0-alpha", False),  # below the bound
        ("[1.0,2.0.0-beta)", "1.5.0-alpha", True),
        ("[1.0,2.0.0-beta)", "2.0.0-alpha", True),
        ("[1.0,2.0.0-beta)", "2.0.0-beta", False),
        ("[1.0.0-alpha]", "1.0.0-ALPHA", True),
    ],
)
def test_prerelease_rule(spec: str, prerelease: str, allowed: bool) -> None:
    constraint = parse(spec)
    version = v(prerelease)
    assert constraint.contains(version) is allowed
    assert constraint.ranges.contains(version) or not allowed


@pytest.mark.parametrize(
    ("spec", "caret"),
    [
        ("(1.0)", "^~~~~"),
        ("[1.0)", "^~~~~"),
        ("(1.0,1.0]", "^~~~~~~~~"),
        ("[2.0,1.0]", "^~~~~~~~~"),
        ("[1.0,2.0", "       ^"),
        ("(,)", "^~~"),
        ("[,]", "^~~"),
        ("[1.0,2.0,3.0]", "        ^"),
        ("[1.0,2.*)", "     ^~~"),
        ("[1.*]", " ^~~"),
        ("[1.0,x)", "     ^"),
        ("", "^"),
        ("1.*.0", "^~~~~"),
        ("1.0.0.0.*", "^~~~~~~~~"),
        ("1*", "^~"),
        (">=1.0", "^~~"),
    ],
)
def test_range_errors(spec: str, caret: str) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        parse(spec)
    assert "invalid nuget" in str(info.value)
    assert str(info.value).splitlines()[-1] == "    " + caret


# --- floating -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "available", "chosen"),
    [
        # the documentation's floating version table
        ("*", ["1.1.0", "1.1.1", "1.2.0", "1.3.0-alpha"], "1.2.0"),
        ("1.1.*", ["1.1.0", "1.1.1", "1.1.2-alpha", "1.2.0-alpha"], "1.1.1"),
        ("*-*", ["1.1.0", "1.1.1", "1.1.2-alpha", "1.3.0-beta"], "1.3.0-beta"),
        ("1.1.*-*", ["1.1.0", "1.1.1", "1.1.2-alpha", "1.1.2-beta", "1.2.0-beta"], "1.1.2-beta"),
        # more floats
        ("6.*", ["5.9", "6.0.0", "6.4.1", "6.5.0-rc", "7.0.0"], "6.4.1"),
        ("1.0.0.*", ["1.0.0", "1.0.0.7", "1.0.1"], "1.0.0.7"),
        (
            "1.0.0-beta*",
            ["1.0.0-alpha", "1.0.0-beta1", "1.0.0-beta2", "1.0.1-beta3"],
            "1.0.0-beta2",
        ),
        ("1.0.0-*", ["1.0.0-alpha", "1.0.0-rc.1", "0.9.0"], "1.0.0-rc.1"),
        ("1.0.0-rc.*", ["1.0.0-rc.1", "1.0.0-rc.2", "1.0.0"], "1.0.0"),  # the release matches
        ("[1.0.*,2.0)", ["1.0.1", "1.0.5", "1.1.0", "2.0.0"], "1.0.5"),
        # nothing matches the float: the lowest allowed above it
        ("1.*", ["0.5", "2.0.0", "3.0.0"], "2.0.0"),
        # plain ranges take the lowest applicable version
        ("[1.0,2.0)", ["0.9", "1.2", "1.1", "1.9"], "1.1"),
        ("1.0", ["1.0.0-beta", "1.0.0", "1.0.1"], "1.0.0"),
    ],
)
def test_best_match(spec: str, available: list[str], chosen: str) -> None:
    constraint = parse(spec)
    assert constraint.best_match(v(t) for t in available) == v(chosen)


@pytest.mark.parametrize(
    ("spec", "behavior", "minimum"),
    [
        ("*", FloatBehavior.MAJOR, "0.0.0"),
        ("1.*", FloatBehavior.MINOR, "1.0.0"),
        ("1.0.*", FloatBehavior.PATCH, "1.0.0"),
        ("1.0.0.*", FloatBehavior.REVISION, "1.0.0"),
        ("1.0.0-*", FloatBehavior.PRERELEASE, "1.0.0-0"),
        ("1.0.0-beta*", FloatBehavior.PRERELEASE, "1.0.0-beta"),
        ("1.0.0-beta.*", FloatBehavior.PRERELEASE, "1.0.0-beta.0"),
        ("*-*", FloatBehavior.ABSOLUTE_LATEST, "0.0.0-0"),
        ("1.*-*", FloatBehavior.PRERELEASE_MINOR, "1.0.0-0"),
        ("1.0.*-*", FloatBehavior.PRERELEASE_PATCH, "1.0.0-0"),
        ("1.0.0.*-*", FloatBehavior.PRERELEASE_REVISION, "1.0.0-0"),
    ],
)
def test_float_behaviors(spec: str, behavior: FloatBehavior, minimum: str) -> None:
    constraint = parse(spec)
    assert constraint.is_floating
    assert constraint.float_behavior is behavior
    assert constraint.float_range is not None
    assert constraint.float_range.min_version == v(minimum)
    # what a floating version allows is its range from the minimum up
    assert constraint.contains(v("99.0"))
    assert not constraint.contains(v("0.0.0-0")) or minimum.endswith("-0")


def test_floats_to() -> None:
    minor = parse("1.*")
    assert minor.floats_to(v("1.9.9"))
    assert not minor.floats_to(v("2.0.0"))
    assert not minor.floats_to(v("1.5.0-beta"))
    assert not parse("[1.0,2.0)").floats_to(v("1.5"))
    prefix = parse("1.0.0-beta*")
    assert prefix.floats_to(v("1.0.0-BETA.2"))
    assert not prefix.floats_to(v("1.0.0-alpha"))
    assert prefix.floats_to(v("1.0.0"))


# --- set operations -------------------------------------------------------------------------


def test_set_operations_keep_the_prerelease_rule() -> None:
    stable = parse("[1.0,2.0)")
    pre = parse("[3.0.0-alpha,4.0)")
    either = stable.union(pre)
    assert not either.contains(v("1.5.0-beta"))
    assert either.contains(v("3.5.0-beta"))
    assert either.contains(v("1.5"))
    outside = stable.complement()
    assert outside.contains(v("1.5.0-beta"))  # not allowed by the range, so in its complement
    assert not outside.contains(v("1.5"))
    both = stable.intersection(parse("[1.5,3.0)"))
    assert both.text == "[1.5.0, 2.0.0)"
    assert both.float_behavior is FloatBehavior.NONE
    assert stable.intersection(parse("[2.0]")).is_empty()


_specs = st.sampled_from(
    ["1.0", "[1.0]", "(1.0,)", "(,1.0]", "[1.0,2.0)", "[1.0.0-beta,2.0)", "1.*", "1.0.0-*",
     "[1.5,3.0.0-rc]", "*", "*-*", "(0.5,1.5)"]
)  # fmt: skip
_PROBE_TEXT = (
    "0.1 0.5 0.9 1.0.0-beta 1.0.0-rc 1.0 1.0.0.1 1.5.0-alpha 1.5 2.0.0-beta 2.0 2.5 "
    "3.0.0-alpha 3.0.0-rc 3.0 9.0"
)
_probe = [v(t) for t in _PROBE_TEXT.split()]


@given(_specs, _specs)
def test_set_operations_agree_with_contains(x: str, y: str) -> None:
    a, b = parse(x), parse(y)
    for version in _probe:
        assert a.intersection(b).contains(version) == (a.contains(version) and b.contains(version))
        assert a.union(b).contains(version) == (a.contains(version) or b.contains(version))
        assert a.complement().contains(version) == (not a.contains(version))


def test_ranges_is_satisfies_and_contains_is_restore_choice() -> None:
    # NuGet's VersionRange.Satisfies admits 2.0.0-beta1 in [1.0.0, 2.0.0) (it sorts below
    # 2.0.0), which is what its NU1608 check uses; restore never picks it, as the range has no
    # pre-release bound. ``ranges`` is the former, ``contains`` the latter.
    constraint = parse("[1.0.0, 2.0.0)")
    assert constraint.ranges.contains(v("2.0.0-beta1"))
    assert not constraint.contains(v("2.0.0-beta1"))
