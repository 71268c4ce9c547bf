"""RubyGems versions and requirements.

The tables follow the examples of rubygems' ``test_gem_version.rb`` and
``test_gem_requirement.rb`` (restated as data, not copied); the property tests check that the
order is total and that ``Ranges`` agree with ``satisfied_by?`` evaluated operator by operator.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuskops.errors import VersionSyntaxError
from tuskops.packages.ecosystems import scheme
from tuskops.packages.ecosystems.base import VersionScheme
from tuskops.packages.ecosystems.rubygems import (
    SCHEME,
    RubygemsRequirement,
    RubygemsScheme,
    RubygemsVersion,
)


def v(text: str) -> RubygemsVersion:
    return SCHEME.parse_version(text)


def req(text: str) -> RubygemsRequirement:
    return SCHEME.parse_constraint(text)


def test_registry() -> None:
    assert scheme("rubygems") is SCHEME
    assert scheme("gem") is SCHEME
    assert isinstance(SCHEME, RubygemsScheme)
    assert SCHEME.name == "rubygems"


def test_protocols() -> None:
    versions: VersionScheme[RubygemsVersion] = SCHEME
    # Not annotated as base.Constraint: its ``text: str`` asks for a settable attribute, and
    # constraints are frozen (base.py would need ``text`` as a read-only property).
    constraint = req("1.0")
    assert isinstance(versions.parse_constraint("1.0"), RubygemsRequirement)
    assert constraint.contains(versions.parse_version("1.0"))


# --- versions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1.0", "1.0 ", " 1.0 ", "1.0\n", "\n1.0\n", "\t1.0\r"])
def test_whitespace_is_stripped(text: str) -> None:
    assert v(text) == v("1.0")
    assert v(text).version == "1.0"


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_blank_is_zero(text: str) -> None:
    assert v(text).version == "0"
    assert v(text) == v("0")


@pytest.mark.parametrize(
    ("text", "caret"),
    [
        ("junk", 0),
        ("1.0\n2.0", 4),
        ("1..2", 1),
        ("1.2 3.4", 4),
        ("1.0+build", 3),
        ("1.0_1", 3),
        ("v1.0", 0),
        ("1.0.", 3),
    ],
)
def test_malformed_versions(text: str, caret: int) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        v(text)
    assert info.value.start == caret
    assert info.value.ecosystem == "rubygems"
    assert "\n    " + " " * caret + "^" in str(info.value)


@pytest.mark.parametrize(
    ("text", "version", "segments"),
    [
        ("1.2.3", "1.2.3", (1, 2, 3)),
        ("1.2.3.a", "1.2.3.a", (1, 2, 3, "a")),
        ("1.0.a10", "1.0.a10", (1, 0, "a", 10)),
        ("1.2.3-rc1", "1.2.3.pre.rc1", (1, 2, 3, "pre", "rc", 1)),
        ("1-1", "1.pre.1", (1, "pre", 1)),
        ("1.0.0-beta.2", "1.0.0.pre.beta.2", (1, 0, 0, "pre", "beta", 2)),
        ("2.0.0.rc2", "2.0.0.rc2", (2, 0, 0, "rc", 2)),
        ("010.02", "010.02", (10, 2)),
        ("1.A", "1.A", (1, "A")),
    ],
)
def test_segments(text: str, version: str, segments: tuple[int | str, ...]) -> None:
    assert v(text).version == version
    assert v(text).segments == segments


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1.0.0", (1,)),
        ("0", (0,)),
        ("0.0", (0,)),
        ("10.0", (10,)),
        ("1.010", (1, 10)),
        ("1.0.0.a.1.0", (1, "a", 1)),
        ("1.2.3-1", (1, 2, 3, "pre", 1)),
        ("1.2.a.0.b", (1, 2, "a", "b")),
        ("1.0.a.0.b", (1, "a", 0, "b")),
        ("2.0a0", (2, "a")),
        ("1.0.a", (1, "a")),
        ("1.0.0.a.0", (1, "a")),
        ("1.a.0.1", (1, "a", 0, 1)),
        ("0.beta.1", ("beta", 1)),
        ("0.0.beta.1", ("beta", 1)),
        ("1.2.b1", (1, 2, "b", 1)),
    ],
)
def test_canonical_segments(text: str, canonical: tuple[int | str, ...]) -> None:
    assert v(text).canonical_segments == canonical


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("1.0", "1.0.0", 0),
        ("1.0", "1.0.a", 1),
        ("1.8.2", "0.0.0", 1),
        ("1.8.2", "1.8.2.a", 1),
        ("1.8.2.b", "1.8.2.a", 1),
        ("1.8.2.a", "1.8.2", -1),
        ("1.8.2.a10", "1.8.2.a9", 1),
        ("", "0", 0),
        ("0.beta.1", "0.0.beta.1", 0),
        ("0.0.beta", "0.0.beta.1", -1),
        ("0.0.beta", "0.beta.1", -1),
        ("5.a", "5.0.0.rc2", -1),
        ("5.x", "5.0.0.rc2", 1),
        ("1.2.b1", "1.2.b.1", 0),
        ("3.10", "3.2", 1),
        ("1.0.A", "1.0.a", -1),
        ("1.0.a", "1.0.aa", -1),
        ("1.0.1", "1.0.a", 1),
        ("1.0.a.1", "1.0.a", 1),
        ("1.0.a", "1.0.a.b", 1),
        ("1.2.3-rc1", "1.2.3.pre.rc1", 0),
        ("1.2.a.0.b", "1.2.a.b", 0),
        ("1.0.a.0.b", "1.a.0.b", 1),  # only the first run of zeros before a letter goes
    ],
)
def test_spaceship(left: str, right: str, expected: int) -> None:
    assert v(left).compare(v(right)) == expected
    assert v(right).compare(v(left)) == -expected
    assert (v(left) == v(right)) is (expected == 0)


def test_documented_sort_order() -> None:
    texts = ["1.0", "1.0.b1", "1.0.1", "1.0.b.2", "1.0.b10", "1.0.a.2", "0.9", "1.0.a10"]
    assert [str(x) for x in sorted(map(v, texts))] == [
        "0.9",
        "1.0.a.2",
        "1.0.a10",
        "1.0.b1",
        "1.0.b.2",
        "1.0.b10",
        "1.0",
        "1.0.1",
    ]


def test_semver_style_prereleases() -> None:
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1"]
    chain.append("1.0.0")
    for left, right in itertools.pairwise(chain):
        assert v(left) < v(right), (left, right)


def test_eql_and_hash() -> None:
    assert v("1.2").eql(v("1.2"))
    assert not v("1.2").eql(v("1.2.0"))
    assert not v("1.2.b1").eql(v("1.2.b.1"))
    assert v("1.2.b1") == v("1.2.b.1")
    assert hash(v("1.2")) == hash(v("1.2.0"))
    assert len({v("1"), v("1.0"), v("1.0.0"), v("1.1")}) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.0.a", True),
        ("2.9.b", True),
        ("22.1.50.0.d", True),
        ("1.2.d.42", True),
        ("1.A", True),
        ("1-1", True),
        ("1-a", True),
        ("1.2.0", False),
        ("2.9", False),
        ("22.1.50.0", False),
    ],
)
def test_prerelease(text: str, expected: bool) -> None:
    assert v(text).prerelease() is expected


@pytest.mark.parametrize(
    ("text", "release"),
    [
        ("1.2.0.a", "1.2.0"),
        ("1.1.rc10", "1.1"),
        ("1.9.3.alpha.5", "1.9.3"),
        ("1.9.3", "1.9.3"),
        ("1.2.d.42", "1.2"),
    ],
)
def test_release(text: str, release: str) -> None:
    assert v(text).release().version == release


@pytest.mark.parametrize(
    ("text", "bumped"),
    [
        ("5.2.4", "5.3"),
        ("5.2.4.a", "5.3"),
        ("5.2.4.a10", "5.3"),
        ("5.0.0", "5.1"),
        ("5", "6"),
        ("1.a", "2"),
        ("1.0.0-rc1", "1.1"),
    ],
)
def test_bump(text: str, bumped: str) -> None:
    assert v(text).bump().version == bumped


@pytest.mark.parametrize(
    ("text", "recommendation"),
    [
        ("1", "~> 1.0"),
        ("1.0", "~> 1.0"),
        ("1.2", "~> 1.2"),
        ("1.2.0", "~> 1.2"),
        ("1.2.3", "~> 1.2"),
        ("1.2.3.a.4", "~> 1.2.a"),
        ("1.9.0.a", "~> 1.9.a"),
    ],
)
def test_approximate_recommendation(text: str, recommendation: str) -> None:
    assert v(text).approximate_recommendation() == recommendation


# --- requirements -----------------------------------------------------------------------------

SATISFIED = [
    ("0.2.33", "= 0.2.33"),
    ("0.2.34", "> 0.2.33"),
    ("1.0", "= 1.0"),
    ("1.0", "1.0"),
    ("1.0.0", "= 1.0"),
    ("1.0", "= 1.0.0"),
    ("1.0.0.0", "= 1.0"),
    ("1.8.2", "> 1.8.0"),
    ("1.112", "> 1.111"),
    ("0.2", "> 0.0.0"),
    ("0.0.0.0.0.2", "> 0.0.0"),
    ("0.0.1.0", "> 0.0.0.1"),
    ("10.3.2", "> 9.3.2"),
    ("10.3.2", "!= 9.3.4"),
    (" 9.3.2", ">= 9.3.2"),
    ("9.3.2 ", ">= 9.3.2"),
    ("", "= 0"),
    ("", "< 0.1"),
    ("  ", "< 0.1 "),
    ("", " <  0.1"),
    ("  ", " <= 0.1"),
    ("0", "=\n0"),
    ("1.1", "!= 1.2"),
    ("1.3", "!= 1.2"),
    ("1.2", "1.2"),
    ("1.3", "> 1.2"),
    ("1.2", ">= 1.2"),
    ("1.1", "< 1.2"),
    ("1.2", "<= 1.2"),
    ("1.2", "~> 1.2"),
    ("1.3", "~> 1.2"),
    ("0.0.1", "~> 0.0.1"),
    ("0.0.2", "~> 0.0.1"),
    ("2.9.z", "~> 2.1"),
    ("2.1.3", "~> 2.1.3"),
    ("2.1.99", "~> 2.1.3"),
    ("1.0.0", "~> 1.0.0.a"),
    ("1.0.1.a", "~> 1.0.0.a"),
    ("1.0.0.b", "~> 1.0.0.a"),
    ("2.0.a", ">= 1.0"),  # satisfied_by? does not hide pre-releases
    ("1.0.a", "< 1.0"),
    ("1.5", "~> 1.a"),
    ("1.5", ">= 1.0, < 2"),
    ("1.5", "~> 1.0, != 1.4"),
    ("1.2.3-rc1", "= 1.2.3.pre.rc1"),
]

REFUSED = [
    ("0.2.33", "> 0.2.33"),
    ("1.0", "> 1.0"),
    ("1.2", "> 1.3"),
    ("1.0.0.1", "= 1.0"),
    ("1.2", "!= 1.2"),
    ("1.2.0", "!= 1.2"),
    ("1.1", "1.2"),
    ("1.2", "> 1.2"),
    ("1.1", ">= 1.2"),
    ("1.2", "< 1.2"),
    ("1.3", "<= 1.2"),
    ("1.1", "~> 1.2"),
    ("2.0", "~> 1.2"),
    ("0.1", "~> 0.0.1"),
    ("1.2.3", "~> 1.1.1"),
    ("1.3.0", "~> 1.2.0"),
    ("3.0", "~> 2.1"),
    ("3.0.a", "~> 2.1"),  # release 3.0 is not below the bump 3, though 3.0.a < 3
    ("3.a.1", "~> 2.1"),
    ("2.2", "~> 2.1.3"),
    ("2.2.0.rc1", "~> 2.1.3"),
    ("1.1.pre", "~> 1.0.0.a"),
    ("0.9.a", "~> 1.0.0.a"),
    ("1.0.a", "~> 1.0"),
    ("2.0", ">= 1.0, < 2"),
    ("1.4", "~> 1.0, != 1.4"),
    ("1.0.b", "< 1.0.a"),
]


# Boxed, pessimistic and range requirements with pre-releases: (requirement, in, out).
BOXED = [
    ("~> 1.4", ["1.4", "1.5"], ["1.3", "2.0"]),
    ("~> 1.4.4", ["1.4.4", "1.4.5"], ["1.3", "1.4", "1.5", "2.0"]),
    ("~> 1.0.0", [], ["1.1.pre"]),
    ("~> 1.1", [], ["1.1.pre"]),
    ("~> 1.0", [], ["2.0.a"]),
    ("~> 2.0", [], ["2.0.a"]),
    (
        "~> 1.4.beta",
        ["1.4.beta", "1.4.beta.0", "1.4", "1.4.0", "1.4.1"],
        ["1.3.beta.0", "1.3", "1.3.0", "1.4.alpha", "1.4.alpha.0", "2.0", "2.0.0"],
    ),
    (
        "~> 1.4.0.beta",
        ["1.4.0.beta", "1.4.0.beta.0", "1.4", "1.4.0", "1.4.1"],
        [
            "1.3.0.beta.0",
            "1.3",
            "1.3.0",
            "1.4.alpha",
            "1.4.alpha.0",
            "1.4.0.alpha",
            "1.4.0.alpha.0",
            "2.0",
            "2.0.0",
            "1.5",
            "1.5.0.alpha",
            "1.5.0.beta.0",
            "1.5.0",
            "1.5.1",
        ],
    ),
    (
        "~> 1.4.0.beta.1",
        ["1.4.0.beta.1", "1.4", "1.4.0", "1.4.1"],
        ["1.3.0.beta.0", "1.4.alpha", "1.4.0.alpha.0", "1.4.0.beta", "1.4.0.beta.0", "1.5"],
    ),
    (
        "~> 1.4.0",
        ["1.4", "1.4.0", "1.4.1"],
        ["1.3.beta.0", "1.3", "1.3.0", "1.3.alpha.0", "1.4.beta.0", "1.5.alpha.0", "1.5"],
    ),
    # `<` admits the bound's pre-releases (1.5.0.rc1 < 1.5); ~> does not.
    (
        ">= 1.4.beta, < 1.5",
        ["1.4.beta.0", "1.4.beta.1", "1.4", "1.4.0", "1.4.1", "1.5.alpha.0", "1.5.beta.0"],
        ["1.3.alpha.0", "1.4.alpha.0", "1.5", "1.5.0", "1.5.1"],
    ),
    (
        ">= 1.4, < 1.5",
        ["1.4", "1.4.0", "1.4.1", "1.5.0.beta.0"],
        ["1.3.alpha.0", "1.4.alpha.0", "1.4.beta.0", "1.4.0.beta.0", "1.5"],
    ),
    (">= 1.4.0, < 1.5.0", ["1.4", "1.4.0", "1.4.1", "1.5.0.beta.0"], ["1.4.0.beta.0", "1.5"]),
    (
        ">= 1.4.0.beta, < 1.5",
        ["1.4.0.beta.0", "1.4.0.beta.1", "1.4.0", "1.4.1", "1.5.0.alpha.0", "1.5.0.beta.0"],
        ["1.3.0.alpha.0", "1.4.0.alpha.0", "1.5"],
    ),
    (">= 1.4.4, < 1.5", ["1.4.5", "1.5.0.rc1"], ["1.5.0"]),
    (">= 1.4.4, < 1.5.a", ["1.4.5"], ["1.5.0.rc1", "1.5.0"]),
    ("~> 5.a", ["5.0.0.rc2", "5.0.0"], []),
    ("~> 5.x", ["5.0.0"], ["5.0.0.rc2"]),
    ("~> 1", ["1.0", "1.1"], ["0.9", "2.0"]),
    ("~> 0.0.1", ["0.0.2", "0.0.1"], ["0.1.1"]),
    ("~> 1.4", ["1.4.0"], []),
    (">= 1.4, <= 1.6, != 1.5", ["1.4", "1.6"], ["1.3", "1.5", "1.7", "2.0"]),
    ("> 1.1, < 1.3", ["1.2"], ["1.1", "1.3"]),
    ("> 0.a ", ["  ", ""], []),
    ("< 3.2.rc1", ["3.1"], []),
    ("> 3.2.0.rc1", ["3.2.0", "3.2.0.rc2"], []),
    ("< 3.0", ["3.0.rc2"], []),
    ("< 3.0.0", ["3.0.rc2"], []),
    ("< 3.0.1", ["3.0.rc2"], []),
    ("> 0", ["3.0.rc2"], []),
    ("> 0.1", [], [""]),
    ("!= 1.02.3", [], ["1.2.003.0.0"]),
    ("< 1.2.3", [], ["4.5.6"]),
    ("= 0.1", [], [""]),
    ("= 1.1", [], ["1.2", "1.40"]),
    ("= 1.40", [], ["1.3"]),
    ("<= 9.3.2", [], ["9.3.3", "9.3.03"]),
    (">= 9.3.2", [], ["9.3.1"]),
]


@pytest.mark.parametrize(("requirement", "inside", "outside"), BOXED)
def test_boxed_and_prerelease_requirements(
    requirement: str, inside: list[str], outside: list[str]
) -> None:
    r = req(requirement)
    for version in inside:
        assert r.contains(v(version)), version
        assert r.ranges.contains(v(version)), version
    for version in outside:
        assert not r.contains(v(version)), version
        assert not r.ranges.contains(v(version)), version


@pytest.mark.parametrize(("version", "requirement"), SATISFIED)
def test_satisfied_by(version: str, requirement: str) -> None:
    r = req(requirement)
    assert r.contains(v(version))
    assert r.ranges.contains(v(version))
    assert v(version) in r


@pytest.mark.parametrize(("version", "requirement"), REFUSED)
def test_not_satisfied_by(version: str, requirement: str) -> None:
    r = req(requirement)
    assert not r.contains(v(version))
    assert not r.ranges.contains(v(version))


@pytest.mark.parametrize(
    ("requirement", "ops"),
    [
        ("  1", [("=", "1")]),
        ("= 1", [("=", "1")]),
        ("> 1", [(">", "1")]),
        ("=\n1", [("=", "1")]),
        ("1.0", [("=", "1")]),
        (">=1.0", [(">=", "1")]),
        ("~>2.1", [("~>", "2.1")]),
        ("!= 3", [("!=", "3")]),
        ("<=4, >2", [("<=", "4"), (">", "2")]),
        ("", [(">=", "0")]),
        ("  ", [(">=", "0")]),
    ],
)
def test_parse(requirement: str, ops: list[tuple[str, str]]) -> None:
    assert [(op, version) for op, version in req(requirement).requirements] == [
        (op, v(version)) for op, version in ops
    ]


@pytest.mark.parametrize(
    ("requirement", "caret"),
    [
        ("! 1", 0),
        ("= junk", 2),
        ("1..2", 1),
        (">=", 2),
        ("=> 1", 1),
        (">= 1.0, < 2..0", 11),
        (">= 1.0,", 7),
        ("~> 1.0 2.0", 7),
        (">> 1", 1),
        (">>> 1.3.5", 1),
        ("> blah", 2),
    ],
)
def test_illformed_requirements(requirement: str, caret: int) -> None:
    with pytest.raises(VersionSyntaxError) as info:
        req(requirement)
    assert info.value.start == caret, str(info.value)
    assert info.value.what == "requirement"


@pytest.mark.parametrize(
    ("requirement", "equivalent"),
    [
        ("~> 2.1", ">= 2.1, < 3.0"),
        ("~> 2.1.3", ">= 2.1.3, < 2.2"),
        ("~> 3.0", ">= 3.0, < 4.0"),
        ("~> 3.0.0", ">= 3.0.0, < 3.1"),
        ("~> 3.5.0", ">= 3.5.0, < 3.6"),
        ("~> 2", ">= 2, < 3"),
        ("~> 1.0.0.a", ">= 1.0.0.a, < 1.1"),
    ],
)
def test_pessimistic_is_a_range_without_the_bumps_prereleases(
    requirement: str, equivalent: str
) -> None:
    pessimistic, plain = req(requirement), req(equivalent)
    # The same set, except that ``<`` admits the pre-releases of the bump and ``~>`` does not.
    difference = plain.ranges - pessimistic.ranges
    assert pessimistic.ranges.is_subset(plain.ranges)
    upper = plain.requirements[-1][1]
    for inside in ["a", "rc1", "pre.1", "A.A.A"]:
        assert difference.contains(v(f"{upper.version}.{inside}"))
    assert not difference.contains(upper)
    assert not difference.contains(v(f"{upper.bump().version}.a"))


def test_ranges_print() -> None:
    assert str(req("~> 2.1").ranges) == ">=2.1, <3.a-floor"
    assert str(req("!= 1.0").ranges) == "<1.0 || >1.0"
    assert str(req("").ranges) == ">=0"
    # The default ">= 0" leaves out the pre-releases of 0 (0.a < 0), as in RubyGems.
    assert not req("").contains(v("0.0.a"))
    assert not req("").contains(v("0.a"))
    assert req("").contains(v("0.1.a"))


def test_set_operations() -> None:
    a, b = req("~> 1.2"), req(">= 1.5, != 1.7")
    both = a & b
    assert both.contains(v("1.6"))
    assert not both.contains(v("1.7"))
    assert not both.contains(v("2.0.a"))
    assert not both.contains(v("1.4"))
    assert (a | b).contains(v("1.3"))
    assert (a | b).contains(v("9"))
    assert (a | b).contains(v("1.7"))
    assert not (a | b).contains(v("1.1"))
    assert (~a).contains(v("2.0.a"))
    assert (a - b).contains(v("1.7"))
    assert req("< 1").intersection(req("> 2")).is_empty()
    assert not a.is_empty()
    assert (req("~> 2.1") & req(">= 3.A")).is_empty()
    assert (req(">= 2.1, < 3") - req("~> 2.1")).contains(v("3.A.A.A"))
    assert req("1.0") == req("1.0.0")
    assert req("~> 1.0.a").prerelease()
    assert not req("~> 1.0").prerelease()


# --- properties -------------------------------------------------------------------------------

_atoms = st.sampled_from(["0", "1", "2", "10", "a", "b", "A", "pre", "rc"])


@st.composite
def versions(draw: st.DrawFn) -> RubygemsVersion:
    first = draw(st.sampled_from(["0", "1", "2", "3"]))
    rest = draw(st.lists(_atoms, max_size=4))
    return v(".".join([first, *rest]))


@st.composite
def requirements(draw: st.DrawFn) -> RubygemsRequirement:
    parts = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["", "= ", "!= ", "> ", "< ", ">= ", "<= ", "~> "]), versions()
            ),
            max_size=3,
        )
    )
    return req(", ".join(f"{op}{version}" for op, version in parts))


@given(versions(), versions(), versions())
def test_total_order(a: RubygemsVersion, b: RubygemsVersion, c: RubygemsVersion) -> None:
    assert a.compare(b) == -b.compare(a)
    assert (a == b) is (a.compare(b) == 0)
    if a == b:
        assert hash(a) == hash(b)
    if a <= b and b <= c:
        assert a <= c
    assert a.release() >= a
    assert a.bump() > a.release() or len(a.release().canonical_segments) == 0


@given(requirements(), versions())
def test_ranges_agree_with_satisfied_by(r: RubygemsRequirement, version: RubygemsVersion) -> None:
    assert r.ranges.contains(version) is r.contains(version)
    assert r.ranges.contains(version.release()) is r.contains(version.release())


@given(requirements(), requirements(), versions())
def test_set_operations_agree_with_contains(
    a: RubygemsRequirement, b: RubygemsRequirement, version: RubygemsVersion
) -> None:
    assert (a & b).contains(version) is (a.contains(version) and b.contains(version))
    assert (a | b).contains(version) is (a.contains(version) or b.contains(version))
    assert (~a).contains(version) is (not a.contains(version))
    assert (a - b).contains(version) is (a.contains(version) and not b.contains(version))
