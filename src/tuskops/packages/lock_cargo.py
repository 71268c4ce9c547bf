"""Locking a Cargo project: ``Cargo.toml`` (a package or a workspace) -> ``Cargo.lock`` v4.

:func:`lock_cargo` reads the manifest (and, for a workspace, every member's: ``members`` globs
less ``exclude``, ``workspace = true`` dependencies filled in from
``[workspace.dependencies]``), fetches the index files it needs from the configured registry
(crates.io, or what ``[source.crates-io] replace-with`` points at, read by
:mod:`tuskops.packages.ecosystems.cargo_settings`) concurrently, level by level, on a private
event loop, resolves with Cargo's rules (:mod:`tuskops.packages.resolve.cargo` on the PubGrub
solver) and returns the :class:`~tuskops.packages.manifests.Lockfile` that
:func:`~tuskops.packages.ecosystems.cargo_files.write_cargo_lock` writes byte for byte as Cargo
does.

As ``cargo generate-lockfile`` does, every workspace member is resolved with all its features
on, its dev-, build- and every target's dependencies included. Members and path dependencies
are lock entries without ``source``; registry crates get crates.io's source id (also when the
index is a source replacement, as Cargo writes it) and the index's ``cksum`` as ``checksum``.
Versions the previous ``Cargo.lock`` pins are kept where still allowed (tried first, even when
yanked), except for the crates ``--upgrade`` frees or all with ``--upgrade-all``.

Path dependencies are local crates too: inside a ``[workspace]``'s directory they are members;
otherwise they are resolved like any dependency, with the features their dependents ask for and
without their dev-dependencies. Resolver 3 (``resolver = "3"``, or edition 2024) prefers versions
whose ``rust-version`` fits the members' lowest ``rust-version``, else the installed ``rustc``'s;
a lowest ``rust-version`` below 1.78 gets the Cargo.lock format that Rust reads (v3 below 1.78,
v2 below 1.53), as Cargo chooses it.

Not locked (a :class:`~tuskops.errors.ManifestError` naming the dependency or section): git
dependencies, dependencies on other registries (``registry = ...``), ``[patch]`` and
``[replace]``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, PackageError, VersionSyntaxError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound
from tuskops.packages.ecosystems.cargo import SCHEME
from tuskops.packages.ecosystems.cargo_files import ECOSYSTEM, read_cargo_lock, read_cargo_toml
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest
from tuskops.packages.registry import PackageInfo
from tuskops.packages.resolve.cargo import (
    CargoProvider,
    CargoResolution,
    CrateDep,
    CrateRelease,
    resolve_cargo,
    rust_version_key,
)

__all__ = [
    "CARGO_MANIFEST",
    "CRATES_IO_SOURCE",
    "LocalCrate",
    "lock_cargo",
    "lock_cargo_project",
    "releases_from_index",
    "workspace_crates",
]

CARGO_MANIFEST = "Cargo.toml"
#: The source id Cargo writes for crates.io and for any registry replacing it.
CRATES_IO_SOURCE = "registry+https://github.com/rust-lang/crates.io-index"


@dataclass
class LocalCrate:
    """A workspace member or a path dependency, locked without a source. Members are
    resolved with every feature and their dev-dependencies; other path crates with the
    features their dependents ask for, as any dependency."""

    name: str
    version: str
    directory: Path
    manifest: Manifest
    member: bool = True
    #: Registry dependencies (all kinds, optional included).
    deps: list[CrateDep] = field(default_factory=list)
    #: Path dependencies: the local crate's directory and the dependency as declared.
    local_deps: list[tuple[Path, CrateDep]] = field(default_factory=list)
    features: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def as_release(self) -> CrateRelease:
        """The crate as the resolver's feature rules see a version (its registry and path
        dependencies alike)."""
        local = tuple(d for _, d in self.local_deps)
        return CrateRelease(
            name=self.name,
            version=SCHEME.parse_version(self.version),
            deps=(*self.deps, *local),
            features=self.features,
        )


# --- reading the workspace ----------------------------------------------------------------------


def _crate_dep(dep: Dependency) -> CrateDep:
    extra = dep.extra
    return CrateDep(
        name=dep.name,
        req=dep.constraint or "*",
        key=str(extra.get("rename", dep.name)),
        features=tuple(dep.features),
        default_features=bool(extra.get("default_features", True)),
        optional=dep.optional,
        kind=dep.kind,
        target=dep.markers,
    )


def _member_dirs(root: Path, workspace: Mapping[str, Any]) -> list[Path]:
    excluded = {(root / e).resolve() for e in workspace.get("exclude", ())}
    found: list[Path] = []
    for pattern in workspace.get("members", ()):
        matches = (
            sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        )
        for directory in matches:
            resolved = directory.resolve()
            if resolved in excluded or resolved in found:
                continue
            if not (resolved / CARGO_MANIFEST).is_file():
                if any(c in pattern for c in "*?["):
                    continue
                raise ManifestError(
                    str(root / CARGO_MANIFEST),
                    f"workspace member {pattern!r} has no {CARGO_MANIFEST}",
                    "workspace.members",
                )
            found.append(resolved)
    return found


def _inherit(dep: Dependency, workspace_deps: Mapping[str, Dependency]) -> Dependency:
    """A member's ``workspace = true`` dependency with the workspace's requirement."""
    if not dep.extra.get("from_workspace") or dep.constraint or dep.source:
        return dep
    key = str(dep.extra.get("rename", dep.name))
    base = workspace_deps.get(key) or workspace_deps.get(dep.name)
    if base is None:
        return dep
    features = base.features + tuple(f for f in dep.features if f not in base.features)
    extra = {**base.extra, **dep.extra}
    return replace(
        dep,
        name=base.name,
        constraint=base.constraint,
        source=base.source,
        features=features,
        extra=extra,
    )


def workspace_crates(manifest_path: Path) -> tuple[list[LocalCrate], str]:
    """The local crates of the workspace at ``manifest_path`` (members, then path
    dependencies), and the name to call the root in explanations."""
    root_manifest = read_cargo_toml(manifest_path)
    root_dir = manifest_path.parent.resolve()
    workspace = root_manifest.extra.get("workspace")
    workspace_deps: dict[str, Dependency] = {}
    if isinstance(workspace, Mapping):
        for dep in workspace.get("dependencies", ()):
            workspace_deps[str(dep.extra.get("rename", dep.name))] = dep
    for table in ("patch", "replace"):
        if table in root_manifest.extra:
            raise ManifestError(
                str(manifest_path), f"[{table}] sections cannot be locked yet", table
            )
    pending: list[tuple[Path, Manifest | None]] = []
    members: set[Path] = set()
    if root_manifest.name is not None:
        pending.append((root_dir, root_manifest))
        members.add(root_dir)
    excluded: set[Path] = set()
    if isinstance(workspace, Mapping):
        listed = [d for d in _member_dirs(root_dir, workspace) if d != root_dir]
        pending += [(d, None) for d in listed]
        members.update(listed)
        excluded = {(root_dir / e).resolve() for e in workspace.get("exclude", ())}
    if not pending:
        raise ManifestError(str(manifest_path), "neither a [package] nor workspace members to lock")
    crates: dict[Path, LocalCrate] = {}
    while pending:
        directory, manifest = pending.pop(0)
        if directory in crates:
            continue
        path = directory / CARGO_MANIFEST
        if manifest is None:
            if not path.is_file():
                raise ManifestError(str(path), "path dependency without a Cargo.toml")
            manifest = read_cargo_toml(path)
        if manifest.name is None:
            raise ManifestError(str(path), "a workspace member needs a [package]", "package")
        # Path dependencies inside a [workspace]'s directory are members too (the Cargo book,
        # "Workspaces"); outside it, or without a [workspace], they are plain dependencies.
        member = directory in members or (
            isinstance(workspace, Mapping)
            and directory.is_relative_to(root_dir)
            and not any(directory.is_relative_to(e) for e in excluded)
        )
        crate = LocalCrate(
            manifest.name, manifest.version or "0.0.0", directory, manifest, member=member
        )
        raw_features = manifest.extra.get("features", {})
        crate.features = dict(raw_features) if isinstance(raw_features, Mapping) else {}
        for dep in manifest.dependencies:
            dep = _inherit(dep, workspace_deps)
            extra = dep.extra
            if "path" in extra:
                target = (directory / str(extra["path"])).resolve()
                crate.local_deps.append((target, replace(_crate_dep(dep), req="*")))
                pending.append((target, None))
                continue
            if "git" in extra:
                raise ManifestError(str(path), f"{dep.name}: git dependencies cannot be locked yet")
            if "registry" in extra or "registry_index" in extra:
                raise ManifestError(
                    str(path), f"{dep.name}: dependencies on other registries cannot be locked yet"
                )
            if extra.get("from_workspace") and not dep.constraint:
                raise ManifestError(
                    str(path),
                    f"{dep.name}: `workspace = true` but the workspace does not declare it",
                )
            crate.deps.append(_crate_dep(dep))
        crates[directory] = crate
    root_name = root_manifest.name or "the workspace"
    return list(crates.values()), root_name


# --- the index ----------------------------------------------------------------------------------


def releases_from_index(package: PackageInfo) -> list[CrateRelease]:
    """A crate's index entries as the resolver's releases (versions Cargo cannot parse are
    left out, as Cargo leaves them out)."""
    out: list[CrateRelease] = []
    for release in package.releases:
        try:
            version = SCHEME.parse_version(release.version)
        except VersionSyntaxError:
            continue
        features = release.extra.get("features", {})
        links = release.extra.get("links")
        rust_version = release.extra.get("rust_version")
        checksum = release.artifacts[0].hashes.get("sha256") if release.artifacts else None
        out.append(
            CrateRelease(
                name=package.name,
                version=version,
                deps=tuple(_crate_dep(d) for d in release.dependencies or ()),
                features={k: tuple(v) for k, v in features.items()}
                if isinstance(features, Mapping)
                else {},
                yanked=release.yanked is not None,
                links=links if isinstance(links, str) else None,
                checksum=checksum,
                rust_version=rust_version if isinstance(rust_version, str) else None,
            )
        )
    return out


class _Index:
    """Index files from ``lookup`` on a private loop; :meth:`prefetch` fetches what a set of
    requirements can reach, level by level, concurrently."""

    def __init__(
        self, lookup: PackageLookup, loop: asyncio.AbstractEventLoop, request: LockRequest | None
    ) -> None:
        self.lookup = lookup
        self.loop = loop
        self.request = request
        self.crates: dict[str, list[CrateRelease] | None] = {}

    async def _fetch(self, name: str) -> None:
        try:
            package, _ = await self.lookup.package(ECOSYSTEM, name)
        except PackageNotFound:
            self.crates[name] = None
            return
        self.crates[name] = releases_from_index(package)

    async def _fetch_all(self, names: list[str]) -> None:
        await asyncio.gather(*(self._fetch(n) for n in names))

    def prefetch(self, wanted: Iterable[CrateDep], locked: Mapping[str, set[str]]) -> None:
        level: dict[str, set[str]] = {}
        for dep in wanted:
            level.setdefault(dep.name, set()).add(dep.req)
        seen: set[tuple[str, str]] = set()
        while level:
            missing = sorted(n for n in level if n not in self.crates)
            if missing:
                self.loop.run_until_complete(self._fetch_all(missing))
                if self.request is not None:
                    self.request.report(f"read the index of {len(self.crates)} crates")
            following: dict[str, set[str]] = {}
            for name, reqs in level.items():
                releases = self.crates.get(name) or []
                for req in reqs:
                    if (name, req) in seen:
                        continue
                    seen.add((name, req))
                    try:
                        constraint = SCHEME.parse_constraint(req)
                    except VersionSyntaxError:
                        continue
                    for release in releases:
                        if not constraint.contains(release.version):
                            continue
                        if release.yanked and str(release.version) not in locked.get(name, set()):
                            continue
                        for dep in release.deps:
                            if dep.kind != "dev" and (dep.name, dep.req) not in seen:
                                following.setdefault(dep.name, set()).add(dep.req)
            level = following

    def __call__(self, name: str) -> Sequence[CrateRelease] | None:
        if name not in self.crates:  # not reached by the prefetch: fetch it now
            self.loop.run_until_complete(self._fetch(name))
        return self.crates[name]


# --- Rust versions ------------------------------------------------------------------------------

#: Cargo.lock format -> the Rust release that first reads it (cargo's ``ResolveVersion``).
_LOCK_FORMAT_RUST = ((4, (1, 78, 0)), (3, (1, 53, 0)), (2, (1, 41, 0)))


def _lowest_rust_version(crates: Sequence[LocalCrate]) -> str | None:
    found = [c.manifest.extra.get("rust_version") for c in crates]
    versions = [v for v in found if isinstance(v, str)]
    return min(versions, key=rust_version_key) if versions else None


def _resolver(manifest_path: Path, root: Manifest) -> str:
    """The workspace's resolver: ``[workspace] resolver``, ``[package] resolver``, else "3"
    for an edition 2024 root package (Cargo's default), else "2" or older (no MSRV rule)."""
    workspace = root.extra.get("workspace")
    if isinstance(workspace, Mapping) and isinstance(workspace.get("resolver"), str):
        return str(workspace["resolver"])
    with manifest_path.open("rb") as handle:
        package = tomllib.load(handle).get("package")
    if isinstance(package, Mapping) and isinstance(package.get("resolver"), str):
        return str(package["resolver"])
    return "3" if root.extra.get("edition") == "2024" else "2"


def _rustc_version() -> str | None:
    """The installed ``rustc``'s version, which resolver 3 falls back on when no member sets
    ``rust-version``; None without a ``rustc``."""
    rustc = shutil.which("rustc")
    if rustc is None:
        return None
    try:
        result = subprocess.run(
            [rustc, "--version"], capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = result.stdout.split()
    return parts[1] if len(parts) > 1 else None


def _lock_format(rust_version: str | None) -> int:
    """The newest Cargo.lock format the workspace's lowest ``rust-version`` reads (4 when
    none is set); version 1 (before Rust 1.41) is written as 2."""
    if rust_version is None:
        return 4
    key = rust_version_key(rust_version)
    return next((fmt for fmt, first in _LOCK_FORMAT_RUST if key >= first), 2)


# --- locking ------------------------------------------------------------------------------------


def _previous(
    target: Path, request: LockRequest | None, fresh_format: int
) -> tuple[dict[str, set[str]], int]:
    """Versions the previous Cargo.lock pins (per crate, all of them: several majors), less
    the freed ones; and the format to write (the previous lock's, else ``fresh_format``)."""
    if not target.is_file():
        return {}, fresh_format
    previous = read_cargo_lock(target)
    fmt = previous.format.rpartition("v")[2]
    version = int(fmt) if fmt in ("2", "3", "4") else fresh_format
    if request is not None and request.upgrade_all:
        return {}, version
    pinned: dict[str, set[str]] = {}
    for package in previous.packages:
        if package.source is None:
            continue
        if request is not None and request.frees(package.name):
            continue
        pinned.setdefault(package.name, set()).add(package.version)
    return pinned, version


@dataclass
class _Active:
    """What a local crate brings into the resolution: its active registry dependencies with
    the extra features asked of them, and its active path dependencies."""

    registry: list[tuple[CrateDep, tuple[str, ...]]]
    local: list[tuple[Path, CrateDep, tuple[str, ...]]]
    #: The crate as the resolver names a dependent (``name version``).
    owner: str = ""


def _activate(crates: Sequence[LocalCrate]) -> dict[Path, _Active]:
    """Each local crate's active dependencies: everything for members (all features, dev
    included, as ``cargo generate-lockfile``); for other path crates, what the features
    their dependents ask for activate (computed to a fixed point, path crates asking each
    other)."""
    wanted: dict[Path, set[str]] = {c.directory: set() for c in crates}
    result: dict[Path, _Active] = {}
    changed = True
    while changed:
        changed = False
        for crate in crates:
            release = crate.as_release()
            if crate.member:
                enabled = set(crate.features) | {d.toml_name for d in release.deps if d.optional}
            else:
                enabled = set(wanted[crate.directory])
            active_keys, dep_features = _closure(release, enabled)
            registry = [
                (d, tuple(dep_features.get(d.toml_name, ())))
                for d in crate.deps
                if (crate.member or d.kind != "dev")
                and (not d.optional or d.toml_name in active_keys)
            ]
            local: list[tuple[Path, CrateDep, tuple[str, ...]]] = []
            for directory, d in crate.local_deps:
                if not crate.member and d.kind == "dev":
                    continue
                if d.optional and d.toml_name not in active_keys:
                    continue
                extra = tuple(dep_features.get(d.toml_name, ()))
                local.append((directory, d, extra))
                asked = {*d.features, *extra} | ({"default"} if d.default_features else set())
                if not asked <= wanted[directory]:
                    wanted[directory] |= asked
                    changed = True
            result[crate.directory] = _Active(registry, local, f"{crate.name} {crate.version}")
    # Only what the members reach is locked (an optional path dependency left off is not).
    reached: set[Path] = set()
    stack = [c.directory for c in crates if c.member]
    while stack:
        directory = stack.pop()
        if directory not in reached:
            reached.add(directory)
            stack.extend(d for d, _, _ in result[directory].local)
    return {d: a for d, a in result.items() if d in reached}


def _closure(release: CrateRelease, enabled: set[str]) -> tuple[set[str], dict[str, list[str]]]:
    """The optional dependencies ``enabled`` features activate (by the name the crate uses)
    and the features they ask of each dependency."""
    named = {v[4:] for values in release.features.values() for v in values if v.startswith("dep:")}
    optional = {d.toml_name for d in release.deps if d.optional}
    seen: set[str] = set()
    pending = list(enabled)
    active: set[str] = set()
    dep_features: dict[str, list[str]] = {}
    while pending:
        feature = pending.pop()
        if feature in seen:
            continue
        seen.add(feature)
        if feature in release.features:
            values: tuple[str, ...] = tuple(release.features[feature])
        elif feature in optional and feature not in named:
            values = (f"dep:{feature}",)
        elif "/" in feature:
            values = (feature,)
        else:
            values = ()
        for value in values:
            if value.startswith("dep:"):
                active.add(value[4:])
                continue
            dep_name, slash, dep_feature = value.partition("/")
            if slash:
                key = dep_name.removesuffix("?")
                active.add(key)
                dep_features.setdefault(key, []).append(dep_feature)
            else:
                pending.append(value)
    return active, dep_features


def _local_entry(
    crate: LocalCrate,
    active: _Active,
    provider: CargoProvider,
    resolution: CargoResolution,
    locals_by_dir: Mapping[Path, LocalCrate],
) -> LockedPackage:
    deps: set[str] = set()
    for dep, extra in active.registry:
        found = resolution.target(provider, dep, extra, active.owner)
        if found is not None:
            deps.add(f"{found[0]} {found[1]}")
    for directory, _, _ in active.local:
        other = locals_by_dir[directory]
        deps.add(f"{other.name} {other.version}")
    return LockedPackage(name=crate.name, version=crate.version, dependencies=tuple(sorted(deps)))


def lock_cargo(
    project: Path,
    *,
    lookup: PackageLookup,
    output: Path | None = None,
    request: LockRequest | None = None,
) -> Lockfile:
    """Resolve ``project`` (a directory with a ``Cargo.toml``, or the file) into the Lockfile
    of ``output`` (default ``Cargo.lock`` next to the manifest); see the module doc. The
    lookup's clients are closed when done (they belong to this function's event loop)."""
    manifest_path = project if project.is_file() else project / CARGO_MANIFEST
    if not manifest_path.is_file():
        raise ManifestError(str(project), f"no {CARGO_MANIFEST} to lock")
    target = output if output is not None else manifest_path.parent / "Cargo.lock"
    crates, root_name = workspace_crates(manifest_path)
    lowest = _lowest_rust_version(crates)
    locked, lock_version = _previous(target, request, _lock_format(lowest))
    prereleases = request.allow_prereleases if request is not None else None
    max_rust_version = None
    if _resolver(manifest_path, read_cargo_toml(manifest_path)) == "3":
        max_rust_version = lowest or _rustc_version()

    loop = asyncio.new_event_loop()
    try:
        index = _Index(lookup, loop, request)
        actives = _activate(crates)
        index.prefetch((d for a in actives.values() for d, _ in a.registry), locked)
        provider = CargoProvider(
            index, locked=locked, prereleases=prereleases, max_rust_version=max_rust_version
        )
        requirements = []
        for active in actives.values():
            for dep, extra in sorted(active.registry, key=lambda item: item[0].toml_name):
                requirements += provider.requirements(dep, extra, active.owner)
        # Cargo reads a manifest's dependencies sorted by name and, among equally constrained
        # ones, decides the first first; the solver decides the last-added first on ties.
        requirements.reverse()
        if request is not None:
            request.report(f"resolving {len(index.crates)} crates")
        resolution = resolve_cargo(provider, requirements, root_name=root_name)
    finally:
        try:
            loop.run_until_complete(lookup.aclose())
        finally:
            loop.close()

    by_dir = {c.directory: c for c in crates}
    packages = [
        _local_entry(c, actives[c.directory], provider, resolution, by_dir)
        for c in crates
        if c.directory in actives
    ]
    for (name, version), release in resolution.packages.items():
        deps = tuple(sorted(f"{n} {v}" for n, v in resolution.edges.get((name, version), ())))
        packages.append(
            LockedPackage(
                name=name,
                version=str(version),
                source=CRATES_IO_SOURCE,
                hashes=(f"sha256:{release.checksum}",) if release.checksum else (),
                dependencies=deps,
            )
        )
    seen: set[tuple[str, str]] = set()
    for package in packages:
        key = (package.name, package.version)
        if key in seen and package.source is None:
            raise PackageError(f"two local crates are both {package.name} {package.version}")
        seen.add(key)
    return Lockfile(ECOSYSTEM, str(target), f"Cargo.lock v{lock_version}", tuple(packages))


def lock_cargo_project(project: Path, request: LockRequest) -> Lockfile:
    """The Cargo locker of :mod:`tuskops.packages.locking`."""
    return lock_cargo(project, lookup=request.lookup, output=request.output, request=request)
