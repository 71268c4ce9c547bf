"""npm 10's node_modules placement: hoisting, nesting, dedupe, latest-tag preference, peers
and ERESOLVE, optional failures, dev flags and overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tuskops.errors import VersionSyntaxError
from tuskops.packages.ecosystems.npm import SCHEME
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.npm import (
    Engine,
    NpmPackageInfo,
    NpmResolveError,
    NpmRoot,
    NpmTree,
    NpmVersionInfo,
    _parse_version,
    build_tree,
    pick_version,
)

#: name -> {"latest": tag, "<version>": {"dependencies": {...}, "peerDependencies": ...}}
Registry = Mapping[str, Any]


def info(name: str, data: Mapping[str, Any]) -> NpmPackageInfo:
    versions = [
        NpmVersionInfo(
            version,
            meta.get("dependencies", {}),
            meta.get("optionalDependencies", {}),
            meta.get("peerDependencies", {}),
            frozenset(meta.get("optionalPeers", ())),
            deprecated=bool(meta.get("deprecated")),
            engines=meta.get("engines", {}),
        )
        for version, meta in data.items()
        if version != "latest"
    ]
    return NpmPackageInfo(name, versions, data.get("latest"))


def run(root: NpmRoot, registry: Registry, **options: bool) -> NpmTree:
    def source(name: str) -> NpmPackageInfo:
        if name not in registry:
            raise Unavailable(name, "404 Not Found")
        return info(name, registry[name])

    return build_tree(root, source, **options)


def layout(tree: NpmTree) -> dict[str, str]:
    return {path: node.version for path, node in tree.nodes.items() if path}


def test_shared_compatible_dependency_is_hoisted() -> None:
    registry = {
        "a": {"1.0.0": {"dependencies": {"shared": "^1.0.0"}}},
        "b": {"1.0.0": {"dependencies": {"shared": "^1.1.0"}}},
        "shared": {"1.0.0": {}, "1.2.0": {}},
    }
    tree = run(NpmRoot(dependencies={"a": "^1", "b": "^1"}), registry)
    assert layout(tree) == {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.0.0",
        "node_modules/shared": "1.2.0",
    }
    edge = tree.nodes["node_modules/b"].edges["shared"]
    assert edge.to == "node_modules/shared"
    assert edge.valid


def test_conflicting_ranges_nest_a_copy_under_the_dependent() -> None:
    registry = {
        "a": {"1.0.0": {"dependencies": {"shared": "^1.0.0"}}},
        "b": {"1.0.0": {"dependencies": {"shared": "^2.0.0"}}},
        "shared": {"1.0.0": {}, "1.4.0": {}, "2.0.0": {}, "2.1.0": {}},
    }
    tree = run(NpmRoot(dependencies={"a": "1", "b": "1"}), registry)
    assert layout(tree) == {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.0.0",
        "node_modules/shared": "1.4.0",
        "node_modules/b/node_modules/shared": "2.1.0",
    }
    assert tree.nodes["node_modules/b"].edges["shared"].to == "node_modules/b/node_modules/shared"
    assert all(e.valid for n in tree.nodes.values() for e in n.edges.values())


def test_newer_version_satisfying_both_replaces_the_placed_one() -> None:
    # latest (1.0.0) wins for the root's ^1.0.0; b's ^1.2.0 then needs 1.5.0, which also
    # satisfies the root's edge, so it replaces 1.0.0 instead of nesting.
    registry = {
        "b": {"1.0.0": {"dependencies": {"shared": "^1.2.0"}}},
        "shared": {"latest": "1.0.0", "1.0.0": {}, "1.5.0": {}, "2.0.0": {}},
    }
    tree = run(NpmRoot(dependencies={"b": "1", "shared": "^1.0.0"}), registry)
    assert layout(tree) == {"node_modules/b": "1.0.0", "node_modules/shared": "1.5.0"}


def test_deeper_dependency_is_deduplicated_against_an_existing_one() -> None:
    registry = {
        "a": {"1.0.0": {"dependencies": {"b": "^1.0.0"}}},
        "b": {"1.0.0": {"dependencies": {"c": "~1.0.0"}}},
        "c": {"1.0.3": {}, "1.1.0": {}},
    }
    tree = run(NpmRoot(dependencies={"a": "1", "c": "^1.0.0"}), registry)
    # c@1.1.0 at the root does not satisfy b's ~1.0.0; b sits at the root, so its c nests.
    assert layout(tree) == {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.0.0",
        "node_modules/c": "1.1.0",
        "node_modules/b/node_modules/c": "1.0.3",
    }


def test_latest_tag_is_preferred_when_it_satisfies() -> None:
    data = {"latest": "1.2.0", "1.2.0": {}, "1.3.0": {}, "2.0.0-beta.1": {}}
    package = info("x", data)
    assert pick_version(package, "^1.0.0") == package.versions[0]
    picked = pick_version(package, ">=1.3.0")
    assert picked is not None
    assert picked.version == "1.3.0"
    assert pick_version(package, "^3") is None
    tree = run(NpmRoot(dependencies={"x": "^1.0.0"}), {"x": data})
    assert layout(tree) == {"node_modules/x": "1.2.0"}


def test_no_matching_version_is_etarget() -> None:
    with pytest.raises(NpmResolveError) as caught:
        run(NpmRoot(dependencies={"x": "^9"}), {"x": {"1.0.0": {}}})
    assert caught.value.code == "ETARGET"


def test_peer_dependencies_are_installed_next_to_the_dependent() -> None:
    registry = {
        "wrapper": {"1.0.0": {"dependencies": {"plugin": "^1"}}},
        "plugin": {"1.0.0": {"peerDependencies": {"host": "^2"}}},
        "host": {"1.0.0": {}, "2.3.0": {}},
    }
    tree = run(NpmRoot(dependencies={"wrapper": "1"}), registry)
    assert layout(tree) == {
        "node_modules/wrapper": "1.0.0",
        "node_modules/plugin": "1.0.0",
        "node_modules/host": "2.3.0",
    }
    assert tree.nodes["node_modules/host"].peer
    assert not tree.nodes["node_modules/plugin"].peer
    lock = tree.to_lock_packages()
    assert lock["node_modules/plugin"]["peerDependencies"] == {"host": "^2"}
    assert lock["node_modules/host"]["peer"] is True


def test_legacy_peer_deps_does_not_install_peers() -> None:
    registry = {"plugin": {"1.0.0": {"peerDependencies": {"host": "^2"}}}, "host": {"2.0.0": {}}}
    tree = run(NpmRoot(dependencies={"plugin": "1"}), registry, legacy_peer_deps=True)
    assert layout(tree) == {"node_modules/plugin": "1.0.0"}


def test_optional_peer_is_not_installed() -> None:
    registry = {
        "plugin": {"1.0.0": {"peerDependencies": {"host": "^2"}, "optionalPeers": ["host"]}},
        "host": {"2.0.0": {}},
    }
    tree = run(NpmRoot(dependencies={"plugin": "1"}), registry)
    assert layout(tree) == {"node_modules/plugin": "1.0.0"}
    assert tree.nodes["node_modules/plugin"].edges["host"].valid


def test_conflicting_peer_is_eresolve() -> None:
    registry = {
        "react": {"17.0.2": {}, "18.2.0": {}},
        "plugin": {"1.0.0": {"peerDependencies": {"react": "^18.0.0"}}},
    }
    root = NpmRoot("app", "1.0.0", dependencies={"react": "^17.0.0", "plugin": "1"})
    with pytest.raises(NpmResolveError) as caught:
        run(root, registry)
    assert caught.value.code == "ERESOLVE"
    text = caught.value.detail
    assert "While resolving: app@1.0.0" in text
    assert "Found: react@17.0.2" in text
    assert 'react@"^17.0.0" from the root project' in text
    assert 'Could not resolve dependency:\npeer react@"^18.0.0" from plugin@1.0.0' in text
    forced = run(root, registry, force=True)
    assert forced.warnings
    assert "ERESOLVE" in forced.warnings[0]
    assert not forced.nodes["node_modules/plugin"].edges["react"].valid


def test_failing_optional_dependency_is_skipped() -> None:
    registry = {
        "a": {"1.0.0": {"optionalDependencies": {"fsevents": "^2"}, "dependencies": {}}},
        "native": {"1.0.0": {"dependencies": {"missing": "^1"}}},
    }
    root = NpmRoot(dependencies={"a": "1"}, optional_dependencies={"native": "1"})
    tree = run(root, registry)
    # npm keeps the failed optional package in the lock but marks it inert (not installed).
    assert layout(tree) == {"node_modules/a": "1.0.0", "node_modules/native": "1.0.0"}
    assert tree.nodes["node_modules/native"].inert
    assert tree.nodes["node_modules/native"].optional
    assert not tree.nodes["node_modules/a"].inert
    skipped = {(s.source, s.name) for s in tree.skipped}
    assert ("node_modules/a", "fsevents") in skipped
    assert ("node_modules/native", "missing") in skipped
    assert tree.nodes["node_modules/a"].edges["fsevents"].valid


def test_non_optional_missing_package_raises() -> None:
    with pytest.raises(Unavailable):
        run(NpmRoot(dependencies={"nope": "1"}), {})


def test_dev_optional_and_dev_optional_flags() -> None:
    registry = {
        "app-dep": {"1.0.0": {"dependencies": {"both": "1"}}},
        "tool": {"1.0.0": {"dependencies": {"both": "1", "devonly": "1"}}},
        "opt": {"1.0.0": {"dependencies": {"mixed": "1"}}},
        "both": {"1.0.0": {}},
        "devonly": {"1.0.0": {"optionalDependencies": {"devopt": "1"}}},
        "devopt": {"1.0.0": {}},
        "mixed": {"1.0.0": {}},
    }
    root = NpmRoot(
        dependencies={"app-dep": "1"},
        dev_dependencies={"tool": "1", "mixed": "1"},
        optional_dependencies={"opt": "1"},
    )
    tree = run(root, registry)
    flags = {
        path.removeprefix("node_modules/"): (n.dev, n.optional, n.dev_optional)
        for path, n in tree.nodes.items()
        if path
    }
    assert flags == {
        "app-dep": (False, False, False),
        "both": (False, False, False),
        "tool": (True, False, False),
        "devonly": (True, False, False),
        "devopt": (True, True, False),
        "opt": (False, True, False),
        "mixed": (False, False, True),
    }
    lock = tree.to_lock_packages()
    assert lock["node_modules/mixed"] == {"version": "1.0.0", "devOptional": True}
    assert lock["node_modules/devopt"] == {"version": "1.0.0", "dev": True, "optional": True}
    assert lock[""]["devDependencies"] == {"mixed": "1", "tool": "1"}
    assert next(iter(lock)) == ""


def test_override_forces_a_version_everywhere() -> None:
    registry = {
        "a": {"1.0.0": {"dependencies": {"lodash": "^4.0.0"}}},
        "b": {"1.0.0": {"dependencies": {"lodash": "^3.0.0"}}},
        "lodash": {"3.10.1": {}, "4.17.20": {}, "4.17.21": {}},
    }
    root = NpmRoot(dependencies={"a": "1", "b": "1"}, overrides={"lodash": "4.17.20"})
    tree = run(root, registry)
    assert layout(tree) == {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.0.0",
        "node_modules/lodash": "4.17.20",
    }
    edge = tree.nodes["node_modules/b"].edges["lodash"]
    assert (edge.spec, edge.effective, edge.valid) == ("^3.0.0", "4.17.20", True)


def test_keyed_and_nested_overrides() -> None:
    registry = {
        "a": {"1.0.0": {"dependencies": {"lodash": "^4.0.0"}}},
        "b": {"1.0.0": {"dependencies": {"lodash": "^3.0.0", "c": "1"}}},
        "c": {"1.0.0": {"dependencies": {"d": "^1"}}},
        "d": {"1.0.0": {}, "1.1.0": {}},
        "lodash": {"3.10.1": {}, "3.0.0": {}, "4.17.21": {}},
    }
    overrides = {"lodash@^3": "3.0.0", "b": {"d": "1.0.0"}}
    tree = run(NpmRoot(dependencies={"a": "1", "b": "1"}, overrides=overrides), registry)
    assert layout(tree) == {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.0.0",
        "node_modules/c": "1.0.0",
        "node_modules/d": "1.0.0",
        "node_modules/lodash": "4.17.21",
        "node_modules/b/node_modules/lodash": "3.0.0",
    }


def test_override_of_a_direct_dependency_must_match() -> None:
    with pytest.raises(NpmResolveError) as caught:
        run(NpmRoot(dependencies={"x": "^1"}, overrides={"x": "2.0.0"}), {"x": {"1.0.0": {}}})
    assert caught.value.code == "EOVERRIDE"
    tree = run(
        NpmRoot(dependencies={"x": "^1", "y": "1"}, overrides={"x": "$x"}),
        {"x": {"1.0.0": {}, "1.1.0": {}}, "y": {"1.0.0": {"dependencies": {"x": "1.0.0"}}}},
    )
    assert layout(tree)["node_modules/x"] == "1.1.0"
    assert tree.nodes["node_modules/y"].edges["x"].effective == "^1"


def test_placement_does_not_shadow_a_deeper_resolution() -> None:
    registry = {
        "x": {"1.0.0": {"dependencies": {"d": "^2", "e": "^1"}}},
        "d": {"1.0.0": {}, "2.0.0": {"dependencies": {"z": "^1"}}},
        "e": {"1.0.0": {"dependencies": {"z": "^2"}}, "2.0.0": {}},
        "z": {"1.0.0": {}, "2.0.0": {}},
    }
    root = NpmRoot(dependencies={"x": "1", "d": "^1", "e": "^2", "z": "^1"})
    tree = run(root, registry)
    # z@2 at node_modules/x would hide the root's z@1 from x's d@2, so it goes under e.
    assert layout(tree) == {
        "node_modules/x": "1.0.0",
        "node_modules/d": "1.0.0",
        "node_modules/e": "2.0.0",
        "node_modules/z": "1.0.0",
        "node_modules/x/node_modules/d": "2.0.0",
        "node_modules/x/node_modules/e": "1.0.0",
        "node_modules/x/node_modules/e/node_modules/z": "2.0.0",
    }
    assert all(e.valid for n in tree.nodes.values() for e in n.edges.values())


def test_an_optional_peer_does_not_make_the_next_peers_optional() -> None:
    # "a-opt" is optional (peerDependenciesMeta); "b-host" and "c-host" are required peers.
    registry = {
        "plugin": {
            "1.0.0": {
                "peerDependencies": {"a-opt": "1", "b-host": "^2", "c-host": "^3"},
                "optionalPeers": ["a-opt"],
            }
        },
        "a-opt": {"1.0.0": {}},
        "b-host": {"2.0.0": {}},
        "c-host": {"3.0.0": {}},
    }
    tree = run(NpmRoot(dependencies={"plugin": "1"}), registry)
    assert layout(tree) == {
        "node_modules/plugin": "1.0.0",
        "node_modules/b-host": "2.0.0",
        "node_modules/c-host": "3.0.0",
    }
    edges = tree.nodes["node_modules/plugin"].edges
    assert [edges[n].type for n in ("a-opt", "b-host", "c-host")] == [
        "peerOptional",
        "peer",
        "peer",
    ]
    assert tree.nodes["node_modules/b-host"].peer


def test_a_peer_takes_the_version_the_requesting_package_asks_for() -> None:
    # vite's latest is 7, but the project asks for ^5 and the plugin accepts 5 or 7: npm
    # resolves the plugin's peer set against the project's own range.
    registry = {
        "vite": {"latest": "7.0.0", "5.4.0": {}, "7.0.0": {}},
        "plugin-react": {"4.0.0": {"peerDependencies": {"vite": "^5.0.0 || ^7.0.0"}}},
    }
    root = NpmRoot(dev_dependencies={"plugin-react": "^4", "vite": "^5.4.0"})
    tree = run(root, registry)
    assert layout(tree) == {"node_modules/plugin-react": "4.0.0", "node_modules/vite": "5.4.0"}


def test_a_peer_uses_its_own_range_when_only_it_satisfies_both() -> None:
    registry = {
        "host": {"latest": "3.0.0", "2.0.0": {}, "2.5.0": {}, "3.0.0": {}},
        "a-plugin": {"1.0.0": {"peerDependencies": {"host": "~2.0.0"}}},
    }
    # The project's ">=2" would pick 3.0.0 (latest); the plugin's "~2.0.0" gives 2.0.0,
    # which the project accepts too. (a-plugin sorts first, so its peer set comes first.)
    tree = run(NpmRoot(dependencies={"a-plugin": "1", "host": ">=2"}), registry)
    assert layout(tree)["node_modules/host"] == "2.0.0"
    assert tree.nodes[""].edges["host"].valid


def test_root_dev_dependency_replaces_a_peer_dependency_of_the_same_name() -> None:
    # npm 11 loads peerDependencies, dependencies, optionalDependencies, devDependencies in
    # that order; a later one replaces the edge: react is a dev dependency at ^18.
    registry = {"react": {"latest": "19.0.0", "18.3.1": {}, "19.0.0": {}}}
    root = NpmRoot(peer_dependencies={"react": ">=17"}, dev_dependencies={"react": "^18.3.1"})
    tree = run(root, registry)
    assert layout(tree) == {"node_modules/react": "18.3.1"}
    node = tree.nodes["node_modules/react"]
    assert node.dev
    assert not node.peer
    assert tree.nodes[""].edges["react"].type == "dev"


def test_a_package_reached_only_through_an_optional_peer_is_optional() -> None:
    registry = {
        "ws": {
            "8.0.0": {"peerDependencies": {"bufferutil": "^4"}, "optionalPeers": ["bufferutil"]}
        },
        "bufferutil": {"4.0.0": {}},
    }
    root = NpmRoot(dependencies={"ws": "8"}, optional_dependencies={"bufferutil": "^4"})
    tree = run(root, registry)
    node = tree.nodes["node_modules/bufferutil"]
    assert node.optional
    assert not node.dev_optional


def picked(package: NpmPackageInfo, spec: str, engine: Engine | None = None) -> str | None:
    chosen = pick_version(package, spec, engine)
    return chosen.version if chosen is not None else None


def test_pick_prefers_versions_whose_engines_accept_the_running_node() -> None:
    data = {
        "latest": "6.10.0",
        "6.9.0": {"engines": {"node": ">=14"}},
        "6.9.1": {"engines": {"node": ">=14"}},
        "6.10.0": {"engines": {"node": ">=22"}},
    }
    package = info("jest-dom", data)
    node20 = Engine(node="20.11.0", npm="10.2.4")
    assert picked(package, "^6.4.5", node20) == "6.9.1"
    assert picked(package, "^6.4.5", Engine(node="22.1.0")) == "6.10.0"
    # Unknown engine: not checked.
    assert picked(package, "^6.4.5") == "6.10.0"
    # Nothing else satisfies: the incompatible version is still picked.
    assert picked(package, ">=6.10.0", node20) == "6.10.0"


def test_pick_avoids_deprecated_versions() -> None:
    data = {
        "latest": "1.3.0",
        "1.1.0": {},
        "1.2.0": {},
        "1.3.0": {"deprecated": "broken, use 1.2.0"},
    }
    assert picked(info("lib", data), "^1.0.0") == "1.2.0"
    assert picked(info("lib", data), "1.3.0") == "1.3.0"


def test_locked_versions_are_kept_while_they_satisfy() -> None:
    registry = {
        "a": {"1.0.0": {"dependencies": {"shared": "^1.0.0"}}},
        "b": {"1.0.0": {"dependencies": {"shared": "^2.0.0"}}, "1.1.0": {}},
        "shared": {"1.0.0": {}, "1.5.0": {}, "2.0.0": {}, "2.2.0": {}},
    }
    locked = {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.0.0",
        "node_modules/shared": "1.0.0",
        "node_modules/b/node_modules/shared": "2.0.0",
    }
    root = NpmRoot(dependencies={"a": "1", "b": "1"})
    assert layout(run(root, registry)) == {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.1.0",
        "node_modules/shared": "1.5.0",
    }

    def source(name: str) -> NpmPackageInfo:
        return info(name, registry[name])

    assert layout(build_tree(root, source, locked=locked)) == locked
    # A locked version the manifest no longer allows is re-picked.
    tighter = NpmRoot(dependencies={"a": "1", "b": "^1.1.0"})
    assert layout(build_tree(tighter, source, locked=locked)) == {
        "node_modules/a": "1.0.0",
        "node_modules/b": "1.1.0",
        "node_modules/shared": "1.0.0",
    }


def test_packages_only_a_failed_optional_package_needs_are_inert_too() -> None:
    registry = {
        "native": {"1.0.0": {"dependencies": {"helper": "^1", "missing": "^1"}}},
        "wrapper": {"1.0.0": {"dependencies": {"native": "^1"}}},
        "helper": {"1.0.0": {}},
        "shared": {"1.0.0": {}},
        "app-dep": {"1.0.0": {"dependencies": {"shared": "^1"}}},
    }
    root = NpmRoot(dependencies={"app-dep": "1"}, optional_dependencies={"wrapper": "1"})
    tree = run(root, registry)
    inert = {path for path, node in tree.nodes.items() if node.inert}
    # wrapper needs native through a normal edge: the whole optional set is inert.
    assert "node_modules/wrapper" in inert
    assert "node_modules/native" in inert
    assert "node_modules/app-dep" not in inert
    assert "node_modules/shared" not in inert


def lazy_info(name: str, data: Mapping[str, Any], loaded: list[str]) -> NpmPackageInfo:
    """``info`` read on demand: ``loaded`` records each version whose info was built."""
    eager = info(name, data)

    def load(version: str) -> NpmVersionInfo:
        loaded.append(version)
        found = eager.get(version)
        assert found is not None
        return found

    return NpmPackageInfo(name, latest=eager.latest, names=eager.version_names, load=load)


def test_lazy_versions_pick_the_same_reading_only_what_ranking_needs() -> None:
    data = {
        "latest": "1.1.0",
        "1.0.0": {},
        "1.1.0": {"deprecated": True},
        "1.2.0": {},
        "1.3.0": {"engines": {"node": ">=99"}},
        "2.0.0": {},
        "not-semver": {},
    }
    engine = Engine(node="20.0.0")
    eager = info("x", data)
    for spec in ("^1.0.0", "*", "1.0.0", "latest", ">=3", "~1.3.0", "1.1.0"):
        loaded: list[str] = []
        lazy = lazy_info("x", data, loaded)
        assert pick_version(lazy, spec, engine) == pick_version(eager, spec, engine), spec
        assert len(loaded) == len(set(loaded)), "each version is built once"
    loaded = []
    picked = pick_version(lazy_info("x", data, loaded), "^1.0.0", engine)
    assert picked is not None
    assert picked.version == "1.2.0"
    # latest (deprecated), then the highest down: 1.3.0 (engines), 1.2.0: nothing else.
    assert loaded == ["1.1.0", "1.3.0", "1.2.0"]
    lazy = lazy_info("x", data, [])
    assert lazy.get("9.9.9") is None
    assert lazy.get("not-semver") is not None
    assert [text for _, text in lazy.parsed] == ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0"]


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3",
        "0.0.0",
        "10.20.30",
        "999999999999999.0.1",
        "9999999999999999.0.0",
        "01.2.3",
        "1.2.3-beta.1",
        "1.2.3+build",
        "v1.2.3",
        " 1.2.3",
        "1.2",
        "1.2.3.4",
    ],
)
def test_version_fast_path_agrees_with_the_parser(text: str) -> None:
    try:
        expected = SCHEME.parse_version(text)
    except VersionSyntaxError:
        expected = None
    got = _parse_version(text)
    assert got == expected
    assert str(got) == str(expected)
