"""lock_maven and `pkg lock` for Maven projects, against a local Maven repository in the real
layout (maven-metadata.xml, .sha1 checksums), served over HTTP or read as ``file://``."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import pytest
from click.testing import CliRunner

from _support.maven_repo import GROUP, Dep, MavenRepo, Served, pom_xml, project_pom, serve
from tuskops.cli.pkg_lock_cmd import lock_command
from tuskops.errors import ManifestError, PackageError
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.maven_tree_files import (
    read_dependency_tree,
    render_tree,
    why,
    write_dependency_tree,
)
from tuskops.packages.http import ChecksumMismatch
from tuskops.packages.lock_maven import lock_maven
from tuskops.packages.locking import LockRequest, lock
from tuskops.packages.manifests import read, write
from tuskops.packages.resolve.maven import MavenVersionConflict

F = GROUP


def d(coords: str, **options: object) -> Dep:
    return Dep(f"{F}:{coords}", **options)  # type: ignore[arg-type]


@pytest.fixture
def repo(tmp_path: Path) -> MavenRepo:
    repo = MavenRepo(tmp_path / "repo")
    # A parent in the repository with a property and dependencyManagement, and a BOM.
    repo.add(
        f"{F}:corp-parent:1.0",
        packaging="pom",
        properties={"log.version": "2.0"},
        managed=[d("log:${log.version}")],
    )
    repo.add(f"{F}:platform-bom:3.0", packaging="pom", managed=[d("json:1.5")])
    repo.add(f"{F}:web:1.0", [d("http:1.0"), d("log:1.0"), d("test-kit:1.0", scope="test")])
    repo.add(f"{F}:http:1.0", [d("json:1.0"), d("io:[1.0,2.0)")])
    repo.add(f"{F}:db:2.0", [d("json:2.0"), d("log:1.0", optional=True)])
    for coords in ("log:1.0", "log:2.0", "json:1.0", "json:1.5", "json:2.0", "test-kit:1.0"):
        repo.add(f"{F}:{coords}")
    for version in ("1.0", "1.1", "1.9", "2.0"):
        repo.add(f"{F}:io:{version}")
    return repo


@pytest.fixture
def served(repo: MavenRepo) -> Generator[Served, None, None]:
    server = serve(repo.root)
    yield server
    server.close()


def _project(tmp_path: Path, url: str) -> Path:
    """A module whose parent is on disk (relativePath) and has the repository's parent."""
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "pom.xml").write_text(
        pom_xml(
            f"{F}:workspace:1.0",
            parent=f"{F}:corp-parent:1.0",
            packaging="pom",
            properties={"bom.version": "3.0"},
            managed=[d("platform-bom:${bom.version}", type="pom", scope="import")],
            extra=f"  <repositories><repository><id>central</id><url>{url}</url>"
            "</repository></repositories>\n",
        )
    )
    project_pom(
        root / "app",
        [d("web:1.0"), d("db:2.0", scope="runtime"), d("test-kit:1.0", scope="test")],
        repositories=[url],
        parent=f"{F}:workspace:1.0",
    )
    return root / "app"


def _lookup(tmp_path: Path, project: Path) -> PackageLookup:
    return PackageLookup(
        project_dir=project, home=tmp_path / "home", env={}, cache_dir=tmp_path / "cache"
    )


EXPECTED_TREE = f"""\
{F}:app:jar:1.0
+- {F}:web:jar:1.0:compile
|  +- {F}:http:jar:1.0:compile
|  |  \\- {F}:io:jar:1.9:compile
|  \\- {F}:log:jar:2.0:compile
+- {F}:db:jar:2.0:runtime
|  \\- {F}:json:jar:1.5:compile
\\- {F}:test-kit:jar:1.0:test
"""


def test_lock_over_http_with_parents_boms_and_ranges(
    tmp_path: Path, served: Served, package_env: Path
) -> None:
    project = _project(tmp_path, served.url)
    messages: list[str] = []
    lockfile = lock_maven(project, lookup=_lookup(tmp_path, project), progress=messages.append)

    assert lockfile.path == str(project / "dependency-tree.json")
    # The parent chain's managed log 2.0 and the BOM's json 1.5 replace the transitive
    # versions; the range picks the newest 1.x; db's json is nearer than http's, and gets
    # compile scope from http's path although db is runtime.
    assert render_tree(lockfile) == EXPECTED_TREE
    assert [(p.name, p.version, p.extra["scope"]) for p in lockfile.packages] == [
        (f"{F}:web", "1.0", "compile"),
        (f"{F}:http", "1.0", "compile"),
        (f"{F}:io", "1.9", "compile"),
        (f"{F}:log", "2.0", "compile"),
        (f"{F}:db", "2.0", "runtime"),
        (f"{F}:json", "1.5", "compile"),
        (f"{F}:test-kit", "1.0", "test"),
    ]
    web = lockfile.packages[0]
    assert web.dependencies == (f"{F}:http 1.0", f"{F}:log 2.0")
    assert [p.dev for p in lockfile.packages][-1] is True
    assert any("fetching" in m for m in messages)

    write(lockfile, lockfile.path)
    text = Path(lockfile.path).read_text()
    assert json.loads(text)["children"][0]["artifactId"] == "web"
    again = read(lockfile.path)
    assert again == read_dependency_tree(Path(lockfile.path))
    assert write_dependency_tree(again) == text  # the same bytes back
    assert render_tree(again) == EXPECTED_TREE
    assert why(again, f"{F}:json") == [[f"{F}:db", f"{F}:json"]]
    with pytest.raises(PackageError, match="not in"):
        why(again, f"{F}:nothing")


def test_lock_entry_point_and_file_repository(
    tmp_path: Path, repo: MavenRepo, package_env: Path
) -> None:
    project = _project(tmp_path, repo.url)
    lockfile = lock(project, LockRequest(lookup=_lookup(tmp_path, project)))
    assert render_tree(lockfile) == EXPECTED_TREE


def test_checksum_mismatch_is_an_error(
    tmp_path: Path, repo: MavenRepo, served: Served, package_env: Path
) -> None:
    pom = repo.root / F / "http" / "1.0" / "http-1.0.pom"
    pom.write_text(pom.read_text().replace("io", "other"))  # the .sha1 no longer matches
    project = _project(tmp_path, served.url)
    with pytest.raises(ChecksumMismatch, match=r"http-1\.0\.pom"):
        lock_maven(project, lookup=_lookup(tmp_path, project))


def test_missing_pom_gives_no_dependencies_with_a_warning(
    tmp_path: Path, repo: MavenRepo, package_env: Path
) -> None:
    (repo.root / F / "db" / "2.0" / "db-2.0.pom").unlink()
    project = _project(tmp_path, repo.url)
    messages: list[str] = []
    lockfile = lock_maven(project, lookup=_lookup(tmp_path, project), progress=messages.append)
    db = next(p for p in lockfile.packages if p.name == f"{F}:db")
    assert db.dependencies == ()
    assert f"warning: the POM for {F}:db:2.0 is missing, no dependency information" in messages


def test_missing_parent_is_an_error(tmp_path: Path, repo: MavenRepo, package_env: Path) -> None:
    project = project_pom(
        tmp_path / "lonely", [d("web:1.0")], repositories=[repo.url], parent=f"{F}:nope:1.0"
    ).parent
    with pytest.raises(ManifestError, match=f"non-resolvable parent POM {F}:nope:1.0: not in"):
        lock_maven(project, lookup=_lookup(tmp_path, project))


def test_hard_range_conflict_and_unavailable_version(
    tmp_path: Path, repo: MavenRepo, package_env: Path
) -> None:
    project = project_pom(
        tmp_path / "p1", [d("web:1.0"), d("io:[2.0,)")], repositories=[repo.url]
    ).parent
    with pytest.raises(MavenVersionConflict, match=f"{F}:io"):
        lock_maven(project, lookup=_lookup(tmp_path, project))
    project = project_pom(tmp_path / "p2", [d("ghost:1.0")], repositories=[repo.url]).parent
    lockfile = lock_maven(project, lookup=_lookup(tmp_path, project))  # Maven only warns
    assert [p.name for p in lockfile.packages] == [f"{F}:ghost"]
    project = project_pom(tmp_path / "p3", [d("ghost:[1.0,)")], repositories=[repo.url]).parent
    with pytest.raises(PackageError, match=f"{F}:ghost"):
        lock_maven(project, lookup=_lookup(tmp_path, project))


def test_cli_lock_writes_dependency_tree_json(
    tmp_path: Path, repo: MavenRepo, package_env: Path
) -> None:
    project = _project(tmp_path, repo.url)
    result = CliRunner().invoke(lock_command, [str(project)])
    assert result.exit_code == 0, result.output
    assert f"{F}:web 1.0\n" in result.output
    assert f"{F}:io 1.9\n" in result.output
    assert f"Locked 7 packages into {project / 'dependency-tree.json'}." in result.output
    assert render_tree(read_dependency_tree(project / "dependency-tree.json")) == EXPECTED_TREE

    dry = CliRunner().invoke(
        lock_command, [str(project / "pom.xml"), "--dry-run", "--output-file", "x.json"]
    )
    assert dry.exit_code == 0, dry.output
    assert "Resolved 7 packages; dry run, wrote nothing." in dry.output


def test_reader_names_the_bad_field(tmp_path: Path) -> None:
    path = tmp_path / "dependency-tree.json"
    node = dict.fromkeys(("type", "scope", "classifier"), "")
    tree = {"groupId": "g", "artifactId": "a", "version": "1", "optional": "false", **node}
    tree["children"] = [{**tree, "version": 2}]
    path.write_text(json.dumps(tree))
    with pytest.raises(ManifestError, match=r"\$\.children\[0\]\.version: expected a string"):
        read(path)
    path.write_text("{")
    with pytest.raises(ManifestError, match="not JSON"):
        read(path)
