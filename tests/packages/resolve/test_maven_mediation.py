"""Maven mediation: the examples of Maven's "Introduction to the Dependency Mechanism"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from tuskops.packages.manifests import Dependency
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.maven import (
    ManagedEntry,
    MavenVersionConflict,
    PomInfo,
    ResolvedTree,
    resolve_tree,
)

Repo = Mapping[str, Sequence[Dependency]]


def dep(
    name: str,
    version: str = "1.0",
    scope: str = "compile",
    *,
    optional: bool = False,
    exclusions: tuple[str, ...] = (),
) -> Dependency:
    return Dependency(
        name=f"g:{name}" if ":" not in name else name,
        constraint=version,
        kind="normal" if scope == "compile" else scope,
        optional=optional,
        exclusions=exclusions,
    )


def resolve(
    root: Sequence[Dependency],
    repo: Repo,
    *,
    managed: Mapping[str, ManagedEntry] | None = None,
    versions: Mapping[str, Sequence[str]] | None = None,
) -> ResolvedTree:
    """``repo`` maps "g:a:version" (or "g:a" for every version) to its dependencies."""

    def pom_of(name: str, version: str) -> PomInfo:
        found = repo.get(f"{name}:{version}", repo.get(name))
        if found is None:
            raise Unavailable(name, "no POM", version)
        return PomInfo(tuple(found))

    def versions_of(name: str) -> Sequence[str]:
        return (versions or {}).get(name, ())

    return resolve_tree(root, pom_of, managed=managed or {}, versions_of=versions_of)


def chosen(tree: ResolvedTree) -> dict[str, tuple[str, str]]:
    return {key.removeprefix("g:"): (n.version, n.scope) for key, n in tree.resolved.items()}


def test_nearest_definition_wins() -> None:
    # A -> B -> C -> D 2.0 and A -> E -> D 1.0: D 1.0, the path through E is shorter.
    repo: Repo = {
        "g:B": [dep("C")],
        "g:C": [dep("D", "2.0")],
        "g:E": [dep("D", "1.0")],
        "g:D": [],
    }
    tree = resolve([dep("B"), dep("E")], repo)
    assert chosen(tree)["D"] == ("1.0", "compile")
    loser = next(n for n in tree.walk() if n.name == "g:D" and n.omitted)
    assert loser.depth == 3
    assert loser.version == "2.0"
    assert loser.omitted == "omitted for conflict with 1.0"


def test_a_direct_dependency_forces_the_version() -> None:
    # "You could explicitly add a dependency to D 2.0 in A to force the use of D 2.0."
    repo: Repo = {"g:B": [dep("C")], "g:C": [dep("D", "2.0")], "g:E": [dep("D", "1.0")]}
    repo = {**repo, "g:D": []}
    tree = resolve([dep("B"), dep("E"), dep("D", "2.0")], repo)
    assert chosen(tree)["D"] == ("2.0", "compile")


def test_first_declaration_wins_at_equal_depth() -> None:
    repo: Repo = {"g:B": [dep("D", "2.0")], "g:E": [dep("D", "1.0")], "g:D": []}
    assert chosen(resolve([dep("B"), dep("E")], repo))["D"] == ("2.0", "compile")
    assert chosen(resolve([dep("E"), dep("B")], repo))["D"] == ("1.0", "compile")


def test_same_version_is_omitted_as_duplicate_and_not_walked_twice() -> None:
    repo: Repo = {"g:B": [dep("D")], "g:E": [dep("D")], "g:D": [dep("F")], "g:F": []}
    tree = resolve([dep("B"), dep("E")], repo)
    omitted = [n for n in tree.walk() if n.omitted]
    assert [(n.name, n.omitted, n.children) for n in omitted] == [
        ("g:D", "omitted for duplicate", ())
    ]
    assert list(chosen(tree)) == ["B", "D", "F", "E"]


def test_dependency_management_overrides_transitive_versions() -> None:
    # The doc's example: management in A sets the version of a transitive dependency.
    repo: Repo = {"g:B": [dep("C", "1.0")], "g:C": []}
    tree = resolve([dep("B")], repo, managed={"g:C": ManagedEntry(version="1.2")})
    node = tree.resolved["g:C"]
    assert (node.version, node.managed_from) == ("1.2", "1.0")
    # As maven-dependency-plugin 3.x prints it: the note only with -Dverbose.
    assert "   \\- g:C:jar:1.2:compile (version managed from 1.0)" in tree.render(verbose=True)
    assert "   \\- g:C:jar:1.2:compile\n" in tree.render()


def test_dependency_management_leaves_direct_versions_and_fills_missing_ones() -> None:
    managed = {"g:B": ManagedEntry(version="9.0"), "g:C": ManagedEntry(version="3.0")}
    tree = resolve([dep("B", "1.0"), dep("C", "")], {"g:B": [], "g:C": []}, managed=managed)
    assert chosen(tree) == {"B": ("1.0", "compile"), "C": ("3.0", "compile")}


def test_managed_exclusions_apply_to_direct_dependencies_too() -> None:
    repo: Repo = {"g:B": [dep("X"), dep("Y")], "g:X": [], "g:Y": []}
    tree = resolve([dep("B")], repo, managed={"g:B": ManagedEntry(exclusions=("g:X",))})
    assert list(chosen(tree)) == ["B", "Y"]


def test_managed_scope_and_exclusions_apply_to_transitive_dependencies() -> None:
    repo: Repo = {"g:B": [dep("C")], "g:C": [dep("X"), dep("Y")], "g:X": [], "g:Y": []}
    managed = {"g:C": ManagedEntry(scope="runtime", exclusions=("g:X",))}
    tree = resolve([dep("B")], repo, managed=managed)
    assert chosen(tree) == {
        "B": ("1.0", "compile"),
        "C": ("1.0", "runtime"),
        "Y": ("1.0", "runtime"),
    }


# The doc's table: row = scope of the direct dependency, column = declared scope of its
# dependency; None = not transitive.
SCOPE_TABLE = [
    ("compile", "compile", "compile"),
    ("compile", "provided", None),
    ("compile", "runtime", "runtime"),
    ("compile", "test", None),
    ("provided", "compile", "provided"),
    ("provided", "provided", None),
    ("provided", "runtime", "provided"),
    ("provided", "test", None),
    ("runtime", "compile", "runtime"),
    ("runtime", "provided", None),
    ("runtime", "runtime", "runtime"),
    ("runtime", "test", None),
    ("test", "compile", "test"),
    ("test", "provided", None),
    ("test", "runtime", "test"),
    ("test", "test", None),
]


@pytest.mark.parametrize(("direct", "transitive", "expected"), SCOPE_TABLE)
def test_scope_table(direct: str, transitive: str, expected: str | None) -> None:
    repo: Repo = {"g:B": [dep("C", scope=transitive)], "g:C": []}
    got = chosen(resolve([dep("B", scope=direct)], repo))
    assert got.get("C", (None, None))[1] == expected


def test_system_dependencies() -> None:
    repo: Repo = {"g:B": [dep("C"), dep("S", scope="system")], "g:C": [], "g:S": []}
    assert chosen(resolve([dep("B", scope="system")], repo)) == {
        "B": ("1.0", "system"),
        "C": ("1.0", "provided"),
        "S": ("1.0", "system"),
    }


def test_scope_is_widened_to_the_widest_path_but_not_for_direct_dependencies() -> None:
    repo: Repo = {"g:T": [dep("C")], "g:B": [dep("E")], "g:E": [dep("C")], "g:C": []}
    tree = resolve([dep("T", scope="test"), dep("B")], repo)
    node = tree.resolved["g:C"]
    assert (node.depth, node.scope, node.scope_from) == (2, "compile", "test")
    direct = resolve([dep("C", scope="test"), dep("B")], repo)
    assert chosen(direct)["C"] == ("1.0", "test")


def test_exclusions_cut_the_subtree() -> None:
    # The doc's example: Project-A -> Project-B (excluding Project-D) -> Project-D -> E.
    repo: Repo = {"g:B": [dep("D"), dep("K")], "g:D": [dep("E")], "g:E": [], "g:K": [dep("D")]}
    tree = resolve([dep("B", exclusions=("g:D",))], repo)
    assert chosen(tree) == {"B": ("1.0", "compile"), "K": ("1.0", "compile")}


@pytest.mark.parametrize(
    ("pattern", "kept"),
    [("*:*", []), ("*", []), ("g:*", ["other:X"]), ("*:D", ["other:X"]), ("other:*", ["D"])],
)
def test_wildcard_exclusions(pattern: str, kept: list[str]) -> None:
    repo: Repo = {"g:B": [dep("D"), dep("other:X")], "g:D": [], "other:X": []}
    got = chosen(resolve([dep("B", exclusions=(pattern,))], repo))
    assert sorted(got) == sorted(["B", *kept])


def test_optional_dependencies_are_not_transitive() -> None:
    # Project-A -> Project-B -> Project-C (optional): A does not get C.
    repo: Repo = {"g:B": [dep("C", optional=True)], "g:C": [], "g:X": []}
    assert chosen(resolve([dep("B")], repo)) == {"B": ("1.0", "compile")}
    # Declared by the project itself, an optional dependency is used.
    tree = resolve([dep("X", optional=True)], repo)
    assert tree.render() == "\\- g:X:jar:1.0:compile (optional)\n"


def test_ranges_pick_the_highest_available_version() -> None:
    repo: Repo = {"g:B": [dep("D", "[1.0,2.0)")], "g:D": []}
    versions = {"g:D": ["0.9", "1.0", "1.5", "1.9.1", "2.0"]}
    assert chosen(resolve([dep("B")], repo, versions=versions))["D"] == ("1.9.1", "compile")


def test_hard_ranges_are_intersected_across_the_tree() -> None:
    repo: Repo = {
        "g:B": [dep("D", "[1.0,2.0)")],
        "g:E": [dep("F")],
        "g:F": [dep("D", "[1.0,1.5]")],
        "g:D": [],
    }
    versions = {"g:D": ["1.0", "1.5", "1.9"]}
    assert chosen(resolve([dep("B"), dep("E")], repo, versions=versions))["D"][0] == "1.5"


def test_a_soft_version_outside_a_hard_range_gives_way() -> None:
    repo: Repo = {"g:B": [dep("D", "1.0")], "g:E": [dep("F")], "g:F": [dep("D", "[2.0,3.0)")]}
    repo = {**repo, "g:D": []}
    versions = {"g:D": ["1.0", "2.0", "2.5", "3.0"]}
    tree = resolve([dep("B"), dep("E")], repo, versions=versions)
    assert chosen(tree)["D"][0] == "2.5"
    inside = {**repo, "g:B": [dep("D", "2.0")]}
    assert chosen(resolve([dep("B"), dep("E")], inside, versions=versions))["D"][0] == "2.0"


def test_disjoint_hard_ranges_are_a_conflict() -> None:
    repo: Repo = {"g:B": [dep("D", "[1.0,2.0)")], "g:E": [dep("D", "[3.0,)")], "g:D": []}
    versions = {"g:D": ["1.0", "3.0"]}
    with pytest.raises(MavenVersionConflict) as info:
        resolve([dep("B"), dep("E")], repo, versions=versions)
    assert info.value.requirements == (
        (("g:B",), "[1.0,2.0)"),
        (("g:E",), "[3.0,)"),
    )
    assert "g:B -> g:D [1.0,2.0)" in str(info.value)


def test_ranges_with_no_available_version_in_common() -> None:
    repo: Repo = {"g:B": [dep("D", "[5.0,)")], "g:D": []}
    with pytest.raises(Unavailable, match=r"no available version in \[5.0,\)"):
        resolve([dep("B")], repo, versions={"g:D": ["1.0"]})
    # Each range alone has a version, their intersection [1.5,2.0) has none.
    repo = {"g:B": [dep("D", "[1.0,2.0)")], "g:E": [dep("D", "[1.5,3.0)")], "g:D": []}
    with pytest.raises(MavenVersionConflict):
        resolve([dep("B"), dep("E")], repo, versions={"g:D": ["1.0", "2.5"]})


def test_dependency_tree_rendering() -> None:
    repo: Repo = {
        "g:B": [dep("C"), dep("D", "2.0")],
        "g:C": [dep("F", scope="runtime")],
        "g:E": [dep("D", "1.0")],
        "g:D:1.0": [],
        "g:D:2.0": [],
        "g:F": [],
    }
    tree = resolve([dep("B"), dep("E", scope="test")], repo)
    assert tree.render("g:A:jar:1.0") == (
        "g:A:jar:1.0\n"
        "+- g:B:jar:1.0:compile\n"
        "|  +- g:C:jar:1.0:compile\n"
        "|  |  \\- g:F:jar:1.0:runtime\n"
        "|  \\- g:D:jar:2.0:compile\n"
        "\\- g:E:jar:1.0:test\n"
    )
    assert tree.render(verbose=True).splitlines()[-1] == (
        "   \\- (g:D:jar:1.0:test - omitted for conflict with 2.0)"
    )
    data = tree.to_json()
    assert [r["name"] for r in data["resolved"]] == ["g:B", "g:C", "g:F", "g:D", "g:E"]
    assert data["tree"][1]["children"][0]["omitted"] == "omitted for conflict with 2.0"


def test_classified_artifacts_are_distinct() -> None:
    tests_jar = Dependency("g:D", "2.0", extra={"type": "test-jar"})
    tree = resolve([dep("D", "1.0"), tests_jar], {"g:D": []})
    assert [n.coordinates for n in tree.resolved.values()] == [
        "g:D:jar:1.0:compile",
        "g:D:test-jar:2.0:compile",
    ]


def test_unavailable_poms_propagate() -> None:
    with pytest.raises(Unavailable):
        resolve([dep("B")], {})


def test_soft_version_outside_the_ranges_loses_to_a_deeper_acceptable_node() -> None:
    # As mvn -o dependency:tree resolves it (the differential test "range-rejects-nearer"):
    # A -> y 1.0 is nearest, but B -> M -> y [1.2,1.3] rejects it; the range's node wins.
    repo: Repo = {
        "g:A": [dep("y", "1.0")],
        "g:B": [dep("M")],
        "g:M": [dep("y", "[1.2,1.3]"), dep("Y2")],
        "g:Y2": [dep("y", "1.4")],
        "g:y": [],
    }
    tree = resolve([dep("A"), dep("B")], repo, versions={"g:y": ["1.0", "1.2", "1.3", "1.4"]})
    assert tree.render("g:R:jar:1.0", verbose=True) == (
        "g:R:jar:1.0\n"
        "+- g:A:jar:1.0:compile\n"
        "|  \\- (g:y:jar:1.0:compile - omitted for conflict with 1.3)\n"
        "\\- g:B:jar:1.0:compile\n"
        "   \\- g:M:jar:1.0:compile\n"
        "      +- g:y:jar:1.3:compile\n"
        "      \\- g:Y2:jar:1.0:compile\n"
        "         \\- (g:y:jar:1.4:compile - omitted for conflict with 1.3)\n"
    )


def test_direct_soft_version_outside_the_ranges_keeps_its_place() -> None:
    # mvn's plain tree (differential test "direct-soft-vs-range"): the direct node takes the
    # newest version the ranges allow, with its own scope and that version's dependencies.
    repo: Repo = {
        "g:A": [dep("y", "[1.2,)")],
        "g:y:1.0": [dep("q")],
        "g:y:1.3": [dep("z")],
        "g:q": [],
        "g:z": [],
    }
    tree = resolve(
        [dep("y", "1.0", "runtime"), dep("A")], repo, versions={"g:y": ["1.0", "1.2", "1.3"]}
    )
    assert tree.render("g:R:jar:1.0") == (
        "g:R:jar:1.0\n+- g:y:jar:1.3:runtime\n|  \\- g:z:jar:1.0:runtime\n\\- g:A:jar:1.0:compile\n"
    )


def test_optional_below_an_optional_dependency_unless_another_path_is_not() -> None:
    # mvn dependency:tree marks the subtree of an optional dependency "(optional)", except
    # what a non-optional path reaches too (differential tests "management-extras",
    # "optional-paths").
    repo: Repo = {"g:O": [dep("S"), dep("only")], "g:A": [dep("S")], "g:S": [], "g:only": []}
    tree = resolve([dep("O", optional=True), dep("A")], repo)
    assert tree.render("g:R:jar:1.0") == (
        "g:R:jar:1.0\n"
        "+- g:O:jar:1.0:compile (optional)\n"
        "|  +- g:S:jar:1.0:compile\n"
        "|  \\- g:only:jar:1.0:compile (optional)\n"
        "\\- g:A:jar:1.0:compile\n"
    )
