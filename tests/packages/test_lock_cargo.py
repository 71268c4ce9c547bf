"""Locking Cargo projects against a local sparse registry: the Lockfile, the previous lock's
pins, errors, and ``tuskops pkg lock | tree | why`` on a Cargo project."""

from __future__ import annotations

import tomllib
from collections.abc import Generator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from _support.cargo_registry import CargoWorld, Crate, Dep, Graph, checksum, write_project
from tuskops.cli.main import cli
from tuskops.errors import ManifestError
from tuskops.packages import locking
from tuskops.packages.lock import tree, why
from tuskops.packages.lock_cargo import CRATES_IO_SOURCE
from tuskops.packages.manifests import Lockfile, read, write

pytestmark = pytest.mark.usefixtures("package_env")

GRAPH: Graph = {
    "rand": {
        "0.7.3": Crate(deps=[Dep("rand_core", "^0.5")]),
        "0.8.4": Crate(deps=[Dep("rand_core", "^0.6"), Dep("libc", "0.2", target="cfg(unix)")]),
        "0.8.5": Crate(deps=[Dep("rand_core", "^0.6"), Dep("libc", "0.2", target="cfg(unix)")]),
    },
    "rand_core": {"0.5.1": Crate(), "0.6.4": Crate()},
    "libc": {"0.2.150": Crate(), "0.2.151": Crate()},
    "conflict-a": {"1.0.0": Crate(deps=[Dep("libc", "=0.2.150")])},
    "conflict-b": {"1.0.0": Crate(deps=[Dep("libc", "=0.2.151")])},
}

MANIFEST = (
    '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n\n'
    '[dependencies]\nrand = "0.8"\nold-rand = { package = "rand", version = "0.7" }\n'
)


@pytest.fixture
def world(tmp_path: Path) -> Generator[CargoWorld, None, None]:
    world = CargoWorld(tmp_path, GRAPH)
    yield world
    world.close()


def _lock(world: CargoWorld, project: Path, **options: object) -> Lockfile:
    return locking.lock(project, world.request(project, **options))


def _versions(lock: Lockfile) -> set[str]:
    return {f"{p.name} {p.version}" for p in lock.packages}


def test_lock_gives_the_cargo_lock_entries(world: CargoWorld, tmp_path: Path) -> None:
    project = write_project(tmp_path / "demo", MANIFEST)
    messages: list[str] = []
    lock = _lock(world, project, progress=messages.append)
    assert lock.format == "Cargo.lock v4"
    assert lock.path == str(project / "Cargo.lock")
    assert _versions(lock) == {
        "demo 0.1.0",
        "rand 0.7.3",
        "rand 0.8.5",
        "rand_core 0.5.1",
        "rand_core 0.6.4",
        "libc 0.2.151",
    }
    by_key = {(p.name, p.version): p for p in lock.packages}
    root = by_key[("demo", "0.1.0")]
    assert root.source is None
    assert root.hashes == ()
    assert root.dependencies == ("rand 0.7.3", "rand 0.8.5")
    rand = by_key[("rand", "0.8.5")]
    assert rand.source == CRATES_IO_SOURCE
    assert rand.hashes == (f"sha256:{checksum('rand', '0.8.5')}",)
    assert set(rand.dependencies) == {"rand_core 0.6.4", "libc 0.2.151"}
    assert any("crates" in m for m in messages)


def test_previous_lock_pins_are_kept_unless_upgraded(world: CargoWorld, tmp_path: Path) -> None:
    project = write_project(tmp_path / "demo", MANIFEST)
    older = {
        name: {v: c for v, c in versions.items() if v not in ("0.8.5", "0.2.151")}
        for name, versions in GRAPH.items()
    }
    world.publish(older)
    before = _lock(world, project)
    assert {"rand 0.8.4", "libc 0.2.150"} <= _versions(before)
    write(before, before.path)
    world.publish(GRAPH)  # newer versions appear

    kept = _lock(world, project)
    assert {"rand 0.8.4", "rand 0.7.3", "libc 0.2.150"} <= _versions(kept)
    freed = _lock(world, project, upgrade=frozenset({"libc"}))
    assert {"rand 0.8.4", "libc 0.2.151"} <= _versions(freed)
    fresh = _lock(world, project, upgrade_all=True)
    assert {"rand 0.8.5", "libc 0.2.151"} <= _versions(fresh)


def test_unlockable_dependencies_are_named(world: CargoWorld, tmp_path: Path) -> None:
    git = write_project(
        tmp_path / "git",
        '[package]\nname = "g"\nversion = "0.1.0"\n\n'
        '[dependencies]\nfoo = { git = "https://example.invalid/foo" }\n',
    )
    with pytest.raises(ManifestError, match="foo: git dependencies cannot be locked yet"):
        _lock(world, git)
    other = write_project(
        tmp_path / "other",
        '[package]\nname = "o"\nversion = "0.1.0"\n\n'
        '[dependencies]\nbar = { version = "1", registry = "private" }\n',
    )
    with pytest.raises(ManifestError, match="bar: dependencies on other registries"):
        _lock(world, other)
    patched = write_project(
        tmp_path / "patched",
        '[package]\nname = "p"\nversion = "0.1.0"\n\n[dependencies]\nrand = "0.8"\n\n'
        '[patch.crates-io]\nrand = { path = "../rand" }\n',
    )
    with pytest.raises(ManifestError, match=r"\[patch\] sections cannot be locked yet"):
        _lock(world, patched)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "Cargo.toml").write_text("[workspace]\nmembers = []\n")
    with pytest.raises(ManifestError, match="neither a \\[package\\] nor workspace members"):
        _lock(world, empty)


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_pkg_lock_tree_why_on_a_cargo_project(
    world: CargoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARGO_HOME", str(world.home))
    project = write_project(
        tmp_path / "demo",
        '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[dependencies]\nrand = "0.8"\n',
    )
    result = _cli("pkg", "lock", project)
    assert result.exit_code == 0, result.output
    written = (project / "Cargo.lock").read_text()
    assert written.startswith("# This file is automatically @generated by Cargo.")
    data = tomllib.loads(written)
    assert data["version"] == 4
    assert {(p["name"], p["version"]) for p in data["package"]} == {
        ("demo", "0.1.0"),
        ("rand", "0.8.5"),
        ("rand_core", "0.6.4"),
        ("libc", "0.2.151"),
    }
    assert "rand 0.8.5" in result.output

    lock = read(project / "Cargo.lock")
    assert isinstance(lock, Lockfile)
    drawn = tree(lock)
    assert drawn.splitlines()[0] == "demo 0.1.0"
    assert "rand 0.8.5" in drawn
    assert "libc 0.2.151" in drawn
    assert why(lock, "libc") == [["demo", "rand", "libc"]]

    shown = _cli("pkg", "tree", project)
    assert shown.exit_code == 0
    assert "└── libc 0.2.151" in shown.output or "├── libc 0.2.151" in shown.output
    asked = _cli("pkg", "why", "libc", project)
    assert asked.exit_code == 0
    assert asked.output.startswith("demo 0.1.0 -> rand 0.8.5 -> libc 0.2.151")


def test_pkg_lock_conflict_exits_1_with_the_explanation(
    world: CargoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARGO_HOME", str(world.home))
    project = write_project(
        tmp_path / "demo",
        '[package]\nname = "demo"\nversion = "0.1.0"\n\n'
        '[dependencies]\nconflict-a = "1"\nconflict-b = "1"\n',
    )
    result = _cli("pkg", "lock", project)
    assert result.exit_code == 1
    assert "conflict-a" in result.output
    assert "libc =0.2.151" in result.output
    assert not (project / "Cargo.lock").exists()
