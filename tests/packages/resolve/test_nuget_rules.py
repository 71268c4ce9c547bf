"""NuGet's four resolution rules, from the diagrams of "How NuGet resolves package
dependencies", and the NU1605 / NU1107 / NU1608 / NU1603 / NU110x reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from tuskops.packages.ecosystems.nuget import SCHEME, NuGetVersion
from tuskops.packages.manifests import Dependency
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.nuget import (
    NuGetDependency,
    NuGetResolution,
    NuGetResolutionError,
    describe_range,
    resolve,
)

#: "Id" -> versions; "Id version" -> dependencies (missing: none).
Feed = Mapping[str, Sequence[str]]
Deps = Mapping[str, Sequence[tuple[str, str]]]


def run(root: Sequence[NuGetDependency], feed: Feed, deps: Deps | None = None) -> NuGetResolution:
    def versions_of(package_id: str) -> Sequence[str]:
        for name, versions in feed.items():
            if name.lower() == package_id.lower():
                return versions
        raise Unavailable(package_id, "no such package")

    def dependencies_of(package_id: str, version: NuGetVersion) -> Sequence[NuGetDependency]:
        return (deps or {}).get(f"{package_id} {version.normalized}", ())

    return resolve(root, versions_of, dependencies_of, project="App")


def codes(result: NuGetResolution) -> list[str]:
    return [issue.code for issue in result.issues]


def test_lowest_applicable_version() -> None:
    # App -> B (>= 1.0.0): 1.0.0 is on the feed, so it is chosen over 2.0.0 and 2.1.0.
    feed = {"B": ["1.0.0", "2.0.0", "2.1.0"]}
    result = run([("B", "1.0.0")], feed)
    assert result.versions() == {"B": "1.0.0"}
    assert result.issues == ()


def test_lowest_applicable_version_when_the_bound_is_missing() -> None:
    # 1.0.0 is not on the feed: the next lowest, 2.0.0, with warning NU1603.
    result = run(
        [("A", "1.0.0")], {"A": ["1.0.0"], "B": ["2.0.0", "2.1.0"]}, {"A 1.0.0": [("B", "1.0.0")]}
    )
    assert result.versions() == {"A": "1.0.0", "B": "2.0.0"}
    (issue,) = result.issues
    assert (issue.code, issue.severity) == ("NU1603", "warning")
    assert issue.message == (
        "A 1.0.0 depends on B (>= 1.0.0) but B 1.0.0 was not found. "
        "An approximate best match of B 2.0.0 was resolved."
    )


def test_floating_versions_take_the_highest_match() -> None:
    # App -> B 1.0.*: the highest 1.0.x on the feed, not 1.1.0.
    feed = {"B": ["1.0.0", "1.0.1", "1.0.2", "1.1.0"]}
    assert run([("B", "1.0.*")], feed).versions() == {"B": "1.0.2"}
    assert run([("B", "*")], feed).versions() == {"B": "1.1.0"}


def test_direct_dependency_wins() -> None:
    # App -> B (>= 2.0.0) and App -> A -> B (>= 1.0.0): the direct reference is used.
    feed = {"A": ["1.0.0"], "B": ["1.0.0", "2.0.0"]}
    result = run([("A", "1.0.0"), ("B", "2.0.0")], feed, {"A 1.0.0": [("B", "1.0.0")]})
    assert result.versions() == {"A": "1.0.0", "B": "2.0.0"}
    assert result.issues == ()
    b = result.get("b")
    assert b is not None
    assert b.direct
    assert b.paths == ("App -> B (>= 2.0.0)",)


def test_direct_dependency_wins_within_a_subgraph() -> None:
    # App -> A -> C (>= 2.0.0) and App -> A -> B -> C (>= 1.0.0): A declares C, so in A's
    # subgraph A's C wins, and B's requirement is ignored.
    feed = {"A": ["1.0.0"], "B": ["1.0.0"], "C": ["1.0.0", "2.0.0"]}
    deps = {"A 1.0.0": [("B", "1.0.0"), ("C", "2.0.0")], "B 1.0.0": [("C", "1.0.0")]}
    result = run([("A", "1.0.0")], feed, deps)
    assert result.versions() == {"A": "1.0.0", "B": "1.0.0", "C": "2.0.0"}
    c = result.get("C")
    assert c is not None
    assert c.paths == ("App -> A 1.0.0 -> C (>= 2.0.0)",)


def test_downgrade_is_nu1605_with_both_paths() -> None:
    feed = {"A": ["1.0.0"], "B": ["1.0.0", "1.2.0"]}
    result = run([("A", "1.0.0"), ("B", "1.0.0")], feed, {"A 1.0.0": [("B", "1.2.0")]})
    assert result.versions() == {"A": "1.0.0", "B": "1.0.0"}
    (issue,) = result.issues
    assert not result.ok
    assert str(issue) == (
        "NU1605: Detected package downgrade: B from 1.2.0 to 1.0.0. Reference the package "
        "directly from the project to select a different version.\n"
        " App -> A 1.0.0 -> B (>= 1.2.0)\n"
        " App -> B (>= 1.0.0)"
    )
    with pytest.raises(NuGetResolutionError, match="NU1605"):
        result.check()


def test_direct_reference_above_an_upper_bound_is_nu1608() -> None:
    feed = {"A": ["1.0.0"], "B": ["1.0.0", "3.0.0"]}
    result = run([("A", "1.0.0"), ("B", "3.0.0")], feed, {"A 1.0.0": [("B", "[1.0.0, 2.0.0)")]})
    assert result.ok
    (issue,) = result.issues
    assert (issue.code, issue.severity) == ("NU1608", "warning")
    assert issue.message == (
        "Detected package version outside of dependency constraint: A 1.0.0 requires "
        "B (>= 1.0.0 && < 2.0.0) but version B 3.0.0 was resolved."
    )


def test_cousin_dependencies_take_the_highest_lower_bound() -> None:
    # App -> A -> C (>= 1.0.0) and App -> B -> C (>= 2.0.0): 2.0.0, the lowest version that
    # satisfies both (not 2.1.0).
    feed = {"A": ["1.0.0"], "B": ["1.0.0"], "C": ["1.0.0", "2.0.0", "2.1.0"]}
    deps = {"A 1.0.0": [("C", "1.0.0")], "B 1.0.0": [("C", "2.0.0")]}
    result = run([("A", "1.0.0"), ("B", "1.0.0")], feed, deps)
    assert result.versions()["C"] == "2.0.0"
    assert result.issues == ()
    c = result.get("C")
    assert c is not None
    assert not c.direct
    assert c.paths == ("App -> A 1.0.0 -> C (>= 1.0.0)", "App -> B 1.0.0 -> C (>= 2.0.0)")


def test_cousins_with_no_common_version_are_nu1107() -> None:
    feed = {"A": ["1.0.0"], "B": ["1.0.0"], "C": ["1.0.0", "2.0.0"]}
    deps = {"A 1.0.0": [("C", "[1.0.0]")], "B 1.0.0": [("C", "2.0.0")]}
    result = run([("A", "1.0.0"), ("B", "1.0.0")], feed, deps)
    assert codes(result) == ["NU1107"]
    assert str(result.issues[0]) == (
        "NU1107: Version conflict detected for C. Install/reference C 2.0.0 directly to "
        "project App to resolve this issue.\n"
        " App -> B 1.0.0 -> C (>= 2.0.0)\n"
        " App -> A 1.0.0 -> C (= 1.0.0)"
    )
    # Referencing C directly resolves it (with a downgrade report if it is lower).
    fixed = run([("A", "1.0.0"), ("B", "1.0.0"), ("C", "2.0.0")], feed, deps)
    assert fixed.versions()["C"] == "2.0.0"
    assert codes(fixed) == ["NU1608"]


def test_the_chosen_version_decides_the_transitive_graph() -> None:
    # C 1.0.0 would bring D; the cousin rule picks C 2.0.0, which does not.
    feed = {"A": ["1.0.0"], "B": ["1.0.0"], "C": ["1.0.0", "2.0.0"], "D": ["1.0.0"]}
    deps = {
        "A 1.0.0": [("C", "1.0.0")],
        "B 1.0.0": [("C", "2.0.0")],
        "C 1.0.0": [("D", "1.0.0")],
    }
    result = run([("A", "1.0.0"), ("B", "1.0.0")], feed, deps)
    assert result.versions() == {"A": "1.0.0", "B": "1.0.0", "C": "2.0.0"}


def test_floating_cousin_and_case_insensitive_ids() -> None:
    feed = {"A": ["1.0.0"], "Newtonsoft.Json": ["12.0.1", "13.0.1", "13.0.3"]}
    deps = {"A 1.0.0": [("newtonsoft.json", "12.0.1")]}
    result = run([Dependency("A", "1.0.0"), Dependency("Newtonsoft.Json", "13.*")], feed, deps)
    assert result.versions() == {"A": "1.0.0", "Newtonsoft.Json": "13.0.3"}
    assert result.issues == ()


def test_missing_packages_and_versions() -> None:
    result = run([("Nope", "1.0.0"), ("B", "5.0.0")], {"B": ["1.0.0"]})
    assert codes(result) == ["NU1101", "NU1102"]
    assert result.issues[1].message == "Unable to find package B with version (>= 5.0.0)"
    assert result.packages == ()


def test_cycles_are_nu1108() -> None:
    feed = {"A": ["1.0.0"], "B": ["1.0.0"]}
    deps = {"A 1.0.0": [("B", "1.0.0")], "B 1.0.0": [("A", "1.0.0")]}
    result = run([("A", "1.0.0")], feed, deps)
    assert codes(result) == ["NU1108"]
    assert result.issues[0].paths == ("App -> A 1.0.0 -> B 1.0.0 -> A (>= 1.0.0)",)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1.0", "(>= 1.0.0)"),
        ("[1.0, 2.0)", "(>= 1.0.0 && < 2.0.0)"),
        ("[1.0]", "(= 1.0.0)"),
        ("(, 2.0]", "(<= 2.0.0)"),
        ("1.*", "(1.*)"),
    ],
)
def test_ranges_are_described_as_nuget_does(text: str, shown: str) -> None:
    assert describe_range(SCHEME.parse_constraint(text)) == shown


def test_json() -> None:
    result = run([("B", "1.0")], {"B": ["1.0.0"]})
    assert result.to_json() == {
        "type": "nuget-resolution",
        "packages": [
            {"id": "B", "version": "1.0.0", "direct": True, "paths": ["App -> B (>= 1.0.0)"]}
        ],
        "issues": [],
    }
