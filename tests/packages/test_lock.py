"""lock_pypi, lock_pypi_project (preferences, upgrades, hashed requirements output, progress),
tree and why against a local PEP 691 index (tests/_support/pypi_lock_index)."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
from packaging.markers import default_environment

from _support.pypi_graph import Graph, Rel
from _support.pypi_lock_index import content, serve_lock_graph, sha256
from _support.registry import LocalRegistry
from tuskops.errors import ManifestError, PackageError
from tuskops.packages import manifests
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.pypi_files import read_pylock
from tuskops.packages.lock import (
    REQUIREMENTS_LOCK_FORMAT,
    lock_pypi,
    lock_pypi_project,
    roots,
    tree,
    why,
)
from tuskops.packages.locking import LockRequest
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
            "size": len(content(wheel)),
            "hashes": {"sha256": sha256(wheel)},
        },
    )
    assert by_name["app"].extra["sdist-file"]["name"] == "app-1.0.tar.gz"
    assert by_name["app"].hashes == (
        f"sha256:{sha256('app-1.0.tar.gz')}",
        f"sha256:{sha256(wheel)}",
    )
    assert result.extra["tool"] == {
        "tuskops": {
            "requirements": ["app", "web[speed]"],
            "roots": ["app", "web"],
            "manifest": "requirements.txt",
        }
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


# --- relocking: preferences and upgrades ------------------------------------------------------

OLD: Graph = {
    "app": {"1.0": Rel(["lib>=1.0", "helper-tool"])},
    "lib": {"1.0": Rel(["base"])},
    "helper-tool": {"0.9": Rel(["base"])},
    "base": {"1.0": Rel()},
}
NEW: Graph = {
    "app": {"1.0": Rel(["lib>=1.0", "helper-tool"])},
    "lib": {"1.0": Rel(["base"]), "1.5": Rel(["base>=1"]), "2.0": Rel(["base>=2"])},
    "helper-tool": {"0.9": Rel(["base"]), "1.0": Rel(["base"])},
    "base": {"1.0": Rel(), "2.0": Rel()},
}


def _served(graph: Graph) -> LocalRegistry:
    return serve_lock_graph(graph)


def _lock_project(
    index: LocalRegistry, proj: Path, output: Path | None = None, **options: object
) -> Lockfile:
    request = LockRequest(
        lookup=lookup(index, proj),
        output=output,
        python_version="3.11",
        **options,  # type: ignore[arg-type]
    )
    return lock_pypi_project(proj, request)


@pytest.fixture
def relock(tmp_path: Path) -> Generator[tuple[Path, LocalRegistry], None, None]:
    """A project locked against the OLD index (pylock.toml written), and the NEW index."""
    proj = project(tmp_path, "app\n")
    old = _served(OLD)
    try:
        first = _lock_project(old, proj)
        write(first, first.path)
    finally:
        old.httpd.shutdown()
        old.httpd.server_close()
    new = _served(NEW)
    yield proj, new
    new.httpd.shutdown()
    new.httpd.server_close()


def _versions(result: Lockfile) -> dict[str, str]:
    return {p.name: p.version for p in result.packages}


def test_relock_keeps_the_locked_versions(relock: tuple[Path, LocalRegistry]) -> None:
    proj, new = relock
    assert _versions(_lock_project(new, proj)) == {
        "app": "1.0",
        "lib": "1.0",
        "helper-tool": "0.9",
        "base": "1.0",
    }
    # Without the old lock the same index gives the newest versions.
    (proj / "pylock.toml").unlink()
    assert _versions(_lock_project(new, proj)) == {
        "app": "1.0",
        "lib": "2.0",
        "helper-tool": "1.0",
        "base": "2.0",
    }


def test_upgrade_name_moves_only_that_package(relock: tuple[Path, LocalRegistry]) -> None:
    proj, new = relock
    result = _lock_project(new, proj, upgrade=frozenset({"Helper_Tool"}))
    assert _versions(result) == {"app": "1.0", "lib": "1.0", "helper-tool": "1.0", "base": "1.0"}
    # lib moves to the newest version base 1.0 (still preferred) allows.
    result = _lock_project(new, proj, upgrade=frozenset({"lib"}))
    assert _versions(result) == {"app": "1.0", "lib": "1.5", "helper-tool": "0.9", "base": "1.0"}


def test_upgrade_all_moves_everything(relock: tuple[Path, LocalRegistry]) -> None:
    proj, new = relock
    assert _versions(_lock_project(new, proj, upgrade_all=True)) == {
        "app": "1.0",
        "lib": "2.0",
        "helper-tool": "1.0",
        "base": "2.0",
    }


def test_a_preference_the_requirements_exclude_is_dropped(
    relock: tuple[Path, LocalRegistry],
) -> None:
    proj, new = relock
    (proj / "requirements.txt").write_text("app\nlib>=1.5\n")
    # Preferences are soft: lib 1.0 is excluded, so lib takes the newest version allowed,
    # whose base>=2 moves base off its preferred 1.0; helper-tool stays.
    assert _versions(_lock_project(new, proj)) == {
        "app": "1.0",
        "lib": "2.0",
        "helper-tool": "0.9",
        "base": "2.0",
    }


# --- hashed requirements output ---------------------------------------------------------------


def _register_txt_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The WRITERS entry the shared manifests.py gets (a no-op once it has it)."""
    monkeypatch.setitem(
        manifests.WRITERS,
        "*.txt",
        "tuskops.packages.ecosystems.pypi_requirements_lock:write_requirements_lock",
    )


def test_a_txt_output_is_a_hashed_requirements_lock(
    index: LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = project(tmp_path, "app\n")
    out = proj / "requirements.lock.txt"
    _register_txt_writer(monkeypatch)
    result = _lock_project(index, proj, output=out)
    assert result.format == REQUIREMENTS_LOCK_FORMAT
    assert result.path == str(out)
    write(result, out)
    text = out.read_text()
    wheel = "app-1.0-py3-none-any.whl"
    assert (
        "app==1.0 \\\n"
        f"    --hash=sha256:{sorted([sha256(wheel), sha256('app-1.0.tar.gz')])[0]} \\\n"
    ) in text
    assert "    # via -r requirements.txt\n" in text
    assert "base==1.2 \\\n" in text
    assert "    # via\n    #   helper-tool\n    #   lib\n" in text
    assert "# Resolved for Python 3.11" in text


def test_the_txt_output_is_preferred_when_relocking(
    relock: tuple[Path, LocalRegistry],
) -> None:
    proj, new = relock
    (proj / "pylock.toml").unlink()
    out = proj / "requirements.lock.txt"
    out.write_text("app==1.0 \\\n    --hash=sha256:00\nlib==1.0\nbase==1.0\nhelper-tool==0.9\n")
    result = _lock_project(new, proj, output=out, upgrade=frozenset({"helper-tool"}))
    assert _versions(result) == {"app": "1.0", "lib": "1.0", "helper-tool": "1.0", "base": "1.0"}


def test_the_input_requirements_txt_is_never_overwritten(
    index: LocalRegistry, tmp_path: Path
) -> None:
    proj = project(tmp_path, "app\n")
    with pytest.raises(ManifestError, match=r"would overwrite the input requirements\.txt"):
        _lock_project(index, proj, output=proj / "requirements.txt")
    with pytest.raises(ManifestError, match="would overwrite the input"):
        _lock_project(index, proj / "requirements.txt", output=proj / "." / "requirements.txt")
    assert (proj / "requirements.txt").read_text() == "app\n"


# --- progress ---------------------------------------------------------------------------------


def test_progress_reports_fetched_metadata(index: LocalRegistry, tmp_path: Path) -> None:
    messages: list[str] = []
    proj = project(tmp_path, "app\nweb[speed]\n")
    _lock_project(index, proj, progress=messages.append)
    assert messages[0] == "resolving 2 requirements from requirements.txt"
    fetched = [m for m in messages if m.startswith("fetched ")]
    assert fetched  # the first wait on a listing reports at least once
    assert all("packages' metadata" in m for m in fetched)
    assert messages[-1] == "resolved 6 packages; collecting files and hashes"
