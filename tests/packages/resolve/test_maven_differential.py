"""Maven resolution, differential: each graph resolved by ``mvn -o dependency:tree`` and by
tuskops (``lock_maven``) against the same ``file://`` repository; the trees must be equal.

``mvn`` runs offline with a fresh local repository per test in which every top-level entry of
the machine's ``~/.m2/repository`` (maven-dependency-plugin and its dependencies) is linked,
and the fixture artifacts (all under groupId ``fixture``) land in a directory of its own.
``-Daether.offline.protocols=file`` lets the offline resolver read the ``file://`` repository.
One ``mvn`` run per graph executes ``dependency:tree`` three times (executions configured in
the project POM). Compared: the text of ``dependency:tree`` (tuskops: ``render_tree`` of the
lock), the bytes of ``-DoutputType=json`` (tuskops: the written ``dependency-tree.json``), and
the ``-Dverbose`` text with omitted nodes (tuskops: ``ResolvedTree.render(verbose=True)``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from _support.maven_repo import GROUP, Dep, MavenRepo, project_pom
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.maven_tree_files import render_tree, write_dependency_tree
from tuskops.packages.lock_maven import lock_maven, resolve_project
from tuskops.packages.resolve.maven import MavenVersionConflict

MVN = shutil.which("mvn")
M2 = Path(os.path.expanduser("~")) / ".m2" / "repository"
PLUGIN = "3.11.0"
PLUGIN_JAR = (
    M2 / "org/apache/maven/plugins/maven-dependency-plugin" / PLUGIN
) / f"maven-dependency-plugin-{PLUGIN}.jar"

F = GROUP  # shorter coordinates below


def _need_mvn() -> str:
    if MVN is None:
        pytest.skip("mvn is not installed (.ci/run installs the maven package)")
    if not PLUGIN_JAR.is_file():
        pytest.skip(
            f"maven-dependency-plugin {PLUGIN} is not in {M2} (Maven Central is not reachable, "
            "so `mvn -o` needs it and its dependencies there)"
        )
    return MVN


@dataclass
class Graph:
    """A repository's artifacts and a project on them."""

    name: str
    artifacts: dict[str, Sequence[Dep]]
    project: Sequence[Dep]
    managed: Sequence[Dep] = ()
    #: Artifacts deployed with this POM text instead (parents, BOMs).
    extra: dict[str, dict[str, object]] = field(default_factory=dict)
    #: False where mvn's -Dverbose tree is known to differ (docs/resolution.md, Maven).
    verbose: bool = True


def d(coords: str, **options: object) -> Dep:
    return Dep(f"{F}:{coords}", **options)  # type: ignore[arg-type]


GRAPHS: list[Graph] = [
    # "A -> B -> C -> D 2.0 and A -> E -> D 1.0": D 1.0, the nearest.
    Graph(
        "nearest-wins",
        {
            f"{F}:b:1.0": [d("c:1.0")],
            f"{F}:c:1.0": [d("d:2.0")],
            f"{F}:d:1.0": [],
            f"{F}:d:2.0": [],
            f"{F}:e:1.0": [d("d:1.0")],
        },
        [d("b:1.0"), d("e:1.0")],
    ),
    # Same depth: the first declaration wins; its children are walked, the loser's are not.
    Graph(
        "first-declaration",
        {
            f"{F}:a:1.0": [d("x:1.0")],
            f"{F}:b:1.0": [d("x:2.0")],
            f"{F}:x:1.0": [],
            f"{F}:x:2.0": [d("y:1.0")],
            f"{F}:y:1.0": [],
        },
        [d("a:1.0"), d("b:1.0")],
    ),
    # dependencyManagement: transitive versions and scopes replaced, exclusions added;
    # a direct dependency keeps its own version.
    Graph(
        "dependency-management",
        {
            f"{F}:a:1.0": [d("x:1.0"), d("y:1.0"), d("z:1.0")],
            f"{F}:x:1.0": [],
            f"{F}:x:3.0": [d("w:1.0")],
            f"{F}:y:1.0": [],
            f"{F}:z:1.0": [],
            f"{F}:z:2.0": [],
            f"{F}:w:1.0": [],
        },
        [d("a:1.0"), d("z:1.0")],
        managed=[d("x:3.0"), d("y:1.0", scope="runtime"), d("z:2.0"), d("w:1.0")],
    ),
    # The scope table: test/provided/runtime rows and columns, and the widest scope winning.
    Graph(
        "scopes",
        {
            f"{F}:t:1.0": [d("tc:1.0"), d("tt:1.0", scope="test"), d("tr:1.0", scope="runtime")],
            f"{F}:p:1.0": [
                d("pc:1.0"),
                d("pp:1.0", scope="provided"),
                d("pr:1.0", scope="runtime"),
            ],
            f"{F}:r:1.0": [d("rc:1.0"), d("shared:1.0")],
            f"{F}:c:1.0": [d("cr:1.0", scope="runtime"), d("cp:1.0", scope="provided")],
            f"{F}:q:1.0": [d("deep:1.0")],
            f"{F}:deep:1.0": [d("shared:1.0")],
            **{
                f"{F}:{n}:1.0": []
                for n in ("tc", "tt", "tr", "pc", "pp", "pr", "rc", "cr", "cp", "shared")
            },
        },
        [
            d("t:1.0", scope="test"),
            d("p:1.0", scope="provided"),
            d("r:1.0", scope="runtime"),
            d("c:1.0"),
            d("q:1.0"),
        ],
    ),
    # Exclusions (one artifact, and a wildcard) and optional dependencies.
    Graph(
        "exclusions-optional",
        {
            f"{F}:a:1.0": [d("b:1.0"), d("c:1.0"), d("o:1.0", optional=True)],
            f"{F}:b:1.0": [d("b2:1.0")],
            f"{F}:c:1.0": [],
            f"{F}:e:1.0": [d("b:1.0"), d("c:1.0")],
            f"{F}:o:1.0": [],
            f"{F}:b2:1.0": [],
            f"{F}:own:1.0": [],
        },
        [
            d("a:1.0", exclusions=[f"{F}:c"]),
            d("e:1.0", exclusions=["*:*"]),
            d("own:1.0", optional=True),
        ],
    ),
    # Ranges: newest in range; a soft version inside a hard range elsewhere stands; a soft
    # version outside it gives way.
    Graph(
        "ranges",
        {
            f"{F}:a:1.0": [d("x:[1.0,2.0)")],
            f"{F}:b:1.0": [d("y:1.0")],
            f"{F}:c:1.0": [d("y:[1.1,)")],
            **{f"{F}:x:{v}": [] for v in ("1.0", "1.5", "2.0")},
            **{f"{F}:y:{v}": [] for v in ("1.0", "1.2", "1.3")},
        },
        [d("a:1.0"), d("b:1.0"), d("c:1.0")],
    ),
    # Classified and typed artifacts are distinct conflict keys.
    Graph(
        "classifier-type",
        {
            f"{F}:a:1.0": [d("x:2.0", classifier="tests"), d("x:2.0")],
            f"{F}:x:1.0": [],
            f"{F}:x:2.0": [],
        },
        [d("a:1.0"), d("x:1.0", classifier="tests", scope="test")],
    ),
    # A classified artifact with no plain sibling: its omitted node is shown.
    Graph(
        "classifier-alone",
        {f"{F}:a:1.0": [d("x:2.0", classifier="tests")], f"{F}:x:1.0": [], f"{F}:x:2.0": []},
        [d("a:1.0"), d("x:1.0", classifier="tests", scope="test")],
    ),
    # Managed scopes under a test-scoped parent, and a managed version for a direct dependency.
    Graph(
        "managed-scope-derivation",
        {
            f"{F}:t:1.0": [d("x:1.0"), d("y:1.0")],
            f"{F}:c:1.0": [d("y:1.0"), d("z:1.0")],
            **{f"{F}:{n}:1.0": [] for n in ("x", "y", "z")},
        },
        [d("t:1.0", scope="test"), d("c:1.0")],
        managed=[d("x:1.0", scope="compile"), d("z:1.0", scope="test"), d("c:9.9")],
    ),
    # A soft version outside a hard range elsewhere loses to a deeper node the range allows.
    Graph(
        "range-rejects-nearer",
        {
            f"{F}:a:1.0": [d("y:1.0")],
            f"{F}:b:1.0": [d("m:1.0")],
            f"{F}:m:1.0": [d("y:[1.2,1.3]"), d("y2:1.0")],
            f"{F}:y2:1.0": [d("y:1.4")],
            **{f"{F}:y:{v}": [] for v in ("1.0", "1.2", "1.3", "1.4")},
        },
        [d("a:1.0"), d("b:1.0")],
    ),
    # Management adding exclusions and filling a direct dependency's version; a groupId
    # wildcard exclusion; an optional direct dependency's own dependencies.
    Graph(
        "management-extras",
        {
            f"{F}:a:1.0": [d("b:1.0"), d("c:1.0")],
            f"{F}:b:1.0": [d("b2:1.0"), d("b3:1.0")],
            f"{F}:c:1.0": [d("c2:1.0")],
            f"{F}:o:1.0": [d("o2:1.0")],
            f"{F}:g:1.0": [d("b3:1.0"), d("c2:1.0")],
            **{f"{F}:{n}:1.0": [] for n in ("b2", "b3", "c2", "o2")},
        },
        [d("a"), d("o:1.0", optional=True), d("g:1.0", exclusions=[f"{F}:*"])],
        managed=[d("a:1.0"), d("b:1.0", exclusions=[f"{F}:b2"])],
    ),
    # An artifact below an optional dependency and below a plain one as well.
    Graph(
        "optional-paths",
        {
            f"{F}:o:1.0": [d("s:1.0"), d("only:1.0")],
            f"{F}:a:1.0": [d("s:1.0")],
            f"{F}:s:1.0": [d("s2:1.0")],
            **{f"{F}:{n}:1.0": [] for n in ("s2", "only")},
        },
        [d("o:1.0", optional=True), d("a:1.0")],
    ),
    # A range below a conflict loser does not constrain the winner's tree.
    Graph(
        "range-under-loser",
        {
            f"{F}:a:1.0": [d("x:1.0")],
            f"{F}:b:1.0": [d("x:2.0"), d("y:1.0")],
            f"{F}:x:1.0": [],
            f"{F}:x:2.0": [d("y:[2.0,)")],
            **{f"{F}:y:{v}": [] for v in ("1.0", "2.0")},
        },
        [d("a:1.0"), d("b:1.0")],
    ),
    # A direct dependency's soft version against a transitive hard range: the direct node
    # takes the newest allowed version, keeping its place, scope and subtree. mvn's verbose
    # tree disagrees with its own plain tree here (docs/resolution.md, Maven).
    Graph(
        "direct-soft-vs-range",
        {
            f"{F}:a:1.0": [d("y:[1.2,)"), d("w:1.0")],
            f"{F}:y:1.0": [d("q:1.0")],
            f"{F}:y:1.2": [],
            f"{F}:y:1.3": [d("z:1.0")],
            **{f"{F}:{n}:1.0": [] for n in ("k", "q", "w", "z")},
        },
        [d("k:1.0"), d("y:1.0", scope="runtime"), d("a:1.0")],
        verbose=False,
    ),
    # Parent with properties and dependencyManagement, and an imported BOM.
    Graph(
        "parent-bom",
        {
            f"{F}:lib:1.0": [d("x:1.0"), d("y:${y.version}")],
            f"{F}:x:1.0": [],
            f"{F}:x:2.0": [],
            f"{F}:y:1.0": [],
            f"{F}:y:4.0": [],
        },
        [d("lib:1.0")],
        managed=[d("bom:1.0", type="pom", scope="import")],
        extra={
            f"{F}:bom:1.0": {"managed": [d("x:2.0")], "packaging": "pom"},
            f"{F}:lib:1.0": {"parent": f"{F}:parent:1.0"},
            f"{F}:parent:1.0": {"properties": {"y.version": "4.0"}, "packaging": "pom"},
        },
    ),
]


def _build(graph: Graph, tmp: Path) -> tuple[Path, MavenRepo]:
    repo = MavenRepo(tmp / "repo")
    # Parents and BOMs first: deployed like any other POM.
    for coords, options in graph.extra.items():
        if coords not in graph.artifacts:
            repo.add(coords, **options)
    for coords, deps in graph.artifacts.items():
        repo.add(coords, deps, **graph.extra.get(coords, {}))
    project = project_pom(
        tmp / "project",
        graph.project,
        managed=graph.managed,
        repositories=[repo.url],
        plugin=PLUGIN,
    )
    return project.parent, repo


def _local_repo(tmp: Path) -> Path:
    local = tmp / "local"
    local.mkdir()
    for entry in M2.iterdir():
        assert entry.name != GROUP, f"{M2} has a {GROUP}/ directory; the fixtures need it free"
        (local / entry.name).symlink_to(entry)
    return local


def mvn_tree(project: Path, local: Path, *goals: str) -> subprocess.CompletedProcess[str]:
    """``mvn -o`` with the three ``dependency:tree`` executions of the project (or ``goals``)."""
    for name in ("tree.txt", "tree.json", "verbose.txt"):
        (project.parent / name).unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("MAVEN_ARGS", "MAVEN_OPTS")}
    return subprocess.run(
        [
            _need_mvn(),
            "-o",
            "-B",
            f"-Dmaven.repo.local={local}",
            "-Daether.offline.protocols=file",
            *(goals or ("dependency:tree@text", "dependency:tree@json", "dependency:tree@verbose")),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _lookup(tmp: Path, project: Path) -> PackageLookup:
    return PackageLookup(project_dir=project, home=tmp / "home", env={}, cache_dir=tmp / "cache")


@pytest.fixture
def mvn_env(tmp_path: Path) -> Callable[[Graph], tuple[Path, Path]]:
    _need_mvn()
    local = _local_repo(tmp_path)

    def build(graph: Graph) -> tuple[Path, Path]:
        project, _ = _build(graph, tmp_path)
        return project, local

    return build


def _verbose(project: Path, tmp: Path) -> str:
    """tuskops's ``-Dverbose`` tree."""
    _, manifest, tree = resolve_project(project, lookup=_lookup(tmp, project))
    head = f"{manifest.name}:{manifest.extra.get('packaging', 'jar')}:{manifest.version}"
    return tree.render(head, verbose=True)


@pytest.mark.parametrize("graph", GRAPHS, ids=[g.name for g in GRAPHS])
def test_trees_equal_mvn(
    graph: Graph, mvn_env: Callable[[Graph], tuple[Path, Path]], tmp_path: Path
) -> None:
    project, local = mvn_env(graph)
    result = mvn_tree(project, local)
    assert result.returncode == 0, result.stdout[-4000:]
    expected_text = (tmp_path / "tree.txt").read_text()
    expected_json = (tmp_path / "tree.json").read_text()
    expected_verbose = (tmp_path / "verbose.txt").read_text()

    lock = lock_maven(project, lookup=_lookup(tmp_path, project))

    assert render_tree(lock) == expected_text
    assert write_dependency_tree(lock) == expected_json
    assert len(lock.packages) == len(expected_text.splitlines()) - 1
    if graph.verbose:
        assert _verbose(project, tmp_path) == expected_verbose
    else:  # the measured difference, kept visible: mvn -Dverbose shows the direct node
        # as omitted and the range's node as the winner; tuskops the plain tree's shape.
        assert _verbose(project, tmp_path) != expected_verbose
        assert " - omitted for conflict with " in expected_verbose.splitlines()[2]


def test_conflicting_hard_ranges_fail_in_both(
    mvn_env: Callable[[Graph], tuple[Path, Path]], tmp_path: Path
) -> None:
    graph = Graph(
        "hard-range-conflict",
        {
            f"{F}:a:1.0": [d("x:[1.0,1.5]")],
            f"{F}:b:1.0": [d("x:[2.0,3.0)")],
            **{f"{F}:x:{v}": [] for v in ("1.0", "1.5", "2.0")},
        },
        [d("a:1.0"), d("b:1.0")],
    )
    project, local = mvn_env(graph)
    result = mvn_tree(project, local, "dependency:tree@text")
    assert result.returncode != 0
    assert f"Could not resolve version conflict among [{F}:a:jar:1.0 -> {F}:x:jar:[1.0,1.5]" in (
        result.stdout
    )

    with pytest.raises(MavenVersionConflict) as caught:
        lock_maven(project, lookup=_lookup(tmp_path, project))
    assert caught.value.key == f"{F}:x"
    assert [spec for _path, spec in caught.value.requirements] == ["[1.0,1.5]", "[2.0,3.0)"]
