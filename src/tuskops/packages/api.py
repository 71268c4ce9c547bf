"""Ask registries about packages: the typed API behind ``tuskops pkg versions|info`` and the
``@packages``/``@npm``/``@pip``/... operators.

A :class:`PackageLookup` reads each ecosystem's settings from its usual files (registries,
scopes, credentials: :mod:`tuskops.packages.settings`), sends each protocol's requests through
one :class:`~tuskops.packages.http.RegistryClient` per ecosystem (cache, retries, auth) and
answers in two models:

* :class:`VersionList`: every version, ordered as the ecosystem orders them, with yanked,
  deprecated and pre-release marks and the latest stable version;
* :class:`PackageDetails`: one version's dependencies, license, files and hashes.

Several registries combine as the native tool combines them (``RegistrySettings.lookup``):
``"first"`` asks them in order and the first that has the package answers (npm, Cargo,
RubyGems, Composer); ``"union"`` asks all and merges the versions (pip, Maven, NuGet). A
registry that cannot be reached is an error, never a silently shorter list.

Synchronous wrappers, :func:`versions` and :func:`info`, run one lookup from plain code::

    from tuskops.packages import api
    api.versions("npm", "express").latest          # "4.21.2"
    api.info("pypi", "django", "4.2").dependencies  # (Dependency("asgiref", ">=3.6.0,<4"), ...)
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages import settings as settings_mod
from tuskops.packages.clients import (
    PackageNotFound,
    VersionNotFound,
    fetch_artifact,
    fetch_metadata,
    fetch_package,
)
from tuskops.packages.ecosystems import ALIASES, MODULES, scheme
from tuskops.packages.http import RegistryClient, redact_url, run
from tuskops.packages.manifests import Dependency, file_mode
from tuskops.packages.registry import Artifact, PackageInfo, Release
from tuskops.packages.settings import Registry, RegistrySettings

__all__ = [
    "Downloaded",
    "PackageDetails",
    "PackageLookup",
    "VersionEntry",
    "VersionList",
    "canonical_ecosystem",
    "info",
    "split_spec",
    "versions",
]

#: How each ecosystem is named to people.
LABELS = {
    "npm": "npm",
    "pypi": "PyPI",
    "cargo": "crates.io",
    "maven": "Maven",
    "nuget": "NuGet",
    "rubygems": "RubyGems",
    "composer": "Composer",
}


def canonical_ecosystem(name: str) -> str:
    """``pip`` -> ``pypi``, ``gem`` -> ``rubygems``...; an unknown name is a PackageError."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in MODULES:
        known = ", ".join(sorted(MODULES)) + " (aliases: " + ", ".join(sorted(ALIASES)) + ")"
        raise PackageError(f"unknown ecosystem '{name}' (known: {known})")
    return key


def split_spec(spec: str) -> tuple[str, str | None]:
    """``NAME[@VERSION]``: ``express@4.18.2``, ``@types/node@20.1.0``, ``org.slf4j:slf4j-api``.

    A leading ``@`` belongs to an npm scope, not to a version.
    """
    at = spec.rfind("@")
    if at <= 0:
        return spec, None
    name, version = spec[:at], spec[at + 1 :]
    if not name or not version:
        raise PackageError(f"expected NAME or NAME@VERSION, got {spec!r}")
    return name, version


# --- models -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionEntry:
    """One version as listed."""

    version: str
    prerelease: bool
    #: Yanked (PyPI, crates.io), unlisted (NuGet), retracted: the reason, "" without one.
    yanked: str | None = None
    deprecated: str | None = None
    published: str | None = None
    #: The registry (its configured name) that listed it.
    registry: str | None = None
    #: False when the ecosystem's scheme cannot read the version (listed, but never chosen).
    valid: bool = True


@dataclass(frozen=True)
class VersionList:
    """Every version of a package, oldest first in the ecosystem's order."""

    ecosystem: str
    name: str
    versions: tuple[VersionEntry, ...]
    #: The newest version that is neither a pre-release nor yanked (npm: the ``latest`` tag).
    latest: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The registries asked, as ``name url`` strings (no secrets).
    registries: tuple[str, ...] = ()

    def names(self, *, include_yanked: bool = False, include_prereleases: bool = True) -> list[str]:
        return [
            v.version
            for v in self.versions
            if (include_yanked or v.yanked is None) and (include_prereleases or not v.prerelease)
        ]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PackageDetails:
    """One version of a package: what it depends on, its license and its files."""

    ecosystem: str
    name: str
    version: str
    registry: str
    yanked: str | None
    deprecated: str | None
    license: str | None
    published: str | None
    #: None when the registry does not say (unknown is not "none").
    dependencies: tuple[Dependency, ...] | None
    artifacts: tuple[Artifact, ...]
    latest: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Downloaded:
    """A file fetched from a registry and written to disk."""

    path: str
    url: str
    size: int
    #: The digests it was checked against; empty only when fetched with ``allow_unverified``.
    verified: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- the lookup ---------------------------------------------------------------------------------


class PackageLookup:
    """Registry lookups for one project: settings read once per ecosystem, one client each.

    ``registry`` replaces the configured registries (credentials configured for its URL still
    apply). ``settings`` injects ready-made settings per ecosystem (tests, embedding).
    Use ``async with PackageLookup() as lookup:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        project_dir: str | os.PathLike[str] | None = None,
        offline: bool = False,
        cache_dir: str | os.PathLike[str] | None = None,
        registry: str | None = None,
        env: Mapping[str, str] | None = None,
        home: str | os.PathLike[str] | None = None,
        settings: Mapping[str, RegistrySettings] | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.project_dir = Path(project_dir) if project_dir is not None else Path.cwd()
        self.offline = offline
        self.cache_dir = cache_dir
        self.registry = registry
        self.env = env
        self.home = home
        self._settings: dict[str, RegistrySettings] = dict(settings or {})
        self._clients: dict[str, RegistryClient] = {}
        self._client_options = dict(client_options or {})

    async def __aenter__(self) -> PackageLookup:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def settings(self, ecosystem: str) -> RegistrySettings:
        """The effective settings of ``ecosystem`` (after ``registry=`` replaces registries)."""
        key = canonical_ecosystem(ecosystem)
        if key not in self._settings:
            loaded = settings_mod.load(
                key, project_dir=self.project_dir, env=self.env, home=self.home
            )
            if self.registry is not None:
                url, user, secret = settings_mod.split_userinfo(self.registry)
                creds = loaded.credentials
                if secret is not None or user is not None:
                    cred = settings_mod.Credential(
                        prefix=settings_mod.normalize_prefix(url),
                        kind="basic",
                        secret=secret,
                        username=user,
                        source="--registry",
                    )
                    creds = (cred, *creds)
                loaded = replace(
                    loaded,
                    registries=(Registry("--registry", url, source="command line"),),
                    routes={},
                    credentials=creds,
                )
            self._settings[key] = loaded
        return self._settings[key]

    def client(self, ecosystem: str) -> RegistryClient:
        key = canonical_ecosystem(ecosystem)
        if key not in self._clients:
            conf = self.settings(key)
            ca_file = conf.extra.get("ca_file") or conf.extra.get("cert")
            self._clients[key] = RegistryClient(
                cache_dir=self.cache_dir,
                ca_file=str(ca_file) if ca_file else None,
                offline=self.offline,
                # Looked up per request: settings may learn credentials (see _with_cargo_auth).
                auth=lambda url: self._settings[key].auth_headers(url),
                **self._client_options,
            )
        return self._clients[key]

    async def package(self, ecosystem: str, name: str) -> tuple[PackageInfo, tuple[str, ...]]:
        """The registry listing of ``name``, merged across registries as the tool merges
        them; with the ``name url`` of each registry that had it."""
        key = canonical_ecosystem(ecosystem)
        conf = self.settings(key)
        client = self.client(key)
        candidates = conf.registries_for(name)
        if conf.lookup == "first" or len(candidates) == 1:
            for reg in candidates:
                try:
                    found = await fetch_package(key, name, client=client, registry=reg.url)
                except PackageNotFound:
                    continue
                if key == "cargo" and found.extra.get("auth_required"):
                    self._with_cargo_auth(reg, found)
                return _tag(found, reg), (f"{reg.name} {reg.url}",)
            raise _not_found(key, name, candidates)
        results = await asyncio.gather(
            *(fetch_package(key, name, client=client, registry=r.url) for r in candidates),
            return_exceptions=True,
        )
        found_in: list[tuple[PackageInfo, Registry]] = []
        for reg, result in zip(candidates, results, strict=True):
            if isinstance(result, PackageNotFound):
                continue
            if isinstance(result, BaseException):
                raise result
            found_in.append((_tag(result, reg), reg))
        if not found_in:
            raise _not_found(key, name, candidates)
        return _merge([p for p, _ in found_in]), tuple(f"{r.name} {r.url}" for _, r in found_in)

    def _with_cargo_auth(self, registry: Registry, package: PackageInfo) -> None:
        """An ``auth-required`` registry (RFC 3139) gets its token on downloads too, which
        ``config.json``'s ``dl`` may put outside the index URL: extend the index's credential
        to the download URLs of this package, as Cargo does (and nothing wider)."""
        conf = self._settings["cargo"]
        creds = conf.credentials_for(registry.url)
        urls = [a.url for r in package.releases for a in r.artifacts]
        if not urls:
            return
        split = [u.split("/")[:-1] for u in urls]  # the directories the files are in
        columns = zip(*split, strict=False)  # as long as the shortest
        shared = [c[0] for c in itertools.takewhile(lambda c: len(set(c)) == 1, columns)]
        prefixes = {settings_mod.normalize_prefix("/".join(shared) + "/")}
        known = {c.prefix for c in conf.credentials}
        added = tuple(
            replace(c, prefix=p, source=f"{c.source} (auth-required downloads)")
            for c in creds
            for p in sorted(prefixes - known)
        )
        if added:
            self._settings["cargo"] = replace(conf, credentials=conf.credentials + added)

    async def versions(self, ecosystem: str, name: str) -> VersionList:
        key = canonical_ecosystem(ecosystem)
        package, asked = await self.package(key, name)
        return _version_list(key, name, package, asked)

    async def info(self, ecosystem: str, name: str, version: str | None = None) -> PackageDetails:
        """One version's details; ``version=None`` means the latest stable one."""
        key = canonical_ecosystem(ecosystem)
        package, asked = await self.package(key, name)
        listing = _version_list(key, name, package, asked)
        wanted = version if version is not None else listing.latest
        if wanted is None:
            raise PackageError(f"{name} has no stable, unyanked version to show; name one")
        listed = _find(key, package, wanted)
        if listed is None:
            raise VersionNotFound(key, name, wanted, " and ".join(r.split()[1] for r in asked))
        registry = str(listed.extra.get("tuskops_registry_url", ""))
        release = await fetch_metadata(
            key,
            name,
            listed.version,
            client=self.client(key),
            registry=registry or None,
            package=package,
        )
        return PackageDetails(
            ecosystem=key,
            name=package.name or name,
            version=release.version,
            registry=registry,
            yanked=release.yanked,
            deprecated=release.deprecated,
            license=release.license,
            published=release.published,
            dependencies=release.dependencies,
            artifacts=release.artifacts if release.artifacts else listed.artifacts,
            latest=listing.latest,
            extra={k: v for k, v in release.extra.items() if not k.startswith("tuskops_")},
        )

    async def download(
        self,
        ecosystem: str,
        name: str,
        version: str | None = None,
        *,
        dest: str | os.PathLike[str] = ".",
        filename: str | None = None,
        allow_unverified: bool = False,
    ) -> Downloaded:
        """Fetch one file of a release (default: the latest stable release's main file; PyPI: a
        pure-Python wheel, else the sdist), verify it against the registry's checksum and write
        it into ``dest`` atomically. A file without a checksum anywhere is refused unless
        ``allow_unverified``."""
        details = await self.info(ecosystem, name, version)
        key = details.ecosystem
        artifact = _choose_artifact(key, details, filename)
        release = Release(version=details.version, artifacts=details.artifacts, extra=details.extra)
        resp, checked = await fetch_artifact(
            key, artifact, release, client=self.client(key), allow_unverified=allow_unverified
        )
        target = Path(dest) / _file_name(artifact)
        _write_atomically(target, resp.content)
        return Downloaded(str(target), redact_url(artifact.url), len(resp.content), checked)


# --- helpers ------------------------------------------------------------------------------------


def _file_name(artifact: Artifact) -> str:
    name = artifact.filename or artifact.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise PackageError(f"cannot name a file for {redact_url(artifact.url)}")
    return name


def _choose_artifact(ecosystem: str, details: PackageDetails, filename: str | None) -> Artifact:
    files = list(details.artifacts)
    if filename is not None:
        for artifact in files:
            if _file_name(artifact) == filename:
                return artifact
        known = ", ".join(_file_name(a) for a in files) or "none"
        raise PackageError(f"{details.name} {details.version} has no file {filename!r} ({known})")
    if ecosystem == "pypi":
        wheels = [a for a in files if _file_name(a).endswith("-none-any.whl")]
        sdists = [a for a in files if _file_name(a).endswith((".tar.gz", ".zip"))]
        files = wheels or sdists or files
    elif ecosystem == "maven":
        files = [a for a in files if not _file_name(a).endswith(".pom")] or files
    if not files:
        raise PackageError(f"{details.name} {details.version}: the registry lists no files")
    return files[0]


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        os.chmod(tmp, file_mode(target))
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _not_found(ecosystem: str, name: str, registries: tuple[Registry, ...]) -> PackageNotFound:
    where = " or ".join(r.url for r in registries)
    return PackageNotFound(ecosystem, name, where)


def _tag(package: PackageInfo, registry: Registry) -> PackageInfo:
    """Mark each release with the registry that listed it (for union lookups and info)."""
    marks = {"tuskops_registry": registry.name, "tuskops_registry_url": registry.url}
    releases = tuple(replace(r, extra={**r.extra, **marks}) for r in package.releases)
    return replace(package, releases=releases)


def _merge(packages: list[PackageInfo]) -> PackageInfo:
    """pip, Maven and NuGet see one package across registries: the first listing of a version
    wins, later registries add versions (and, for the same version, files)."""
    first = packages[0]
    by_version: dict[str, Release] = {}
    for package in packages:
        for release in package.releases:
            seen = by_version.get(release.version)
            if seen is None:
                by_version[release.version] = release
            else:
                known = {a.url for a in seen.artifacts}
                added = tuple(a for a in release.artifacts if a.url not in known)
                by_version[release.version] = replace(seen, artifacts=seen.artifacts + added)
    tags: dict[str, str] = {}
    for package in reversed(packages):
        tags.update(package.tags)
    return replace(first, releases=tuple(by_version.values()), tags=tags)


def _find(ecosystem: str, package: PackageInfo, version: str) -> Release | None:
    """The release named ``version``: exact text first, then an equal version (``1.0`` is
    ``1.0.0`` to NuGet and Maven, ``Django 4.2`` is ``4.2.0`` to pip)."""
    exact = package.release(version)
    if exact is not None:
        return exact
    s = scheme(ecosystem)
    try:
        wanted = s.parse_version(version)
    except VersionSyntaxError:
        return None
    for release in package.releases:
        try:
            if s.parse_version(release.version) == wanted:
                return release
        except VersionSyntaxError:
            continue
    return None


def _version_list(
    ecosystem: str, name: str, package: PackageInfo, asked: tuple[str, ...]
) -> VersionList:
    s = scheme(ecosystem)
    valid: list[tuple[Any, VersionEntry]] = []
    invalid: list[VersionEntry] = []
    for release in package.releases:
        registry = release.extra.get("tuskops_registry")
        try:
            parsed = s.parse_version(release.version)
        except VersionSyntaxError:
            invalid.append(
                VersionEntry(
                    release.version,
                    prerelease=False,
                    yanked=release.yanked,
                    deprecated=release.deprecated,
                    published=release.published,
                    registry=registry,
                    valid=False,
                )
            )
            continue
        entry = VersionEntry(
            release.version,
            prerelease=bool(s.is_prerelease(parsed)),
            yanked=release.yanked,
            deprecated=release.deprecated,
            published=release.published,
            registry=registry,
        )
        valid.append((parsed, entry))
    valid.sort(key=lambda pair: pair[0])
    ordered = tuple(invalid) + tuple(entry for _, entry in valid)
    latest = package.tags.get("latest") if ecosystem == "npm" else None
    if latest is None:
        latest = next(
            (
                e.version
                for e in reversed(ordered)
                if e.valid and not e.prerelease and e.yanked is None
            ),
            None,
        )
    return VersionList(
        ecosystem=ecosystem,
        name=package.name or name,
        versions=ordered,
        latest=latest,
        tags=dict(package.tags),
        registries=asked,
    )


# --- synchronous wrappers -----------------------------------------------------------------------


def versions(ecosystem: str, name: str, **options: Any) -> VersionList:
    """Every version of ``name``; ``options`` as for :class:`PackageLookup`."""

    async def go() -> VersionList:
        async with PackageLookup(**options) as lookup:
            return await lookup.versions(ecosystem, name)

    return run(go())


def info(ecosystem: str, name: str, version: str | None = None, **options: Any) -> PackageDetails:
    """One version of ``name`` (default: the latest stable); ``options`` as for
    :class:`PackageLookup`."""

    async def go() -> PackageDetails:
        async with PackageLookup(**options) as lookup:
            return await lookup.info(ecosystem, name, version)

    return run(go())
