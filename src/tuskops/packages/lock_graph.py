"""The dependency graph inside any lockfile, for ``tuskops pkg tree`` and ``pkg why``.

Lockfiles record their graphs differently, so each ecosystem says how a package is keyed and
how a dependency entry finds its package:

* PyPI: names normalized as PEP 503 does; the roots are ``[tool.tuskops] roots`` when recorded.
* npm: a package is its install path; a dependency is found as Node finds it (the nearest
  ``node_modules`` from the dependent up to the root); the roots are the root's dependencies.
* Cargo: a crate may be locked at several majors, so a package is ``name version``; an entry
  ``name`` names the only crate of that name, ``name version`` one of several; the roots are the
  workspace members (the crates without a source).
* RubyGems: exact names; the roots are the Gemfile's DEPENDENCIES.
* Composer: names compared case-insensitively; platform requirements (``php``, ``ext-*``,
  ``lib-*``, ``composer-*``) are not packages and are left out.
* NuGet: one graph per target framework (``net8.0: Newtonsoft.Json``); the roots are the
  ``Direct`` (and ``Project``) entries.

Without recorded roots, the roots are the packages nothing depends on (then, for cycles, any
package not reached from them). Maven locks have their own renderer, as ``mvn dependency:tree``
prints them (:mod:`tuskops.packages.ecosystems.maven_tree_files`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from tuskops.errors import PackageError
from tuskops.packages.manifests import LockedPackage, Lockfile

__all__ = ["LockGraph", "lock_graph", "render_tree", "why_paths"]

_COMPOSER_PLATFORM = re.compile(r"^(php(-.*)?|hhvm|ext-.+|lib-.+|composer(-.+)?)$", re.I)


@dataclass(frozen=True)
class LockGraph:
    """Packages by key, edges between keys, and where the graph starts."""

    packages: Mapping[str, LockedPackage]
    edges: Mapping[str, Sequence[str]]
    roots: Sequence[str]
    #: How names are compared in this ecosystem (for ``why NAME``).
    normalize: Callable[[str], str]
    #: Prefix labels with the target framework (a NuGet lock with several).
    show_framework: bool = False

    def label(self, key: str) -> str:
        package = self.packages.get(key)
        if package is None:
            return f"{key} (not locked)"
        text = f"{package.name} {package.version}".rstrip()
        framework = package.extra.get("target_framework")
        return f"{framework}: {text}" if framework and self.show_framework else text

    def keys_named(self, name: str) -> list[str]:
        wanted = self.normalize(name)
        return [k for k, p in self.packages.items() if self.normalize(p.name) == wanted]


def _entry_name(entry: str) -> str:
    return entry.partition(" ")[0]


def _unrooted(packages: Mapping[str, Any], edges: Mapping[str, Sequence[str]]) -> list[str]:
    depended = {d for targets in edges.values() for d in targets}
    found = [k for k in sorted(packages) if k not in depended]
    reached = _reachable(found, edges)
    for key in sorted(packages):
        if key not in reached:
            found.append(key)
            reached |= _reachable([key], edges)
    return found


def _reachable(start: Sequence[str], edges: Mapping[str, Sequence[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(edges.get(key, ()))
    return seen


def _by_name(
    lock: Lockfile,
    normalize: Callable[[str], str],
    skip: Callable[[str], bool] = lambda name: False,
    prefix: Callable[[LockedPackage], str] = lambda package: "",
) -> tuple[dict[str, LockedPackage], dict[str, list[str]]]:
    packages = {prefix(p) + normalize(p.name): p for p in lock.packages}
    edges: dict[str, list[str]] = {}
    for key, package in packages.items():
        names = [_entry_name(d) for d in package.dependencies]
        targets = [prefix(package) + normalize(n) for n in names if not skip(n)]
        edges[key] = [t for t in dict.fromkeys(targets) if t != key]
    return packages, edges


def _recorded_roots(lock: Lockfile) -> Sequence[Any] | None:
    tool = lock.extra.get("tool")
    if isinstance(tool, Mapping):
        tuskops = tool.get("tuskops")
        if isinstance(tuskops, Mapping):
            recorded = tuskops.get("roots")
            if isinstance(recorded, Sequence) and not isinstance(recorded, str):
                return recorded
    return None


def _pypi(lock: Lockfile) -> LockGraph:
    normalize = _pypi_name
    packages, edges = _by_name(lock, normalize)
    recorded = _recorded_roots(lock)
    roots = (
        [normalize(str(r)) for r in recorded]
        if recorded is not None
        else _unrooted(packages, edges)
    )
    return LockGraph(packages, edges, roots, normalize)


def _pypi_name(name: str) -> str:
    return str(canonicalize_name(name))


def _npm_resolve(path: str, name: str, paths: set[str]) -> str | None:
    """The install path Node's lookup finds for ``name`` required from ``path``."""
    base = path
    while True:
        candidate = posixpath.join(base, "node_modules", name) if base else f"node_modules/{name}"
        if candidate in paths:
            return candidate
        if not base:
            return None
        # Up one package: drop "/node_modules/<name>" (a scoped name has two parts).
        head, sep, _ = base.rpartition("node_modules/")
        base = head.rstrip("/") if sep else ""


def _npm(lock: Lockfile) -> LockGraph:
    packages = {str(p.extra.get("path", p.name)): p for p in lock.packages}
    paths = set(packages)
    edges: dict[str, list[str]] = {}
    for key, package in packages.items():
        targets = [_npm_resolve(key, _entry_name(d), paths) for d in package.dependencies]
        edges[key] = [t for t in dict.fromkeys(targets) if t is not None and t != key]
    root = lock.extra.get("root")
    roots: list[str] = []
    if isinstance(root, Mapping):
        for group in ("dependencies", "devDependencies", "optionalDependencies"):
            deps = root.get(group)
            if isinstance(deps, Mapping):
                for name in deps:
                    found = _npm_resolve("", str(name), paths)
                    if found is not None and found not in roots:
                        roots.append(found)
    if not roots:
        roots = _unrooted(packages, edges)
    return LockGraph(packages, edges, roots, lambda name: name)


def _cargo(lock: Lockfile) -> LockGraph:
    packages = {f"{p.name} {p.version}": p for p in lock.packages}
    by_name: dict[str, list[str]] = {}
    for key, package in packages.items():
        by_name.setdefault(package.name, []).append(key)
    edges: dict[str, list[str]] = {}
    for key, package in packages.items():
        targets: list[str] = []
        for entry in package.dependencies:
            name, _, rest = entry.partition(" ")
            version = rest.split(" ", 1)[0] if rest else ""
            matches = by_name.get(name, [])
            if version:
                matches = [m for m in matches if packages[m].version == version]
            targets.append(matches[0] if len(matches) == 1 else f"{entry} (not locked)")
        edges[key] = list(dict.fromkeys(targets))
    members = [k for k, p in packages.items() if not p.source]
    roots = members or _unrooted(packages, edges)
    return LockGraph(packages, edges, roots, lambda name: name.replace("_", "-"))


def _rubygems(lock: Lockfile) -> LockGraph:
    packages, edges = _by_name(lock, lambda name: name)
    named = [
        str(d["name"])
        for d in lock.extra.get("dependencies", ())
        if isinstance(d, Mapping) and "name" in d
    ]
    roots = [n for n in dict.fromkeys(named) if n in packages]
    return LockGraph(packages, edges, roots or _unrooted(packages, edges), lambda name: name)


def _composer(lock: Lockfile) -> LockGraph:
    def skip(name: str) -> bool:
        return bool(_COMPOSER_PLATFORM.match(name))

    packages, edges = _by_name(lock, str.lower, skip)
    return LockGraph(packages, edges, _unrooted(packages, edges), str.lower)


def _nuget(lock: Lockfile) -> LockGraph:
    def prefix(package: LockedPackage) -> str:
        framework = package.extra.get("target_framework")
        return f"{framework}: " if framework else ""

    packages, edges = _by_name(lock, str.lower, prefix=prefix)
    direct = [k for k, p in packages.items() if p.extra.get("type") in ("Direct", "Project")]
    frameworks = {p.extra.get("target_framework") for p in packages.values()}
    roots = direct or _unrooted(packages, edges)
    return LockGraph(packages, edges, roots, str.lower, show_framework=len(frameworks) > 1)


_GRAPHS: dict[str, Callable[[Lockfile], LockGraph]] = {
    "pypi": _pypi,
    "npm": _npm,
    "cargo": _cargo,
    "rubygems": _rubygems,
    "composer": _composer,
    "nuget": _nuget,
}


def lock_graph(lock: Lockfile) -> LockGraph:
    """The graph of ``lock`` by its ecosystem's rules (PyPI's for an unknown ecosystem)."""
    return _GRAPHS.get(lock.ecosystem, _pypi)(lock)


def render_tree(graph: LockGraph) -> str:
    """The tree from the roots, one package a line, children indented with box drawing; a
    package shown before is marked ``(*)`` and not expanded again."""
    lines: list[str] = []
    expanded: set[str] = set()

    def walk(key: str, prefix: str, connector: str, child_prefix: str) -> None:
        if key in expanded:
            lines.append(f"{prefix}{connector}{graph.label(key)} (*)")
            return
        lines.append(f"{prefix}{connector}{graph.label(key)}")
        expanded.add(key)
        children = graph.edges.get(key, [])
        for i, child in enumerate(children):
            last = i == len(children) - 1
            walk(
                child, prefix + child_prefix, "└── " if last else "├── ", "    " if last else "│   "
            )

    for root in graph.roots:
        walk(root, "", "", "")
    return "\n".join(lines) + ("\n" if lines else "")


def why_paths(graph: LockGraph, name: str, where: str = "the lockfile") -> list[list[str]]:
    """Every path (keys, root first) from a root to a package named ``name``, without cycles;
    a :class:`PackageError` when no package of that name is locked."""
    targets = set(graph.keys_named(name))
    if not targets:
        raise PackageError(f"{name} is not in {where}")
    paths: list[list[str]] = []

    def walk(key: str, path: list[str]) -> None:
        if key in targets:
            paths.append(path)
            return
        for child in graph.edges.get(key, []):
            if child not in path:
                walk(child, [*path, child])

    for root in graph.roots:
        walk(root, [root])
    return paths
