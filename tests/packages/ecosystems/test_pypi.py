"""PyPI versions and constraints: PEP 440 examples and a differential test against packaging."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import Version

from tuskops.errors import VersionSyntaxError
from tuskops.packages.ecosystems import scheme
from tuskops.packages.ecosystems.pypi import (
    SCHEME,
    AfterPostReleases,
    PypiConstraint,
    evaluate_marker,
    normalize_extra,
    normalize_name,
    parse_requirement,
)

V = Version


def c(text: str) -> PypiConstraint:
    return SCHEME.parse_constraint(text)


# --- strategies -------------------------------------------------------------------------------

releases = st.lists(st.integers(0, 3), min_size=1, max_size=4).map(tuple)
pres = st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 2))
numbers = st.none() | st.integers(0, 2)
locals_ = st.none() | st.sampled_from(["abc", "1", "abc.2", "ubuntu.1", "0"])
epochs = st.sampled_from([0, 0, 0, 0, 1])


@st.composite
def version_texts(draw: st.DrawFn, *, local: bool = True, release_only: bool = False) -> str:
    epoch = draw(epochs)
    text = (f"{epoch}!" if epoch else "") + ".".join(map(str, draw(releases)))
    if release_only:
        return text
    pre, post, dev = draw(pres), draw(numbers), draw(numbers)
    if pre is not None:
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    loc = draw(locals_) if local else None
    if loc is not None:
        text += f"+{loc}"
    return text


versions = version_texts().map(Version)


@st.composite
def specifier_texts(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "===", "==*", "!=*"]))
    if op in ("==*", "!=*"):
        return f"{op[:2]}{draw(version_texts(release_only=True))}.*"
    if op == "===":
        # Normalised and non-normalised spellings, and a non-version.
        return "===" + draw(version_texts() | st.sampled_from(["1.0.0", "1.0", "foobar", "1.0A1"]))
    text = draw(version_texts(local=op in ("==", "!=")))
    if op == "~=" and len(Version(text).release) < 2:
        text = text.replace(".".join(map(str, Version(text).release)), "1.0", 1)
    spec = f"{op}{text}"
    try:
        Specifier(spec)
    except InvalidSpecifier:
        assume(False)
    return spec


specifier_set_texts = st.lists(specifier_texts(), min_size=0, max_size=3).map(",".join)


# --- the differential test --------------------------------------------------------------------


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(specifier_set_texts, st.lists(versions, min_size=1, max_size=8))
def test_contains_agrees_with_packaging(spec_text: str, candidates: list[Version]) -> None:
    ours = c(spec_text)
    theirs = SpecifierSet(spec_text)
    names_pre = bool(theirs.prereleases)
    for v in candidates:
        assert ours.contains(v, True) == theirs.contains(v, prereleases=True), (spec_text, v)
        assert ours.contains(v, False) == theirs.contains(v, prereleases=False), (spec_text, v)
        expected = theirs.contains(v, prereleases=True) and (not v.is_prerelease or names_pre)
        assert ours.contains(v) == expected, (spec_text, v)


@settings(max_examples=400)
@given(specifier_texts(), versions)
def test_single_specifier_edges(spec_text: str, near: Version) -> None:
    """Versions built around the specifier's own version, where the edge cases live."""
    base = spec_text.lstrip("=!<>~").removesuffix(".*")
    try:
        v = Version(base)
    except ValueError:
        return
    family = [
        str(v),
        f"{v}+abc",
        f"{v.public}.post0",
        f"{v.public}.post1+x",
        f"{v.base_version}.dev0",
        f"{v.base_version}a1",
        f"{v.base_version}.post3.dev1",
        f"{v.base_version}.0",
        f"{v.base_version}.0.1",
        f"{v.base_version}.1.dev0",
        str(near),
    ]
    ours, theirs = c(spec_text), SpecifierSet(spec_text)
    for text in family:
        try:
            candidate = Version(text)
        except ValueError:
            continue
        assert ours.contains(candidate, True) == theirs.contains(candidate, prereleases=True), (
            spec_text,
            text,
        )


@settings(max_examples=300)
@given(specifier_set_texts, specifier_set_texts, st.lists(versions, min_size=1, max_size=6))
def test_intersection_is_the_joined_specifier_set(a: str, b: str, vs: list[Version]) -> None:
    joined = c(",".join(t for t in (a, b) if t))
    assert c(a) & c(b) == joined
    for v in vs:
        for pre in (None, True, False):
            assert (c(a) & c(b)).contains(v, pre) == joined.contains(v, pre)


no_arbitrary = specifier_set_texts.filter(lambda t: "===" not in t)


@settings(max_examples=300)
@given(no_arbitrary, no_arbitrary, st.lists(versions, min_size=1, max_size=6))
def test_set_algebra_is_boolean_algebra(a: str, b: str, vs: list[Version]) -> None:
    x, y = c(a), c(b)
    assert ~~x == PypiConstraint(x.text, x.ranges)  # the region does not survive complement
    for v in vs:
        in_x, in_y = x.contains(v, True), y.contains(v, True)
        assert (x | y).contains(v, True) == (in_x or in_y)
        assert (x & y).contains(v, True) == (in_x and in_y)
        assert (~x).contains(v, True) == (not in_x)
        assert (x - y).contains(v, True) == (in_x and not in_y)
        # Pre-releases admitted by default in a union: where either side admitted them.
        assert (x | y).contains(v) == (x.contains(v) or y.contains(v))
    assert (x & ~x).is_empty()
    assert (x | ~x).ranges == c("").ranges


# --- PEP 440's own examples -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("~=2.2", ["2.2", "2.3", "2.9.post1"], ["3.0", "2.1", "3.0.dev0"]),
        ("~=1.4.5", ["1.4.5", "1.4.9"], ["1.5", "1.4.4"]),
        ("~=2.2.post3", ["2.2.post3", "2.5"], ["2.2.post2", "3.0"]),
        ("~=1.4.5a4", ["1.4.5a4", "1.4.9"], ["1.5.0", "1.4.5a3"]),
        ("~=2.2.0", ["2.2.0", "2.2.9"], ["2.3"]),
        ("~=1!1.0", ["1!1.5"], ["1.5", "1!2.0"]),
        ("==1.1.post1", ["1.1.post1", "1.1.post1+local"], ["1.1", "1.1.post1.dev0"]),
        ("==1.1.*", ["1.1", "1.1.post1", "1.1.0+x", "1.1.5", "1.1a1"], ["1.2", "1.0"]),
        ("==1.1", ["1.1", "1.1.0", "1.1+abc"], ["1.1.post1", "1.1a1"]),
        ("==1.1+abc", ["1.1+abc"], ["1.1", "1.1+abd"]),
        ("!=1.1.*", ["1.2", "1.0.9"], ["1.1.post1", "1.1.0"]),
        ("<=2.0", ["2.0", "2.0+local", "1.9"], ["2.0.post1", "2.1"]),
        (">1.7", ["1.7.1", "1.8"], ["1.7.0.post1", "1.7", "1.7+x"]),
        (">1.7.post2", ["1.7.post3", "1.8"], ["1.7.post2", "1.7.post2+x"]),
        ("<1.7", ["1.6", "1.6.post1"], ["1.7.0rc1", "1.7"]),
        ("<1.7.0rc1", ["1.7.0b1", "1.7.0.dev1"], ["1.7.0rc1", "1.7"]),
        (">=1.0,<2,!=1.5.*", ["1.0", "1.4.9", "1.6"], ["1.5", "1.5.1", "2.0", "0.9"]),
        ("===1.0", ["1.0"], ["1.0.0", "1.0+x"]),
        ("", ["0", "99!1"], []),
    ],
)
def test_pep440_examples(spec: str, inside: list[str], outside: list[str]) -> None:
    constraint = c(spec)
    for text in inside:
        assert constraint.contains(V(text), True), text
    for text in outside:
        assert not constraint.contains(V(text), True), text


def test_ranges_are_exact_bounds() -> None:
    assert c("==1.2.*").ranges == c(">=1.2.dev0,<1.3.dev0").ranges
    assert c("~=1.4.2").ranges == c(">=1.4.2,==1.4.*").ranges
    assert c("<=1.0").ranges == c("<1.0.post0.dev0").ranges
    assert c(">1.0.dev1").ranges == c(">=1.0.dev2").ranges
    assert c(">1.0a1").ranges == c(">=1.0a2.dev0").ranges
    assert c(">1.0.post1").ranges == c(">=1.0.post2.dev0").ranges
    assert c("<0").is_empty()
    assert c("<0.dev0").is_empty()
    assert c(">=2,<1").is_empty()
    assert not c("<0.dev1").is_empty()
    assert c("===1.0.0,===1.0").is_empty()
    assert c("===foobar").is_empty()


def test_prerelease_rule() -> None:
    assert not c(">=1.0").contains(V("2.0a1"))
    assert c(">=1.0").contains(V("2.0a1"), prereleases=True)
    assert c(">=1.0b1").contains(V("2.0a1"))
    assert not c(">=1.0b1").contains(V("2.0a1"), prereleases=False)
    assert not c("!=1.0b1").contains(V("2.0a1"))  # != does not ask for pre-releases
    assert c(">=1.0b1").allows_prereleases()
    # The opt-in is scoped: a union does not admit the other side's pre-releases.
    union = c(">=1.0a1,<1.0b1") | c(">=3")
    assert union.contains(V("1.0a5"))
    assert not union.contains(V("3.1a1"))
    # Complement asks for nothing.
    assert not (~c(">=1.0a1")).allows_prereleases()
    # filter: pre-releases only when no final release matches.
    assert list(c(">=1.0").filter([V("1.0a1"), V("1.1")])) == [V("1.1")]
    assert list(c(">=1.0").filter([V("1.1a1"), V("0.9")])) == [V("1.1a1")]


def test_arbitrary_equality_has_no_union_or_complement() -> None:
    with pytest.raises(ValueError, match="==="):
        ~c("===1.0")
    with pytest.raises(ValueError, match="==="):
        c("===1.0") | c(">=2")
    assert (c("===1.0") & c(">=0.5")).contains(V("1.0"))
    assert not (c("===1.0") & c(">=2")).contains(V("1.0"))


def test_after_post_releases_point_orders_against_versions() -> None:
    point = AfterPostReleases(V("1.0"))
    for below in ["1.0", "1.0+x", "1.0.post5", "1.0.post5.dev1", "0.9", "1.0rc1", "1.0.0"]:
        assert V(below) < point
        assert point > V(below)
        assert not point < V(below)
    for above in ["1.0.0.1", "1.0.0.0.1.dev0", "1.1a1", "1!0"]:
        assert point < V(above)
        assert V(above) > point
    assert point != V("1.0")
    assert point == AfterPostReleases(V("1.0.0"))
    assert AfterPostReleases(V("1.0")) < AfterPostReleases(V("1.0.1"))


def test_version_ordering() -> None:
    texts = ["1.0.dev0", "1.0a1.dev0", "1.0a1", "1.0a1.post1", "1.0b1", "1.0rc1", "1.0"]
    texts += ["1.0+abc", "1.0.post0.dev0", "1.0.post0", "1.0.0.1", "1.1", "1!0.1"]
    parsed = [SCHEME.parse_version(t) for t in texts]
    assert sorted(parsed) == parsed
    assert SCHEME.parse_version("1.0") == SCHEME.parse_version("1.0.0")


# --- errors -----------------------------------------------------------------------------------


def test_invalid_version_is_a_syntax_error() -> None:
    with pytest.raises(VersionSyntaxError, match="not a valid PEP 440 version"):
        SCHEME.parse_version("1.0-foo-bar")


def test_invalid_specifier_points_at_the_bad_item() -> None:
    with pytest.raises(VersionSyntaxError) as info:
        SCHEME.parse_constraint(">=1.0, ~=1, <2")
    assert (info.value.start, info.value.end) == (7, 10)
    assert str(info.value).splitlines()[-1] == "           ^~~"
    for bad in ["=>1.0", "==1.0a1.*", ">=1.0+local", "~=1", "1.0"]:
        with pytest.raises(VersionSyntaxError):
            SCHEME.parse_constraint(bad)
    assert c(">=1,,<2") == c(">=1,<2")  # packaging skips empty items


# --- requirements, markers, names -------------------------------------------------------------


def test_parse_requirement() -> None:
    req = parse_requirement('Requests.Foo_bar[Security,SOCKS]>=2.8.1,==2.8.*; python_version<"2.7"')
    assert req.name == "Requests.Foo_bar"
    assert req.key == "requests-foo-bar"
    assert req.extras == frozenset({"security", "socks"})
    assert req.constraint.contains(V("2.8.5"))
    assert not req.constraint.contains(V("2.9"))
    assert not req.applies({"python_version": "3.11"})
    assert req.applies({"python_version": "2.6"})
    url_req = parse_requirement("pip @ https://github.com/pypa/pip/archive/1.3.1.zip")
    assert url_req.url == "https://github.com/pypa/pip/archive/1.3.1.zip"
    assert url_req.constraint.ranges == c("").ranges


def test_requirement_errors_carry_packaging_position() -> None:
    with pytest.raises(VersionSyntaxError) as info:
        parse_requirement("name >= 1.0 ; os_name =")
    assert info.value.what == "requirement"
    assert info.value.start > 0
    assert "^" in str(info.value)


def test_marker_evaluation_with_extras() -> None:
    marker = 'extra == "Test_Extra" and sys_platform == "linux"'
    env = {"sys_platform": "linux"}
    assert evaluate_marker(marker, env, extras=["test.extra"])
    assert not evaluate_marker(marker, env)
    assert not evaluate_marker(marker, {"sys_platform": "win32"}, extras=["test-extra"])
    assert evaluate_marker(None, env)
    with pytest.raises(VersionSyntaxError):
        evaluate_marker("os_name ==", env)


def test_names() -> None:
    assert normalize_name("Foo.Bar__baz") == "foo-bar-baz"
    assert normalize_extra("Dev_Tools") == "dev-tools"
    with pytest.raises(VersionSyntaxError):
        normalize_name("-bad-")


def test_registry() -> None:
    assert scheme("pypi") is SCHEME
    assert scheme("pip").name == "pypi"
