"""Maven's dependency mediation: the tree ``mvn dependency:tree`` shows, without a search.

Maven does not search for a solution; it walks the dependency graph and mediates. The rules
are those of Maven's "Introduction to the Dependency Mechanism"
(https://maven.apache.org/guides/introduction/introduction-to-dependency-mechanism.html) and
of its POM reference on version ranges (https://maven.apache.org/pom.html#Dependency_Version_Requirement_Specification):

Transitive dependencies / mediation
    "Maven picks the nearest definition": the version of the closest dependency to the project
    in the tree wins (``A -> B -> C -> D 2.0`` and ``A -> E -> D 1.0`` give D 1.0); "if two
    dependency versions are at the same depth in the dependency tree, the first declaration
    wins". The walk here is breadth-first, as maven-resolver's breadth-first collector does:
    nodes of one depth are visited in declaration order, so the first node of an artifact to
    be visited is the winner, and only winners' dependencies are walked. Losers stay in the
    tree as "omitted for duplicate" (same version) or "omitted for conflict with X".
    The conflict key is ``groupId:artifactId`` plus type and classifier when not plain jars.

Dependency management
    "dependency management takes precedence over dependency mediation for transitive
    dependencies": an entry in the root's ``dependencyManagement`` replaces the version (and
    the scope, and adds exclusions) of every *transitive* declaration of that artifact. Direct
    dependencies keep what they declare; only a missing version or scope is filled from the
    managed entry (the model builder's job, done again here for callers that did not). A
    managed scope is used as is, not derived through the scope table.

Dependency scope
    The table of the "Dependency Scope" section: the row is the scope of the dependency that
    brings the transitive one, the column the transitive dependency's declared scope::

                    compile     provided  runtime   test
        compile     compile     -         runtime   -
        provided    provided    -         provided  -
        runtime     runtime     -         runtime   -
        test        test        -         test      -

    ``provided`` and ``test`` dependencies of a dependency are not transitive ("-"). ``system``
    is "similar to provided": as a row it acts as ``provided``; a transitive ``system``
    dependency stays ``system``. When an artifact is reached through several paths, the winner
    gets the widest of their scopes (compile > runtime > provided > test; maven-resolver's
    scope selection, so that a test-only path never hides a compile-time need), except a
    direct dependency, whose declared scope always stands ("scope updated from ..." marks it).

Exclusions and optional dependencies
    An exclusion (``groupId:artifactId``, either part may be ``*``; ``*:*`` excludes every
    transitive dependency) applies to the whole subtree below the dependency declaring it.
    "Optional dependencies": a dependency marked optional is used by the project that
    declares it, but is not transitive; so only the root's own optional dependencies appear.
    Everything below one of them is optional too, unless a non-optional path also reaches
    it (maven-resolver's SimpleOptionalitySelector; what ``dependency:tree`` marks).

Version ranges
    A bare version is a soft requirement (preferred, mediated as above); ``[1.0,2.0)`` and the
    like are hard. Every hard range on an artifact anywhere in the (mediated) tree must hold:
    they are intersected. A transitive node whose soft version lies outside the intersection
    cannot win: the nearest node the ranges allow does, however deep (maven-resolver's
    NearestVersionSelector), and a range's node gets the highest available version in the
    intersection (Maven resolves ranges to the newest matching version). A *direct*
    dependency whose soft version the ranges reject keeps its place and scope, at that
    highest allowed version, with that version's dependencies (what ``mvn dependency:tree``
    shows; its ``-Dverbose`` tree shows the range's node winning instead).
    An empty intersection, or one with no available version, is a
    :class:`MavenVersionConflict` listing each path and its range (Maven's "Could not resolve
    version conflict among [...]"). As choices change the tree (another version has other
    dependencies), the walk is repeated until the ranges and scopes it finds stop changing.

Everything here is pure: POMs come from the ``pom_of`` callback (the caller reads and builds
them with :mod:`~tuskops.packages.ecosystems.maven_files`), available versions from
``versions_of``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from tuskops.errors import PackageError
from tuskops.packages.ecosystems.maven import SCHEME, MavenConstraint, MavenVersion
from tuskops.packages.manifests import Dependency
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.versions import Ranges

#: Maven's scopes, widest first (the order the winner's scope is chosen in).
SCOPE_ORDER: tuple[str, ...] = ("compile", "runtime", "provided", "system", "test")

#: The doc's table: (scope of the dependency, declared scope of its dependency) -> scope
#: of the transitive dependency; a pair missing from it is not transitive.
SCOPE_TABLE: Mapping[tuple[str, str], str] = {
    ("compile", "compile"): "compile",
    ("compile", "runtime"): "runtime",
    ("provided", "compile"): "provided",
    ("provided", "runtime"): "provided",
    ("runtime", "compile"): "runtime",
    ("runtime", "runtime"): "runtime",
    ("test", "compile"): "test",
    ("test", "runtime"): "test",
}

_MAX_PASSES = 50


@dataclass(frozen=True)
class PomInfo:
    """What the resolver needs of one artifact's effective POM: its dependencies (with
    ``kind`` the scope, ``"normal"`` meaning compile, as :mod:`maven_files` reads them)."""

    dependencies: tuple[Dependency, ...] = ()


@dataclass(frozen=True)
class ManagedEntry:
    """One entry of the root's ``dependencyManagement``."""

    version: str | None = None
    scope: str | None = None
    exclusions: tuple[str, ...] = ()


class MavenVersionConflict(PackageError):
    """Hard version ranges on one artifact that no available version satisfies together.

    ``requirements`` are ``(path, range)`` pairs; a path is the coordinates from the root's
    direct dependency down to the declaring artifact."""

    def __init__(self, key: str, requirements: Sequence[tuple[tuple[str, ...], str]]) -> None:
        self.key = key
        self.requirements = tuple(requirements)
        lines = [
            f"  {' -> '.join((*path, key)) if path else key} {spec}"
            for path, spec in self.requirements
        ]
        super().__init__(
            f"Could not resolve version conflict among {len(lines)} requirements on {key}:\n"
            + "\n".join(lines)
        )


@dataclass(frozen=True)
class ResolvedNode:
    """One node of the tree, as ``mvn dependency:tree -Dverbose`` shows it."""

    #: ``groupId:artifactId``
    name: str
    version: str
    scope: str
    depth: int
    type: str = "jar"
    classifier: str | None = None
    optional: bool = False
    #: The version text as declared (before management).
    requested: str = ""
    #: None for a node that is used; else "omitted for duplicate" or
    #: "omitted for conflict with 2.0".
    omitted: str | None = None
    #: The declared version replaced by the root's dependencyManagement (set even when the
    #: managed version is the same, as Maven records it).
    managed_from: str | None = None
    #: The declared scope replaced by a managed scope.
    scope_managed_from: str | None = None
    #: The narrower scope a transitive winner was widened from (another path needs it wider).
    scope_from: str | None = None
    #: A direct dependency's scope kept although a transitive path needs this wider scope.
    scope_not_updated: str | None = None
    children: tuple[ResolvedNode, ...] = ()

    @property
    def key(self) -> str:
        """The conflict key: name, plus type and classifier when not a plain jar."""
        return _key(self.name, self.type, self.classifier)

    @property
    def coordinates(self) -> str:
        """``g:a:type[:classifier]:version:scope`` as dependency:tree writes it."""
        parts = [self.name, self.type]
        if self.classifier:
            parts.append(self.classifier)
        parts += [self.version, self.scope]
        return ":".join(parts)

    def label(self, *, verbose: bool = False) -> str:
        """The node's line as ``dependency:tree`` prints it. Without ``verbose``: the
        coordinates and ``(optional)``. With it (``-Dverbose``, maven-dependency-plugin 3.7+):
        management and scope notes, omitted nodes in parentheses, and no ``(optional)``.
        A widened transitive scope (``scope_from``) is not printed: the plugin prints none."""
        if not verbose:
            return self.coordinates + (" (optional)" if self.optional else "")
        notes = []
        if self.managed_from is not None:
            notes.append(f"version managed from {self.managed_from}")
        if self.scope_managed_from is not None:
            notes.append(f"scope managed from {self.scope_managed_from}")
        if self.scope_not_updated is not None:
            notes.append(f"scope not updated to {self.scope_not_updated}")
        if self.omitted is not None:
            if notes:
                return f"({self.coordinates} - {'; '.join(notes)}; {self.omitted})"
            return f"({self.coordinates} - {self.omitted})"
        return f"{self.coordinates} ({'; '.join(notes)})" if notes else self.coordinates

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "scope": self.scope,
            "depth": self.depth,
            "type": self.type,
            "requested": self.requested,
        }
        if self.classifier:
            out["classifier"] = self.classifier
        if self.optional:
            out["optional"] = True
        if self.omitted is not None:
            out["omitted"] = self.omitted
        if self.managed_from is not None:
            out["managed_from"] = self.managed_from
        if self.scope_managed_from is not None:
            out["scope_managed_from"] = self.scope_managed_from
        if self.scope_from is not None:
            out["scope_from"] = self.scope_from
        if self.scope_not_updated is not None:
            out["scope_not_updated"] = self.scope_not_updated
        out["children"] = [child.to_json() for child in self.children]
        return out


@dataclass(frozen=True)
class ResolvedTree:
    """The mediated tree: ``roots`` are the project's direct dependencies."""

    roots: tuple[ResolvedNode, ...]

    def walk(self) -> Iterator[ResolvedNode]:
        """Every node, omitted ones included, in pre-order."""
        stack = list(reversed(self.roots))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def resolved(self) -> dict[str, ResolvedNode]:
        """The winners (the classpath), by conflict key, in tree order."""
        return {node.key: node for node in self.walk() if node.omitted is None}

    def render(self, root: str | None = None, *, verbose: bool = False) -> str:
        """The tree as ``mvn dependency:tree`` prints it (``-Dverbose`` adds omitted nodes);
        ``root`` is the project's own line (``g:a:jar:1.0``), left out when None."""
        lines = [root] if root is not None else []

        def emit(nodes: Sequence[ResolvedNode], prefix: str) -> None:
            used = {n.name for n in nodes if n.omitted is None}
            # maven-dependency-plugin's verbose tree leaves out an omitted node when a sibling
            # of the same groupId:artifactId (another classifier or type) is used.
            shown = [n for n in nodes if n.omitted is None or (verbose and n.name not in used)]
            for i, node in enumerate(shown):
                last = i == len(shown) - 1
                branch = "\\- " if last else "+- "
                lines.append(f"{prefix}{branch}{node.label(verbose=verbose)}")
                emit(node.children, prefix + ("   " if last else "|  "))

        emit(self.roots, "")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "maven-dependency-tree",
            "resolved": [
                {"name": n.name, "version": n.version, "scope": n.scope, "key": n.key}
                for n in self.resolved.values()
            ],
            "tree": [node.to_json() for node in self.roots],
        }


# --- the walk ---------------------------------------------------------------------------------


def _key(name: str, type_: str, classifier: str | None) -> str:
    if type_ == "jar" and not classifier:
        return name
    return f"{name}:{type_}:{classifier}" if classifier else f"{name}:{type_}"


def _scope(dep: Dependency) -> str:
    return "compile" if dep.kind in ("normal", "") else dep.kind


def _excluded(name: str, exclusions: Sequence[str]) -> bool:
    group, _, artifact = name.partition(":")
    for pattern in exclusions:
        if pattern in ("*", "*:*"):
            return True
        g, _, a = pattern.partition(":")
        if fnmatchcase(group, g or "*") and fnmatchcase(artifact, a or "*"):
            return True
    return False


@dataclass
class _Node:
    """A mutable node while walking."""

    name: str
    type: str
    classifier: str | None
    depth: int
    scope: str
    optional: bool
    requested: str
    constraint: MavenConstraint
    managed_from: str | None
    scope_managed_from: str | None
    exclusions: tuple[str, ...]
    path: tuple[str, ...]
    version: str = ""
    omitted: str | None = None
    scope_from: str | None = None
    scope_not_updated: str | None = None
    children: list[_Node] = field(default_factory=list)

    @property
    def scope_managed(self) -> bool:
        return self.scope_managed_from is not None

    @property
    def key(self) -> str:
        return _key(self.name, self.type, self.classifier)

    def freeze(self) -> ResolvedNode:
        return ResolvedNode(
            name=self.name,
            version=self.version,
            scope=self.scope,
            depth=self.depth,
            type=self.type,
            classifier=self.classifier,
            optional=self.optional,
            requested=self.requested,
            omitted=self.omitted,
            managed_from=self.managed_from,
            scope_managed_from=self.scope_managed_from,
            scope_from=self.scope_from,
            scope_not_updated=self.scope_not_updated,
            children=tuple(child.freeze() for child in self.children),
        )


@dataclass
class _Pass:
    """What one walk found: the tree, and the facts the next walk must respect."""

    roots: list[_Node]
    hard: dict[str, list[tuple[tuple[str, ...], MavenConstraint]]]
    scopes: dict[str, list[str]]
    #: Key -> whether each path that reached it was optional.
    optional: dict[str, list[bool]] = field(default_factory=dict)


def _parse(name: str, text: str) -> MavenConstraint:
    if not text.strip():
        raise Unavailable(name, "no version given (and none managed)")
    return SCHEME.parse_constraint(text)


class _Resolver:
    def __init__(
        self,
        pom_of: Callable[[str, str], PomInfo],
        versions_of: Callable[[str], Sequence[str]] | None,
        managed: Mapping[str, ManagedEntry],
    ) -> None:
        self.pom_of = pom_of
        self.versions_of = versions_of
        self.managed = managed
        self._versions: dict[str, list[tuple[MavenVersion, str]]] = {}
        self._poms: dict[tuple[str, str], PomInfo] = {}

    def available(self, name: str) -> list[tuple[MavenVersion, str]]:
        if name not in self._versions:
            if self.versions_of is None:
                raise Unavailable(name, "a version range needs the available versions")
            found = [(SCHEME.parse_version(v), v) for v in self.versions_of(name)]
            self._versions[name] = sorted(found, key=lambda pair: pair[0])
        return self._versions[name]

    def pom(self, name: str, version: str) -> PomInfo:
        if (name, version) not in self._poms:
            self._poms[name, version] = self.pom_of(name, version)
        return self._poms[name, version]

    def node(
        self, dep: Dependency, parent: _Node | None, inherited: tuple[str, ...]
    ) -> _Node | None:
        """The node for ``dep`` under ``parent`` (None: the root), or None when the scope
        table, optionality or an exclusion leaves it out."""
        declared = _scope(dep)
        type_ = str(dep.extra.get("type", "jar"))
        classifier = dep.extra.get("classifier")
        key = _key(dep.name, type_, classifier)
        entry = self.managed.get(key) or self.managed.get(dep.name)
        text, managed_from, scope_managed_from = dep.constraint, None, None
        exclusions = dep.exclusions
        if parent is None:
            if entry is not None:
                if not text and entry.version:
                    text = entry.version
                exclusions = (*exclusions, *(e for e in entry.exclusions if e not in exclusions))
            scope = declared
        else:
            if dep.optional or _excluded(dep.name, inherited):
                return None
            if declared in ("test", "provided"):
                return None
            if declared == "system":
                scope = "system"
            else:
                row = "provided" if parent.scope == "system" else parent.scope
                derived = SCOPE_TABLE.get((row, declared))
                if derived is None:
                    return None
                scope = derived
            if entry is not None:
                if entry.version:
                    # Recorded even when unchanged, as maven-resolver's premanaged version is.
                    managed_from, text = text or None, entry.version
                if entry.scope:
                    scope, scope_managed_from = entry.scope, declared
                exclusions = (*exclusions, *entry.exclusions)
        return _Node(
            name=dep.name,
            type=type_,
            classifier=str(classifier) if classifier else None,
            depth=1 if parent is None else parent.depth + 1,
            scope=scope,
            # Below an optional dependency everything is optional too (maven-resolver's
            # SimpleOptionalitySelector); transitive optional ones were left out above.
            optional=dep.optional if parent is None else parent.optional,
            requested=dep.constraint,
            constraint=_parse(dep.name, text),
            managed_from=managed_from,
            scope_managed_from=scope_managed_from,
            exclusions=(*inherited, *exclusions),
            path=() if parent is None else (*parent.path, parent.name),
        )

    def choose(self, node: _Node, hard: Ranges[MavenVersion] | None) -> str:
        """The version for the winning ``node``: its soft version if every hard range on the
        artifact allows it, else the highest available version they all allow."""
        preferred = node.constraint.preferred
        if preferred is not None and (hard is None or hard.contains(preferred)):
            return node.constraint.text.strip()
        if hard is None:
            allowed = node.constraint.ranges
        elif preferred is None:
            allowed = hard & node.constraint.ranges
        else:
            allowed = hard
        for version, text in reversed(self.available(node.name)):
            if allowed.contains(version):
                return text
        raise Unavailable(node.name, f"no available version in {node.constraint.text}")

    def walk(
        self,
        root: Sequence[Dependency],
        hard: Mapping[str, Ranges[MavenVersion]],
        widest: Mapping[str, str],
        all_optional: Mapping[str, bool] | None = None,
    ) -> _Pass:
        found = _Pass([], {}, {})
        winners: dict[str, _Node] = {}
        rejected: dict[str, list[_Node]] = {}
        for dep in root:
            node = self.node(dep, None, ())
            if node is not None:
                found.roots.append(node)
        level: list[tuple[_Node | None, _Node]] = [(None, n) for n in found.roots]
        while level:
            next_level: list[tuple[_Node | None, _Node]] = []
            for parent, node in level:
                key = node.key
                if node.constraint.preferred is None:
                    found.hard.setdefault(key, []).append((node.path, node.constraint))
                if node.depth > 1 and not node.scope_managed:
                    found.scopes.setdefault(key, []).append(node.scope)
                found.optional.setdefault(key, []).append(node.optional)
                winner = winners.get(key)
                if parent is not None:
                    parent.children.append(node)
                if winner is not None:
                    self.mark_loser(node, winner)
                    continue
                allowed = hard.get(key)
                soft = node.constraint.preferred
                if (
                    node.depth > 1
                    and allowed is not None
                    and soft is not None
                    and not allowed.contains(soft)
                ):
                    # Not acceptable: the nearest node whose version the ranges allow wins,
                    # however deep (maven-resolver's NearestVersionSelector). A direct
                    # dependency is not rejected: Maven keeps it where it is declared, with
                    # its scope, at the newest version the ranges allow (choose()).
                    rejected.setdefault(key, []).append(node)
                    continue
                winners[key] = node
                node.version = self.choose(node, hard.get(key))
                if node.optional and not (all_optional or {}).get(key, True):
                    node.optional = False  # optional only when every path to it is
                wider = widest.get(key)
                if (
                    node.depth > 1
                    and not node.scope_managed
                    and wider is not None
                    and SCOPE_ORDER.index(wider) < SCOPE_ORDER.index(node.scope)
                ):
                    node.scope_from, node.scope = node.scope, wider
                elif (
                    node.depth == 1
                    and wider is not None
                    and SCOPE_ORDER.index(wider) < SCOPE_ORDER.index(node.scope)
                ):
                    node.scope_not_updated = wider
                for dep in self.pom(node.name, node.version).dependencies:
                    child = self.node(dep, node, node.exclusions)
                    if child is not None:
                        next_level.append((node, child))
            level = next_level
        for key, nodes in rejected.items():
            for node in nodes:
                if key in winners:
                    self.mark_loser(node, winners[key])
                else:  # only in a pass whose ranges the next pass corrects
                    node.version = node.constraint.text.strip()
                    node.omitted = "omitted for conflict"
        return found

    def mark_loser(self, node: _Node, winner: _Node) -> None:
        mine = node.constraint.preferred
        chosen = SCHEME.parse_version(winner.version)
        if mine is not None:
            node.version = node.constraint.text.strip()
            same = mine == chosen
        else:
            same = node.constraint.contains(chosen)
            node.version = winner.version if same else node.constraint.text
        node.omitted = "omitted for duplicate" if same else f"omitted for conflict with {chosen}"


def _widest(scopes: Sequence[str]) -> str:
    return min(scopes, key=SCOPE_ORDER.index)


def resolve_tree(
    root: Sequence[Dependency],
    pom_of: Callable[[str, str], PomInfo],
    *,
    managed: Mapping[str, ManagedEntry],
    versions_of: Callable[[str], Sequence[str]] | None = None,
) -> ResolvedTree:
    """Mediate the dependencies of a project whose direct dependencies are ``root``.

    ``pom_of(name, version)`` gives an artifact's dependencies (raising
    :class:`~.base.Unavailable` when its POM cannot be had); ``managed`` is the root's
    ``dependencyManagement`` keyed by ``groupId:artifactId`` (or the full conflict key for
    typed or classified artifacts); ``versions_of(name)`` lists the available versions, needed
    only when a version range occurs. Raises :class:`MavenVersionConflict` when hard ranges
    cannot be satisfied together."""
    resolver = _Resolver(pom_of, versions_of, managed)
    hard: dict[str, Ranges[MavenVersion]] = {}
    widest: dict[str, str] = {}
    optional: dict[str, bool] = {}
    for _ in range(_MAX_PASSES):
        found = resolver.walk(root, hard, widest, optional)
        new_hard: dict[str, Ranges[MavenVersion]] = {}
        for key, requirements in found.hard.items():
            allowed: Ranges[MavenVersion] = Ranges.full()
            for _path, constraint in requirements:
                allowed = allowed & constraint.ranges
            if allowed.is_empty() or (
                versions_of is not None
                and not any(allowed.contains(v) for v, _ in resolver.available(key_name(key)))
            ):
                raise MavenVersionConflict(
                    key, [(path, str(constraint)) for path, constraint in requirements]
                )
            new_hard[key] = allowed
        new_widest = {key: _widest(scopes) for key, scopes in found.scopes.items()}
        new_optional = {key: all(paths) for key, paths in found.optional.items()}
        if new_hard == hard and new_widest == widest and new_optional == optional:
            return ResolvedTree(tuple(node.freeze() for node in found.roots))
        hard, widest, optional = new_hard, new_widest, new_optional
    raise PackageError(f"Maven mediation did not settle after {_MAX_PASSES} passes")


def key_name(key: str) -> str:
    """``groupId:artifactId`` of a conflict key."""
    return ":".join(key.split(":")[:2])
