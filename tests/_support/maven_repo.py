"""A Maven repository in the real layout, built on disk for the Maven lock and differential tests.

Artifacts are POM-only (``dependency:tree`` and tuskops need POMs, never jars): each version
is ``group/as/dirs/artifact/version/artifact-version.pom`` with its ``.sha1``, and each artifact
has a ``maven-metadata.xml`` (versions, latest, release, lastUpdated) with its ``.sha1``, as
``mvn deploy`` writes them. The same directory serves as a ``file://`` repository, or over
HTTP through :func:`serve`. Projects are ``pom.xml`` files written by :func:`project_pom`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

#: The groupId prefix of every fixture artifact: its top directory must not collide with the
#: machine's ~/.m2/repository, whose entries the differential tests link into a local repo.
GROUP = "fixture"


@dataclass(frozen=True)
class Dep:
    """One ``<dependency>``: ``coords`` is ``group:artifact[:version]``."""

    coords: str
    scope: str | None = None
    optional: bool = False
    exclusions: Sequence[str] = ()
    type: str | None = None
    classifier: str | None = None

    def xml(self) -> str:
        parts = self.coords.split(":")
        out = [
            f"<groupId>{escape(parts[0])}</groupId>",
            f"<artifactId>{escape(parts[1])}</artifactId>",
        ]
        if len(parts) > 2 and parts[2]:
            out.append(f"<version>{escape(parts[2])}</version>")
        if self.type:
            out.append(f"<type>{self.type}</type>")
        if self.classifier:
            out.append(f"<classifier>{self.classifier}</classifier>")
        if self.scope:
            out.append(f"<scope>{self.scope}</scope>")
        if self.optional:
            out.append("<optional>true</optional>")
        if self.exclusions:
            excl = "".join(
                f"<exclusion><groupId>{g}</groupId><artifactId>{a}</artifactId></exclusion>"
                for g, _, a in (e.partition(":") for e in self.exclusions)
            )
            out.append(f"<exclusions>{excl}</exclusions>")
        return "<dependency>" + "".join(out) + "</dependency>"


def _deps(tag: str, deps: Sequence[Dep]) -> str:
    if not deps:
        return ""
    return f"<{tag}>\n    " + "\n    ".join(d.xml() for d in deps) + f"\n  </{tag}>\n"


def pom_xml(
    coords: str,
    dependencies: Sequence[Dep] = (),
    *,
    managed: Sequence[Dep] = (),
    parent: str | None = None,
    packaging: str = "jar",
    properties: dict[str, str] | None = None,
    extra: str = "",
) -> str:
    """The text of a POM for ``group:artifact:version``."""
    group, artifact, version = coords.split(":")
    body = ['<?xml version="1.0" encoding="UTF-8"?>']
    body.append('<project xmlns="http://maven.apache.org/POM/4.0.0">')
    body.append("  <modelVersion>4.0.0</modelVersion>")
    if parent is not None:
        pg, pa, pv = parent.split(":")
        body.append(
            f"  <parent><groupId>{pg}</groupId><artifactId>{pa}</artifactId>"
            f"<version>{pv}</version></parent>"
        )
    body.append(f"  <groupId>{group}</groupId>")
    body.append(f"  <artifactId>{artifact}</artifactId>")
    body.append(f"  <version>{version}</version>")
    body.append(f"  <packaging>{packaging}</packaging>")
    if properties:
        props = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in properties.items())
        body.append(f"  <properties>{props}</properties>")
    text = "\n".join(body) + "\n"
    if managed:
        text += "  <dependencyManagement>\n  " + _deps("dependencies", managed).rstrip("\n")
        text += "\n  </dependencyManagement>\n"
    text += "  " + _deps("dependencies", dependencies) if dependencies else ""
    return text + extra + "</project>\n"


def _sha1(path: Path) -> None:
    digest = hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()
    path.with_name(path.name + ".sha1").write_text(digest)


@dataclass
class MavenRepo:
    """A repository directory; :meth:`add` deploys a POM artifact into it."""

    root: Path
    versions: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.root.resolve().as_uri()

    def add(
        self,
        coords: str,
        dependencies: Sequence[Dep] = (),
        *,
        checksums: bool = True,
        **options: object,
    ) -> Path:
        """Deploy ``group:artifact:version`` (``options`` as for :func:`pom_xml`)."""
        group, artifact, version = coords.split(":")
        directory = self.root / group.replace(".", "/") / artifact
        pom = directory / version / f"{artifact}-{version}.pom"
        pom.parent.mkdir(parents=True, exist_ok=True)
        pom.write_text(pom_xml(coords, dependencies, **options))  # type: ignore[arg-type]
        if checksums:
            _sha1(pom)
        listed = self.versions.setdefault((group, artifact), [])
        if version not in listed:
            listed.append(version)
        self._metadata(group, artifact, directory)
        return pom

    def _metadata(self, group: str, artifact: str, directory: Path) -> None:
        listed = self.versions[group, artifact]
        # Deploy order is version order in these fixtures; Maven writes latest/release as the
        # last deployed.
        versions = "".join(f"<version>{v}</version>" for v in listed)
        release = next((v for v in reversed(listed) if not v.endswith("-SNAPSHOT")), listed[-1])
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<metadata>\n'
            f"  <groupId>{group}</groupId>\n  <artifactId>{artifact}</artifactId>\n"
            f"  <versioning>\n    <latest>{listed[-1]}</latest>\n"
            f"    <release>{release}</release>\n"
            f"    <versions>{versions}</versions>\n"
            "    <lastUpdated>20260101000000</lastUpdated>\n  </versioning>\n</metadata>\n"
        )
        path = directory / "maven-metadata.xml"
        path.write_text(text)
        _sha1(path)


def project_pom(
    directory: Path,
    dependencies: Sequence[Dep],
    *,
    repositories: Sequence[str],
    managed: Sequence[Dep] = (),
    coords: str = f"{GROUP}:app:1.0",
    parent: str | None = None,
    properties: dict[str, str] | None = None,
    plugin: str | None = None,
) -> Path:
    """Write ``directory/pom.xml``. ``repositories`` are URLs; the first gets the id
    ``central`` so that neither Maven nor tuskops looks at Maven Central for dependencies.

    ``plugin`` pins maven-dependency-plugin's version (with commons-beanutils 1.11.0, which
    a machine's ~/.m2 has where the plugin's own 1.9.4 is missing) and configures three
    executions of ``dependency:tree`` for one ``mvn`` run
    (``dependency:tree@text dependency:tree@json dependency:tree@verbose``), writing
    ``tree.txt``, ``tree.json`` and ``verbose.txt`` next to the project directory."""
    out = directory.resolve().parent
    repos = "".join(
        f"<repository><id>{'central' if i == 0 else f'repo{i}'}</id><url>{url}</url></repository>"
        for i, url in enumerate(repositories)
    )
    extra = f"  <repositories>{repos}</repositories>\n"
    if plugin is not None:
        extra += (
            "  <build><plugins><plugin><groupId>org.apache.maven.plugins</groupId>"
            f"<artifactId>maven-dependency-plugin</artifactId><version>{plugin}</version>"
            "<dependencies><dependency><groupId>commons-beanutils</groupId>"
            "<artifactId>commons-beanutils</artifactId><version>1.11.0</version>"
            "</dependency></dependencies><executions>"
            f"<execution><id>text</id><configuration><outputFile>{out / 'tree.txt'}"
            "</outputFile></configuration></execution>"
            f"<execution><id>json</id><configuration><outputFile>{out / 'tree.json'}"
            "</outputFile><outputType>json</outputType></configuration></execution>"
            f"<execution><id>verbose</id><configuration><outputFile>{out / 'verbose.txt'}"
            "</outputFile><verbose>true</verbose></configuration></execution>"
            "</executions></plugin></plugins></build>\n"
        )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pom.xml"
    path.write_text(
        pom_xml(
            coords,
            dependencies,
            managed=managed,
            parent=parent,
            properties=properties,
            extra=extra,
        )
    )
    return path


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Served:
    """A repository directory served over HTTP."""

    httpd: ThreadingHTTPServer
    url: str

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(root: Path) -> Served:
    """Serve ``root`` over HTTP on a local port."""
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return Served(httpd, f"http://127.0.0.1:{httpd.server_address[1]}")
