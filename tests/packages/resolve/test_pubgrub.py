"""The PubGrub core against the examples of Dart pub's solver.md, unavailable metadata, the
step limit, and a property: whatever it returns satisfies every requirement involved."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuskops.packages.resolve.base import ROOT, Requirement, Unavailable
from tuskops.packages.resolve.pubgrub import (
    Incompatibility,
    Kind,
    ResolutionImpossible,
    ResolutionTooComplex,
    explain,
    resolve,
)
from tuskops.packages.versions import Ranges

Version = tuple[int, ...]


def version(text: str) -> Version:
    return tuple(int(part) for part in text.split("."))


def _clause(text: str) -> Ranges[Version]:
    text = text.strip()
    if text in ("*", "any", ""):
        return Ranges.full()
    if text.startswith("^"):
        low = version(text[1:])
        major = next((i for i, part in enumerate(low) if part), len(low) - 1)
        high = tuple([*low[:major], low[major] + 1] + [0] * (len(low) - major - 1))
        return Ranges.between(low, high)
    for op in (">=", "<=", "==", ">", "<"):
        if text.startswith(op):
            v = version(text[len(op) :])
            return {
                ">=": Ranges.higher_than(v),
                ">": Ranges.higher_than(v, inclusive=False),
                "<=": Ranges.lower_than(v, inclusive=True),
                "<": Ranges.lower_than(v),
                "==": Ranges.singleton(v),
            }[op]
    return Ranges.singleton(version(text))


def ranges(spec: str) -> Ranges[Version]:
    """``>=1.0.0,<2.0.0``, ``^1.0.0``, ``==1.0.0``, ``1.0.0``, ``*``."""
    allowed: Ranges[Version] = Ranges.full()
    for clause in spec.split(","):
        allowed = allowed & _clause(clause)
    return allowed


def req(name: str, spec: str) -> Requirement[Version]:
    return Requirement(name, ranges(spec), f"{name} {spec}")


class Index:
    """An in-memory registry: ``{name: {version: {dependency: spec}}}``."""

    def __init__(
        self,
        packages: Mapping[str, Mapping[str, Mapping[str, str]]],
        *,
        broken: Mapping[tuple[str, str], str] | None = None,
        unlisted: Mapping[str, str] | None = None,
    ) -> None:
        self.packages = {
            name: {version(v): dict(deps) for v, deps in versions.items()}
            for name, versions in packages.items()
        }
        self.broken = {(n, version(v)): why for (n, v), why in (broken or {}).items()}
        self.unlisted = dict(unlisted or {})
        self.calls: list[tuple[str, Version]] = []

    def candidates(self, name: str, allowed: Ranges[Version]) -> Sequence[Version]:
        if name in self.unlisted:
            raise Unavailable(name, self.unlisted[name])
        return sorted(allowed.filter(self.packages.get(name, {})), reverse=True)

    def dependencies(self, name: str, v: Version) -> Sequence[Requirement[Version]]:
        self.calls.append((name, v))
        if (name, v) in self.broken:
            raise Unavailable(name, self.broken[name, v], v)
        return [req(dep, spec) for dep, spec in self.packages[name][v].items()]

    def describe(self, name: str, v: Version) -> str:
        return f"{name} {'.'.join(map(str, v))}"


def solve(index: Index, root: Mapping[str, str]) -> dict[str, str]:
    found = resolve(index, [req(n, s) for n, s in root.items()], root_name="root")
    return {name: ".".join(map(str, v)) for name, v in found.items()}


def failure(index: Index, root: Mapping[str, str]) -> ResolutionImpossible:
    with pytest.raises(ResolutionImpossible) as caught:
        resolve(index, [req(n, s) for n, s in root.items()], root_name="root")
    return caught.value


# --- the solver.md examples -------------------------------------------------------------------


def test_no_conflicts() -> None:
    index = Index(
        {
            "foo": {"1.0.0": {"bar": "^1.0.0"}},
            "bar": {"1.0.0": {}, "2.0.0": {}},
        }
    )
    assert solve(index, {"foo": "^1.0.0"}) == {"foo": "1.0.0", "bar": "1.0.0"}


def test_avoiding_conflict_during_decision_making() -> None:
    index = Index(
        {
            "foo": {"1.0.0": {}, "1.1.0": {"bar": "^2.0.0"}},
            "bar": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
        }
    )
    assert solve(index, {"foo": "^1.0.0", "bar": "^1.0.0"}) == {"foo": "1.0.0", "bar": "1.1.0"}


def test_performing_conflict_resolution() -> None:
    index = Index(
        {
            "foo": {"1.0.0": {}, "2.0.0": {"bar": "^1.0.0"}},
            "bar": {"1.0.0": {"foo": "^1.0.0"}},
        }
    )
    assert solve(index, {"foo": ">=1.0.0"}) == {"foo": "1.0.0"}


def test_conflict_resolution_with_a_partial_satisfier() -> None:
    index = Index(
        {
            "foo": {"1.0.0": {}, "1.1.0": {"left": "^1.0.0", "right": "^1.0.0"}},
            "left": {"1.0.0": {"shared": ">=1.0.0"}},
            "right": {"1.0.0": {"shared": "<2.0.0"}},
            "shared": {"1.0.0": {"target": "^1.0.0"}, "2.0.0": {}},
            "target": {"1.0.0": {}, "2.0.0": {}},
        }
    )
    assert solve(index, {"foo": "^1.0.0", "target": "^2.0.0"}) == {
        "foo": "1.0.0",
        "target": "2.0.0",
    }


def test_linear_error_reporting() -> None:
    index = Index(
        {
            "foo": {"1.0.0": {"bar": "^2.0.0"}},
            "bar": {"2.0.0": {"baz": "^3.0.0"}},
            "baz": {"1.0.0": {}, "3.0.0": {}},
        }
    )
    error = failure(index, {"foo": "^1.0.0", "baz": "^1.0.0"})
    assert error.explanation == (
        "Because foo ^1.0.0 depends on bar ^2.0.0 which depends on baz ^3.0.0,"
        " foo ^1.0.0 requires baz ^3.0.0.\n"
        "So, because root depends on both foo ^1.0.0 and baz ^1.0.0, version solving failed."
    )
    assert str(error) == error.explanation


def test_branching_error_reporting() -> None:
    index = Index(
        {
            "foo": {
                "1.0.0": {"a": "^1.0.0", "b": "^1.0.0"},
                "1.1.0": {"x": "^1.0.0", "y": "^1.0.0"},
            },
            "a": {"1.0.0": {"b": "^2.0.0"}},
            "b": {"1.0.0": {}, "2.0.0": {}},
            "x": {"1.0.0": {"y": "^2.0.0"}},
            "y": {"1.0.0": {}, "2.0.0": {}},
        }
    )
    error = failure(index, {"foo": "^1.0.0"})
    assert error.explanation.splitlines() == [
        "    Because foo 1.0.0 depends on a ^1.0.0 which depends on b ^2.0.0,"
        " foo 1.0.0 requires b ^2.0.0.",
        "(1) So, because foo 1.0.0 depends on b ^1.0.0 and no versions of foo match ^1.0.0"
        " except 1.0.0 and 1.1.0, foo ^1.0.0 except 1.1.0 is forbidden.",
        "",
        "    Because foo 1.1.0 depends on x ^1.0.0 which depends on y ^2.0.0,"
        " foo 1.1.0 requires y ^2.0.0.",
        "    And because foo 1.1.0 depends on y ^1.0.0, foo 1.1.0 is forbidden.",
        "    And because foo ^1.0.0 except 1.1.0 is forbidden (1), foo ^1.0.0 is forbidden.",
        "    So, because root depends on foo ^1.0.0, version solving failed.",
    ]


def test_a_conflict_with_the_roots_own_requirement() -> None:
    index = Index({"a": {"1.0.0": {}, "2.0.0": {"b": "<1.0.0"}}, "b": {"1.0.0": {}}})
    error = failure(index, {"a": ">=2.0.0", "b": ">=1.0.0"})
    assert error.explanation == (
        "Because root depends on a >=2.0.0 which depends on b <1.0.0, root requires b <1.0.0.\n"
        "So, because root depends on b >=1.0.0, version solving failed."
    )


# --- the derivation ---------------------------------------------------------------------------


def _leaves(node: Incompatibility[Version]) -> list[Incompatibility[Version]]:
    if node.causes is None:
        return [node]
    return [leaf for cause in node.causes for leaf in _leaves(cause)]


def test_the_error_carries_the_derivation_tree() -> None:
    index = Index({"a": {"2.0.0": {"b": "<1.0.0"}}, "b": {"1.0.0": {}}})
    error = failure(index, {"a": ">=2.0.0", "b": ">=1.0.0"})
    root = error.derivation
    assert root.is_failure()
    assert root.is_derived
    kinds = {leaf.kind for leaf in _leaves(root)}
    assert Kind.DEPENDENCY in kinds
    assert all(not leaf.is_derived for leaf in _leaves(root))


# --- unavailable metadata, no versions, odd requirements --------------------------------------


def test_unavailable_metadata_skips_the_version() -> None:
    index = Index(
        {"a": {"1.0.0": {}, "2.0.0": {}}},
        broken={("a", "2.0.0"): "its metadata cannot be read"},
    )
    assert solve(index, {"a": "*"}) == {"a": "1.0.0"}


def test_unavailable_metadata_explained() -> None:
    index = Index({"a": {"1.0.0": {}}}, broken={("a", "1.0.0"): "the wheel is corrupt"})
    error = failure(index, {"a": "==1.0.0"})
    assert "a 1.0.0 is unavailable: the wheel is corrupt" in error.explanation
    assert error.explanation.endswith("version solving failed.")


def test_a_package_that_cannot_be_listed() -> None:
    index = Index({"a": {"1.0.0": {"b": "*"}}}, unlisted={"b": "the registry returned 404"})
    error = failure(index, {"a": "*"})
    assert "b is unavailable: the registry returned 404" in error.explanation
    assert "root depends on a *" in error.explanation


def test_no_matching_versions() -> None:
    index = Index({"a": {"1.0.0": {}}})
    error = failure(index, {"a": ">=5.0.0"})
    assert error.explanation == (
        "Because no versions of a match >=5.0.0 and root depends on a >=5.0.0,"
        " version solving failed."
    )


def test_an_empty_requirement() -> None:
    index = Index({"a": {"1.0.0": {}}})
    error = failure(index, {"a": ">=2.0.0,<1.0.0"})
    assert error.explanation == (
        "Because root depends on a >=2.0.0,<1.0.0, version solving failed."
    )


def test_many_failing_versions_read_as_one_range() -> None:
    index = Index({"a": {f"{i}.0.0": {"b": ">=1.0.0"} for i in range(1, 150)}, "b": {}})
    error = failure(index, {"a": "*"})
    assert error.explanation == (
        "Because every version of a depends on b >=1.0.0 and no versions of b match >=1.0.0,"
        " every version of a is forbidden.\n"
        "So, because root depends on a *, version solving failed."
    )


def test_an_unreadable_depth_still_explains() -> None:
    chain = {f"p{i}": {"1.0.0": {f"p{i + 1}": "*"}} for i in range(60)}
    chain["p60"] = {"1.0.0": {"p0": ">=2.0.0"}}
    index = Index(chain)
    error = failure(index, {"p0": "*"})
    assert error.explanation.endswith("version solving failed.")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 40)
    try:
        text = explain(error.derivation, index)
    finally:
        sys.setrecursionlimit(limit)
    assert text.startswith("Version solving failed because of these facts together:")
    assert "p60 1.0.0 depends on p0 >=2.0.0" in text


def test_self_dependency_and_cycles() -> None:
    index = Index(
        {
            "a": {"1.0.0": {"a": "^1.0.0", "b": "^1.0.0"}},
            "b": {"1.0.0": {"a": "^1.0.0"}},
        }
    )
    assert solve(index, {"a": "*"}) == {"a": "1.0.0", "b": "1.0.0"}


def test_nothing_to_resolve() -> None:
    assert solve(Index({}), {}) == {}


def test_fewest_candidates_first_then_provider_order() -> None:
    index = Index(
        {
            "many": {"1.0.0": {}, "2.0.0": {}, "3.0.0": {}},
            "one": {"1.0.0": {}},
        }
    )
    assert solve(index, {"many": "*", "one": "*"}) == {"one": "1.0.0", "many": "3.0.0"}
    assert [name for name, _ in index.calls] == ["one", "many"]


def test_metadata_is_fetched_once_per_version() -> None:
    index = Index(
        {
            "foo": {"1.0.0": {}, "1.1.0": {"left": "^1.0.0", "right": "^1.0.0"}},
            "left": {"1.0.0": {"shared": ">=1.0.0"}},
            "right": {"1.0.0": {"shared": "<2.0.0"}},
            "shared": {"1.0.0": {"target": "^1.0.0"}, "2.0.0": {}},
            "target": {"1.0.0": {}, "2.0.0": {}},
        }
    )
    solve(index, {"foo": "^1.0.0", "target": "^2.0.0"})
    assert len(index.calls) == len(set(index.calls))


def test_the_step_limit() -> None:
    index = Index({"a": {"1.0.0": {"b": "*"}}, "b": {"1.0.0": {}}})
    with pytest.raises(ResolutionTooComplex, match="gave up after 2 steps"):
        resolve(index, [req("a", "*")], max_steps=2)
    assert resolve(index, [req("a", "*")], max_steps=10) == {"a": (1, 0, 0), "b": (1, 0, 0)}


def test_the_root_name_defaults() -> None:
    index = Index({"a": {"1.0.0": {}}})
    with pytest.raises(ResolutionImpossible, match=r"the project depends on a >=2\.0\.0"):
        resolve(index, [req("a", ">=2.0.0")])
    assert ROOT not in resolve(index, [req("a", "*")])


# --- property: a solution is a solution, and one is found when one exists --------------------

NAMES = ["p0", "p1", "p2", "p3"]
VERSIONS = ["1.0.0", "2.0.0", "3.0.0"]
SPECS = ["*", ">=2.0.0", "<2.0.0", "<3.0.0", "^2.0.0", "==3.0.0", ">=1.0.0,<2.0.0", ">=4.0.0"]


@st.composite
def universes(draw: st.DrawFn) -> tuple[dict[str, dict[str, dict[str, str]]], dict[str, str]]:
    packages: dict[str, dict[str, dict[str, str]]] = {}
    for name in NAMES:
        chosen = draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3, unique=True))
        packages[name] = {
            v: draw(st.dictionaries(st.sampled_from(NAMES), st.sampled_from(SPECS), max_size=2))
            for v in chosen
        }
    root = draw(st.dictionaries(st.sampled_from(NAMES), st.sampled_from(SPECS), max_size=3))
    return packages, root


def _valid(
    packages: Mapping[str, Mapping[str, Mapping[str, str]]],
    root: Mapping[str, str],
    chosen: Mapping[str, str],
) -> bool:
    def ok(requirements: Mapping[str, str]) -> bool:
        return all(
            name in chosen and version(chosen[name]) in ranges(spec)
            for name, spec in requirements.items()
        )

    return (
        all(v in packages[name] for name, v in chosen.items())
        and ok(root)
        and all(ok(packages[name][v]) for name, v in chosen.items())
    )


def _brute_force(
    packages: Mapping[str, Mapping[str, Mapping[str, str]]], root: Mapping[str, str]
) -> bool:
    options = [[None, *packages[name]] for name in NAMES]
    stack: list[dict[str, str]] = [{}]
    for name, choices in zip(NAMES, options, strict=True):
        stack = [
            {**partial, name: choice} if choice is not None else partial
            for partial in stack
            for choice in choices
        ]
    return any(_valid(packages, root, chosen) for chosen in stack)


@settings(max_examples=300, deadline=None)
@given(universes())
def test_solutions_satisfy_every_requirement(
    universe: tuple[dict[str, dict[str, dict[str, str]]], dict[str, str]],
) -> None:
    packages, root = universe
    if _brute_force(packages, root):
        assert _valid(packages, root, solve(Index(packages), root))
        return
    error = failure(Index(packages), root)
    assert error.derivation.is_failure()
    assert error.explanation.endswith("version solving failed.")
