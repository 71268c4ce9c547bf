from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tuskops.packages.ecosystems.composer_settings import load
from tuskops.packages.settings import RegistrySettings, SettingsError

SECRET = "s3cr3t-Composer-Token"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4))
    return path


def _load(project: Path, home: Path, env: dict[str, str] | None = None) -> RegistrySettings:
    return load(project_dir=project, env=env or {}, home=home)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_packagist_by_default(project: Path, home: Path) -> None:
    s = _load(project, home)
    assert [(r.name, r.url, r.source) for r in s.registries] == [
        ("packagist.org", "https://repo.packagist.org/", "default")
    ]
    assert s.lookup == "first"
    assert s.credentials == ()


def test_project_repositories_list_form_come_before_packagist(project: Path, home: Path) -> None:
    composer = _write(
        project / "composer.json",
        {
            "require": {"acme/x": "^1"},
            "repositories": [
                {"type": "composer", "url": "https://repo.acme.example", "canonical": False},
                {"type": "vcs", "url": "https://github.com/acme/fork"},
                {"type": "composer", "url": "https://b.example/x", "only": ["acme/*"]},
            ],
        },
    )
    s = _load(project, home)
    assert [r.url for r in s.registries] == [
        "https://repo.acme.example",
        "https://b.example/x",
        "https://repo.packagist.org/",
    ]
    assert s.registries[0].extra == {"canonical": False}
    assert s.registries[1].extra == {"only": ["acme/*"]}
    text = composer.read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if "repo.acme.example" in t)
    assert s.registries[0].source == f"{composer}:{line}"
    assert len(s.warnings) == 1
    assert "vcs repository (https://github.com/acme/fork)" in s.warnings[0]
    assert "not a Composer repository; not queried" in s.warnings[0]
    assert s.files == (str(composer),)


def test_object_form_disables_packagist(project: Path, home: Path) -> None:
    _write(
        project / "composer.json",
        {
            "repositories": {
                "acme": {"type": "composer", "url": "https://a.example"},
                "packagist": False,
            }
        },
    )
    s = _load(project, home)
    assert [(r.name, r.url) for r in s.registries] == [("acme", "https://a.example")]
    _write(
        project / "composer.json",
        {
            "repositories": [
                {"type": "composer", "url": "https://a.example"},
                {"packagist.org": False},
            ]
        },
    )
    assert [r.url for r in _load(project, home).registries] == ["https://a.example"]


def test_packagist_mirror_replaces_the_default(project: Path, home: Path) -> None:
    _write(
        project / "composer.json",
        {"repositories": [{"type": "composer", "url": "https://packagist.org"}]},
    )
    assert [r.url for r in _load(project, home).registries] == ["https://packagist.org"]


def test_global_config_repositories_come_after_project_ones(project: Path, home: Path) -> None:
    chome = home / "ch"
    _write(
        chome / "config.json", {"repositories": [{"type": "composer", "url": "https://g.example"}]}
    )
    _write(
        project / "composer.json",
        {"repositories": [{"type": "composer", "url": "https://p.example"}]},
    )
    s = _load(project, home, {"COMPOSER_HOME": str(chome)})
    assert [r.url for r in s.registries] == [
        "https://p.example",
        "https://g.example",
        "https://repo.packagist.org/",
    ]


def test_composer_home_lookup(project: Path, home: Path, tmp_path: Path) -> None:
    auth = {"bearer": {"a.example": "t"}}
    _write(home / ".composer" / "auth.json", auth)
    assert _load(project, home).files == (str(home / ".composer" / "auth.json"),)
    _write(home / ".config" / "composer" / "auth.json", auth)
    assert _load(project, home).files == (str(home / ".config" / "composer" / "auth.json"),)
    xdg = tmp_path / "xdg"
    _write(xdg / "composer" / "auth.json", auth)
    s = _load(project, home, {"XDG_CONFIG_HOME": str(xdg)})
    assert s.files == (str(xdg / "composer" / "auth.json"),)


def test_auth_kinds(project: Path, home: Path) -> None:
    _write(project / "composer.json", {})
    _write(
        project / "auth.json",
        {
            "http-basic": {"repo.acme.example": {"username": "me", "password": SECRET}},
            "bearer": {"b.example": SECRET},
            "gitlab-token": {
                "gitlab.com": SECRET,
                "git.acme.example": {"username": "u", "token": "gt"},
            },
            "gitlab-oauth": {"gl.example": "oauth"},
            "github-oauth": {"github.com": "ghp"},
            "custom-headers": {"h.example": ["X-Api-Key: k1", "X-Other: 2"]},
            "bitbucket-oauth": {"bitbucket.org": {"consumer-key": "k", "consumer-secret": "s"}},
        },
    )
    s = _load(project, home)
    h = s.auth_headers
    assert h("https://repo.acme.example/packages.json") == {"Authorization": _basic("me", SECRET)}
    assert h("http://repo.acme.example/p2/a/b.json") == {"Authorization": _basic("me", SECRET)}
    assert h("https://b.example/x") == {"Authorization": f"Bearer {SECRET}"}
    assert h("https://gitlab.com/api/v4/group/1/-/packages/composer/packages.json") == {
        "PRIVATE-TOKEN": SECRET
    }
    assert h("https://git.acme.example/x") == {"Authorization": _basic("u", "gt")}
    assert h("https://gl.example/x") == {"Authorization": "Bearer oauth"}
    assert h("https://api.github.com/repos/a/b/zipball/1") == {"Authorization": "token ghp"}
    assert h("https://h.example/x") == {"X-Api-Key": "k1", "X-Other": "2"}
    assert h("https://other.example/") is None
    assert any("bitbucket-oauth is ignored" in w for w in s.warnings)


def test_precedence_composer_auth_env_over_project_over_global(project: Path, home: Path) -> None:
    chome = home / ".composer"
    _write(chome / "auth.json", {"bearer": {"a.example": "global", "g.example": "g"}})
    _write(project / "composer.json", {"config": {"bearer": {"a.example": "inline"}}})
    env = {"COMPOSER_HOME": str(chome)}
    assert _load(project, home, env).auth_headers("https://a.example/") == {
        "Authorization": "Bearer inline"
    }
    _write(project / "auth.json", {"bearer": {"a.example": "project"}})
    s = _load(project, home, env)
    assert s.auth_headers("https://a.example/") == {"Authorization": "Bearer project"}
    # other hosts from lower files remain (credentials merge per host)
    assert s.auth_headers("https://g.example/") == {"Authorization": "Bearer g"}
    env["COMPOSER_AUTH"] = json.dumps({"bearer": {"a.example": "env"}})
    s = _load(project, home, env)
    assert s.auth_headers("https://a.example/") == {"Authorization": "Bearer env"}
    assert s.credentials[0].source == "env COMPOSER_AUTH bearer.a.example"


def test_composer_env_names_the_project_file(project: Path, home: Path) -> None:
    _write(
        project / "sub" / "other.json",
        {"repositories": [{"type": "composer", "url": "https://o.example"}]},
    )
    _write(project / "sub" / "auth.json", {"bearer": {"o.example": "t"}})
    s = _load(project, home, {"COMPOSER": "sub/other.json"})
    assert s.default.url == "https://o.example"
    assert s.auth_headers("https://o.example/packages.json") == {"Authorization": "Bearer t"}


def test_url_user_info_becomes_a_credential(project: Path, home: Path) -> None:
    _write(
        project / "composer.json",
        {"repositories": [{"type": "composer", "url": f"https://me:{SECRET}@r.example/composer"}]},
    )
    s = _load(project, home)
    assert s.default.url == "https://r.example/composer"
    assert s.auth_headers("https://r.example/p2/x.json") == {"Authorization": _basic("me", SECRET)}
    assert SECRET not in json.dumps(s.to_json())


def test_http_repository_warns_unless_secure_http_off(project: Path, home: Path) -> None:
    repos = [{"type": "composer", "url": "insecure.example"}]
    _write(project / "composer.json", {"repositories": repos})
    s = _load(project, home)
    assert s.default.url == "http://insecure.example"
    assert any("secure-http" in w for w in s.warnings)
    _write(project / "composer.json", {"repositories": repos, "config": {"secure-http": False}})
    assert not _load(project, home).warnings


def test_malformed_json_has_line_and_column(project: Path, home: Path) -> None:
    (project / "auth.json").write_text('{\n  "bearer": {"a": "b",}\n}\n')
    _write(project / "composer.json", {})
    with pytest.raises(SettingsError) as err:
        _load(project, home)
    assert err.value.location == f"{project / 'auth.json'}:2:23"


def test_malformed_composer_auth_hides_the_value(project: Path, home: Path) -> None:
    with pytest.raises(SettingsError) as err:
        _load(project, home, {"COMPOSER_AUTH": '{"bearer": {"x": "' + SECRET + '"'})
    assert err.value.location == "env COMPOSER_AUTH"
    assert SECRET not in str(err.value)


def test_bad_custom_header_hides_the_value(project: Path, home: Path) -> None:
    _write(project / "auth.json", {"custom-headers": {"h.example": [SECRET]}})
    _write(project / "composer.json", {})
    with pytest.raises(SettingsError) as err:
        _load(project, home)
    assert "custom-headers.h.example[0]" in err.value.location
    assert SECRET not in str(err.value)


def test_missing_password_is_an_error(project: Path, home: Path) -> None:
    _write(project / "auth.json", {"http-basic": {"h.example": {"username": "u"}}})
    _write(project / "composer.json", {})
    with pytest.raises(SettingsError, match="password must be"):
        _load(project, home)


def test_secrets_never_shown(project: Path, home: Path) -> None:
    _write(project / "composer.json", {})
    _write(
        project / "auth.json",
        {
            "http-basic": {"a.example": {"username": "u", "password": SECRET}},
            "custom-headers": {"a.example": [f"X-Key: {SECRET}"]},
            "bitbucket-oauth": {
                "bitbucket.org": {"consumer-key": SECRET, "consumer-secret": SECRET}
            },
        },
    )
    s = _load(project, home)
    shown = json.dumps(s.to_json()) + repr(s) + "".join(s.warnings)
    assert SECRET not in shown
