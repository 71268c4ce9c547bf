"""Cargo's resolution rules, as a :class:`~.base.Provider` for the PubGrub solver.

Cargo allows one version per *semver-compatible range* of a crate, not one per crate: ``rand
0.7.3`` and ``rand 0.8.5`` (or ``serde 1`` and ``serde 2``) may both be in one graph, two
``1.x`` versions may not. So each compatible range is its own PubGrub package, named
``crate@1``, ``crate@0.8`` or ``crate@0.0.3`` (Cargo's ``SemverCompatibility``: the major
version, else ``0.minor``, else ``0.0.patch``; pre-releases share their release's range). A
requirement whose matching versions all lie in one range (``^1.2``, ``~0.8.1``, ``=2.0.0``:
nearly all of them) depends on that range's package; one that spans several (``>=0.7, <0.9``)
depends on a virtual package ``crate@(>=0.7, <0.9){owner}`` (one per dependent version, and
one more per feature asked of it) whose versions are the matching ones and whose version ``v``
depends on ``v``'s range package at exactly ``v``, as Cargo picks one version for such a
dependency and then activates it in its range.

Features are PubGrub packages too, as ``name[extra]`` nodes are for pip: ``crate@1[derive]`` at
``v`` depends on ``crate@1`` at exactly ``v`` and on what the feature enables in ``v``'s
manifest: other features, ``dep:x`` (the optional dependency ``x``), ``x/f`` and ``x?/f``
(feature ``f`` of dependency ``x``, activating ``x`` when it is optional: Cargo's lock does so
even for the weak ``?/`` form, as measured against ``cargo generate-lockfile``). An optional
dependency not named by any ``dep:`` gets its implicit feature. Feature unification follows:
every dependent's features select feature packages of the one version in the range. A
feature a version does not have makes that version no candidate, as in Cargo's resolver;
``default`` is a candidate at every version (empty where not declared).

The other rules (the Cargo book, "Dependency Resolution"): candidates newest first, versions
pinned by the previous ``Cargo.lock`` first of all; yanked versions only when the previous lock
pins them; a pre-release only when the requirement names a pre-release of the same
major.minor.patch (the ``semver`` crate's rule, in
:mod:`tuskops.packages.ecosystems.cargo`); dev-dependencies of dependencies ignored, build and
every target's dependencies kept (Cargo locks all platforms); one package per ``links`` value
(a package ``links:NAME`` whose synthetic versions stand for the crates that claim it); with
``max_rust_version`` (resolver 3), versions whose ``rust-version`` fits come before the rest;
dependency cycles (through normal or build dependencies) refused as Cargo refuses them;
versions whose features Cargo's ``build_feature_map`` rejects (``dep:x`` of a dependency that
is not optional, ``x?/f`` of a required one, a feature naming nothing, an optional dependency
no feature enables) are no candidates, as Cargo calls such an index entry invalid.
A package's dependencies are handed to the solver in reverse, because PubGrub decides the
last-seen of equally constrained packages first and Cargo the first listed: where two
solutions exist, the one Cargo picks is picked (measured in the differential tests).

Hand-written because no library implements Cargo's resolver; the search itself is the shared
PubGrub solver (:mod:`.pubgrub`), which explains failures in sentences. Pure: the index comes
from a callable (prefetched by :mod:`tuskops.packages.lock_cargo`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages.ecosystems.cargo import SCHEME, CargoConstraint, CargoVersion
from tuskops.packages.resolve.base import ROOT, Requirement, Unavailable
from tuskops.packages.resolve.pubgrub import DEFAULT_MAX_STEPS, ResolutionImpossible, resolve
from tuskops.packages.versions import Ranges

__all__ = [
    "CargoProvider",
    "CargoResolution",
    "CrateDep",
    "CrateRelease",
    "CyclicDependency",
    "compat_range",
    "feature_error",
    "readable",
    "resolve_cargo",
    "rust_version_key",
]

Key = tuple[str, CargoVersion]

_LINKS = "links:"


@dataclass(frozen=True)
class CrateDep:
    """One dependency of a crate version (an index ``deps`` line, or a manifest entry)."""

    #: The real crate name (after ``package = ...``).
    name: str
    #: The version requirement as written.
    req: str
    #: The name the dependent uses (``name_in_toml``): the rename, else ``name``.
    key: str = ""
    features: tuple[str, ...] = ()
    default_features: bool = True
    optional: bool = False
    #: "normal", "build" or "dev".
    kind: str = "normal"
    target: str | None = None

    @property
    def toml_name(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class CrateRelease:
    """One published version of a crate, as the index lists it."""

    name: str
    version: CargoVersion
    deps: tuple[CrateDep, ...] = ()
    features: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    yanked: bool = False
    links: str | None = None
    checksum: str | None = None
    #: The ``rust-version`` it declares (``1.70``), for the MSRV-aware resolver.
    rust_version: str | None = None


def compat_range(version: CargoVersion) -> str:
    """Cargo's semver-compatibility range of ``version``: ``1``, ``0.8`` or ``0.0.3``."""
    if version.major:
        return str(version.major)
    if version.minor:
        return f"0.{version.minor}"
    return f"0.0.{version.patch}"


def _range_bounds(compat: str) -> Ranges[CargoVersion]:
    parts = [int(p) for p in compat.split(".")]
    if len(parts) == 1:
        low, high = (parts[0], 0, 0), (parts[0] + 1, 0, 0)
    elif len(parts) == 2:
        low, high = (0, parts[1], 0), (0, parts[1] + 1, 0)
    else:
        low, high = (0, 0, parts[2]), (0, 0, parts[2] + 1)
    return Ranges.between(CargoVersion(*low, ("0",)), CargoVersion(*high, ("0",)))


_NODE = re.compile(
    r"^(?P<crate>[^@\[]+)@(?P<range>\([^)]*\)\{[^}]*\}|[0-9.]+)(?:\[(?P<feature>.*)\])?$"
)


def _split(node: str) -> tuple[str, str, str | None]:
    """(crate, range or ``(req){owner}``, feature or None) of a package name."""
    match = _NODE.match(node)
    if match is None:
        raise ValueError(f"not a Cargo resolver package: {node!r}")
    return match.group("crate"), match.group("range"), match.group("feature")


def _feature_values(release: CrateRelease, feature: str) -> tuple[str, ...] | None:
    """What ``feature`` enables in ``release``; None when the version has no such feature.
    ``default`` always exists; an optional dependency no ``dep:`` names is a feature
    enabling itself; ``x/f`` requested directly is its own value."""
    declared = release.features.get(feature)
    if declared is not None:
        return declared
    if feature == "default":
        return ()
    if "/" in feature:
        return (feature,)
    named = {v[4:] for values in release.features.values() for v in values if v.startswith("dep:")}
    if feature not in named and any(
        d.optional and d.toml_name == feature and d.kind != "dev" for d in release.deps
    ):
        return (f"dep:{feature}",)
    return None


def feature_error(release: CrateRelease) -> str | None:
    """Why Cargo would reject ``release``'s features (its ``build_feature_map`` checks), or
    None. Cargo treats such an index entry as invalid and never selects the version."""
    by_key: dict[str, list[CrateDep]] = {}
    for dep in release.deps:
        by_key.setdefault(dep.toml_name, []).append(dep)
    named = {v[4:] for values in release.features.values() for v in values if v.startswith("dep:")}
    features = dict(release.features)
    for key, deps in by_key.items():
        if key not in named and key not in features and any(d.optional for d in deps):
            features[key] = (f"dep:{key}",)
    used: set[str] = set()
    for feature, values in features.items():
        for value in values:
            if value.startswith("dep:"):
                key = value[4:]
                if key not in by_key:
                    return (
                        f"feature `{feature}` includes `{value}`, but `{key}` is not a dependency"
                    )
                if not any(d.optional for d in by_key[key]):
                    return (
                        f"feature `{feature}` includes `{value}`, but `{key}` is not an "
                        "optional dependency"
                    )
                used.add(key)
                continue
            dep_name, slash, _ = value.partition("/")
            if slash:
                key = dep_name.removesuffix("?")
                weak = dep_name.endswith("?")
                if key not in by_key:
                    return (
                        f"feature `{feature}` includes `{value}`, but `{key}` is not a dependency"
                    )
                if weak and not any(d.optional for d in by_key[key]):
                    return (
                        f"feature `{feature}` includes `{value}` with a `?`, but `{key}` is not "
                        "an optional dependency"
                    )
                if not weak:
                    used.add(key)
                continue
            if value not in features:
                return (
                    f"feature `{feature}` includes `{value}` which is neither a dependency nor "
                    "another feature"
                )
    for key, deps in by_key.items():
        if key not in used and any(d.optional for d in deps):
            return f"optional dependency `{key}` is not included in any feature"
    return None


class CargoProvider:
    """The provider of Cargo's rules (see the module doc).

    ``index(name)`` gives a crate's releases (None: no such crate). ``locked`` maps a crate
    name to the versions the previous lock pins (tried first, allowed when yanked).
    ``prereleases``: None for Cargo's rule, True to accept pre-releases in any matching
    range, False never. ``max_rust_version`` (resolver 3's ``incompatible-rust-versions =
    "fallback"``): versions whose ``rust-version`` is above it come after the others.
    """

    def __init__(
        self,
        index: Callable[[str], Sequence[CrateRelease] | None],
        *,
        locked: Mapping[str, Collection[str]] | None = None,
        prereleases: bool | None = None,
        max_rust_version: str | None = None,
    ) -> None:
        self.index = index
        self.max_rust_version = rust_version_key(max_rust_version) if max_rust_version else None
        self.prereleases = prereleases
        self.locked: dict[str, set[CargoVersion]] = {}
        for name, versions in (locked or {}).items():
            for text in versions:
                try:
                    self.locked.setdefault(name, set()).add(SCHEME.parse_version(text))
                except VersionSyntaxError:
                    continue
        self._releases: dict[str, dict[CargoVersion, CrateRelease] | None] = {}
        self._constraints: dict[str, CargoConstraint] = {}
        self._matched: dict[tuple[str, str], list[CargoVersion]] = {}
        self._links: dict[str, list[Key]] = {}
        #: Yanked versions left out while answering, by crate (for explanations).
        self.yanked_skipped: dict[str, set[CargoVersion]] = {}
        #: Versions whose index entry Cargo rejects, with the reason (for explanations).
        self.invalid: dict[Key, str | None] = {}

    # --- the index ----------------------------------------------------------------------------

    def releases(self, name: str) -> dict[CargoVersion, CrateRelease] | None:
        if name not in self._releases:
            found = self.index(name)
            self._releases[name] = None if found is None else {r.version: r for r in found}
        return self._releases[name]

    def release(self, name: str, version: CargoVersion) -> CrateRelease:
        found = self.releases(name)
        if found is None or version not in found:
            raise Unavailable(name, "not in the registry index", version)
        return found[version]

    def rejected(self, release: CrateRelease) -> str | None:
        """Why Cargo rejects this index entry (:func:`feature_error`), or None."""
        key = (release.name, release.version)
        if key not in self.invalid:
            self.invalid[key] = feature_error(release)
        return self.invalid[key]

    def constraint(self, text: str) -> CargoConstraint:
        if text not in self._constraints:
            self._constraints[text] = SCHEME.parse_constraint(text)
        return self._constraints[text]

    # --- requirements -------------------------------------------------------------------------

    def _matching(self, dep: CrateDep) -> list[CargoVersion]:
        key = (dep.name, dep.req)
        if key not in self._matched:
            self._matched[key] = self._match(dep)
        return self._matched[key]

    def _match(self, dep: CrateDep) -> list[CargoVersion]:
        releases = self.releases(dep.name) or {}
        constraint = self.constraint(dep.req)
        if self.prereleases:
            return [v for v in releases if constraint.ranges.contains(v) or constraint.contains(v)]
        found = [v for v in releases if constraint.contains(v)]
        if self.prereleases is False:
            found = [v for v in found if not v.is_prerelease]
        return found

    def requirements(
        self, dep: CrateDep, extra_features: Iterable[str] = (), owner: str = ""
    ) -> list[Requirement[CargoVersion]]:
        """The PubGrub requirements of one dependency of ``owner`` (``"name version"``; ""
        for the root): its range package, its features and its default features. A
        requirement spanning several ranges gets a virtual package of its own per owner,
        ``crate@(req){owner}``, so that the dependency and every feature asked of it (by any
        of the owner's features) pick one version, as Cargo picks one per dependency."""
        try:
            constraint = self.constraint(dep.req)
        except VersionSyntaxError as exc:
            raise Unavailable(
                dep.name, f"invalid version requirement {dep.req!r}: {exc.reason}"
            ) from None
        features = tuple(dict.fromkeys((*dep.features, *extra_features)))
        matching = self._matching(dep)
        releases = self.releases(dep.name) or {}
        # Requiring ``default`` where no matching version declares it would change nothing
        # (and only lengthen explanations).
        if dep.default_features and any("default" in releases[v].features for v in matching):
            features = ("default", *[f for f in features if f != "default"])
        written = f"{dep.name} {dep.req}"
        ranges = {compat_range(v) for v in matching}
        known = set(self.releases(dep.name) or {})
        if len(ranges) == 1:
            (compat,) = ranges
            allowed = _range_bounds(compat) & (constraint.ranges | constraint.prerelease_ranges)
            for version in known - set(matching):
                if allowed.contains(version):
                    allowed = allowed - Ranges.singleton(version)
            base = f"{dep.name}@{compat}"
            out = [Requirement(base, allowed, written)]
            for feature in features:
                out.append(
                    Requirement(f"{base}[{feature}]", allowed, _feature_text(written, feature))
                )
            return out
        # Several ranges (or none): a virtual package that picks one version for the owner.
        node = f"{dep.name}@({dep.req}){{{owner}}}"
        allowed = constraint.ranges | constraint.prerelease_ranges
        for version in known - set(matching):
            if allowed.contains(version):
                allowed = allowed - Ranges.singleton(version)
        out = [Requirement(node, allowed, written)]
        for feature in features:
            out.append(Requirement(f"{node}[{feature}]", allowed, _feature_text(written, feature)))
        return out

    def root_requirements(
        self, deps: Sequence[CrateDep], features: Mapping[str, Sequence[str]] | None = None
    ) -> list[Requirement[CargoVersion]]:
        """The requirements of a workspace member resolved with every feature on (what
        ``cargo generate-lockfile`` does): all its dependencies, dev and optional ones
        included, with the dependency features its ``[features]`` table names."""
        wanted: dict[str, list[str]] = {}
        for values in (features or {}).values():
            for value in values:
                dep_name, slash, feature = value.partition("/")
                if slash:
                    wanted.setdefault(dep_name.removesuffix("?"), []).append(feature)
        out: list[Requirement[CargoVersion]] = []
        for dep in deps:
            out += self.requirements(dep, wanted.get(dep.toml_name, ()))
        return out

    # --- the Provider protocol ----------------------------------------------------------------

    def candidates(self, name: str, allowed: Ranges[CargoVersion]) -> Sequence[CargoVersion]:
        if name.startswith(_LINKS):
            owners = self._links.get(name[len(_LINKS) :], [])
            return [v for v in (_slot(i) for i in range(len(owners))) if allowed.contains(v)]
        crate, _, feature = _split(name)
        releases = self.releases(crate)
        if releases is None:
            raise Unavailable(crate, "no crate of this name in the registry index")
        wanted = [] if feature is None else [feature]
        locked = self.locked.get(crate, set())
        found: list[CargoVersion] = []
        for version, release in releases.items():
            if not allowed.contains(version):
                continue
            if release.yanked and version not in locked:
                self.yanked_skipped.setdefault(crate, set()).add(version)
                continue
            if any(_feature_values(release, f) is None for f in wanted):
                continue
            if self.rejected(release) is not None:
                continue
            found.append(version)
        limit = self.max_rust_version
        if limit is None:
            found.sort(key=lambda v: (v in locked, v), reverse=True)
        else:
            found.sort(
                key=lambda v: (v in locked, _fits(releases[v].rust_version, limit), v),
                reverse=True,
            )
        return found

    def dependencies(self, name: str, version: CargoVersion) -> Sequence[Requirement[CargoVersion]]:
        if name.startswith(_LINKS):
            return ()
        crate, compat, feature = _split(name)
        release = self.release(crate, version)
        exact: Ranges[CargoVersion] = Ranges.singleton(version)
        described = f"{crate} ={version}"
        if compat.startswith("("):  # virtual: the version in its own range (with a feature)
            base = f"{crate}@{compat_range(version)}"
            if feature is None:
                return [Requirement(base, exact, described)]
            return [
                Requirement(f"{crate}@{compat}", exact, described),
                Requirement(f"{base}[{feature}]", exact, _feature_text(described, feature)),
            ]
        if feature is not None:
            values = _feature_values(release, feature)
            if values is None:
                raise Unavailable(crate, f"has no feature {feature!r}", version)
            out = [Requirement(f"{crate}@{compat}", exact, described)]
            for value in values:
                out += self._feature_value(release, compat, value)
            return out
        out = []
        owner = f"{crate} {version}"
        for dep in release.deps:
            if dep.kind != "dev" and not dep.optional:
                out += self.requirements(dep, owner=owner)
        # Among equally constrained packages the solver decides the last-seen first, Cargo
        # the first listed: list them backwards.
        out.reverse()
        if release.links is not None:
            owners = self._links.setdefault(release.links, [])
            key = (crate, version)
            if key not in owners:
                owners.append(key)
            slot = _slot(owners.index(key))
            out.append(
                Requirement(
                    _LINKS + release.links,
                    Ranges.singleton(slot),
                    f'links = "{release.links}" (claimed by {crate} {version})',
                )
            )
        return out

    def _feature_value(
        self, release: CrateRelease, compat: str, value: str
    ) -> list[Requirement[CargoVersion]]:
        exact: Ranges[CargoVersion] = Ranges.singleton(release.version)
        base = f"{release.name}@{compat}"
        if value.startswith("dep:"):
            return self._activate(release, value[4:], ())
        dep_name, slash, dep_feature = value.partition("/")
        if slash:
            return self._activate(release, dep_name.removesuffix("?"), (dep_feature,))
        return [
            Requirement(
                f"{base}[{value}]",
                exact,
                _feature_text(f"{release.name} ={release.version}", value),
            )
        ]

    def _activate(
        self, release: CrateRelease, key: str, features: tuple[str, ...]
    ) -> list[Requirement[CargoVersion]]:
        out: list[Requirement[CargoVersion]] = []
        owner = f"{release.name} {release.version}"
        for dep in release.deps:
            if dep.kind != "dev" and dep.toml_name == key:
                out += self.requirements(dep, features, owner)
        return out

    def describe(self, name: str, version: CargoVersion) -> str:
        if name.startswith(_LINKS):
            owners = self._links.get(name[len(_LINKS) :], [])
            index = version.major
            if index < len(owners):
                crate, owner = owners[index]
                return f'{crate} {owner} (links = "{name[len(_LINKS) :]}")'
            return name
        crate, compat, feature = _split(name)
        if feature and not compat.startswith("("):
            return f"{crate} {version} (feature {feature})"
        return f"{crate} {version}"


def rust_version_key(text: str) -> tuple[int, int, int]:
    """A ``rust-version`` (``1.70``, ``1.70.1``, ``1.80.0-nightly``) as a comparable triple;
    a pre-release counts as its release, as Cargo's ``RustVersion`` does."""
    parts = text.strip().split("-", 1)[0].split(".")
    numbers = [int(p) if p.isdigit() else 0 for p in parts[:3]]
    while len(numbers) < 3:
        numbers.append(0)
    return (numbers[0], numbers[1], numbers[2])


def _fits(rust_version: str | None, limit: tuple[int, int, int]) -> bool:
    return rust_version is None or rust_version_key(rust_version) <= limit


def _slot(index: int) -> CargoVersion:
    return CargoVersion(index, 0, 0)


def _feature_text(written: str, feature: str) -> str:
    if feature == "default":
        return f"{written} (default features)"
    return f"{written} (feature {feature})"


# --- results ------------------------------------------------------------------------------------


@dataclass
class CargoResolution:
    """What resolution chose: each crate version with the features enabled on it and the
    crate versions its activated dependencies resolved to (dev ones left out)."""

    packages: dict[Key, CrateRelease]
    features: dict[Key, set[str]]
    edges: dict[Key, set[Key]]
    #: Node name -> version, as PubGrub chose them (for resolving a root's dependencies).
    solution: dict[str, CargoVersion]

    def target(
        self,
        provider: CargoProvider,
        dep: CrateDep,
        extra_features: Iterable[str] = (),
        owner: str = "",
    ) -> Key | None:
        """The crate version a dependency of ``owner`` resolved to; None when unresolved."""
        node = provider.requirements(dep, extra_features, owner)[0].name
        chosen = self.solution.get(node)
        if chosen is None:
            return None
        return (dep.name, chosen)


def _build(provider: CargoProvider, solution: dict[str, CargoVersion]) -> CargoResolution:
    packages: dict[Key, CrateRelease] = {}
    features: dict[Key, set[str]] = {}
    for node, version in solution.items():
        if node.startswith(_LINKS) or node == ROOT:
            continue
        crate, compat, feature = _split(node)
        if compat.startswith("("):
            continue
        key = (crate, version)
        packages.setdefault(key, provider.release(crate, version))
        if feature is not None:
            features.setdefault(key, set()).add(feature)
        else:
            features.setdefault(key, set())
    result = CargoResolution(packages, features, {}, solution)
    for key, release in packages.items():
        active = _active_deps(release, features[key])
        targets: set[Key] = set()
        for dep in active:
            found = result.target(provider, dep, owner=f"{key[0]} {key[1]}")
            if found is not None:
                targets.add(found)
        result.edges[key] = targets
    return result


def _active_deps(release: CrateRelease, features: set[str]) -> list[CrateDep]:
    """The dependencies of ``release`` that the enabled ``features`` activate (non-dev)."""
    activated: set[str] = set()
    for feature in features:
        for value in _feature_values(release, feature) or ():
            if value.startswith("dep:"):
                activated.add(value[4:])
            elif "/" in value:
                activated.add(value.partition("/")[0].removesuffix("?"))
    return [
        d for d in release.deps if d.kind != "dev" and (not d.optional or d.toml_name in activated)
    ]


_FEATURE_NODE = re.compile(
    r"(?P<crate>[A-Za-z0-9_-]+)@(?:\([^)]*\)\{[^}]*\}|[0-9.]+)\[(?P<feature>[^\]]*)\]"
)
_RANGE_NODE = re.compile(
    r"(?P<crate>[A-Za-z0-9_-]+)@(?:\([^)]*\)\{[^}]*\}|[0-9]+(?:\.[0-9]+)*)(?![0-9.])"
)
_LEAST = re.compile(r"\b(\d+\.\d+\.\d+)-0\b")


def readable(explanation: str) -> str:
    """An explanation with the resolver's package names written as Cargo users read them:
    ``serde@1[derive]`` as ``serde (feature derive)``, ``serde@1`` as ``serde``, and the
    least-version bounds ``<2.0.0-0`` as ``<2.0.0``."""

    def feature(match: re.Match[str]) -> str:
        wanted = match.group("feature")
        if wanted == "default":
            return f"{match.group('crate')} (default features)"
        noun = "features" if "," in wanted else "feature"
        return f"{match.group('crate')} ({noun} {wanted.replace(',', ', ')})"

    text = _FEATURE_NODE.sub(feature, explanation)
    text = _RANGE_NODE.sub(lambda m: m.group("crate"), text)
    return _LEAST.sub(lambda m: m.group(1), text)


def resolve_cargo(
    provider: CargoProvider,
    root_requirements: Sequence[Requirement[CargoVersion]],
    *,
    root_name: str = "the project",
    max_steps: int = DEFAULT_MAX_STEPS,
) -> CargoResolution:
    """Resolve with Cargo's rules; :class:`ResolutionImpossible` when no set of versions
    works, its explanation in plain sentences (range packages written as ``crate@1``) plus a
    note on the yanked versions that were left out."""
    try:
        solution = resolve(provider, root_requirements, root_name=root_name, max_steps=max_steps)
    except ResolutionImpossible as exc:
        explanation = readable(exc.explanation)
        notes = [
            f"{crate} {', '.join(str(v) for v in sorted(versions))}"
            for crate, versions in sorted(provider.yanked_skipped.items())
        ]
        if notes:
            explanation += (
                "\n\nYanked versions are not chosen unless Cargo.lock already pins them; "
                f"left out: {'; '.join(notes)}."
            )
        invalid = sorted(
            f"{n} {v}: {reason}" for (n, v), reason in provider.invalid.items() if reason
        )
        if invalid:
            explanation += "\n\nIndex entries Cargo rejects, left out: " + "; ".join(invalid) + "."
        raise ResolutionImpossible(exc.derivation, explanation) from None
    result = _build(provider, solution)
    _check_cycles(result)
    return result


class CyclicDependency(PackageError):
    """Crates that depend on themselves through normal or build dependencies, which Cargo
    refuses (``cyclic package dependency``)."""


def _check_cycles(result: CargoResolution) -> None:
    done: set[Key] = set()
    for start in sorted(result.edges):
        if start in done:
            continue
        path: list[Key] = []
        on_path: set[Key] = set()
        stack: list[tuple[Key, Iterator[Key]]] = [(start, iter(sorted(result.edges[start])))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
                continue
            if child in on_path:
                cycle = [*path[path.index(child) :], child]
                chain = " -> ".join(f"{n} {v}" for n, v in cycle)
                raise CyclicDependency(
                    f"cyclic package dependency: package `{child[0]} v{child[1]}` depends on "
                    f"itself. Cycle: {chain}"
                )
            if child in done:
                continue
            path.append(child)
            on_path.add(child)
            stack.append((child, iter(sorted(result.edges.get(child, ())))))
