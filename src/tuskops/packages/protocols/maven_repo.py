"""The Maven repository layout: request URLs and response parsers, without I/O.

Follows the Maven documentation: "Maven Repository Layout" (the Maven 2 "default" layout used
by Maven Central and every Maven repository manager), "Repository Metadata"
(``maven-metadata.xml``, https://maven.apache.org/repositories/metadata.html and the
``repository-metadata.mdo`` model), and "Remote repository checksums"
(https://maven.apache.org/resolver/about-checksums.html).

Layout
    A file of ``group:artifact:version`` lives at
    ``group/as/path/artifact/version/artifact-fileVersion[-classifier].extension``, where
    ``fileVersion`` is the version itself, except for a *timestamped* SNAPSHOT, whose files are
    named with ``1.0-20240101.120000-3`` in place of ``1.0-SNAPSHOT``
    (:func:`artifact_path`).

Metadata
    ``group/as/path/artifact/maven-metadata.xml`` lists the versions (``versioning/versions``),
    ``latest``, ``release`` and ``lastUpdated``: :func:`parse_artifact_metadata` turns it into
    a :class:`~tuskops.packages.registry.PackageInfo` (releases without dependencies, which live
    in each version's POM). The version-level ``.../1.0-SNAPSHOT/maven-metadata.xml`` says which
    timestamped build a SNAPSHOT is (``snapshot/timestamp``, ``snapshot/buildNumber``, and since
    model 1.1.0 ``snapshotVersions`` per classifier and extension):
    :func:`parse_snapshot_metadata` and :func:`resolve_snapshot`.

Checksums
    Each file ``F`` may have ``F.sha1``, ``F.sha256``, ``F.sha512`` and ``F.md5`` next to it
    (:func:`checksum_url`). Their content is the hex digest, possibly followed by whitespace and
    a file name (``sha1sum`` output) or in BSD form ``SHA1 (file) = digest``
    (:func:`parse_checksum`).

XML is read with DOCTYPE and entity declarations refused. A malformed response raises
:class:`MavenRepositoryError` naming the URL and the ``line:col`` or field; never an empty
result. Reading POM bytes is ``maven_files.read_pom``'s job, which reads from a path only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from tuskops.errors import RegistryResponseError
from tuskops.packages import xmldoc as _xmldoc
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, PackageInfo, Release

ECOSYSTEM: Final = "maven"
METADATA_FILE: Final = "maven-metadata.xml"
#: Checksum file extension -> hex digest length, in the order Maven prefers them.
CHECKSUM_ALGORITHMS: Final[Mapping[str, int]] = {
    "sha512": 128,
    "sha256": 64,
    "sha1": 40,
    "md5": 32,
}
SNAPSHOT: Final = "SNAPSHOT"

_TIMESTAMP: Final = re.compile(r"\d{8}\.\d{6}")
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")
_BSD: Final = re.compile(r"([A-Za-z0-9-]+) ?\((.*)\) ?= ?([0-9A-Fa-f]+)")
_SEGMENT: Final = re.compile(r"[^/\\:]+")
#: Packagings whose main file is a ``.jar`` (Maven's artifact handlers).
_JAR_PACKAGINGS: Final[Mapping[str, str]] = dict.fromkeys(
    ("bundle", "maven-plugin", "ejb", "eclipse-plugin"), "jar"
)


class MavenRepositoryError(RegistryResponseError):
    """A Maven repository response (or a coordinate) that cannot be used.

    ``location`` is ``line:col`` in the response, or a field path such as
    ``versioning > snapshot > buildNumber``.
    """


# --- URLs -------------------------------------------------------------------------------------


def _segment(what: str, value: str) -> str:
    if not _SEGMENT.fullmatch(value) or value in {".", ".."}:
        raise MavenRepositoryError(
            "(coordinates)", f"{what} {value!r} cannot be a repository path segment", what
        )
    return value


def group_path(group_id: str) -> str:
    """``org.apache.maven`` -> ``org/apache/maven``."""
    return "/".join(_segment("groupId", part) for part in group_id.split("."))


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def is_snapshot(version: str) -> bool:
    return version.endswith(SNAPSHOT)


def artifact_path(
    group_id: str,
    artifact_id: str,
    version: str,
    extension: str = "jar",
    classifier: str | None = None,
    *,
    file_version: str | None = None,
) -> str:
    """The path of a file relative to the repository root.

    ``file_version`` is the resolved timestamped version of a SNAPSHOT (see
    :func:`resolve_snapshot`); it defaults to ``version``.
    """
    name = _segment("artifactId", artifact_id)
    directory = f"{group_path(group_id)}/{name}/{_segment('version', version)}"
    filename = f"{name}-{_segment('version', file_version or version)}"
    if classifier:
        filename += f"-{_segment('classifier', classifier)}"
    return f"{directory}/{filename}.{_segment('extension', extension)}"


def artifact_url(
    base_url: str,
    group_id: str,
    artifact_id: str,
    version: str,
    extension: str = "jar",
    classifier: str | None = None,
    *,
    file_version: str | None = None,
) -> str:
    path = artifact_path(
        group_id, artifact_id, version, extension, classifier, file_version=file_version
    )
    return f"{_base(base_url)}/{path}"


def artifact_metadata_url(base_url: str, group_id: str, artifact_id: str) -> str:
    """The artifact-level ``maven-metadata.xml`` (all versions)."""
    return (
        f"{_base(base_url)}/{group_path(group_id)}/{_segment('artifactId', artifact_id)}/"
        f"{METADATA_FILE}"
    )


def version_metadata_url(base_url: str, group_id: str, artifact_id: str, version: str) -> str:
    """The version-level ``maven-metadata.xml`` that resolves a SNAPSHOT."""
    return (
        f"{_base(base_url)}/{group_path(group_id)}/{_segment('artifactId', artifact_id)}/"
        f"{_segment('version', version)}/{METADATA_FILE}"
    )


def checksum_url(file_url: str, algorithm: str) -> str:
    """``F`` -> ``F.sha1`` (``sha1``, ``sha256``, ``sha512`` or ``md5``)."""
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise MavenRepositoryError(
            file_url,
            f"unknown checksum algorithm {algorithm!r}; "
            f"expected one of {', '.join(CHECKSUM_ALGORITHMS)}",
        )
    return f"{file_url}.{algorithm}"


def checksum_urls(file_url: str) -> dict[str, str]:
    """Every checksum file of ``file_url``, strongest first."""
    return {alg: checksum_url(file_url, alg) for alg in CHECKSUM_ALGORITHMS}


def artifact_metadata_request(base_url: str, group_id: str, artifact_id: str) -> Request:
    return Request(artifact_metadata_url(base_url, group_id, artifact_id))


def version_metadata_request(
    base_url: str, group_id: str, artifact_id: str, version: str
) -> Request:
    return Request(version_metadata_url(base_url, group_id, artifact_id, version))


def checksum_request(file_url: str, algorithm: str) -> Request:
    return Request(checksum_url(file_url, algorithm))


def parse_checksum(content: bytes, algorithm: str, url: str) -> str:
    """The lower-case hex digest in a checksum file.

    Accepts ``digest``, ``digest  filename`` (``sha1sum``), and ``ALG (filename) = digest``
    (BSD). The digest must be hex of the algorithm's length.
    """
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise MavenRepositoryError(url, f"unknown checksum algorithm {algorithm!r}")
    try:
        text = content.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise MavenRepositoryError(
            url, f"checksum file is not ASCII (byte {exc.start})", f"byte {exc.start}"
        ) from None
    bsd = _BSD.fullmatch(text)
    digest = bsd.group(3) if bsd else (text.split(maxsplit=1) or [""])[0]
    expected = CHECKSUM_ALGORITHMS[algorithm]
    if not digest:
        raise MavenRepositoryError(url, f"empty {algorithm} checksum file")
    if not _HEX.fullmatch(digest) or len(digest) != expected:
        raise MavenRepositoryError(
            url,
            f"{algorithm} checksum must be {expected} hex digits, got {digest[:140]!r}",
        )
    return digest.lower()


# --- maven-metadata.xml ----------------------------------------------------------------------


def _parse(data: bytes, url: str) -> _xmldoc.Element:
    root = _xmldoc.parse(data, lambda message, where: MavenRepositoryError(url, message, where))
    if root.tag != "metadata":
        raise MavenRepositoryError(
            url, f"the root element is <{root.tag}>, not <metadata>", root.where
        )
    return root


def _required(node: _xmldoc.Element, tag: str, url: str, path: str) -> str:
    value = node.value(tag)
    if not value:
        raise MavenRepositoryError(
            url, f"missing or empty <{tag}>", f"{path} > {tag}" if path else tag
        )
    return value


def parse_artifact_metadata(data: bytes, url: str) -> PackageInfo:
    """The artifact-level ``maven-metadata.xml`` as a :class:`PackageInfo`.

    ``name`` is ``groupId:artifactId``; releases are the listed versions in the file's order,
    with ``dependencies`` None (they are in each POM); ``tags`` holds ``latest`` and
    ``release`` when given; ``extra["lastUpdated"]`` the ``yyyyMMddHHmmss`` stamp.
    """
    root = _parse(data, url)
    group = _required(root, "groupId", url, "metadata")
    artifact = _required(root, "artifactId", url, "metadata")
    versioning = root.child("versioning")
    if versioning is None:
        raise MavenRepositoryError(url, "missing <versioning>", "metadata > versioning")
    versions = versioning.child("versions")
    releases: list[Release] = []
    seen: set[str] = set()
    for node in () if versions is None else versions.all("version"):
        if not node.text:
            raise MavenRepositoryError(
                url, "empty <version>", f"metadata > versioning > versions ({node.where})"
            )
        if node.text not in seen:
            seen.add(node.text)
            releases.append(Release(version=node.text))
    tags = {tag: value for tag in ("latest", "release") if (value := versioning.value(tag))}
    extra: dict[str, str] = {}
    if last := versioning.value("lastUpdated"):
        extra["lastUpdated"] = last
    return PackageInfo(
        ecosystem=ECOSYSTEM,
        name=f"{group}:{artifact}",
        releases=tuple(releases),
        tags=tags,
        extra=extra,
    )


@dataclass(frozen=True)
class SnapshotVersion:
    """One ``snapshotVersions/snapshotVersion``: the file version of a classifier+extension."""

    extension: str
    value: str
    classifier: str = ""
    updated: str | None = None


@dataclass(frozen=True)
class SnapshotMetadata:
    """The version-level ``maven-metadata.xml`` of a SNAPSHOT."""

    group_id: str
    artifact_id: str
    version: str
    timestamp: str | None = None
    build_number: int | None = None
    local_copy: bool = False
    last_updated: str | None = None
    snapshot_versions: tuple[SnapshotVersion, ...] = ()


def parse_snapshot_metadata(data: bytes, url: str) -> SnapshotMetadata:
    """The version-level ``maven-metadata.xml`` that names a SNAPSHOT's timestamped build."""
    root = _parse(data, url)
    group = _required(root, "groupId", url, "metadata")
    artifact = _required(root, "artifactId", url, "metadata")
    version = _required(root, "version", url, "metadata")
    if not is_snapshot(version):
        raise MavenRepositoryError(
            url, f"version {version!r} is not a SNAPSHOT", "metadata > version"
        )
    versioning = root.child("versioning")
    if versioning is None:
        raise MavenRepositoryError(url, "missing <versioning>", "metadata > versioning")
    timestamp: str | None = None
    build_number: int | None = None
    local_copy = False
    snapshot = versioning.child("snapshot")
    if snapshot is not None:
        where = "metadata > versioning > snapshot"
        timestamp = snapshot.value("timestamp") or None
        if timestamp is not None and not _TIMESTAMP.fullmatch(timestamp):
            raise MavenRepositoryError(
                url, f"timestamp {timestamp!r} is not yyyyMMdd.HHmmss", f"{where} > timestamp"
            )
        number = snapshot.value("buildNumber")
        if number:
            if not number.isdigit():
                raise MavenRepositoryError(
                    url, f"buildNumber {number!r} is not a number", f"{where} > buildNumber"
                )
            build_number = int(number)
        local = snapshot.value("localCopy")
        if local not in (None, "", "true", "false"):
            raise MavenRepositoryError(
                url, f"localCopy {local!r} is not true or false", f"{where} > localCopy"
            )
        local_copy = local == "true"
        if (timestamp is None) != (build_number is None):
            missing = "buildNumber" if build_number is None else "timestamp"
            raise MavenRepositoryError(
                url, "a snapshot needs both timestamp and buildNumber", f"{where} > {missing}"
            )
    entries: list[SnapshotVersion] = []
    holder = versioning.child("snapshotVersions")
    for i, node in enumerate(() if holder is None else holder.all("snapshotVersion")):
        where = f"metadata > versioning > snapshotVersions > snapshotVersion[{i}]"
        entries.append(
            SnapshotVersion(
                extension=_required(node, "extension", url, where),
                value=_required(node, "value", url, where),
                classifier=node.value("classifier") or "",
                updated=node.value("updated") or None,
            )
        )
    return SnapshotMetadata(
        group_id=group,
        artifact_id=artifact,
        version=version,
        timestamp=timestamp,
        build_number=build_number,
        local_copy=local_copy,
        last_updated=versioning.value("lastUpdated") or None,
        snapshot_versions=tuple(entries),
    )


def resolve_snapshot(
    metadata: SnapshotMetadata, extension: str = "jar", classifier: str | None = None
) -> str:
    """The file version of a SNAPSHOT file, as Maven's resolver picks it.

    The ``snapshotVersions`` entry for the classifier and extension wins; else the ``snapshot``
    element's ``timestamp-buildNumber`` replaces ``SNAPSHOT``; else (``localCopy``, or a
    non-unique snapshot deployed without a timestamp) the files are named ``...-SNAPSHOT``.
    """
    for entry in metadata.snapshot_versions:
        if entry.extension == extension and entry.classifier == (classifier or ""):
            return entry.value
    if metadata.local_copy or metadata.timestamp is None or metadata.build_number is None:
        return metadata.version
    stem = metadata.version[: -len(SNAPSHOT)]
    return f"{stem}{metadata.timestamp}-{metadata.build_number}"


# --- artifacts --------------------------------------------------------------------------------


def release_artifacts(
    base_url: str,
    group_id: str,
    artifact_id: str,
    version: str,
    *,
    packaging: str = "jar",
    classifier: str | None = None,
    snapshot: SnapshotMetadata | None = None,
    hashes: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[Artifact, ...]:
    """The POM and (unless ``packaging`` is ``pom``) the main file of a version.

    ``hashes`` maps an extension (``"pom"``, ``"jar"``) to the digests the caller fetched and
    parsed with :func:`parse_checksum` (algorithm -> hex); ``snapshot`` is the parsed
    version-level metadata of a SNAPSHOT version, used to name its timestamped files.
    """
    if is_snapshot(version) and snapshot is not None and snapshot.version != version:
        raise MavenRepositoryError(
            version_metadata_url(base_url, group_id, artifact_id, version),
            f"snapshot metadata is for {snapshot.version!r}, not {version!r}",
            "metadata > version",
        )
    wanted: list[tuple[str, str | None]] = [("pom", None)]
    if packaging != "pom":
        wanted.append((_JAR_PACKAGINGS.get(packaging, packaging), classifier))
    out: list[Artifact] = []
    for extension, kind in wanted:
        file_version = (
            resolve_snapshot(snapshot, extension, kind)
            if snapshot is not None and is_snapshot(version)
            else version
        )
        url = artifact_url(
            base_url, group_id, artifact_id, version, extension, kind, file_version=file_version
        )
        out.append(
            Artifact(
                url=url,
                filename=url.rpartition("/")[2],
                hashes=dict((hashes or {}).get(extension, {})),
            )
        )
    return tuple(out)
