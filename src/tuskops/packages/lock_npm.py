"""Locking an npm project: ``package.json`` -> a lockfileVersion 3 ``package-lock.json``.

:func:`lock_npm` reads the project's ``package.json``, fetches the packuments it needs from the
configured registries (concurrently, level by level: the root's dependencies, then the
dependencies of the versions npm would pick for them, and so on, on a private event loop),
builds the ``node_modules`` tree npm would build with
:func:`~tuskops.packages.resolve.npm.build_tree` and turns it into a
:class:`~tuskops.packages.manifests.Lockfile` that
:func:`~tuskops.packages.ecosystems.npm_files.write_package_lock` writes as npm does: the root
entry ``""`` (``extra["root"]``), then one entry per install path with its version, ``resolved``
(the tarball URL), ``integrity``, its dependency maps and the ``dev`` / ``optional`` /
``devOptional`` / ``peer`` flags.

Only registry specs (ranges and ``latest``) can be locked; git, file, URL and alias specs are a
:class:`~tuskops.errors.ManifestError`. npm's resolution failures (``ERESOLVE``, ``ETARGET``,
``EOVERRIDE``) are raised as :class:`~tuskops.packages.resolve.npm.NpmResolveError` (a
:class:`~tuskops.errors.PackageError`) with npm's message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, PackageError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound
from tuskops.packages.ecosystems._json_files import load_json_object
from tuskops.packages.ecosystems.npm_files import ECOSYSTEM, read_package_json
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import LockedPackage, Lockfile, Manifest
from tuskops.packages.registry import PackageInfo, Release
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.npm import (
    NpmPackageInfo,
    NpmRoot,
    NpmTree,
    NpmVersionInfo,
    build_tree,
    pick_version,
)

__all__ = ["NPM_MANIFEST", "lock_npm", "lock_npm_project", "npm_root"]

NPM_MANIFEST = "package.json"
#: Root ``package.json`` fields npm copies into the lock's ``""`` entry besides the
#: dependency maps.
_ROOT_FIELDS = ("license", "bin", "engines", "funding", "os", "cpu", "workspaces")
#: Release fields npm copies into a package's entry.
_ENTRY_FIELDS = ("engines", "os", "cpu", "libc", "hasInstallScript")


def npm_root(manifest: Manifest) -> NpmRoot:
    """The :class:`NpmRoot` of a ``package.json`` read by ``read_package_json``; a
    :class:`ManifestError` for a dependency that is not a registry range or tag."""
    groups: dict[str, dict[str, str]] = {
        "normal": {},
        "dev": {},
        "optional": {},
        "peer": {},
    }
    optional_peers: set[str] = set()
    for dep in manifest.dependencies:
        spec_type = dep.extra.get("spec_type", "range")
        if dep.source is not None or spec_type not in ("range", "tag"):
            raise ManifestError(
                manifest.path,
                f"{dep.name}@{dep.constraint}: {spec_type} dependencies cannot be locked yet",
            )
        if dep.kind not in groups:  # pragma: no cover - package.json has only these kinds
            continue
        groups[dep.kind][dep.name] = dep.constraint
        if dep.kind == "peer" and dep.optional:
            optional_peers.add(dep.name)
    overrides = manifest.extra.get("overrides", {})
    return NpmRoot(
        name=manifest.name or "",
        version=manifest.version,
        dependencies=groups["normal"],
        dev_dependencies=groups["dev"],
        optional_dependencies=groups["optional"],
        peer_dependencies=groups["peer"],
        optional_peers=frozenset(optional_peers),
        overrides=overrides if isinstance(overrides, Mapping) else {},
    )


def _version_info(release: Release) -> NpmVersionInfo:
    deps: dict[str, str] = {}
    optional: dict[str, str] = {}
    peers: dict[str, str] = {}
    optional_peers: set[str] = set()
    for dep in release.dependencies or ():
        if dep.kind == "normal":
            deps[dep.name] = dep.constraint
        elif dep.kind == "optional":
            optional[dep.name] = dep.constraint
        elif dep.kind == "peer":
            peers[dep.name] = dep.constraint
            if dep.optional:
                optional_peers.add(dep.name)
    return NpmVersionInfo(release.version, deps, optional, peers, frozenset(optional_peers))


def _package_info(name: str, package: PackageInfo) -> NpmPackageInfo:
    return NpmPackageInfo(
        name=name,
        versions=tuple(_version_info(r) for r in package.releases),
        latest=package.tags.get("latest"),
    )


class _Source:
    """The metadata source of :func:`build_tree`: packuments from ``lookup``, fetched on a
    private loop; :meth:`prefetch` fetches a whole dependency graph level by level."""

    def __init__(self, lookup: PackageLookup, loop: asyncio.AbstractEventLoop) -> None:
        self.lookup = lookup
        self.loop = loop
        self.packages: dict[str, PackageInfo] = {}
        self.infos: dict[str, NpmPackageInfo] = {}
        self.failures: dict[str, Exception] = {}

    async def _fetch(self, name: str) -> None:
        try:
            package, _ = await self.lookup.package(ECOSYSTEM, name)
        except PackageNotFound as exc:
            self.failures[name] = Unavailable(name, str(exc))
            return
        except PackageError as exc:
            self.failures[name] = exc
            return
        self.packages[name] = package
        self.infos[name] = _package_info(name, package)

    async def _fetch_all(self, names: list[str]) -> None:
        await asyncio.gather(*(self._fetch(n) for n in names))

    def _known(self, name: str) -> bool:
        return name in self.infos or name in self.failures

    def prefetch(self, wanted: Mapping[str, set[str]]) -> None:
        """Fetch the packuments of ``wanted`` (name -> specs) and, level by level, of the
        dependencies of the versions those specs pick."""
        level = {n: set(s) for n, s in wanted.items()}
        seen: set[tuple[str, str]] = set()
        while level:
            missing = sorted(n for n in level if not self._known(n))
            if missing:
                self.loop.run_until_complete(self._fetch_all(missing))
            following: dict[str, set[str]] = {}
            for name, specs in level.items():
                info = self.infos.get(name)
                if info is None:
                    continue
                for spec in specs:
                    if (name, spec) in seen:
                        continue
                    seen.add((name, spec))
                    try:
                        chosen = pick_version(info, spec)
                    except Unavailable:
                        continue
                    if chosen is None:
                        continue
                    for group in (
                        chosen.dependencies,
                        chosen.optional_dependencies,
                        chosen.peer_dependencies,
                    ):
                        for dep, dep_spec in group.items():
                            if (dep, dep_spec) not in seen:
                                following.setdefault(dep, set()).add(dep_spec)
            level = following

    def __call__(self, name: str) -> NpmPackageInfo:
        if not self._known(name):  # not prefetched (an override, say): fetch it now
            self.loop.run_until_complete(self._fetch(name))
        failure = self.failures.get(name)
        if failure is not None:
            raise failure
        return self.infos[name]


def _integrity(release: Release) -> tuple[str | None, tuple[str, ...]]:
    """The tarball URL and SRI integrity of a release (``sha1-`` from a hex shasum when the
    registry gives no ``integrity``)."""
    if not release.artifacts:
        return None, ()
    artifact = release.artifacts[0]
    integrity = artifact.extra.get("integrity")
    if isinstance(integrity, str) and integrity:
        return artifact.url, tuple(integrity.split())
    shasum = artifact.hashes.get("sha1")
    if shasum:
        try:
            digest = base64.b64encode(binascii.unhexlify(shasum)).decode()
        except (binascii.Error, ValueError):
            return artifact.url, ()
        return artifact.url, (f"sha1-{digest}",)
    return artifact.url, ()


def _root_entry(tree: NpmTree, raw: Mapping[str, Any]) -> dict[str, Any]:
    entry = dict(tree.to_lock_packages()[""])
    for key in _ROOT_FIELDS:
        if key in raw:
            entry[key] = raw[key]
    return entry


def _locked(tree: NpmTree, source: _Source, path: str, entry: Mapping[str, Any]) -> LockedPackage:
    node = tree.nodes[path]
    package = source.packages.get(node.name)
    release = package.release(node.version) if package is not None else None
    if release is None:  # pragma: no cover - every node's version comes from its packument
        raise PackageError(f"{node.name}@{node.version} is not in the registry listing")
    resolved, hashes = _integrity(release)
    deps: Mapping[str, str] = entry.get("dependencies", {})
    optional: Mapping[str, str] = entry.get("optionalDependencies", {})
    extra: dict[str, Any] = {"path": path}
    if node.dev_optional:
        extra["devOptional"] = True
    if node.peer:
        extra["peer"] = True
    if optional:
        extra["optionalDependencies"] = sorted(optional)
    for key in ("peerDependencies", "peerDependenciesMeta"):
        if key in entry:
            extra[key] = entry[key]
    if release.license:
        extra["license"] = release.license
    if release.deprecated:
        extra["deprecated"] = release.deprecated
    for key in _ENTRY_FIELDS:
        if key in release.extra:
            extra[key] = release.extra[key]
    return LockedPackage(
        name=node.name,
        version=node.version,
        source=resolved,
        hashes=hashes,
        dependencies=(
            *(f"{n} {s}" for n, s in deps.items()),
            *(f"{n} {s}" for n, s in optional.items()),
        ),
        dev=node.dev,
        optional=node.optional,
        extra=extra,
    )


def lock_npm(
    project: Path,
    *,
    lookup: PackageLookup,
    output: Path | None = None,
    legacy_peer_deps: bool = False,
) -> Lockfile:
    """Resolve ``project`` (a directory with a ``package.json``, or the file itself) into the
    Lockfile of ``output`` (default ``<project>/package-lock.json``); see the module doc.

    The lookup's clients are closed when done (they belong to this function's event loop).
    """
    manifest_path = project if project.is_file() else project / NPM_MANIFEST
    if not manifest_path.is_file():
        raise ManifestError(str(project), f"no {NPM_MANIFEST} to lock")
    manifest = read_package_json(manifest_path)
    raw = load_json_object(manifest_path)
    root = npm_root(manifest)
    target = output if output is not None else manifest_path.parent / "package-lock.json"

    loop = asyncio.new_event_loop()
    try:
        source = _Source(lookup, loop)
        wanted: dict[str, set[str]] = {}
        for group in (
            root.dependencies,
            root.dev_dependencies,
            root.optional_dependencies,
            root.peer_dependencies,
        ):
            for name, spec in group.items():
                wanted.setdefault(name, set()).add(spec)
        source.prefetch(wanted)
        try:
            tree = build_tree(root, source, legacy_peer_deps=legacy_peer_deps)
        except Unavailable as exc:
            raise PackageError(f"cannot lock {manifest_path}: {exc}") from exc
    finally:
        try:
            loop.run_until_complete(lookup.aclose())
        finally:
            loop.close()

    entries = tree.to_lock_packages()
    packages = tuple(_locked(tree, source, path, entries[path]) for path in entries if path)
    extra: dict[str, Any] = {}
    if manifest.name:
        extra["name"] = manifest.name
    if manifest.version:
        extra["version"] = manifest.version
    extra["lockfileVersion"] = 3
    extra["requires"] = True
    extra["root"] = _root_entry(tree, raw)
    return Lockfile(ECOSYSTEM, str(target), "package-lock.json v3", packages, extra)


def lock_npm_project(project: Path, request: LockRequest) -> Lockfile:
    """The npm locker of :mod:`tuskops.packages.locking`."""
    return lock_npm(
        project,
        lookup=request.lookup,
        output=request.output,
        legacy_peer_deps=bool(request.options.get("legacy_peer_deps", False)),
    )
