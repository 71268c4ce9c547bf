"""fetch_package / fetch_metadata against a local server speaking each protocol's real format."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tuskops.errors import ManifestError, PackageError
from tuskops.packages import maven_pom
from tuskops.packages.clients import (
    PackageNotFound,
    UnsupportedRegistry,
    UnverifiableArtifact,
    VersionNotFound,
    fetch_artifact,
    fetch_metadata,
    fetch_package,
)
from tuskops.packages.http import (
    ChecksumMismatch,
    RegistryAuthError,
    RegistryClient,
    RegistryNotFound,
)
from tuskops.packages.maven_pom import NonResolvablePom
from tuskops.packages.registry import Artifact, PackageInfo, Release

TOKEN = "t0ken"
FRESH = {"Cache-Control": "max-age=300"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


CORE_METADATA = (
    b"Metadata-Version: 2.1\n"
    b"Name: demo\n"
    b"Version: 1.0.0\n"
    b"License: MIT\n"
    b"Requires-Python: >=3.8\n"
    b"Requires-Dist: requests>=2.28\n"
    b'Requires-Dist: pytest; extra == "test"\n'
)
TGZ = b"fake tarball"
CRATE_CKSUM = "a" * 64
GEM_CKSUM = "b" * 64


class Server:
    """Serves path -> (content type, body); paths under /private/ need the bearer token."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.log: list[tuple[str, Mapping[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server.lock:
                    server.log.append((self.path, headers))
                if self.path.startswith("/private/") and (
                    headers.get("authorization") != f"Bearer {TOKEN}"
                ):
                    self._reply(401, "text/plain", b"unauthorized", {"WWW-Authenticate": "Bearer"})
                    return
                route = server.routes.get(self.path)
                if route is None:
                    self._reply(404, "text/plain", b"not found", {})
                    return
                self._reply(200, route[0], route[1], FRESH)

            def _reply(
                self, status: int, ctype: str, body: bytes, headers: Mapping[str, str]
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, path: str, body: bytes | str | Any, ctype: str = "application/json") -> None:
        if isinstance(body, str):
            data = body.encode()
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        self.routes[path] = (ctype, data)


def populate(s: Server) -> None:
    b = s.base
    # PyPI: PEP 691 JSON project page; 1.1.0 yanked, 2.0.0b1 a pre-release, 1.0.0 has PEP 658.
    wheel = "demo-1.0.0-py3-none-any.whl"
    s.add(
        "/simple/demo/",
        {
            "meta": {"api-version": "1.1"},
            "name": "demo",
            "versions": ["1.0.0", "1.1.0", "2.0.0b1"],
            "files": [
                {
                    "filename": wheel,
                    "url": f"../../files/{wheel}",
                    "hashes": {"sha256": "c" * 64},
                    "requires-python": ">=3.8",
                    "core-metadata": {"sha256": sha256(CORE_METADATA)},
                },
                {
                    "filename": "demo-1.0.0.tar.gz",
                    "url": f"{b}/files/demo-1.0.0.tar.gz",
                    "hashes": {"sha256": "d" * 64},
                },
                {
                    "filename": "demo-1.1.0-py3-none-any.whl",
                    "url": f"{b}/files/demo-1.1.0-py3-none-any.whl",
                    "hashes": {"sha256": "e" * 64},
                    "yanked": "broken build",
                },
                {
                    "filename": "demo-2.0.0b1-py3-none-any.whl",
                    "url": f"{b}/files/demo-2.0.0b1-py3-none-any.whl",
                    "hashes": {"sha256": "f" * 64},
                    "core-metadata": {"sha256": "0" * 64},
                },
            ],
        },
        "application/vnd.pypi.simple.v1+json",
    )
    s.add(f"/files/{wheel}.metadata", CORE_METADATA, "application/octet-stream")
    s.add("/files/demo-2.0.0b1-py3-none-any.whl.metadata", CORE_METADATA, "text/plain")

    # PyPI, a legacy index: PEP 503 HTML with PEP 592/658/714 attributes.
    s.add(
        "/legacy/demo/",
        "<!DOCTYPE html>\n<html><body>\n"
        f'<a href="{b}/files/{wheel}#sha256={"c" * 64}" data-requires-python="&gt;=3.8" '
        f'data-core-metadata="true">{wheel}</a>\n'
        f'<a href="{b}/files/demo-1.1.0.tar.gz#sha256={"e" * 64}" '
        'data-yanked="broken build">demo-1.1.0.tar.gz</a>\n'
        "</body></html>\n",
        "text/html",
    )

    # npm: abbreviated packument, on the public path and on a private (token) path.
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(TGZ).digest()).decode()
    packument = {
        "name": "left-pad",
        "modified": "2024-01-02T00:00:00.000Z",
        "dist-tags": {"latest": "1.1.0", "next": "2.0.0-beta.1"},
        "versions": {
            "1.0.0": {
                "name": "left-pad",
                "version": "1.0.0",
                "dependencies": {"wordwrap": "^1.0.0"},
                "dist": {
                    "tarball": f"{b}/left-pad/-/left-pad-1.0.0.tgz",
                    "shasum": hashlib.sha1(TGZ).hexdigest(),
                    "integrity": integrity,
                },
            },
            "1.1.0": {
                "name": "left-pad",
                "version": "1.1.0",
                "deprecated": "use String.prototype.padStart()",
                "dist": {"tarball": f"{b}/left-pad/-/left-pad-1.1.0.tgz", "integrity": integrity},
            },
            "2.0.0-beta.1": {
                "name": "left-pad",
                "version": "2.0.0-beta.1",
                "devDependencies": {"tap": "^16"},
                "dist": {"tarball": f"{b}/left-pad/-/left-pad-2.0.0-beta.1.tgz"},
            },
        },
    }
    s.add("/npm/left-pad", packument, "application/vnd.npm.install-v1+json")
    s.add("/private/npm/left-pad", packument, "application/vnd.npm.install-v1+json")

    # crates: sparse index config.json and the index file (one JSON object per line).
    s.add("/crates/config.json", {"dl": f"{b}/api/v1/crates", "api": b})
    lines = [
        {
            "name": "demo",
            "vers": "1.0.0",
            "deps": [
                {
                    "name": "libc",
                    "req": "^0.2",
                    "features": [],
                    "optional": False,
                    "default_features": True,
                    "target": None,
                    "kind": "normal",
                }
            ],
            "cksum": CRATE_CKSUM,
            "features": {},
            "yanked": False,
        },
        {
            "name": "demo",
            "vers": "1.1.0",
            "deps": [],
            "cksum": "1" * 64,
            "features": {},
            "yanked": True,
        },
        {
            "name": "demo",
            "vers": "2.0.0-alpha.1",
            "deps": [],
            "cksum": "2" * 64,
            "features": {},
            "yanked": False,
            "v": 2,
            "features2": {},
        },
    ]
    s.add("/crates/de/mo/demo", "\n".join(json.dumps(x) for x in lines) + "\n", "text/plain")

    # Maven: artifact-level maven-metadata.xml.
    s.add(
        "/maven2/org/example/demo/maven-metadata.xml",
        """<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>org.example</groupId>
  <artifactId>demo</artifactId>
  <versioning>
    <latest>2.0.0-M1</latest>
    <release>1.1.0</release>
    <versions>
      <version>1.0.0</version>
      <version>1.1.0</version>
      <version>2.0.0-M1</version>
    </versions>
    <lastUpdated>20240102030405</lastUpdated>
  </versioning>
</metadata>
""",
        "text/xml",
    )

    populate_maven_poms(s)

    # NuGet: service index -> registration index (one page inlined, one to fetch).
    reg = f"{b}/nuget/registration5-semver1/"
    s.add(
        "/nuget/v3/index.json",
        {
            "version": "3.0.0",
            "resources": [
                {"@id": f"{b}/nuget/flat/", "@type": "PackageBaseAddress/3.0.0"},
                {"@id": reg, "@type": "RegistrationsBaseUrl/3.6.0"},
            ],
        },
    )

    def leaf(version: str, listed: bool = True, deps: list[dict[str, str]] | None = None) -> Any:
        return {
            "@id": f"{reg}demo.lib/{version}.json",
            "catalogEntry": {
                "@id": f"{b}/nuget/catalog/demo.lib.{version}.json",
                "id": "Demo.Lib",
                "version": version,
                "listed": listed,
                "dependencyGroups": [{"targetFramework": "net8.0", "dependencies": deps or []}],
            },
            "packageContent": f"{b}/nuget/flat/demo.lib/{version}/demo.lib.{version}.nupkg",
        }

    s.add(
        "/nuget/registration5-semver1/demo.lib/index.json",
        {
            "count": 2,
            "items": [
                {
                    "@id": f"{reg}demo.lib/index.json#page/1.0.0/1.1.0",
                    "count": 2,
                    "lower": "1.0.0",
                    "upper": "1.1.0",
                    "items": [
                        leaf("1.0.0", deps=[{"id": "Newtonsoft.Json", "range": "[13.0.1, )"}]),
                        leaf("1.1.0", listed=False),
                    ],
                },
                {
                    "@id": f"{reg}demo.lib/page/2.0.0-preview.1/2.0.0-preview.1.json",
                    "count": 1,
                    "lower": "2.0.0-preview.1",
                    "upper": "2.0.0-preview.1",
                },
            ],
        },
    )
    s.add(
        "/nuget/registration5-semver1/demo.lib/page/2.0.0-preview.1/2.0.0-preview.1.json",
        {
            "@id": f"{reg}demo.lib/page/2.0.0-preview.1/2.0.0-preview.1.json",
            "count": 1,
            "lower": "2.0.0-preview.1",
            "upper": "2.0.0-preview.1",
            "items": [leaf("2.0.0-preview.1")],
        },
    )

    # RubyGems: compact index /info/NAME.
    s.add(
        "/gems/info/demo",
        "---\n"
        f"1.0.0 rack:>= 2.0&< 4,json:~> 2.6|checksum:{GEM_CKSUM},ruby:>= 2.7\n"
        f"1.0.0-java rack:>= 2.0&< 4|checksum:{'3' * 64}\n"
        f"1.1.0.pre |checksum:{'4' * 64},ruby:>= 3.0\n",
        "text/plain",
    )

    # Packagist: minified p2 files, tagged and dev.
    dist_sha1 = "5" * 40
    s.add(
        "/composer/p2/acme/demo.json",
        {
            "minified": "composer/2.0",
            "packages": {
                "acme/demo": [
                    {
                        "name": "acme/demo",
                        "version": "2.0.0-RC1",
                        "version_normalized": "2.0.0.0-RC1",
                        "license": ["MIT"],
                        "require": {"php": ">=8.1", "psr/log": "^3.0"},
                        "dist": {
                            "type": "zip",
                            "url": f"{b}/dl/acme-demo-2.0.0-RC1.zip",
                            "reference": "abc",
                            "shasum": dist_sha1,
                        },
                    },
                    {
                        "version": "1.0.0",
                        "version_normalized": "1.0.0.0",
                        "require": {"php": ">=7.4"},
                        "abandoned": "acme/other",
                        "dist": {
                            "type": "zip",
                            "url": f"{b}/dl/acme-demo-1.0.0.zip",
                            "reference": "def",
                            "shasum": "",
                        },
                    },
                ]
            },
        },
    )
    s.add(
        "/composer/p2/acme/demo~dev.json",
        {
            "minified": "composer/2.0",
            "packages": {
                "acme/demo": [
                    {
                        "name": "acme/demo",
                        "version": "dev-main",
                        "version_normalized": "dev-main",
                        "require": {"php": ">=8.1"},
                    }
                ]
            },
        },
    )


def pom(
    group: str,
    artifact: str,
    version: str | None,
    body: str = "",
    parent: tuple[str, str, str] | None = None,
) -> str:
    """A repository POM (POM namespace, as deployed)."""
    head = ""
    if parent is not None:
        head += (
            f"  <parent><groupId>{parent[0]}</groupId><artifactId>{parent[1]}</artifactId>"
            f"<version>{parent[2]}</version></parent>\n"
        )
    if group:
        head += f"  <groupId>{group}</groupId>\n"
    head += f"  <artifactId>{artifact}</artifactId>\n"
    if version:
        head += f"  <version>{version}</version>\n"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        f"  <modelVersion>4.0.0</modelVersion>\n{head}{body}</project>\n"
    )


def maven_file(s: Server, path: str, body: str, checksums: Mapping[str, str | None]) -> None:
    """Serve a POM and its checksum files: algorithm -> None for the right digest, or a
    (wrong) digest to serve instead."""
    data = body.encode()
    s.add(f"/maven2/{path}", data, "text/xml")
    for algorithm, digest in checksums.items():
        right = hashlib.new(algorithm, data).hexdigest()
        s.add(f"/maven2/{path}.{algorithm}", digest or right, "text/plain")


def maven_listing(s: Server, group: str, artifact: str, versions: list[str]) -> None:
    listed = "".join(f"<version>{v}</version>" for v in versions)
    s.add(
        f"/maven2/{group.replace('.', '/')}/{artifact}/maven-metadata.xml",
        f"<metadata><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<versioning><versions>{listed}</versions></versioning></metadata>",
        "text/xml",
    )


def dep(group: str, artifact: str, version: str | None = None, more: str = "") -> str:
    v = f"<version>{version}</version>" if version else ""
    return (
        f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>{v}{more}"
        "</dependency>"
    )


def populate_maven_poms(s: Server) -> None:
    ex = "org/example"
    # demo 1.1.0 -> parent demo-parent:3 -> grandparent root:1 (properties, licenses); the
    # parent's dependencyManagement imports demo-bom, whose version is the grandparent's property.
    maven_file(
        s,
        f"{ex}/root/1/root-1.pom",
        pom(
            "org.example",
            "root",
            "1",
            "<packaging>pom</packaging>"
            "<properties><bom.version>5.0</bom.version><b.version>2.2</b.version></properties>"
            "<licenses><license><name>Apache-2.0</name>"
            "<url>https://www.apache.org/licenses/LICENSE-2.0</url></license></licenses>",
        ),
        {"sha512": None, "sha1": "0" * 40},  # a wrong .sha1 that must not be consulted
    )
    maven_file(
        s,
        f"{ex}/demo-parent/3/demo-parent-3.pom",
        pom(
            "",
            "demo-parent",
            "3",
            "<packaging>pom</packaging><dependencyManagement><dependencies>"
            + dep(
                "org.example", "demo-bom", "${bom.version}", "<type>pom</type><scope>import</scope>"
            )
            + dep(
                "org.example",
                "lib-b",
                "${b.version}",
                "<scope>runtime</scope><exclusions><exclusion><groupId>org.bad</groupId>"
                "<artifactId>bad</artifactId></exclusion></exclusions>",
            )
            + "</dependencies></dependencyManagement>"
            "<dependencies>" + dep("org.slf4j", "slf4j-api", "2.0.12") + "</dependencies>",
            parent=("org.example", "root", "1"),
        ),
        {"sha256": None},
    )
    maven_file(  # a BOM without any checksum file: used, and reported as such
        s,
        f"{ex}/demo-bom/5.0/demo-bom-5.0.pom",
        pom(
            "org.example",
            "demo-bom",
            "5.0",
            "<packaging>pom</packaging><dependencyManagement><dependencies>"
            + dep("org.example", "lib-a", "1.5")
            + dep("org.example", "lib-b", "9.9")  # the parent's own entry wins
            + "</dependencies></dependencyManagement>",
        ),
        {},
    )
    maven_file(
        s,
        f"{ex}/demo/1.1.0/demo-1.1.0.pom",
        pom(
            "",
            "demo",
            "1.1.0",
            "<dependencies>"
            + dep("org.example", "lib-a")
            + dep("org.example", "lib-b")
            + dep("junit", "junit", "4.13.2", "<scope>test</scope>")
            + dep("jakarta.servlet", "jakarta.servlet-api", "6.0.0", "<scope>provided</scope>")
            + dep(
                "org.example",
                "opt",
                "[1.0,2.0)",
                "<optional>true</optional><exclusions><exclusion><groupId>x</groupId>"
                "<artifactId>y</artifactId></exclusion></exclusions>",
            )
            + "</dependencies>",
            parent=("org.example", "demo-parent", "3"),
        ),
        {"sha1": None, "md5": None},
    )
    # demo 1.0.0: no parent, two licenses, only an .md5 (still checked, as Maven does).
    maven_file(
        s,
        f"{ex}/demo/1.0.0/demo-1.0.0.pom",
        pom(
            "org.example",
            "demo",
            "1.0.0",
            "<packaging>bundle</packaging><licenses>"
            "<license><name>MIT</name></license><license><name>Apache-2.0</name></license>"
            "</licenses><dependencies>" + dep("org.example", "lib-a", "1.0") + "</dependencies>",
        ),
        {"md5": None},
    )
    # demo 2.0.0-M1: its .sha1 does not match.
    maven_file(
        s,
        f"{ex}/demo/2.0.0-M1/demo-2.0.0-M1.pom",
        pom("org.example", "demo", "2.0.0-M1"),
        {"sha1": "1" * 40},
    )
    # orphan 1.0's parent is not in the repository; orphan 2.0 has no POM at all.
    maven_listing(s, "org.example", "orphan", ["1.0", "2.0"])
    maven_file(
        s,
        f"{ex}/orphan/1.0/orphan-1.0.pom",
        pom("", "orphan", "1.0", parent=("org.example", "gone", "7")),
        {"sha1": None},
    )
    # loop 1.0 -> loop-a:1 -> loop-b:1 -> loop-a:1
    maven_listing(s, "org.example", "loop", ["1.0"])
    maven_file(
        s,
        f"{ex}/loop/1.0/loop-1.0.pom",
        pom("", "loop", "1.0", parent=("org.example", "loop-a", "1")),
        {"sha1": None},
    )
    for name, parent in (("loop-a", "loop-b"), ("loop-b", "loop-a")):
        maven_file(
            s,
            f"{ex}/{name}/1/{name}-1.pom",
            pom("org.example", name, "1", parent=("org.example", parent, "1")),
            {"sha1": None},
        )
    # snap 1.0-SNAPSHOT: the version-level metadata names the timestamped POM.
    maven_listing(s, "org.example", "snap", ["1.0-SNAPSHOT"])
    s.add(
        f"/maven2/{ex}/snap/1.0-SNAPSHOT/maven-metadata.xml",
        "<metadata><groupId>org.example</groupId><artifactId>snap</artifactId>"
        "<version>1.0-SNAPSHOT</version><versioning><snapshot>"
        "<timestamp>20240102.030405</timestamp><buildNumber>7</buildNumber></snapshot>"
        "</versioning></metadata>",
        "text/xml",
    )
    maven_file(
        s,
        f"{ex}/snap/1.0-SNAPSHOT/snap-1.0-20240102.030405-7.pom",
        pom(
            "org.example",
            "snap",
            "1.0-SNAPSHOT",
            "<dependencies>" + dep("a", "b", "1") + "</dependencies>",
        ),
        {"sha1": None},
    )


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    populate(srv)
    thread = threading.Thread(target=srv.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def registries(s: Server) -> dict[str, str]:
    return {
        "pypi": f"{s.base}/simple/",
        "npm": f"{s.base}/npm/",
        "cargo": f"sparse+{s.base}/crates/",
        "maven": f"{s.base}/maven2/",
        "nuget": f"{s.base}/nuget/v3/index.json",
        "rubygems": f"{s.base}/gems/",
        "composer": f"{s.base}/composer/",
    }


NAMES = {
    "pypi": "Demo",
    "npm": "left-pad",
    "cargo": "demo",
    "maven": "org.example:demo",
    "nuget": "Demo.Lib",
    "rubygems": "demo",
    "composer": "acme/demo",
}


def fetch(client: RegistryClient, ecosystem: str, name: str, registry: str | None) -> PackageInfo:
    async def go() -> PackageInfo:
        async with client:
            return await fetch_package(ecosystem, name, client=client, registry=registry)

    return asyncio.run(go())


def metadata(client: RegistryClient, ecosystem: str, name: str, version: str, reg: str) -> Release:
    async def go() -> Release:
        async with client:
            return await fetch_metadata(ecosystem, name, version, client=client, registry=reg)

    return asyncio.run(go())


def make(tmp_path: Path, **kw: Any) -> RegistryClient:
    return RegistryClient(cache_dir=tmp_path / "cache", max_attempts=1, **kw)


def get(server: Server, tmp_path: Path, ecosystem: str) -> PackageInfo:
    reg = registries(server)[ecosystem]
    return fetch(make(tmp_path), ecosystem, NAMES[ecosystem], reg)


def release(info: PackageInfo, version: str) -> Release:
    found = info.release(version)
    assert found is not None, version
    return found


def deps(rel: Release) -> list[tuple[str, str | None]]:
    assert rel.dependencies is not None
    return [(d.name, d.constraint) for d in rel.dependencies]


# --- per ecosystem ----------------------------------------------------------------------------


def test_pypi(server: Server, tmp_path: Path) -> None:
    info = get(server, tmp_path, "pypi")
    assert info.ecosystem == "pypi"
    assert info.versions() == ["1.0.0", "1.1.0", "2.0.0b1"]
    assert release(info, "1.1.0").yanked == "broken build"
    assert release(info, "1.0.0").yanked is None
    wheel = release(info, "1.0.0").artifacts[0]
    assert wheel.url == f"{server.base}/files/demo-1.0.0-py3-none-any.whl"
    assert wheel.hashes == {"sha256": "c" * 64}
    assert wheel.metadata_url == wheel.url + ".metadata"
    # The Simple API lists files only: dependencies unknown until fetch_metadata.
    assert release(info, "1.0.0").dependencies is None
    accept = server.log[0][1]["accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json")


def test_pypi_metadata_pep658_verified(server: Server, tmp_path: Path) -> None:
    reg = registries(server)["pypi"]
    rel = metadata(make(tmp_path), "pypi", "demo", "1.0.0", reg)
    assert rel.version == "1.0.0"
    assert deps(rel) == [("requests", ">=2.28"), ("pytest", "")]
    assert rel.dependencies is not None
    assert [d.optional for d in rel.dependencies] == [False, True]
    assert rel.license == "MIT"
    assert rel.extra["requires_python"] == ">=3.8"


def test_pypi_metadata_hash_mismatch(server: Server, tmp_path: Path) -> None:
    reg = registries(server)["pypi"]
    with pytest.raises(ChecksumMismatch):
        metadata(make(tmp_path), "pypi", "demo", "2.0.0b1", reg)


def test_pypi_metadata_without_pep658_reads_the_wheel(server: Server, tmp_path: Path) -> None:
    # 1.1.0 offers no metadata file, so its wheel is read; this index lists a wheel it does
    # not serve, which is an error naming the file, never "no dependencies".
    reg = registries(server)["pypi"]
    with pytest.raises(RegistryNotFound, match=r"demo-1\.1\.0-py3-none-any\.whl"):
        metadata(make(tmp_path), "pypi", "demo", "1.1.0", reg)


def test_pypi_html_index(server: Server, tmp_path: Path) -> None:
    reg = f"{server.base}/legacy/"
    info = fetch(make(tmp_path), "pypi", "demo", reg)
    assert info.versions() == ["1.0.0", "1.1.0"]
    assert release(info, "1.1.0").yanked == "broken build"
    assert release(info, "1.0.0").artifacts[0].hashes == {"sha256": "c" * 64}
    # data-core-metadata="true" without a hash: fetched as is, like the page.
    rel = metadata(make(tmp_path / "m"), "pypi", "demo", "1.0.0", reg)
    assert deps(rel) == [("requests", ">=2.28"), ("pytest", "")]


def test_npm(server: Server, tmp_path: Path) -> None:
    info = get(server, tmp_path, "npm")
    assert info.versions() == ["1.0.0", "1.1.0", "2.0.0-beta.1"]
    assert info.tags == {"latest": "1.1.0", "next": "2.0.0-beta.1"}
    assert deps(release(info, "1.0.0")) == [("wordwrap", "^1.0.0")]
    assert release(info, "1.1.0").deprecated == "use String.prototype.padStart()"
    artifact = release(info, "1.0.0").artifacts[0]
    assert artifact.hashes["sha1"] == hashlib.sha1(TGZ).hexdigest()
    assert "sha512" in artifact.hashes
    accept = server.log[0][1]["accept"]
    assert accept.startswith("application/vnd.npm.install-v1+json")


def test_cargo(server: Server, tmp_path: Path) -> None:
    info = get(server, tmp_path, "cargo")
    assert info.versions() == ["1.0.0", "1.1.0", "2.0.0-alpha.1"]
    assert release(info, "1.1.0").yanked == ""
    assert release(info, "1.0.0").yanked is None
    assert deps(release(info, "1.0.0")) == [("libc", "^0.2")]
    artifact = release(info, "1.0.0").artifacts[0]
    assert artifact.hashes == {"sha256": CRATE_CKSUM}
    # config.json's dl template (no markers: the default suffix) gives the download URL.
    assert artifact.url == f"{server.base}/api/v1/crates/demo/1.0.0/download"
    assert [p for p, _ in server.log] == ["/crates/config.json", "/crates/de/mo/demo"]


def test_maven(server: Server, tmp_path: Path) -> None:
    info = get(server, tmp_path, "maven")
    assert info.name == "org.example:demo"
    assert info.versions() == ["1.0.0", "1.1.0", "2.0.0-M1"]
    assert info.tags == {"latest": "2.0.0-M1", "release": "1.1.0"}
    # The listing alone has no dependencies: they are in each version's POM.
    assert release(info, "1.1.0").dependencies is None


def maven_metadata(server: Server, tmp_path: Path, name: str, version: str) -> Release:
    return metadata(make(tmp_path), "maven", name, version, registries(server)["maven"])


def test_maven_metadata_effective_model(server: Server, tmp_path: Path) -> None:
    rel = maven_metadata(server, tmp_path, "org.example:demo", "1.1.0")
    assert rel.version == "1.1.0"
    assert rel.dependencies is not None
    got = {d.name: d for d in rel.dependencies}
    # Child's dependencies first, then the parent's inherited one; no BOM among them.
    assert list(got) == [
        "org.example:lib-a",
        "org.example:lib-b",
        "junit:junit",
        "jakarta.servlet:jakarta.servlet-api",
        "org.example:opt",
        "org.slf4j:slf4j-api",
    ]
    # The version from the BOM the parent imports (its version a grandparent property).
    assert got["org.example:lib-a"].constraint == "1.5"
    assert got["org.example:lib-a"].extra["managed_by"] == "org.example:demo-bom:5.0"
    # The parent's own management entry beats the BOM's: version, scope and exclusions.
    lib_b = got["org.example:lib-b"]
    assert (lib_b.constraint, lib_b.kind, lib_b.exclusions) == ("2.2", "runtime", ("org.bad:bad",))
    assert (got["junit:junit"].kind, got["jakarta.servlet:jakarta.servlet-api"].kind) == (
        "test",
        "provided",
    )
    opt = got["org.example:opt"]
    assert (opt.constraint, opt.optional, opt.exclusions) == ("[1.0,2.0)", True, ("x:y",))
    assert got["org.slf4j:slf4j-api"].kind == "normal"
    # The license is the grandparent's: nearest POM that lists one.
    assert rel.license == "Apache-2.0"
    assert rel.extra["boms"] == ["org.example:demo-bom:5.0"]
    assert rel.extra["parent"]["artifactId"] == "demo-parent"


def test_maven_metadata_checksums(server: Server, tmp_path: Path) -> None:
    rel = maven_metadata(server, tmp_path, "org.example:demo", "1.1.0")
    m2 = f"{server.base}/maven2/org/example"
    assert rel.extra["pom_checksums"] == {
        f"{m2}/demo/1.1.0/demo-1.1.0.pom": "sha1",
        f"{m2}/demo-parent/3/demo-parent-3.pom": "sha256",
        f"{m2}/root/1/root-1.pom": "sha512",
        f"{m2}/demo-bom/5.0/demo-bom-5.0.pom": "missing",
    }
    # The BOM had no checksum file: used (Maven's checksumPolicy=warn), never called verified.
    assert rel.extra["checksum"] == "missing"
    requested = [p for p, _ in server.log]
    # The strongest checksum present is used; the root's (wrong) .sha1 is never asked for.
    assert "/maven2/org/example/root/1/root-1.pom.sha1" not in requested
    pom_artifact = rel.artifacts[0]
    assert pom_artifact.url == f"{m2}/demo/1.1.0/demo-1.1.0.pom"
    assert set(pom_artifact.hashes) == {"sha1"}
    assert rel.artifacts[1].filename == "demo-1.1.0.jar"


def test_maven_metadata_md5_only_and_several_licenses(server: Server, tmp_path: Path) -> None:
    rel = maven_metadata(server, tmp_path, "org.example:demo", "1.0.0")
    assert deps(rel) == [("org.example:lib-a", "1.0")]
    assert rel.license == "MIT OR Apache-2.0"
    assert rel.extra["checksum"] == "verified"
    assert list(rel.extra["pom_checksums"].values()) == ["md5"]
    assert rel.extra["packaging"] == "bundle"
    assert [a.filename for a in rel.artifacts] == ["demo-1.0.0.pom", "demo-1.0.0.jar"]


def test_maven_metadata_wrong_sha1(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ChecksumMismatch):
        maven_metadata(server, tmp_path, "org.example:demo", "2.0.0-M1")


def test_maven_metadata_wrong_md5(server: Server, tmp_path: Path) -> None:
    path = "/maven2/org/example/demo/1.0.0/demo-1.0.0.pom.md5"
    server.routes[path] = ("text/plain", b"0" * 32)
    with pytest.raises(ChecksumMismatch) as caught:
        maven_metadata(server, tmp_path, "org.example:demo", "1.0.0")
    assert caught.value.algorithm == "md5"


def test_maven_metadata_missing_parent_is_an_error(server: Server, tmp_path: Path) -> None:
    with pytest.raises(
        NonResolvablePom, match=r"parent POM org\.example:gone:7: not in the repository"
    ):
        maven_metadata(server, tmp_path, "org.example:orphan", "1.0")


def test_maven_metadata_without_pom_is_unknown(server: Server, tmp_path: Path) -> None:
    rel = maven_metadata(server, tmp_path, "org.example:orphan", "2.0")
    assert rel.dependencies is None
    assert rel.extra["pom"] == "missing"


def test_maven_metadata_parent_cycle(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="parent cycle"):
        maven_metadata(server, tmp_path, "org.example:loop", "1.0")


def test_maven_metadata_timestamped_snapshot(server: Server, tmp_path: Path) -> None:
    rel = maven_metadata(server, tmp_path, "org.example:snap", "1.0-SNAPSHOT")
    assert deps(rel) == [("a:b", "1")]
    assert rel.extra["pom_url"].endswith("/snap/1.0-SNAPSHOT/snap-1.0-20240102.030405-7.pom")
    assert rel.artifacts[1].filename == "snap-1.0-20240102.030405-7.jar"


def test_maven_metadata_cached_second_time(server: Server, tmp_path: Path) -> None:
    first = maven_metadata(server, tmp_path, "org.example:demo", "1.1.0")
    sent = len(server.log)
    client = make(tmp_path)
    second = metadata(client, "maven", "org.example:demo", "1.1.0", registries(server)["maven"])
    assert second == first
    # Only the checksum files the repository lacks (404s are not cached) are asked again.
    again = [p for p, _ in server.log[sent:]]
    assert again
    assert all(p.rsplit(".", 1)[-1] in {"sha512", "sha256", "sha1", "md5"} for p in again)


def test_maven_name_must_be_group_artifact(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="groupId:artifactId"):
        fetch(make(tmp_path), "maven", "demo", "http://127.0.0.1:9/")


def test_nuget(server: Server, tmp_path: Path) -> None:
    info = get(server, tmp_path, "nuget")
    assert info.name == "Demo.Lib"
    assert info.versions() == ["1.0.0", "1.1.0", "2.0.0-preview.1"]
    assert release(info, "1.1.0").yanked == "unlisted"
    assert release(info, "2.0.0-preview.1").yanked is None
    assert deps(release(info, "1.0.0")) == [("Newtonsoft.Json", "[13.0.1, )")]
    assert release(info, "1.0.0").artifacts[0].url.endswith("/demo.lib.1.0.0.nupkg")
    paths = [p for p, _ in server.log]
    assert paths == [
        "/nuget/v3/index.json",
        "/nuget/registration5-semver1/demo.lib/index.json",
        "/nuget/registration5-semver1/demo.lib/page/2.0.0-preview.1/2.0.0-preview.1.json",
    ]


def test_rubygems(server: Server, tmp_path: Path) -> None:
    info = get(server, tmp_path, "rubygems")
    assert info.versions() == ["1.0.0", "1.0.0", "1.1.0.pre"]
    plain = info.releases[0]
    assert plain.extra["platform"] == "ruby"
    assert info.releases[1].extra["platform"] == "java"
    assert deps(plain) == [("rack", ">= 2.0, < 4"), ("json", "~> 2.6")]
    assert plain.artifacts[0].hashes == {"sha256": GEM_CKSUM}
    assert plain.artifacts[0].url == f"{server.base}/gems/gems/demo-1.0.0.gem"
    # /info alone cannot tell yanked versions (they vanish from it): none is marked.
    assert all(r.yanked is None for r in info.releases)
    assert [p for p, _ in server.log] == ["/gems/info/demo"]


def test_composer(server: Server, tmp_path: Path) -> None:
    info = get(server, tmp_path, "composer")
    assert info.versions() == ["2.0.0-RC1", "1.0.0", "dev-main"]
    rc = release(info, "2.0.0-RC1")
    assert deps(rc) == [("php", ">=8.1"), ("psr/log", "^3.0")]
    assert rc.artifacts[0].hashes == {"sha1": "5" * 40}
    assert rc.license == "MIT"
    old = release(info, "1.0.0")
    # Minified: 1.0.0 inherits from the entry before it, overriding require.
    assert deps(old) == [("php", ">=7.4")]
    assert old.deprecated == "acme/other"
    assert old.artifacts[0].hashes == {}


def test_composer_without_dev_file(server: Server, tmp_path: Path) -> None:
    del server.routes["/composer/p2/acme/demo~dev.json"]
    info = get(server, tmp_path, "composer")
    assert info.versions() == ["2.0.0-RC1", "1.0.0"]


# --- dispatcher, errors, cache, auth ----------------------------------------------------------


@pytest.mark.parametrize("ecosystem", sorted(NAMES))
def test_missing_package_is_a_clear_error(server: Server, tmp_path: Path, ecosystem: str) -> None:
    name = {"maven": "org.example:nope", "composer": "acme/nope", "nuget": "Nope"}.get(
        ecosystem, "nope"
    )
    reg = registries(server)[ecosystem]
    with pytest.raises(PackageNotFound) as caught:
        fetch(make(tmp_path), ecosystem, name, reg)
    assert str(caught.value) == f"no package {name} on {reg}"
    assert caught.value.name == name


def test_missing_version(server: Server, tmp_path: Path) -> None:
    reg = registries(server)["npm"]
    with pytest.raises(VersionNotFound) as caught:
        metadata(make(tmp_path), "npm", "left-pad", "9.9.9", reg)
    assert str(caught.value) == f"no version 9.9.9 of left-pad on {reg}"


def test_metadata_elsewhere_is_the_listed_release(server: Server, tmp_path: Path) -> None:
    reg = registries(server)["cargo"]
    rel = metadata(make(tmp_path), "cargo", "demo", "1.0.0", reg)
    assert deps(rel) == [("libc", "^0.2")]


def test_unknown_ecosystem(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedRegistry, match="unknown ecosystem 'cpan'"):
        fetch(make(tmp_path), "cpan", "x", None)


def test_aliases(server: Server, tmp_path: Path) -> None:
    info = fetch(make(tmp_path), "crates", "demo", registries(server)["cargo"])
    assert info.ecosystem == "cargo"


@pytest.mark.parametrize("ecosystem", sorted(NAMES))
def test_fresh_cache_makes_zero_requests(server: Server, tmp_path: Path, ecosystem: str) -> None:
    client = make(tmp_path)
    reg = registries(server)[ecosystem]

    async def go() -> tuple[PackageInfo, int, PackageInfo]:
        async with client:
            first = await fetch_package(ecosystem, NAMES[ecosystem], client=client, registry=reg)
            sent = client.stats.requests
            second = await fetch_package(ecosystem, NAMES[ecosystem], client=client, registry=reg)
            return first, sent, second

    first, sent, second = asyncio.run(go())
    assert sent > 0
    assert client.stats.requests == sent
    assert second == first


def bearer(url: str) -> Mapping[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def test_private_registry_with_token(server: Server, tmp_path: Path) -> None:
    info = fetch(make(tmp_path, auth=bearer), "npm", "left-pad", f"{server.base}/private/npm/")
    assert info.versions() == ["1.0.0", "1.1.0", "2.0.0-beta.1"]
    assert server.log[-1][1]["authorization"] == f"Bearer {TOKEN}"
    # The token is not written into the cache.
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes()


def test_private_registry_without_token(server: Server, tmp_path: Path) -> None:
    with pytest.raises(RegistryAuthError) as caught:
        fetch(make(tmp_path), "npm", "left-pad", f"{server.base}/private/npm/")
    assert caught.value.status == 401
    assert TOKEN not in str(caught.value)


def test_private_registry_errors_never_show_the_token(server: Server, tmp_path: Path) -> None:
    with pytest.raises(PackageNotFound) as caught:
        fetch(make(tmp_path, auth=bearer), "npm", "nope", f"{server.base}/private/npm/")
    assert TOKEN not in str(caught.value)
    # A token in the registry URL's user-info is redacted too (the server wants Bearer: 401).
    registry = f"http://user:{TOKEN}@{server.base.removeprefix('http://')}/private/npm/"
    with pytest.raises(RegistryAuthError) as auth_error:
        fetch(make(tmp_path / "b"), "npm", "left-pad", registry)
    assert TOKEN not in str(auth_error.value)
    assert TOKEN not in repr(auth_error.value)


def test_maven_metadata_pom_count_is_limited(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maven_pom, "MAX_POMS", 2)  # demo 1.1.0 needs 3: parent, root, BOM
    with pytest.raises(NonResolvablePom, match="more than 2 parent and BOM POMs"):
        maven_metadata(server, tmp_path, "org.example:demo", "1.1.0")


def test_maven_metadata_pom_must_be_the_version_asked_for(server: Server, tmp_path: Path) -> None:
    maven_file(
        server,
        "org/example/orphan/2.0/orphan-2.0.pom",
        pom("org.example", "orphan", "2.1"),
        {"sha1": None},
    )
    with pytest.raises(PackageError, match=r"the POM is org\.example:orphan:2\.1, not"):
        maven_metadata(server, tmp_path, "org.example:orphan", "2.0")


def test_maven_metadata_password_not_in_release(server: Server, tmp_path: Path) -> None:
    registry = f"http://user:{TOKEN}@{server.base.removeprefix('http://')}/maven2/"
    rel = metadata(make(tmp_path), "maven", "org.example:demo", "1.0.0", registry)
    assert rel.license == "MIT OR Apache-2.0"
    assert TOKEN not in json.dumps(dict(rel.extra))


# --- artifacts: downloaded and verified ------------------------------------------------------


def download(
    client: RegistryClient, ecosystem: str, artifact: Artifact, release: Release, **kw: Any
) -> tuple[bytes, tuple[str, ...]]:
    async def go() -> tuple[bytes, tuple[str, ...]]:
        async with client:
            resp, checked = await fetch_artifact(ecosystem, artifact, release, client=client, **kw)
            return resp.content, checked

    return asyncio.run(go())


BODY = b"the file's bytes"


def test_artifact_verified_against_the_listing(server: Server, tmp_path: Path) -> None:
    server.add("/files/blob.crate", BODY, "application/octet-stream")
    art = Artifact(url=f"{server.base}/files/blob.crate", hashes={"sha256": sha256(BODY)})
    assert download(make(tmp_path), "cargo", art, Release("1.0.0")) == (BODY, ("sha256",))
    bad = Artifact(url=art.url, hashes={"sha256": "0" * 64})
    with pytest.raises(ChecksumMismatch):
        download(make(tmp_path / "2"), "cargo", bad, Release("1.0.0"))


def test_nuget_package_verified_against_its_catalog_leaf(server: Server, tmp_path: Path) -> None:
    server.add("/nuget/flat/x/1.0.0/x.1.0.0.nupkg", BODY, "application/octet-stream")
    digest = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    server.add(
        "/nuget/catalog/x.1.0.0.json", {"packageHash": digest, "packageHashAlgorithm": "SHA512"}
    )
    art = Artifact(url=f"{server.base}/nuget/flat/x/1.0.0/x.1.0.0.nupkg")
    rel = Release("1.0.0", extra={"catalog_url": f"{server.base}/nuget/catalog/x.1.0.0.json"})
    assert download(make(tmp_path), "nuget", art, rel) == (BODY, ("sha512",))


def test_maven_file_verified_against_its_checksum_file(server: Server, tmp_path: Path) -> None:
    server.add("/maven2/g/a/1/a-1.jar", BODY, "application/java-archive")
    server.add("/maven2/g/a/1/a-1.jar.sha1", hashlib.sha1(BODY).hexdigest() + "  a-1.jar\n")
    art = Artifact(url=f"{server.base}/maven2/g/a/1/a-1.jar")
    assert download(make(tmp_path), "maven", art, Release("1")) == (BODY, ("sha1",))
    # Only an MD5 file, and a wrong one: refused.
    server.add("/maven2/g/a/2/a-2.jar", BODY, "application/java-archive")
    server.add("/maven2/g/a/2/a-2.jar.md5", "0" * 32)
    art2 = Artifact(url=f"{server.base}/maven2/g/a/2/a-2.jar")
    with pytest.raises(ChecksumMismatch):
        download(make(tmp_path / "2"), "maven", art2, Release("2"))


def test_a_file_without_any_checksum_is_refused_unless_allowed(
    server: Server, tmp_path: Path
) -> None:
    server.add("/dl/acme-demo-1.0.0.zip", BODY, "application/zip")
    art = Artifact(url=f"{server.base}/dl/acme-demo-1.0.0.zip", hashes={"sha1": ""})
    with pytest.raises(UnverifiableArtifact, match="no checksum"):
        download(make(tmp_path), "composer", art, Release("1.0.0"))
    assert download(make(tmp_path), "composer", art, Release("1.0.0"), allow_unverified=True) == (
        BODY,
        (),
    )
