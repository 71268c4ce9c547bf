"""Cargo versions and requirements: the Cargo book's table, the semver crate's rules."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuskops.errors import VersionSyntaxError
from tuskops.packages.ecosystems import scheme
from tuskops.packages.ecosystems.cargo import SCHEME, CargoConstraint, CargoVersion, Comparator
from tuskops.packages.versions import Ranges


def v(text: str) -> CargoVersion:
    return SCHEME.parse_version(text)


def req(text: str) -> CargoConstraint:
    return SCHEME.parse_constraint(text)


# --- an oracle: the semver crate's eval.rs, transcribed comparator by comparator --------------


def _exact(c: Comparator, ver: CargoVersion) -> bool:
    if ver.major != c.major:
        return False
    if c.minor is not None and ver.minor != c.minor:
        return False
    if c.patch is not None and ver.patch != c.patch:
        return False
    return ver.pre == c.pre


def _pre_lt(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return CargoVersion(0, 0, 0, a) < CargoVersion(0, 0, 0, b)


def _greater(c: Comparator, ver: CargoVersion) -> bool:
    if ver.major != c.major:
        return ver.major > c.major
    if c.minor is None:
        return False
    if ver.minor != c.minor:
        return ver.minor > c.minor
    if c.patch is None:
        return False
    if ver.patch != c.patch:
        return ver.patch > c.patch
    return _pre_lt(c.pre, ver.pre)


def _less(c: Comparator, ver: CargoVersion) -> bool:
    if ver.major != c.major:
        return ver.major < c.major
    if c.minor is None:
        return False
    if ver.minor != c.minor:
        return ver.minor < c.minor
    if c.patch is None:
        return False
    if ver.patch != c.patch:
        return ver.patch < c.patch
    return _pre_lt(ver.pre, c.pre)


def _tilde(c: Comparator, ver: CargoVersion) -> bool:
    if ver.major != c.major:
        return False
    if c.minor is not None and ver.minor != c.minor:
        return False
    if c.patch is not None and ver.patch != c.patch:
        return ver.patch > c.patch
    return not _pre_lt(ver.pre, c.pre)


def _caret(c: Comparator, ver: CargoVersion) -> bool:
    if ver.major != c.major:
        return False
    if c.minor is None:
        return True
    if c.patch is None:
        return ver.minor >= c.minor if c.major > 0 else ver.minor == c.minor
    if c.major > 0:
        if ver.minor != c.minor:
            return ver.minor > c.minor
        if ver.patch != c.patch:
            return ver.patch > c.patch
    elif c.minor > 0:
        if ver.minor != c.minor:
            return False
        if ver.patch != c.patch:
            return ver.patch > c.patch
    elif ver.minor != c.minor or ver.patch != c.patch:
        return False
    return not _pre_lt(ver.pre, c.pre)


def _matches_impl(c: Comparator, ver: CargoVersion) -> bool:
    if c.op in ("=", "*"):
        return _exact(c, ver)
    if c.op == ">":
        return _greater(c, ver)
    if c.op == ">=":
        return _exact(c, ver) or _greater(c, ver)
    if c.op == "<":
        return _less(c, ver)
    if c.op == "<=":
        return _exact(c, ver) or _less(c, ver)
    if c.op == "~":
        return _tilde(c, ver)
    return _caret(c, ver)


def oracle(comparators: tuple[Comparator, ...], ver: CargoVersion) -> bool:
    if not all(_matches_impl(c, ver) for c in comparators):
        return False
    if not ver.pre:
        return True
    return any(
        c.major == ver.major and c.minor == ver.minor and c.patch == ver.patch and c.pre
        for c in comparators
    )


# --- strategies -------------------------------------------------------------------------------

small = st.integers(0, 3)
pres = st.sampled_from([(), (), ("alpha",), ("alpha", "1"), ("beta",), ("0",), ("1",), ("rc", "1")])


@st.composite
def versions(draw: st.DrawFn) -> CargoVersion:
    return CargoVersion(draw(small), draw(small), draw(small), draw(pres))


@st.composite
def comparator_texts(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["", "^", "~", "=", ">", ">=", "<", "<=", "wild"]))
    parts = [str(draw(small))]
    if op == "wild":
        if draw(st.booleans()):
            parts.append("*")
        else:
            parts += [str(draw(small)), draw(st.sampled_from(["*", "x", "X"]))]
        return ".".join(parts)
    depth = draw(st.integers(0, 2))
    parts += [str(draw(small)) for _ in range(depth)]
    text = ".".join(parts)
    if depth == 2:
        pre = draw(pres)
        if pre:
            text += "-" + ".".join(pre)
    space = draw(st.sampled_from(["", " "]))
    return f"{op}{space}{text}"


requirement_texts = st.lists(comparator_texts(), min_size=1, max_size=3).map(", ".join)


@settings(max_examples=1500)
@given(requirement_texts, st.lists(versions(), min_size=1, max_size=10))
def test_contains_agrees_with_the_semver_crate_rules(text: str, vs: list[CargoVersion]) -> None:
    constraint = req(text)
    for ver in vs:
        assert constraint.contains(ver) == oracle(constraint.comparators, ver), (text, str(ver))


@settings(max_examples=500)
@given(requirement_texts, requirement_texts, st.lists(versions(), min_size=1, max_size=10))
def test_set_operations_are_exact(a: str, b: str, vs: list[CargoVersion]) -> None:
    x, y = req(a), req(b)
    for ver in vs:
        in_x, in_y = x.contains(ver), y.contains(ver)
        assert (x & y).contains(ver) == (in_x and in_y)
        assert (x | y).contains(ver) == (in_x or in_y)
        assert (~x).contains(ver) == (not in_x)
        assert (x - y).contains(ver) == (in_x and not in_y)
    assert (x & ~x).is_empty()
    assert ~~x == x
    if (x & y).is_empty():
        assert not any((x & y).contains(ver) for ver in vs)


# --- the Cargo book's tables ------------------------------------------------------------------


def _between(lo: str, hi: str | None) -> Ranges[CargoVersion]:
    """``>=lo, <hi`` as the book writes it; ``<hi`` excludes hi's pre-releases, as Cargo's
    pre-release rule does for a requirement that names none."""
    if hi is None:
        return Ranges.higher_than(v(lo))
    upper = v(hi)
    return Ranges.between(v(lo), CargoVersion(upper.major, upper.minor, upper.patch, ("0",)))


@pytest.mark.parametrize(
    ("requirement", "lower", "upper"),
    [
        # Default (caret) requirements.
        ("1.2.3", "1.2.3", "2.0.0"),
        ("1.2", "1.2.0", "2.0.0"),
        ("1", "1.0.0", "2.0.0"),
        ("0.2.3", "0.2.3", "0.3.0"),
        ("0.2", "0.2.0", "0.3.0"),
        ("0.0.3", "0.0.3", "0.0.4"),
        ("0.0", "0.0.0", "0.1.0"),
        ("0", "0.0.0", "1.0.0"),
        ("^1.2.3", "1.2.3", "2.0.0"),
        ("^0.0", "0.0.0", "0.1.0"),
        # Tilde requirements.
        ("~1.2.3", "1.2.3", "1.3.0"),
        ("~1.2", "1.2.0", "1.3.0"),
        ("~1", "1.0.0", "2.0.0"),
        # Wildcard requirements.
        ("*", "0.0.0", None),
        ("1.*", "1.0.0", "2.0.0"),
        ("1.2.*", "1.2.0", "1.3.0"),
        # Comparison requirements.
        (">= 1.2.0", "1.2.0", None),
        ("> 1", "2.0.0", None),
        ("< 2", "0.0.0", "2.0.0"),
        ("= 1.2.3", "1.2.3", "1.2.4"),
        # Multiple requirements.
        (">= 1.2, < 1.5", "1.2.0", "1.5.0"),
    ],
)
def test_cargo_book_table(requirement: str, lower: str, upper: str | None) -> None:
    expected = _between(lower, upper)
    got = req(requirement)
    grid = [
        CargoVersion(a, b, c, pre)
        for a in range(4)
        for b in range(4)
        for c in range(5)
        for pre in [(), ("alpha",)]
    ]
    for ver in grid:
        assert got.contains(ver) == (expected.contains(ver) and not ver.pre), (requirement, ver)


def test_exact_ranges() -> None:
    assert req("^1.2.3").ranges == Ranges.between(v("1.2.3"), v("2.0.0-0"))
    assert req("=1.2.3").ranges == Ranges.singleton(v("1.2.3"))
    assert req(">1.2").ranges == Ranges.higher_than(v("1.3.0-0"))
    assert req("<=1.2").ranges == Ranges.lower_than(v("1.3.0-0")) & Ranges.higher_than(v("0.0.0-0"))
    assert req("*").prerelease_ranges.is_empty()


# --- pre-releases: the semver crate's documented behaviour ------------------------------------


def test_prerelease_needs_a_comparator_on_the_same_version() -> None:
    constraint = req(">=1.2.3-alpha")
    assert constraint.contains(v("1.2.3-alpha"))
    assert constraint.contains(v("1.2.3-beta"))
    assert constraint.contains(v("1.2.3"))
    assert constraint.contains(v("1.2.4"))
    assert not constraint.contains(v("1.2.4-alpha"))
    assert not constraint.contains(v("1.2.3-0"))  # below alpha
    assert not req("*").contains(v("1.0.0-alpha"))
    assert not req("^1").contains(v("1.5.0-alpha"))
    assert not req(">=1.0.0").contains(v("2.0.0-alpha"))
    assert req("<2.0.0-beta, >=2.0.0-alpha").contains(v("2.0.0-alpha.1"))
    # Every comparator must still match: =1.2 takes no pre-release of 1.2.5.
    assert not req("=1.2, >=1.2.5-alpha").contains(v("1.2.5-beta"))
    assert req(">=1.2, <1.3.0-beta").contains(v("1.3.0-alpha"))
    assert not req(">=1.2, <=1.2.5-beta").contains(v("1.2.5-alpha"))


def test_intersection_is_per_requirement_not_joined_text() -> None:
    joined = req(">=1.0.0-alpha, <2")
    assert joined.contains(v("1.0.0-beta"))
    assert not (req(">=1.0.0-alpha") & req("<2")).contains(v("1.0.0-beta"))


def test_is_empty_is_exact() -> None:
    assert req(">1.0.0, <1.0.1").is_empty()  # only pre-releases of 1.0.1 between, none opted in
    assert not req(">1.0.0-alpha, <1.0.0-beta").is_empty()  # 1.0.0-alpha.0
    assert req(">1.0.0-alpha, <1.0.0-alpha.0").is_empty()
    assert not req(">=1.0.0, <=1.0.0").is_empty()
    assert (req("^1") & req("^2")).is_empty()
    assert not (req("^1") | req("^2")).is_empty()


# --- versions ---------------------------------------------------------------------------------


def test_semver_precedence() -> None:
    # SemVer 2.0.0, section 11.
    order = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ]
    parsed = [v(t) for t in order]
    assert all(a < b for a, b in pairwise(parsed))
    assert sorted(parsed, key=str) != parsed  # precedence is not string order
    assert v("1.0.0+build.1") == v("1.0.0")
    assert str(v("1.0.0-rc.1+build.5")) == "1.0.0-rc.1+build.5"
    assert v("1.0.0-0") < v("1.0.0-alpha") < v("1.0.0")
    assert v("18446744073709551615.0.0").major == 2**64 - 1


@pytest.mark.parametrize(
    ("text", "reason", "start", "end"),
    [
        ("v1.0.0", "unexpected character 'v' while parsing major version number", 0, 1),
        ("1.0", "unexpected end of input while parsing minor version number", 3, 4),
        ("01.0.0", "invalid leading zero in major version number", 0, 2),
        ("1.00.0", "invalid leading zero in minor version number", 2, 4),
        ("1.0.0-01", "invalid leading zero in pre-release identifier", 6, 8),
        ("1.0.0-", "empty identifier segment in pre-release identifier", 6, 7),
        ("1.0.0-a..b", "empty identifier segment in pre-release identifier", 8, 9),
        ("1.0.0+", "empty identifier segment in build metadata", 6, 7),
        ("1.0.0 ", "unexpected character ' ' after patch version number", 5, 6),
        ("1.0.0-a_b", "unexpected character '_' after pre-release identifier", 7, 8),
        ("", "empty string, expected a semver version", 0, 1),
        ("18446744073709551616.0.0", "value of major version number exceeds u64::MAX", 0, 20),
    ],
)
def test_version_errors(text: str, reason: str, start: int, end: int) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        SCHEME.parse_version(text)
    assert info.value.reason == reason
    assert (info.value.start, info.value.end) == (start, end)


def test_version_leading_zeros_in_build_are_fine() -> None:
    assert v("1.0.0+001").build == "001"
    assert v("1.0.0-x.7.z.92").pre == ("x", "7", "z", "92")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1.0, *", "wildcard req (*) must be the only comparator in the version req"),
        ("*, 1.0", "wildcard req (*) must be the only comparator in the version req"),
        (">=1.0 <2", "expected comma after minor version number, found '<'"),
        ("1.*.3", "unexpected character after wildcard in version req"),
        ("*.1", "unexpected character after wildcard in version req"),
        ("==1.0", "unexpected character '=' while parsing major version number"),
        ("1.0,", "unexpected end of input while parsing major version number"),
        ("v1.0", "unexpected character 'v' while parsing major version number"),
        ("1.2-alpha", "expected comma after minor version number, found '-'"),
        (", ".join(["1"] * 33), "excessive number of version comparators"),
    ],
)
def test_requirement_errors(text: str, reason: str) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        SCHEME.parse_constraint(text)
    assert info.value.reason == reason
    assert "^" in str(info.value)


def test_requirement_syntax_accepted() -> None:
    assert req("  >=  1.2.3 ,  <  2 ").contains(v("1.5.0"))
    assert req("1.2.3+build").contains(v("1.2.3"))  # build metadata is ignored
    assert req("x").ranges == req("*").ranges
    assert req("1.x").ranges == req("1.*").ranges
    assert req(", ".join(["1"] * 32)).contains(v("1.0.0"))
    assert req(">=1.*").ranges == req(">=1").ranges
    assert req("=1.2.*").comparators == (Comparator("=", 1, 2, None),)
    assert req("1.2.*").comparators == (Comparator("*", 1, 2, None),)


def test_registry() -> None:
    assert scheme("cargo") is SCHEME
    assert scheme("crates").name == "cargo"
