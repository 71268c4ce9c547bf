"""The ``node_modules`` tree npm 10/11 builds, as a pure algorithm over a metadata source.

Behaviour follows npm's documentation ("folders": how ``node_modules`` is laid out and
deduplicated; ``npm install``'s algorithm section; ``package-lock.json``'s ``packages`` map and
its ``dev`` / ``optional`` / ``devOptional`` / ``peer`` flags; ``overrides`` in
``package.json``) and the observable behaviour of npm's tree builder; no code is taken from it.

The steps:

* Nodes are processed breadth-first: a queue ordered by depth, then install path. For each
  node, every dependency edge that is missing or not satisfied by what the name resolves to (the
  nearest ``node_modules/<name>`` walking up from the node) is fixed.
* The version chosen for an edge is npm's pick (npm-pick-manifest): the ``latest`` dist-tag if
  it satisfies the range, is not deprecated and its ``engines`` accept the running Node.js and
  npm (:class:`Engine`); else the satisfying versions ordered by (not deprecated and engine
  compatible, engine compatible, not deprecated, highest). node-semver's pre-release rules
  apply. With ``locked`` (the previous lock), the version the old tree resolved the edge to
  is kept while it satisfies the range.
* The root's edges are loaded in npm's order, peer, prod, optional, dev: a name in two maps
  gets the later one's type and range (react in ``peerDependencies`` and
  ``devDependencies`` is a dev edge).
* Placement walks up from the dependent (for a peer dependency, from the dependent's parent, so
  the peer ends up next to the dependent; for a package with required peers, only where
  those peers fit too, else deeper) and checks each ancestor ``node_modules``: *keep* (a
  package of that name there is the same version or satisfies the edge), *replace* (the one
  there is older and the new one satisfies every edge that resolves to it), *ok* (no package
  of that name there, and putting one there would not shadow the resolution of an edge of a
  package below it that the new version does not satisfy), else *conflict*, which stops the
  walk. The shallowest non-conflicting place wins: shared compatible packages are hoisted,
  conflicting ones are nested under the dependent.
* Peer dependencies (npm 7+) are installed automatically, right after the package that needs
  them is placed. Their versions are chosen as npm's peer sets are: as if they were
  dependencies of the package whose dependency brought the set in, so when that package
  depends on the name too, its range decides (the peer's own range when only that satisfies
  both). A peer that cannot be placed next to its dependent anywhere is an ``ERESOLVE`` error
  (``force=True`` records it in :attr:`NpmTree.warnings` instead; ``legacy_peer_deps=True``
  does not install peers at all). ``peerDependenciesMeta`` optional peers are never installed,
  only checked when present.
* An optional dependency that cannot be resolved is skipped and recorded; a package that was
  only reached through optional edges and whose own dependency fails stays in the tree (and
  the lock, as npm keeps it) but is marked :attr:`NpmNode.inert`, with the packages that need
  it and what only they reach: npm's "failed optional" set, not installed.
* ``overrides``: ``name`` or ``name@range`` (matched when the edge's range intersects it)
  forced to a spec everywhere except the root's own edges; ``"$name"`` refers to the root's
  spec for ``name``; a nested object applies its rules to the dependencies of a matching
  package (``"."`` overrides the package itself). Overriding a direct dependency with a
  different spec is npm's ``EOVERRIDE`` error.
* Finally packages no longer reachable are pruned and the flags are computed from all paths
  from the root: ``dev`` when every path uses a dev edge, ``optional`` when every path uses an
  optional or optional-peer edge, ``devOptional`` when every path uses one or the other but
  neither flag holds, ``peer`` when every path uses a peer edge.

Not modelled: ``os``/``cpu`` (they do not change the lock, only what is installed),
non-registry specs (git, file, aliases: :class:`Unavailable`), dist-tags other than
``latest``, peer sets placed deeper when only a peer of a peer conflicts (the first level
of peers is checked), ``--prefer-dedupe``, a package first reached through an optional edge
but also needed by a non-optional one (its failure still removes it; the non-optional edge
is then reported missing, ``valid=False``, rather than raised), and override scopes that
differ between two paths to one deduplicated package (the first path, breadth-first,
decides).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages.ecosystems.npm import SCHEME, NpmRange, SemVer, parse_range
from tuskops.packages.resolve.base import Unavailable

__all__ = [
    "EdgeType",
    "Engine",
    "NpmEdge",
    "NpmNode",
    "NpmPackageInfo",
    "NpmResolveError",
    "NpmRoot",
    "NpmTree",
    "NpmVersionInfo",
    "SkippedOptional",
    "build_tree",
    "pick_version",
]

EdgeType = Literal["prod", "dev", "optional", "peer", "peerOptional"]


@dataclass(frozen=True)
class NpmVersionInfo:
    """One published version: its dependency maps as written (name -> range text)."""

    version: str
    dependencies: Mapping[str, str] = field(default_factory=dict)
    optional_dependencies: Mapping[str, str] = field(default_factory=dict)
    peer_dependencies: Mapping[str, str] = field(default_factory=dict)
    #: Names marked ``{"optional": true}`` in ``peerDependenciesMeta``.
    optional_peers: frozenset[str] = frozenset()
    #: The version carries a deprecation message: picked only when nothing else fits.
    deprecated: bool = False
    #: ``engines`` as an object (``{"node": ">=18"}``); other forms are ignored, as npm does.
    engines: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Engine:
    """The Node.js and npm versions npm checks ``engines`` against when it picks a version
    (npm uses the ones it runs on); None: that engine is not checked."""

    node: str | None = None
    npm: str | None = None


@dataclass(frozen=True)
class NpmPackageInfo:
    """What the registry says about a package: its versions and its ``latest`` dist-tag.

    Either ``versions`` lists every version's info, or ``names`` lists the version strings
    (in the registry's order) and ``load`` builds one version's info when it is first needed:
    picking a version needs only the strings and the tag, so a packument with thousands of
    versions has only the few the tree builder considers read.
    """

    name: str
    versions: Sequence[NpmVersionInfo] = ()
    latest: str | None = None
    names: Sequence[str] | None = None
    load: Callable[[str], NpmVersionInfo] | None = field(default=None, compare=False, repr=False)
    _loaded: dict[str, NpmVersionInfo] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @functools.cached_property
    def version_names(self) -> tuple[str, ...]:
        """Every version string, in the registry's order."""
        if self.names is not None:
            return tuple(self.names)
        return tuple(item.version for item in self.versions)

    def get(self, version: str) -> NpmVersionInfo | None:
        """The info of ``version`` (read on first use); None when it is not listed."""
        found = self._loaded.get(version)
        if found is not None:
            return found
        if self.load is None or self.names is None:
            if not self._loaded:
                self._loaded.update((item.version, item) for item in self.versions)
            return self._loaded.get(version)
        if version not in self._listed:
            return None
        found = self.load(version)
        self._loaded[version] = found
        return found

    @functools.cached_property
    def _listed(self) -> frozenset[str]:
        return frozenset(self.version_names)

    def _info(self, version: str) -> NpmVersionInfo:
        found = self.get(version)
        assert found is not None, version
        return found

    @functools.cached_property
    def parsed(self) -> tuple[tuple[SemVer, str], ...]:
        """The versions that are valid semver, parsed (once per package), with their text."""
        out: list[tuple[SemVer, str]] = []
        for text in self.version_names:
            version = _parse_version(text)
            if version is not None:
                out.append((version, text))
        return tuple(out)


#: A plain ``major.minor.patch`` (most published versions), numbers short enough to be below
#: ``Number.MAX_SAFE_INTEGER``: built without the general parser.
_PLAIN_VERSION = re.compile(r"(0|[1-9][0-9]{0,14})\.(0|[1-9][0-9]{0,14})\.(0|[1-9][0-9]{0,14})")


@functools.lru_cache(maxsize=65536)
def _parse_version(text: str) -> SemVer | None:
    plain = _PLAIN_VERSION.fullmatch(text)
    if plain is not None:
        return SemVer(int(plain[1]), int(plain[2]), int(plain[3]))
    try:
        return SCHEME.parse_version(text)
    except VersionSyntaxError:
        return None


#: Package name -> its metadata; raises :class:`Unavailable` for an unknown package.
PackageSource = Callable[[str], NpmPackageInfo]


@dataclass(frozen=True)
class NpmRoot:
    """The project's ``package.json``: the dependency maps and ``overrides``."""

    name: str = ""
    version: str | None = None
    dependencies: Mapping[str, str] = field(default_factory=dict)
    dev_dependencies: Mapping[str, str] = field(default_factory=dict)
    optional_dependencies: Mapping[str, str] = field(default_factory=dict)
    peer_dependencies: Mapping[str, str] = field(default_factory=dict)
    optional_peers: frozenset[str] = frozenset()
    overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NpmEdge:
    """A dependency of a node: ``spec`` as written, ``effective`` after overrides, ``to`` the
    install path it resolves to (None when missing), ``valid`` when that satisfies ``effective``
    (a missing optional or optional-peer edge is valid)."""

    name: str
    spec: str
    effective: str
    type: EdgeType
    to: str | None
    valid: bool


@dataclass(frozen=True)
class NpmNode:
    """One installed package (the root project has path ``""``)."""

    path: str
    name: str
    version: str
    edges: Mapping[str, NpmEdge]
    dev: bool = False
    optional: bool = False
    dev_optional: bool = False
    peer: bool = False
    #: Kept in the lock but not installed: npm's "inert" failed-optional set.
    inert: bool = False


@dataclass(frozen=True)
class SkippedOptional:
    """An optional dependency (or a package reached only optionally) left out: ``source`` is
    the dependent's install path."""

    source: str
    name: str
    spec: str
    reason: str


@dataclass(frozen=True)
class NpmTree:
    nodes: Mapping[str, NpmNode]
    skipped: tuple[SkippedOptional, ...] = ()
    #: Peer conflicts let through by ``force=True``, in ``ERESOLVE`` wording.
    warnings: tuple[str, ...] = ()

    def to_lock_packages(self) -> dict[str, dict[str, Any]]:
        """The ``packages`` map of a lockfileVersion 3 ``package-lock.json`` (no ``resolved``
        or ``integrity``: those come from the registry, not the tree)."""
        packages: dict[str, dict[str, Any]] = {}
        for path in sorted(self.nodes, key=_lock_order):
            node = self.nodes[path]
            entry: dict[str, Any] = {}
            if path == "" and node.name:
                entry["name"] = node.name
            if node.version:
                entry["version"] = node.version
            groups: dict[str, dict[str, str]] = {}
            meta: dict[str, dict[str, bool]] = {}
            for edge in sorted(node.edges.values(), key=lambda e: e.name):
                key = _LOCK_GROUPS[edge.type]
                groups.setdefault(key, {})[edge.name] = edge.spec
                if edge.type == "peerOptional":
                    meta[edge.name] = {"optional": True}
            for key in _LOCK_GROUP_ORDER:
                if key in groups:
                    entry[key] = groups[key]
            if meta:
                entry["peerDependenciesMeta"] = meta
            for flag, on in (
                ("dev", node.dev),
                ("optional", node.optional),
                ("devOptional", node.dev_optional),
                ("peer", node.peer),
            ):
                if on:
                    entry[flag] = True
            packages[path] = entry
        return packages


_LOCK_GROUPS: Mapping[EdgeType, str] = {
    "prod": "dependencies",
    "dev": "devDependencies",
    "optional": "optionalDependencies",
    "peer": "peerDependencies",
    "peerOptional": "peerDependencies",
}
_LOCK_GROUP_ORDER = (
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
)


def _lock_order(path: str) -> tuple[str, ...]:
    return tuple(path.split("/node_modules/")) if path else ()


class NpmResolveError(PackageError):
    """npm's resolution failures: ``code`` is ``ERESOLVE`` (peer conflict), ``ETARGET`` (no
    version matches) or ``EOVERRIDE`` (an override conflicts with a direct dependency)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.detail = message
        super().__init__(f"{code}: {message}")


# --- versions ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _parse_range(spec: str) -> NpmRange | None:
    try:
        return SCHEME.parse_constraint(spec)
    except VersionSyntaxError:
        return None


def _satisfies(version: SemVer, spec: str) -> bool:
    if spec == "latest":
        return True
    allowed = _parse_range(spec)
    return allowed is not None and allowed.contains(version)


def _engine_ok(item: NpmVersionInfo, engine: Engine) -> bool:
    """npm-install-checks' ``checkEngine``: a declared ``node`` / ``npm`` range the running
    version does not satisfy (pre-releases included; an unreadable range never does)."""
    for key, running in (("node", engine.node), ("npm", engine.npm)):
        wanted = item.engines.get(key)
        if not running or not wanted:
            continue
        if not _engine_accepts(wanted, running):
            return False
    return True


@functools.lru_cache(maxsize=4096)
def _engine_accepts(wanted: str, running: str) -> bool:
    try:
        allowed = parse_range(wanted, loose=False, include_prerelease=True)
        version = SemVer.parse(running)
    except VersionSyntaxError:
        return False
    return allowed.contains(version)


def pick_version(
    info: NpmPackageInfo, spec: str, engine: Engine | None = None
) -> NpmVersionInfo | None:
    """npm's choice for ``spec`` (npm-pick-manifest): the ``latest`` dist-tag when it satisfies
    (or the spec is ``*``, empty or ``latest``), is not deprecated and its ``engines`` accept
    ``engine``; else, among the satisfying versions, the first by (not deprecated and engine
    compatible, engine compatible, not deprecated, highest). None when none satisfies.
    :class:`Unavailable` when the spec is not a registry range."""
    engine = engine or Engine()
    parsed = info.parsed
    latest = None
    if info.latest is not None:
        latest = next((p for p in parsed if p[1] == info.latest), None)
    text = spec.strip()
    if text == "latest":
        return info._info(latest[1]) if latest else None
    allowed = _parse_range(text)
    if allowed is None:
        raise Unavailable(info.name, f"unsupported dependency spec {spec!r}")
    exact = _exact_version(text)
    if exact is not None:
        return next((info._info(t) for v, t in parsed if v == exact), None)
    if latest is not None and (text in ("", "*") or allowed.contains(latest[0])):
        item = info._info(latest[1])
        if not item.deprecated and _engine_ok(item, engine):
            return item

    def rank(p: tuple[SemVer, str]) -> tuple[bool, bool, bool, SemVer]:
        item = info._info(p[1])
        ok = _engine_ok(item, engine)
        fresh = not item.deprecated
        return (ok and fresh, ok, fresh, p[0])

    best = sorted((p for p in parsed if allowed.contains(p[0])), key=lambda p: p[0], reverse=True)
    # The highest that is neither deprecated nor engine-incompatible ranks first: read the
    # versions from the highest down until one is, and rank them all only when none is.
    for p in best:
        item = info._info(p[1])
        if not item.deprecated and _engine_ok(item, engine):
            return item
    return info._info(max(best, key=rank)[1]) if best else None


def _exact_version(text: str) -> SemVer | None:
    """The version of a spec that npm-package-arg reads as a version, not a range."""
    try:
        return SemVer.parse(text, loose=True)
    except VersionSyntaxError:
        return None


# --- overrides -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    name: str
    key: NpmRange | None
    value: str | None
    children: _Overrides | None


@dataclass(frozen=True)
class _Overrides:
    rules: tuple[_Rule, ...]
    parent: _Overrides | None = None

    def chain(self) -> Iterator[_Overrides]:
        scope: _Overrides | None = self
        while scope is not None:
            yield scope
            scope = scope.parent


def _split_key(key: str) -> tuple[str, str | None]:
    at = key.find("@", 1)
    return (key, None) if at < 0 else (key[:at], key[at + 1 :])


def _parse_overrides(
    data: Mapping[str, Any], parent: _Overrides | None, root_specs: Mapping[str, str]
) -> _Overrides:
    scope = _Overrides((), parent)
    rules: list[_Rule] = []
    for key, value in data.items():
        if key == ".":
            continue
        name, key_range = _split_key(key)
        key_parsed = None if key_range in (None, "", "*") else _parse_range(key_range or "")
        if isinstance(value, Mapping):
            own = value.get(".")
            children = _parse_overrides(value, scope, root_specs)
        else:
            own, children = value, None
        if isinstance(own, str) and own.startswith("$"):
            ref = own[1:]
            if ref not in root_specs:
                raise NpmResolveError(
                    "EOVERRIDE", f"unable to resolve reference {own} in overrides"
                )
            own = root_specs[ref]
        rules.append(_Rule(name, key_parsed, own if isinstance(own, str) else None, children))
    object.__setattr__(scope, "rules", tuple(rules))
    return scope


def _edge_override(scope: _Overrides, name: str, spec: str) -> str | None:
    edge_range = _parse_range(spec)
    for level in scope.chain():
        for rule in level.rules:
            if rule.name != name or rule.value is None:
                continue
            if rule.key is None or (
                edge_range is not None and not rule.key.intersection(edge_range).is_empty()
            ):
                return rule.value
    return None


def _node_scope(scope: _Overrides, name: str, version: SemVer) -> _Overrides:
    for level in scope.chain():
        for rule in level.rules:
            matches = rule.key is None or rule.key.contains(version)
            if rule.name == name and rule.children is not None and matches:
                return rule.children
    return scope


# --- the tree being built ------------------------------------------------------------------


@dataclass(eq=False)
class _Edge:
    name: str
    spec: str
    effective: str
    type: EdgeType


@dataclass(eq=False)
class _Node:
    name: str
    version: SemVer | None
    info: NpmVersionInfo | None
    parent: _Node | None
    scope: _Overrides
    via_optional: bool = False
    children: dict[str, _Node] = field(default_factory=dict)
    edges: dict[str, _Edge] = field(default_factory=dict)
    removed: bool = False
    failed: bool = False

    @property
    def path(self) -> str:
        if self.parent is None:
            return ""
        base = self.parent.path
        return f"{base}/node_modules/{self.name}" if base else f"node_modules/{self.name}"

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1

    def resolve(self, name: str) -> _Node | None:
        node: _Node | None = self
        while node is not None:
            if name in node.children:
                return node.children[name]
            node = node.parent
        return None

    def ancestors(self) -> Iterator[_Node]:
        node: _Node | None = self
        while node is not None:
            yield node
            node = node.parent

    def subtree(self) -> Iterator[_Node]:
        yield self
        for child in list(self.children.values()):
            yield from child.subtree()

    def describe(self) -> str:
        return "the root project" if self.parent is None else f"{self.name}@{self.version}"


def _edge_type(kind: EdgeType, name: str, optional_peers: frozenset[str]) -> EdgeType:
    return "peerOptional" if kind == "peer" and name in optional_peers else kind


def _satisfied(edge: _Edge, target: _Node | None) -> bool:
    if target is None:
        return edge.type in ("optional", "peerOptional")
    assert target.version is not None
    return _satisfies(target.version, edge.effective)


class _Builder:
    def __init__(
        self,
        root: NpmRoot,
        source: PackageSource,
        *,
        legacy_peer_deps: bool,
        force: bool,
        engine: Engine,
        locked: Mapping[str, str],
    ) -> None:
        self.source = source
        self.engine = engine
        self.locked = locked
        self.legacy_peer_deps = legacy_peer_deps
        self.force = force
        self.infos: dict[str, NpmPackageInfo] = {}
        self.skipped: list[SkippedOptional] = []
        self.inert: set[_Node] = set()
        self.warnings: list[str] = []
        self.root_info = root
        specs: dict[str, str] = {}
        for group in (
            root.peer_dependencies,
            root.dependencies,
            root.optional_dependencies,
            root.dev_dependencies,
        ):
            specs.update(group)
        scope = _parse_overrides(root.overrides, None, specs)
        for rule in scope.rules:
            if rule.name in specs and rule.value is not None and rule.value != specs[rule.name]:
                raise NpmResolveError(
                    "EOVERRIDE",
                    f"Override for {rule.name}@{rule.value} conflicts with direct dependency "
                    f"{rule.name}@{specs[rule.name]}",
                )
        version = SCHEME.parse_version(root.version) if root.version else None
        self.root = _Node(root.name, version, None, None, scope)
        self.root_edge_types: dict[str, EdgeType] = {}
        # npm's order; a later group's edge replaces an earlier one of the same name.
        groups: tuple[tuple[Mapping[str, str], EdgeType], ...] = (
            (root.peer_dependencies, "peer"),
            (root.dependencies, "prod"),
            (root.optional_dependencies, "optional"),
            (root.dev_dependencies, "dev"),
        )
        for deps, kind in groups:
            for name, spec in deps.items():
                # The root's own edges are never overridden (see EOVERRIDE above).
                edge_type = _edge_type(kind, name, root.optional_peers)
                self.root.edges[name] = _Edge(name, spec, spec, edge_type)

    # metadata

    def info(self, name: str) -> NpmPackageInfo:
        if name not in self.infos:
            self.infos[name] = self.source(name)
        return self.infos[name]

    def make_edges(self, node: _Node) -> None:
        assert node.info is not None
        info = node.info
        groups: tuple[tuple[Mapping[str, str], EdgeType], ...] = (
            (info.peer_dependencies, "peer"),
            (info.dependencies, "prod"),
            (info.optional_dependencies, "optional"),
        )
        for deps, kind in groups:
            for name, spec in deps.items():
                effective = _edge_override(node.scope, name, spec) or spec
                edge_type = _edge_type(kind, name, info.optional_peers)
                node.edges[name] = _Edge(name, spec, effective, edge_type)

    # placement

    def affected(self, target: _Node, name: str) -> Iterator[tuple[_Node, _Edge]]:
        """Valid edges named ``name`` in ``target``'s subtree whose resolution passes through
        ``target``'s ``node_modules`` (to the package there or above it)."""
        through = target.resolve(name)
        if through is None:
            return
        for node in target.subtree():
            edge = node.edges.get(name)
            if edge is None or node.removed:
                continue
            shadowed = False
            for up in node.ancestors():
                if up is target:
                    break
                if name in up.children:
                    shadowed = True
                    break
            if not shadowed and _satisfied(edge, through):
                yield node, edge

    def can_place(
        self, target: _Node, name: str, version: SemVer, edge: _Edge, dependent: _Node
    ) -> str:
        current = target.children.get(name)
        fits_all = all(
            _satisfies(version, other.effective)
            for holder, other in self.affected(target, name)
            if other is not edge
        )
        # The target's own dependency on the name binds even before it is resolved.
        own = target.edges.get(name)
        if own is not None and own is not edge and not _satisfies(version, own.effective):
            fits_all = False
        if current is not None:
            assert current.version is not None
            if current.version == version:
                return "keep"
            if fits_all and (version > current.version or target is dependent):
                return "replace"
            if _satisfies(current.version, edge.effective):
                return "keep"
            return "conflict"
        return "ok" if fits_all else "conflict"

    def pick(self, name: str, spec: str, dependent: _Node | None = None) -> NpmVersionInfo:
        kept = self.kept(name, spec, dependent)
        if kept is not None:
            return kept
        chosen = pick_version(self.info(name), spec, self.engine)
        if chosen is None:
            raise NpmResolveError("ETARGET", f"No matching version found for {name}@{spec}.")
        return chosen

    def kept(self, name: str, spec: str, dependent: _Node | None) -> NpmVersionInfo | None:
        """The version the previous lock resolved ``name`` to from ``dependent``'s place (the
        nearest ``node_modules/<name>`` walking up, as Node.js finds it) when it still
        satisfies ``spec``."""
        if not self.locked or dependent is None:
            return None
        for up in dependent.ancestors():
            where = f"{up.path}/node_modules/{name}" if up.path else f"node_modules/{name}"
            version = self.locked.get(where)
            if version is None:
                continue
            try:
                if not _satisfies(SCHEME.parse_version(version), spec):
                    return None
            except VersionSyntaxError:
                return None
            return self.info(name).get(version)
        return None

    def pick_peer(self, edge: _Edge, requester: _Node | None) -> NpmVersionInfo:
        """The version of a peer: npm resolves a package's peers as if they were dependencies
        of the package that asked for it (``requester``), so when that one depends on the
        name too, its range decides; the peer's own range is used when only it can satisfy
        both."""
        own = requester.edges.get(edge.name) if requester is not None else None
        if own is None or own is edge:
            return self.pick(edge.name, edge.effective, requester)
        first = self.pick(edge.name, own.effective, requester)
        if _satisfies(SCHEME.parse_version(first.version), edge.effective):
            return first
        second = self.kept(edge.name, edge.effective, requester) or pick_version(
            self.info(edge.name), edge.effective, self.engine
        )
        if second is not None and _satisfies(SCHEME.parse_version(second.version), own.effective):
            return second
        if second is None:
            raise NpmResolveError(
                "ETARGET", f"No matching version found for {edge.name}@{edge.effective}."
            )
        return second

    def fix_edge(self, node: _Node, edge: _Edge, requester: _Node | None = None) -> None:
        """Make ``node``'s ``edge`` resolve; for a peer, ``requester`` is the package whose
        dependency brought in the peer set (see :meth:`pick_peer`)."""
        is_peer = edge.type in ("peer", "peerOptional")
        if is_peer and node.parent is not None and self.legacy_peer_deps:
            return
        current = node.resolve(edge.name)
        if current is not None and _satisfied(edge, current):
            return
        if edge.type == "peerOptional" and current is None:
            return
        try:
            if is_peer and node.parent is not None:
                chosen = self.pick_peer(edge, requester)
            else:
                chosen = self.pick(edge.name, edge.effective, node)
        except (Unavailable, NpmResolveError) as error:
            if edge.type == "optional" or node.via_optional:
                reason = error.detail if isinstance(error, NpmResolveError) else error.reason
                self.skipped.append(SkippedOptional(node.path, edge.name, edge.spec, reason))
                if edge.type != "optional":
                    node.failed = True
                return
            raise
        version = SCHEME.parse_version(chosen.version)
        peer = edge.type in ("peer", "peerOptional") and node.parent is not None
        start = node.parent if peer and node.parent is not None else node
        # The shallowest place that works; for a package with peers, npm also needs its peer
        # set to fit there (else it goes deeper, its peers next to it). When the peers fit
        # nowhere, it is placed anyway and the peer conflict is reported for the peer.
        plain: tuple[_Node, str] | None = None
        with_peers: tuple[_Node, str] | None = None
        peers_blocked = peer
        for target in start.ancestors():
            verdict = self.can_place(target, edge.name, version, edge, node)
            if verdict == "conflict":
                break
            plain = (target, verdict)
            if not peers_blocked:
                if verdict == "keep" or self.peers_fit(target, chosen, node):
                    with_peers = (target, verdict)
                else:
                    peers_blocked = True
        choice = with_peers or plain
        if choice is None:
            self.conflict(node, edge, start.resolve(edge.name), peer)
            return
        target, verdict = choice
        if verdict == "keep":
            return
        if verdict == "replace":
            old = target.children.pop(edge.name)
            for gone in old.subtree():
                gone.removed = True
        child = _Node(
            edge.name,
            version,
            chosen,
            target,
            _node_scope(node.scope, edge.name, version),
            via_optional=node.via_optional or edge.type == "optional",
        )
        target.children[edge.name] = child
        self.make_edges(child)
        self.queue.append(child)
        # npm 7+: peers are placed together with the package that needs them, chosen as if
        # they were dependencies of the package that asked for the first of the set.
        owner = requester if is_peer and requester is not None else node
        for peer_edge in sorted(child.edges.values(), key=lambda e: e.name):
            if peer_edge.type in ("peer", "peerOptional"):
                self.fix_edge(child, peer_edge, owner)

    def peers_fit(self, target: _Node, chosen: NpmVersionInfo, dependent: _Node) -> bool:
        """Whether the required peers of ``chosen``, placed under ``target``, would resolve:
        already satisfied from there, or placeable at ``target`` without a conflict."""
        if self.legacy_peer_deps:
            return True
        for name, spec in chosen.peer_dependencies.items():
            if name in chosen.optional_peers:
                continue
            found = target.resolve(name)
            if found is not None and found.version is not None and _satisfies(found.version, spec):
                continue
            if name in target.children:
                return False
            stub = _Edge(name, spec, spec, "peer")
            try:
                picked = self.pick_peer(stub, dependent)
            except (Unavailable, NpmResolveError):
                continue  # reported when the peer itself is resolved
            version = SCHEME.parse_version(picked.version)
            if not _satisfies(version, spec):
                return False
            if self.can_place(target, name, version, stub, dependent) == "conflict":
                return False
        return True

    def conflict(self, node: _Node, edge: _Edge, found: _Node | None, peer: bool) -> None:
        lines = ["unable to resolve dependency tree", ""]
        project = self.root_info
        if project.name:
            label = f"{project.name}@{project.version}" if project.version else project.name
            lines.append(f"While resolving: {label}")
        if found is not None:
            lines.append(f"Found: {found.name}@{found.version}")
            lines.append(found.path)
            for holder in found.parent.subtree() if found.parent else ():
                other = holder.edges.get(edge.name)
                if other and holder.resolve(edge.name) is found and holder is not node:
                    lines.append(
                        f'  {self.kind(other)}{edge.name}@"{other.spec}" from {holder.describe()}'
                    )
        else:
            # Not placed yet: what the nearest ancestor's own dependency on the name would get.
            start = node.parent if peer and node.parent is not None else node
            for holder in start.ancestors():
                other = holder.edges.get(edge.name)
                if other is None or other is edge:
                    continue
                picked = pick_version(self.info(edge.name), other.effective, self.engine)
                where = holder.path + "/" if holder.path else ""
                lines.append(f"Found: {edge.name}@{picked.version if picked else other.spec}")
                lines.append(f"{where}node_modules/{edge.name}")
                lines.append(
                    f'  {self.kind(other)}{edge.name}@"{other.spec}" from {holder.describe()}'
                )
                break
        lines.append("")
        lines.append("Could not resolve dependency:")
        lines.append(f'{self.kind(edge)}{edge.name}@"{edge.effective}" from {node.describe()}')
        if node.parent is not None:
            lines.append(node.path)
            lines.extend(self.explain(node, "  "))
        message = "\n".join(lines)
        if self.force:
            self.warnings.append(f"ERESOLVE overriding peer dependency\n{message}")
            return
        lines.append("")
        lines.append(
            "Fix the upstream dependency conflict, or retry this command with --force or "
            "--legacy-peer-deps to accept an incorrect (and potentially broken) dependency "
            "resolution."
        )
        raise NpmResolveError("ERESOLVE", "\n".join(lines))

    def explain(self, node: _Node, indent: str) -> list[str]:
        """Why ``node`` is in the tree, as npm explains it: the shallowest package depending
        on it, that package's place, and so on up to the root."""
        holders = sorted(
            (
                holder
                for holder in self.root.subtree()
                if not holder.removed
                and node.name in holder.edges
                and holder.resolve(node.name) is node
            ),
            key=lambda n: (n.depth, n.path),
        )
        if not holders:
            return []
        holder = holders[0]
        edge = holder.edges[node.name]
        lines = [f'{indent}{self.kind(edge)}{node.name}@"{edge.spec}" from {holder.describe()}']
        if holder.parent is not None and indent.count(" ") < 40:
            lines.append(f"{indent}{holder.path}")
            lines.extend(self.explain(holder, indent + "  "))
        return lines

    @staticmethod
    def kind(edge: _Edge) -> str:
        return {"peer": "peer ", "peerOptional": "peerOptional ", "dev": "dev "}.get(edge.type, "")

    # the whole run

    def build(self) -> NpmTree:
        self.queue: list[_Node] = [self.root]
        while self.queue:
            self.queue.sort(key=lambda n: (n.depth, n.path))
            node = self.queue.pop(0)
            if node.removed:
                continue
            for edge in sorted(node.edges.values(), key=lambda e: e.name):
                if node.removed or node.failed:
                    break
                self.fix_edge(node, edge)
        self.prune()
        return self.freeze()

    def prune(self) -> None:
        """Drop what nothing reaches any more, then mark npm's *inert* set: an optional
        package whose dependency could not be resolved, the packages that need it through
        non-optional edges, and what only they reach. npm keeps them in the lock (it still
        lists them, flagged optional) but does not install them."""
        reachable = self.reachable()
        for node in list(self.root.subtree()):
            if node.parent is not None and node not in reachable:
                node.parent.children.pop(node.name, None)
        inert = {n for n in self.root.subtree() if n.failed and n.parent is not None}
        changed = bool(inert)
        while changed:
            changed = False
            for node in self.root.subtree():
                if node.parent is None or node in inert:
                    continue
                for edge in node.edges.values():
                    if edge.type in ("optional", "peerOptional"):
                        continue
                    if node.resolve(edge.name) in inert:
                        inert.add(node)
                        self.skipped.append(
                            SkippedOptional(
                                node.path, edge.name, edge.spec, "its dependency was skipped"
                            )
                        )
                        changed = True
                        break
        live = self.reachable(avoid=inert)
        self.inert = {n for n in self.root.subtree() if n not in live}

    def reachable(self, avoid: set[_Node] | None = None) -> set[_Node]:
        seen: set[_Node] = {self.root}
        stack = [self.root]
        while stack:
            node = stack.pop()
            for edge in node.edges.values():
                to = node.resolve(edge.name)
                if to is not None and to not in seen and (avoid is None or to not in avoid):
                    seen.add(to)
                    stack.append(to)
        return seen

    def freeze(self) -> NpmTree:
        # States are (dev, optional, peer): sticky along a path from the root.
        states: dict[_Node, set[tuple[bool, bool, bool]]] = {}
        stack: list[tuple[_Node, tuple[bool, bool, bool]]] = [(self.root, (False, False, False))]
        while stack:
            node, state = stack.pop()
            if state in states.setdefault(node, set()):
                continue
            states[node].add(state)
            dev, optional, peer = state
            for edge in node.edges.values():
                to = node.resolve(edge.name)
                if to is None:
                    continue
                stack.append(
                    (
                        to,
                        (
                            dev or edge.type == "dev",
                            optional or edge.type in ("optional", "peerOptional"),
                            peer or edge.type in ("peer", "peerOptional"),
                        ),
                    )
                )
        nodes: dict[str, NpmNode] = {}
        for node in self.root.subtree():
            edges: dict[str, NpmEdge] = {}
            for edge in node.edges.values():
                to = node.resolve(edge.name)
                edges[edge.name] = NpmEdge(
                    edge.name,
                    edge.spec,
                    edge.effective,
                    edge.type,
                    to.path if to is not None else None,
                    _satisfied(edge, to),
                )
            seen = states.get(node, set())
            flags: dict[str, bool] = {}
            if node.parent is not None and seen:
                dev = all(s[0] for s in seen)
                optional = all(s[1] for s in seen)
                flags = {
                    "dev": dev,
                    "optional": optional,
                    "dev_optional": not dev and not optional and all(s[0] or s[1] for s in seen),
                    "peer": all(s[2] for s in seen),
                }
            version = str(node.version) if node.version is not None else ""
            if node.info is not None:
                version = node.info.version
            elif self.root_info.version:
                version = self.root_info.version
            inert = node in self.inert
            nodes[node.path] = NpmNode(node.path, node.name, version, edges, **flags, inert=inert)
        return NpmTree(nodes, tuple(self.skipped), tuple(self.warnings))


def build_tree(
    root: NpmRoot,
    source: PackageSource,
    *,
    legacy_peer_deps: bool = False,
    force: bool = False,
    engine: Engine | None = None,
    locked: Mapping[str, str] | None = None,
) -> NpmTree:
    """The ``node_modules`` tree npm would build for ``root`` from the registry ``source``.

    Raises :class:`NpmResolveError` (``ERESOLVE``, ``ETARGET``, ``EOVERRIDE``) and lets
    :class:`Unavailable` from ``source`` through for non-optional packages. ``engine``: the
    Node.js / npm versions whose ``engines`` compatibility the version pick prefers.
    ``locked``: install path -> version from the previous ``package-lock.json`` (without the
    packages being upgraded); those versions are kept where they still satisfy the ranges, as
    ``npm install`` keeps what its lockfile holds."""
    builder = _Builder(
        root,
        source,
        legacy_peer_deps=legacy_peer_deps,
        force=force,
        engine=engine or Engine(),
        locked=locked or {},
    )
    return builder.build()
