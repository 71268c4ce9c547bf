"""npm: node-semver's versions and ranges.

The tables port node-semver's documented examples (README: "Advanced Range Syntax",
"Prerelease Tags") and the kind of cases its fixtures cover. The differential test at the end
runs node-semver itself on a few thousand (range, version) pairs and compares.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuskops.errors import VersionSyntaxError
from tuskops.packages.ecosystems import scheme
from tuskops.packages.ecosystems.npm import (
    SCHEME,
    NpmRange,
    NpmScheme,
    SemVer,
    max_satisfying,
    min_satisfying,
    parse_range,
    rsort,
    sort,
)


def v(text: str) -> SemVer:
    return SemVer.parse(text)


def r(text: str, **options: bool) -> NpmRange:
    return parse_range(text, **options)


# --- versions ---------------------------------------------------------------------------------


def test_registry_and_scheme() -> None:
    assert scheme("npm") is SCHEME
    assert SCHEME.name == "npm"
    assert SCHEME.parse_version("v1.2.3") == v("1.2.3")
    assert SCHEME.parse_constraint("^1.2.3").contains(v("1.9.0"))


SPEC_ORDER = [
    "0.0.0-0",
    "0.0.0",
    "0.9.9",
    "1.0.0-0",
    "1.0.0-1",
    "1.0.0-2",
    "1.0.0-10",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "1.10.0",
    "2.0.0",
    "10.0.0",
]


def test_precedence_follows_semver_2() -> None:
    versions = [v(t) for t in SPEC_ORDER]
    for i, a in enumerate(versions):
        for j, b in enumerate(versions):
            assert (a < b) == (i < j), (a, b)
            assert (a <= b) == (i <= j)
            assert (a > b) == (i > j)
            assert (a >= b) == (i >= j)
            assert (a == b) == (i == j)
    shuffled = list(reversed(SPEC_ORDER))
    assert sort(shuffled) == SPEC_ORDER
    assert rsort(SPEC_ORDER) == shuffled


def test_build_metadata_is_ignored_for_precedence_but_kept() -> None:
    a, b = v("1.2.3+build.1"), v("1.2.3+other")
    assert a == b
    assert hash(a) == hash(b)
    assert str(a) == "1.2.3+build.1"
    assert a.version == "1.2.3"
    assert a.build == ("build", "1")
    # node-semver's sort breaks ties on build metadata (compareBuild).
    assert sort(["1.2.3+b", "1.2.3", "1.2.3+a.2", "1.2.3+a.10"]) == [
        "1.2.3",
        "1.2.3+a.2",
        "1.2.3+a.10",
        "1.2.3+b",
    ]


@pytest.mark.parametrize(
    ("text", "loose", "expected"),
    [
        ("1.2.3", False, "1.2.3"),
        ("v1.2.3", False, "1.2.3"),
        ("  1.2.3  ", False, "1.2.3"),
        ("1.2.3-alpha.1+build.5", False, "1.2.3-alpha.1+build.5"),
        ("1.2.3-0a.--", False, "1.2.3-0a.--"),
        ("1.2.3+001", False, "1.2.3+001"),
        ("=1.2.3", True, "1.2.3"),
        ("v 1.2.3", True, "1.2.3"),
        ("= v1.2.3", True, "1.2.3"),
        ("01.02.03", True, "1.2.3"),
        ("1.2.3beta", True, "1.2.3-beta"),
        ("1.2.3-01", True, "1.2.3-1"),
    ],
)
def test_parse_valid_versions(text: str, loose: bool, expected: str) -> None:
    assert str(SemVer.parse(text, loose=loose)) == expected


def test_prerelease_identifiers() -> None:
    version = v("1.2.3-alpha.10.0a")
    assert version.prerelease == ("alpha", 10, "0a")
    assert version.triple == (1, 2, 3)


@pytest.mark.parametrize(
    ("text", "loose", "caret"),
    [
        ("1.2", False, 3),
        ("1.2.3.4", False, 5),
        ("01.2.3", False, 1),
        ("1.02.3", False, 3),
        ("1.2.3-01", False, 7),
        ("1.2.3-", False, 6),
        ("1.2.3-a..b", False, 8),
        ("1.2.3+", False, 6),
        ("1.2.3+a_b", False, 7),
        ("x1.2.3", False, 0),
        ("=1.2.3", False, 0),
        ("  1.2.3beta", False, 7),
        ("1.2.3 beta", True, 5),
        ("a.b.c", True, 0),
        ("", False, 0),
    ],
)
def test_parse_invalid_versions_points_at_the_character(text: str, loose: bool, caret: int) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        SemVer.parse(text, loose=loose)
    assert info.value.start == caret
    assert info.value.ecosystem == "npm"
    assert info.value.what == "version"
    rendered = str(info.value).splitlines()
    assert rendered[2].index("^") == 4 + caret


def test_parse_rejects_numbers_beyond_max_safe_integer_and_long_input() -> None:
    with pytest.raises(VersionSyntaxError) as info:
        v("1.9007199254740992.0")
    assert (info.value.start, info.value.end) == (2, 18)
    assert v("1.9007199254740991.0").minor == 2**53 - 1
    with pytest.raises(VersionSyntaxError):
        v("1.2.3-" + "a" * 300)


# --- ranges: desugaring -----------------------------------------------------------------------

DESUGARED = [
    # README: hyphen ranges
    ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
    ("1.2 - 2.3.4", ">=1.2.0 <=2.3.4"),
    ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
    ("1.2.3 - 2", ">=1.2.3 <3.0.0-0"),
    ("1.2.3-beta.2 - 2.0.0-rc.1", ">=1.2.3-beta.2 <=2.0.0-rc.1"),
    ("* - 2", "<3.0.0-0"),
    # X-ranges
    ("*", ""),
    ("", ""),
    ("x", ""),
    ("1.x", ">=1.0.0 <2.0.0-0"),
    ("1.2.x", ">=1.2.0 <1.3.0-0"),
    ("1.2.*", ">=1.2.0 <1.3.0-0"),
    ("1", ">=1.0.0 <2.0.0-0"),
    ("1.x.x", ">=1.0.0 <2.0.0-0"),
    ("1.2", ">=1.2.0 <1.3.0-0"),
    ("=1.2", ">=1.2.0 <1.3.0-0"),
    (">1", ">=2.0.0"),
    (">1.2", ">=1.3.0"),
    (">=1.2", ">=1.2.0"),
    ("<1.2", "<1.2.0-0"),
    ("<=1.2", "<1.3.0-0"),
    ("<=1", "<2.0.0-0"),
    (">*", "<0.0.0-0"),
    ("<*", "<0.0.0-0"),
    (">=*", ""),
    # tilde
    ("~1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~1.2", ">=1.2.0 <1.3.0-0"),
    ("~1", ">=1.0.0 <2.0.0-0"),
    ("~0.2.3", ">=0.2.3 <0.3.0-0"),
    ("~0.2", ">=0.2.0 <0.3.0-0"),
    ("~0", "<1.0.0-0"),
    ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"),
    ("~> 1.2", ">=1.2.0 <1.3.0-0"),
    ("~ 1.2.3", ">=1.2.3 <1.3.0-0"),
    # caret
    ("^1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^0.2.3", ">=0.2.3 <0.3.0-0"),
    ("^0.0.3", ">=0.0.3 <0.0.4-0"),
    ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
    ("^0.0.3-beta", ">=0.0.3-beta <0.0.4-0"),
    ("^1.2.x", ">=1.2.0 <2.0.0-0"),
    ("^0.0.x", "<0.1.0-0"),
    ("^0.0", "<0.1.0-0"),
    ("^1.x", ">=1.0.0 <2.0.0-0"),
    ("^0.x", "<1.0.0-0"),
    ("^ 1.2.3", ">=1.2.3 <2.0.0-0"),
    # plain comparators, whitespace, unions
    (">= 1.2.3 < 2", ">=1.2.3 <2.0.0-0"),
    ("=1.2.3", "1.2.3"),
    ("v1.2.3", "1.2.3"),
    ("1.2.3+build", "1.2.3"),
    (">=0.0.0", ""),
    ("1.2.3 1.2.3", "1.2.3"),
    ("* 1.2.3", "1.2.3"),
    ("<0.0.0-0 1.2.3", "<0.0.0-0"),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.2.7||>=1.2.9 <2.0.0"),
    ("<0.0.0-0 || 1.2.3", "1.2.3"),
    ("* || 1.2.3-beta", ""),
    ("  >=1.0.0   \t<2  ", ">=1.0.0 <2.0.0-0"),
]


@pytest.mark.parametrize(("text", "expected"), DESUGARED)
def test_desugaring_matches_node_semver(text: str, expected: str) -> None:
    assert r(text).desugared == expected
    assert str(r(text)) == (expected or "*")


def test_include_prerelease_lowers_the_bounds() -> None:
    assert r("^1.2.3", include_prerelease=True).desugared == ">=1.2.3 <2.0.0-0"
    assert r("^1.2", include_prerelease=True).desugared == ">=1.2.0-0 <2.0.0-0"
    assert r("~1.2", include_prerelease=True).desugared == ">=1.2.0-0 <1.3.0-0"
    assert r("1.2.3 - 2.3.4", include_prerelease=True).desugared == ">=1.2.3-0 <2.3.5-0"
    assert r("1.x", include_prerelease=True).desugared == ">=1.0.0-0 <2.0.0-0"
    assert r(">=0.0.0-0", include_prerelease=True).desugared == ""


# --- ranges: membership -----------------------------------------------------------------------

MATCHES = [
    ("1.0.0 - 2.0.0", "1.2.3"),
    ("^1.2.3+build", "1.2.3"),
    ("^1.2.3+build", "1.3.0"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2"),
    ("1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha"),
    ("1.2.3+asdf - 2.4.3+asdf", "1.2.3"),
    ("1.0.0", "1.0.0"),
    (">=*", "0.2.4"),
    ("", "1.0.0"),
    ("*", "1.2.3"),
    (">=1.0.0", "1.0.0"),
    (">=1.0.0", "1.1.0"),
    (">1.0.0", "1.0.1"),
    ("<=2.0.0", "2.0.0"),
    ("<=2.0.0", "0.2.9"),
    ("<2.0.0", "1.9999.9999"),
    (">= 1.0.0", "1.0.0"),
    (">=  1.0.0", "1.0.1"),
    ("<=   2.0.0", "2.0.0"),
    ("0.1.20 || 1.2.4", "1.2.4"),
    (">=0.2.3 || <0.0.1", "0.0.0"),
    ("||", "1.3.4"),
    ("2.x.x", "2.1.3"),
    ("1.2.x", "1.2.3"),
    ("1.2.x || 2.x", "2.1.3"),
    ("x", "1.2.3"),
    ("2.*.*", "2.1.3"),
    ("2", "2.1.2"),
    ("2.3", "2.3.1"),
    ("~0.0.1", "0.0.1"),
    ("~0.0.1", "0.0.2"),
    ("~x", "0.0.9"),
    ("~2", "2.0.9"),
    ("~2.4", "2.4.0"),
    ("~>3.2.1", "3.2.2"),
    ("~1", "1.2.3"),
    ("~>1", "1.2.3"),
    ("~> 1", "1.2.3"),
    ("~1.0", "1.0.2"),
    ("~ 1.0", "1.0.2"),
    ("~ 1.0.3", "1.0.12"),
    (">=1", "1.0.0"),
    (">= 1", "1.0.0"),
    ("<1.2", "1.1.1"),
    ("< 1.2", "1.1.1"),
    ("~v0.5.4-pre", "0.5.5"),
    ("~v0.5.4-pre", "0.5.4"),
    ("=0.7.x", "0.7.2"),
    ("<=0.7.x", "0.7.2"),
    (">=0.7.x", "0.7.2"),
    ("<=0.7.x", "0.6.2"),
    ("~1.2.1 >=1.2.3", "1.2.3"),
    ("~1.2.1 =1.2.3", "1.2.3"),
    ("~1.2.1 1.2.3", "1.2.3"),
    (">=1.2.1 1.2.3", "1.2.3"),
    ("1.2.3 >=1.2.1", "1.2.3"),
    (">=1.2.3 >=1.2.1", "1.2.3"),
    (">=1.2", "1.2.8"),
    ("^1.2.3", "1.8.1"),
    ("^0.1.2", "0.1.2"),
    ("^0.1", "0.1.2"),
    ("^0.0.1", "0.0.1"),
    ("^1.2", "1.4.2"),
    ("^1.2 ^1", "1.4.2"),
    ("^1.2.3-alpha", "1.2.3-pre"),
    ("^1.2.0-alpha", "1.2.0-pre"),
    ("^0.0.1-alpha", "0.0.1-beta"),
    ("^0.0.1-alpha", "0.0.1"),
    ("^0.1.1-alpha", "0.1.1-beta"),
    ("^x", "1.2.3"),
    ("x - 1.0.0", "0.9.7"),
    ("x - 1.x", "0.9.7"),
    ("1.0.0 - x", "1.9.7"),
    ("1.x - x", "1.9.7"),
    ("<=7.x", "7.9.9"),
    # README "Prerelease Tags"
    (">1.2.3-alpha.3", "1.2.3-alpha.7"),
    (">1.2.3-alpha.3", "3.4.5"),
    (">1.2.3-alpha.3 <1.2.3-alpha.5", "1.2.3-alpha.4"),
    (">=1.2.3-alpha.3 <1.2.4", "1.2.3"),
    ("1.2.3-alpha.3 || >=2.0.0", "1.2.3-alpha.3"),
    (">=1.2.3-beta <1.2.3", "1.2.3-beta.1"),
    ("^1.2.3-beta.2", "1.2.3-beta.4"),
    ("~1.2.3-beta.2", "1.2.3-beta.4"),
    ("1.2.3-beta.2 - 2.3.4", "1.2.3-beta.3"),
    ("1.2.3 - 2.3.4-beta.1", "2.3.4-alpha"),
]

NON_MATCHES = [
    ("1.0.0 - 2.0.0", "2.2.3"),
    ("1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2"),
    ("1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha"),
    ("^1.2.3+build", "2.0.0"),
    ("^1.2.3+build", "1.2.0"),
    ("^1.2.3", "1.2.3-pre"),
    ("^1.2", "1.2.0-pre"),
    (">1.2", "1.3.0-beta"),
    ("<=1.2.3", "1.2.3-beta"),
    ("^1.2.3", "1.2.3-beta"),
    ("=0.7.x", "0.7.0-asdf"),
    (">=0.7.x", "0.7.0-asdf"),
    ("<=0.7.x", "0.7.0-asdf"),
    ("1", "1.0.0beta"),
    ("<1", "1.0.0beta"),
    ("< 1", "1.0.0beta"),
    ("1.0.0", "1.0.1"),
    (">=1.0.0", "0.0.0"),
    (">=1.0.0", "0.0.1"),
    (">=1.0.0", "0.1.0"),
    (">1.0.0", "0.0.1"),
    ("<=2.0.0", "3.0.0"),
    ("<=2.0.0", "2.9999.9999"),
    ("<2.0.0", "2.0.0"),
    ("0.1.20 || 1.2.4", "1.2.3"),
    (">=0.2.3 || <0.0.1", "0.0.3"),
    (">=0.2.3 || <0.0.1", "0.2.2"),
    ("2.x.x", "1.1.3"),
    ("2.x.x", "3.1.3"),
    ("1.2.x", "1.3.3"),
    ("1.2.x || 2.x", "3.1.3"),
    ("1.2.x || 2.x", "1.1.3"),
    ("2.*.*", "1.1.3"),
    ("2", "1.1.2"),
    ("2.3", "2.4.1"),
    ("~0.0.1", "0.1.0-alpha"),
    ("~0.0.1", "0.1.0"),
    ("~2.4", "2.5.0"),
    ("~2.4", "2.3.9"),
    ("~>3.2.1", "3.3.2"),
    ("~>3.2.1", "3.2.0"),
    ("~1", "0.2.3"),
    ("~>1", "2.2.3"),
    ("~1.0", "1.1.0"),
    ("<1", "1.0.0"),
    (">=1.2", "1.1.1"),
    ("~v0.5.4-beta", "0.5.4-alpha"),
    ("=0.7.x", "0.8.2"),
    (">=0.7.x", "0.6.2"),
    ("<0.7.x", "0.7.2"),
    ("<1.2.3", "1.2.3-beta"),
    ("=1.2.3", "1.2.3-beta"),
    (">1.2", "1.2.8"),
    ("^0.0.1", "0.0.2-alpha"),
    ("^0.0.1", "0.0.2"),
    ("^1.2.3", "2.0.0-alpha"),
    ("^1.2.3", "1.2.2"),
    ("^1.2", "1.1.9"),
    ("*", "1.2.3-foo"),
    ("^1.0.0", "2.0.0-rc1"),
    ("1 - 2", "3.0.0-pre"),
    ("1 - 2", "2.0.0-pre"),
    ("1.1.x", "1.0.0-a"),
    ("1.1.x", "1.1.0-a"),
    ("1.1.x", "1.2.0-a"),
    ("1.x", "1.0.0-a"),
    ("1.x", "1.1.0-a"),
    ("1.x", "2.0.0-a"),
    (">=1.0.0 <1.1.0", "1.1.0-pre"),
    ("* || 1.2.3-beta", "1.2.3-beta"),
    # README "Prerelease Tags"
    (">1.2.3-alpha.3", "3.4.5-alpha.9"),
    (">1.2.3-alpha.3", "1.2.3-alpha.3"),
    ("^1.2.3-beta.2", "1.2.4-beta.2"),
    ("1.2.3-beta.2 - 2.3.4", "2.3.4-beta.1"),
]


@pytest.mark.parametrize(("text", "version"), MATCHES)
def test_matches(text: str, version: str) -> None:
    assert r(text).contains(v(version))
    assert r(text, loose=True).contains(SemVer.parse(version, loose=True))


@pytest.mark.parametrize(("text", "version"), NON_MATCHES)
def test_non_matches(text: str, version: str) -> None:
    parsed = SemVer.parse(version, loose=True)
    assert not r(text, loose=True).contains(parsed)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("*", "1.2.3-foo"),
        ("^1.0.0", "1.5.0-rc1"),
        ("1.x", "1.1.0-a"),
        (">=1.0.0 <1.1.0", "1.0.5-pre"),
        ("^1.2.3", "1.8.0-beta"),
    ],
)
def test_include_prerelease_admits_prereleases(text: str, version: str) -> None:
    assert not r(text).contains(v(version))
    assert r(text, include_prerelease=True).contains(v(version))


def test_contains_accepts_strings_like_satisfies() -> None:
    rng = r("^1.2.3")
    assert rng.contains("1.4.0")
    assert "v1.4.0" in rng
    assert not rng.contains("not a version")


def test_ranges_are_the_versions_before_the_prerelease_rule() -> None:
    rng = r("^1.2.3")
    assert rng.ranges == parse_range(">=1.2.3 <2.0.0-0").ranges
    assert rng.ranges.contains(v("1.5.0-beta"))
    assert not rng.contains(v("1.5.0-beta"))


# --- range errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "caret"),
    [
        (">=>1.2", 2),
        ("1.2.3.4", 5),
        ("^1.2.3 foo", 7),
        ("01.2.3", 1),
        (">=1.2.3 <=2.0.0 >=3.0.0-01", 25),
        ("1.2.3 || >=1.2.3a", 16),
        ("~1.2.3.4", 6),
        ("*.1", 1),
        ("1.x.2", 2),
        ("==1.2.3", 1),
        ("1.2.3 -", 6),
        (">=1.9007199254740992.0", 4),
    ],
)
def test_strict_range_errors_point_at_the_character(text: str, caret: int) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        r(text)
    assert info.value.start == caret, str(info.value)
    assert info.value.what == "range"


def test_loose_mode_drops_bad_comparators_but_not_a_wholly_bad_range() -> None:
    assert r("^1.2.3 foo", loose=True).desugared == ">=1.2.3 <2.0.0-0"
    assert r("1.2.3 || foo", loose=True).desugared == "1.2.3"
    with pytest.raises(VersionSyntaxError) as info:
        r("  foo bar", loose=True)
    assert (info.value.start, info.value.end) == (2, 9)
    # npm itself reads ranges loosely.
    assert SCHEME.parse_constraint("^1.2.3 foo").contains(v("1.3.0"))
    with pytest.raises(VersionSyntaxError):
        NpmScheme(loose=False).parse_constraint("^1.2.3 foo")


def test_long_ranges_are_accepted_like_node_semver() -> None:
    assert r("1.2.3 " * 50).desugared == "1.2.3"
    assert r("^1.2.3 " * 300).desugared == ">=1.2.3 <2.0.0-0"


# --- set operations ---------------------------------------------------------------------------


def test_intersection_keeps_both_prerelease_rules() -> None:
    both = r(">=1.2.3-beta <2") & r("^1.2.3-alpha")
    assert both.contains(v("1.2.3-beta.1"))
    assert both.contains(v("1.5.0"))
    assert not both.contains(v("1.2.3-alpha.9"))  # below >=1.2.3-beta
    assert not both.contains(v("1.5.0-beta"))
    assert (r("^1") & r("^2")).is_empty()
    assert not (r("^1") & r(">=1.5")).is_empty()


def test_union_keeps_each_prerelease_rule() -> None:
    either = r("^1.2.3-beta") | r("^2.0.0")
    assert either.contains(v("1.2.3-beta.2"))
    assert either.contains(v("2.5.0"))
    assert not either.contains(v("2.0.1-beta"))
    assert not either.contains(v("3.0.0"))


def test_complement_is_exact_including_hidden_prereleases() -> None:
    rng = r("^1.2.3")
    outside = rng.complement()
    assert outside.contains(v("1.5.0-beta"))  # ^1.2.3 hides it, so its complement has it
    assert outside.contains(v("2.0.0"))
    assert outside.contains(v("1.2.2"))
    assert not outside.contains(v("1.2.3"))
    assert not outside.contains(v("1.9.9"))
    assert (rng & outside).is_empty()
    assert (~~rng).contains(v("1.5.0"))
    assert not (~~rng).contains(v("1.5.0-beta"))
    assert r("*").complement().contains(v("1.0.0-rc.1"))
    assert not r("*").complement().contains(v("1.0.0"))


def test_emptiness_subset_and_difference() -> None:
    assert r("<0.0.0-0").is_empty()
    assert r(">=2 <1").is_empty()
    assert r(">=1.2.3-alpha <1.2.3-beta").is_empty() is False
    # No version lies strictly between 1.2.3 and 1.2.4-0: the release check sees that.
    assert r(">1.2.3 <1.2.4-0").is_empty()
    # Between two adjacent pre-releases, order is treated as dense (documented).
    assert r(">1.0.0-a <1.0.0-a.0").is_empty() is False
    assert (r("^1.2.3") & r(">=2.0.0-0 <2.0.0")).is_empty()
    assert r("~1.2.3").is_subset(r("^1.2.3"))
    assert not r("^1.2.3").is_subset(r("~1.2.3"))
    assert r("^1.2.3-beta").is_subset(r("^1.2.3-alpha"))
    assert not r("^1.2.3-beta").is_subset(r("^1.2.3"))
    diff = r("^1") - r("~1.2")
    assert diff.contains(v("1.1.0"))
    assert diff.contains(v("1.3.0"))
    assert not diff.contains(v("1.2.5"))


# --- helpers ----------------------------------------------------------------------------------


def test_max_and_min_satisfying() -> None:
    versions = ["1.2.3", "1.2.4", "1.3.0-beta", "2.0.0", "not-a-version", "v1.2.5"]
    assert max_satisfying(versions, "~1.2.0") == "v1.2.5"
    assert min_satisfying(versions, "~1.2.0") == "1.2.3"
    assert max_satisfying(versions, ">=1.3.0-alpha <2") == "1.3.0-beta"
    assert max_satisfying(versions, "^3") is None
    assert min_satisfying([v("2.0.0"), v("1.0.0")], r("*")) == v("1.0.0")
    assert max_satisfying(["1.0.0+a", "1.0.0+b"], "1") == "1.0.0+a"


# --- properties -------------------------------------------------------------------------------

triples = st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))
prereleases = st.lists(
    st.one_of(st.integers(0, 3), st.sampled_from(["alpha", "beta", "rc", "0a"])), max_size=2
)
versions = st.builds(lambda t, p: SemVer(t[0], t[1], t[2], p), triples, prereleases)
releases = st.builds(lambda t: SemVer(t[0], t[1], t[2]), triples)


@st.composite
def simple_ranges(draw: st.DrawFn, prerelease: bool = True) -> str:
    def one() -> str:
        op = draw(st.sampled_from(["", "=", "<", "<=", ">", ">=", "~", "^", "~>"]))
        parts = [str(x) for x in draw(triples)]
        cut = draw(st.integers(1, 3))
        text = ".".join(parts[:cut])
        if draw(st.booleans()) and cut < 3:
            text += ".x"
        if prerelease and cut == 3 and draw(st.integers(0, 3)) == 0:
            text += "-" + draw(st.sampled_from(["alpha", "beta.1", "0", "rc.2"]))
        return op + text

    sets = draw(st.lists(st.lists(st.just(None), min_size=1, max_size=3), min_size=1, max_size=3))
    return " || ".join(" ".join(one() for _ in s) for s in sets)


@given(simple_ranges(prerelease=False), releases)
def test_release_versions_follow_the_ranges(text: str, version: SemVer) -> None:
    rng = r(text)
    assert rng.contains(version) == rng.ranges.contains(version)


@given(simple_ranges(), versions)
def test_prerelease_rule_only_narrows(text: str, version: SemVer) -> None:
    rng = r(text)
    if rng.contains(version):
        assert rng.ranges.contains(version)
        # include_prerelease only widens.
        assert r(text, include_prerelease=True).contains(version)
        if version.prerelease:
            sets = rng.comparator_sets or ()
            assert any(
                c.version is not None
                and c.version.prerelease
                and c.version.triple == version.triple
                for s in sets
                for c in s
            )


@settings(max_examples=300)
@given(simple_ranges(), simple_ranges(), st.lists(versions, min_size=1, max_size=8))
def test_set_operations_are_exact(a_text: str, b_text: str, sample: list[SemVer]) -> None:
    a, b = r(a_text), r(b_text)
    both, either, not_a, a_minus_b = a & b, a | b, ~a, a - b
    for version in sample:
        in_a, in_b = a.contains(version), b.contains(version)
        assert both.contains(version) == (in_a and in_b)
        assert either.contains(version) == (in_a or in_b)
        assert not_a.contains(version) == (not in_a)
        assert a_minus_b.contains(version) == (in_a and not in_b)
        if both.is_empty():
            assert not (in_a and in_b)
        if a.is_subset(b) and in_a:
            assert in_b


def _reference_compare(a: SemVer, b: SemVer) -> int:
    """SemVer 2.0 section 11, written out."""
    if a.triple != b.triple:
        return -1 if a.triple < b.triple else 1
    if not a.prerelease or not b.prerelease:
        return (not a.prerelease) - (not b.prerelease)
    for x, y in zip(a.prerelease, b.prerelease, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int) != isinstance(y, int):
            return -1 if isinstance(x, int) else 1
        return -1 if str(x) < str(y) else 1
    return (len(a.prerelease) > len(b.prerelease)) - (len(a.prerelease) < len(b.prerelease))


@given(versions, versions)
def test_order_matches_the_spec(a: SemVer, b: SemVer) -> None:
    expected = _reference_compare(a, b)
    assert (a < b) == (expected < 0)
    assert (a == b) == (expected == 0)
    assert (a > b) == (expected > 0)
    assert SemVer.parse(str(a)) == a


# --- differential: node-semver itself ---------------------------------------------------------

NODE_SCRIPT = r"""
const semver = require(process.argv[2]);
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const ranges = input.ranges.map(([range, opts, versions]) => {
  let desugared = null;
  try { desugared = new semver.Range(range, opts).range } catch (e) { desugared = null }
  return [desugared, versions.map(v => semver.satisfies(v, range, opts))];
});
const sorted = semver.sort(input.versions.slice());
const valid = input.texts.map(v => [semver.valid(v), semver.valid(v, true)]);
console.log(JSON.stringify({ranges, sorted, valid}));
"""

DIFF_VERSIONS = [
    "0.0.0-0",
    "0.0.0",
    "0.0.1-alpha",
    "0.0.1",
    "0.0.2",
    "0.1.0-0",
    "0.1.0",
    "0.1.5",
    "0.2.0",
    "0.9.9",
    "1.0.0-0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0-beta",
    "1.1.0",
    "1.2.0",
    "1.2.3-alpha",
    "1.2.3-beta.1",
    "1.2.3",
    "1.2.4-0",
    "1.2.4",
    "1.3.0",
    "1.9.9",
    "2.0.0-0",
    "2.0.0-rc.1",
    "2.0.0",
    "2.0.1",
    "2.1.0-beta",
    "2.4.0",
    "3.0.0",
    "3.0.0+build.1",
    "10.0.0",
]

VERSION_TEXTS = [
    "1.2.3",
    " 1.2.3 ",
    "v1.2.3",
    "=1.2.3",
    "v 1.2.3",
    "= v 1.2.3",
    "==1.2.3",
    "vv1.2.3",
    "01.2.3",
    "1.02.3",
    "1.2.03",
    "1.2.3-01",
    "1.2.3-0a",
    "1.2.3-a.01",
    "1.2.3beta",
    "1.2.3-beta+build.01",
    "1.2.3+",
    "1.2.3-",
    "1.2.3.4",
    "1.2",
    "1",
    "",
    "x",
    "1.2.x",
    "1.2.3 -beta",
    "1.2.3-be_ta",
    "9007199254740991.0.0",
    "9007199254740992.0.0",
    "1.2.3-9007199254740991",
    "1.2.3-a-b--c.d",
    "\t1.2.3\n",
]

DIFF_PIECES = [
    "1",
    "1.2",
    "1.2.3",
    "0",
    "0.0",
    "0.1",
    "0.0.1",
    "0.1.5",
    "1.x",
    "1.2.x",
    "1.*",
    "x",
    "*",
    "0.0.x",
    "1.2.3-beta",
    "1.2.3-beta.1",
    "2.0.0-0",
    "0.0.1-alpha",
    "v1.2.3",
    "=1.2.3",
    "1.2.3+build",
    "0.0.0",
    "2",
    "1.0.0-alpha.1",
    "x.x.x",
    "1.x.3",
    "01.2.3",
    "1.2.3beta",
    "foo",
    "1.2.3-2.3.4",
    "X",
    "1.X",
    "*.1",
    "1.2.3-0",
    "0.0.0-0",
    "2.x.x-beta",
    "9007199254740991",
]

ODD_RANGES = [
    "1.2.3 -2.3.4",
    "1.2.3- 2.3.4",
    "- 1.2.3",
    "1.2.3 - ",
    ">=",
    "<",
    "~",
    "^",
    "||||",
    " || 1.2.3",
    "1.2.3 ||",
    "> 1.2.3 < 2",
    ">=1.2.3<2.0.0",
    ">= 1.2.3 - 2.0.0",
    "1.2.3 - 2.0.0 - 3.0.0",
    "~1.2.3 - 2",
    ">=v1.2.3",
    "> =1.2.3",
    "> = 1.2.3",
    "<=1.2.3-beta.x",
    "^1.2.3-beta.01",
    "^1.2.3-beta+b",
    "1.2.3+b - 2.0.0+c",
    "ab1.2.3",
    "1.2.3 ab",
    "~1.2.3beta",
    "^01.2.3",
    "^1.2.3.4",
    "=v1.2.3 - 2",
    "v1.2.3 - v2",
    "1.2.3 - 2.3.4-beta",
    "\t>=1.2.3\n<2 ",
    ">1.2.3-alpha.3 <1.2.3-alpha.5 || ^2.0.0-rc.1",
    "<0.0.0-0 || <0.0.0-0",
    "* || *",
    ">* || 1.2.3",
    "1.2.3 + 1",
]
DIFF_OPERATORS = [
    "",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "~",
    "~>",
    "^",
    "> ",
    ">= ",
    "<  ",
    "~ ",
    "~> ",
    "^ ",
    "v",
    "~v",
    "^=",
    "=>",
]


def _differential_table() -> list[str]:
    rng = random.Random(20261124)
    table = [text for text, _ in DESUGARED] + [text for text, _ in MATCHES + NON_MATCHES]
    table += ODD_RANGES
    for _ in range(2000):
        sets = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            if rng.random() < 0.15:
                sets.append(f"{rng.choice(DIFF_PIECES)} - {rng.choice(DIFF_PIECES)}")
                continue
            comps = [
                rng.choice(DIFF_OPERATORS) + rng.choice(DIFF_PIECES)
                for _ in range(rng.choice([1, 1, 2, 3]))
            ]
            sets.append(" ".join(comps))
        table.append(rng.choice([" || ", "||", " ||  "]).join(sets))
    return table


def _node_semver(tmp_root: Path) -> tuple[str, Path]:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("needs node and npm")
    cache = Path(os.environ.get("TUSKOPS_TEST_CACHE", Path.home() / ".cache" / "tuskops-test"))
    target = cache / "node-semver-7"
    module = target / "node_modules" / "semver"
    if not (module / "package.json").exists():
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError:
            target = tmp_root / "node-semver-7"
            module = target / "node_modules" / "semver"
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(target), "semver@7"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return node, module


@pytest.mark.network
def test_differential_against_node_semver(tmp_path: Path) -> None:
    node, module = _node_semver(tmp_path)
    table = _differential_table()
    cases = []
    for text in table:
        for options in ({}, {"loose": True}, {"includePrerelease": True}):
            cases.append((text, options, DIFF_VERSIONS))
    shuffled = list(DIFF_VERSIONS)
    random.Random(7).shuffle(shuffled)
    script = tmp_path / "diff.js"
    script.write_text(NODE_SCRIPT)
    result = subprocess.run(
        [node, str(script), str(module)],
        input=json.dumps({"ranges": cases, "versions": shuffled, "texts": VERSION_TEXTS}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    answer = json.loads(result.stdout)
    assert sort(shuffled) == answer["sorted"]
    for text, (strict, loose) in zip(VERSION_TEXTS, answer["valid"], strict=True):
        for is_loose, expected in ((False, strict), (True, loose)):
            try:
                got: str | None = SemVer.parse(text, loose=is_loose).version
            except VersionSyntaxError:
                got = None
            assert got == expected, (text, is_loose)
    parsed_versions = [SemVer.parse(x) for x in DIFF_VERSIONS]
    mismatches: list[tuple[str, dict[str, bool], object, object]] = []
    for (text, options, _), (desugared, satisfied) in zip(cases, answer["ranges"], strict=True):
        loose = bool(options.get("loose"))
        include = bool(options.get("includePrerelease"))
        try:
            mine = parse_range(text, loose=loose, include_prerelease=include)
        except VersionSyntaxError:
            if desugared is not None:
                mismatches.append((text, options, "rejected", desugared))
            continue
        if desugared is None:
            mismatches.append((text, options, mine.desugared, "rejected"))
            continue
        if mine.desugared != desugared:
            mismatches.append((text, options, mine.desugared, desugared))
        for version, expected in zip(parsed_versions, satisfied, strict=True):
            if mine.contains(version) != expected:
                mismatches.append((text, options, str(version), expected))
    assert not mismatches, "\n".join(map(repr, mismatches[:40]))
    assert len(cases) > 6000
