"""The Maven repository layout, on fixtures written after the Maven docs ("Maven Repository
Layout", "Repository Metadata" maven-metadata.xml examples, "Remote repository checksums")."""

from __future__ import annotations

import pytest

from tuskops.errors import PackageError
from tuskops.packages.protocols import maven_repo as mr
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact, Release

CENTRAL = "https://repo.maven.apache.org/maven2/"

ARTIFACT_METADATA = b"""\
<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>org.apache.maven.plugins</groupId>
  <artifactId>maven-compiler-plugin</artifactId>
  <versioning>
    <latest>3.12.0-SNAPSHOT</latest>
    <release>3.11.0</release>
    <versions>
      <version>3.10.1</version>
      <version>3.11.0</version>
      <version>3.12.0-SNAPSHOT</version>
    </versions>
    <lastUpdated>20230310080500</lastUpdated>
  </versioning>
</metadata>
"""

SNAPSHOT_METADATA = b"""\
<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://maven.apache.org/METADATA/1.1.0" modelVersion="1.1.0">
  <groupId>org.apache.maven</groupId>
  <artifactId>maven-core</artifactId>
  <version>3.9.0-SNAPSHOT</version>
  <versioning>
    <snapshot>
      <timestamp>20221011.102543</timestamp>
      <buildNumber>3</buildNumber>
    </snapshot>
    <lastUpdated>20221011102543</lastUpdated>
    <snapshotVersions>
      <snapshotVersion>
        <extension>pom</extension>
        <value>3.9.0-20221011.102543-3</value>
        <updated>20221011102543</updated>
      </snapshotVersion>
      <snapshotVersion>
        <extension>jar</extension>
        <value>3.9.0-20221011.102543-3</value>
        <updated>20221011102543</updated>
      </snapshotVersion>
      <snapshotVersion>
        <classifier>sources</classifier>
        <extension>jar</extension>
        <value>3.9.0-20221010.090000-2</value>
        <updated>20221010090000</updated>
      </snapshotVersion>
    </snapshotVersions>
  </versioning>
</metadata>
"""

LEGACY_SNAPSHOT_METADATA = b"""\
<metadata>
  <groupId>org.example</groupId>
  <artifactId>demo</artifactId>
  <version>1.0-SNAPSHOT</version>
  <versioning>
    <snapshot><timestamp>20240101.120000</timestamp><buildNumber>7</buildNumber></snapshot>
    <lastUpdated>20240101120000</lastUpdated>
  </versioning>
</metadata>
"""

URL = CENTRAL + "org/apache/maven/plugins/maven-compiler-plugin/maven-metadata.xml"


# --- URLs -------------------------------------------------------------------------------------


def test_artifact_path_follows_the_repository_layout() -> None:
    assert (
        mr.artifact_path("org.apache.maven", "maven-core", "3.9.6")
        == "org/apache/maven/maven-core/3.9.6/maven-core-3.9.6.jar"
    )
    assert (
        mr.artifact_path("junit", "junit", "4.13.2", "jar", "sources")
        == "junit/junit/4.13.2/junit-4.13.2-sources.jar"
    )
    assert (
        mr.artifact_path(
            "org.apache.maven",
            "maven-core",
            "3.9.0-SNAPSHOT",
            "pom",
            file_version="3.9.0-20221011.102543-3",
        )
        == "org/apache/maven/maven-core/3.9.0-SNAPSHOT/maven-core-3.9.0-20221011.102543-3.pom"
    )


def test_metadata_and_artifact_urls() -> None:
    assert (
        mr.artifact_metadata_url(CENTRAL, "org.apache.maven.plugins", "maven-compiler-plugin")
        == URL
    )
    assert (
        mr.version_metadata_url(
            "https://repo.example/snapshots", "org.apache.maven", "maven-core", "3.9.0-SNAPSHOT"
        )
        == "https://repo.example/snapshots/org/apache/maven/maven-core/3.9.0-SNAPSHOT/"
        "maven-metadata.xml"
    )
    assert (
        mr.artifact_url(CENTRAL, "junit", "junit", "4.13.2", "pom")
        == CENTRAL + "junit/junit/4.13.2/junit-4.13.2.pom"
    )


@pytest.mark.parametrize(
    ("group", "artifact", "version"),
    [("org..evil", "a", "1"), ("org", "../a", "1"), ("org", "a", "1/2"), ("org", "a", "..")],
)
def test_coordinates_that_escape_the_layout_are_refused(
    group: str, artifact: str, version: str
) -> None:
    with pytest.raises(mr.MavenRepositoryError, match="cannot be a repository path segment"):
        mr.artifact_path(group, artifact, version)


def test_checksum_urls() -> None:
    jar = CENTRAL + "junit/junit/4.13.2/junit-4.13.2.jar"
    assert mr.checksum_url(jar, "sha1") == jar + ".sha1"
    assert mr.checksum_urls(jar) == {
        "sha512": jar + ".sha512",
        "sha256": jar + ".sha256",
        "sha1": jar + ".sha1",
        "md5": jar + ".md5",
    }
    with pytest.raises(mr.MavenRepositoryError, match="unknown checksum algorithm 'crc32'"):
        mr.checksum_url(jar, "crc32")


def test_requests() -> None:
    assert mr.artifact_metadata_request(
        CENTRAL, "org.apache.maven.plugins", "maven-compiler-plugin"
    ) == Request(URL)
    assert mr.version_metadata_request(CENTRAL, "g", "a", "1-SNAPSHOT") == Request(
        CENTRAL + "g/a/1-SNAPSHOT/maven-metadata.xml"
    )
    assert mr.checksum_request("https://r/x.jar", "sha256") == Request("https://r/x.jar.sha256")


# --- checksums --------------------------------------------------------------------------------

SHA1 = "2ad5a1e4a4c5b1e3c0a6bd3a9bd7dae0a4c1f5e2"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(
    "content",
    [
        SHA1.encode(),
        SHA1.encode() + b"\n",
        SHA1.upper().encode() + b"\r\n",
        SHA1.encode() + b"  junit-4.13.2.jar\n",
        SHA1.encode() + b" *junit-4.13.2.jar",
        b"SHA1 (junit-4.13.2.jar) = " + SHA1.encode() + b"\n",
        b"SHA1(junit-4.13.2.jar)= " + SHA1.encode(),
    ],
)
def test_checksum_file_content(content: bytes) -> None:
    assert mr.parse_checksum(content, "sha1", "u.sha1") == SHA1


def test_md5_and_sha512_lengths() -> None:
    assert mr.parse_checksum(MD5.encode(), "md5", "u.md5") == MD5
    digest = "ab" * 64
    assert mr.parse_checksum(digest.encode() + b"  f.jar", "sha512", "u.sha512") == digest


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty sha1 checksum file"),
        (b"   \n", "empty sha1 checksum file"),
        (MD5.encode(), "sha1 checksum must be 40 hex digits"),
        (b"z" * 40, "sha1 checksum must be 40 hex digits"),
        (b"<html>Not Found</html>", "sha1 checksum must be 40 hex digits"),
        ("é".encode(), "not ASCII"),
    ],
)
def test_malformed_checksum_files(content: bytes, message: str) -> None:
    with pytest.raises(mr.MavenRepositoryError, match=message) as info:
        mr.parse_checksum(content, "sha1", "https://r/x.jar.sha1")
    assert info.value.url == "https://r/x.jar.sha1"
    assert isinstance(info.value, PackageError)


# --- artifact-level metadata ------------------------------------------------------------------


def test_artifact_metadata_is_a_package_info() -> None:
    info = mr.parse_artifact_metadata(ARTIFACT_METADATA, URL)
    assert info.ecosystem == "maven"
    assert info.name == "org.apache.maven.plugins:maven-compiler-plugin"
    assert info.versions() == ["3.10.1", "3.11.0", "3.12.0-SNAPSHOT"]
    assert info.release("3.11.0") == Release(version="3.11.0", dependencies=None)
    assert info.tags == {"latest": "3.12.0-SNAPSHOT", "release": "3.11.0"}
    assert info.extra == {"lastUpdated": "20230310080500"}


def test_artifact_metadata_with_namespace_and_no_versions() -> None:
    data = b"""<metadata xmlns="http://maven.apache.org/METADATA/1.1.0">
      <groupId>g</groupId><artifactId>a</artifactId><versioning><versions/></versioning>
    </metadata>"""
    info = mr.parse_artifact_metadata(data, "u")
    assert info.releases == ()
    assert info.tags == {}
    assert info.extra == {}


@pytest.mark.parametrize(
    ("data", "message", "location"),
    [
        (b"<metadata><groupId>g</groupId>", "not well-formed XML", "1:31"),
        (b"<metadata>\n  <groupId>g</groupId>\n  <oops></metadata>", "not well-formed XML", "3:11"),
        (b"", "not well-formed XML", "1:1"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY x "y">]>\n<metadata/>',
            "DOCTYPE declarations are not allowed",
            None,
        ),
        (b"<project><groupId>g</groupId></project>", "root element is <project>", "1:1"),
        (
            b"<metadata><artifactId>a</artifactId></metadata>",
            "missing or empty <groupId>",
            "metadata > groupId",
        ),
        (
            b"<metadata><groupId>g</groupId><artifactId/></metadata>",
            "missing or empty <artifactId>",
            "metadata > artifactId",
        ),
        (
            b"<metadata><groupId>g</groupId><artifactId>a</artifactId></metadata>",
            "missing <versioning>",
            "metadata > versioning",
        ),
        (
            b"<metadata><groupId>g</groupId><artifactId>a</artifactId><versioning><versions>"
            b"<version>1</version><version> </version></versions></versioning></metadata>",
            "empty <version>",
            None,
        ),
    ],
)
def test_malformed_artifact_metadata(data: bytes, message: str, location: str | None) -> None:
    with pytest.raises(mr.MavenRepositoryError, match=message) as info:
        mr.parse_artifact_metadata(data, URL)
    assert info.value.url == URL
    position = info.value.location
    if info.value.field is None:  # a position: URL:LINE:COL: error: ...
        assert str(info.value).startswith(f"{URL}:{position}: error: ")
    else:  # a field path: URL: error: ... (at FIELD)
        assert str(info.value).startswith(f"{URL}: error: ")
        assert str(info.value).endswith(f"(at {position})")
    if location is not None:
        assert position == location


def test_an_external_doctype_is_refused() -> None:
    data = b'<!DOCTYPE metadata SYSTEM "http://evil/x.dtd"><metadata/>'
    with pytest.raises(mr.MavenRepositoryError, match="DOCTYPE"):
        mr.parse_artifact_metadata(data, URL)


# --- SNAPSHOT resolution ----------------------------------------------------------------------


def test_snapshot_metadata() -> None:
    meta = mr.parse_snapshot_metadata(SNAPSHOT_METADATA, "u")
    assert (meta.group_id, meta.artifact_id, meta.version) == (
        "org.apache.maven",
        "maven-core",
        "3.9.0-SNAPSHOT",
    )
    assert meta.timestamp == "20221011.102543"
    assert meta.build_number == 3
    assert meta.last_updated == "20221011102543"
    assert not meta.local_copy
    assert meta.snapshot_versions[2] == mr.SnapshotVersion(
        extension="jar",
        value="3.9.0-20221010.090000-2",
        classifier="sources",
        updated="20221010090000",
    )


def test_resolve_snapshot_prefers_snapshot_versions() -> None:
    meta = mr.parse_snapshot_metadata(SNAPSHOT_METADATA, "u")
    assert mr.resolve_snapshot(meta, "jar") == "3.9.0-20221011.102543-3"
    assert mr.resolve_snapshot(meta, "jar", "sources") == "3.9.0-20221010.090000-2"
    # No entry for javadoc: the snapshot element's timestamp and build number.
    assert mr.resolve_snapshot(meta, "jar", "javadoc") == "3.9.0-20221011.102543-3"


def test_resolve_legacy_snapshot_and_local_copy() -> None:
    meta = mr.parse_snapshot_metadata(LEGACY_SNAPSHOT_METADATA, "u")
    assert mr.resolve_snapshot(meta, "pom") == "1.0-20240101.120000-7"
    local = b"""<metadata><groupId>g</groupId><artifactId>a</artifactId>
      <version>1.0-SNAPSHOT</version>
      <versioning><snapshot><localCopy>true</localCopy></snapshot></versioning></metadata>"""
    assert mr.resolve_snapshot(mr.parse_snapshot_metadata(local, "u")) == "1.0-SNAPSHOT"


@pytest.mark.parametrize(
    ("versioning", "message", "location"),
    [
        (
            "<snapshot><timestamp>2022-10-11</timestamp><buildNumber>1</buildNumber></snapshot>",
            "timestamp '2022-10-11' is not yyyyMMdd.HHmmss",
            "metadata > versioning > snapshot > timestamp",
        ),
        (
            "<snapshot><timestamp>20221011.102543</timestamp><buildNumber>x</buildNumber></snapshot>",
            "buildNumber 'x' is not a number",
            "metadata > versioning > snapshot > buildNumber",
        ),
        (
            "<snapshot><timestamp>20221011.102543</timestamp></snapshot>",
            "needs both timestamp and buildNumber",
            "metadata > versioning > snapshot > buildNumber",
        ),
        (
            "<snapshot><localCopy>yes</localCopy></snapshot>",
            "localCopy 'yes'",
            "metadata > versioning > snapshot > localCopy",
        ),
        (
            "<snapshotVersions><snapshotVersion><extension>jar</extension></snapshotVersion>"
            "</snapshotVersions>",
            "missing or empty <value>",
            "metadata > versioning > snapshotVersions > snapshotVersion[0] > value",
        ),
    ],
)
def test_malformed_snapshot_metadata(versioning: str, message: str, location: str) -> None:
    data = (
        "<metadata><groupId>g</groupId><artifactId>a</artifactId><version>1-SNAPSHOT</version>"
        f"<versioning>{versioning}</versioning></metadata>"
    ).encode()
    with pytest.raises(mr.MavenRepositoryError, match=message) as info:
        mr.parse_snapshot_metadata(data, "https://r/m.xml")
    assert info.value.location == location


def test_snapshot_metadata_must_be_for_a_snapshot() -> None:
    data = (
        b"<metadata><groupId>g</groupId><artifactId>a</artifactId><version>1.0</version>"
        b"<versioning/></metadata>"
    )
    with pytest.raises(mr.MavenRepositoryError, match=r"'1\.0' is not a SNAPSHOT"):
        mr.parse_snapshot_metadata(data, "u")


# --- artifacts --------------------------------------------------------------------------------


def test_release_artifacts_with_hashes() -> None:
    pom, jar = mr.release_artifacts(
        CENTRAL,
        "junit",
        "junit",
        "4.13.2",
        hashes={"jar": {"sha1": SHA1}, "pom": {"md5": MD5}},
    )
    base = CENTRAL + "junit/junit/4.13.2/"
    assert pom == Artifact(
        url=base + "junit-4.13.2.pom", filename="junit-4.13.2.pom", hashes={"md5": MD5}
    )
    assert jar == Artifact(
        url=base + "junit-4.13.2.jar", filename="junit-4.13.2.jar", hashes={"sha1": SHA1}
    )


def test_release_artifacts_without_hashes_pom_packaging_and_bundles() -> None:
    (pom,) = mr.release_artifacts(CENTRAL, "org.sonatype.oss", "oss-parent", "9", packaging="pom")
    assert pom.url.endswith("oss-parent/9/oss-parent-9.pom")
    assert pom.hashes == {}
    _, jar = mr.release_artifacts(CENTRAL, "g", "a", "1", packaging="bundle")
    assert jar.filename == "a-1.jar"
    _, war = mr.release_artifacts(CENTRAL, "g", "a", "1", packaging="war", classifier="cls")
    assert war.filename == "a-1-cls.war"


def test_release_artifacts_of_a_snapshot() -> None:
    meta = mr.parse_snapshot_metadata(SNAPSHOT_METADATA, "u")
    base = "https://repo.example/snapshots"
    pom, jar = mr.release_artifacts(
        base, "org.apache.maven", "maven-core", "3.9.0-SNAPSHOT", snapshot=meta
    )
    assert pom.url == (
        base + "/org/apache/maven/maven-core/3.9.0-SNAPSHOT/maven-core-3.9.0-20221011.102543-3.pom"
    )
    assert jar.filename == "maven-core-3.9.0-20221011.102543-3.jar"
    with pytest.raises(
        mr.MavenRepositoryError, match=r"is for '3\.9\.0-SNAPSHOT', not '4\.0-SNAPSHOT'"
    ):
        mr.release_artifacts(base, "org.apache.maven", "maven-core", "4.0-SNAPSHOT", snapshot=meta)
