"""lock_pypi, tree and why against a local PEP 691 index (tests/_support/pypi_lock_index)."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
from packaging.markers import default_environment

from _support.pypi_graph import Graph, Rel
from _support.pypi_lock_index import serve_lock_graph, sha256
from _support.registry import LocalRegistry
from tuskops.errors import ManifestError, PackageError
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.pypi_files import read_pylock
from tuskops.packages.lock import lock_pypi, roots, tree, why
from tuskops.packages.manifests import LockedPackage, Lockfile, write
from tuskops.packages.resolve.pubgrub import ResolutionImpossible
from tuskops.packages.settings import Registry, RegistrySettings

GRAPH: Graph = {
    "app": {"1.0": Rel(["lib>=1.0,<2", "Helper_Tool"])},
    "lib": {"1.0": Rel(["base"]), "1.5": Rel(["base>=1"]), "2.0": Rel()},
    "helper-tool": {"0.9": Rel(["base"])},
    "base": {"1.0": Rel(), "1.2": Rel(requires_python=">=3.8")},
    "web": {"1.0": Rel(["lib>=1", 'fast>=1; extra == "speed"'])},
    "fast": {"1.0": Rel()},
    "left": {"1.0": Rel(["shared<2"])},
    "right": {"1.0": Rel(["shared>=2"])},
    "shared": {"1.0": Rel(), "2.0": Rel()},
    "nohash": {"1.0": Rel()},
}

LINUX = {k: str(v) for k, v in default_environment().items()} | {
    "sys_platform": "linux",
    "python_version": "3.11",
}


@pytest.fixture
def index() -> Generator[LocalRegistry, None, None]:
    registry = serve_lock_graph(GRAPH, unhashed={"nohash"})
    yield registry
    registry.httpd.shutdown()
    registry.httpd.server_close()


def lookup(index: LocalRegistry, tmp_path: Path) -> PackageLookup:
    settings = RegistrySettings("pypi", (Registry("index", f"{index.base}/simple/"),))
    return PackageLookup(
        settings={"pypi": settings}, cache_dir=tmp_path / "cache", project_dir=tmp_path
    )


def lock(index: LocalRegistry, project: Path) -> Lockfile:
    return lock_pypi(
        project,
        lookup=lookup(index, project),
        python_version="3.11",
        environment=LINUX,
    )


def project(tmp_path: Path, requirements: str) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    (path / "requirements.txt").write_text(requirements)
    return path


def test_lock_pins_versions_dependencies_and_files(index: LocalRegistry, tmp_path: Path) -> None:
    proj = project(tmp_path, "app\nweb[speed]\n")
    result = lock(index, proj)
    assert result.path == str(proj / "pylock.toml")
    assert result.format == "pylock.toml 1.0"
    versions = {p.name: p.version for p in result.packages}
    assert versions == {
        "app": "1.0",
        "base": "1.2",
        "fast": "1.0",
        "helper-tool": "0.9",
        "lib": "1.5",
        "web": "1.0",
    }
    by_name = {p.name: p for p in result.packages}
    assert by_name["app"].dependencies == ("helper-tool 0.9", "lib 1.5")
    assert by_name["web"].dependencies == ("fast 1.0", "lib 1.5")  # the extra's, on the base
    assert by_name["base"].extra["requires-python"] == ">=3.8"
    assert by_name["app"].extra["index"] == f"{index.base}/simple/"
    wheel = "app-1.0-py3-none-any.whl"
    assert by_name["app"].extra["wheel-files"] == (
        {
            "name": wheel,
            "upload-time": "2024-05-01T12:30:00+00:00",
            "url": f"{index.base}/files/{wheel}",
            "size": len(f"contents of {wheel}\n"),
            "hashes": {"sha256": sha256(wheel)},
        },
    )
    assert by_name["app"].extra["sdist-file"]["name"] == "app-1.0.tar.gz"
    assert by_name["app"].hashes == (
        f"sha256:{sha256('app-1.0.tar.gz')}",
        f"sha256:{sha256(wheel)}",
    )
    assert result.extra["tool"] == {
        "tuskops": {"requirements": ["app", "web[speed]"], "roots": ["app", "web"]}
    }


def test_the_written_pylock_reads_back_the_same(index: LocalRegistry, tmp_path: Path) -> None:
    proj = project(tmp_path, "app\n")
    result = lock(index, proj)
    write(result, result.path)
    back = read_pylock(Path(result.path))
    assert [(p.name, p.version, p.hashes, p.dependencies) for p in back.packages] == [
        (p.name, p.version, p.hashes, p.dependencies) for p in result.packages
    ]
    assert {p.name: p.extra["wheel-files"] for p in back.packages} == {
        p.name: p.extra["wheel-files"] for p in result.packages
    }
    assert back.extra["tool"] == result.extra["tool"]
    assert roots(back) == ["app"]


def test_pyproject_dependencies_are_locked(index: LocalRegistry, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["helper-tool"]\n'
        '[project.optional-dependencies]\nweb = ["web"]\n'
        '[build-system]\nrequires = ["left"]\n'
    )
    result = lock(index, proj)
    assert {p.name: p.version for p in result.packages} == {"helper-tool": "0.9", "base": "1.2"}
    assert result.extra["requires-python"] == ">=3.10"


def test_a_conflict_raises_the_explanation(index: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(ResolutionImpossible) as caught:
        lock(index, project(tmp_path, "left\nright\n"))
    assert "shared" in caught.value.explanation


def test_a_package_without_hashes_is_an_error(index: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"nohash 1\.0: .*PEP 751 requires hashes"):
        lock(index, project(tmp_path, "nohash\n"))


def test_no_manifest_is_an_error(index: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no requirements\.txt or pyproject\.toml"):
        lock(index, tmp_path)


def test_tree_and_why(index: LocalRegistry, tmp_path: Path) -> None:
    result = lock(index, project(tmp_path, "app\nweb[speed]\n"))
    assert tree(result) == (
        "app 1.0\n"
        "├── helper-tool 0.9\n"
        "│   └── base 1.2\n"
        "└── lib 1.5\n"
        "    └── base 1.2 (*)\n"
        "web 1.0\n"
        "├── fast 1.0\n"
        "└── lib 1.5 (*)\n"
    )
    assert why(result, "Base") == [
        ["app", "helper-tool", "base"],
        ["app", "lib", "base"],
        ["web", "lib", "base"],
    ]
    assert why(result, "web") == [["web"]]
    with pytest.raises(PackageError, match="left is not in"):
        why(result, "left")


def test_roots_without_tool_table_and_cycles() -> None:
    def pkg(name: str, *deps: str) -> LockedPackage:
        return LockedPackage(name, "1", dependencies=deps)

    result = Lockfile(
        "pypi",
        "pylock.toml",
        "pylock.toml 1.0",
        (pkg("a", "b 1"), pkg("b", "c 1"), pkg("c"), pkg("x", "y 1"), pkg("y", "x 1")),
    )
    assert roots(result) == ["a", "x"]
    assert tree(result) == "a 1\n└── b 1\n    └── c 1\nx 1\n└── y 1\n    └── x 1 (*)\n"
    assert why(result, "x") == [["x"]]
    assert why(result, "y") == [["x", "y"]]
