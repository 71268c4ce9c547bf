"""Locking a NuGet project: ``*.csproj`` -> ``packages.lock.json`` (version 1, or 2 with
Central Package Management), as ``dotnet restore`` with ``RestorePackagesWithLockFile`` would.

:func:`lock_nuget` reads the project file (``read_csproj``: one ``TargetFramework`` or several
``TargetFrameworks``), fetches the registrations of every package it needs from the configured
NuGet v3 sources (``PackageLookup``: the ``NuGet.Config`` sources, all asked, versions merged;
with ``<packageSourceMapping>`` an id is asked only of the sources its most specific pattern
names, NU1100 when none), concurrently, level by level, on a private event loop; then for each
target framework it takes each version's dependency group for that framework and runs NuGet's
rules
(:func:`tuskops.packages.resolve.nuget.resolve`). Errors (NU1605, NU1107, NU1101, NU1102, NU1108)
raise :class:`NuGetLockError` with NuGet's codes, messages and dependency paths; warnings (NU1603,
NU1608, NU1701) go to ``request.report``. Each package's ``contentHash`` is the base64 SHA-512
of its ``.nupkg`` as NuGet computes it: the catalog leaf's ``packageHash`` when the source has a
catalog (nuget.org), else the hash of the downloaded ``.nupkg``. Every version a source lists
counts, unlisted ones too: restore reads versions from the flat container, which knows nothing
of listing ("Listedness does not affect restore", NuGet/Home#14215).

Target frameworks (hand-written: no Python library models NuGet's framework compatibility)
    NuGet's "Target frameworks" page and ``NuGet.Frameworks``' ``DefaultFrameworkMappings`` and
    ``FrameworkReducer.GetNearest``, for the common frameworks only: ``netX.Y`` (.NET 5+, with an
    optional OS: ``net8.0-windows``), ``netcoreappX.Y``, ``netstandardX.Y`` and ``net4xx``
    (.NET Framework), in short or long form (``.NETStandard2.0``,
    ``.NETCoreApp,Version=v3.1``). A group is compatible with a project framework when it is
    the same framework at or below its version (an OS-specific group only for that OS), or a
    .NET Standard version that framework implements (.NET Core 2.x: 2.0, 3.0+ and .NET 5+:
    2.1, .NET Framework 4.6.1+: 2.0, 4.6: 1.3, 4.5.1: 1.2, 4.5: 1.1), or a group without a
    framework. The nearest is the same framework's highest version (an OS-specific one before
    a plain one of the same version), then the highest .NET Standard, then the group without a
    framework. For .NET Core and .NET 5+ projects with no compatible group, the .NET SDK's
    ``AssetTargetFallback`` (net461 ... net481, in that order) is tried, with warning NU1701.
    No compatible group at all: no dependencies (NuGet would also check the package's assets,
    NU1202, which the registration does not describe). Other frameworks (Xamarin, UWP,
    portable profiles) are not compatible with anything here.

The lock file's target names are ``NuGetFramework.ToString()``: the short name for .NET 5+
(``net8.0``), the long name otherwise (``.NETFramework,Version=v4.7.2``). Entries: ``Direct``
(``requested`` as ``VersionRange.ToNormalizedString()``: ``[1.0.0, )``) and ``Transitive``,
``resolved``, ``contentHash`` and ``dependencies`` (ranges as ``ToLegacyShortString()``: ``1.0.0``
for ``>= 1.0.0``, ``[1.0.0]`` for an exact version, else the normalised range), packages by id
ignoring case as ``PackagesLockFileBuilder`` orders them.

Relocking follows NuGet's lock file rules ("Locking dependencies"): an existing lock file that
still matches the project (same target frameworks, and per framework the same direct
references with the same requested ranges) keeps every locked version; one that does not is
re-evaluated from scratch, as restore does. ``--upgrade NAME`` frees only NAME;
``--upgrade-all`` is ``--force-evaluate``. ``ProjectReference`` items and
``CentralPackageTransitivePinningEnabled`` are refused with a clear error rather than written
into a lock file that would be wrong. ``Condition`` on a reference is understood in the forms
``'$(TargetFramework)' == 'X'`` and ``!=``; any other condition is an error.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, PackageError
from tuskops.packages.api import PackageLookup
from tuskops.packages.clients import (
    PackageNotFound,
    artifact_hashes,
    fetch_artifact,
    fetch_package,
)
from tuskops.packages.ecosystems.nuget import SCHEME, NugetConstraint, NuGetVersion
from tuskops.packages.ecosystems.nuget_files import (
    ECOSYSTEM,
    _package_versions,
    _read_central,
    read_csproj,
    read_packages_lock,
)
from tuskops.packages.ecosystems.nuget_files import _parse_xml as parse_xml
from tuskops.packages.locking import LockRequest
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest
from tuskops.packages.protocols import nuget_v3
from tuskops.packages.registry import Artifact, PackageInfo, Release
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.nuget import NuGetIssue, NuGetResolution, resolve

__all__ = [
    "Framework",
    "NuGetLockError",
    "compatible",
    "lock_nuget",
    "lock_nuget_project",
    "mapped_sources",
    "nearest_group",
    "parse_framework",
]

LOCKFILE_NAME = "packages.lock.json"

# --- target frameworks --------------------------------------------------------------------------

NETCORE = ".NETCoreApp"
NETFRAMEWORK = ".NETFramework"
NETSTANDARD = ".NETStandard"

#: The .NET SDK's default ``AssetTargetFallback`` for .NET Core 3.0+ and .NET 5+ projects.
ASSET_TARGET_FALLBACK = ("net461", "net462", "net47", "net471", "net472", "net48", "net481")


@dataclass(frozen=True, order=True)
class Framework:
    """A target framework: identifier, version (four numbers) and, for .NET 5+, an OS."""

    identifier: str
    version: tuple[int, int, int, int]
    platform: str = ""
    platform_version: tuple[int, ...] = ()

    @property
    def is_net5_era(self) -> bool:
        return self.identifier == NETCORE and self.version[0] >= 5

    @property
    def short_name(self) -> str:
        """``GetShortFolderName()``: ``net8.0``, ``net8.0-windows``, ``netstandard2.0``,
        ``net472``, ``netcoreapp3.1``."""
        major, minor, build, _ = self.version
        if self.identifier == NETFRAMEWORK:
            return f"net{major}{minor}{build if build else ''}"
        prefix = {NETSTANDARD: "netstandard", NETCORE: "net" if self.is_net5_era else "netcoreapp"}
        name = f"{prefix[self.identifier]}{major}.{minor}"
        if self.platform:
            name += f"-{self.platform}" + ".".join(str(p) for p in self.platform_version)
        return name

    @property
    def lock_name(self) -> str:
        """``NuGetFramework.ToString()``, the key of this framework in ``packages.lock.json``."""
        if self.is_net5_era:
            return self.short_name
        major, minor, build, revision = self.version
        parts = (
            [major, minor]
            + ([build] if build or revision else [])
            + ([revision] if revision else [])
        )
        return f"{self.identifier},Version=v{'.'.join(str(p) for p in parts)}"

    def __str__(self) -> str:
        return self.short_name


_SHORT_NET5 = re.compile(r"net(\d+)\.(\d+)(?:-([a-z]+)([\d.]*))?")
_SHORT_DOTTED = re.compile(r"(netcoreapp|netstandard)(\d+)\.(\d+)")
_SHORT_FRAMEWORK = re.compile(r"net(\d)(\d)(\d)?")
_LONG = re.compile(r"\.?(netcoreapp|netstandard|netframework)(?:,version=v|)(\d+(?:\.\d+){0,3})")
_LONG_IDS = {"netcoreapp": NETCORE, "netstandard": NETSTANDARD, "netframework": NETFRAMEWORK}


def _four(numbers: Iterable[int]) -> tuple[int, int, int, int]:
    parts = [*numbers, 0, 0, 0, 0]
    return parts[0], parts[1], parts[2], parts[3]


def parse_framework(text: str) -> Framework | None:
    """A framework in short (``net8.0``, ``net472``) or long (``.NETStandard2.0``,
    ``.NETCoreApp,Version=v3.1``) form; None for one this module does not model."""
    name = text.strip().lower()
    if m := _SHORT_NET5.fullmatch(name):
        major, minor = int(m.group(1)), int(m.group(2))
        if major >= 5:
            platform_version = tuple(int(p) for p in (m.group(4) or "").split(".") if p)
            return Framework(NETCORE, _four((major, minor)), m.group(3) or "", platform_version)
        return None
    if m := _SHORT_DOTTED.fullmatch(name):
        identifier = NETCORE if m.group(1) == "netcoreapp" else NETSTANDARD
        return Framework(identifier, _four((int(m.group(2)), int(m.group(3)))))
    if m := _SHORT_FRAMEWORK.fullmatch(name):
        return Framework(NETFRAMEWORK, _four(int(g) for g in m.groups() if g is not None))
    if m := _LONG.fullmatch(name):
        version = _four(int(p) for p in m.group(2).split("."))
        return Framework(_LONG_IDS[m.group(1)], version)
    return None


def _standard_supported(framework: Framework) -> tuple[int, int, int, int] | None:
    """The highest .NET Standard version ``framework`` implements (DefaultFrameworkMappings)."""
    major, minor, build, _ = framework.version
    if framework.identifier == NETSTANDARD:
        return framework.version
    if framework.identifier == NETCORE:
        if major >= 3:
            return (2, 1, 0, 0)
        if major == 2:
            return (2, 0, 0, 0)
        return (1, 6, 0, 0)
    if framework.identifier == NETFRAMEWORK:
        table = (((4, 6, 1), (2, 0)), ((4, 6, 0), (1, 3)), ((4, 5, 1), (1, 2)), ((4, 5, 0), (1, 1)))
        for at_least, standard in table:
            if (major, minor, build) >= at_least:
                return _four(standard)
    return None


def compatible(project: Framework, group: Framework | None) -> bool:
    """Whether a dependency group for ``group`` (None: no framework) applies to ``project``."""
    if group is None:
        return True
    if group.identifier == project.identifier:
        if group.version > project.version:
            return False
        if group.platform:
            return group.platform == project.platform and (
                group.platform_version <= project.platform_version or not group.platform_version
            )
        return True
    if group.identifier == NETSTANDARD:
        supported = _standard_supported(project)
        return supported is not None and group.version <= supported
    return False


def _rank(project: Framework, group: Framework | None) -> tuple[int, tuple[int, ...], int]:
    if group is None:
        return (0, (), 0)
    family = 2 if group.identifier == project.identifier else 1
    return (family, group.version, 1 if group.platform else 0)


def nearest_group(
    project: Framework, groups: Sequence[str | None]
) -> tuple[str | None, Framework | None] | None:
    """The dependency group NuGet picks for ``project`` among ``groups`` (their
    ``targetFramework`` strings, None for a group without one): ``(group, fallback)`` where
    ``fallback`` is the ``AssetTargetFallback`` framework used (NU1701), or None when no group
    applies."""

    def pick(target: Framework) -> str | bool | None:
        best: tuple[tuple[int, tuple[int, ...], int], str | None] | None = None
        for text in groups:
            parsed = parse_framework(text) if text is not None else None
            if text is not None and parsed is None:
                continue
            if not compatible(target, parsed):
                continue
            rank = _rank(target, parsed)
            if best is None or rank > best[0]:
                best = (rank, text)
        return False if best is None else best[1]

    found = pick(project)
    if found is not False:
        return (found if isinstance(found, str) else None), None
    if project.identifier == NETCORE and project.version >= (3, 0, 0, 0):
        for name in ASSET_TARGET_FALLBACK:
            fallback = parse_framework(name)
            assert fallback is not None
            found = pick(fallback)
            if found is not False:
                return (found if isinstance(found, str) else None), fallback
    return None


# --- errors ---------------------------------------------------------------------------------------


class NuGetLockError(PackageError):
    """Restore errors of one target framework, with NuGet's codes, messages and paths."""

    def __init__(self, project: Path, framework: str, issues: Sequence[NuGetIssue]) -> None:
        self.project = project
        self.framework = framework
        self.issues = tuple(issues)
        lines = [f"cannot lock {project} for {framework}:"]
        lines += [f"error {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.issues)


# --- version range text as NuGet writes it -------------------------------------------------------


def _float_text(constraint: NugetConstraint) -> str:
    text = constraint.text.strip()
    if text[:1] in "[(":
        text = text[1:].split(",", 1)[0].strip()
    return text


def normalized_range(constraint: NugetConstraint) -> str:
    """``VersionRange.ToNormalizedString()``: ``[1.0.0, )``, ``(, 2.0.0]``, ``[1.*, )``."""
    intervals = constraint.ranges.intervals
    lo = intervals[0].lower if intervals else None
    hi = intervals[-1].upper if intervals else None
    out = "[" if lo is not None and lo.inclusive else "("
    if lo is not None:
        out += _float_text(constraint) if constraint.is_floating else lo.version.normalized
    out += ", "
    if hi is not None:
        out += hi.version.normalized
    return out + ("]" if hi is not None and hi.inclusive else ")")


def legacy_short_range(constraint: NugetConstraint) -> str:
    """``VersionRange.ToLegacyShortString()``, as lock files write dependency ranges."""
    intervals = constraint.ranges.intervals
    lo = intervals[0].lower if intervals else None
    hi = intervals[-1].upper if intervals else None
    if lo is not None and lo.inclusive and hi is None:
        return _float_text(constraint) if constraint.is_floating else lo.version.normalized
    if (
        lo is not None
        and hi is not None
        and lo.inclusive
        and hi.inclusive
        and lo.version == hi.version
    ):
        return f"[{lo.version.normalized}]"
    return normalized_range(constraint)


def _dep_range(dep: Dependency) -> str:
    if not dep.constraint.strip():
        return "(, )"  # VersionRange.All, a dependency without a version
    return legacy_short_range(SCHEME.parse_constraint(dep.constraint))


# --- the project --------------------------------------------------------------------------------

_TFM_CONDITION = re.compile(
    r"""\s*'\$\(TargetFramework\)'\s*(==|!=)\s*'([^'$]*)'\s*""", re.IGNORECASE
)


def _applies(dep: Dependency, framework: str, manifest: Manifest) -> bool:
    if not dep.markers:
        return True
    result = True
    for part in re.split(r"\s+and\s+", dep.markers, flags=re.IGNORECASE):
        m = _TFM_CONDITION.fullmatch(part.strip().removeprefix("(").removesuffix(")"))
        if m is None:
            raise ManifestError(
                manifest.path,
                f"{dep.name}: Condition {dep.markers!r} is not understood (only "
                "'$(TargetFramework)' == 'X' and != are)",
            )
        same = m.group(2).strip().lower() == framework.lower()
        result = result and (same if m.group(1) == "==" else not same)
    return result


@dataclass(frozen=True)
class _Target:
    name: str  # as written in the project
    framework: Framework
    roots: tuple[Dependency, ...]


def _targets(manifest: Manifest) -> list[_Target]:
    names = manifest.extra.get("target_frameworks") or ()
    if not names:
        raise ManifestError(manifest.path, "no TargetFramework or TargetFrameworks property")
    if manifest.extra.get("project_references"):
        refs = ", ".join(manifest.extra["project_references"])
        raise ManifestError(manifest.path, f"ProjectReference items ({refs}) cannot be locked yet")
    if manifest.extra.get("transitive_pinning"):
        raise ManifestError(
            manifest.path,
            "CentralPackageTransitivePinningEnabled (central versions applied to transitive "
            "packages) cannot be locked yet",
        )
    targets: list[_Target] = []
    for name in names:
        framework = parse_framework(name)
        if framework is None:
            raise ManifestError(
                manifest.path,
                f"target framework {name!r} is not supported (net5.0+, netcoreappX.Y, "
                "netstandardX.Y and net4xx are)",
            )
        roots = []
        for dep in manifest.dependencies:
            if not _applies(dep, name, manifest):
                continue
            if dep.extra.get("unresolved"):
                raise ManifestError(
                    manifest.path, f"{dep.name}: version {dep.constraint!r} has an unknown property"
                )
            if not dep.constraint:
                raise ManifestError(
                    manifest.path, f"{dep.name}: PackageReference without a Version"
                )
            roots.append(dep)
        targets.append(_Target(name, framework, tuple(roots)))
    return targets


# --- fetching -------------------------------------------------------------------------------------


def mapped_sources(package_id: str, mapping: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The source keys that may serve ``package_id`` under ``<packageSourceMapping>``.

    NuGet's "Package Source Mapping": patterns are ids or id prefixes ending in ``*``; the most
    specific pattern that matches wins (an exact id over any prefix, a longer prefix over a
    shorter one), and every source listing that pattern is used. No match: no source."""
    lid = package_id.lower()
    best: tuple[int, str] | None = None
    for patterns in mapping.values():
        for pattern in patterns:
            p = pattern.strip().lower()
            if p.endswith("*"):
                if not lid.startswith(p[:-1]):
                    continue
                score = len(p) - 1
            elif p == lid:
                score = len(p) + 1_000_000
            else:
                continue
            if best is None or score > best[0]:
                best = (score, p)
    if best is None:
        return ()
    winner = best[1]
    return tuple(
        key for key, patterns in mapping.items() if winner in {x.strip().lower() for x in patterns}
    )


class _Feed:
    """Registrations from ``lookup`` on a private loop, fetched concurrently a level at a time.

    With ``<packageSourceMapping>`` (and no ``--registry`` override), each id is asked only of
    the sources mapped to it; ``unmapped`` holds the ids no source may serve (NU1100)."""

    def __init__(self, lookup: PackageLookup, loop: asyncio.AbstractEventLoop) -> None:
        self.lookup = lookup
        self.loop = loop
        self.packages: dict[str, PackageInfo] = {}
        self.missing: set[str] = set()
        self.unmapped: dict[str, str] = {}
        self._versions: dict[str, dict[NuGetVersion, Release]] = {}

    def _mapping(self) -> Mapping[str, Sequence[str]] | None:
        if self.lookup.registry is not None:
            return None
        mapping = self.lookup.settings(ECOSYSTEM).extra.get("packageSourceMapping")
        return mapping if isinstance(mapping, Mapping) and mapping else None

    async def _mapped(self, package_id: str, mapping: Mapping[str, Sequence[str]]) -> PackageInfo:
        keys = {k.lower() for k in mapped_sources(package_id, mapping)}
        registries = self.lookup.settings(ECOSYSTEM).registries
        sources = [r for r in registries if r.name.lower() in keys]
        if not sources:
            self.unmapped[package_id.lower()] = ", ".join(r.name for r in registries)
            raise PackageNotFound(ECOSYSTEM, package_id, "the mapped package sources")
        client = self.lookup.client(ECOSYSTEM)
        results = await asyncio.gather(
            *(fetch_package(ECOSYSTEM, package_id, client=client, registry=r.url) for r in sources),
            return_exceptions=True,
        )
        found: dict[str, Release] = {}
        name = package_id
        for source, result in zip(sources, results, strict=True):
            if isinstance(result, PackageNotFound):
                continue
            if isinstance(result, BaseException):
                raise result
            name = result.name or name
            for release in result.releases:
                marks = {"tuskops_registry": source.name, "tuskops_registry_url": source.url}
                found.setdefault(
                    release.version, replace(release, extra={**release.extra, **marks})
                )
        if not found:
            raise PackageNotFound(ECOSYSTEM, package_id, " or ".join(r.url for r in sources))
        return PackageInfo(ecosystem=ECOSYSTEM, name=name, releases=tuple(found.values()))

    async def _fetch(self, package_id: str) -> None:
        key = package_id.lower()
        mapping = self._mapping()
        try:
            if mapping is None:
                package, _ = await self.lookup.package(ECOSYSTEM, package_id)
            else:
                package = await self._mapped(package_id, mapping)
        except PackageNotFound:
            self.missing.add(key)
            return
        self.packages[key] = package
        releases: dict[NuGetVersion, Release] = {}
        for release in package.releases:
            releases.setdefault(SCHEME.parse_version(release.version), release)
        self._versions[key] = releases

    def fetch(self, ids: Iterable[str]) -> None:
        wanted = sorted({i for i in ids if not self.known(i)}, key=str.lower)
        unique = list({i.lower(): i for i in wanted}.values())
        if unique:

            async def fetch_all() -> None:
                await asyncio.gather(*(self._fetch(i) for i in unique))

            self.loop.run_until_complete(fetch_all())

    def known(self, package_id: str) -> bool:
        key = package_id.lower()
        return key in self.packages or key in self.missing

    def releases(self, package_id: str) -> dict[NuGetVersion, Release]:
        if not self.known(package_id):
            self.fetch([package_id])
        key = package_id.lower()
        if key in self.missing:
            raise Unavailable(package_id, f"no package {package_id} on the NuGet sources")
        return self._versions[key]

    def release(self, package_id: str, version: NuGetVersion) -> Release:
        return self.releases(package_id)[version]


def _dependencies(
    release: Release, framework: Framework
) -> tuple[list[Dependency], Framework | None]:
    groups = list(release.extra.get("target_frameworks") or [])
    if not groups:
        return [], None
    chosen = nearest_group(framework, groups)
    if chosen is None:
        return [], None
    group, fallback = chosen
    deps = [d for d in release.dependencies or () if d.markers == group]
    return deps, fallback


def _prefetch(feed: _Feed, targets: Sequence[_Target]) -> None:
    """Fetch the registrations of the roots and, level by level, of the dependencies of the
    versions each range would pick on its own (what resolve() asks for, mostly)."""
    level = {(d.name, d.constraint) for t in targets for d in t.roots}
    seen: set[tuple[str, str]] = set()
    while level:
        feed.fetch(name for name, _ in level)
        following: set[tuple[str, str]] = set()
        for name, text in level:
            seen.add((name.lower(), text))
            try:
                releases = feed.releases(name)
            except Unavailable:
                continue
            best = SCHEME.parse_constraint(text or "0.0.0").best_match(releases)
            if best is None:
                continue
            for target in targets:
                for dep in _dependencies(releases[best], target.framework)[0]:
                    if (dep.name.lower(), dep.constraint) not in seen:
                        following.add((dep.name, dep.constraint))
        level = following


# --- content hashes -------------------------------------------------------------------------------


async def _nupkg_artifact(lookup: PackageLookup, package_id: str, release: Release) -> Artifact:
    if release.artifacts:
        return release.artifacts[0]
    registry = str(release.extra.get("tuskops_registry_url", ""))
    client = lookup.client(ECOSYSTEM)
    resp = await client.get(registry, accept=nuget_v3.JSON_ACCEPT)
    index = nuget_v3.parse_service_index(resp.content, resp.url)
    base = nuget_v3.find_resource(index, nuget_v3.PACKAGE_BASE_ADDRESS)
    if base is None:
        raise PackageError(
            f"{package_id} {release.version}: the registration gives no packageContent and "
            f"{registry} offers no PackageBaseAddress resource to download the .nupkg from"
        )
    url = nuget_v3.nupkg_url(base, package_id, release.version)
    return Artifact(url=url, filename=url.rpartition("/")[2])


async def _content_hash(lookup: PackageLookup, package_id: str, release: Release) -> str:
    """Base64 SHA-512 of the .nupkg: the catalog's ``packageHash`` when there is one, else
    the hash of the file downloaded (what NuGet itself writes to ``.nupkg.metadata``)."""
    client = lookup.client(ECOSYSTEM)
    artifact = await _nupkg_artifact(lookup, package_id, release)
    if isinstance(release.extra.get("catalog_url"), str):
        hashes = await artifact_hashes(ECOSYSTEM, artifact, release, client=client)
        if "sha512" in hashes:
            return hashes["sha512"]
    resp, _ = await fetch_artifact(
        ECOSYSTEM, artifact, release, client=client, allow_unverified=True
    )
    return base64.b64encode(hashlib.sha512(resp.content).digest()).decode()


# --- relocking ------------------------------------------------------------------------------------


def _previous(
    lockfile: Path, targets: Sequence[_Target], request: LockRequest
) -> tuple[dict[str, dict[str, NuGetVersion]], str | None]:
    """Per lock target name: locked versions (lower-cased id) to keep, and why the lock file
    was set aside (None when it was kept or there is none)."""
    if request.upgrade_all or not lockfile.is_file():
        return {}, None
    old = read_packages_lock(lockfile)
    by_target: dict[str, list[LockedPackage]] = {str(t): [] for t in old.extra.get("targets", ())}
    for package in old.packages:
        by_target.setdefault(str(package.extra.get("target_framework")), []).append(package)
    wanted = {t.framework.lock_name: t for t in targets}
    if set(by_target) != set(wanted):
        return {}, "its target frameworks differ from the project's"
    pins: dict[str, dict[str, NuGetVersion]] = {}
    for name, target in wanted.items():
        locked = by_target[name]
        direct = {
            p.name.lower(): str(p.extra.get("requested", ""))
            for p in locked
            if p.extra.get("type") == "Direct"
        }
        requested = {
            d.name.lower(): normalized_range(SCHEME.parse_constraint(d.constraint))
            for d in target.roots
        }
        if direct != requested:
            changed = sorted(set(direct.items()) ^ set(requested.items()))
            names = ", ".join(dict.fromkeys(n for n, _ in changed))
            return {}, f"the project's references changed for {name} ({names})"
        pins[name] = {
            p.name.lower(): SCHEME.parse_version(p.version)
            for p in locked
            if not request.frees(p.name, str.lower)
        }
    return pins, None


# --- locking ---------------------------------------------------------------------------------


def _find_project(project: Path) -> Path:
    if project.is_file():
        return project
    found = sorted(project.glob("*.csproj"))
    if len(found) == 1:
        return found[0]
    if not found:
        raise ManifestError(str(project), "no *.csproj to lock")
    names = ", ".join(p.name for p in found)
    raise ManifestError(str(project), f"several project files here ({names}); name one")


def _resolve_target(
    feed: _Feed,
    target: _Target,
    project_name: str,
    pins: Mapping[str, NuGetVersion],
    fallbacks: dict[tuple[str, NuGetVersion], Framework],
) -> NuGetResolution:
    def versions_of(package_id: str) -> list[NuGetVersion]:
        available = list(feed.releases(package_id))
        pinned = pins.get(package_id.lower())
        if pinned is not None and pinned in available:
            return [pinned]
        return available

    def dependencies_of(package_id: str, version: NuGetVersion) -> list[Dependency]:
        deps, fallback = _dependencies(feed.release(package_id, version), target.framework)
        if fallback is not None:
            fallbacks[(package_id, version)] = fallback
        return deps

    return resolve(target.roots, versions_of, dependencies_of, project=project_name)


def _unmapped(feed: _Feed, target: _Target, issue: NuGetIssue) -> NuGetIssue:
    """NU1101 for an id no mapped source may serve is NuGet's NU1100."""
    sources = feed.unmapped.get(issue.package.lower())
    if issue.code != "NU1101" or sources is None:
        return issue
    wanted = issue.paths[0].rsplit(" -> ", 1)[-1] if issue.paths else issue.package
    return NuGetIssue(
        "NU1100",
        "error",
        issue.package,
        f"Unable to resolve '{wanted}' for '{target.name}'. PackageSourceMapping is enabled, "
        f"the following source(s) were not considered: {sources}.",
        issue.paths,
    )


def _central_versions(csproj: Path, manifest: Manifest) -> dict[str, str]:
    """Lower-cased id -> range of every ``PackageVersion`` item (Central Package Management),
    for the lock's ``CentralTransitive`` entries."""
    if not manifest.extra.get("central_package_management"):
        return {}
    found = {key: value[0] for key, value in _read_central(csproj).versions.items()}
    found.update(
        (key, value[0]) for key, value in _package_versions(parse_xml(csproj), str(csproj)).items()
    )
    return found


def lock_nuget(
    project: Path,
    *,
    lookup: PackageLookup,
    output: Path | None = None,
    request: LockRequest | None = None,
) -> Lockfile:
    """Resolve ``project`` (a ``.csproj``, or a directory with one) into the Lockfile of
    ``output`` (default ``packages.lock.json`` next to the project); see the module doc.

    The lookup's clients are closed when done (they belong to this function's event loop).
    """
    request = request or LockRequest(lookup=lookup, output=output)
    csproj = _find_project(project)
    manifest = read_csproj(csproj)
    targets = _targets(manifest)
    target_path = output if output is not None else csproj.parent / LOCKFILE_NAME
    pins, stale = _previous(target_path, targets, request)
    if stale is not None:
        request.report(f"{target_path.name} no longer matches {csproj.name}: {stale}; re-evaluated")

    loop = asyncio.new_event_loop()
    try:
        feed = _Feed(lookup, loop)
        request.report("fetching package registrations")
        _prefetch(feed, targets)
        resolutions: list[tuple[_Target, NuGetResolution]] = []
        for target in targets:
            fallbacks: dict[tuple[str, NuGetVersion], Framework] = {}
            target_pins = pins.get(target.framework.lock_name, {})
            result = _resolve_target(feed, target, csproj.stem, target_pins, fallbacks)
            if result.errors and target_pins:
                # The locked versions no longer fit together (a freed package needs more, or
                # the source lost a version): re-evaluate this framework from scratch.
                request.report(
                    f"the locked versions of {target.name} no longer resolve "
                    f"({', '.join(i.code for i in result.errors)}); re-evaluated"
                )
                fallbacks.clear()
                result = _resolve_target(feed, target, csproj.stem, {}, fallbacks)
            if result.errors:
                errors = [_unmapped(feed, target, issue) for issue in result.errors]
                raise NuGetLockError(csproj, target.name, errors)
            for issue in result.warnings:
                request.report(f"warning {issue} [{target.name}]")
            for (package_id, version), fallback in sorted(fallbacks.items(), key=str):
                request.report(
                    f"warning NU1701: Package '{package_id} {version.normalized}' was restored "
                    f"using '{fallback.lock_name}' instead of the project target framework "
                    f"'{target.name}'. This package may not be fully compatible with your "
                    "project."
                )
            resolutions.append((target, result))
        wanted = sorted(
            {(p.id.lower(), p.version) for _, r in resolutions for p in r.packages},
            key=lambda k: (k[0], k[1]),
        )
        request.report(f"hashing {len(wanted)} packages")

        async def hash_all() -> list[str]:
            return list(
                await asyncio.gather(
                    *(_content_hash(lookup, i, feed.release(i, v)) for i, v in wanted)
                )
            )

        hashes = dict(zip(wanted, loop.run_until_complete(hash_all()), strict=True))
    finally:
        try:
            loop.run_until_complete(lookup.aclose())
        finally:
            loop.close()

    central = _central_versions(csproj, manifest)
    packages: list[LockedPackage] = []
    for target, result in resolutions:
        requested = {d.name.lower(): d for d in target.roots}
        entries: list[LockedPackage] = []
        for resolved in result.packages:
            key = resolved.id.lower()
            package = feed.packages[key]
            release = feed.release(resolved.id, resolved.version)
            name = str(release.extra.get("id") or package.name or resolved.id)
            deps, _ = _dependencies(release, target.framework)
            extra: dict[str, Any] = {"target_framework": target.framework.lock_name}
            if key in requested:
                extra["type"] = "Direct"
                extra["requested"] = normalized_range(
                    SCHEME.parse_constraint(requested[key].constraint)
                )
            elif key in central:
                # PackagesLockFileBuilder: a transitive package named by a PackageVersion.
                extra["type"] = "CentralTransitive"
                extra["requested"] = normalized_range(SCHEME.parse_constraint(central[key]))
            else:
                extra["type"] = "Transitive"
            entries.append(
                LockedPackage(
                    name=name,
                    version=resolved.version.normalized,
                    hashes=(f"sha512-{hashes[(key, resolved.version)]}",),
                    dependencies=tuple(f"{d.name} {_dep_range(d)}" for d in deps),
                    dev=key in requested and requested[key].kind == "build",
                    extra=extra,
                )
            )
        # PackagesLockFileBuilder: libraries ordered by name, OrdinalIgnoreCase.
        packages += sorted(entries, key=lambda p: p.name.upper())
    lock_version = 2 if manifest.extra.get("central_package_management") else 1
    return Lockfile(
        ECOSYSTEM,
        str(target_path),
        f"packages.lock.json v{lock_version}",
        tuple(packages),
        {"targets": tuple(t.framework.lock_name for t in targets)},
    )


def lock_nuget_project(project: Path, request: LockRequest) -> Lockfile:
    """The NuGet locker of :mod:`tuskops.packages.locking`."""
    return lock_nuget(project, lookup=request.lookup, output=request.output, request=request)
