"""Locking a Maven project: the tree ``mvn dependency:tree`` shows, as ``dependency-tree.json``.

Maven has no lockfile; a project's resolved dependencies are what its mediation gives for the
POMs in its repositories. :func:`lock_maven_project` computes exactly that:

1. The project's ``pom.xml`` is read into its effective model
   (:func:`~tuskops.packages.ecosystems.maven_files.read_pom`: parents by ``relativePath``,
   properties, ``dependencyManagement`` with imported BOMs). Parents and BOMs that are not on
   disk are fetched from the configured repositories (``settings.xml``, the POM's
   ``<repositories>``; :meth:`~tuskops.packages.api.PackageLookup.settings`), checksum-verified,
   concurrently, in rounds until the model asks for nothing more. They are kept in a temporary
   directory laid out like Maven's local repository, because the model builder reads parents
   of a POM on disk by path, as Maven reads them from ``~/.m2/repository``. A parent or BOM
   that no repository has is an error, as in Maven ("Non-resolvable parent POM").
2. The tree is mediated by :func:`~tuskops.packages.resolve.maven.resolve_tree` (nearest wins,
   first declaration on ties, the root's dependencyManagement, scopes, exclusions, optional,
   ranges). It asks for POMs and version lists synchronously; here they come from a cache
   filled ahead of it: a walk with what is known records what it lacked, that is fetched
   concurrently (each POM from the first repository that has it, its own parents and BOMs
   with it: :func:`~tuskops.packages.maven_pom.fetch_pom_model`; version lists from
   ``maven-metadata.xml`` merged across repositories), and the walk is repeated until it lacks
   nothing. Each round reaches one level deeper, so there are about as many rounds as the tree
   is deep, and only the last walk's result (made with every POM it looked at) counts. A
   dependency whose POM no repository has gets no dependencies, as Maven warns "The POM for
   ... is missing, no dependency information available"; the warning goes to the progress
   callback.
3. The result is a :class:`~tuskops.packages.manifests.Lockfile` for ``dependency-tree.json``
   in maven-dependency-plugin's JSON layout
   (:mod:`~tuskops.packages.ecosystems.maven_tree_files`): one package per artifact on the
   classpath tree, with its scope and its dependencies.

Relocking: Maven pins nothing, so neither does this locker; ``--upgrade`` changes nothing
(ranges always resolve to the newest version the repositories list, as in Maven).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tuskops.errors import ManifestError, PackageError
from tuskops.packages import maven_pom
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import PackageNotFound
from tuskops.packages.ecosystems import maven_files
from tuskops.packages.ecosystems.maven_files import Coordinates
from tuskops.packages.ecosystems.maven_tree_files import FORMAT, locked_packages
from tuskops.packages.http import redact_url
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import Dependency, Lockfile, Manifest
from tuskops.packages.protocols import maven_repo
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.maven import (
    ManagedEntry,
    MavenVersionConflict,
    PomInfo,
    ResolvedNode,
    ResolvedTree,
    resolve_tree,
)

__all__ = [
    "LOCKFILE",
    "lock_maven",
    "lock_maven_project",
    "managed_entries",
    "resolve_project",
    "tree_json",
]

ECOSYSTEM = "maven"
LOCKFILE = "dependency-tree.json"
#: Rounds of fetching at most (the tree's depth, plus parents of parents of the project).
_MAX_ROUNDS = 200

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Pom:
    dependencies: tuple[Dependency, ...]
    #: The repository it came from; None when no repository has the POM.
    registry: str | None


class _Fetcher:
    """POMs and version lists from the configured repositories, on a private event loop."""

    def __init__(self, lookup: PackageLookup, loop: asyncio.AbstractEventLoop) -> None:
        self.lookup = lookup
        self.loop = loop
        self.poms: dict[tuple[str, str], _Pom] = {}
        self.versions: dict[str, list[str]] = {}
        self.missing: list[str] = []

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        return self.loop.run_until_complete(coroutine)

    @property
    def registries(self) -> tuple[str, ...]:
        return tuple(r.url for r in self.lookup.settings(ECOSYSTEM).registries)

    def _where(self) -> str:
        return ", ".join(redact_url(u) for u in self.registries) or "no repository"

    async def raw_pom(self, coords: Coordinates) -> maven_pom.FetchedPom | None:
        """A parent's or BOM's POM file, from the first repository that has it."""
        client = self.lookup.client(ECOSYSTEM)
        for url in self.registries:
            found = await maven_pom.fetch_pom(client, url, *coords)
            if found is not None:
                return found
        return None

    async def raw_poms(self, wanted: Sequence[Coordinates]) -> list[maven_pom.FetchedPom | None]:
        return list(await asyncio.gather(*(self.raw_pom(c) for c in wanted)))

    async def _pom(self, name: str, version: str) -> None:
        group, _, artifact = name.partition(":")
        client = self.lookup.client(ECOSYSTEM)
        for url in self.registries:
            model = await maven_pom.fetch_pom_model(client, url, group, artifact, version)
            if model is not None:
                deps = tuple(d for d in model.manifest.dependencies if d.kind != "import")
                self.poms[name, version] = _Pom(deps, url)
                return
        self.poms[name, version] = _Pom((), None)
        self.missing.append(f"{name}:{version}")

    async def _versions(self, name: str) -> None:
        try:
            package, _ = await self.lookup.package(ECOSYSTEM, name)
        except PackageNotFound:
            self.versions[name] = []
            return
        self.versions[name] = [r.version for r in package.releases]

    async def fetch(self, poms: Sequence[tuple[str, str]], names: Sequence[str]) -> None:
        results = await asyncio.gather(
            *(self._pom(n, v) for n, v in poms),
            *(self._versions(n) for n in names),
            return_exceptions=True,
        )
        for result in results:  # every fetch finishes before the first failure is raised
            if isinstance(result, BaseException):
                raise result


class _NeedVersions(Exception):
    """The walk needs a version list not fetched yet."""


def _local_path(root: Path, coords: Coordinates) -> Path:
    group, artifact, version = coords
    return root / maven_repo.artifact_path(group, artifact, version, "pom")


def _project_model(pom_path: Path, fetcher: _Fetcher, report: Callable[[str], None]) -> Manifest:
    """The project's effective model, parents and BOMs not on disk fetched (step 1)."""
    with tempfile.TemporaryDirectory(prefix="tuskops-maven-") as tmp:
        local = Path(tmp)
        stored: dict[Coordinates, Path | None] = {}
        for _ in range(_MAX_ROUNDS):
            asked: list[Coordinates] = []

            def resolve(
                group: str, artifact: str, version: str, asked: list[Coordinates] = asked
            ) -> Path | None:
                coords = (group, artifact, version)
                if coords in stored:
                    return stored[coords]
                if "${" not in "".join(coords) and coords not in asked:
                    asked.append(coords)
                return None

            manifest = maven_files.read_pom(pom_path, resolve)
            if not asked:
                break
            report(f"fetching {len(asked)} parent and BOM POMs")
            found = fetcher.run(fetcher.raw_poms(asked))
            for coords, pom in zip(asked, found, strict=True):
                if pom is None:
                    stored[coords] = None
                    continue
                path = _local_path(local, coords)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(pom.data)
                stored[coords] = path
        else:  # pragma: no cover - a chain longer than any repository holds
            raise ManifestError(str(pom_path), f"more than {_MAX_ROUNDS} rounds of parent POMs")
    problems = [
        f"{what} POM {e['groupId']}:{e['artifactId']}:{e['version']}: "
        + ("not in " + fetcher._where() if stored.get(coord) is None else e["reason"])
        for what, key in (("parent", "unresolved_parents"), ("import", "unresolved_imports"))
        for e in manifest.extra.get(key, ())
        for coord in [(e["groupId"], e["artifactId"], e["version"])]
    ]
    if problems:
        raise ManifestError(str(pom_path), "non-resolvable " + "; ".join(problems))
    return manifest


def managed_entries(manifest: Manifest) -> dict[str, ManagedEntry]:
    """The project's ``dependencyManagement`` keyed as :func:`resolve_tree` wants it: by
    ``groupId:artifactId``, with type and classifier when not a plain jar; the first entry
    of a key wins (local entries come before imported ones)."""
    entries: dict[str, ManagedEntry] = {}
    for raw in manifest.extra.get("dependency_management", ()):
        name, type_, classifier = raw["name"], raw.get("type", "jar"), raw.get("classifier")
        if type_ == "jar" and not classifier:
            key = name
        else:
            key = f"{name}:{type_}:{classifier}" if classifier else f"{name}:{type_}"
        entries.setdefault(
            key,
            ManagedEntry(
                version=raw.get("version") or None,
                scope=raw.get("scope") or None,
                exclusions=tuple(raw.get("exclusions", ())),
            ),
        )
    return entries


def _resolve(
    root: Sequence[Dependency],
    managed: Mapping[str, ManagedEntry],
    fetcher: _Fetcher,
    report: Callable[[str], None],
) -> ResolvedTree:
    """Step 2: walk with what is cached, fetch what the walk lacked, until it lacks nothing."""
    for _ in range(_MAX_ROUNDS):
        want_poms: list[tuple[str, str]] = []
        want_versions: list[str] = []

        def pom_of(
            name: str, version: str, want_poms: list[tuple[str, str]] = want_poms
        ) -> PomInfo:
            found = fetcher.poms.get((name, version))
            if found is None:
                if (name, version) not in want_poms:
                    want_poms.append((name, version))
                return PomInfo()
            return PomInfo(found.dependencies)

        def versions_of(name: str, want_versions: list[str] = want_versions) -> list[str]:
            if name not in fetcher.versions:
                want_versions.append(name)
                raise _NeedVersions(name)
            return fetcher.versions[name]

        try:
            tree = resolve_tree(root, pom_of, managed=managed, versions_of=versions_of)
        except (_NeedVersions, Unavailable, MavenVersionConflict):
            # With POMs still missing, the walk saw a partial tree: only a complete one counts.
            if not (want_poms or want_versions):
                raise
        else:
            if not want_poms:
                return tree
        report(
            f"fetched {len(fetcher.poms)} POMs; fetching {len(want_poms)} more"
            + (f" and {len(want_versions)} version lists" if want_versions else "")
        )
        fetcher.run(fetcher.fetch(want_poms, want_versions))
    raise PackageError(f"Maven resolution needed more than {_MAX_ROUNDS} rounds of fetching")


def _node_json(node: ResolvedNode) -> dict[str, Any]:
    group, _, artifact = node.name.partition(":")
    out: dict[str, Any] = {
        "groupId": group,
        "artifactId": artifact,
        "version": node.version,
        "type": node.type,
        "scope": node.scope,
        "classifier": node.classifier or "",
        "optional": "true" if node.optional else "false",
    }
    children = [_node_json(c) for c in node.children if c.omitted is None]
    if children:
        out["children"] = children
    return out


def tree_json(manifest: Manifest, tree: ResolvedTree) -> dict[str, Any]:
    """The tree as maven-dependency-plugin's ``-DoutputType=json`` writes it."""
    group, _, artifact = (manifest.name or ":").partition(":")
    out: dict[str, Any] = {
        "groupId": group,
        "artifactId": artifact,
        "version": manifest.version or "",
        "type": str(manifest.extra.get("packaging", "jar")),
        "scope": "",
        "classifier": "",
        "optional": "false",
    }
    children = [_node_json(n) for n in tree.roots if n.omitted is None]
    if children:
        out["children"] = children
    return out


def resolve_project(
    project: Path,
    *,
    lookup: PackageLookup,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, Manifest, ResolvedTree]:
    """The POM of ``project`` (a directory with a ``pom.xml``, or the POM itself), its
    effective model, and its mediated tree with omitted nodes (``ResolvedTree.render(...,
    verbose=True)`` is ``mvn dependency:tree -Dverbose``). Closes ``lookup``'s clients.

    Raises :class:`~tuskops.packages.resolve.maven.MavenVersionConflict` when hard ranges
    cannot hold together, :class:`ManifestError` for a POM that cannot be read or whose parent
    or BOM no repository has, :class:`PackageError` for an artifact that cannot be resolved.
    """
    pom_path = project if project.is_file() else project / "pom.xml"
    if not pom_path.is_file():
        raise ManifestError(str(project), "no pom.xml to lock")

    def report(message: str) -> None:
        if progress is not None:
            progress(message)

    loop = asyncio.new_event_loop()
    try:
        fetcher = _Fetcher(lookup, loop)
        manifest = _project_model(pom_path, fetcher, report)
        root = [d for d in manifest.dependencies if d.kind != "import"]
        managed = managed_entries(manifest)
        report(f"resolving {len(root)} dependencies of {manifest.name}")
        try:
            tree = _resolve(root, managed, fetcher, report)
        except Unavailable as exc:
            raise PackageError(f"cannot lock {pom_path}: {exc}") from exc
    finally:
        try:
            loop.run_until_complete(lookup.aclose())
        finally:
            loop.close()
    used = {(n.name, n.version) for n in tree.resolved.values()}
    for missing in fetcher.missing:
        name, _, version = missing.rpartition(":")
        if (name, version) in used:
            report(f"warning: the POM for {missing} is missing, no dependency information")
    return pom_path, manifest, tree


def lock_maven(
    project: Path,
    *,
    lookup: PackageLookup,
    output: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Lockfile:
    """Resolve the Maven project at ``project`` (see :func:`resolve_project`) into a
    ``dependency-tree.json`` Lockfile for ``output`` (default next to the POM)."""
    pom_path, manifest, tree = resolve_project(project, lookup=lookup, progress=progress)
    data = tree_json(manifest, tree)
    target = output if output is not None else pom_path.parent / LOCKFILE
    return Lockfile(ECOSYSTEM, str(target), FORMAT, locked_packages(data), {"tree": data})


def lock_maven_project(project: Path, request: LockRequest) -> Lockfile:
    """The Maven locker of :mod:`tuskops.packages.locking`."""
    return lock_maven(
        project, lookup=request.lookup, output=request.output, progress=request.progress
    )
