"""Differential tests: tuskops and ``cargo generate-lockfile`` lock the same graphs alike.

Each case publishes a small crate graph on a local sparse registry (the Cargo book's format,
``tests/_support/cargo_registry.py``), points a fresh ``CARGO_HOME`` at it with source
replacement, runs the installed Cargo and tuskops on the same project and compares the
``Cargo.lock`` bytes; where Cargo fails, tuskops must fail too (with an explanation).
"""

from __future__ import annotations

import tomllib
from collections.abc import Generator
from pathlib import Path

import pytest

from _support.cargo_registry import (
    CargoWorld,
    Crate,
    Dep,
    Graph,
    cargo_binary,
    random_graph,
    rustup_home,
    write_project,
)
from tuskops.errors import PackageError
from tuskops.packages.resolve.pubgrub import ResolutionImpossible

pytestmark = pytest.mark.usefixtures("package_env")


def _manifest(deps: str, *, name: str = "demo", extra: str = "") -> str:
    return (
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
        f"[dependencies]\n{deps}\n{extra}"
    )


@pytest.fixture
def cargo() -> str:
    found = cargo_binary()
    if found is None:
        pytest.skip("cargo is not installed (needed to compare with Cargo's own lockfile)")
    return found


@pytest.fixture
def world_factory(
    tmp_path: Path, cargo: str, monkeypatch: pytest.MonkeyPatch
) -> Generator[list[CargoWorld], None, None]:
    # ``package_env`` moved HOME: keep rustup's toolchains (tuskops runs ``rustc --version``).
    monkeypatch.setenv("RUSTUP_HOME", rustup_home())
    worlds: list[CargoWorld] = []
    yield worlds
    for world in worlds:
        world.close()


def _world(worlds: list[CargoWorld], tmp: Path, graph: Graph) -> CargoWorld:
    world = CargoWorld(tmp, graph)
    worlds.append(world)
    return world


def _names(lock_text: str) -> set[str]:
    return {p["name"] for p in tomllib.loads(lock_text)["package"]}


def _same_lock(world: CargoWorld, project: Path) -> str:
    code, native = world.cargo_lock(project)
    assert code == 0, native
    mine = world.tuskops_lock(project)
    assert mine == native
    return mine


def test_several_majors_side_by_side(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    graph: Graph = {
        "rand": {
            "0.7.3": Crate(deps=[Dep("rand_core", "^0.5.1")]),
            "0.8.4": Crate(deps=[Dep("rand_core", "^0.6")]),
            "0.8.5": Crate(deps=[Dep("rand_core", "^0.6.2")]),
        },
        "rand_core": {"0.5.1": Crate(), "0.6.3": Crate(), "0.6.4": Crate()},
        "serde": {"1.0.100": Crate(), "1.0.200": Crate(), "2.0.0": Crate()},
        "uses-old-serde": {"0.1.0": Crate(deps=[Dep("serde", "^1.0.50")])},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(
        tmp_path / "demo",
        _manifest(
            'rand = "0.8"\nrand07 = { package = "rand", version = "0.7" }\n'
            'serde = "2"\nuses-old-serde = "0.1"\n'
        ),
    )
    text = _same_lock(world, project)
    assert '"rand 0.7.3"' in text
    assert '"rand 0.8.5"' in text
    assert '"serde 1.0.200"' in text
    assert '"serde 2.0.0"' in text


def test_ranges_spanning_and_within_compatible_ranges(
    world_factory: list[CargoWorld], tmp_path: Path
) -> None:
    graph: Graph = {
        "a": {v: Crate() for v in ("0.6.0", "0.7.0", "0.7.5", "0.8.1", "0.9.0")},
        "b": {v: Crate() for v in ("1.1.0", "1.2.3", "1.2.9", "1.3.0")},
        "c": {v: Crate() for v in ("1.0.0", "1.5.0", "2.0.0")},
        "d": {v: Crate() for v in ("0.0.1", "0.0.2", "0.0.3")},
        "e": {v: Crate() for v in ("3.0.0", "3.1.0", "4.0.0")},
        "mid": {"1.0.0": Crate(deps=[Dep("a", ">=0.6, <0.8"), Dep("c", "<2")])},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(
        tmp_path / "demo",
        _manifest('a = ">=0.7, <0.9"\nb = "~1.2"\nc = "*"\nd = "=0.0.2"\ne = "3.*"\nmid = "1"\n'),
    )
    text = _same_lock(world, project)
    # ">=0.7, <0.9" takes 0.8.1; mid's ">=0.6, <0.8" takes 0.7.5 beside it.
    assert '"a 0.7.5"' in text
    assert '"a 0.8.1"' in text


def test_prereleases_only_when_named(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    graph: Graph = {
        "p": {"1.0.0": Crate(), "1.1.0-beta.1": Crate(), "2.0.0-alpha.1": Crate()},
        "q": {"0.3.0-alpha.1": Crate(), "0.3.0-alpha.2": Crate(), "0.2.0": Crate()},
        "r": {"1.0.0-rc.1": Crate(), "1.0.0": Crate(), "1.0.1-rc.1": Crate()},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(
        tmp_path / "demo", _manifest('p = "1"\nq = "0.3.0-alpha.1"\nr = ">=1.0.0-rc.1"\n')
    )
    text = _same_lock(world, project)
    assert 'version = "0.3.0-alpha.2"' in text
    assert "1.1.0-beta.1" not in text
    assert "1.0.1-rc.1" not in text


def test_optional_dependencies_and_features(
    world_factory: list[CargoWorld], tmp_path: Path
) -> None:
    graph: Graph = {
        "lib": {
            "1.0.0": Crate(
                deps=[
                    Dep("std-helper", "1", optional=True),
                    Dep("derive-helper", "1", optional=True),
                    Dep("never", "1", optional=True),
                    Dep("weakly", "1", optional=True),
                    Dep("implicit", "1", optional=True),
                    Dep("ren", "1", optional=True, package="renamed-real"),
                    Dep("shared", "1", default_features=False),
                ],
                features={
                    "default": ["std"],
                    "std": ["dep:std-helper", "shared/alloc"],
                    "derive": ["dep:derive-helper"],
                    "nothing": ["dep:never"],
                    "weak": ["weakly?/extra"],
                },
            )
        },
        "std-helper": {"1.0.0": Crate()},
        "derive-helper": {"1.0.0": Crate()},
        "never": {"1.0.0": Crate()},
        "weakly": {"1.0.0": Crate(features={"extra": []})},
        "implicit": {"1.0.0": Crate()},
        "renamed-real": {"1.0.0": Crate()},
        "shared": {
            "1.0.0": Crate(
                deps=[Dep("alloc-helper", "1", optional=True), Dep("std-only", "1", optional=True)],
                features={"default": ["std"], "std": ["dep:std-only"], "alloc": ["alloc-helper"]},
            )
        },
        "alloc-helper": {"1.0.0": Crate()},
        "std-only": {"1.0.0": Crate()},
        "nodefault": {
            "1.0.0": Crate(
                deps=[Dep("x", "1", optional=True)], features={"default": ["x"], "other": []}
            )
        },
        "x": {"1.0.0": Crate()},
        "user": {"1.0.0": Crate(deps=[Dep("lib", "1", features=["derive", "implicit"])])},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(
        tmp_path / "demo",
        _manifest(
            'lib = { version = "1", features = ["weak"] }\n'
            'nodefault = { version = "1", default-features = false, features = ["other"] }\n'
            'user = "1"\n'
        ),
    )
    names = _names(_same_lock(world, project))
    assert {"std-helper", "derive-helper", "weakly", "implicit", "alloc-helper"} <= names
    assert not {"never", "x", "std-only", "renamed-real"} & names


def test_root_features_optional_and_renamed_dependencies(
    world_factory: list[CargoWorld], tmp_path: Path
) -> None:
    graph: Graph = {
        "opt": {"1.0.0": Crate(features={"fast": []}, deps=[Dep("speed", "1", optional=True)])},
        "speed": {"1.0.0": Crate()},
        "real-name": {"2.0.0": Crate(), "2.1.0": Crate()},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(
        tmp_path / "demo",
        _manifest(
            'opt = { version = "1", optional = true }\n'
            'alias = { package = "real-name", version = "2.0" }\n',
            extra='\n[features]\nturbo = ["opt/speed"]\n',
        ),
    )
    text = _same_lock(world, project)
    assert 'name = "speed"' in text
    assert 'version = "2.1.0"' in text


def test_yanked_versions_are_not_chosen(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    graph: Graph = {
        "y": {"1.0.0": Crate(), "1.1.0": Crate(yanked=True)},
        "z": {"0.5.0": Crate(yanked=True)},
        "w": {"2.0.0": Crate(), "2.0.1": Crate(yanked=True)},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(tmp_path / "demo", _manifest('y = "1"\nw = "2"\n'))
    text = _same_lock(world, project)
    assert 'version = "1.0.0"' in text
    assert "1.1.0" not in text
    assert "2.0.1" not in text
    # Only a yanked version matches: both refuse.
    only_yanked = write_project(tmp_path / "only-yanked", _manifest('z = "0.5"\n'))
    code, _ = world.cargo_lock(only_yanked)
    assert code != 0
    with pytest.raises(ResolutionImpossible, match=r"(?i)yanked"):
        world.tuskops_lock(only_yanked)


def test_locked_yanked_version_is_kept(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    """A previous Cargo.lock pins a version that was yanked since: Cargo keeps it when it
    re-resolves (here for a new dependency, ``cargo update --workspace``), and so does tuskops."""
    before: Graph = {"y": {"1.0.0": Crate(), "1.1.0": Crate()}, "n": {"1.0.0": Crate()}}
    world = _world(world_factory, tmp_path, before)
    project = write_project(tmp_path / "demo", _manifest('y = "1"\n'))
    assert world.cargo_lock(project)[0] == 0
    previous = (project / "Cargo.lock").read_text()
    assert 'version = "1.1.0"' in previous
    world.publish({"y": {"1.0.0": Crate(), "1.1.0": Crate(yanked=True)}, "n": {"1.0.0": Crate()}})
    (project / "Cargo.toml").write_text(_manifest('y = "1"\nn = "1"\n'))
    mine_path = tmp_path / "tuskops.lock"
    mine_path.write_text(previous)
    code, native = world.cargo_lock(project, "update", "--workspace")
    assert code == 0, native
    native = (project / "Cargo.lock").read_text()
    assert 'version = "1.1.0"' in native
    assert world.tuskops_lock(project, output=mine_path) == native


def test_build_target_and_dev_dependencies(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    graph: Graph = {
        "sys": {
            "1.0.0": Crate(
                deps=[
                    Dep("cc", "1", kind="build"),
                    Dep("winapi", "0.3", target="cfg(windows)"),
                    Dep("libc", "0.2", target="cfg(unix)"),
                    Dep("testing-only", "1", kind="dev"),
                ]
            )
        },
        "cc": {"1.0.0": Crate(), "1.0.1": Crate()},
        "winapi": {"0.3.9": Crate()},
        "libc": {"0.2.1": Crate()},
        "testing-only": {"1.0.0": Crate()},
        "proptest": {"1.0.0": Crate()},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(
        tmp_path / "demo",
        _manifest(
            'sys = "1"\n',
            extra='\n[dev-dependencies]\nproptest = "1"\n\n[build-dependencies]\ncc = "1.0.0"\n',
        ),
    )
    text = _same_lock(world, project)
    assert 'name = "winapi"' in text
    assert 'name = "proptest"' in text
    assert "testing-only" not in text


def test_backtracking_to_an_older_version(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    graph: Graph = {
        "a": {
            "1.0.0": Crate(deps=[Dep("c", "^1.0")]),
            "1.1.0": Crate(deps=[Dep("c", "=1.0.0")]),
        },
        "b": {"1.0.0": Crate(deps=[Dep("c", "^1.1")])},
        "c": {"1.0.0": Crate(), "1.1.0": Crate()},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(tmp_path / "demo", _manifest('a = "1"\nb = "1"\n'))
    text = _same_lock(world, project)
    assert 'name = "a"\nversion = "1.0.0"' in text


def test_conflict_fails_in_both(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    graph: Graph = {
        "a": {"1.0.0": Crate(deps=[Dep("c", "=1.0.0")])},
        "b": {"1.0.0": Crate(deps=[Dep("c", "=1.1.0")])},
        "c": {"1.0.0": Crate(), "1.1.0": Crate()},
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(tmp_path / "demo", _manifest('a = "1"\nb = "1"\n'))
    code, message = world.cargo_lock(project)
    assert code != 0
    assert "failed to select a version" in message
    with pytest.raises(ResolutionImpossible) as caught:
        world.tuskops_lock(project)
    explanation = caught.value.explanation
    assert "a 1.0.0 depends on c =1.0.0" in explanation or "a 1 depends" in explanation
    assert "c =1.1.0" in explanation
    assert "demo" in explanation


def test_links_are_unique(world_factory: list[CargoWorld], tmp_path: Path) -> None:
    graph: Graph = {
        "openssl-sys": {"0.9.0": Crate(links="openssl"), "0.10.0": Crate(links="openssl")},
        "old-tls": {"1.0.0": Crate(deps=[Dep("openssl-sys", "0.9")])},
        "new-tls": {
            "1.0.0": Crate(deps=[Dep("openssl-sys", "0.9")]),
            "1.1.0": Crate(deps=[Dep("openssl-sys", "0.10")]),
        },
    }
    world = _world(world_factory, tmp_path, graph)
    project = write_project(tmp_path / "demo", _manifest('old-tls = "1"\nnew-tls = "1"\n'))
    text = _same_lock(world, project)
    assert "0.10.0" not in text  # two openssl-sys would both claim links = "openssl"


def test_workspace_members_and_path_dependencies(
    world_factory: list[CargoWorld], tmp_path: Path
) -> None:
    graph: Graph = {
        "serde": {"1.0.0": Crate(), "1.0.1": Crate()},
        "log": {"0.4.0": Crate(), "0.4.20": Crate()},
        "tool-dev": {"1.0.0": Crate()},
    }
    world = _world(world_factory, tmp_path, graph)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n'
        '[workspace.dependencies]\nserde = "1.0.0"\n'
    )
    write_project(
        root / "crates" / "core",
        '[package]\nname = "core-lib"\nversion = "0.2.0"\nedition = "2021"\n\n'
        '[dependencies]\nserde = { workspace = true }\nlog = "0.4"\n\n'
        '[dev-dependencies]\ntool-dev = "1"\n',
    )
    write_project(
        root / "crates" / "app",
        '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[dependencies]\ncore-lib = { path = "../core" }\nserde.workspace = true\n',
    )
    text = _same_lock(world, root)
    assert 'name = "app"' in text
    assert '"core-lib",' in text
    assert 'name = "tool-dev"' in text


#: (graph, [dependencies] lines, [package] extra lines): more graphs locked byte for byte alike.
_SAME: dict[str, tuple[Graph, str, str]] = {
    "a requested feature only an older version has": (
        {"c": {"1.0.0": Crate(features={"x": []}), "1.1.0": Crate()}},
        'c = { version = "1", features = ["x"] }',
        "",
    ),
    "a feature of a renamed optional dependency": (
        {
            "lib": {
                "1.0.0": Crate(
                    deps=[Dep("al", "1", optional=True, package="real")],
                    features={"f": ["al/x"]},
                )
            },
            "real": {"1.0.0": Crate(deps=[Dep("q", "1", optional=True)], features={"x": ["q"]})},
            "q": {"1.0.0": Crate()},
        },
        'lib = { version = "1", features = ["f"] }',
        "",
    ),
    "features asked by a dev-dependency unify into the lock": (
        {"lib": {"1.0.0": Crate(deps=[Dep("q", "1", optional=True)])}, "q": {"1.0.0": Crate()}},
        'lib = "1"\n\n[dev-dependencies]\nlib = { version = "1", features = ["q"] }',
        "",
    ),
    "features Cargo rejects make a version unusable": (
        {
            "a": {
                "1.1.0": Crate(deps=[Dep("d", "1")]),
                "1.2.0": Crate(deps=[Dep("bad", "1")]),
            },
            "bad": {"1.0.0": Crate(deps=[Dep("f", "1")], features={"fx": ["f?/extra"]})},
            "d": {
                "1.0.0": Crate(deps=[Dep("o", "1", optional=True)], features={"x": ["dep:o"]}),
                "1.1.0": Crate(deps=[Dep("o", "1")], features={"x": ["dep:o"]}),
            },
            "f": {"1.0.0": Crate()},
            "o": {"1.0.0": Crate()},
        },
        'a = "1"',
        "",
    ),
    "one version for a range spanning majors and the features asked of it": (
        {
            "a": {
                "0.1.1": Crate(deps=[Dep("c", ">=0.1.1, <3")], features={"fx": ["c/extra"]}),
            },
            "c": {"1.2.0": Crate(features={"extra": []}), "2.0.0": Crate()},
        },
        'a = { version = "0.1.1", features = ["fx"] }',
        "",
    ),
    "0.0.x and 0.x caret ranges": (
        {"z": {v: Crate() for v in ("0.0.1", "0.0.2", "0.1.0", "0.1.5")}},
        'z = "0.0.1"\nz2 = { package = "z", version = "0.1" }\n'
        'z3 = { package = "z", version = "^0.0" }',
        "",
    ),
    "a pre-release bound across ranges": (
        {"p": {"0.9.0": Crate(), "1.0.0-rc.1": Crate()}},
        'p = ">=0.9.0, <=1.0.0-rc.1"',
        "",
    ),
    "an optional dependency of another target": (
        {
            "lib": {
                "1.0.0": Crate(
                    deps=[Dep("w", "1", optional=True, target="cfg(windows)")],
                    features={"win": ["dep:w"]},
                )
            },
            "w": {"1.0.0": Crate()},
        },
        'lib = { version = "1", features = ["win"] }',
        "",
    ),
    "resolver 3 prefers versions for the package's rust-version": (
        {"m": {"1.0.0": Crate(rust_version="1.60"), "1.1.0": Crate(rust_version="1.99")}},
        'm = "1"',
        'edition = "2024"\nrust-version = "1.90"\n',
    ),
    "resolver 3 without rust-version uses the installed rustc's": (
        {"m": {"1.0.0": Crate(rust_version="1.60"), "1.1.0": Crate(rust_version="999.0")}},
        'm = "1"',
        'edition = "2024"\n',
    ),
    "resolver 2 ignores rust-version; an old rust-version gets Cargo.lock v3": (
        {"m": {"1.0.0": Crate(rust_version="1.60"), "1.1.0": Crate(rust_version="1.99")}},
        'm = "1"',
        'edition = "2021"\nrust-version = "1.70"\n',
    ),
}


@pytest.mark.parametrize("case", sorted(_SAME))
def test_more_graphs_lock_alike(world_factory: list[CargoWorld], tmp_path: Path, case: str) -> None:
    graph, deps, package_extra = _SAME[case]
    world = _world(world_factory, tmp_path, graph)
    package = package_extra or 'edition = "2021"\n'
    manifest = f'[package]\nname = "demo"\nversion = "0.1.0"\n{package}\n[dependencies]\n{deps}\n'
    project = write_project(tmp_path / "demo", manifest)
    _same_lock(world, project)


#: Graphs Cargo refuses to lock: tuskops refuses them too.
_FAIL: dict[str, tuple[Graph, str]] = {
    "a dependency cycle": (
        {"a": {"1.0.0": Crate(deps=[Dep("b", "1")])}, "b": {"1.0.0": Crate(deps=[Dep("a", "1")])}},
        'a = "1"',
    ),
    "a cycle through a build-dependency": (
        {
            "a": {"1.0.0": Crate(deps=[Dep("b", "1")])},
            "b": {"1.0.0": Crate(deps=[Dep("a", "1", kind="build")])},
        },
        'a = "1"',
    ),
    "a crate the registry does not have": (
        {"a": {"1.0.0": Crate(deps=[Dep("ghost", "1")])}},
        'a = "1"',
    ),
    "a feature no version has": (
        {"c": {"1.0.0": Crate(), "1.1.0": Crate()}},
        'c = { version = "1", features = ["nope"] }',
    ),
}


@pytest.mark.parametrize("case", sorted(_FAIL))
def test_both_refuse(world_factory: list[CargoWorld], tmp_path: Path, case: str) -> None:
    graph, deps = _FAIL[case]
    world = _world(world_factory, tmp_path, graph)
    project = write_project(tmp_path / "demo", _manifest(deps))
    code, message = world.cargo_lock(project)
    assert code != 0, message
    with pytest.raises(PackageError) as caught:
        world.tuskops_lock(project)
    assert str(caught.value)


def test_path_dependencies_outside_a_workspace(
    world_factory: list[CargoWorld], tmp_path: Path
) -> None:
    """A path dependency that is no workspace member is resolved as a dependency: the
    features asked of it, no dev-dependencies; an optional one left off is not locked."""
    graph: Graph = {
        "normal": {"1.0.0": Crate()},
        "opt": {"1.0.0": Crate()},
        "asked": {"1.0.0": Crate()},
        "devdep": {"1.0.0": Crate()},
        "w": {"1.0.0": Crate()},
        "rand": {"0.7.3": Crate(), "0.8.5": Crate()},
    }
    world = _world(world_factory, tmp_path, graph)
    write_project(
        tmp_path / "helper",
        '[package]\nname = "helper"\nversion = "0.3.0"\n\n'
        '[dependencies]\nnormal = "1"\nopt = { version = "1", optional = true }\n'
        'asked = { version = "1", optional = true }\n'
        'unused-local = { path = "../unused", optional = true }\n\n'
        '[features]\nwant = ["dep:asked"]\n\n'
        '[dev-dependencies]\ndevdep = "1"\n',
    )
    write_project(tmp_path / "unused", '[package]\nname = "unused-local"\nversion = "1.0.0"\n')
    project = write_project(
        tmp_path / "demo",
        _manifest(
            'helper = { path = "../helper", features = ["want"] }\nrand = "0.8"\n'
            'r7 = { package = "rand", version = "0.7" }\n',
            extra="\n[target.'cfg(windows)'.dependencies]\nw = \"1\"\n",
        ),
    )
    names = _names(_same_lock(world, project))
    assert {"helper", "normal", "asked", "w"} <= names
    assert not {"opt", "devdep", "unused-local"} & names


_AMBIGUOUS: Graph = {
    "a": {"1.0.0": Crate(deps=[Dep("c", "^1")]), "1.1.0": Crate(deps=[Dep("c", "=1.0.0")])},
    "b": {"1.0.0": Crate(deps=[Dep("c", "^1")]), "1.1.0": Crate(deps=[Dep("c", "=1.1.0")])},
    "c": {"1.0.0": Crate(), "1.1.0": Crate()},
    "x": {"1.0.0": Crate(deps=[Dep("b", "1"), Dep("a", "1")])},
}


@pytest.mark.parametrize("deps", ['a = "1"\nb = "1"', 'b = "1"\na = "1"', 'x = "1"'])
def test_two_solutions_the_same_one_chosen(
    world_factory: list[CargoWorld], tmp_path: Path, deps: str
) -> None:
    """Either a 1.1.0 with b 1.0.0 or a 1.0.0 with b 1.1.0 works: like Cargo, tuskops decides
    equally constrained dependencies in the order Cargo reads them (a manifest's sorted by
    name, an index entry's as listed) and keeps the newest of the first."""
    world = _world(world_factory, tmp_path, _AMBIGUOUS)
    project = write_project(tmp_path / "demo", _manifest(deps))
    _same_lock(world, project)


@pytest.mark.parametrize("seed", range(1000, 1040))
def test_random_graphs(world_factory: list[CargoWorld], tmp_path: Path, seed: int) -> None:
    """Random six-crate graphs (``random_graph``): the same Cargo.lock, or both refuse."""
    graph, deps = random_graph(seed)
    world = _world(world_factory, tmp_path, graph)
    project = write_project(tmp_path / "demo", _manifest(deps))
    code, native = world.cargo_lock(project)
    if code != 0:
        with pytest.raises(PackageError):
            world.tuskops_lock(project)
        return
    assert world.tuskops_lock(project) == native
