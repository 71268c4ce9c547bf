"""Ask a registry about a package: each protocol's real request sequence over ``RegistryClient``.

The protocol modules build the requests and parse the answers; this module only sends them in
the right order (through the client's cache, retries and auth hook):

* PyPI: the Simple API project page (PEP 691 JSON preferred, PEP 503 HTML accepted).
* npm: the abbreviated packument.
* crates: the index's ``config.json`` (download URL template), then the crate's index file.
* Maven: the artifact-level ``maven-metadata.xml``; ``name`` is ``group:artifact``.
* NuGet: service index -> ``RegistrationsBaseUrl`` -> registration index -> the pages it does
  not inline (fetched concurrently with ``client.gather``).
* RubyGems: ``/info/NAME`` only. Yanked versions disappear from that file, so none is marked
  yanked: telling them apart needs ``/versions``, a file of every gem (megabytes), which is not
  worth fetching for one package.
* Packagist: ``p2/NAME.json`` and ``p2/NAME~dev.json``, combined (a missing dev file is none).

A ``404``/``410`` for the package is :class:`PackageNotFound`, never an empty result.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from tuskops.errors import PackageError
from tuskops.packages import maven_pom, wheel_metadata
from tuskops.packages.http import (
    RegistryClient,
    RegistryNotFound,
    Response,
    redact_url,
    verify,
)
from tuskops.packages.protocols import (
    crates_index,
    maven_repo,
    npm_registry,
    nuget_v3,
    packagist_v2,
    pypi_simple,
    rubygems_compact,
)
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release
from tuskops.packages.settings import DEFAULT_REGISTRIES

__all__ = [
    "DEFAULT_REGISTRIES",
    "PackageNotFound",
    "UnsupportedRegistry",
    "UnverifiableArtifact",
    "VersionNotFound",
    "artifact_hashes",
    "fetch_artifact",
    "fetch_metadata",
    "fetch_package",
]

_ALIASES = {"crates": "cargo", "packagist": "composer", "gem": "rubygems", "python": "pypi"}


class PackageNotFound(PackageError):
    """The registry has no such package."""

    def __init__(self, ecosystem: str, name: str, registry: str) -> None:
        self.ecosystem = ecosystem
        self.name = name
        self.registry = redact_url(registry)
        super().__init__(f"no package {name} on {self.registry}")


class VersionNotFound(PackageError):
    """The package exists, but not in that version."""

    def __init__(self, ecosystem: str, name: str, version: str, registry: str) -> None:
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.registry = redact_url(registry)
        super().__init__(f"no version {version} of {name} on {self.registry}")


class UnverifiableArtifact(PackageError):
    """The registry gives no checksum for a file, so its download cannot be verified."""


class UnsupportedRegistry(PackageError):
    """An unknown ecosystem, or a registry that lacks what the protocol needs."""


def _ecosystem(ecosystem: str) -> str:
    key = _ALIASES.get(ecosystem.lower(), ecosystem.lower())
    if key not in DEFAULT_REGISTRIES:
        known = ", ".join(DEFAULT_REGISTRIES)
        raise UnsupportedRegistry(f"unknown ecosystem {ecosystem!r} (known: {known})")
    return key


def _origin(url: str) -> str:
    """The registry as named in errors: scheme, host and path, without user-info."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host, query="", fragment=""))


async def _send(client: RegistryClient, request: Request) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "accept"}
    accept = next((v for k, v in request.headers.items() if k.lower() == "accept"), None)
    return await client.get(request.url, headers=headers or None, accept=accept)


async def _package_request(
    client: RegistryClient, request: Request, ecosystem: str, name: str, registry: str
) -> Response:
    """GET the request that names the package: a 404 there means "no such package"."""
    try:
        return await _send(client, request)
    except RegistryNotFound:
        raise PackageNotFound(ecosystem, name, _origin(registry)) from None


# --- one function per ecosystem ---------------------------------------------------------------


async def fetch_pypi(name: str, *, client: RegistryClient, registry: str) -> PackageInfo:
    request = pypi_simple.project_request(name, registry)
    resp = await _package_request(client, request, "pypi", name, registry)
    return pypi_simple.parse_project_page(
        resp.content, resp.url, resp.headers.get("content-type"), name
    )


async def fetch_npm(name: str, *, client: RegistryClient, registry: str) -> PackageInfo:
    request = npm_registry.packument_request(name, registry)
    resp = await _package_request(client, request, "npm", name, registry)
    return npm_registry.parse_packument(resp.content, resp.url, resp.headers.get("content-type"))


async def fetch_cargo(name: str, *, client: RegistryClient, registry: str) -> PackageInfo:
    config_resp = await _send(client, crates_index.config_request(registry))
    config = crates_index.parse_config(config_resp.content, config_resp.url)
    request = crates_index.index_file_request(name, registry)
    resp = await _package_request(client, request, "cargo", name, registry)
    return crates_index.parse_index_file(resp.content, resp.url, name, config)


async def fetch_maven(name: str, *, client: RegistryClient, registry: str) -> PackageInfo:
    group, sep, artifact = name.partition(":")
    if not sep or not group or not artifact or ":" in artifact:
        raise PackageError(f"Maven package name must be 'groupId:artifactId', got {name!r}")
    request = maven_repo.artifact_metadata_request(registry, group, artifact)
    resp = await _package_request(client, request, "maven", name, registry)
    return maven_repo.parse_artifact_metadata(resp.content, resp.url)


async def fetch_nuget(name: str, *, client: RegistryClient, registry: str) -> PackageInfo:
    index_resp = await _send(client, nuget_v3.service_index_request(registry))
    service = nuget_v3.parse_service_index(index_resp.content, index_resp.url)
    base = nuget_v3.find_resource(service, nuget_v3.REGISTRATIONS)
    if base is None:
        raise UnsupportedRegistry(
            f"{_origin(registry)} offers no RegistrationsBaseUrl resource (package metadata)"
        )
    request = nuget_v3.registration_index_request(base, name)
    resp = await _package_request(client, request, "nuget", name, registry)
    index = nuget_v3.parse_registration_index(resp.content, resp.url)
    pending = index.pending_pages
    pages = await client.gather(pending, accept=nuget_v3.JSON_ACCEPT) if pending else []
    fetched = {
        url: nuget_v3.parse_registration_page(page.content, page.url)
        for url, page in zip(pending, pages, strict=True)
    }
    return nuget_v3.package_info(name, index, fetched)


async def fetch_rubygems(name: str, *, client: RegistryClient, registry: str) -> PackageInfo:
    request = rubygems_compact.info_request(name, base_url=registry)
    resp = await _package_request(client, request, "rubygems", name, registry)
    return rubygems_compact.package_info(name, resp.content, base_url=registry, url=resp.url)


async def fetch_composer(name: str, *, client: RegistryClient, registry: str) -> PackageInfo:
    tagged_req = packagist_v2.p2_request(name, repository=registry)
    dev_req = packagist_v2.p2_request(name, dev=True, repository=registry)
    resp = await _package_request(client, tagged_req, "composer", name, registry)
    tagged = packagist_v2.package_info(name, resp.content, resp.url)
    try:
        dev_resp = await _send(client, dev_req)
    except RegistryNotFound:
        return tagged  # a repository may serve no dev file for a package without branches
    return packagist_v2.combine(
        tagged, packagist_v2.package_info(name, dev_resp.content, dev_resp.url)
    )


class _Fetcher(Protocol):
    async def __call__(
        self, name: str, *, client: RegistryClient, registry: str
    ) -> PackageInfo: ...


_FETCHERS: dict[str, _Fetcher] = {
    "pypi": fetch_pypi,
    "npm": fetch_npm,
    "cargo": fetch_cargo,
    "maven": fetch_maven,
    "nuget": fetch_nuget,
    "rubygems": fetch_rubygems,
    "composer": fetch_composer,
}


async def fetch_package(
    ecosystem: str, name: str, *, client: RegistryClient, registry: str | None = None
) -> PackageInfo:
    """Every release of ``name`` as ``registry`` (default: the ecosystem's public one) lists it.

    Raises :class:`PackageNotFound` when the registry has no such package, and the client's
    :class:`~tuskops.packages.http.RegistryError` subclasses for other failures.
    """
    key = _ecosystem(ecosystem)
    return await _FETCHERS[key](name, client=client, registry=registry or DEFAULT_REGISTRIES[key])


# --- per-version metadata ---------------------------------------------------------------------


async def fetch_metadata(
    ecosystem: str,
    name: str,
    version: str,
    *,
    client: RegistryClient,
    registry: str | None = None,
    package: PackageInfo | None = None,
) -> Release:
    """One release, with its dependencies where the protocol offers them per version.

    ``package``: the listing from :func:`fetch_package`, when the caller has it already (not
    fetched and parsed again).

    PyPI: the PEP 658 core metadata file of the release's first file that offers one (files
    with a metadata hash first, then wheels), downloaded and verified against that hash (one
    offered without a hash is fetched as is, like the project page), gives the dependencies,
    ``Requires-Python`` (``extra["requires_python"]``) and license; without one, the METADATA
    of a wheel read over HTTP range requests (``extra["metadata_source"]`` and
    ``extra["metadata_verified"]`` say how); an sdist-only release keeps dependencies None
    (unknown). Maven: the version's POM, its parents and imported BOMs, fetched from
    the repository and each verified against its strongest checksum file, built into the
    effective model (:mod:`tuskops.packages.maven_pom`): every dependency with its scope as
    ``kind`` (``"normal"`` for compile; test, provided, runtime and system kept), optional and
    exclusions kept; the license from the nearest POM listing one (several joined with
    ``" OR "``); ``extra["checksum"]`` is ``"missing"`` when a POM had no checksum file. A
    version without a POM keeps dependencies None (``extra["pom"] = "missing"``); a missing
    parent or BOM raises :class:`~tuskops.packages.maven_pom.NonResolvablePom`. The other
    protocols' listings already carry dependencies: the release from :func:`fetch_package`.
    """
    key = _ecosystem(ecosystem)
    base = registry or DEFAULT_REGISTRIES[key]
    info = package or await fetch_package(key, name, client=client, registry=base)
    release = info.release(version)
    if release is None:
        raise VersionNotFound(key, name, version, _origin(base))
    if key == "maven":
        group_id, _, artifact_id = name.partition(":")
        return await maven_pom.release_from_pom(client, base, group_id, artifact_id, release)
    if key != "pypi":
        return release
    return await _pypi_release_metadata(client, release)


def _pick_wheel(artifacts: tuple[Artifact, ...]) -> Artifact | None:
    """A wheel to read metadata from: a pure-Python one if there is one (smallest), else any."""
    wheels = [a for a in artifacts if (a.filename or "").endswith(".whl") and a.yanked is None]
    wheels = wheels or [a for a in artifacts if (a.filename or "").endswith(".whl")]
    if not wheels:
        return None
    return min(
        wheels, key=lambda a: (not (a.filename or "").endswith("-none-any.whl"), a.size or 0)
    )


async def _pypi_release_metadata(client: RegistryClient, release: Release) -> Release:
    """Dependencies of one PyPI release: the PEP 658 metadata file, else the wheel's METADATA
    read over range requests (:mod:`tuskops.packages.wheel_metadata`), else unknown (an
    sdist-only release: its metadata may need a build)."""
    files = sorted(
        (a for a in release.artifacts if a.metadata_url),
        key=lambda a: (not a.metadata_hashes, not (a.filename or "").endswith(".whl")),
    )
    extra = dict(release.extra)
    if files:
        artifact = files[0]
        assert artifact.metadata_url is not None
        if artifact.metadata_hashes:
            resp = await client.download(artifact.metadata_url, artifact.metadata_hashes)
            extra["metadata_source"] = "PEP 658 metadata file (hash verified)"
        else:  # PEP 658 allows "true" without hashes: as trusted as the project page itself
            resp = await client.get(artifact.metadata_url)
            extra["metadata_source"] = "PEP 658 metadata file (offered without a hash)"
        extra["metadata_url"] = artifact.metadata_url
        content = resp.content
    else:
        wheel = _pick_wheel(release.artifacts)
        if wheel is None:
            extra["metadata_source"] = "none: no wheel and no metadata file (sdist only)"
            return replace(release, extra=extra)
        read = await wheel_metadata.read_metadata(client, wheel)
        content = read.content
        extra["metadata_source"] = f"{wheel.filename} METADATA ({read.how})"
        extra["metadata_verified"] = read.verified
    core = pypi_simple.parse_core_metadata(content)
    if core.requires_python is not None:
        extra["requires_python"] = core.requires_python
    return Release(
        version=release.version,
        yanked=release.yanked,
        deprecated=release.deprecated,
        dependencies=core.dependencies,
        artifacts=release.artifacts,
        license=core.license if core.license is not None else release.license,
        published=release.published,
        extra=extra,
    )


# --- artifacts ----------------------------------------------------------------------------------


async def artifact_hashes(
    ecosystem: str, artifact: Artifact, release: Release, *, client: RegistryClient
) -> dict[str, str]:
    """The digests a file can be checked against: those the listing gives, else where the
    protocol keeps them (Maven: the checksum file next to it; NuGet: ``packageHash`` in the
    release's catalog entry). Empty when the registry has none (e.g. Packagist dists of
    GitHub zipballs carry an empty ``shasum``)."""
    hashes = {k: v for k, v in artifact.hashes.items() if v}
    if hashes:
        return hashes
    key = _ecosystem(ecosystem)
    if key == "maven":
        found = await maven_pom.checksum_for(client, artifact.url)
        return {found[0]: found[1]} if found else {}
    if key == "nuget" and isinstance(release.extra.get("catalog_url"), str):
        resp = await client.get(str(release.extra["catalog_url"]))
        return nuget_v3.parse_catalog_hash(resp.content, resp.url)
    return {}


async def fetch_artifact(
    ecosystem: str,
    artifact: Artifact,
    release: Release,
    *,
    client: RegistryClient,
    allow_unverified: bool = False,
) -> tuple[Response, tuple[str, ...]]:
    """Download ``artifact`` and verify it; returns the response and the algorithms checked.

    A file with no checksum anywhere raises :class:`UnverifiableArtifact` unless
    ``allow_unverified`` (then nothing is claimed: the algorithms checked are ``()``). Maven
    repositories may offer only MD5, which is checked here (``verify`` leaves MD5 out)."""
    hashes = await artifact_hashes(ecosystem, artifact, release, client=client)
    if not hashes:
        if not allow_unverified:
            raise UnverifiableArtifact(
                f"{redact_url(artifact.url)}: the registry gives no checksum for this file, so "
                "its download cannot be verified (allow it explicitly to fetch it unverified)"
            )
        return await client.get(artifact.url), ()
    if set(hashes) == {"md5"}:
        resp = await client.get(artifact.url)
        maven_pom.check_md5(resp, hashes["md5"], client, artifact.url)
        return resp, ("md5",)
    resp = await client.download(artifact.url, hashes)
    return resp, verify(resp.content, hashes, url=artifact.url)
