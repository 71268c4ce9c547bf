from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tuskops.packages.ecosystems.npm_settings import load
from tuskops.packages.settings import RegistrySettings, SettingsError

TOKEN = "npm_SeCrEt0123456789"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    (path / "package.json").write_text("{}")
    return path


def _load(project: Path, home: Path, env: dict[str, str] | None = None) -> RegistrySettings:
    return load(project_dir=project, env=env or {}, home=home)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_nothing_configured_uses_npmjs(project: Path, home: Path) -> None:
    s = _load(project, home)
    assert [r.url for r in s.registries] == ["https://registry.npmjs.org/"]
    assert s.default.source == "default"
    assert s.lookup == "first"
    assert s.credentials == ()
    assert s.files == ()
    assert s.auth_headers("https://registry.npmjs.org/react") is None


def test_scoped_registry_with_its_own_token(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text(
        "; company registry\n"
        "@MyCo:registry=https://npm.myco.example/\n"
        f"//npm.myco.example/:_authToken={TOKEN}\n"
    )
    s = _load(project, home)
    route = s.registries_for("@myco/tool")
    assert [r.url for r in route] == ["https://npm.myco.example/"]
    assert route[0].name == "@myco"
    assert route[0].source == f"{project / '.npmrc'}:2"
    assert s.registries_for("react")[0].url == "https://registry.npmjs.org/"
    assert s.auth_headers("https://npm.myco.example/@myco%2ftool") == {
        "Authorization": f"Bearer {TOKEN}"
    }
    assert s.auth_headers("https://registry.npmjs.org/react") is None
    assert s.credentials[0].source == f"{project / '.npmrc'}:3"


def test_two_registries_on_one_host_get_their_own_credentials(project: Path, home: Path) -> None:
    password = base64.b64encode(b"p@ss:word").decode()
    (home / ".npmrc").write_text(
        "registry=https://pkgs.example.com/npm/team-a/\n"
        "@b:registry=https://pkgs.example.com/npm/team-b/\n"
        "//pkgs.example.com/npm/team-a/:_authToken=token-a\n"
        "//pkgs.example.com/npm/team-b/:username=bob\n"
        f"//pkgs.example.com/npm/team-b/:_password={password}\n"
        "//pkgs.example.com/:_auth=" + base64.b64encode(b"root:pw").decode() + "\n"
    )
    s = _load(project, home)
    assert s.default.url == "https://pkgs.example.com/npm/team-a/"
    a = {"Authorization": "Bearer token-a"}
    assert s.auth_headers("https://pkgs.example.com/npm/team-a/lodash") == a
    # tarballs under the same prefix, over http too (nerf-darts have no scheme)
    assert s.auth_headers("https://pkgs.example.com/npm/team-a/lodash/-/lodash-4.0.0.tgz") == a
    assert s.auth_headers("http://pkgs.example.com/npm/team-a/x") == a
    assert s.auth_headers("https://pkgs.example.com/npm/team-b/@b%2fx") == {
        "Authorization": _basic("bob", "p@ss:word")
    }
    # the host-wide _auth covers everything else on that host, as is
    root = base64.b64encode(b"root:pw").decode()
    assert s.auth_headers("https://pkgs.example.com/npm/team-c/") == {
        "Authorization": f"Basic {root}"
    }
    assert s.auth_headers("https://other.example.com/npm/team-a/") is None


def test_auth_token_wins_over_auth_for_one_prefix(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text(
        "//r.example/:_auth=dXNlcjpwdw==\n//r.example/:_authToken=tok\n"
    )
    s = _load(project, home)
    assert [c.kind for c in s.credentials] == ["bearer"]


def test_precedence_project_over_user_over_global_and_env_over_all(
    tmp_path: Path, project: Path, home: Path
) -> None:
    prefix = tmp_path / "node"
    (prefix / "etc").mkdir(parents=True)
    (prefix / "etc" / "npmrc").write_text("registry=https://global.example/\n")
    (home / ".npmrc").write_text("registry=https://user.example/\n")
    env = {"npm_config_prefix": str(prefix)}
    assert _load(project, home, env).default.url == "https://user.example/"
    (project / ".npmrc").write_text("registry=https://project.example/\n")
    s = _load(project, home, env)
    assert s.default.url == "https://project.example/"
    assert s.files == (
        str(prefix / "etc" / "npmrc"),
        str(home / ".npmrc"),
        str(project / ".npmrc"),
    )
    s = _load(project, home, {**env, "NPM_CONFIG_REGISTRY": "https://env.example"})
    assert s.default.url == "https://env.example/"
    assert s.default.source == "env NPM_CONFIG_REGISTRY"
    # an empty variable is ignored, as npm does
    assert _load(project, home, {"npm_config_registry": ""}).default.url == (
        "https://project.example/"
    )


def test_env_names_map_underscores_to_dashes(project: Path, home: Path) -> None:
    s = _load(project, home, {"npm_config_strict_ssl": "false"})
    assert any("strict-ssl=false is ignored" in w for w in s.warnings)


def test_global_file_is_not_guessed(project: Path, home: Path, tmp_path: Path) -> None:
    custom = tmp_path / "globalrc"
    custom.write_text("registry=https://g.example/\n")
    assert _load(project, home).default.url == "https://registry.npmjs.org/"
    assert _load(project, home, {"npm_config_globalconfig": str(custom)}).default.url == (
        "https://g.example/"
    )


def test_userconfig_from_env(project: Path, home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.npmrc"
    other.write_text("registry=https://other.example/\n")
    (home / ".npmrc").write_text("registry=https://user.example/\n")
    s = _load(project, home, {"npm_config_userconfig": str(other)})
    assert s.default.url == "https://other.example/"
    assert str(home / ".npmrc") not in s.files


def test_env_expansion(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text(
        "//r.example/${SUB}/:_authToken=${TOKEN}\n"
        "registry=https://r.example/${SUB}/${MISSING?}\n"
        "@x:registry=https://x.example/\\${LITERAL}/\n"
    )
    s = _load(project, home, {"TOKEN": TOKEN, "SUB": "team"})
    assert s.default.url == "https://r.example/team/"
    assert s.auth_headers("https://r.example/team/pkg") == {"Authorization": f"Bearer {TOKEN}"}
    assert s.routes["@x"].url == "https://x.example/${LITERAL}/"


def test_missing_env_var_is_an_error_with_file_and_line(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("registry=https://r.example/\n//r.example/:_authToken=${T}\n")
    with pytest.raises(SettingsError) as err:
        _load(project, home)
    assert err.value.location == f"{project / '.npmrc'}:2"
    assert "Failed to replace env in config: ${T}" in str(err.value)


def test_unscoped_token_is_a_warning_and_not_used(project: Path, home: Path) -> None:
    (home / ".npmrc").write_text(f"registry=https://r.example/\n_authToken={TOKEN}\n")
    s = _load(project, home)
    assert s.credentials == ()
    assert s.auth_headers("https://r.example/x") is None
    assert len(s.warnings) == 1
    assert f"{home / '.npmrc'}:2" in s.warnings[0]
    assert "must be scoped to a registry" in s.warnings[0]
    assert TOKEN not in s.warnings[0]


def test_client_certificates_warn(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("//r.example/:certfile=/c.pem\n//r.example/:keyfile=/k.pem\n")
    s = _load(project, home)
    assert len(s.warnings) == 2
    assert all("client certificates are not supported" in w for w in s.warnings)


def test_project_npmrc_found_from_a_subdirectory(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("registry=https://p.example/\n")
    sub = project / "src" / "deep"
    sub.mkdir(parents=True)
    s = _load(sub, home)
    assert s.default.url == "https://p.example/"
    assert s.default.source == f"{project.resolve() / '.npmrc'}:1"


def test_project_dir_without_package_json_is_its_own_prefix(tmp_path: Path, home: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / ".npmrc").write_text("registry=https://b.example/\n")
    assert _load(bare, home).default.url == "https://b.example/"


def test_project_in_home_reads_the_file_once(home: Path) -> None:
    (home / "package.json").write_text("{}")
    (home / ".npmrc").write_text("registry=https://u.example/\n")
    assert _load(home, home).files == (str(home / ".npmrc"),)


def test_ini_dialect(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text(
        "# comment\n"
        "  ; indented comment\n"
        'registry = "https://q.example/"\n'
        "@a:registry=https://a.example/ ; trailing comment\n"
        "@b:registry='https://b.example/'\n"
        "always-auth\n"
        "//a.example/:always-auth=true\n"
        "//a.example/:_authToken=t\\#1\n"
        "[section]\n"
        "registry=https://ignored.example/\n"
    )
    s = _load(project, home)
    assert s.default.url == "https://q.example/"
    assert s.routes["@a"].url == "https://a.example/"
    assert s.routes["@b"].url == "https://b.example/"
    assert s.auth_headers("https://a.example/x") == {"Authorization": "Bearer t#1"}
    assert s.extra["always_auth"] == ["//a.example/"]
    assert any("section [section] is ignored" in w for w in s.warnings)


def test_registry_user_info_becomes_a_credential(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("registry=https://me:pw%21@r.example/npm/\n")
    s = _load(project, home)
    assert s.default.url == "https://r.example/npm/"
    assert s.auth_headers("https://r.example/npm/x") == {"Authorization": _basic("me", "pw!")}
    assert "pw" not in json.dumps(s.to_json()).replace("npm", "")


def test_malformed_registry_is_an_error(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("\nregistry=not a url\n")
    with pytest.raises(SettingsError) as err:
        _load(project, home)
    assert err.value.location == f"{project / '.npmrc'}:2"


def test_bad_password_encoding_error_hides_it(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text(f"//r.example/:username=u\n//r.example/:_password={TOKEN}!!\n")
    with pytest.raises(SettingsError) as err:
        _load(project, home)
    assert err.value.location == f"{project / '.npmrc'}:2"
    assert TOKEN not in str(err.value)


def test_username_without_password_warns(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("//r.example/:username=u\n")
    s = _load(project, home)
    assert s.credentials == ()
    assert "_password is not configured" in s.warnings[0]


def test_token_never_shown(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text(
        f"//r.example/:_authToken={TOKEN}\n_authToken={TOKEN}\n"
        "//s.example/:_auth=" + base64.b64encode(f"u:{TOKEN}".encode()).decode() + "\n"
    )
    s = _load(project, home)
    shown = json.dumps(s.to_json()) + repr(s) + "".join(s.warnings)
    assert TOKEN not in shown
    assert base64.b64encode(f"u:{TOKEN}".encode()).decode() not in shown
    assert s.auth_headers("https://r.example/x") == {"Authorization": f"Bearer {TOKEN}"}


def test_cafile_is_used_not_ignored(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("cafile=certs/internal-ca.pem\n")
    s = _load(project, home)
    assert s.extra["ca_file"] == str(project / "certs" / "internal-ca.pem")
    assert not any("cafile" in w for w in s.warnings)
