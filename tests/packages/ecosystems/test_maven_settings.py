"""maven_settings: settings.xml read as Maven does (Settings Reference, Guide to Mirror Settings,
Password Encryption)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuskops.packages import settings as settings_mod
from tuskops.packages.ecosystems.maven_settings import HTTP_BLOCKER, Mirror, load, mirror_for
from tuskops.packages.settings import RegistrySettings, SettingsError

CENTRAL = "https://repo.maven.apache.org/maven2/"
NS = 'xmlns="http://maven.apache.org/SETTINGS/1.2.0"'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def settings_xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<settings {NS}>\n{body}\n</settings>\n'


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    project, home, maven_home = tmp_path / "project", tmp_path / "home", tmp_path / "maven"
    for d in (project, home, maven_home):
        d.mkdir()
    return project, home, maven_home


def run(
    dirs: tuple[Path, Path, Path], env: dict[str, str] | None = None, *, with_home: bool = True
) -> RegistrySettings:
    project, home, maven_home = dirs
    full = {"MAVEN_HOME": str(maven_home)} if with_home else {}
    full.update(env or {})
    return load(project_dir=project, env=full, home=home)


def user(dirs: tuple[Path, Path, Path], body: str) -> Path:
    return write(dirs[1] / ".m2" / "settings.xml", settings_xml(body))


def global_(dirs: tuple[Path, Path, Path], body: str) -> Path:
    return write(dirs[2] / "conf" / "settings.xml", settings_xml(body))


def profile(pid: str, repos: dict[str, str], activation: str = "") -> str:
    items = "".join(
        f"<repository><id>{i}</id><url>{u}</url></repository>" for i, u in repos.items()
    )
    return f"<profile><id>{pid}</id>{activation}<repositories>{items}</repositories></profile>"


# --- defaults ----------------------------------------------------------------------------------


def test_nothing_configured_is_central_with_union_lookup(dirs: tuple[Path, Path, Path]) -> None:
    result = run(dirs)
    assert [(r.name, r.url, r.source) for r in result.registries] == [
        ("central", CENTRAL, "default")
    ]
    assert result.lookup == "union"
    assert result.credentials == ()
    assert result.files == ()


def test_dispatch_through_settings_load(dirs: tuple[Path, Path, Path]) -> None:
    project, home, maven_home = dirs
    result = settings_mod.load(
        "maven", project_dir=project, env={"MAVEN_HOME": str(maven_home)}, home=home
    )
    assert result.ecosystem == "maven"
    assert result.default.url == CENTRAL


# --- mirrorOf selectors (the guide's examples) ------------------------------------------------


def m(mid: str, of: str) -> Mirror:
    return Mirror(id=mid, url=f"https://{mid}.example/maven2/", mirror_of=of)


@pytest.mark.parametrize(
    ("selector", "repo_id", "url", "expected"),
    [
        ("*", "anything", "https://a.example/", True),
        ("external:*", "ext", "https://repo.example/", True),
        ("external:*", "local", "http://localhost:8081/repo", False),
        ("external:*", "loop", "http://127.0.0.1/repo", False),
        ("external:*", "files", "file:///srv/repo", False),
        ("external:http:*", "plain", "http://repo.example/", True),
        ("external:http:*", "secure", "https://repo.example/", False),
        ("external:http:*", "local", "http://localhost/repo", False),
        ("repo,repo1", "repo1", "https://a.example/", True),
        ("repo,repo1", "repo2", "https://a.example/", False),
        ("*,!repo1", "repo1", "https://a.example/", False),
        ("*,!repo1", "repo2", "https://a.example/", True),
        ("external:*,!foo", "foo", "https://a.example/", False),
        ("external:*,!foo", "bar", "https://a.example/", True),
        ("!repo1,*", "repo1", "https://a.example/", False),
    ],
)
def test_mirror_of_selectors(selector: str, repo_id: str, url: str, expected: bool) -> None:
    mirror = m("x", selector)
    assert (mirror_for(repo_id, url, [mirror]) is mirror) is expected


def test_exact_id_match_wins_over_earlier_pattern() -> None:
    wildcard, exact = m("all", "*"), m("only-central", "central")
    assert mirror_for("central", CENTRAL, [wildcard, exact]) is exact
    assert mirror_for("other", "https://o.example/", [wildcard, exact]) is wildcard


def test_first_matching_pattern_in_order() -> None:
    first, second = m("first", "external:*"), m("second", "*")
    assert mirror_for("r", "https://r.example/", [first, second]) is first
    assert mirror_for("r", "http://localhost/r", [first, second]) is second


# --- user over global, mirrors applied --------------------------------------------------------


def test_user_settings_dominate_global_by_id(dirs: tuple[Path, Path, Path]) -> None:
    g = global_(
        dirs,
        "<mirrors>"
        "<mirror><id>corp</id><url>https://global.example/m2/</url><mirrorOf>*</mirrorOf></mirror>"
        "</mirrors>"
        "<servers><server><id>corp</id><username>g</username><password>gp</password></server>"
        "</servers>",
    )
    u = user(
        dirs,
        "<mirrors>"
        "<mirror><id>corp</id><url>https://user.example/m2/</url><mirrorOf>*</mirrorOf></mirror>"
        "</mirrors>",
    )
    result = run(dirs)
    assert result.files == (str(g), str(u))
    [reg] = result.registries
    assert (reg.name, reg.url, reg.mirror_of) == ("corp", "https://user.example/m2/", "central")
    assert reg.source == f"{u}:3"
    # The server only exists globally: it still applies, to the user's mirror URL.
    cred = result.credential_for("https://user.example/m2/org/x/1.0/x-1.0.pom")
    assert cred is not None
    assert cred.username == "g"
    assert cred.source.startswith(f"{g}:")


def test_mirror_credentials_picked_by_mirror_id(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<servers>"
        "<server><id>central</id><username>wrong</username><password>no</password></server>"
        "<server><id>nexus</id><username>deploy</username><password>s3cret</password></server>"
        "</servers>"
        "<mirrors><mirror><id>nexus</id><mirrorOf>*</mirrorOf>"
        "<url>https://nexus.example/repository/maven-public/</url></mirror></mirrors>",
    )
    result = run(dirs)
    assert [r.name for r in result.registries] == ["nexus"]
    headers = result.auth_headers("https://nexus.example/repository/maven-public/a/b/1/b-1.jar")
    assert headers == {"Authorization": "Basic ZGVwbG95OnMzY3JldA=="}
    assert result.auth_headers(CENTRAL + "a/b/1/b-1.jar") is None


def test_repositories_sharing_a_mirror_collapse(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<mirrors><mirror><id>internal</id><url>https://mirror.example/</url>"
        "<mirrorOf>external:*,!local</mirrorOf></mirror></mirrors>"
        "<profiles>"
        + profile(
            "corp",
            {"snapshots": "https://snap.example/", "local": "http://localhost:8081/repo/"},
        )
        + "</profiles><activeProfiles><activeProfile>corp</activeProfile></activeProfiles>",
    )
    result = run(dirs)
    assert [(r.name, r.url, r.mirror_of) for r in result.registries] == [
        ("internal", "https://mirror.example/", "snapshots,central"),
        ("local", "http://localhost:8081/repo/", None),
    ]


def test_default_http_blocker_when_no_global_settings(dirs: tuple[Path, Path, Path]) -> None:
    u = user(
        dirs,
        "<profiles>"
        + profile("p", {"old": "http://old.example/maven/"})
        + "</profiles><activeProfiles><activeProfile>p</activeProfile></activeProfiles>",
    )
    result = run(dirs, with_home=False)
    assert [r.name for r in result.registries] == ["central"]
    assert result.extra["blocked"] == [
        {"repository": "old", "url": "http://old.example/maven/", "mirror": HTTP_BLOCKER.id}
    ]
    [warning] = result.warnings
    assert warning.startswith(f"{u}:")
    assert "'old'" in warning
    assert "Maven 3.8.1+ blocks plain-http" in warning


def test_global_settings_without_blocker_allow_http(dirs: tuple[Path, Path, Path]) -> None:
    global_(dirs, "")
    user(
        dirs,
        "<profiles>"
        + profile("p", {"old": "http://old.example/maven/"})
        + "</profiles><activeProfiles><activeProfile>p</activeProfile></activeProfiles>",
    )
    result = run(dirs)
    assert [(r.name, r.url) for r in result.registries] == [
        ("old", "http://old.example/maven/"),
        ("central", CENTRAL),
    ]
    assert result.warnings == ()


# --- profiles ----------------------------------------------------------------------------------


def test_active_profiles_and_active_by_default(dirs: tuple[Path, Path, Path]) -> None:
    by_default = "<activation><activeByDefault>true</activeByDefault></activation>"
    user(
        dirs,
        "<profiles>"
        + profile("dflt", {"d": "https://d.example/"}, by_default)
        + profile("off", {"o": "https://o.example/"})
        + "</profiles>",
    )
    assert [r.name for r in run(dirs).registries] == ["d", "central"]
    user(
        dirs,
        "<profiles>"
        + profile("dflt", {"d": "https://d.example/"}, by_default)
        + profile("on", {"o": "https://o.example/"})
        + "</profiles><activeProfiles><activeProfile>on</activeProfile></activeProfiles>",
    )
    # Another active profile switches activeByDefault ones off.
    assert [r.name for r in run(dirs).registries] == ["o", "central"]


def test_profile_overrides_central_by_id(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<profiles>"
        + profile("p", {"central": "https://proxy.example/central/"})
        + "</profiles><activeProfiles><activeProfile>p</activeProfile></activeProfiles>",
    )
    assert [(r.name, r.url) for r in run(dirs).registries] == [
        ("central", "https://proxy.example/central/")
    ]


def test_maven_config_selects_files_and_profiles(dirs: tuple[Path, Path, Path]) -> None:
    project = dirs[0]
    user(
        dirs,
        "<mirrors><mirror><id>ignored</id><url>https://x/</url><mirrorOf>*</mirrorOf>"
        "</mirror></mirrors>",
    )
    custom = write(
        project / "ci" / "settings.xml",
        settings_xml(
            "<profiles>"
            + profile("ci", {"ci": "https://ci.example/${repo.name}/"})
            + profile(
                "cond",
                {"c": "https://c.example/"},
                "<activation><property><name>env.CI</name></property></activation>",
            )
            + "</profiles>"
        ),
    )
    write(project / ".mvn" / "maven.config", "-s\nci/settings.xml\n-Pci\n-Drepo.name=libs\n")
    result = run(dirs, {"CI": "1"})
    assert str(custom) in result.files
    assert [(r.name, r.url) for r in result.registries] == [
        ("ci", "https://ci.example/libs/"),
        ("c", "https://c.example/"),
        ("central", CENTRAL),
    ]


def test_missing_settings_file_named_by_maven_config(dirs: tuple[Path, Path, Path]) -> None:
    write(dirs[0] / ".mvn" / "maven.config", "--settings missing.xml\n")
    with pytest.raises(SettingsError) as info:
        run(dirs)
    assert info.value.location == str(dirs[0] / "missing.xml")


def test_unevaluated_activation_warns(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<profiles>"
        + profile("j", {"j": "https://j.example/"}, "<activation><jdk>17</jdk></activation>")
        + "</profiles>",
    )
    result = run(dirs)
    assert [r.name for r in result.registries] == ["central"]
    assert any("profile 'j' is activated by jdk" in w for w in result.warnings)


def test_pom_repositories_follow_settings_profiles(dirs: tuple[Path, Path, Path]) -> None:
    project = dirs[0]
    pom = write(
        project / "pom.xml",
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "<modelVersion>4.0.0</modelVersion><groupId>g</groupId><artifactId>a</artifactId>"
        "<version>1</version>\n<properties><repo.host>pom.example</repo.host></properties>\n"
        "<repositories>\n<repository><id>pomrepo</id><url>https://${repo.host}/m2/</url>"
        "</repository>\n</repositories>\n</project>\n",
    )
    result = run(dirs)
    assert [(r.name, r.url, r.source) for r in result.registries] == [
        ("pomrepo", "https://pom.example/m2/", f"{pom}:5"),
        ("central", CENTRAL, "default"),
    ]
    assert str(pom) in result.files


# --- interpolation -----------------------------------------------------------------------------


def test_env_and_user_home_interpolation(dirs: tuple[Path, Path, Path]) -> None:
    u = user(
        dirs,
        "<servers><server><id>central</id><username>${env.REPO_USER}</username>"
        "<password>${env.REPO_PASS}</password></server></servers>"
        "<mirrors><mirror><id>central</id><mirrorOf>central</mirrorOf>"
        "<url>https://${env.REPO_HOST}/m2/</url></mirror>"
        "<mirror><id>h</id><mirrorOf>h</mirrorOf><url>file://${user.home}/repo/${nope}</url>"
        "</mirror></mirrors>",
    )
    result = run(dirs, {"REPO_USER": "me", "REPO_PASS": "pw", "REPO_HOST": "repo.example"})
    assert result.default.url == "https://repo.example/m2/"
    cred = result.credential_for("https://repo.example/m2/x")
    assert cred is not None
    assert cred.username == "me"
    assert cred.secret is not None
    assert cred.secret.reveal() == "pw"
    assert result.warnings == (f"{u}:3: ${{nope}} is not defined; kept as written",)


def test_unknown_env_stays_as_written_with_warning(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<mirrors><mirror><id>m</id><mirrorOf>*</mirrorOf>"
        "<url>https://${env.NOT_SET}/m2/</url></mirror></mirrors>",
    )
    result = run(dirs)
    assert result.default.url == "https://${env.NOT_SET}/m2/"
    assert any("${env.NOT_SET} is not defined" in w for w in result.warnings)


# --- credentials -------------------------------------------------------------------------------


def test_encrypted_password_warns_and_gives_no_credential(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<servers><server><id>central</id><username>me</username>"
        "<password>{COQLCE6DU6GtcS5P=}</password></server></servers>",
    )
    result = run(dirs)
    assert result.credentials == ()
    assert any(
        "server 'central': password is encrypted (settings-security.xml); not decrypted" in w
        for w in result.warnings
    )
    assert "COQLCE6DU6GtcS5P" not in json.dumps(result.to_json())


def test_escaped_braces_are_a_plain_password(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<servers><server><id>central</id><username>me</username>"
        "<password>a\\{b\\}</password></server></servers>",
    )
    cred = run(dirs).credential_for(CENTRAL)
    assert cred is not None
    assert cred.secret is not None
    assert cred.secret.reveal() == "a{b}"


def test_http_headers_and_private_key(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<servers><server><id>central</id><privateKey>${user.home}/.ssh/id</privateKey>"
        "<configuration><httpHeaders><property><name>Private-Token</name>"
        "<value>tok-123</value></property></httpHeaders></configuration></server></servers>",
    )
    result = run(dirs)
    assert result.auth_headers(CENTRAL + "x") == {"Private-Token": "tok-123"}
    assert any("privateKey/passphrase" in w for w in result.warnings)


def test_userinfo_in_mirror_url_becomes_credential(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<mirrors><mirror><id>m</id><mirrorOf>*</mirrorOf>"
        "<url>https://bob:hunter2@m.example/m2/</url></mirror></mirrors>",
    )
    result = run(dirs)
    assert result.default.url == "https://m.example/m2/"
    cred = result.credential_for("https://m.example/m2/a")
    assert cred is not None
    assert cred.username == "bob"


def test_password_never_shown(dirs: tuple[Path, Path, Path]) -> None:
    user(
        dirs,
        "<servers><server><id>central</id><username>me</username>"
        "<password>TopSecret42</password>"
        "<configuration><httpHeaders><property><name>X-Token</name><value>HeaderSecret</value>"
        "</property></httpHeaders></configuration></server></servers>"
        "<proxies><proxy><id>p</id><host>proxy</host><password>ProxySecret</password></proxy>"
        "</proxies>",
    )
    result = run(dirs)
    shown = json.dumps(result.to_json()) + repr(result) + " ".join(result.warnings)
    for secret in ("TopSecret42", "HeaderSecret", "ProxySecret"):
        assert secret not in shown
    assert any("proxy 'p' is not applied" in w for w in result.warnings)
    # The password and the header are both sent.
    headers = result.auth_headers("https://repo.maven.apache.org/maven2/a/b/1/b-1.pom")
    assert headers is not None
    assert set(headers) == {"Authorization", "X-Token"}
    assert headers["X-Token"] == "HeaderSecret"


# --- errors ------------------------------------------------------------------------------------


def test_malformed_xml_location(dirs: tuple[Path, Path, Path]) -> None:
    path = write(
        dirs[1] / ".m2" / "settings.xml",
        "<settings>\n  <servers>\n    <server><password>leak</pass></server>\n</settings>\n",
    )
    with pytest.raises(SettingsError) as info:
        run(dirs)
    assert info.value.location == f"{path}:3:29"
    assert "leak" not in str(info.value)


def test_missing_mirror_url_is_an_error(dirs: tuple[Path, Path, Path]) -> None:
    path = user(dirs, "<mirrors>\n<mirror><id>m</id><mirrorOf>*</mirrorOf></mirror></mirrors>")
    with pytest.raises(SettingsError) as info:
        run(dirs)
    assert info.value.location == f"{path}:4:1"
    assert "<url> is missing" in info.value.detail
