"""nuget_settings: the NuGet.Config hierarchy read as NuGet does ("Common NuGet configurations",
"nuget.config reference")."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tuskops.packages.ecosystems.nuget_settings import decode_name, expand, load
from tuskops.packages.settings import RegistrySettings, SettingsError

NUGET_ORG = "https://api.nuget.org/v3/index.json"


class Layout:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.machine = root / "machine"
        self.repo = root / "work" / "repo"
        self.project = self.repo / "src" / "app"
        for d in (self.home, self.machine, self.project):
            d.mkdir(parents=True)

    def write(self, path: Path, body: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n{body}\n</configuration>\n',
            encoding="utf-8",
        )
        return path

    def user(self, body: str) -> Path:
        return self.write(self.home / ".nuget" / "NuGet" / "NuGet.Config", body)

    def load(self, env: dict[str, str] | None = None) -> RegistrySettings:
        return load(
            project_dir=self.project,
            env=env or {},
            home=self.home,
            machine_dir=self.machine,
            ceiling=self.root,
        )


@pytest.fixture
def lay(tmp_path: Path) -> Layout:
    return Layout(tmp_path)


def sources(body: str) -> str:
    return f"<packageSources>\n{body}\n</packageSources>"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- helpers -----------------------------------------------------------------------------------


def test_decode_name() -> None:
    assert decode_name("Contoso_x0020_Feed") == "Contoso Feed"
    assert decode_name("a_x002E_b_x0001F600_") == "a.b\U0001f600"
    assert decode_name("plain_name") == "plain_name"


def test_expand_like_dotnet() -> None:
    env = {"A": "1", "B": "2"}
    assert expand("%A%-%B%", env) == "1-2"
    assert expand("%NOPE%", env) == "%NOPE%"
    # The closing % of an undefined name may open the next reference.
    assert expand("%NOPE%B%", env) == "%NOPE2"
    assert expand("a%20b", env) == "a%20b"


# --- defaults ----------------------------------------------------------------------------------


def test_no_config_is_nuget_org(lay: Layout) -> None:
    result = lay.load()
    assert [(r.name, r.url, r.source) for r in result.registries] == [
        ("nuget.org", NUGET_ORG, "default")
    ]
    assert result.lookup == "union"
    assert result.files == ()


def test_missing_user_config_implies_nuget_org_below_solution(lay: Layout) -> None:
    lay.write(
        lay.repo / "nuget.config",
        sources('<add key="corp" value="https://corp.example/v3/index.json" />'),
    )
    assert [r.name for r in lay.load().registries] == ["nuget.org", "corp"]


def test_existing_user_config_without_sources_has_none(lay: Layout) -> None:
    lay.user("")
    result = lay.load()
    assert result.registries == ()
    assert "no enabled NuGet v3 package source is configured" in result.warnings


# --- hierarchy ---------------------------------------------------------------------------------


def test_hierarchy_closest_wins_and_clear(lay: Layout) -> None:
    machine = lay.write(
        lay.machine / "company.config",
        sources('<add key="machine" value="https://machine.example/v3/index.json" />'),
    )
    user = lay.user(
        sources(
            f'<add key="nuget.org" value="{NUGET_ORG}" protocolVersion="3" />\n'
            '<add key="Shared" value="https://user.example/v3/index.json" />'
        )
    )
    outer = lay.write(
        lay.root / "work" / "NuGet.Config",
        sources('<add key="shared" value="https://outer.example/v3/index.json" />'),
    )
    result = lay.load()
    assert result.files == (str(machine), str(user), str(outer))
    assert [(r.name, r.url) for r in result.registries] == [
        ("machine", "https://machine.example/v3/index.json"),
        ("nuget.org", NUGET_ORG),
        ("shared", "https://outer.example/v3/index.json"),
    ]
    assert result.registries[2].source == f"{outer}:4"

    inner = lay.write(
        lay.repo / "nuget.config",
        sources('<clear />\n<add key="only" value="https://only.example/v3/index.json" />'),
    )
    result = lay.load()
    assert result.files[-1] == str(inner)
    assert [r.name for r in result.registries] == ["only"]


def test_first_name_in_a_directory_wins(lay: Layout) -> None:
    lay.write(lay.repo / "nuget.config", sources('<add key="a" value="https://a/v3/index.json"/>'))
    lay.write(lay.repo / "NuGet.Config", sources('<add key="b" value="https://b/v3/index.json"/>'))
    names = [r.name for r in lay.load().registries]
    assert "a" in names
    assert "b" not in names


def test_disabled_sources(lay: Layout) -> None:
    lay.user(
        sources(
            f'<add key="nuget.org" value="{NUGET_ORG}" />\n'
            '<add key="corp" value="https://corp.example/v3/index.json" />'
        )
        + '<disabledPackageSources><add key="NuGet.org" value="true" />'
        '<add key="corp" value="false" /></disabledPackageSources>'
    )
    result = lay.load()
    assert [r.name for r in result.registries] == ["corp"]
    assert result.extra["disabled"] == ["NuGet.org"]


def test_package_source_mapping_recorded(lay: Layout) -> None:
    lay.user(
        sources(f'<add key="nuget.org" value="{NUGET_ORG}" />') + "<packageSourceMapping>"
        '<packageSource key="nuget.org"><package pattern="*" /></packageSource>'
        "</packageSourceMapping>"
    )
    lay.write(
        lay.repo / "nuget.config",
        "<packageSourceMapping>"
        '<packageSource key="corp"><package pattern="Contoso.*" /><package pattern="X" />'
        "</packageSource></packageSourceMapping>",
    )
    assert lay.load().extra["packageSourceMapping"] == {
        "nuget.org": ["*"],
        "corp": ["Contoso.*", "X"],
    }


# --- unsupported feeds -------------------------------------------------------------------------


def test_v2_and_local_feeds_warn(lay: Layout) -> None:
    path = lay.user(
        sources(
            '<add key="v2" value="https://www.nuget.org/api/v2/" />\n'
            '<add key="old" value="https://x.example/v3/index.json" protocolVersion="2" />\n'
            '<add key="local" value="/srv/packages" />\n'
            '<add key="v3" value="https://myget.example/F/feed/api/v3" protocolVersion="3" />'
        )
    )
    result = lay.load()
    assert [r.name for r in result.registries] == ["v3"]
    assert result.registries[0].extra == {"protocolVersion": "3"}
    assert sum("NuGet v2 feeds are not supported" in w for w in result.warnings) == 2
    assert any(w.startswith(f"{path}:6:") and "local" in w for w in result.warnings)


def test_http_source_warns_unless_allowed(lay: Layout) -> None:
    lay.user(
        sources(
            '<add key="a" value="http://a.example/v3/index.json" />\n'
            '<add key="b" value="http://b.example/v3/index.json" allowInsecureConnections="true"/>'
        )
    )
    result = lay.load()
    assert [r.name for r in result.registries] == ["a", "b"]
    assert [w for w in result.warnings if "NU1302" in w and "'a'" in w]
    assert not [w for w in result.warnings if "'b'" in w]


# --- credentials -------------------------------------------------------------------------------


def test_credentials_with_encoded_key_and_env(lay: Layout) -> None:
    lay.user(
        sources('<add key="Contoso Feed" value="https://%FEED_HOST%/nuget/v3/index.json" />')
        + "<packageSourceCredentials><Contoso_x0020_Feed>"
        '<add key="Username" value="%FEED_USER%" />'
        '<add key="ClearTextPassword" value="%FEED_PAT%" />'
        '<add key="ValidAuthenticationTypes" value="basic, negotiate" />'
        "</Contoso_x0020_Feed></packageSourceCredentials>"
    )
    result = lay.load({"FEED_HOST": "pkgs.example", "FEED_USER": "me", "FEED_PAT": "pat-1"})
    assert result.default.url == "https://pkgs.example/nuget/v3/index.json"
    [cred] = result.credentials
    assert cred.prefix == "//pkgs.example/"
    # A resource on another path of the same host gets the source's credentials.
    assert result.auth_headers("https://pkgs.example/other/flat2/x/index.json") == basic(
        "me", "pat-1"
    )
    assert result.auth_headers(NUGET_ORG) is None


def test_encrypted_password_warns(lay: Layout) -> None:
    lay.user(
        sources('<add key="corp" value="https://corp.example/v3/index.json" />')
        + "<packageSourceCredentials><corp>"
        '<add key="Username" value="me" /><add key="Password" value="AQAAANCMnd8BFdERjHoAwE" />'
        "</corp></packageSourceCredentials>"
    )
    result = lay.load()
    assert result.credentials == ()
    assert any("Password is encrypted" in w for w in result.warnings)
    assert "AQAAANCMnd8BFdERjHoAwE" not in json.dumps(result.to_json())


def test_negotiate_only_gives_no_credential(lay: Layout) -> None:
    lay.user(
        sources('<add key="corp" value="https://corp.example/v3/index.json" />')
        + "<packageSourceCredentials><corp>"
        '<add key="Username" value="me" /><add key="ClearTextPassword" value="pw" />'
        '<add key="ValidAuthenticationTypes" value="negotiate" />'
        "</corp></packageSourceCredentials>"
    )
    result = lay.load()
    assert result.credentials == ()
    assert any("ValidAuthenticationTypes" in w for w in result.warnings)


def test_closer_credentials_replace_and_clear(lay: Layout) -> None:
    lay.user(
        sources('<add key="corp" value="https://corp.example/v3/index.json" />')
        + "<packageSourceCredentials><corp>"
        '<add key="Username" value="user" /><add key="ClearTextPassword" value="old" />'
        "</corp></packageSourceCredentials>"
    )
    lay.write(
        lay.repo / "nuget.config",
        "<packageSourceCredentials><clear /></packageSourceCredentials>",
    )
    assert lay.load().credentials == ()


def test_two_sources_one_host_different_credentials(lay: Layout) -> None:
    lay.user(
        sources(
            '<add key="a" value="https://pkgs.example/org/a/nuget/v3/index.json" />\n'
            '<add key="b" value="https://pkgs.example/org/b/nuget/v3/index.json" />'
        )
        + "<packageSourceCredentials>"
        '<a><add key="Username" value="ua" /><add key="ClearTextPassword" value="pa" /></a>'
        '<b><add key="Username" value="ub" /><add key="ClearTextPassword" value="pb" /></b>'
        "</packageSourceCredentials>"
    )
    result = lay.load()
    assert sorted(c.prefix for c in result.credentials) == [
        "//pkgs.example/org/a/nuget/v3/",
        "//pkgs.example/org/b/nuget/v3/",
    ]
    assert result.auth_headers("https://pkgs.example/org/b/nuget/v3/flat/x/1.0/x.nupkg") == basic(
        "ub", "pb"
    )
    assert any("different credentials" in w for w in result.warnings)


def test_userinfo_in_source_url(lay: Layout) -> None:
    lay.user(sources('<add key="c" value="https://bob:hunter2@c.example/v3/index.json" />'))
    result = lay.load()
    assert result.default.url == "https://c.example/v3/index.json"
    assert result.auth_headers("https://c.example/v3/index.json") == basic("bob", "hunter2")


def test_password_never_shown(lay: Layout) -> None:
    lay.user(
        sources('<add key="corp" value="https://corp.example/v3/index.json" />')
        + "<packageSourceCredentials><corp>"
        '<add key="Username" value="me" /><add key="ClearTextPassword" value="Sup3rSecret" />'
        '<add key="Password" value="EncryptedBlob" />'
        "</corp></packageSourceCredentials>"
    )
    result = lay.load()
    shown = json.dumps(result.to_json()) + repr(result) + " ".join(result.warnings)
    assert "Sup3rSecret" not in shown
    assert "EncryptedBlob" not in shown
    assert result.auth_headers("https://corp.example/v3/index.json") == basic("me", "Sup3rSecret")


# --- errors ------------------------------------------------------------------------------------


def test_malformed_xml_location(lay: Layout) -> None:
    path = lay.repo / "nuget.config"
    path.write_text(
        '<configuration>\n<packageSourceCredentials><corp>\n<add key="ClearTextPassword" '
        'value="leaky" >\n</corp></packageSourceCredentials></configuration>\n',
        encoding="utf-8",
    )
    with pytest.raises(SettingsError) as info:
        lay.load()
    assert info.value.location.startswith(f"{path}:4:")
    assert "leaky" not in str(info.value)


def test_add_without_key_is_an_error(lay: Layout) -> None:
    path = lay.user(sources('<add value="https://x/v3/index.json" />'))
    with pytest.raises(SettingsError) as info:
        lay.load()
    assert info.value.location == f"{path}:4:1"


def test_machine_dir_from_env(lay: Layout) -> None:
    common = lay.root / "common"
    path = lay.write(
        common / "NuGet" / "Config" / "a.config",
        sources('<add key="m" value="https://m.example/v3/index.json" />'),
    )
    result = load(
        project_dir=lay.project,
        env={"NUGET_COMMON_APPLICATION_DATA": str(common)},
        home=lay.home,
        ceiling=lay.root,
    )
    assert result.files == (str(path),)
    assert [r.name for r in result.registries] == ["m", "nuget.org"]
