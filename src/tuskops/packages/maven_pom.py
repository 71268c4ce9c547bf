"""One Maven version's dependencies and license, from its POM in the repository.

The POM is rarely enough on its own: versions come from a parent's properties or
``dependencyManagement``, which may import BOMs, which have parents of their own. The model is
built the way Maven builds it by :mod:`tuskops.packages.ecosystems.maven_files` (pure); this
module only fetches what that builder asks for:

1. The version's POM (a timestamped SNAPSHOT is named from its version-level
   ``maven-metadata.xml``; without one, the ``-SNAPSHOT`` file itself, as Maven does).
2. Rounds: :func:`~tuskops.packages.ecosystems.maven_files.missing_poms` names the parents and
   BOMs it lacks; they are fetched concurrently and the model is asked again, until nothing is
   missing. A parent must arrive before its own parent is known, and a BOM's version usually
   comes from a parent's properties, hence rounds rather than one pass. At most
   :data:`MAX_POMS` POMs are fetched; cycles are the builder's errors.
3. A parent or BOM the repository does not have is an error (Maven: "Non-resolvable parent
   POM" / "import POM"): the model would be wrong, not just incomplete. The version's own POM
   missing is not (Maven warns "The POM for ... is missing, no dependency information
   available"): the release keeps ``dependencies=None`` and ``extra["pom"] = "missing"``.

Checksums: each POM is verified against the strongest checksum file the repository has
(``.sha512``, ``.sha256``, ``.sha1``, then ``.md5``); a mismatch raises
:class:`~tuskops.packages.http.ChecksumMismatch`. A POM with no checksum file at all is used,
as Maven's default ``checksumPolicy=warn`` does, and says so: ``extra["checksum"]`` is
``"missing"`` (else ``"verified"``) and ``extra["pom_checksums"]`` maps each POM URL to the
algorithm checked or ``"missing"``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuskops.errors import PackageError
from tuskops.packages.ecosystems import maven_files
from tuskops.packages.ecosystems.maven_files import Coordinates, PomSource
from tuskops.packages.http import (
    ChecksumMismatch,
    RegistryClient,
    RegistryNotFound,
    Response,
    redact_url,
)
from tuskops.packages.manifests import Manifest
from tuskops.packages.protocols import maven_repo
from tuskops.packages.registry import Release

__all__ = [
    "MAX_POMS",
    "FetchedPom",
    "NonResolvablePom",
    "PomModel",
    "fetch_pom",
    "fetch_pom_model",
    "release_from_pom",
]

#: POMs fetched for one version at most (parents and BOMs together): a runaway chain stops here.
#: Large BOM trees (Spring Boot's) are well under it.
MAX_POMS = 256
#: Algorithms tried for the checksum file, strongest first; md5 is checked here because
#: ``http.verify`` does not take it, and Maven still does.
_CHECKSUMS = ("sha512", "sha256", "sha1", "md5")


class NonResolvablePom(PackageError):
    """A parent or imported BOM that the repository does not have (or cannot be named)."""


@dataclass(frozen=True)
class FetchedPom:
    """A POM as downloaded, and how it was checked."""

    #: Where it came from, with any password redacted.
    url: str
    data: bytes
    #: The checksum algorithm verified, or ``"missing"`` when the repository has none.
    checksum: str
    digest: str | None = None
    snapshot: maven_repo.SnapshotMetadata | None = None


@dataclass(frozen=True)
class PomModel:
    """A version's effective model and the POMs it was built from."""

    root: FetchedPom
    manifest: Manifest
    #: Parents and BOMs by coordinates (None: asked for, but the repository has none).
    poms: Mapping[Coordinates, FetchedPom | None] = field(default_factory=dict)


async def _snapshot(
    client: RegistryClient, registry: str, group: str, artifact: str, version: str
) -> maven_repo.SnapshotMetadata | None:
    request = maven_repo.version_metadata_request(registry, group, artifact, version)
    try:
        resp = await client.get(request.url)
    except RegistryNotFound:
        return None  # a non-unique snapshot: the files are named -SNAPSHOT
    return maven_repo.parse_snapshot_metadata(resp.content, resp.url)


async def checksum_for(client: RegistryClient, url: str) -> tuple[str, str] | None:
    """The strongest checksum file the repository has for ``url``: (algorithm, digest)."""
    for algorithm in _CHECKSUMS:
        try:
            resp = await client.get(maven_repo.checksum_url(url, algorithm))
        except RegistryNotFound:
            continue
        return algorithm, maven_repo.parse_checksum(resp.content, algorithm, resp.url)
    return None


def check_md5(resp: Response, expected: str, client: RegistryClient, url: str) -> None:
    actual = hashlib.md5(resp.content, usedforsecurity=False).hexdigest()
    if actual != expected:
        client.evict(url)
        raise ChecksumMismatch("md5", expected, actual, url)


async def fetch_pom(
    client: RegistryClient, registry: str, group: str, artifact: str, version: str
) -> FetchedPom | None:
    """The POM of ``group:artifact:version``, checksum-verified; None when the repository has
    no such POM."""
    snapshot = None
    file_version = version
    if maven_repo.is_snapshot(version):
        snapshot = await _snapshot(client, registry, group, artifact, version)
        if snapshot is not None:
            file_version = maven_repo.resolve_snapshot(snapshot, "pom")
    url = maven_repo.artifact_url(
        registry, group, artifact, version, "pom", file_version=file_version
    )
    checksum = await checksum_for(client, url)
    try:
        if checksum is None:
            resp = await client.get(url)
        elif checksum[0] == "md5":
            resp = await client.get(url)
            check_md5(resp, checksum[1], client, url)
        else:
            resp = await client.download(url, {checksum[0]: checksum[1]})
    except RegistryNotFound:
        return None
    algorithm, digest = checksum if checksum is not None else ("missing", None)
    # The URL only names the POM (errors, extra): never with a password from the registry URL.
    return FetchedPom(redact_url(resp.url), resp.content, algorithm, digest, snapshot)


async def _fetch_all(
    client: RegistryClient, registry: str, wanted: list[Coordinates]
) -> list[FetchedPom | None]:
    # Like client.gather: every fetch finishes before the first failure is raised.
    results = await asyncio.gather(
        *(fetch_pom(client, registry, *coords) for coords in wanted), return_exceptions=True
    )
    out: list[FetchedPom | None] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        out.append(result)
    return out


def _not_resolvable(
    name: str,
    version: str,
    manifest: Manifest,
    registry: str,
    poms: Mapping[Coordinates, FetchedPom | None],
) -> NonResolvablePom | None:
    problems: list[str] = []
    for what, key in (("parent", "unresolved_parents"), ("import", "unresolved_imports")):
        for entry in manifest.extra.get(key, ()):
            g, a, v = entry["groupId"], entry["artifactId"], entry["version"]
            via = f" (of {entry['child']})" if "child" in entry else ""
            reason = entry["reason"]
            if (g, a, v) in poms and poms[g, a, v] is None:
                reason = "not in the repository"
            problems.append(f"{what} POM {g}:{a}:{v}{via}: {reason}")
    if not problems:
        return None
    return NonResolvablePom(
        f"cannot build the model of {name}:{version} from {redact_url(registry)}: "
        + "; ".join(problems)
    )


async def fetch_pom_model(
    client: RegistryClient, registry: str, group: str, artifact: str, version: str
) -> PomModel | None:
    """The effective model of a version's POM, with every parent and BOM fetched; None when
    the version has no POM."""
    root = await fetch_pom(client, registry, group, artifact, version)
    if root is None:
        return None
    poms: dict[Coordinates, FetchedPom | None] = {}

    def lookup(g: str, a: str, v: str) -> PomSource | None:
        found = poms.get((g, a, v))
        return None if found is None else PomSource(found.url, found.data)

    while True:
        wanted = [
            coords
            for coords in maven_files.missing_poms(root.data, root.url, lookup)
            if coords not in poms
        ]
        if not wanted:
            break
        if len(poms) + len(wanted) > MAX_POMS:
            raise NonResolvablePom(
                f"{group}:{artifact}:{version} needs more than {MAX_POMS} parent and BOM POMs"
            )
        poms.update(zip(wanted, await _fetch_all(client, registry, wanted), strict=True))

    manifest = maven_files.read_pom_bytes(root.data, root.url, lookup)
    error = _not_resolvable(f"{group}:{artifact}", version, manifest, registry, poms)
    if error is not None:
        raise error
    if manifest.name != f"{group}:{artifact}" or manifest.version != version:
        raise maven_repo.MavenRepositoryError(
            root.url,
            f"the POM is {manifest.name}:{manifest.version}, not {group}:{artifact}:{version}",
        )
    return PomModel(root, manifest, poms)


async def release_from_pom(
    client: RegistryClient, registry: str, group: str, artifact: str, listed: Release
) -> Release:
    """``listed`` (the release from ``maven-metadata.xml``) with the POM's dependencies,
    license and artifacts (see the module docstring)."""
    model = await fetch_pom_model(client, registry, group, artifact, listed.version)
    if model is None:
        return Release(
            version=listed.version,
            yanked=listed.yanked,
            deprecated=listed.deprecated,
            dependencies=None,
            artifacts=listed.artifacts,
            license=listed.license,
            published=listed.published,
            extra={**listed.extra, "pom": "missing"},
        )
    manifest = model.manifest
    fetched = [model.root, *(p for p in model.poms.values() if p is not None)]
    checks = {pom.url: pom.checksum for pom in fetched}
    extra: dict[str, Any] = dict(listed.extra)
    extra["pom_url"] = model.root.url
    extra["checksum"] = "missing" if "missing" in checks.values() else "verified"
    extra["pom_checksums"] = checks
    extra["packaging"] = manifest.extra.get("packaging", "jar")
    for key in ("parent", "licenses", "dependency_management", "unresolved_properties"):
        if key in manifest.extra:
            extra[key] = manifest.extra[key]
    # BOM imports were consumed by building the model: they are not dependencies of the jar.
    boms = [d for d in manifest.dependencies if d.kind == "import"]
    if boms:
        extra["boms"] = [f"{d.name}:{d.constraint}" for d in boms]
    licenses: list[Mapping[str, str]] = manifest.extra.get("licenses", [])
    names = [lic["name"] for lic in licenses if lic.get("name")]
    # The POM reference: several licenses mean the user may pick any of them.
    license = " OR ".join(names) if names else listed.license
    root = model.root
    # md5 is left out: the rest of the package layer does not verify it.
    verified = root.digest is not None and root.checksum != "md5"
    hashes = {"pom": {root.checksum: root.digest or ""}} if verified else None
    artifacts = maven_repo.release_artifacts(
        registry,
        group,
        artifact,
        listed.version,
        packaging=str(extra["packaging"]),
        snapshot=model.root.snapshot,
        hashes=hashes,
    )
    return Release(
        version=listed.version,
        yanked=listed.yanked,
        deprecated=listed.deprecated,
        dependencies=tuple(d for d in manifest.dependencies if d.kind != "import"),
        artifacts=artifacts,
        license=license,
        published=listed.published,
        extra=extra,
    )
