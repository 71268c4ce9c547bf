"""`pkg lock | tree | why` on a local click group, against a local PEP 691 index."""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from _support.pypi_graph import Graph, Rel
from _support.pypi_lock_index import serve_lock_graph, sha256
from _support.registry import LocalRegistry
from tuskops.cli.pkg_lock_cmd import detect_ecosystem, lock_command, tree_command, why_command
from tuskops.packages.ecosystems.pypi_files import read_pylock
from tuskops.packages.locking import LOCKERS

GRAPH: Graph = {
    "app": {"1.0": Rel(["lib>=1.0,<2", "helper"])},
    "lib": {"1.0": Rel(), "1.5": Rel(["base"]), "2.0": Rel()},
    "helper": {"0.9": Rel(["base"])},
    "base": {"1.0": Rel()},
    "left": {"1.0": Rel(["shared<2"])},
    "right": {"1.0": Rel(["shared>=2"])},
    "shared": {"1.0": Rel(), "2.0": Rel()},
}

Run = Callable[..., Result]


@click.group()
def pkg() -> None:
    """A stand-in for the pkg group."""


pkg.add_command(lock_command)
pkg.add_command(tree_command)
pkg.add_command(why_command)


@pytest.fixture
def index() -> Generator[LocalRegistry, None, None]:
    registry = serve_lock_graph(GRAPH)
    yield registry
    registry.httpd.shutdown()
    registry.httpd.server_close()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TUSKOPS_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str | Path) -> Result:
        return CliRunner().invoke(pkg, [str(a) for a in args], catch_exceptions=False)

    return invoke


def make_project(tmp_path: Path, requirements: str) -> Path:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text(requirements)
    return project


def lock(run: Run, index: LocalRegistry, *args: str | Path) -> Result:
    return run("lock", *args, "--python", "3.11", "--registry", f"{index.base}/simple/")


def test_lock_writes_a_pylock_that_reads_back(
    run: Run, index: LocalRegistry, tmp_path: Path
) -> None:
    project = make_project(tmp_path, "app\n")
    result = lock(run, index, project)
    assert result.exit_code == 0, result.stderr
    assert f"Resolving {project} (pypi) for Python 3.11" in result.stderr  # the progress line
    target = project / "pylock.toml"
    assert result.stdout.splitlines() == [
        "app==1.0",
        "base==1.0",
        "helper==0.9",
        "lib==1.5",
        f"Locked 4 packages for Python 3.11 into {target}.",
    ]
    back = read_pylock(target)
    assert {p.name: p.version for p in back.packages} == {
        "app": "1.0",
        "base": "1.0",
        "helper": "0.9",
        "lib": "1.5",
    }
    app = next(p for p in back.packages if p.name == "app")
    assert app.hashes == (
        f"sha256:{sha256('app-1.0.tar.gz')}",
        f"sha256:{sha256('app-1.0-py3-none-any.whl')}",
    )
    assert app.dependencies == ("helper 0.9", "lib 1.5")


def test_lock_output_file_and_dry_run(run: Run, index: LocalRegistry, tmp_path: Path) -> None:
    project = make_project(tmp_path, "helper\n")
    result = lock(run, index, project, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Resolved 2 packages for Python 3.11; dry run, wrote nothing."
    )
    assert sorted(p.name for p in project.iterdir()) == ["requirements.txt"]
    other = tmp_path / "pylock.dev.toml"
    result = lock(run, index, project, "--output-file", other)
    assert result.exit_code == 0, result.stderr
    assert {p.name for p in read_pylock(other).packages} == {"helper", "base"}
    assert not (project / "pylock.toml").exists()


def test_a_conflict_exits_1_with_the_explanation(
    run: Run, index: LocalRegistry, tmp_path: Path
) -> None:
    project = make_project(tmp_path, "left\nright\n")
    result = lock(run, index, project)
    assert result.exit_code == 1
    assert "no set of versions works" in result.stderr
    for name in ("left", "right", "shared"):
        assert name in result.stderr
    assert not (project / "pylock.toml").exists()


def test_an_ecosystem_without_a_locker_is_a_usage_error(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(LOCKERS, "cargo", "tuskops.packages.no_such_locker:lock")
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "a"\nversion = "0.1.0"\n')
    result = run("lock", tmp_path)
    assert result.exit_code == 2
    assert "not yet supported for cargo" in result.stderr
    assert detect_ecosystem(tmp_path) == "cargo"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("lock", empty)
    assert result.exit_code == 2
    assert "no manifest to lock" in result.stderr


def test_tree_and_why(run: Run, index: LocalRegistry, tmp_path: Path) -> None:
    project = make_project(tmp_path, "app\n")
    assert lock(run, index, project).exit_code == 0
    result = run("tree", project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "app 1.0\n├── helper 0.9\n│   └── base 1.0\n└── lib 1.5\n    └── base 1.0 (*)\n"
    )
    result = run("why", "base", project / "pylock.toml")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "app 1.0 -> helper 0.9 -> base 1.0",
        "app 1.0 -> lib 1.5 -> base 1.0",
    ]
    result = run("why", "left", project)
    assert result.exit_code == 1
    assert "left is not in" in result.stderr


def test_tree_without_a_lockfile(run: Run, tmp_path: Path) -> None:
    result = run("tree", tmp_path)
    assert result.exit_code == 2  # a ManifestError, as for any unreadable lockfile
    assert "no lockfile here" in result.stderr
