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
import functools
import posixpath
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from tuskops.errors import ManifestError, PackageError, VersionSyntaxError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound
from tuskops.packages.ecosystems._json_files import load_json_object
from tuskops.packages.ecosystems.npm import SCHEME, NpmRange
from tuskops.packages.ecosystems.npm_files import ECOSYSTEM, read_package_json, read_package_lock
from tuskops.packages.http import RegistryNotFound
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import LockedPackage, Lockfile, Manifest
from tuskops.packages.protocols import npm_registry
from tuskops.packages.registry import PackageInfo, Release
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.npm import (
    Engine,
    NpmPackageInfo,
    NpmRoot,
    NpmTree,
    NpmVersionInfo,
    build_tree,
    pick_version,
)

__all__ = [
    "NPM_MANIFEST",
    "installed_engine",
    "lock_npm",
    "lock_npm_project",
    "locked_paths",
    "npm_root",
]

NPM_MANIFEST = "package.json"
#: Root ``package.json`` fields npm copies into the lock's ``""`` entry besides the
#: dependency maps.
_ROOT_FIELDS = ("license", "bin", "engines", "funding", "os", "cpu", "workspaces")
#: Release fields npm copies into a package's entry (arborist's lock metadata keys), each only
#: when set: not false, empty or an empty object/list.
_ENTRY_FIELDS = (
    "peerDependenciesMeta",
    "funding",
    "engines",
    "os",
    "cpu",
    "libc",
    "license",
    "hasShrinkwrap",
    "hasInstallScript",
    "bin",
)


def _entry_value(name: str, key: str, value: Any) -> Any:
    """What npm writes for a manifest field in a lock entry, None for nothing: falsy values
    and empty objects or lists are left out; a license object becomes its ``type``, a
    ``funding`` URL ``{"url": ...}``, ``bin`` is normalised (:func:`_bin`)."""
    if not value:
        return None
    if key == "license" and isinstance(value, Mapping) and isinstance(value.get("type"), str):
        return value["type"] or None
    if key == "funding" and isinstance(value, str):
        return {"url": value}
    if key == "bin":
        return _bin(name, value)
    return value


def _bin_path(text: str) -> str:
    """``path.join("/", text).slice(1)``: ``./bin/x`` -> ``bin/x``, ``a/../b`` -> ``b``."""
    return posixpath.normpath("/" + text.replace("\\", "/").lstrip("/")).lstrip("/")


def _bin(name: str, value: Any) -> dict[str, str] | None:
    """``bin`` as npm-normalize-package-bin makes it: a string is ``{<name without scope>:
    path}``, a list ``{<file name>: path}``; keys are base names, paths normalised and
    relative; entries left empty are dropped."""
    if isinstance(value, str):
        value = {name: value}
    elif isinstance(value, list):
        value = {posixpath.basename(v): v for v in value if isinstance(v, str)}
    if not isinstance(value, Mapping):
        return None
    out: dict[str, str] = {}
    for key, target in value.items():
        base = _bin_path(posixpath.basename(str(key).replace("\\", "/").replace(":", "/")))
        if not isinstance(target, str) or not base:
            continue
        path = _bin_path(target)
        if path and path != ".":
            out[base] = path
    return out or None


def _tool_version(tool: str) -> str | None:
    path = shutil.which(tool)
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip().removeprefix("v")
    return text if done.returncode == 0 and text else None


@functools.cache
def installed_engine() -> Engine:
    """The Node.js and npm on ``PATH`` (``node --version``, ``npm --version``): what npm
    would check ``engines`` against when it picks versions; an engine not installed is not
    checked."""
    return Engine(node=_tool_version("node"), npm=_tool_version("npm"))


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
    engines = release.extra.get("engines")
    return NpmVersionInfo(
        release.version,
        deps,
        optional,
        peers,
        frozenset(optional_peers),
        deprecated=release.deprecated is not None,
        engines=(
            {k: v for k, v in engines.items() if isinstance(v, str)}
            if isinstance(engines, Mapping)
            else {}
        ),
    )


class _Listing(Protocol):
    """A packument as the locker reads it: :class:`~tuskops.packages.protocols.npm_registry.
    Packument` (versions read on demand) or a :class:`PackageInfo` from several registries."""

    @property
    def versions(self) -> tuple[str, ...]: ...

    @property
    def tags(self) -> Mapping[str, str]: ...

    def release(self, version: str) -> Release: ...


class _Merged:
    """A :class:`PackageInfo` (every version read) as a :class:`_Listing`."""

    def __init__(self, package: PackageInfo) -> None:
        self.package = package
        self.by_version = {r.version: r for r in reversed(package.releases)}
        self.versions = tuple(r.version for r in package.releases)
        self.tags = package.tags

    def release(self, version: str) -> Release:
        return self.by_version[version]


def _package_info(name: str, listing: _Listing) -> NpmPackageInfo:
    return NpmPackageInfo(
        name=name,
        latest=listing.tags.get("latest"),
        names=listing.versions,
        load=lambda version: _version_info(listing.release(version)),
    )


async def _listing(lookup: PackageLookup, name: str) -> _Listing:
    """The packument of ``name`` from the first of its registries that has it (npm's rule: a
    scope's registry, else the registry), its versions read only when needed. With several
    registries set to be combined (``lookup="union"``), the lookup's merged listing."""
    conf = lookup.settings(ECOSYSTEM)
    candidates = conf.registries_for(name)
    if conf.lookup != "first" and len(candidates) > 1:
        package, _ = await lookup.package(ECOSYSTEM, name)
        return _Merged(package)
    client = lookup.client(ECOSYSTEM)
    for registry in candidates:
        request = npm_registry.packument_request(name, registry.url)
        try:
            response = await client.get(request.url, accept=request.headers["Accept"])
        except RegistryNotFound:
            continue
        return npm_registry.Packument(
            response.content, response.url, response.headers.get("content-type")
        )
    raise PackageNotFound(ECOSYSTEM, name, " or ".join(r.url for r in candidates))


class _Source:
    """The metadata source of :func:`build_tree`: packuments from ``lookup``, fetched on a
    private loop. :meth:`prefetch` crawls the dependency graph ahead of the tree builder: as
    soon as a packument arrives, the versions its specs pick (and the previously locked
    versions that satisfy them) are read and their dependencies' packuments requested, so
    fetches overlap instead of waiting for a whole level."""

    def __init__(
        self,
        lookup: PackageLookup,
        loop: asyncio.AbstractEventLoop,
        *,
        engine: Engine,
        locked: Mapping[str, set[str]],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.lookup = lookup
        self.loop = loop
        self.engine = engine
        self.locked = locked
        self.progress = progress
        self.packages: dict[str, _Listing] = {}
        self.infos: dict[str, NpmPackageInfo] = {}
        self.failures: dict[str, Exception] = {}

    def _report(self) -> None:
        if self.progress is not None:
            count = len(self.packages) + len(self.failures)
            self.progress(f"fetched {count} packument{'s' if count != 1 else ''}")

    async def _fetch(self, name: str) -> None:
        try:
            package = await _listing(self.lookup, name)
        except PackageNotFound as exc:
            self.failures[name] = Unavailable(name, str(exc))
        except PackageError as exc:
            self.failures[name] = exc
        else:
            self.packages[name] = package
            self.infos[name] = _package_info(name, package)
        self._report()

    def _known(self, name: str) -> bool:
        return name in self.infos or name in self.failures

    def _picks(self, info: NpmPackageInfo, spec: str) -> list[NpmVersionInfo]:
        """The versions a spec may end up at: npm's pick and the locked ones it allows."""
        out: list[NpmVersionInfo] = []
        try:
            chosen = pick_version(info, spec, self.engine)
            if chosen is not None:
                out.append(chosen)
            kept = self.locked.get(info.name, set())
            allowed = _parse_spec(spec) if kept else None
            if allowed is not None:
                for version in sorted(kept):
                    item = info.get(version)
                    if item is not None and _allows(allowed, item):
                        out.append(item)
        except PackageError:  # Unavailable, or a version the registry sent unreadable:
            pass  # the tree builder reports it if it needs that version
        return out

    async def _crawl(self, wanted: Mapping[str, set[str]]) -> None:
        specs: dict[str, set[str]] = {}
        done: set[tuple[str, str]] = set()
        started: set[str] = set()
        pending: set[asyncio.Task[None]] = set()

        def want(name: str, spec: str) -> None:
            if (name, spec) in done:
                return
            specs.setdefault(name, set()).add(spec)
            if not self._known(name) and name not in started:
                started.add(name)
                pending.add(asyncio.ensure_future(self._fetch(name)))

        def expand_ready() -> None:
            # Iterative: names already fetched are expanded here, never by recursion.
            while True:
                ready = [n for n in specs if n in self.infos]
                if not ready:
                    return
                for name in ready:
                    info = self.infos[name]
                    for spec in sorted(specs.pop(name)):
                        if (name, spec) in done:
                            continue
                        done.add((name, spec))
                        for chosen in self._picks(info, spec):
                            for group in (
                                chosen.dependencies,
                                chosen.optional_dependencies,
                                chosen.peer_dependencies,
                            ):
                                for dep, dep_spec in group.items():
                                    want(dep, dep_spec)

        for name, name_specs in wanted.items():
            for spec in name_specs:
                want(name, spec)
        expand_ready()
        while pending:
            finished, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                pending.discard(task)
                task.result()
            expand_ready()

    def prefetch(self, wanted: Mapping[str, set[str]]) -> None:
        """Fetch the packuments of ``wanted`` (name -> specs) and, transitively, of the
        dependencies of the versions those specs may pick."""
        self.loop.run_until_complete(self._crawl(wanted))

    def __call__(self, name: str) -> NpmPackageInfo:
        if not self._known(name):  # not prefetched (an override, say): fetch it now
            self.loop.run_until_complete(self._fetch(name))
        failure = self.failures.get(name)
        if failure is not None:
            raise failure
        return self.infos[name]


def _parse_spec(spec: str) -> NpmRange | None:
    try:
        return SCHEME.parse_constraint(spec)
    except VersionSyntaxError:
        return None


def _allows(allowed: NpmRange, item: NpmVersionInfo) -> bool:
    try:
        return allowed.contains(SCHEME.parse_version(item.version))
    except VersionSyntaxError:
        return False


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


_ROOT_GROUPS = (
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
)


def _root_entry(tree: NpmTree, raw: Mapping[str, Any]) -> dict[str, Any]:
    # npm copies the root's dependency maps from package.json as written: a name in two maps
    # (react in peerDependencies and devDependencies, say) is listed in both, though only one
    # edge (the later one in npm's order) is resolved.
    entry = {k: v for k, v in tree.to_lock_packages()[""].items() if k not in _ROOT_GROUPS}
    for key in _ROOT_GROUPS:
        value = raw.get(key)
        if isinstance(value, Mapping) and value:
            entry[key] = dict(value)
    for key in _ROOT_FIELDS:
        if key in raw:
            entry[key] = raw[key]
    return entry


def _locked(tree: NpmTree, source: _Source, path: str, entry: Mapping[str, Any]) -> LockedPackage:
    node = tree.nodes[path]
    package = source.packages.get(node.name)
    if package is None or node.version not in package.versions:  # pragma: no cover
        # every node's version comes from its packument
        raise PackageError(f"{node.name}@{node.version} is not in the registry listing")
    release = package.release(node.version)
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
    # As published: a name in both dependencies and peerDependencies (ajv-formats' ajv) is
    # one edge in the tree but listed in both maps, and peerDependenciesMeta is copied whole.
    peers = {d.name: d.constraint for d in release.dependencies or () if d.kind == "peer"}
    if peers:
        extra["peerDependencies"] = peers
    if release.deprecated:
        extra["deprecated"] = release.deprecated
    for key in _ENTRY_FIELDS:
        value = _entry_value(node.name, key, release.extra.get(key))
        if value is not None:
            extra[key] = value
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


def locked_paths(lockfile: Path, keep: Callable[[str], bool] = lambda name: True) -> dict[str, str]:
    """Install path -> version of every entry of a previous ``package-lock.json`` whose package
    name passes ``keep``; empty when there is no such file. A lockfile that cannot be read is
    a :class:`~tuskops.errors.ManifestError`, not a silent relock from scratch."""
    if not lockfile.is_file():
        return {}
    lock = read_package_lock(lockfile)
    out: dict[str, str] = {}
    for package in lock.packages:
        path = package.extra.get("path")
        if isinstance(path, str) and package.version and keep(package.name):
            out[path] = package.version
    return out


def lock_npm(
    project: Path,
    *,
    lookup: PackageLookup,
    output: Path | None = None,
    legacy_peer_deps: bool = False,
    engine: Engine | None = None,
    locked: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Lockfile:
    """Resolve ``project`` (a directory with a ``package.json``, or the file itself) into the
    Lockfile of ``output`` (default ``<project>/package-lock.json``); see the module doc.

    ``engine``: the Node.js / npm versions for ``engines`` (default: :func:`installed_engine`).
    ``locked``: install path -> version of the previous lock (:func:`locked_paths`), kept
    where still allowed. ``progress`` receives status lines ("fetched 40 packuments").
    The lookup's clients are closed when done (they belong to this function's event loop).
    """
    manifest_path = project if project.is_file() else project / NPM_MANIFEST
    if not manifest_path.is_file():
        raise ManifestError(str(project), f"no {NPM_MANIFEST} to lock")
    manifest = read_package_json(manifest_path)
    raw = load_json_object(manifest_path)
    root = npm_root(manifest)
    target = output if output is not None else manifest_path.parent / "package-lock.json"
    engine = engine if engine is not None else installed_engine()
    locked = dict(locked or {})
    by_name: dict[str, set[str]] = {}
    for path, version in locked.items():
        by_name.setdefault(path.rpartition("node_modules/")[2], set()).add(version)

    loop = asyncio.new_event_loop()
    try:
        source = _Source(lookup, loop, engine=engine, locked=by_name, progress=progress)
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
        if progress is not None:
            progress("placing packages")
        try:
            tree = build_tree(
                root, source, legacy_peer_deps=legacy_peer_deps, engine=engine, locked=locked
            )
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
    """The npm locker of :mod:`tuskops.packages.locking`: like ``npm install``, keeps the
    versions of an existing ``package-lock.json`` (at ``request.output`` or next to the
    manifest) that still satisfy ``package.json``; ``request.upgrade`` names are re-picked as
    ``npm update NAME`` does, ``request.upgrade_all`` ignores the old lock (``npm update``).
    Options: ``legacy_peer_deps``; ``node_version`` / ``npm_version`` for ``engines`` (default:
    the installed ones)."""
    manifest_dir = project.parent if project.is_file() else project
    previous = request.output if request.output is not None else manifest_dir / "package-lock.json"
    locked = {} if request.upgrade_all else locked_paths(previous, lambda n: not request.frees(n))
    engine = None
    node_version = request.options.get("node_version")
    npm_version = request.options.get("npm_version")
    if node_version is not None or npm_version is not None:
        engine = Engine(
            node=str(node_version) if node_version else None,
            npm=str(npm_version) if npm_version else None,
        )
    return lock_npm(
        project,
        lookup=request.lookup,
        output=request.output,
        legacy_peer_deps=bool(request.options.get("legacy_peer_deps", False)),
        engine=engine,
        locked=locked,
        progress=request.progress,
    )
