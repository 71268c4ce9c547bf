"""NuGet's PackageReference dependency resolution: four rules, not a search.

The rules are those of NuGet's "How NuGet resolves package dependencies"
(https://learn.microsoft.com/nuget/concepts/dependency-resolution), with the messages of its
warning and error pages (https://learn.microsoft.com/nuget/reference/errors-and-warnings/):

Lowest applicable version
    A range is resolved to the lowest available version it allows (``>= 1.0`` with only 2.0
    and 2.1 on the feed gives 2.0, and the approximate match is warning NU1603). None at all
    is NU1102 (NU1101 when the id has no versions).

Floating versions
    A floating range (``6.0.*``) is resolved to the highest available version matching the
    float (:meth:`~tuskops.packages.ecosystems.nuget.NugetConstraint.best_match`).

Direct dependency wins
    "When the package graph for an application contains different versions of a package in
    the same subgraph, and one of those versions is a direct dependency in that subgraph, that
    version will be chosen for that subgraph and the rest will be ignored." A dependency on X
    is *eclipsed* when a node above it (the project, or any ancestor) declares X itself. When
    the version chosen is below what an eclipsed range asks for, that is NU1605 "Detected
    package downgrade" (a warning NuGet reports; the .NET SDK turns it into an error by
    default, so it is reported as an error here); above an eclipsed range's upper bound, it
    is NU1608 "Detected package version outside of dependency constraint" (a warning).

Cousin dependencies
    "When different package versions are referred to in different subgraphs of the graph from
    the application, NuGet uses the lowest version that satisfies all version requirements":
    the highest of the versions each range resolves to (the highest lower bound). A range that
    does not allow it is NU1107 "Version conflict detected", naming both paths.

Only one version of each package ends up in the flat graph, and a package's dependencies are
those of that version, so the walk is repeated until the versions it chooses stop changing.
A package that depends on one of its ancestors is NU1108 (a cycle). Each package keeps the
paths that lead to it, written as NuGet writes them (``Project -> A 1.0.0 -> B (>= 1.2.0)``).

Pure: versions come from ``versions_of``, dependencies from ``dependencies_of``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuskops.errors import PackageError
from tuskops.packages.ecosystems.nuget import SCHEME, NugetConstraint, NuGetVersion
from tuskops.packages.manifests import Dependency
from tuskops.packages.resolve.base import Unavailable

#: A dependency as given to :func:`resolve`: a manifest :class:`Dependency` (``name`` and
#: ``constraint``) or an ``(id, range)`` pair.
NuGetDependency = Dependency | tuple[str, str]

_MAX_PASSES = 50


@dataclass(frozen=True)
class NuGetIssue:
    """A restore warning or error, with the dependency paths NuGet lists under it."""

    code: str
    severity: str  # "error" or "warning"
    package: str
    message: str
    paths: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "\n".join([f"{self.code}: {self.message}", *(f" {p}" for p in self.paths)])

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "package": self.package,
            "message": self.message,
            "paths": list(self.paths),
        }


@dataclass(frozen=True)
class ResolvedPackage:
    """One package of the flat graph."""

    id: str
    version: NuGetVersion
    #: Whether the project references it itself.
    direct: bool
    #: How it is reached: ``Project -> A 1.0.0 -> B (>= 1.2.0)``, one per accepted edge.
    paths: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version.normalized,
            "direct": self.direct,
            "paths": list(self.paths),
        }


@dataclass(frozen=True)
class NuGetResolution:
    """The flat set of packages a restore would use, and what it would warn about."""

    packages: tuple[ResolvedPackage, ...]
    issues: tuple[NuGetIssue, ...]

    @property
    def errors(self) -> tuple[NuGetIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[NuGetIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def check(self) -> NuGetResolution:
        """This resolution, or :class:`NuGetResolutionError` when it has errors."""
        if self.errors:
            raise NuGetResolutionError(self.errors)
        return self

    def versions(self) -> dict[str, str]:
        """Package id -> normalised version."""
        return {p.id: p.version.normalized for p in self.packages}

    def get(self, package_id: str) -> ResolvedPackage | None:
        wanted = package_id.lower()
        return next((p for p in self.packages if p.id.lower() == wanted), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "nuget-resolution",
            "packages": [p.to_json() for p in self.packages],
            "issues": [i.to_json() for i in self.issues],
        }


class NuGetResolutionError(PackageError):
    """The errors of a resolution, as an exception (:meth:`NuGetResolution.check`)."""

    def __init__(self, issues: Sequence[NuGetIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def describe_range(constraint: NugetConstraint) -> str:
    """A range as NuGet writes it in paths: ``(>= 1.0.0)``, ``(>= 1.0.0 && < 2.0.0)``,
    ``(= 1.0.0)``; a floating range as written (``(1.*)``)."""
    if constraint.is_floating:
        return f"({constraint.text.strip()})"
    intervals = constraint.ranges.intervals
    if not intervals:
        return "()"
    lo, hi = intervals[0].lower, intervals[-1].upper
    if lo is not None and hi is not None and lo.version == hi.version:
        return f"(= {lo.version.normalized})"
    parts = []
    if lo is not None:
        parts.append(f"{'>=' if lo.inclusive else '>'} {lo.version.normalized}")
    if hi is not None:
        parts.append(f"{'<=' if hi.inclusive else '<'} {hi.version.normalized}")
    return f"({' && '.join(parts)})" if parts else "(*)"


def _lower_version(constraint: NugetConstraint) -> NuGetVersion | None:
    intervals = constraint.ranges.intervals
    if not intervals or intervals[0].lower is None:
        return None
    return intervals[0].lower.version


@dataclass(frozen=True)
class _Edge:
    """A dependency as found in one walk."""

    id: str
    constraint: NugetConstraint
    path: str
    #: The version this edge alone resolves to (None when none is available).
    best: NuGetVersion | None
    direct: bool


@dataclass
class _Walk:
    order: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    accepted: dict[str, list[_Edge]] = field(default_factory=dict)
    #: (eclipsed edge, path of the declaration that eclipses it)
    eclipsed: dict[str, list[tuple[_Edge, str]]] = field(default_factory=dict)
    issues: list[NuGetIssue] = field(default_factory=list)


@dataclass(frozen=True)
class _Node:
    id: str
    version: NuGetVersion
    #: ``Project -> A 1.0.0``: the path to this node with versions.
    trail: str
    #: Lower-cased ids of this node and its ancestors (cycle check).
    ancestors: frozenset[str]
    #: Lower-cased ids declared by this node's proper ancestors, with the declaring path.
    outer: Mapping[str, str]


def _split(dep: NuGetDependency) -> tuple[str, str]:
    if isinstance(dep, Dependency):
        return dep.name, dep.constraint
    return dep


class _Resolver:
    def __init__(
        self,
        project: str,
        versions_of: Callable[[str], Iterable[NuGetVersion | str]],
        dependencies_of: Callable[[str, NuGetVersion], Sequence[NuGetDependency]],
    ) -> None:
        self.project = project
        self.versions_of = versions_of
        self.dependencies_of = dependencies_of
        self._versions: dict[str, list[NuGetVersion] | None] = {}
        self._deps: dict[tuple[str, NuGetVersion], list[tuple[str, NugetConstraint]]] = {}

    def available(self, package_id: str) -> list[NuGetVersion] | None:
        key = package_id.lower()
        if key not in self._versions:
            try:
                found = [
                    v if isinstance(v, NuGetVersion) else SCHEME.parse_version(v)
                    for v in self.versions_of(package_id)
                ]
            except Unavailable:
                found = []
            self._versions[key] = sorted(found) or None
        return self._versions[key]

    def dependencies(
        self, package_id: str, version: NuGetVersion
    ) -> list[tuple[str, NugetConstraint]]:
        key = (package_id.lower(), version)
        if key not in self._deps:
            self._deps[key] = [
                (name, SCHEME.parse_constraint(text or "0.0.0"))
                for name, text in map(_split, self.dependencies_of(package_id, version))
            ]
        return self._deps[key]

    def walk(
        self, root: Sequence[tuple[str, NugetConstraint]], chosen: Mapping[str, NuGetVersion]
    ) -> _Walk:
        found = _Walk()
        top = _Node(self.project, NuGetVersion(0, 0, 0), self.project, frozenset(), {})
        level: list[tuple[_Node, list[tuple[str, NugetConstraint]]]] = [(top, list(root))]
        while level:
            next_level: list[tuple[_Node, list[tuple[str, NugetConstraint]]]] = []
            for node, deps in level:
                declared = dict(node.outer)
                for name, constraint in deps:
                    declared.setdefault(
                        name.lower(), f"{node.trail} -> {name} {describe_range(constraint)}"
                    )
                for name, constraint in deps:
                    child = self.edge(found, node, name, constraint, chosen, declared)
                    if child is not None:
                        next_level.append((child, self.dependencies(child.id, child.version)))
            level = next_level
        return found

    def edge(
        self,
        found: _Walk,
        node: _Node,
        name: str,
        constraint: NugetConstraint,
        chosen: Mapping[str, NuGetVersion],
        declared: Mapping[str, str],
    ) -> _Node | None:
        key = name.lower()
        path = f"{node.trail} -> {name} {describe_range(constraint)}"
        if key in node.ancestors:
            found.issues.append(
                NuGetIssue(
                    "NU1108",
                    "error",
                    name,
                    "Cycle detected.",
                    (path,),
                )
            )
            return None
        available = self.available(name)
        best = None if available is None else constraint.best_match(available)
        edge = _Edge(name, constraint, path, best, direct=not node.ancestors)
        if key in node.outer:
            found.eclipsed.setdefault(key, []).append((edge, node.outer[key]))
            return None
        found.names.setdefault(key, name)
        if key not in found.accepted:
            found.order.append(key)
        found.accepted.setdefault(key, []).append(edge)
        version = chosen.get(key, best)
        if version is None:
            return None
        return _Node(
            name,
            version,
            f"{node.trail} -> {name} {version.normalized}",
            node.ancestors | {key},
            declared,
        )


def _choose(edges: Sequence[_Edge]) -> NuGetVersion | None:
    """Direct wins; cousins take the highest of their resolved versions."""
    direct = [e.best for e in edges if e.direct and e.best is not None]
    if direct:
        return direct[0]
    versions = [e.best for e in edges if e.best is not None]
    return max(versions) if versions else None


def resolve(
    root: Sequence[NuGetDependency],
    versions_of: Callable[[str], Iterable[NuGetVersion | str]],
    dependencies_of: Callable[[str, NuGetVersion], Sequence[NuGetDependency]],
    *,
    project: str = "Project",
) -> NuGetResolution:
    """Resolve a project's ``PackageReference`` items ``root`` as ``dotnet restore`` would.

    ``versions_of(id)`` lists a package's available versions (empty, or
    :class:`~.base.Unavailable`, when there is no such package); ``dependencies_of(id,
    version)`` gives a version's dependencies for the target framework. Problems are
    reported as :class:`NuGetIssue` objects on the result, not raised."""
    resolver = _Resolver(project, versions_of, dependencies_of)
    parsed = [(name, SCHEME.parse_constraint(text)) for name, text in map(_split, root)]
    chosen: dict[str, NuGetVersion] = {}
    for _ in range(_MAX_PASSES):
        found = resolver.walk(parsed, chosen)
        new: dict[str, NuGetVersion] = {}
        for key, edges in found.accepted.items():
            version = _choose(edges)
            if version is not None:
                new[key] = version
        if new == chosen:
            break
        chosen = new
    else:
        raise PackageError(f"NuGet resolution did not settle after {_MAX_PASSES} passes")
    return _result(resolver, found, chosen)


def _result(
    resolver: _Resolver, found: _Walk, chosen: Mapping[str, NuGetVersion]
) -> NuGetResolution:
    issues = list(found.issues)
    packages: list[ResolvedPackage] = []
    for key in found.order:
        edges = found.accepted[key]
        name = found.names[key]
        version = chosen.get(key)
        if version is None:
            issues.append(_not_found(resolver, name, edges[0]))
            continue
        packages.append(
            ResolvedPackage(
                name, version, any(e.direct for e in edges), tuple(e.path for e in edges)
            )
        )
        winner = next(e for e in edges if e.best == version)
        for edge in edges:
            if edge.best is None:
                issues.append(_not_found(resolver, name, edge))
            elif not edge.constraint.contains(version):
                issues.append(
                    NuGetIssue(
                        "NU1107",
                        "error",
                        name,
                        f"Version conflict detected for {name}. Install/reference {name} "
                        f"{version.normalized} directly to project {resolver.project} to "
                        "resolve this issue.",
                        (winner.path, edge.path),
                    )
                )
            elif _approximate(resolver, edge):
                lowest = _lower_version(edge.constraint)
                low_text = lowest.normalized if lowest is not None else ""
                best_text = edge.best.normalized if edge.best is not None else ""
                parent = edge.path.rsplit(" -> ", 1)[0].rsplit(" -> ", 1)[-1]
                issues.append(
                    NuGetIssue(
                        "NU1603",
                        "warning",
                        name,
                        f"{parent} depends on {name} {describe_range(edge.constraint)} but "
                        f"{name} {low_text} was not found. An approximate best match of "
                        f"{name} {best_text} was resolved.",
                        (edge.path,),
                    )
                )
    for key, eclipsed in found.eclipsed.items():
        version = chosen.get(key)
        if version is None:
            continue
        for edge, by in eclipsed:
            if edge.constraint.contains(version):
                continue
            wanted = _lower_version(edge.constraint)
            if wanted is not None and version <= wanted:
                issues.append(
                    NuGetIssue(
                        "NU1605",
                        "error",
                        edge.id,
                        f"Detected package downgrade: {edge.id} from {wanted.normalized} to "
                        f"{version.normalized}. Reference the package directly from the "
                        "project to select a different version.",
                        (edge.path, by),
                    )
                )
            else:
                parent = edge.path.rsplit(" -> ", 1)[0].rsplit(" -> ", 1)[-1]
                issues.append(
                    NuGetIssue(
                        "NU1608",
                        "warning",
                        edge.id,
                        f"Detected package version outside of dependency constraint: {parent} "
                        f"requires {edge.id} {describe_range(edge.constraint)} but version "
                        f"{edge.id} {version.normalized} was resolved.",
                        (edge.path, by),
                    )
                )
    return NuGetResolution(tuple(packages), tuple(issues))


def _approximate(resolver: _Resolver, edge: _Edge) -> bool:
    """Whether ``edge`` resolved to a version above its (inclusive) lower bound because the
    bound itself is not available (NU1603)."""
    if edge.best is None or edge.constraint.is_floating:
        return False
    intervals = edge.constraint.ranges.intervals
    lower = intervals[0].lower if intervals else None
    if lower is None or not lower.inclusive:
        return False
    return lower.version not in (resolver.available(edge.id) or ())


def _not_found(resolver: _Resolver, name: str, edge: _Edge) -> NuGetIssue:
    if resolver.available(name) is None:
        return NuGetIssue(
            "NU1101",
            "error",
            name,
            f"Unable to find package {name}. No packages exist with this id in source(s).",
            (edge.path,),
        )
    return NuGetIssue(
        "NU1102",
        "error",
        name,
        f"Unable to find package {name} with version {describe_range(edge.constraint)}",
        (edge.path,),
    )
