"""The graph inside each ecosystem's lockfile: keys, edges and roots as `pkg tree/why` use them."""

from __future__ import annotations

from typing import Any

import pytest

from tuskops.errors import PackageError
from tuskops.packages.lock_graph import lock_graph, render_tree, why_paths
from tuskops.packages.manifests import LockedPackage, Lockfile


def pkg(name: str, version: str, *deps: str, **extra: Any) -> LockedPackage:
    source = extra.pop("source", "registry")
    return LockedPackage(name, version, source=source, dependencies=deps, extra=extra)


def labelled(graph: Any, paths: list[list[str]]) -> list[str]:
    return [" -> ".join(graph.label(k) for k in path) for path in paths]


def test_cargo_keeps_two_majors_of_a_crate_apart() -> None:
    lock = Lockfile(
        "cargo",
        "Cargo.lock",
        "Cargo.lock v4",
        (
            pkg("demo", "0.1.0", "old-user", "rand 0.8.5", source=None),
            pkg("old-user", "1.0.0", "rand 0.7.3"),
            pkg("rand", "0.7.3", "rand_core 0.5.1"),
            pkg("rand", "0.8.5", "rand_core 0.6.4"),
            pkg("rand_core", "0.5.1"),
            pkg("rand_core", "0.6.4"),
        ),
    )
    graph = lock_graph(lock)
    assert render_tree(graph) == (
        "demo 0.1.0\n"
        "├── old-user 1.0.0\n"
        "│   └── rand 0.7.3\n"
        "│       └── rand_core 0.5.1\n"
        "└── rand 0.8.5\n"
        "    └── rand_core 0.6.4\n"
    )
    assert labelled(graph, why_paths(graph, "rand_core")) == [
        "demo 0.1.0 -> old-user 1.0.0 -> rand 0.7.3 -> rand_core 0.5.1",
        "demo 0.1.0 -> rand 0.8.5 -> rand_core 0.6.4",
    ]


def test_npm_finds_dependencies_as_node_does() -> None:
    lock = Lockfile(
        "npm",
        "package-lock.json",
        "package-lock.json v3",
        (
            pkg("a", "1.0.0", "b ^2", path="node_modules/a"),
            pkg("b", "2.0.0", path="node_modules/a/node_modules/b"),
            pkg("b", "1.0.0", path="node_modules/b"),
            pkg("@s/c", "3.0.0", "b ^1", path="node_modules/@s/c"),
        ),
        {"root": {"dependencies": {"a": "^1", "@s/c": "^3"}}},
    )
    graph = lock_graph(lock)
    assert render_tree(graph) == ("a 1.0.0\n└── b 2.0.0\n@s/c 3.0.0\n└── b 1.0.0\n")
    assert labelled(graph, why_paths(graph, "b")) == ["a 1.0.0 -> b 2.0.0", "@s/c 3.0.0 -> b 1.0.0"]


def test_rubygems_roots_are_the_gemfile_dependencies_and_names_are_exact() -> None:
    lock = Lockfile(
        "rubygems",
        "Gemfile.lock",
        "Gemfile.lock",
        (
            pkg("rails", "7.1.0", "rack (~> 3.0)"),
            pkg("rack", "3.0.9"),
            pkg("foo_bar", "1.0"),
            pkg("foo-bar", "2.0"),
        ),
        {"dependencies": [{"name": "rails"}, {"name": "rack"}, {"name": "foo_bar"}]},
    )
    graph = lock_graph(lock)
    assert graph.roots == ["rails", "rack", "foo_bar"]  # rack is named, though rails needs it
    assert labelled(graph, why_paths(graph, "foo_bar")) == ["foo_bar 1.0"]
    assert "foo-bar 2.0" not in render_tree(graph)


def test_composer_leaves_platform_requirements_out() -> None:
    lock = Lockfile(
        "composer",
        "composer.lock",
        "composer.lock",
        (
            pkg("acme/App", "1.0.0", "php >=8.1", "ext-json *", "acme/lib ^2"),
            pkg("acme/lib", "2.0.0", "composer-runtime-api ^2"),
        ),
    )
    assert render_tree(lock_graph(lock)) == "acme/App 1.0.0\n└── acme/lib 2.0.0\n"


def test_nuget_has_a_graph_per_target_framework() -> None:
    def nuget(name: str, tfm: str, kind: str, *deps: str) -> LockedPackage:
        return pkg(name, "1.0.0", *deps, target_framework=tfm, type=kind)

    lock = Lockfile(
        "nuget",
        "packages.lock.json",
        "packages.lock.json v1",
        (
            nuget("App.Lib", "net8.0", "Direct", "Shared [1.0.0, )"),
            nuget("Shared", "net8.0", "Transitive"),
            nuget("App.Lib", "net472", "Direct"),
        ),
    )
    graph = lock_graph(lock)
    assert render_tree(graph) == (
        "net8.0: App.Lib 1.0.0\n└── net8.0: Shared 1.0.0\nnet472: App.Lib 1.0.0\n"
    )
    assert labelled(graph, why_paths(graph, "shared")) == [
        "net8.0: App.Lib 1.0.0 -> net8.0: Shared 1.0.0"
    ]


def test_pypi_roots_recorded_and_names_normalized() -> None:
    lock = Lockfile(
        "pypi",
        "pylock.toml",
        "pylock.toml 1.0",
        (pkg("Django", "5.0", "asgiref 3.8"), pkg("asgiref", "3.8")),
        {"tool": {"tuskops": {"roots": ["django"]}}},
    )
    graph = lock_graph(lock)
    assert render_tree(graph) == "Django 5.0\n└── asgiref 3.8\n"
    assert labelled(graph, why_paths(graph, "ASGIref")) == ["Django 5.0 -> asgiref 3.8"]
    with pytest.raises(PackageError, match=r"numpy is not in pylock\.toml"):
        why_paths(graph, "numpy", "pylock.toml")
