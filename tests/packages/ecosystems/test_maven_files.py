"""maven_files: POMs read into Maven's effective model (POM reference: inheritance,
dependencyManagement, BOM imports, properties, profiles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuskops.errors import ManifestError
from tuskops.packages.ecosystems.maven_files import (
    MAX_IMPORT_DEPTH,
    MAX_PARENT_DEPTH,
    PomResolver,
    PomSource,
    PomSourceResolver,
    missing_poms,
    read_pom,
    read_pom_bytes,
)
from tuskops.packages.manifests import Dependency, Manifest, read

NS = (
    'xmlns="http://maven.apache.org/POM/4.0.0" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 '
    'https://maven.apache.org/xsd/maven-4.0.0.xsd"'
)

PARENT = f"""<?xml version="1.0" encoding="UTF-8"?>
<project {NS}>
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.example</groupId>
  <artifactId>example-parent</artifactId>
  <version>1.4.0-SNAPSHOT</version>
  <packaging>pom</packaging>
  <modules>
    <module>app</module>
  </modules>
  <properties>
    <junit.version>5.10.2</junit.version>
    <slf4j.version>2.0.12</slf4j.version>
    <jackson.version>2.16.1</jackson.version>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>org.slf4j</groupId>
        <artifactId>slf4j-api</artifactId>
        <version>${{slf4j.version}}</version>
      </dependency>
      <dependency>
        <groupId>org.junit.jupiter</groupId>
        <artifactId>junit-jupiter</artifactId>
        <version>${{junit.version}}</version>
        <scope>test</scope>
      </dependency>
      <dependency>
        <groupId>commons-logging</groupId>
        <artifactId>commons-logging</artifactId>
        <version>1.3.0</version>
        <exclusions>
          <exclusion>
            <groupId>javax.servlet</groupId>
            <artifactId>servlet-api</artifactId>
          </exclusion>
        </exclusions>
      </dependency>
      <dependency>
        <groupId>com.fasterxml.jackson</groupId>
        <artifactId>jackson-bom</artifactId>
        <version>${{jackson.version}}</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
    </dependency>
    <dependency>
      <groupId>org.example</groupId>
      <artifactId>example-common</artifactId>
      <version>${{project.version}}</version>
    </dependency>
  </dependencies>
</project>
"""

APP = f"""<?xml version="1.0" encoding="UTF-8"?>
<project {NS}>
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>org.example</groupId>
    <artifactId>example-parent</artifactId>
    <version>1.4.0-SNAPSHOT</version>
  </parent>
  <artifactId>example-app</artifactId>
  <packaging>war</packaging>
  <properties>
    <slf4j.version>2.0.13</slf4j.version>
    <guava.version>33.0.0-jre</guava.version>
    <build.home>${{env.HOME}}/build</build.home>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
    </dependency>
    <dependency>
      <groupId>commons-logging</groupId>
      <artifactId>commons-logging</artifactId>
      <optional>true</optional>
      <exclusions>
        <exclusion>
          <groupId>log4j</groupId>
          <artifactId>*</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
    </dependency>
    <dependency>
      <groupId>com.google.guava</groupId>
      <artifactId>guava</artifactId>
      <version>[${{guava.version}},34)</version>
    </dependency>
    <dependency>
      <groupId>org.example</groupId>
      <artifactId>example-natives</artifactId>
      <version>${{project.parent.version}}</version>
      <type>zip</type>
      <classifier>linux-x86_64</classifier>
      <scope>runtime</scope>
    </dependency>
    <dependency>
      <groupId>javax.servlet</groupId>
      <artifactId>javax.servlet-api</artifactId>
      <version>4.0.1</version>
      <scope>provided</scope>
    </dependency>
  </dependencies>
  <profiles>
    <profile>
      <id>default-tools</id>
      <activation>
        <activeByDefault>true</activeByDefault>
      </activation>
      <dependencies>
        <dependency>
          <groupId>org.projectlombok</groupId>
          <artifactId>lombok</artifactId>
          <version>1.18.30</version>
          <scope>provided</scope>
        </dependency>
      </dependencies>
    </profile>
    <profile>
      <id>jdk21</id>
      <activation>
        <jdk>21</jdk>
      </activation>
      <dependencies>
        <dependency>
          <groupId>org.example</groupId>
          <artifactId>loom-extras</artifactId>
          <version>1.0</version>
        </dependency>
      </dependencies>
    </profile>
  </profiles>
</project>
"""

JACKSON_BOM = """<?xml version="1.0" encoding="UTF-8"?>
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.fasterxml.jackson</groupId>
  <artifactId>jackson-bom</artifactId>
  <version>2.16.1</version>
  <packaging>pom</packaging>
  <properties>
    <jackson.version.databind>${project.version}</jackson.version.databind>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>com.fasterxml.jackson.core</groupId>
        <artifactId>jackson-databind</artifactId>
        <version>${jackson.version.databind}</version>
      </dependency>
      <dependency>
        <groupId>org.slf4j</groupId>
        <artifactId>slf4j-api</artifactId>
        <version>1.7.36</version>
      </dependency>
    </dependencies>
  </dependencyManagement>
</project>
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def by_name(manifest: Manifest) -> dict[str, Dependency]:
    return {d.name: d for d in manifest.dependencies}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "pom.xml", PARENT)
    write(tmp_path / "repo" / "jackson-bom-2.16.1.pom", JACKSON_BOM)
    return write(tmp_path / "app" / "pom.xml", APP)


def resolver(root: Path) -> PomResolver:
    def resolve(group: str, artifact: str, version: str) -> Path | None:
        candidate = root / "repo" / f"{artifact}-{version}.pom"
        return candidate if candidate.is_file() else None

    return resolve


def test_effective_model_with_parent_and_bom(project: Path) -> None:
    m = read_pom(project, resolve_pom=resolver(project.parent.parent))
    assert m.ecosystem == "maven"
    assert m.name == "org.example:example-app"
    assert m.version == "1.4.0-SNAPSHOT"
    assert m.extra["packaging"] == "war"
    assert m.extra["parent"]["artifactId"] == "example-parent"
    assert "unresolved_parents" not in m.extra
    assert "unresolved_imports" not in m.extra
    deps = by_name(m)
    # Managed scope and version (from the parent's dependencyManagement).
    assert deps["org.junit.jupiter:junit-jupiter"].constraint == "5.10.2"
    assert deps["org.junit.jupiter:junit-jupiter"].kind == "test"
    # The child's property overrides the parent's, and interpolation uses the child's values.
    assert deps["org.slf4j:slf4j-api"].constraint == "2.0.13"
    assert deps["org.slf4j:slf4j-api"].kind == "normal"
    assert deps["org.example:example-common"].constraint == "1.4.0-SNAPSHOT"
    # Exclusions: the dependency's own plus the managed ones; optional is not managed.
    logging = deps["commons-logging:commons-logging"]
    assert logging.exclusions == ("log4j:*", "javax.servlet:servlet-api")
    assert logging.optional is True
    assert logging.constraint == "1.3.0"
    # From the imported BOM (which interpolates with its own project.version).
    databind = deps["com.fasterxml.jackson.core:jackson-databind"]
    assert databind.constraint == "2.16.1"
    assert databind.extra["managed_by"] == "com.fasterxml.jackson:jackson-bom:2.16.1"
    assert deps["com.google.guava:guava"].constraint == "[33.0.0-jre,34)"
    natives = deps["org.example:example-natives"]
    assert natives.constraint == "1.4.0-SNAPSHOT"
    assert natives.kind == "runtime"
    assert natives.extra == {"type": "zip", "classifier": "linux-x86_64"}
    assert deps["javax.servlet:javax.servlet-api"].kind == "provided"
    # activeByDefault profile applied, others recorded.
    assert deps["org.projectlombok:lombok"].kind == "provided"
    assert "org.example:loom-extras" not in deps
    assert m.extra["active_profiles"] == ["default-tools"]
    assert m.extra["inactive_profiles"] == [{"id": "jdk21", "activation": {"jdk": "21"}}]
    # The BOM import itself is listed with kind "import".
    bom = deps["com.fasterxml.jackson:jackson-bom"]
    assert (bom.kind, bom.constraint, bom.extra["type"]) == ("import", "2.16.1", "pom")
    # Local management wins over the BOM's (slf4j 1.7.36 in the BOM).
    managed = {e["name"]: e for e in m.extra["dependency_management"]}
    assert managed["org.slf4j:slf4j-api"]["version"] == "2.0.13"
    assert managed["com.fasterxml.jackson.core:jackson-databind"]["imported_from"].startswith(
        "com.fasterxml.jackson:jackson-bom"
    )
    # env.* left as written and recorded.
    assert m.extra["properties"]["build.home"] == "${env.HOME}/build"
    assert "env.HOME" in m.extra["unresolved_properties"]


def test_inherited_dependencies_come_after_the_childs(project: Path) -> None:
    names = [d.name for d in read_pom(project).dependencies if d.kind != "import"]
    assert names.index("org.projectlombok:lombok") < names.index("org.example:example-common")


def test_bom_without_resolver_is_recorded(project: Path) -> None:
    m = read_pom(project)
    assert m.extra["unresolved_imports"] == [
        {
            "groupId": "com.fasterxml.jackson",
            "artifactId": "jackson-bom",
            "version": "2.16.1",
            "reason": "no resolver",
        }
    ]
    assert by_name(m)["com.fasterxml.jackson.core:jackson-databind"].constraint == ""


def test_via_manifests_read(project: Path) -> None:
    m = read(project)
    assert isinstance(m, Manifest)
    assert m.name == "org.example:example-app"
    assert by_name(m)["org.junit.jupiter:junit-jupiter"].constraint == "5.10.2"


def test_star_pom_via_read(tmp_path: Path) -> None:
    m = read(write(tmp_path / "jackson-bom-2.16.1.pom", JACKSON_BOM))
    assert isinstance(m, Manifest)
    assert (m.name, m.version) == ("com.fasterxml.jackson:jackson-bom", "2.16.1")
    assert m.extra["dependency_management"][0]["version"] == "2.16.1"


def test_unresolved_parent_is_recorded_not_guessed(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml",
        """<project>
  <parent>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-starter-parent</artifactId>
    <version>3.2.4</version>
    <relativePath/>
  </parent>
  <artifactId>demo</artifactId>
  <dependencies>
    <dependency>
      <groupId>org.springframework.boot</groupId>
      <artifactId>spring-boot-starter-web</artifactId>
    </dependency>
    <dependency>
      <groupId>org.example</groupId>
      <artifactId>x</artifactId>
      <version>${spring-boot.version}</version>
    </dependency>
  </dependencies>
</project>""",
    )
    m = read_pom(pom)
    assert m.name == "org.springframework.boot:demo"
    assert m.version == "3.2.4"
    [parent] = m.extra["unresolved_parents"]
    assert parent["artifactId"] == "spring-boot-starter-parent"
    assert parent["relativePath"] == ""
    deps = by_name(m)
    assert deps["org.springframework.boot:spring-boot-starter-web"].constraint == ""
    assert deps["org.example:x"].constraint == "${spring-boot.version}"
    assert m.extra["unresolved_properties"] == ["spring-boot.version"]


def test_parent_resolved_through_callback(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "example-parent-1.4.0-SNAPSHOT.pom", PARENT)
    pom = write(tmp_path / "x" / "y" / "pom.xml", APP)  # ../pom.xml does not exist
    m = read_pom(pom, resolve_pom=resolver(tmp_path))
    assert "unresolved_parents" not in m.extra
    assert by_name(m)["org.junit.jupiter:junit-jupiter"].constraint == "5.10.2"


def test_parent_coordinates_must_match(tmp_path: Path) -> None:
    write(tmp_path / "pom.xml", PARENT.replace("1.4.0-SNAPSHOT", "1.3.0"))
    pom = write(tmp_path / "app" / "pom.xml", APP)
    m = read_pom(pom)
    [parent] = m.extra["unresolved_parents"]
    assert "is org.example:example-parent:1.3.0, not" in parent["reason"]
    assert by_name(m)["org.junit.jupiter:junit-jupiter"].constraint == ""
    assert m.version == "1.4.0-SNAPSHOT"


def test_relative_path_to_a_directory_and_legacy_pom_alias(tmp_path: Path) -> None:
    write(tmp_path / "parent" / "pom.xml", PARENT)
    text = APP.replace(
        "<version>1.4.0-SNAPSHOT</version>\n  </parent>",
        "<version>1.4.0-SNAPSHOT</version>\n    <relativePath>../parent</relativePath>\n"
        "  </parent>",
    ).replace("${project.parent.version}", "${pom.version}")
    m = read_pom(write(tmp_path / "app" / "pom.xml", text))
    assert "unresolved_parents" not in m.extra
    assert by_name(m)["org.example:example-natives"].constraint == "1.4.0-SNAPSHOT"


def test_nested_properties(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml",
        """<project>
  <groupId>g</groupId><artifactId>a</artifactId><version>2.1</version>
  <properties>
    <major>${minor.base}</major>
    <minor.base>${project.version}.0</minor.base>
  </properties>
  <dependencies>
    <dependency><groupId>g</groupId><artifactId>b</artifactId><version>${major}</version>
    </dependency>
  </dependencies>
</project>""",
    )
    assert read_pom(pom).dependencies[0].constraint == "2.1.0"


def test_property_cycle_names_the_property(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml",
        """<project>
  <groupId>g</groupId><artifactId>a</artifactId><version>1</version>
  <properties>
    <a.version>${b.version}</a.version>
    <b.version>${a.version}</b.version>
  </properties>
  <dependencies>
    <dependency><groupId>g</groupId><artifactId>b</artifactId><version>${a.version}</version>
    </dependency>
  </dependencies>
</project>""",
    )
    with pytest.raises(ManifestError) as info:
        read_pom(pom)
    assert "${a.version}" in info.value.message
    assert "a.version -> b.version -> a.version" in info.value.message
    assert info.value.location == "4:5"


def test_doctype_is_refused(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE project [<!ENTITY x "y">]>\n<project/>\n',
    )
    with pytest.raises(ManifestError) as info:
        read_pom(pom)
    assert "DOCTYPE" in info.value.message
    assert info.value.location == "2:1"


def test_xml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    pom = write(tmp_path / "pom.xml", "<project>\n  <groupId>g</artifactId>\n</project>\n")
    with pytest.raises(ManifestError) as info:
        read_pom(pom)
    assert "mismatched tag" in info.value.message
    assert info.value.location == "2:15"
    assert str(info.value).startswith(f"{pom}:2:15: error: not well-formed XML")


def test_foreign_namespace_is_refused(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml", '<project xmlns="urn:other"><artifactId>a</artifactId></project>'
    )
    with pytest.raises(ManifestError, match="namespace 'urn:other'") as info:
        read_pom(pom)
    assert info.value.location == "1:1"


def test_missing_group_id_of_dependency(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml",
        "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version>\n"
        "<dependencies>\n  <dependency><artifactId>b</artifactId></dependency>\n"
        "</dependencies></project>",
    )
    with pytest.raises(ManifestError, match="needs a <groupId>") as info:
        read_pom(pom)
    assert info.value.location == "3:3"


def test_bad_scope_and_root(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml",
        "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version>"
        "<dependencies><dependency><groupId>g</groupId><artifactId>b</artifactId>"
        "<scope>compiel</scope></dependency></dependencies></project>",
    )
    with pytest.raises(ManifestError, match="unknown scope 'compiel'"):
        read_pom(pom)
    other = write(tmp_path / "x.pom", "<settings/>")
    with pytest.raises(ManifestError, match="not <project>"):
        read_pom(other)


def test_project_without_group_and_parent(tmp_path: Path) -> None:
    pom = write(tmp_path / "pom.xml", "<project>\n  <artifactId>a</artifactId>\n</project>")
    with pytest.raises(ManifestError, match="no <groupId> and no parent") as info:
        read_pom(pom)
    assert info.value.location == "1:1"


def test_bom_import_cycle(tmp_path: Path) -> None:
    bom = """<project><groupId>g</groupId><artifactId>{a}</artifactId><version>1</version>
<dependencyManagement><dependencies><dependency><groupId>g</groupId>
<artifactId>{b}</artifactId><version>1</version><type>pom</type><scope>import</scope>
</dependency></dependencies></dependencyManagement></project>"""
    write(tmp_path / "repo" / "x-1.pom", bom.format(a="x", b="y"))
    write(tmp_path / "repo" / "y-1.pom", bom.format(a="y", b="x"))
    with pytest.raises(ManifestError, match=r"BOM import cycle: g:y:1 -> g:x:1 -> g:y:1"):
        read_pom(tmp_path / "repo" / "x-1.pom", resolve_pom=resolver(tmp_path))


def test_maven4_namespace_is_accepted(tmp_path: Path) -> None:
    pom = write(
        tmp_path / "pom.xml",
        '<project xmlns="http://maven.apache.org/POM/4.1.0"><modelVersion>4.1.0</modelVersion>'
        "<groupId>g</groupId><artifactId>a</artifactId><version>1</version></project>",
    )
    assert read_pom(pom).name == "g:a"


# --- POM content without files (a repository's POMs) ----------------------------------------


def simple_pom(artifact: str, body: str = "", parent: str | None = None) -> bytes:
    head = (
        f"<parent><groupId>g</groupId><artifactId>{parent}</artifactId><version>1</version>"
        "</parent>"
        if parent
        else "<groupId>g</groupId>"
    )
    return (
        f"<project>{head}<artifactId>{artifact}</artifactId><version>1</version>{body}</project>"
    ).encode()


def bytes_resolver(poms: dict[str, bytes]) -> PomSourceResolver:
    def resolve(group: str, artifact: str, version: str) -> PomSource | None:
        data = poms.get(f"{group}:{artifact}:{version}")
        return None if data is None else PomSource(f"repo/{artifact}-{version}.pom", data)

    return resolve


LICENSED = "<licenses><license><name>EPL-2.0</name><url>${u}</url></license></licenses>"


def test_read_pom_bytes_with_parent_bom_and_inherited_license(tmp_path: Path) -> None:
    bom = simple_pom(
        "bom",
        "<dependencyManagement><dependencies><dependency><groupId>d</groupId>"
        "<artifactId>lib</artifactId><version>${lib.version}</version><scope>runtime</scope>"
        "</dependency></dependencies></dependencyManagement>"
        "<properties><lib.version>3.1</lib.version></properties>",
    )
    parent = simple_pom(
        "parent",
        f"<properties><u>https://epl</u><bom>1</bom></properties>{LICENSED}"
        "<dependencyManagement><dependencies><dependency><groupId>g</groupId>"
        "<artifactId>bom</artifactId><version>${bom}</version><type>pom</type>"
        "<scope>import</scope></dependency></dependencies></dependencyManagement>",
    )
    child = simple_pom(
        "child",
        "<dependencies><dependency><groupId>d</groupId><artifactId>lib</artifactId>"
        "</dependency></dependencies>",
        parent="parent",
    )
    # A ../pom.xml next to where the process runs is not looked at: content has no location.
    write(tmp_path / "pom.xml", "<project>broken")
    m = read_pom_bytes(
        child, "https://repo/child-1.pom", bytes_resolver({"g:parent:1": parent, "g:bom:1": bom})
    )
    assert (m.path, m.name, m.version) == ("https://repo/child-1.pom", "g:child", "1")
    lib = by_name(m)["d:lib"]
    assert (lib.constraint, lib.kind, lib.extra["managed_by"]) == ("3.1", "runtime", "g:bom:1")
    assert m.extra["licenses"] == [{"name": "EPL-2.0", "url": "https://epl"}]
    assert "unresolved_parents" not in m.extra


def test_child_licenses_replace_the_parents(tmp_path: Path) -> None:
    parent = simple_pom("parent", f"<properties><u>x</u></properties>{LICENSED}")
    child = simple_pom(
        "child", "<licenses><license><name>MIT</name></license></licenses>", parent="parent"
    )
    m = read_pom_bytes(child, "child.pom", bytes_resolver({"g:parent:1": parent}))
    assert m.extra["licenses"] == [{"name": "MIT"}]
    # Files read the same way.
    assert read_pom(write(tmp_path / "p.pom", child.decode())).extra["licenses"] == [
        {"name": "MIT"}
    ]


def test_missing_poms_names_what_to_fetch_round_by_round() -> None:
    parent = simple_pom(
        "parent",
        "<properties><bom.version>2</bom.version></properties>"
        "<dependencyManagement><dependencies><dependency><groupId>g</groupId>"
        "<artifactId>bom</artifactId><version>${bom.version}</version><type>pom</type>"
        "<scope>import</scope></dependency></dependencies></dependencyManagement>",
        parent="root",
    )
    child = simple_pom("child", parent="parent")
    have: dict[str, bytes] = {}
    # Round 1: only the parent is known to be needed.
    assert missing_poms(child, "child.pom", bytes_resolver(have)) == (("g", "parent", "1"),)
    have["g:parent:1"] = parent
    # Round 2: the grandparent and the BOM, whose version the parent now supplies.
    assert missing_poms(child, "child.pom", bytes_resolver(have)) == (
        ("g", "root", "1"),
        ("g", "bom", "2"),
    )
    have["g:root:1"] = simple_pom("root")
    have["g:bom:2"] = simple_pom("bom")
    assert missing_poms(child, "child.pom", bytes_resolver(have)) == ()


def test_missing_poms_skips_coordinates_not_yet_interpolated() -> None:
    child = simple_pom(
        "child",
        "<dependencyManagement><dependencies><dependency><groupId>g</groupId>"
        "<artifactId>bom</artifactId><version>${from.parent}</version><type>pom</type>"
        "<scope>import</scope></dependency></dependencies></dependencyManagement>",
        parent="parent",
    )
    assert missing_poms(child, "child.pom", bytes_resolver({})) == (("g", "parent", "1"),)


def test_bom_with_unresolved_parent_is_reported() -> None:
    child = simple_pom(
        "child",
        "<dependencyManagement><dependencies><dependency><groupId>g</groupId>"
        "<artifactId>bom</artifactId><version>1</version><type>pom</type>"
        "<scope>import</scope></dependency></dependencies></dependencyManagement>",
    )
    bom = simple_pom("bom", parent="bom-parent")
    m = read_pom_bytes(child, "child.pom", bytes_resolver({"g:bom:1": bom}))
    [parent] = m.extra["unresolved_parents"]
    assert (parent["artifactId"], parent["child"]) == ("bom-parent", "g:bom:1")
    assert parent["reason"] == "not found by the resolver"


def test_parent_cycle_between_repository_poms() -> None:
    poms = {"g:a:1": simple_pom("a", parent="b"), "g:b:1": simple_pom("b", parent="a")}
    with pytest.raises(ManifestError, match="parent cycle"):
        read_pom_bytes(simple_pom("c", parent="a"), "c.pom", bytes_resolver(poms))


def test_parent_chain_depth_is_limited() -> None:
    # An endless chain of distinct parents (a broken or hostile repository) stops with an error.
    def resolve(group: str, artifact: str, version: str) -> PomSource:
        n = int(artifact[1:])
        return PomSource(f"{artifact}.pom", simple_pom(artifact, parent=f"p{n + 1}"))

    with pytest.raises(ManifestError, match=f"more than {MAX_PARENT_DEPTH} parent POMs"):
        read_pom_bytes(simple_pom("c", parent="p0"), "c.pom", resolve)


def test_import_depth_is_limited() -> None:
    def importing(artifact: str, next_bom: str) -> bytes:
        return simple_pom(
            artifact,
            "<dependencyManagement><dependencies><dependency><groupId>g</groupId>"
            f"<artifactId>{next_bom}</artifactId><version>1</version><type>pom</type>"
            "<scope>import</scope></dependency></dependencies></dependencyManagement>",
        )

    def resolve(group: str, artifact: str, version: str) -> PomSource:
        return PomSource(f"{artifact}.pom", importing(artifact, f"b{int(artifact[1:]) + 1}"))

    with pytest.raises(ManifestError, match=f"nested more than {MAX_IMPORT_DEPTH} deep"):
        read_pom_bytes(importing("c", "b0"), "c.pom", resolve)
